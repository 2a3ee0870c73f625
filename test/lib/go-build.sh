#!/usr/bin/env bash
# go-build.sh: what test/control-plane/build.sh and test/tools/build-tools.sh share, sourced by both.
#   go_build_env <who>          find Go (PATH or /usr/local/go/bin), set CACHE_ROOT, GOVERSION and the Go cache
#                               variables (modules and build cache live in CACHE_ROOT, outside the repository)
#   go_build_lock <lock> <dir>  take the per-cache build lock; returns 0 to build, 1 when a concurrent build
#                               finished the work while we waited (the caller's `cached` says so)
#   go_build_ticker <label>     print a progress line every 30 s until the script exits
# Callers define log() and cached() before calling go_build_lock.

go_build_env() {
  CACHE_ROOT="${RANCHER_APIKEY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rancher-apikey-operator}"
  if ! command -v go >/dev/null 2>&1; then
    if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; else
      echo "$1: Go is not installed; it is needed to build the test tools from their Go modules" >&2; exit 1
    fi
  fi
  GOVERSION="$(GOTOOLCHAIN=local go env GOVERSION)"
  GOPLATFORM="$(go env GOOS)-$(go env GOARCH)"
  export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
  export GOMODCACHE="$CACHE_ROOT/gomod" GOCACHE="$CACHE_ROOT/gocache"
}

go_build_lock() { # go_build_lock <lock file name> <output dir>
  mkdir -p "$2"
  exec 9>"$CACHE_ROOT/$1"
  if ! flock -n 9; then
    log "another build holds $CACHE_ROOT/$1; waiting for it"
    flock 9
    if cached; then return 1; fi
  fi
  return 0
}

go_build_ticker() {
  START=$(date +%s)
  # Keep the user informed while a single long `go build` runs.
  ( while sleep 30; do log "still building... $(( $(date +%s) - START ))s elapsed"; done ) &
  TICKER=$!
  trap 'kill $TICKER 2>/dev/null || true' EXIT
}
