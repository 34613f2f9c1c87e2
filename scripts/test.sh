#!/usr/bin/env bash
# Set up (first time only), then run the linters, the type checker and the
# whole test suite. Exits non-zero on any failure, including "no tests ran".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
ruff check .
ruff format --check .
mypy core tui
# Plain `pytest` (not `python -m pytest`): the repo root must not land on
# sys.path, or `core` would be importable beside `revive.core`.
set +e
pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests" >&2
    exit 1
fi
exit "$status"
