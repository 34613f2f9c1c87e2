#!/usr/bin/env bash
# Fuzz the compiled module (core/_drv_*.c) under AddressSanitizer and
# UBSan: build it with the sanitizers into a temporary directory, then run
# scripts/fuzz_compiled.py with their runtimes preloaded. Any memory error or
# undefined behaviour aborts with a report; accepted inputs are compared with
# the careful parser. Not part of the test suite (a sanitized Python run is
# slow); run it after changing the C file.
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
PYTHONHASHSEED=${PYTHONHASHSEED:-0} ASAN_OPTIONS=detect_leaks=0 \
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
    "$py" scripts/fuzz_compiled.py "$out" "$@"
