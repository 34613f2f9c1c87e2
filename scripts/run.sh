#!/usr/bin/env bash
# Set up (first time only) and open guix-revive; extra arguments go to the app.
# With no argument and no Guix store it opens the bundled demo environment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/guix-revive "$@"
