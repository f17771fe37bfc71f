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

log "building"
npm run build >&2 || { echo "0 passed, 1 failed"; exit 1; }

# Lint is one check of the summary: an unawaited promise on the server, an import across a
# boundary or an import cycle (eslint.config.js) fails `npm test`.
log "linting server/ src/ scripts/ bench/ (promises, import boundaries, no cycles)"
if npx eslint server src scripts bench >&2; then export ARENA_LINT=passed; else export ARENA_LINT=failed; log "lint failed (counted as one failed check)"; fi

rm -f .vitest-results.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results.json "$@"
node scripts/vitest-summary.mjs .vitest-results.json
