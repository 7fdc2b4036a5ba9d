#!/usr/bin/env bash
# Short forms of the fault drills in drills/ and the load test, run by CI. Each drill sets up
# its own scratch database and private services, breaks something, recovers, checks, prints its
# figures and PASS/FAIL, and exits non-zero on FAIL (which fails CI). The full forms run by
# hand: see drills/README.md and the README's "Performance and reliability".
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

run() { echo "-- $*"; "$py" "$@"; }

run drills/worker_killed_mid_draw.py --short
run drills/receiver_outage.py --short
run drills/redis_outage.py --short
run drills/postgres_restart.py --short
run drills/beat_twice.py --short
run drills/clock_edge.py --short
run drills/security.py --short

# A new drill must be added above with its short form; fail loudly if one was forgotten.
for script in drills/*.py; do
  case "$script" in drills/harness.py | drills/private_services.py | drills/settings_*.py) continue ;; esac
  grep -q "run $script " "$0" || { echo "drills-short.sh does not run $script"; exit 1; }
done
