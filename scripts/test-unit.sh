#!/usr/bin/env bash
# The fast loop while changing code: builds, then runs the unit tests beside the modules (src/**)
# no daemons, no integration tests, no lint. Assumes scripts/setup.sh
# has run once. `bash scripts/test.sh` (the README's command, and CI's) still runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
mapfile -t files < <(find src -name '*.test.ts' | sed -e 's|^|dist/|' -e 's|\.ts$|.js|' | sort)
node --test "$@" "${files[@]}"
