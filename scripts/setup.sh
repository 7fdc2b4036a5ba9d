#!/usr/bin/env bash
# Prepare a fresh Debian/Ubuntu machine (or refresh an existing checkout): system packages,
# the virtual environment, compiled translations, the database schema and static files.
# Safe to run again: every step checks before it acts.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  # WeasyPrint renders PDFs through Pango; HarfBuzz's subsetter makes font subsetting ~40x faster.
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
  # Chinese fonts embedded in letters and receipts.
  fonts-noto-cjk
  # compilemessages needs msgfmt.
  gettext
  # pdftotext/pdffonts and zbarimg check the PDFs and QR codes in tests.
  poppler-utils zbar-tools
  # Browser tests (tests/e2e): Playwright drives Debian's Chromium; never `playwright install`.
  chromium
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "Installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Suanli needs Python 3.11 (Django 5.2 LTS on the machines we deploy); found $("$PYTHON" --version)." >&2
  echo "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    # Debian splits venv out of Python.
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q python3-venv
    rm -rf .venv && "$PYTHON" -m venv .venv
  fi
fi
# Reinstall only when requirements.txt changed since the last successful install.
mkdir -p var
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # pip's output goes to a log (this machine's pip config adds noisy index warnings); shown on failure.
  if ! .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt >var/pip-install.log 2>&1; then
    cat var/pip-install.log >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

# The browser tests' JavaScript (axe-core, pinned in package-lock.json): reinstalled only when the
# lock file changed since the last successful install, like the Python requirements above.
if ! command -v npm >/dev/null; then
  echo "Installing Node.js and npm (the browser tests inject axe-core from the npm registry)"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends nodejs npm
fi
command -v npm >/dev/null || { echo "npm is missing and could not be installed" >&2; exit 1; }
npm_stamp=node_modules/.package-lock.sha256
npm_want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$npm_stamp" ] || [ "$(cat "$npm_stamp")" != "$npm_want" ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
  if ! npm ci --no-audit --no-fund >var/npm-install.log 2>&1; then
    cat var/npm-install.log >&2
    exit 1
  fi
  echo "$npm_want" > "$npm_stamp"
fi

# Translations: the .po files are the source, the .mo files are built here (not committed).
if find . -path ./.venv -prune -o -name '*.po' -print | grep -q .; then
  .venv/bin/python manage.py compilemessages -v0 --ignore=.venv
fi
