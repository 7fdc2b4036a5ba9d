#!/usr/bin/env bash
# Short forms of the benchmarks in bench/, run by CI so they can't rot; each prints its figures
# (ratios against a baseline measured in the same run). The full forms run by hand: see
# bench/README.md for the commands and the figures last measured.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

run() { echo "-- $*"; "$py" "$@"; }

run bench/lottery_draw.py --entrants 20000
run bench/lottery_postgres.py --entrants 20000 --requests 10
run bench/webhooks_delivery.py --events 300 --steady-events 100 --floor-posts 100
run bench/milestones_checks.py --short
run bench/letters_render.py --short
run bench/transparency_dashboard.py --short
run bench/pages_in_process.py --journeys 5 --entrants 2000
run bench/load_rush.py --short

# A new bench must be added above with its short form; fail loudly if one was forgotten.
for script in bench/*.py; do
  case "$script" in bench/locustfile*.py) continue ;; esac  # read by load_rush.py, not a bench
  grep -q "run $script " "$0" || { echo "bench-short.sh does not run $script"; exit 1; }
done
