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
# shellcheck source=../lib/go-build.sh
source "$HERE/../lib/go-build.sh"
go_build_env build-tools.sh
TOOLSBIN="$CACHE_ROOT/toolsbin/helm-${HELM_VERSION}_prometheus-${PROMETHEUS_VERSION}_${GOVERSION}_${GOPLATFORM}"

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
if ! go_build_lock tools-build.lock "$TOOLSBIN"; then
  log "cache hit after waiting: $TOOLSBIN"
  echo "TOOLSBIN=$TOOLSBIN"
  exit 0
fi
go_build_ticker
log "building into $TOOLSBIN (first build: ~40 min on 2 cores shared with other builds, helm most of it; progress below)"

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
