#!/usr/bin/env bash
# The whole test suite: what `npm test` and CI run. Unit, integration (real SQLite, real Redis,
# real server processes) and browser tests (real Chromium driving the real pages).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-system-deps.sh
npm run --silent typecheck
npx vitest run "$@"
