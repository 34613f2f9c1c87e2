#!/usr/bin/env bash
# Real Nix's .drv reader against ours, on a graph real Nix wrote (issues 2 and 12).
#
#   bench/compare_nix.sh [N] [WORKDIR]      (defaults: 50000, /tmp/revive-compare-nix-N)
#   ROUNDS=5 bench/compare_nix.sh 10000     (rounds of every step; default 3)
#
# Needs Debian's nix-bin (nix-instantiate, nix), run as root. Writes a
# distro-shaped graph.nix of N derivations with ../shared/tools/gen_graph.py,
# lets `nix-instantiate` write the .drv files into /nix/store (once: the
# root is remembered in WORKDIR), then times, in rounds:
#   nix show-derivation -r ROOT                              (Nix's reader, C++)
#   guix-revive verify --store /nix/store ROOT, cold         (empty cache: parse + hash all)
#   guix-revive verify --store /nix/store ROOT, warm         (the report kept by the cold run,
#                                                            reused: every file stat'ed, none read)
#   guix-revive verify --rehash ..., warm                    (closure from a pack another load
#                                                            wrote, hash all)
#   GUIX_REVIVE_PURE_PYTHON=1 guix-revive verify ..., cold  (without the compiled module)
#   $BASELINE_PYTHON -m revive.tui verify ..., cold          (if set: another checkout's
#                                                            interpreter, e.g. the code before a change)
# and the load alone (what is comparable to Nix's reader), cold and warm.
#
# Each round runs every step once, in turn, so that a machine whose load
# drifts slows every step alike. Printed per step: the best wall-clock and
# CPU (user + system) time over the rounds, their ratios to Nix's best, and
# the range of the round-by-round wall ratios (step / Nix in the same round).
set -euo pipefail

N=${1:-50000}
WORK=${2:-/tmp/revive-compare-nix-$N}
ROUNDS=${ROUNDS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
GEN=${GUIX_REVIVE_SHARED:-$REPO/../shared}/tools/gen_graph.py
PY=${PYTHON:-$REPO/.venv/bin/python}
export NIX_CONFIG=$'substituters =\nexperimental-features = nix-command'
# Python as installed: modules compiled once (pip writes the bytecode when it
# installs), not at every start, whatever PYTHONDONTWRITEBYTECODE says here
# (it would add ≈40 ms of compiling to every run). The bytecode goes to
# WORKDIR, never into a checkout.
unset PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX=$WORK/pycache

mkdir -p "$WORK"
if [[ ! -s $WORK/root ]]; then
    python3 "$GEN" "$N" "$WORK" --store-tag="-revive$N" >/dev/null
    nix-instantiate "$WORK/graph.nix" -A root 2>/dev/null >"$WORK/root"
fi
ROOT=$(cat "$WORK/root")
echo "graph: $N derivations, root $ROOT"

# "wall cpu" seconds of one run of a command (output discarded; cpu = user + system)
timed() {
    /usr/bin/time -f '%e %U %S' -o "$WORK/time" "$@" >/dev/null 2>&1 || true
    tail -1 "$WORK/time" | awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }'
}
VERIFY=("$PY" -m revive.tui verify --store /nix/store)
cold_cache() { rm -rf "$WORK/xdg" && mkdir -p "$WORK/xdg"; }
# verify writes no closure pack (it keeps its report): --rehash gets one
# written by a load, as the app or `show` would leave it.
fill_pack() { # CACHE_DIR
    "$PY" - "$ROOT" "$1" <<'PACK'
import sys
from revive.core.cache import DerivationCache
from revive.core.closure import load_closure
from revive.core.store_dir import StoreDir
load_closure([sys.argv[1]], StoreDir.open("/nix/store"), cache=DerivationCache(sys.argv[2]))
PACK
}
rm -rf "$WORK/xdg-pack" && fill_pack "$WORK/xdg-pack/guix-revive"
# Compile every module each step imports before the rounds.
MODULES="import revive.tui.cli.verify, revive.tui.cli.loading, revive.core.verify, revive.core.cache"
"$PY" -c "$MODULES"
[[ -n ${BASELINE_PYTHON:-} ]] && "$BASELINE_PYTHON" -c "$MODULES"
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b) ? a : b }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

