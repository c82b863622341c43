#!/usr/bin/env bash
# The main job, until the demo trapezoid lands (see README "Status"): everything sipsec does end to
# end today, on one machine, with nothing running beforehand (docs/DEMO.md). It builds a private CA,
# DNSSEC-signed zones served by NSD on loopback and a sipsec Responder on TLS, then runs the real
# CLI: resolve with TLSA, OPTIONS over a DANE-EE hop, a TLSA mismatch, a bogus zone, an insecure
# delegation (RFC 5922 only) and lint over RFC 4475 torture messages. Exit 0 only if every step
# showed what it should.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

lab=$(mktemp -d "${TMPDIR:-/tmp}/sipsec-demo-XXXXXX")
cleanup() {
  # The demo stops its daemons itself (finally); this is the net for a demo killed hard.
  if [ -s "$lab/nsd.pid" ]; then
    pid=$(cat "$lab/nsd.pid")
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nsd ]; then kill "$pid" 2>/dev/null || true; fi
  fi
  rm -rf "$lab"
}
trap cleanup EXIT

node dist/src/lab/demo-main.js --dir "$lab" "$@"
