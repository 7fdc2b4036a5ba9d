#!/usr/bin/env bash
# The README's first command: set everything up, then run the portal with demo data
# (web, Celery worker, Celery beat, reference center receiver). Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python manage.py runportal "$@"
