#!/usr/bin/env bash
# Installs Yardstick in .venv, creates the demo district warehouse (once), and starts the app.
# Open http://localhost:8501 and create the first administrator on the set-up screen.
set -euo pipefail
cd "$(dirname "$0")/.."

python=$(command -v python3.11 || command -v python3)
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true

export YARDSTICK_DB="${YARDSTICK_DB:-data/yardstick.duckdb}"
[ -f "$YARDSTICK_DB" ] || .venv/bin/python -m core init --demo
exec .venv/bin/streamlit run app.py --server.address "${ADDRESS:-127.0.0.1}" --server.port "${PORT:-8501}"
