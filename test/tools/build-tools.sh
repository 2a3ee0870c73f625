#!/usr/bin/env bash
# build-tools.sh builds the install-test tools (helm, promtool) from their Go modules into a cache outside
# the repository, next to the test control plane, keyed by version, and reuses it.
#
# Prints the binary directory on its last line (TOOLSBIN=<dir>). Idempotent: a cache hit takes < 1 s.
# `build-tools.sh --print-dir` builds nothing: it prints TOOLSBIN=<dir>, where the tools are or will be.
# Environment: RANCHER_APIKEY_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator).
# The versions are pinned by the wrapper modules in test/tools/go/{helm,promtool}/go.mod.
set -euo pipefail

HELM_VERSION=v4.3.2
PROMETHEUS_VERSION=v3.16.0 # Go module github.com/prometheus/prometheus v0.316.0
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${RANCHER_APIKEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator}"

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
    echo "build-tools.sh: Go is not installed; it is needed to build helm and promtool" >&2; exit 1
  fi
fi

GOVERSION="$(GOTOOLCHAIN=local go env GOVERSION)"
TOOLSBIN="$CACHE_ROOT/toolsbin/helm-${HELM_VERSION}_prometheus-${PROMETHEUS_VERSION}_${GOVERSION}_$(go env GOOS)-$(go env GOARCH)"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
export GOMODCACHE="$CACHE_ROOT/gomod" GOCACHE="$CACHE_ROOT/gocache"

log() { printf '[tools build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

have() { # have <binary> <expected version substring> <version args...>
  # Capture first, never `| grep -q` or `| head` under pipefail (SIGPIPE when the reader exits first).
  local bin=$1 want=$2 out
  shift 2
  [ -x "$TOOLSBIN/$bin" ] && out="$("$TOOLSBIN/$bin" "$@" 2>&1)" && [[ "$out" == *"$want"* ]]
}

have_helm() { have helm "$HELM_VERSION" version --short; }
have_promtool() { have promtool "version ${PROMETHEUS_VERSION#v}" --version; }
cached() { have_helm && have_promtool; }

if [ "${1:-}" = --print-dir ]; then
  echo "TOOLSBIN=$TOOLSBIN"
  exit 0
fi
if cached; then
  log "cache hit: $TOOLSBIN"
  echo "TOOLSBIN=$TOOLSBIN"
  exit 0
fi

# One build at a time per cache (CI, a test run and a developer may start together).
mkdir -p "$TOOLSBIN"
exec 9>"$CACHE_ROOT/tools-build.lock"
if ! flock -n 9; then
  log "another build holds $CACHE_ROOT/tools-build.lock; waiting for it"
  flock 9
  if cached; then
    log "cache hit after waiting: $TOOLSBIN"
    echo "TOOLSBIN=$TOOLSBIN"
    exit 0
  fi
fi
START=$(date +%s)
log "building into $TOOLSBIN (first build: ~40 min on 2 cores shared with other builds, helm most of it; progress below)"

# Keep the user informed while a single long `go build` runs.
( while sleep 30; do log "still building... $(( $(date +%s) - START ))s elapsed"; done ) &
TICKER=$!
trap 'kill $TICKER 2>/dev/null || true' EXIT

build() { # build <name> <version> <wrapper module dir> <package> <ldflags> [build tags]
  log "$1 $2: downloading modules and compiling"
  (cd "$HERE/go/$3" && go build -p 2 -trimpath -tags "${6:-}" -ldflags "-s -w $5" -o "$TOOLSBIN/$1.tmp" "$4")
  mv "$TOOLSBIN/$1.tmp" "$TOOLSBIN/$1"
  log "$1 done ($(( $(date +%s) - START ))s)"
}
HV=helm.sh/helm/v4/internal/version
have_helm || build helm "$HELM_VERSION" helm helm.sh/helm/v4/cmd/helm \
  "-X $HV.version=$HELM_VERSION -X $HV.metadata= -X $HV.gitTreeState=clean"
# remove_all_sd leaves out every service-discovery plugin (cloud SDKs): rule checks and rule tests need none,
# and they are most of promtool's compile time.
PV=github.com/prometheus/common/version
have_promtool || build promtool "$PROMETHEUS_VERSION" promtool github.com/prometheus/prometheus/cmd/promtool \
  "-X $PV.Version=${PROMETHEUS_VERSION#v} -X $PV.Revision=$PROMETHEUS_VERSION -X $PV.Branch=release" remove_all_sd

HELM_VERSION_TEXT="$("$TOOLSBIN/helm" version --short)"
PROMTOOL_VERSION_TEXT="$("$TOOLSBIN/promtool" --version 2>&1)"
printf 'helm %s\n%s\n' "$HELM_VERSION_TEXT" "${PROMTOOL_VERSION_TEXT%%$'\n'*}" >&2
log "tools built in $(( $(date +%s) - START ))s"
echo "TOOLSBIN=$TOOLSBIN"
