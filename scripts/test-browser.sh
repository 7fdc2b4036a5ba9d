#!/usr/bin/env bash
# The browser suite: Playwright drives Debian's Chromium through the portal on a live server,
# axe-core checks every page, screenshots go to var/e2e-screenshots/ (tests/e2e/README.md).
# Embedded like a newcomer's machine: the test database is a SQLite file and a real Celery
# worker reads the file-system broker, both in a folder of this run's own (no services needed).
# A missing browser or axe-core is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# In memory when the machine has /dev/shm: pytest-django empties every table after each test,
# and on a disk each of those deletes waits for the disk.
lane_parent=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && lane_parent=/dev/shm
lane=$(mktemp -d "$lane_parent/suanli-browser.XXXXXX")
trap 'rm -rf "$lane"' EXIT
export SUANLI_VAR_DIR="$lane"
export SUANLI_TEST_DATABASE_NAME="$lane/test.sqlite3"
# Web (live server) and worker share the cache, as in the embedded portal.
export CACHE_URL="filecache://$lane/cache"
unset DATABASE_URL CELERY_BROKER_URL

# -m browser: exactly the tests marked as browser tests (tests/e2e, tests/letters' page).
# Not exec: the trap above removes the run's folder when pytest is done.
.venv/bin/python -m pytest -q -m browser "$@"
