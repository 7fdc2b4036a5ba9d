#!/usr/bin/env bash
# Short forms of the benchmarks in bench/ (the full ones run by hand; see bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
for script in bench/*.py; do
  [ -e "$script" ] || continue
  echo "-- $script --short"
  .venv/bin/python "$script" --short
done
