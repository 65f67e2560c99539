#!/bin/sh
# Installs what building and testing xtalk needs, from Debian 12 packages.
# Idempotent: does nothing when everything is already there. Needs root
# (or sudo) only when something is missing.
set -eu

PKGS="gcc libc6-dev binutils clang libclang-rt-14-dev meson ninja-build pkg-config python3 openssl
libexpat1-dev libssl-dev libc-ares-dev libidn2-dev libunistring-dev libsqlite3-dev
libncurses-dev libcmocka-dev libjansson-dev libuv1-dev libcurl4-openssl-dev libmagic-dev
prosody prosody-modules ejabberd erlang-p1-sqlite3 lua-unbound valgrind tmux strace
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
# The tests run a private Prosody and a private ejabberd; the packages must
# not start the system services. A policy-rc.d answering 101 ("action
# forbidden") stops that, and is removed again afterwards if we put it there.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    guard=1
fi
rc=0
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null || rc=$?
[ -n "$guard" ] && $SUDO rm -f /usr/sbin/policy-rc.d
# Where no policy-rc.d was honoured (a booted system with systemd), the
# ejabberd package's postinst starts its service: the tests never use it,
# and its epmd and ports would only be in the way. Stop and disable it.
case " $missing " in
*" ejabberd "*)
    if [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now ejabberd >/dev/null 2>&1 || true
    elif command -v service >/dev/null 2>&1; then
        $SUDO service ejabberd stop >/dev/null 2>&1 || true
        command -v update-rc.d >/dev/null 2>&1 && $SUDO update-rc.d ejabberd disable >/dev/null 2>&1 || true
    fi
    ;;
esac
exit $rc
