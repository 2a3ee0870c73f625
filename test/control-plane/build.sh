#!/usr/bin/env bash
# build.sh builds the test control plane (etcd, kube-apiserver, kube-controller-manager, kubectl)
# from Go modules into a cache outside the repository, keyed by version, and reuses it.
#
# Prints the binary directory on its last line (TESTBIN=<dir>). Idempotent: a cache hit takes < 1 s.
# Environment: RANCHER_APIKEY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator).
set -euo pipefail

K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${RANCHER_APIKEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator}"

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
    echo "build.sh: Go is not installed; it is needed to build the test control plane" >&2; exit 1
  fi
fi

GOVERSION="$(GOTOOLCHAIN=local go env GOVERSION)"
TESTBIN="$CACHE_ROOT/testbin/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_${GOVERSION}_$(go env GOOS)-$(go env GOARCH)"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="$CACHE_ROOT/gomod" GOCACHE="$CACHE_ROOT/gocache"

log() { printf '[control-plane build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have() { # have <binary> <expected version substring>
  # Capture first: `--version | grep -q` would fail under pipefail when grep exits before etcd's last line.
  local out
  [ -x "$TESTBIN/$1" ] && out="$("$TESTBIN/$1" --version 2>/dev/null)" && [[ "$out" == *"$2"* ]]
}

cached() {
  have etcd "etcd Version: ${ETCD_VERSION#v}" && have kube-apiserver "Kubernetes $K8S_VERSION" \
    && have kube-controller-manager "Kubernetes $K8S_VERSION" && [ -x "$TESTBIN/kubectl" ]
}

if cached; then
  log "cache hit: $TESTBIN"
  echo "TESTBIN=$TESTBIN"
  exit 0
fi

# One build at a time per cache (CI, a test run and `npm run control-plane` may start together).
mkdir -p "$TESTBIN"
exec 9>"$CACHE_ROOT/build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_ROOT/build.lock; waiting for it"
  flock 9
  if cached; then
    log "cache hit after waiting: $TESTBIN"
    echo "TESTBIN=$TESTBIN"
    exit 0
  fi
fi
START=$(date +%s)
log "building into $TESTBIN (first build takes 10-25 min on 2 cores; progress below)"

# Keep the user informed while a single long `go build` runs.
( while sleep 30; do log "still building... $(( $(date +%s) - START ))s elapsed"; done ) &
TICKER=$!
trap 'kill $TICKER 2>/dev/null || true' EXIT

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
X() { printf -- "-X 'k8s.io/component-base/version.%s=%s' -X 'k8s.io/client-go/pkg/version.%s=%s' " "$1" "$2" "$1" "$2"; }
KLDFLAGS="-s -w $(X gitVersion "$K8S_VERSION") $(X gitMajor 1) $(X gitMinor "$minor") $(X gitTreeState clean) $(X gitCommit "$K8S_VERSION") $(X buildDate 1970-01-01T00:00:00Z)"

log "etcd $ETCD_VERSION: downloading modules and compiling"
(cd "$HERE/go/etcd" && go build -p 2 -trimpath \
  -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION" \
  -o "$TESTBIN/etcd.tmp" go.etcd.io/etcd/server/v3)
mv "$TESTBIN/etcd.tmp" "$TESTBIN/etcd"
log "etcd done ($(( $(date +%s) - START ))s)"

for cmd in kube-apiserver kube-controller-manager kubectl; do
  log "$cmd $K8S_VERSION: compiling"
  (cd "$HERE/go/kube" && go build -p 2 -trimpath -tags selinux,notest,grpcnotrace \
    -ldflags "$KLDFLAGS" -o "$TESTBIN/$cmd.tmp" "k8s.io/kubernetes/cmd/$cmd")
  mv "$TESTBIN/$cmd.tmp" "$TESTBIN/$cmd"
  log "$cmd done ($(( $(date +%s) - START ))s)"
done

"$TESTBIN/kube-apiserver" --version >&2
# Capture, then cut: `etcd --version | head -1` dies of SIGPIPE (exit 141) under pipefail when head exits first.
ETCD_VERSION_TEXT="$("$TESTBIN/etcd" --version)"
printf '%s\n' "${ETCD_VERSION_TEXT%%$'\n'*}" >&2
log "control plane built in $(( $(date +%s) - START ))s"
echo "TESTBIN=$TESTBIN"
