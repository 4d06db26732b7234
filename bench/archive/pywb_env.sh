#!/usr/bin/env bash
# Create (once) a virtualenv holding pywb, apart from the project's: pywb pins werkzeug, redis and gevent
# versions the project does not want. Prints the Python to run bench/archive/pywb_replay.py with.
# Usage: [PYTHON=python3.11] bench/archive/pywb_env.sh [VENV_DIR]   (default: $NIANBAO_PYWB_VENV or /tmp/nianbao-pywb)
set -euo pipefail
venv="${1:-${NIANBAO_PYWB_VENV:-/tmp/nianbao-pywb}}"
if ! "$venv/bin/python" -c "import pywb" >/dev/null 2>&1; then
    "${PYTHON:-python3}" -m venv "$venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "pywb==2.10.0" >&2
fi
echo "$venv/bin/python"
