#!/bin/sh
# A Swarm node's engine (overlay2 where an overlay mounts on its volume, else vfs: every
# container a full copy of its image), on its
# unix socket and, unauthenticated, on tcp 2375: only for a fleet network private to one host (real
# nodes: TLS on 2376, see the README). Before it starts, the firewall for the users' apps:
# - a user's app port (published in host mode, DNAT-ed to it) admits new connections only from
#   SAAS_PANEL_EDGE_SOURCE, the edge's address on the fleet network;
# - containers may open no connection to this node, nor to any node's engine or Swarm ports.
set -eu
EDGE=${SAAS_PANEL_EDGE_SOURCE:?set it to the address of the edge on the fleet network}
APP_PORT=${SAAS_PANEL_APP_PORT:-8080}
BRIDGES="docker0 docker_gwbridge br-+"

# The engine and these rules must use the same flavour: nf_tables where the kernel lets this
# network namespace use it, else legacy.
if iptables-nft -w -n -L >/dev/null 2>&1; then flavour=nft; else flavour=legacy; fi
for command in iptables ip6tables; do
    update-alternatives --quiet --set "$command" "/usr/sbin/$command-$flavour"
done

add() { iptables -w -C "$@" 2>/dev/null || iptables -w -A "$@"; }
iptables -w -N DOCKER-USER 2>/dev/null || true  # the engine keeps it, and jumps to it first in FORWARD
add DOCKER-USER -p tcp --dport "$APP_PORT" -m conntrack --ctstate NEW ! -s "$EDGE" -j DROP
for bridge in $BRIDGES; do
    add INPUT -i "$bridge" -m conntrack --ctstate NEW -j DROP
    add DOCKER-USER -i "$bridge" -p tcp -m multiport --dports 2375:2377,7946 -j DROP
done

# No registry: a task runs the image loaded into the node instead of failing to pull it first.
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
# overlay2 needs an overlay mount on /var/lib/docker's filesystem; try one. Forced with
# SAAS_PANEL_NODE_STORAGE_DRIVER.
storage_driver() {
    probe=/var/lib/docker/.overlay-probe
    mkdir -p "$probe/lower" "$probe/upper" "$probe/work" "$probe/merged"
    if mount -t overlay overlay -o "lowerdir=$probe/lower,upperdir=$probe/upper,workdir=$probe/work" "$probe/merged" 2>/dev/null; then
        umount "$probe/merged"
        driver=overlay2
    else
        driver=vfs
    fi
    rm -rf "$probe"
    echo "$driver"
}
DRIVER=${SAAS_PANEL_NODE_STORAGE_DRIVER:-$(storage_driver)}

# Left behind when the node was killed: the engine would refuse to start.
rm -f /var/run/docker.pid /var/run/docker/containerd/containerd.pid
exec dockerd --storage-driver "$DRIVER" --no-new-privileges \
    -H unix:///var/run/docker.sock -H tcp://0.0.0.0:2375 --tls=false "$@"
