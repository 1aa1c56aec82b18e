#!/bin/sh
# deps.sh: make sure the build dependencies are present.
#
# Called by `make` before the first compile.  On a fresh Debian machine, as
# root, it installs what is missing with apt-get; otherwise it names the exact
# apt-get line and fails, so the README's two commands stay true everywhere.
set -u
PKGS="build-essential pkg-config libgsl-dev libsodium-dev libcsv-dev libcmocka-dev libsqlite3-dev libglpk-dev sqlite3"
missing=""
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
have_h() { [ -f "/usr/include/$1" ] || [ -f "/usr/local/include/$1" ]; }
command -v cc >/dev/null 2>&1 || missing="$missing build-essential"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
have_pc gsl || missing="$missing libgsl-dev"
have_pc libsodium || missing="$missing libsodium-dev"
have_pc cmocka || missing="$missing libcmocka-dev"
have_pc sqlite3 || missing="$missing libsqlite3-dev"
have_h csv.h || missing="$missing libcsv-dev"
have_h glpk.h || missing="$missing libglpk-dev"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"  # e2e tamper tests
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "tipstat: installing build dependencies:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	apt-get install -y -qq $PKGS >&2 && exit 0
	echo "tipstat: apt-get install failed" >&2
	exit 1
fi
echo "tipstat: missing build dependencies:$missing" >&2
echo "tipstat: install them with:  sudo apt-get install -y $PKGS" >&2
exit 1
