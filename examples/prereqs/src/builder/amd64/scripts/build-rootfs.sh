#!/bin/sh
# Stand-in for a real sysroot builder: lays the shared /rootfs out for one target architecture.
# Usage: build-rootfs.sh <arch> <dir>
set -eu
arch=$1
dir=$2
mkdir -p "$dir"
cp -R /rootfs/. "$dir/"
echo "arch=$arch" > "$dir/TARGET"
