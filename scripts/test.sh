#!/usr/bin/env bash
# The README's second command: set everything up, then run the test suite with pytest on the
# embedded default (SQLite, no services). Tests that need PostgreSQL/Redis/a real worker run in
# scripts/test-services.sh (CI runs both).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q "$@"
