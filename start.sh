#!/usr/bin/env bash
# One command from a fresh machine to a running MLP Workbench:
#   ./start.sh [FILE]          (installs what is missing, then starts the app)
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh
exec .venv/bin/python main.py "$@"
