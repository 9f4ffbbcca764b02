#!/usr/bin/env bash
# CI's install check: the packed tarball installed into an empty prefix runs on its own. From an empty
# folder, with only node and that prefix on the PATH, `imagewright --version` and `--help` answer and
# `imagewright plan` plans a copy of examples/prereqs against the loopback registry (setup-engine.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bash scripts/install.sh --prefix "$work/prefix"

installed="$work/prefix/lib/node_modules/imagewright"
[ ! -e "$installed/node_modules" ] || { echo "check-install: the package brought a node_modules folder: its bundle should carry every dependency" >&2; exit 1; }
mkdir "$work/empty"
cp -R examples/prereqs "$work/example"
cd "$work/empty"
run() { env -i HOME="$work" PATH="$work/prefix/bin:$(dirname "$(command -v node)"):/usr/bin:/bin" imagewright "$@"; }

expected=$(node -p 'require(process.argv[1]).version' "$ROOT/package.json")
got=$(run --version)
[ "$got" = "$expected" ] || { echo "check-install: imagewright --version printed '$got', package.json says $expected" >&2; exit 1; }
help=$(run --help)
grep -q '^Usage: imagewright' <<<"$help" || { echo 'check-install: imagewright --help printed no usage' >&2; exit 1; }

cd "$work/example"
# A prefix of its own: nothing was built there, so everything is new.
plan=$(run plan --repo-prefix "install-check-$$/" --image-info image-info.json)
printf '%s\n' "$plan" | tail -n 1
printf '%s\n' "$plan" | grep -q '^9 to build, 0 to reuse\b' || { echo "check-install: unexpected plan:" >&2; printf '%s\n' "$plan" >&2; exit 1; }
echo "check-install: imagewright $got from the packed tarball installs into an empty prefix and plans the example"
