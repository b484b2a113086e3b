#!/bin/sh
# Installs what mmsim builds against when it is missing: libfdt and dtc for the
# device tree, Lua 5.4 for scripting, pkg-config.  Debian packages only; as root
# it runs apt-get, otherwise it prints the exact command to run.
need=""
[ -f /usr/include/libfdt.h ] || need="$need libfdt-dev"
command -v dtc >/dev/null 2>&1 || need="$need device-tree-compiler"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
pkg-config --exists lua5.4 2>/dev/null || need="$need liblua5.4-dev"
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "mmsim: installing missing build dependencies:$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $need >/dev/null || {
		echo "mmsim: apt-get install$need failed" >&2; exit 1; }
else
	echo "mmsim: missing build dependencies. Run:" >&2
	echo "  sudo apt-get install -y$need" >&2
	exit 1
fi
