#!/usr/bin/env bash
# test/tools/install-lua.sh: Debian's Lua 5.1 interpreter for the Argo CD Lua tests (test/install/argocd.test.ts,
# test/e2e/gitops-status.test.ts), the language version of Argo CD's Lua VM. A no-op when lua5.1 is on PATH; otherwise
# it apt-installs the lua5.1 package, which needs root (.ci/run calls it before npm test).
set -euo pipefail
log() { printf '[install-lua] %s\n' "$*" >&2; }
die() { printf '[install-lua] error: %s\n' "$*" >&2; exit 1; }

if command -v lua5.1 >/dev/null 2>&1; then
  log "present: $(lua5.1 -v 2>&1)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "lua5.1 is missing; run this script as root once (it installs Debian's lua5.1 with apt-get)"
command -v apt-get >/dev/null 2>&1 || die "lua5.1 is missing and there is no apt-get: install Lua 5.1 as lua5.1 on PATH"
log "installing lua5.1 with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends lua5.1 >&2
log "installed: $(lua5.1 -v 2>&1)"
