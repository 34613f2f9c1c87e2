#!/usr/bin/env bash
# Real Nix's .drv reader against ours, on a graph real Nix wrote (issue 2, item 8).
#
#   bench/compare_nix.sh [N] [WORKDIR]      (defaults: 50000, /tmp/revive-compare-nix-N)
#
# Needs Debian's nix-bin (nix-instantiate, nix), run as root. Writes a
# distro-shaped graph.nix of N derivations with ../shared/tools/gen_graph.py,
# lets `nix-instantiate` write the .drv files into /nix/store (once: the
# root is remembered in WORKDIR), then times, best of 3 each:
#   nix show-derivation -r ROOT                              (Nix's reader, C++)
#   guix-revive verify --store /nix/store ROOT, cold         (empty cache: parse + hash all)
#   guix-revive verify --store /nix/store ROOT, warm         (closure and report from the cache)
#   guix-revive verify --rehash ..., warm                    (closure from the cache, hash all)
# and the load alone (what is comparable to Nix's reader), cold and warm.
set -euo pipefail

N=${1:-50000}
WORK=${2:-/tmp/revive-compare-nix-$N}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
GEN=${GUIX_REVIVE_SHARED:-$REPO/../shared}/tools/gen_graph.py
PY=${PYTHON:-$REPO/.venv/bin/python}
export NIX_CONFIG=$'substituters =\nexperimental-features = nix-command'

mkdir -p "$WORK"
if [[ ! -s $WORK/root ]]; then
    python3 "$GEN" "$N" "$WORK" --store-tag="-revive$N" >/dev/null
    nix-instantiate "$WORK/graph.nix" -A root 2>/dev/null >"$WORK/root"
fi
ROOT=$(cat "$WORK/root")
echo "graph: $N derivations, root $ROOT"

# wall-clock seconds of one run of a command (its output discarded)
timed() {
    /usr/bin/time -f %e -o "$WORK/time" "$@" >/dev/null 2>&1
    tail -1 "$WORK/time"
}

# best of 3
best() {
    local best=999999 t
    for _ in 1 2 3; do
        t=$(timed "$@")
        best=$(echo "$t $best" | awk '{print ($1 < $2) ? $1 : $2}')
    done
    echo "$best"
}

cold_cache() { rm -rf "$WORK/xdg-cold" && mkdir -p "$WORK/xdg-cold"; }

nix_show=$(best nix show-derivation -r "$ROOT")

# Cold: a fresh, empty cache for every run.
cold=999999
for _ in 1 2 3; do
    cold_cache
    t=$(XDG_CACHE_HOME=$WORK/xdg-cold timed "$PY" -m revive.tui verify --store /nix/store "$ROOT")
    cold=$(echo "$t $cold" | awk '{print ($1 < $2) ? $1 : $2}')
done
# Warm: the cache filled by the runs above.
export XDG_CACHE_HOME=$WORK/xdg-cold
warm=$(best "$PY" -m revive.tui verify --store /nix/store "$ROOT")
rehash=$(best "$PY" -m revive.tui verify --rehash --store /nix/store "$ROOT")
unset XDG_CACHE_HOME

# The load alone, in-process, best of 3 (cold: no cache; warm: from the pack above).
load=$("$PY" - "$ROOT" "$WORK/xdg-cold/guix-revive" <<'EOF'
import sys, time
from revive.core.cache import DerivationCache
from revive.core.closure import load_closure
from revive.core.store_dir import StoreDir
root, cache_dir = sys.argv[1], sys.argv[2]
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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-46s %8s  %s\n' "step (best of 3)" "seconds" "vs nix show-derivation -r"
printf '%-46s %8s\n' "nix show-derivation -r ROOT" "$nix_show"
printf '%-46s %8s  %sx\n' "guix-revive verify, cold (empty cache)" "$cold" "$(ratio "$cold" "$nix_show")"
printf '%-46s %8s  %sx\n' "guix-revive verify, warm" "$warm" "$(ratio "$warm" "$nix_show")"
printf '%-46s %8s  %sx\n' "guix-revive verify --rehash, warm" "$rehash" "$(ratio "$rehash" "$nix_show")"
printf '%-46s %8s  %sx\n' "load_closure alone, cold (in process)" "$load_cold" "$(ratio "$load_cold" "$nix_show")"
printf '%-46s %8s  %sx\n' "load_closure alone, warm (in process)" "$load_warm" "$(ratio "$load_warm" "$nix_show")"
