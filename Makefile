# Shortcuts for the README's commands (scripts/run.sh, scripts/test.sh) and their parts.
.PHONY: setup run test test-services test-browser lint format lock demo

setup:
	bash scripts/setup.sh

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

# The same suite against PostgreSQL and Redis with real Celery workers (what CI runs second).
test-services: setup
	bash scripts/test-services.sh

# The browser suite: Chromium + axe-core through every journey, both languages.
test-browser:
	bash scripts/test-browser.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

lock:
	.venv/bin/pip install -q -r requirements.in
	.venv/bin/pip freeze | sort -f > requirements.txt
