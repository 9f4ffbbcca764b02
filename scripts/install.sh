#!/usr/bin/env bash
# Installs imagewright from this checkout the way a user installs a release: `npm pack` bundles the CLI
# (dependencies included, through the prepare script) into imagewright-<version>.tgz, and
# `npm install -g` installs that tarball, which needs nothing else. Used by action.yml and .ci/run.
#   bash scripts/install.sh                  # into npm's global prefix (imagewright on the PATH)
#   bash scripts/install.sh --prefix DIR     # into DIR: DIR/bin/imagewright
#   bash scripts/install.sh --keep-tarball DIR   # also leave the tarball in DIR
set -euo pipefail

prefix=''
keep=''
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --keep-tarball) keep=${2:?--keep-tarball needs a directory}; shift 2 ;;
    *) echo "scripts/install.sh: unknown argument: $1 (see the comment at its top)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The bundler is a development dependency; a checkout that has them installed is used as it is.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
version=$(node -p 'require("./package.json").version')
npm pack --silent --pack-destination "$out" >/dev/null
tarball="$out/imagewright-$version.tgz"
[ -f "$tarball" ] || { echo "scripts/install.sh: npm pack wrote no $tarball" >&2; exit 1; }
# --offline: the tarball must install without the registry (the bundle carries the dependencies).
npm install -g ${prefix:+--prefix "$prefix"} --offline --no-audit --no-fund --loglevel=error "$tarball"
if [ -n "$keep" ]; then mkdir -p "$keep" && cp "$tarball" "$keep/"; fi
echo "installed imagewright $version${prefix:+ into $prefix}"
