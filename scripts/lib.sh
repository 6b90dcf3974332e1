# shellcheck shell=bash
# Shared by the scripts in this folder: messages, quiet commands, Debian packages, the Docker
# engine and the base image. A script moves to the project's root, sets LOG_TAG (the prefix of
# its messages) and then sources this file.

VENV=${VENV:-.venv}
SLIM_BASE=python:3.12-slim
LOCAL_BASE=saas-panel/python-base:bookworm   # built from Debian's packages when no base is present
# Set on LOCAL_BASE since its root directory is 0755. A base imported before (0700) is rebuilt: in a
# vfs engine (a Swarm node in docker) its containers' users could not even reach /.
BASE_ROOT_LABEL=saas-panel.root-mode
HASH_LABEL=saas-panel.source-hash           # on images built by build_if_changed

if [ -t 2 ]; then
    _blue=$'\033[1;34m' _yellow=$'\033[1;33m' _plain=$'\033[0m'
else
    _blue='' _yellow='' _plain=''
fi
say()  { printf '%s[%s]%s %s\n' "$_blue" "$LOG_TAG" "$_plain" "$*"; }
warn() { printf '%s[%s] %s%s\n' "$_yellow" "$LOG_TAG" "$*" "$_plain" >&2; }
die()  { warn "error: $*"; exit 1; }

is_root() { [ "$(id -u)" = 0 ]; }

quietly() {
    # Run "$@" with its output set aside; show the end of it only when the command fails.
    local log status=0
    log=$(mktemp)
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" != 0 ]; then
        grep -v '^WARNING: Location' "$log" | tail -n 40 >&2 || true
    fi
    rm -f "$log"
    return "$status"
}

apt_install() {
    # Install the Debian packages "$@" as root (the package lists are updated once per boot);
    # otherwise say how to.
    if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
        warn "missing: $*. Install them with: sudo apt-get install $*"
        return 1
    fi
    say "installing $*"
    if [ ! -f /tmp/.saas-panel-apt-updated ]; then
        apt-get update -qq && touch /tmp/.saas-panel-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

apt_install_commands() {
    # Each argument is COMMAND:PACKAGE; installs the packages whose command is missing.
    local pair missing=()
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

engine_up() { docker info >/dev/null 2>&1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

image_label() {
    # image_label IMAGE LABEL: the label's value, empty when the image or the label is missing.
    docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true
}

use_classic_builder_without_buildx() {
    # Docker CLIs >= 23 need buildx for BuildKit; the classic builder is enough here.
    if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
        export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
    fi
}

pick_base() {
    # Prints the base image for the images built here, without any registry: BASE_IMAGE if set,
    # else python:3.12-slim if present, else LOCAL_BASE (built first when missing).
    if [ -n "${BASE_IMAGE:-}" ]; then
        image_exists "$BASE_IMAGE" || die "BASE_IMAGE=$BASE_IMAGE is not present locally (no registry access)"
        echo "$BASE_IMAGE"
    elif image_exists "$SLIM_BASE"; then
        echo "$SLIM_BASE"
    else
        [ "$(image_label "$LOCAL_BASE" "$BASE_ROOT_LABEL")" = 0755 ] || build_local_base >&2
        echo "$LOCAL_BASE"
    fi
}

build_local_base() {
    is_root || die "no base image found; building $LOCAL_BASE needs root (run this script with sudo)"
    command -v debootstrap >/dev/null 2>&1 ||
        die "no base image found and debootstrap is missing: apt-get install -y debootstrap"
    local mirror dir
    mirror=$(host_mirror)
    dir=$(mktemp -d /tmp/saas-panel-rootfs.XXXXXX)
    # shellcheck disable=SC2064  # expand $dir now: it is local
    trap "rm -rf '$dir'" EXIT
    say "building $LOCAL_BASE with debootstrap from $mirror (a few minutes)"
    debootstrap --variant=minbase --include=python3 bookworm "$dir" "$mirror" >/dev/null
    chmod 0755 "$dir"  # mktemp made it 0700: the image's /
    tar -C "$dir" -c . | docker import --change "LABEL $BASE_ROOT_LABEL=0755" - "$LOCAL_BASE" >/dev/null
    rm -rf "$dir"
    trap - EXIT
}

source_hash() {
    # source_hash CONTEXT BASE_ID: of every file in the build context, plus the exact base image.
    {
        find "$1" -type f ! -path '*/__pycache__/*' ! -name '*.py[co]' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum
        echo "base $2"
    } | sha256sum | cut -c1-64
}

build_if_changed() {
    # build_if_changed IMAGE CONTEXT: build CONTEXT's Dockerfile on the base from pick_base
    # (build argument BASE_IMAGE) as IMAGE, unless IMAGE, or an untagged earlier build, was
    # built from the same sources and base: the image carries their hash.
    local image=$1 context=$2 base hash existing
    engine_up || die "Docker engine not reachable"
    base=$(pick_base)
    hash=$(source_hash "$context" "$(docker image inspect --format '{{.Id}}' "$base")")
    if [ "$(image_label "$image" "$HASH_LABEL")" = "$hash" ]; then
        say "$image is up to date"
        return 0
    fi
    existing=$(docker images -q --filter "label=$HASH_LABEL=$hash" | head -n1)
    if [ -n "$existing" ]; then
        say "tagging existing build $existing as $image"
        docker tag "$existing" "$image"
        return 0
    fi
    use_classic_builder_without_buildx
    say "building $image from $base"
    quietly docker build --pull=false --build-arg "BASE_IMAGE=$base" --label "$HASH_LABEL=$hash" \
        -t "$image" "$context" || die "docker build of $image failed"
    # The previous build is now untagged: drop it.
    docker image prune -f --filter "label=$HASH_LABEL" >/dev/null
    say "built $image"
}

host_mirror() {
    # The Debian mirror this host already uses; the default one may be unreachable.
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {
                    for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}
