#!/usr/bin/env bash
# `npm run demo`: installs what is missing, then runs the demo (scripts/demo.ts; options pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --migrate
exec node --import tsx scripts/demo.ts "$@"
