#!/usr/bin/env bash
# Runs every test: installs what is missing, type checks (the build), lints, then runs the unit
# tests beside the modules and the integration tests that start their own daemons on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: linting" >&2
npx eslint --max-warnings 0 .
echo "test: running tests" >&2
# Stale output of deleted sources must not run: the build writes into dist/, so list from the sources.
mapfile -t files < <(find src test -name '*.test.ts' 2>/dev/null | sed -e 's|^|dist/|' -e 's|\.ts$|.js|' | sort)
node --test --test-reporter=spec "$@" "${files[@]}"
