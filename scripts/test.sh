#!/usr/bin/env bash
# `npm test`: installs what is missing, then type-checks, lints, checks the layering rule (cheap, so before
# the suite) and runs the whole suite (unit, store on SQLite and PostgreSQL, workflow, replay, integration,
# browser). Extra arguments go to Vitest.
# PostgreSQL: TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres); to run without
# it, set HOMEOSTAT_TEST_SKIP_POSTGRES=1 (the PostgreSQL half of the store tests is then skipped).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test || exit 1

echo "[test] type-checking" >&2
npx tsc --noEmit -p tsconfig.json || exit 1
echo "[test] linting" >&2
npx biome check . || exit 1
echo "[test] checking the layers (docs/architecture.md)" >&2
node --import tsx scripts/check-layers.ts || exit 1

mkdir -p test-output
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json "$@"
status=$?
# One closing line in the plain "N passed, N failed" form that CI systems read.
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-output/vitest.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
exit $status
