#!/usr/bin/env bash
# Fuzz the compiled module (core/_drv_*.c) under AddressSanitizer and
# UBSan: build it with the sanitizers into a temporary directory, then run
# scripts/fuzz_compiled.py with their runtimes preloaded, then the tests of
# the compiled module with the sanitized build in its place. Any memory error
# or undefined behaviour aborts with a report; accepted inputs are compared
# with the careful parser. Not part of the test suite (a sanitized Python run
# is slow); run it after changing a C file.
#
#   bash scripts/fuzz_compiled.sh [ITERATIONS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >&2
py=.venv/bin/python
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
suffix=$("$py" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
include=$("$py" -c 'import sysconfig; print(sysconfig.get_path("include"))')
gcc -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
    -Wall -Wextra -Werror -fvisibility=hidden -pthread -shared -fPIC -I"$include" -Icore \
    core/_drv_*.c -o "$out/_drv_scan$suffix"
sanitized() {
    PYTHONHASHSEED=${PYTHONHASHSEED:-0} ASAN_OPTIONS=detect_leaks=0 \
    LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" "$@"
}
sanitized "$py" scripts/fuzz_compiled.py "$out" "$@"
# Then the tests of what the module does (reader, verify's walk, the loading
# loop and its reading thread) with the sanitized build standing in for it.
sanitized "$py" - "$out" <<'TESTS'
import importlib.util
import pathlib
import sys
# Put in place before anything imports the module.
path = next(pathlib.Path(sys.argv[1]).glob("_drv_scan*.so"))
spec = importlib.util.spec_from_file_location("revive.core._drv_scan", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sys.modules["revive.core._drv_scan"] = module
from revive.core import compiled
assert compiled.MODULE is module
import pytest
sys.exit(pytest.main(["-q", "-p", "no:cacheprovider", "tests/core/test_drv_scan_compiled.py",
    "tests/core/test_verify.py", "tests/core/test_closure.py", "tests/core/test_read_file.py",
    "tests/core/test_result_cache.py"]))
TESTS
