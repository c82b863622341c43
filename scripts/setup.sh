#!/usr/bin/env bash
# Installs what sipsec needs on a Debian machine with Node 20, then builds it.
# Debian packages are installed with apt-get only when missing; npm packages only when the lock
# file is newer than node_modules. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."

# libunbound-dev: the in-process DNSSEC validator (npm 'unbound' builds against it).
# unbound, nsd, ldnsutils: real validating resolver, authoritative server and zone signer for tests.
# dns-root-data: the root trust anchor. openssl: certificates made by tests.
# sip-tester (SIPp), kamailio, kamailio-tls-modules: real SIP peers for interop tests.
# redis-server: the shared location store of several proxy instances, started by the tests.
# baresip-core: a real SIP user agent that registers over TLS to the proxy in tests.
# chromium: renders `sipsec check --html` reports in tests (driven by playwright-core, no download).
DEBIAN_PACKAGES=(libunbound-dev unbound nsd ldnsutils dns-root-data openssl
  sip-tester kamailio kamailio-tls-modules redis-server chromium baresip-core)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  # policy-rc.d stops package scripts from starting system daemons: tests start their own.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund >&2
fi

echo "setup: building" >&2
npx tsc -p tsconfig.json