declare -A wall cpu last ratios
keep() { # STEP "WALL CPU"
    local w c
    read -r w c <<<"$2"
    wall[$1]=$(min "$w" "${wall[$1]:-999999}")
    cpu[$1]=$(min "$c" "${cpu[$1]:-999999}")
    last[$1]=$w
}
steps=(cold warm rehash pure)
BASELINE=${BASELINE_PYTHON:-}
[[ -n $BASELINE ]] && steps+=(baseline)
for _ in $(seq "$ROUNDS"); do
    keep nix "$(timed nix show-derivation -r "$ROOT")"
    cold_cache
    keep cold "$(XDG_CACHE_HOME=$WORK/xdg timed "${VERIFY[@]}" "$ROOT")"
    keep warm "$(XDG_CACHE_HOME=$WORK/xdg timed "${VERIFY[@]}" "$ROOT")"
    keep rehash "$(XDG_CACHE_HOME=$WORK/xdg-pack timed "${VERIFY[@]}" --rehash "$ROOT")"
    cold_cache
    keep pure "$(GUIX_REVIVE_PURE_PYTHON=1 XDG_CACHE_HOME=$WORK/xdg timed "${VERIFY[@]}" "$ROOT")"
    if [[ -n $BASELINE ]]; then
        cold_cache
        keep baseline "$(XDG_CACHE_HOME=$WORK/xdg timed "$BASELINE" "${VERIFY[@]:1}" "$ROOT")"
    fi
    for step in "${steps[@]}"; do
        ratios[$step]+=" $(ratio "${last[$step]}" "${last[nix]}")"
    done
done

# The load alone, in-process, best of 3 (cold: no cache; warm: from the pack above).
load=$("$PY" - "$ROOT" "$WORK/xdg-pack/guix-revive" <<'EOF'
import sys, time
from revive.core.cache import DerivationCache
from revive.core.closure import load_closure
from revive.core.store_dir import StoreDir
root, cache_dir = sys.argv[1], sys.argv[2]  # a pack there (fill_pack)
store = StoreDir.open("/nix/store")
def best(**kw):
    times = []
    for _ in range(3):
        t = time.perf_counter(); load_closure([root], store, **kw); times.append(time.perf_counter() - t)
    return min(times)
print(f"{best(cache=None):.2f} {best(cache=DerivationCache(cache_dir)):.2f}")
EOF
)
read -r load_cold load_warm <<<"$load"

spread() { tr ' ' '\n' <<<"$1" | awk 'NF { if (lo == "" || $1 < lo) lo = $1; if ($1 > hi) hi = $1 }
    END { printf "%.2f-%.2f", lo, hi }'; }
line='%-40s %7s %7s  %-9s %-9s %s\n'
printf "$line" "step (best of $ROUNDS rounds)" "wall s" "cpu s" "wall/nix" "cpu/nix" "per round"
printf "$line" "nix show-derivation -r ROOT" "${wall[nix]}" "${cpu[nix]}" "" "" ""
row() { # LABEL STEP
    printf "$line" "$1" "${wall[$2]}" "${cpu[$2]}" "$(ratio "${wall[$2]}" "${wall[nix]}")x" \
        "$(ratio "${cpu[$2]}" "${cpu[nix]}")x" "$(spread "${ratios[$2]}")"
}
row "guix-revive verify, cold (empty cache)" cold
row "guix-revive verify, warm" warm
row "guix-revive verify --rehash, warm" rehash
row "verify, cold, pure Python" pure
[[ -n $BASELINE ]] && row "verify, cold, baseline" baseline
printf "$line" "load_closure alone, cold (in process)" "$load_cold" "" "$(ratio "$load_cold" "${wall[nix]}")x" "" ""
printf "$line" "load_closure alone, warm (in process)" "$load_warm" "" "$(ratio "$load_warm" "${wall[nix]}")x" "" ""
printf 'pure Python / compiled, verify cold: %sx wall, %sx cpu\n' \
    "$(ratio "${wall[pure]}" "${wall[cold]}")" "$(ratio "${cpu[pure]}" "${cpu[cold]}")"
