#!/usr/bin/env bash
# The one test command (npm test): installs and starts what the suite needs on a fresh machine,
# builds the app, then runs every layer (unit, integration, e2e) and prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

log() { printf '[test] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund >&2 || exit 1
fi

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  log "installing Chromium from Debian"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2 || exit 1
fi

if [ ! -x /usr/sbin/nginx ] || ! command -v openssl >/dev/null 2>&1; then
  log "installing nginx and openssl from Debian (the proxy deployment tests)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx openssl) >&2 || exit 1
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting redis-server on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >&2 || exit 1
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi

# Redis Cluster mode: a local 3 masters + 3 replicas cluster (ports 7100-7105, idempotent); the
# suite's Redis tests run a second time against it below.
if ! REDIS_CLUSTER_SEEDS=$(bash scripts/redis-cluster.sh start); then
  log "could not start the local Redis Cluster (counted as one failed check)"; REDIS_CLUSTER_SEEDS=""
fi

log "building"
npm run build >&2 || { echo "0 passed, 1 failed"; exit 1; }

# Static checks are one check of the summary: an unawaited promise on the server, an import
# across a boundary or an import cycle (eslint.config.js), or a type error in the UI and tests
# (svelte-check) or in server/, scripts/, bench/ (tsconfig.server.json) fails `npm test`.
log "static checks: lint of server/ src/ scripts/ bench/ (promises, import boundaries, no cycles), then types"
if npx eslint server src scripts bench >&2 && npm run --silent check >&2; then export ARENA_LINT=passed; else export ARENA_LINT=failed; log "static checks failed (counted as one failed check)"; fi

rm -f .vitest-results.json .vitest-results-cluster.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results.json "$@"
# The Redis parts again on the cluster (seed list as the tests' Redis URL): store contract,
# two-instance cluster, rate limits across instances, lease fencing, late joins, admin import.
# (The outage matrix's cluster variant runs in the first pass: it starts a private cluster.)
# (Skipped when the run was narrowed to given paths.)
if [ $# -eq 0 ] && [ -n "$REDIS_CLUSTER_SEEDS" ]; then
  log "Redis tests against the Redis Cluster ($REDIS_CLUSTER_SEEDS)"
  ARENA_TEST_REDIS_URL="$REDIS_CLUSTER_SEEDS" npx vitest run --project integration --reporter=default --reporter=json --outputFile.json=.vitest-results-cluster.json \
    tests/integration/store.test.ts tests/integration/cluster.test.ts tests/integration/limits.test.ts \
    tests/integration/lease-fencing.test.ts tests/integration/late-join.test.ts tests/integration/admin-import.test.ts
fi
[ $# -eq 0 ] && [ -z "$REDIS_CLUSTER_SEEDS" ] && export ARENA_CLUSTER=failed
node scripts/vitest-summary.mjs .vitest-results.json $([ -f .vitest-results-cluster.json ] && echo .vitest-results-cluster.json)
