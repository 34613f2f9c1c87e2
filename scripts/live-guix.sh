#!/usr/bin/env bash
# Build and start a real Guix daemon + CLI of February 2022 from source, for the
# tests gated by GUIX_REVIVE_LIVE_GUIX=1 (see ../shared/docs/live-guix.md).
#
# Not part of the normal set-up or of CI: it needs root, apt and ~20 minutes on
# two cores.  Every step is idempotent, so re-running it after a failure (or
# after a reboot, to restart the daemon) picks up where it stopped.
#
# Usage (as root):  bash scripts/live-guix.sh [GUIX_BARE_GIT_DIR]
#   GUIX_BARE_GIT_DIR  a clone or bare mirror of the Guix repository holding
#                      commit $GUIX_COMMIT (default: $GUIX_MIRROR or
#                      /work/.mirror/guix-mirror+guix/repo).
# Environment: GUIX_SRC (default /opt/guix-src), GUIX_COMMIT, GUIX_WRAPPER
#   (default /opt/guix-live/bin/guix, deliberately NOT on PATH: a guix on PATH
#   makes every test and the app pick the Guix backend; the live tests put
#   $(dirname GUIX_WRAPPER) first on PATH themselves, see GUIX_REVIVE_GUIX_BIN),
#   GUIX_DISABLE_CHROOT=1 to force --disable-chroot.
set -euo pipefail

GUIX_COMMIT=${GUIX_COMMIT:-210a42dd63e1c9acd44e08de5081156a8dfaed4b}
GUIX_SRC=${GUIX_SRC:-/opt/guix-src}
GUIX_WRAPPER=${GUIX_WRAPPER:-/opt/guix-live/bin/guix}
MIRROR=${1:-${GUIX_MIRROR:-/work/.mirror/guix-mirror+guix/repo}}
LOG_DIR=${GUIX_LOG_DIR:-/var/log/guix-revive-live}
mkdir -p "$LOG_DIR"

step() { printf '\n=== %s: %s\n' "$(date +%H:%M:%S)" "$*"; }

step "Debian packages"
PKGS=(guile-3.0 guile-3.0-dev guile-gcrypt guile-git guile-json guile-sqlite3
      guile-zlib guile-lzlib guile-ssh guile-gnutls guile-zstd guile-semver
      autoconf automake autopoint gettext texinfo help2man po4a graphviz libgcrypt20-dev
      libsqlite3-dev libbz2-dev g++ make pkg-config)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
        || missing+=("$p")
done
if ((${#missing[@]})); then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

step "Source at $GUIX_COMMIT"
if [ ! -d "$GUIX_SRC/.git" ]; then
    git clone --no-checkout "$MIRROR" "$GUIX_SRC"
fi
if [ "$(git -C "$GUIX_SRC" rev-parse HEAD 2>/dev/null)" != "$GUIX_COMMIT" ]; then
    git -C "$GUIX_SRC" fetch "$MIRROR" "$GUIX_COMMIT" 2>/dev/null || true
    git -C "$GUIX_SRC" -c advice.detachedHead=false checkout -f "$GUIX_COMMIT"
fi

cd "$GUIX_SRC"
step "bootstrap + configure"
if [ ! -x configure ]; then
    nice -n 10 ./bootstrap
fi
if [ ! -f config.status ]; then
    nice -n 10 ./configure --localstatedir=/var --sysconfdir=/etc
fi

step "build the daemon, the guile launcher and the guix script only"
# Compiling every Scheme module takes hours on two cores; the modules then run
# interpreted, which costs one to two minutes per `guix` command instead.
# schema.sql.hh is a BUILT_SOURCE that the daemon's objects include.
nice -n 10 make nix/libstore/schema.sql.hh
nice -n 10 make -j2 guix-daemon guile scripts/guix pre-inst-env

step "build users, /gnu/store, /var/guix"
getent group guixbuild >/dev/null || groupadd --system guixbuild
for i in 01 02 03 04; do
    id "guixbuilder$i" >/dev/null 2>&1 || useradd -g guixbuild -G guixbuild \
        -d /var/empty -s "$(command -v nologin || echo /usr/sbin/nologin)" \
        -c "Guix build user $i" --system "guixbuilder$i"
done
mkdir -p /gnu/store /var/guix /var/log/guix
chgrp guixbuild /gnu/store
chmod 1775 /gnu/store

step "the guix wrapper (off PATH)"
mkdir -p "$(dirname "$GUIX_WRAPPER")"
cat >"$GUIX_WRAPPER.tmp" <<EOF
#!/bin/sh
exec $GUIX_SRC/pre-inst-env $GUIX_SRC/scripts/guix "\$@"
EOF
chmod 755 "$GUIX_WRAPPER.tmp"
mv "$GUIX_WRAPPER.tmp" "$GUIX_WRAPPER"

step "start the daemon"
SOCKET=/var/guix/daemon-socket/socket
if [ -S "$SOCKET" ] && [ -f "$LOG_DIR/daemon.pid" ] && kill -0 "$(cat "$LOG_DIR/daemon.pid")" 2>/dev/null; then
    echo "daemon already running (pid $(cat "$LOG_DIR/daemon.pid"))"
else
    chroot_flag=()
    if [ "${GUIX_DISABLE_CHROOT:-0}" = 1 ] || ! unshare --mount --pid --fork --net --ipc --uts true 2>/dev/null; then
        echo "namespaces unavailable: building without chroot"
        chroot_flag=(--disable-chroot)
    fi
    nohup ./pre-inst-env ./guix-daemon --build-users-group=guixbuild --no-substitutes \
        "${chroot_flag[@]}" >"$LOG_DIR/daemon.log" 2>&1 &
    echo $! >"$LOG_DIR/daemon.pid"
    for _ in $(seq 1 30); do [ -S "$SOCKET" ] && break; sleep 1; done
    [ -S "$SOCKET" ] || { cat "$LOG_DIR/daemon.log"; echo "daemon did not start" >&2; exit 1; }
    echo "daemon started (pid $(cat "$LOG_DIR/daemon.pid"))"
fi

step "smoke test (interpreted modules: one to two minutes)"
"$GUIX_WRAPPER" repl -- /dev/stdin <<'EOF'
(use-modules (guix store))
(with-store s (display (valid-path? s "/gnu/store/00000000000000000000000000000000-none")))
(newline)
EOF
echo "live Guix ready: $GUIX_WRAPPER ($GUIX_COMMIT)"
