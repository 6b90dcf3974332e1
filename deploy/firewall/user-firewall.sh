#!/usr/bin/env bash
# Cut user containers off from the host and from private and link-local addresses
# (cloud metadata at 169.254.169.254, the panel's backend, PostgreSQL and Redis).
#
#   user-firewall.sh [--remove] [NETWORK...]
#
# NETWORK defaults to $SAAS_PANEL_USER_NETWORK, else saas-panel-users. The panel
# creates each user network on the bridge named here (bridge_name in
# saas_panel/runtime/docker_runtime.py), so the rules may exist before it does.
# Rules are checked before they are added: running this again changes nothing.
# SAAS_PANEL_BLOCKED_NETS: the destinations a user container may not open connections to.
set -euo pipefail

BLOCKED_NETS=${SAAS_PANEL_BLOCKED_NETS:-169.254.0.0/16 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 100.64.0.0/10}
FORWARD_CHAIN=SAAS-USERS-FORWARD   # from a user bridge to elsewhere (jumped to from DOCKER-USER)
INPUT_CHAIN=SAAS-USERS-INPUT       # from a user bridge to the host itself

say() { printf '[firewall] %s\n' "$*" >&2; }

bridge_name() { printf 'saas-%s' "$(printf '%s' "$1" | sha1sum | cut -c1-10)"; }

pick_iptables() {
    # The flavour (nf_tables or legacy) holding Docker's chains, so that both rule sets are read together.
    local candidate
    for candidate in iptables iptables-nft iptables-legacy; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -w -n -L DOCKER-USER >/dev/null 2>&1; then
            echo "$candidate"
            return
        fi
    done
    echo iptables
}
IPT=$(pick_iptables)

ensure_chain() { "$IPT" -w -n -L "$1" >/dev/null 2>&1 || "$IPT" -w -N "$1"; }
insert() { "$IPT" -w -C "$@" 2>/dev/null || "$IPT" -w -I "$@"; }
delete() { while "$IPT" -w -C "$@" 2>/dev/null; do "$IPT" -w -D "$@"; done; }
rules_of() { "$IPT" -w -S "$1" 2>/dev/null | sed -n "s/^-A $1 //p"; }

sync_chain() {
    # Make CHAIN hold exactly RULES (written as `iptables -S` prints them), in this order.
    # New rules go on top before the old ones are deleted: the chain is never empty meanwhile.
    local chain=$1 rule position=0
    shift
    ensure_chain "$chain"
    [ "$(rules_of "$chain")" = "$(printf '%s\n' "$@")" ] && return 0
    for rule in "$@"; do
        position=$((position + 1))
        # shellcheck disable=SC2086  # a rule is its words
        "$IPT" -w -I "$chain" "$position" $rule
    done
    while [ "$(rules_of "$chain" | wc -l)" -gt "$position" ]; do
        "$IPT" -w -D "$chain" $((position + 1))
    done
}

install_chains() {
    local replies="-m conntrack --ctstate RELATED,ESTABLISHED" net drops=()
    for net in $BLOCKED_NETS; do
        drops+=("-d $net -j DROP")
    done
    # To the host: only replies to its own connections (the panel opening a user's app).
    sync_chain "$INPUT_CHAIN" "$replies -j ACCEPT" "-j DROP"
    # Elsewhere: replies pass (visitors may be on a private LAN); new connections to blocked networks do not.
    sync_chain "$FORWARD_CHAIN" "$replies -j RETURN" "${drops[@]}"
    # Docker makes DOCKER-USER and jumps to it first in FORWARD; do the same if it has not started yet.
    ensure_chain DOCKER-USER
    insert FORWARD -j DOCKER-USER
}

main() {
    local action=install
    if [ "${1:-}" = --remove ]; then
        action=remove
        shift
    fi
    [ $# -gt 0 ] || set -- "${SAAS_PANEL_USER_NETWORK:-saas-panel-users}"
    [ "$action" = remove ] || install_chains
    local network bridge
    for network in "$@"; do
        bridge=$(bridge_name "$network")
        if [ "$action" = remove ]; then
            delete INPUT -i "$bridge" -j "$INPUT_CHAIN"
            delete DOCKER-USER -i "$bridge" -j "$FORWARD_CHAIN"
        else
            insert INPUT -i "$bridge" -j "$INPUT_CHAIN"
            insert DOCKER-USER -i "$bridge" -j "$FORWARD_CHAIN"
        fi
        say "$action: network $network (bridge $bridge) with $IPT"
    done
}

main "$@"
