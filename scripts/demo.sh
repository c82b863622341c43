#!/usr/bin/env bash
# The main job, until the demo trapezoid lands (see README "Status"): runs what works end to end.
# 1. sipsec lint over the RFC 4475 / RFC 5118 torture messages, with the response a server sends.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
sipsec() { node dist/src/cli/main.js "$@"; }

echo "== 1. sipsec lint: the RFC 4475 and RFC 5118 torture messages"
torture=../shared/testdata/sip-torture
set +e
sipsec lint "$torture"/rfc4475/*.dat "$torture"/rfc5118/*.dat > /tmp/sipsec-demo-lint.jsonl
set -e
node -e '
const lines = require("fs").readFileSync("/tmp/sipsec-demo-lint.jsonl", "utf8").trim().split("\n").map(JSON.parse);
for (const l of lines) {
  const name = l.file.split("/").slice(-2).join("/").padEnd(45);
  const what = l.valid ? "valid" : `invalid -> ${l.response ?? "drop"} ${(l.errors[0] || {}).code}`;
  console.log(`  ${name} ${what}`);
}
console.log(`  ${lines.filter(l => l.valid).length} valid, ${lines.filter(l => !l.valid).length} invalid`);
'
