#!/usr/bin/env bash
# build-image.sh builds the operator's container image with podman on a machine that reaches Debian's
# package mirrors but no container registry (the issue-13 recipe):
#   1. podman, runc, mmdebstrap, uidmap and containernetworking-plugins from apt (only when missing; as root);
#   2. a containers.conf of its own (runc, cgroupfs, default ulimits at this machine's hard limits), used
#      through CONTAINERS_CONF so the machine's /etc/containers is never touched;
#   3. a local Node 24 base image: `mmdebstrap --variant=minbase bookworm` + the Node 24 binary of the pinned
#      `node` npm package (node_modules/node) + the host's npm + the host's CA bundle, rebuilt only when one
#      of those inputs changes;
#   4. the project's Dockerfile, unchanged, with --build-arg NODE_IMAGE=<that base>.
#
# Idempotent; warm (nothing changed) it only re-checks podman's layer cache. The last lines are
#   CONTAINERS_CONF=<file>   (run podman with this in the environment to see the same engine setup)
#   IMAGE=<name:tag>
# Environment: RANCHER_APIKEY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator),
#   RANCHER_APIKEY_IMAGE (default localhost/rancher-apikey-operator:dev).
# Never `cmd | head` here: under pipefail the writer's SIGPIPE fails the script (the exit-141 trap).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE_ROOT="${RANCHER_APIKEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator}"
IMAGE="${RANCHER_APIKEY_IMAGE:-localhost/rancher-apikey-operator:dev}"
BASE_REPO=localhost/rancher-apikey-operator-node24-base
SUITE=bookworm
PACKAGES=(podman runc mmdebstrap uidmap containernetworking-plugins)
# Bump when the base recipe below changes in a way its inputs do not show.
BASE_RECIPE=1

