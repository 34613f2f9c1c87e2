#!/usr/bin/env bash
# Install everything guix-revive needs on a fresh Debian bookworm machine,
# idempotently: Debian packages for the real fetchers (git, svn, hg, brz, cvs)
# and the tools the tests use, then a virtual environment in .venv with the
# project installed (strict editable mode, so packaging mistakes show up).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
# The README lists these same packages (tests/cli/test_fresh_clone.py checks
# it): gcc builds the compiled .drv reader (core/_drv_*.c); git,
# subversion, mercurial, brz and cvs are the real fetchers; recutils,
# librsvg2-bin and curl are used by the tests.
DEBIAN_PACKAGES=(gcc git subversion mercurial brz cvs recutils librsvg2-bin curl)
# Debian's own python3 comes without its headers and without venv.
headers=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("include"))')
[ -f "$headers/Python.h" ] || DEBIAN_PACKAGES+=(python3-dev)
"$PYTHON" -c 'import ensurepip' 2>/dev/null || DEBIAN_PACKAGES+=(python3-venv)
missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.guix-revive-installed
# The strict editable install links each file it saw: a new module needs a
# reinstall too, so the stamp covers the list of package files as well.
want=$( (cat pyproject.toml setup.py core/_drv_*.c core/_drv_scan.h
         find core tui -type f ! -path '*/__pycache__/*' ! -name '*.so' | LC_ALL=C sort) |
       sha256sum | cut -d" " -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -d build ]; then
    echo "setup: installing Python dependencies into .venv" >&2
    # pip's and setuptools' chatter (the strict editable mode always explains
    # itself) goes to a log, shown in full only when something fails.
    log=.venv/setup-pip.log
    if ! { .venv/bin/python -m pip install -q --upgrade pip &&
        .venv/bin/python -m pip install -q -e ".[test]" --config-settings editable_mode=strict; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup: pip failed (log: $log)" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi
