#!/usr/bin/env bash
# Install sluice into a temporary root and build a small application with
# nothing but `pkg-config --cflags --libs sluice`, then run it.
# usage: check.sh BUILD_DIR SOURCE_FILE
set -euo pipefail

build=$(cd "${1:?build dir}" && pwd)
src=${2:?source file}
cc=${CC:-cc}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

if ! command -v pkg-config >/dev/null; then
	echo "pkg-config is missing" >&2
	exit 77
fi
meson install -C "$build" --no-rebuild --destdir "$root" --quiet >/dev/null
pc=$(find "$root" -name sluice.pc -print -quit)
if [ -z "$pc" ]; then
	echo "FAIL: sluice.pc was not installed" >&2
	exit 1
fi
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$root
flags=$(pkg-config --cflags --libs sluice)
echo "pkg-config --cflags --libs sluice: $flags"
libdir=$(pkg-config --variable=libdir sluice)
"$cc" -std=gnu11 -Wall -Wextra -Werror ${APP_CFLAGS:-} -o "$root/app" "$src" $flags
LD_LIBRARY_PATH="$libdir" "$root/app"
