#!/bin/sh
# Installs what building and testing xtalk needs, from Debian 12 packages.
# Idempotent: does nothing when everything is already there. Needs root
# (or sudo) only when something is missing.
set -eu

PKGS="gcc libc6-dev binutils clang libclang-rt-14-dev meson ninja-build pkg-config python3 openssl
libexpat1-dev libssl-dev libc-ares-dev libidn2-dev libunistring-dev libsqlite3-dev
libncurses-dev libcmocka-dev libjansson-dev libuv1-dev
prosody lua-unbound valgrind tmux strace
libstrophe-dev python3-slixmpp go-sendxmpp"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The tests run a private Prosody; the package must not start the system
# service. A policy-rc.d answering 101 ("action forbidden") stops that,
# and is removed again afterwards if we put it there.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    guard=1
fi
rc=0
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$guard" ] && $SUDO rm -f /usr/sbin/policy-rc.d
exit $rc