START=$(date +%s)
log() { printf '[image build %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(($(date +%s) - START))" "$*" >&2; }
die() {
  log "FAILED: $*"
  exit 1
}

# One build at a time per cache: .ci/run, the image test and a developer may start together (apt-get and
# two builds of the same tag do not mix).
mkdir -p "$CACHE_ROOT/image"
exec 9>"$CACHE_ROOT/image/build.lock"
if ! flock -n 9; then
  log "another image build holds $CACHE_ROOT/image/build.lock; waiting for it"
  flock 9
fi

# --- 1. packages -------------------------------------------------------------------------------------
missing=()
for p in "${PACKAGES[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]}; run this script as root once (it installs them with apt-get)"
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get: this recipe needs Debian or Ubuntu"
  log "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2
  log "packages installed"
else
  log "packages present: ${PACKAGES[*]}"
fi
log "$(podman --version), $(runc --version 2>/dev/null | sed -n 1p)"

# --- 2. containers.conf --------------------------------------------------------------------------------
export CONTAINERS_CONF="$CACHE_ROOT/image/containers.conf"
# Explicit limits for both nofile and nproc (given one, podman takes its own default for the other:
# nofile 1048576, above this machine's hard limit, and runc's setrlimit then fails with EPERM).
# Measured here: podman runs conmon and runc with RLIMIT_NPROC lowered to kernel.pid_max (32768, below the
# shell's hard limit), so nproc is capped there too.
ulimits=()
hard_nofile="$(ulimit -Hn)"
hard_nproc="$(ulimit -Hu)"
pid_max="$(cat /proc/sys/kernel/pid_max)"
if [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -gt "$pid_max" ]; then hard_nproc="$pid_max"; fi
[ "$hard_nofile" = unlimited ] || ulimits+=("\"nofile=$hard_nofile:$hard_nofile\"")
ulimits+=("\"nproc=$hard_nproc:$hard_nproc\"")
conf="# Written by test/image/build-image.sh; used through CONTAINERS_CONF only.
# crun fails here on setrlimit and on hybrid cgroups: runc with cgroupfs works.
[containers]
default_ulimits = [$(IFS=,; printf '%s' "${ulimits[*]}")]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
"
if [ ! -f "$CONTAINERS_CONF" ] || [ "$(cat "$CONTAINERS_CONF")" != "${conf%$'\n'}" ]; then
  printf '%s' "$conf" >"$CONTAINERS_CONF"
  log "wrote $CONTAINERS_CONF"
fi

# Check that the engine runs at all before spending time on images; say why when it does not.
if ! info_err="$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Store.GraphDriverName}}' 2>&1)"; then
  die "podman cannot run here: $info_err"
fi
log "podman engine: $info_err"

# --- 3. the Node 24 base ---------------------------------------------------------------------------------
NODE_BIN="$ROOT/node_modules/node/bin/node"
[ -x "$NODE_BIN" ] || die "$NODE_BIN is missing: run npm ci first (the pinned node devDependency provides Node 24)"
node_version="$("$NODE_BIN" --version)"
[[ "$node_version" == v24.* ]] || die "node_modules/node is $node_version, not Node 24"
command -v npm >/dev/null 2>&1 || die "npm is needed (its package is copied into the base image)"
NPM_DIR="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
[ -f "$NPM_DIR/bin/npm-cli.js" ] || die "cannot find npm's package directory (looked at $NPM_DIR)"
npm_version="$("$NODE_BIN" -p "require('$NPM_DIR/package.json').version")"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
[ -f "$CA_BUNDLE" ] || die "$CA_BUNDLE is missing (install ca-certificates)"

# Hashing the 120 MiB Node binary takes seconds on a busy machine: remember its hash by size and mtime.
node_stat="$(stat -L -c '%s %Y' "$NODE_BIN")"
node_sum_file="$CACHE_ROOT/image/node.sha256"
node_sum=""
if [ -f "$node_sum_file" ] && [ "$(sed -n 1p "$node_sum_file")" = "$node_stat" ]; then
  node_sum="$(sed -n 2p "$node_sum_file")"
fi
if [ -z "$node_sum" ]; then
  node_sum="$(sha256sum "$NODE_BIN" | cut -d' ' -f1)"
  printf '%s\n%s\n' "$node_stat" "$node_sum" >"$node_sum_file"
fi
key="$(
  {
    echo "recipe=$BASE_RECIPE suite=$SUITE npm=$npm_version node=$node_sum"
    sha256sum "$CA_BUNDLE" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
)"
BASE="$BASE_REPO:$node_version-$key"
if podman image exists "$BASE"; then
  log "base image cached: $BASE"
else
  log "building base $BASE (node $node_version, npm $npm_version, $SUITE minbase; ~1 min)"
  work="$(mktemp -d "$CACHE_ROOT/image/base.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  # Hooks run on the host with the new root filesystem as $1.
  mmdebstrap --variant=minbase --quiet \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="install -D -m 0755 '$NODE_BIN' \"\$1/usr/local/bin/node\"" \
    --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$NPM_DIR' \"\$1/usr/local/lib/node_modules/npm\"" \
    --customize-hook="ln -sf ../lib/node_modules/npm/bin/npm-cli.js \"\$1/usr/local/bin/npm\" && ln -sf ../lib/node_modules/npm/bin/npx-cli.js \"\$1/usr/local/bin/npx\"" \
    --customize-hook="install -D -m 0644 '$CA_BUNDLE' \"\$1/etc/ssl/certs/ca-certificates.crt\"" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*' \
    "$SUITE" "$work/rootfs.tar" >&2
  podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'CMD ["node"]' \
    "$work/rootfs.tar" "$BASE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  got="$(podman run --rm --network=none "$BASE" node --version 9>&-)" # conmon must not inherit the lock
  [ "$got" = "$node_version" ] || die "the base image runs node $got, expected $node_version"
  log "base built: $BASE"
  # Earlier bases are superseded (kept only while an image still builds on them).
  for old in $(podman images --format '{{.Repository}}:{{.Tag}}' "$BASE_REPO"); do
    [ "$old" = "$BASE" ] || podman rmi "$old" >/dev/null 2>&1 || true
  done
fi

# --- 4. the project's Dockerfile ---------------------------------------------------------------------------
# The build stage is tagged too, so that its layers (npm ci) stay cached while superseded images are removed.
BUILD_STAGE="$IMAGE-build-stage"
image_id() { podman image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
old_ids="$(image_id "$IMAGE") $(image_id "$BUILD_STAGE")"
log "building $IMAGE from Dockerfile with NODE_IMAGE=$BASE"
BUILD_START=$(date +%s)
for target in build runtime; do
  tag="$IMAGE"
  [ "$target" = build ] && tag="$BUILD_STAGE"
  podman build --network=host --layers --target "$target" \
    --build-arg "NODE_IMAGE=$BASE" \
    -t "$tag" -f "$ROOT/Dockerfile" "$ROOT" >&2
done
new_ids=" $(image_id "$IMAGE") $(image_id "$BUILD_STAGE") "
for id in $old_ids; do
  # A superseded image (and its now unused parents); one still in use by a container stays.
  if [[ "$new_ids" != *" $id "* ]]; then podman rmi "$id" >/dev/null 2>&1 || true; fi
done
size="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
base_size="$(podman image inspect --format '{{.Size}}' "$BASE")"
log "built $IMAGE in $(($(date +%s) - BUILD_START))s: $((size / 1024 / 1024)) MiB (base $((base_size / 1024 / 1024)) MiB)"
log "done in $(($(date +%s) - START))s"
echo "CONTAINERS_CONF=$CONTAINERS_CONF"
echo "IMAGE=$IMAGE"
