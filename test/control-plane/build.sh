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
# shellcheck source=../lib/go-build.sh
source "$HERE/../lib/go-build.sh"
go_build_env build.sh
TESTBIN="$CACHE_ROOT/testbin/k8s-${K8S_VERSION}_etcd-${ETCD_VERSION}_${GOVERSION}_${GOPLATFORM}"

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
if ! go_build_lock build.lock "$TESTBIN"; then
  log "cache hit after waiting: $TESTBIN"
  echo "TESTBIN=$TESTBIN"
  exit 0
fi
go_build_ticker
log "building into $TESTBIN (first build takes 10-25 min on 2 cores; progress below)"

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
