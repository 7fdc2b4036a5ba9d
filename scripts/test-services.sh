#!/usr/bin/env bash
# Run the whole suite, including the `services` tests, against the machine's PostgreSQL and
# Redis. Starts either if it is down; if one still can't be reached, this FAILS: never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
export CELERY_BROKER_URL=${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}
export CACHE_URL=${CACHE_URL:-redis://127.0.0.1:6379/1}
# A test database of its own, so a concurrent run on the same server cannot collide with it.
export SUANLI_TEST_DATABASE_NAME=${SUANLI_TEST_DATABASE_NAME:-test_suanli_$$}

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "PostgreSQL is down: starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis is down: starting it"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "FAIL: PostgreSQL unreachable"; exit 1; }
redis-cli -h 127.0.0.1 -p 6379 ping || { echo "FAIL: Redis unreachable"; exit 1; }

# Lifts the default deselection of `services` tests: every test runs here but the browser
# suite, which has its own lane (scripts/test-browser.sh, embedded like a newcomer's machine).
.venv/bin/python -m pytest -q -m "not browser" "$@"
