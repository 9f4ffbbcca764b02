#!/usr/bin/env bash
# imagewright's demo, on a fresh Debian/Ubuntu machine, as root, from the repository root:
#   bash scripts/demo.sh
# Sets up a Docker engine and a loopback registry (scripts/setup-engine.sh), installs and compiles imagewright
# when needed, copies examples/prereqs to .work/demo/ (the repository itself is never changed), and then:
#   1. builds and pushes every image; a plan right after has nothing to build
#   2. changes one file in the builder image's build context
#   3. plans: exactly the builder and the images built from it must build, each with its reason
#   4. builds: exactly those are rebuilt, the rest reused
#   5. runs the rebuilt images to show the change reached them
# Every run pushes under a fresh repo prefix (demo-<timestamp>/), so it starts from an empty registry path.
# Exits non-zero when a step does not show what it should.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [ -t 1 ]; then BOLD=$'\033[1m' GREEN=$'\033[32m' RED=$'\033[31m' OFF=$'\033[0m'; else BOLD='' GREEN='' RED='' OFF=''; fi
heading() { printf '\n%s==== %s ====%s\n' "$BOLD" "$*" "$OFF"; }
note() { printf '%s\n' "$*"; }
ok() { printf '%scheck: %s%s\n' "$GREEN" "$*" "$OFF"; }
fail() { printf '%sdemo FAILED: %s%s\n' "$RED" "$*" "$OFF" >&2; exit 1; }
# Shows a command as a user would type it, then runs it.
show() { printf '%s$ %s%s\n' "$BOLD" "$*" "$OFF"; }
trap 'fail "a command failed at line $LINENO (see its output above)"' ERR

case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; exit 0 ;;
  '') ;;
  *) fail "unknown argument: $1 (the demo takes none)" ;;
esac

heading "Setting up: Docker engine, loopback registry, imagewright"
bash scripts/setup-engine.sh

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then fail "node and npm are needed (Node.js 20 or later)"; fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "Node.js 20 or later is needed; this is $(node --version)"
# npm records what it installed in node_modules/.package-lock.json; a newer package-lock.json means a stale install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  show npm ci
  npm ci --no-audit --no-fund --loglevel=error
fi
# npm ci compiles through the prepare script; sources edited since then are compiled again.
if [ ! -f dist/cli/main.js ] || [ -n "$(find src -name '*.ts' -newer dist/cli/main.js -print -quit)" ]; then
  show npm run build
  npm run --silent build
fi
# shellcheck disable=SC1091
. .work/engine.env
note "engine: DOCKER_HOST=$DOCKER_HOST, client $IMAGEWRIGHT_DOCKER; registry $IMAGEWRIGHT_REGISTRY"

WORK="$ROOT/.work/demo"
PREFIX="demo-$(date +%Y%m%d%H%M%S)/"
rm -rf "$WORK"
mkdir -p "$WORK"
cp -R examples/prereqs/. "$WORK/"
cd "$WORK"
note "example copied to ${WORK#"$ROOT"/}; images go to $IMAGEWRIGHT_REGISTRY/${PREFIX}prereqs"

# The CLI as `npx imagewright` runs it; every call shares the repo prefix and the image-info file.
CLI="$ROOT/dist/cli/main.js"
iw() {
  show "imagewright $* --repo-prefix $PREFIX --image-info image-info.json"
  node "$CLI" "$@" --repo-prefix "$PREFIX" --image-info image-info.json
}

ALL="builder-amd64 llvm-amd64 toolchain-amd64 assets-amd64 docs-amd64 tools-amd64 cross-arm64 cross-arm cross-riscv64"
CHANGED="builder-amd64 llvm-amd64 cross-arm64 cross-arm cross-riscv64"
# "a b c" → "prereqs:a prereqs:b ..." sorted, one line: the platform ids the tools print (the manifest's
# names: --repo-prefix moves where images go, not what they are called).
ids() { for tag in $1; do printf 'prereqs:%s\n' "$tag"; done | sort | tr '\n' ' '; }
# The ids on lines of LOG whose word after the timestamp is WORD (`built`, `reused`) in the build's progress output.
progress_ids() { sed 's/^\[[^]]*\] //' "$2" | awk -v w="$1" '$1 == w { print $2 }' | sort | tr '\n' ' '; }

heading "The dependency graph (imagewright graph --format mermaid)"
show "imagewright graph --format mermaid --repo-prefix $PREFIX"
node "$CLI" graph --format mermaid --repo-prefix "$PREFIX"

heading "Step 1: build and push everything"
iw build --push 2>&1 | tee build-1.log
[ "$(progress_ids built build-1.log)" = "$(ids "$ALL")" ] || fail "step 1 should have built all 9 images"
ok "all 9 images built and pushed"
iw plan | tee plan-1.txt
node "$CLI" plan --exit-code --repo-prefix "$PREFIX" --image-info image-info.json >/dev/null \
  || fail "right after the build, plan should have nothing to build"
ok "nothing to build (plan --exit-code exits 0)"

heading "Step 2: change a file in the builder image's build context"
VERSION_FILE=src/builder/amd64/rootfs/VERSION
echo "rootfs 1.1" >"$VERSION_FILE"
show "diff -u examples/prereqs/$VERSION_FILE ${WORK#"$ROOT"/}/$VERSION_FILE"
diff -u --label "a/$VERSION_FILE" --label "b/$VERSION_FILE" "$ROOT/examples/prereqs/$VERSION_FILE" "$VERSION_FILE" || true

heading "Step 3: plan — what must build now, and why"
iw plan | tee plan-2.txt
node "$CLI" plan --format json --repo-prefix "$PREFIX" --image-info image-info.json >plan-2.json
note ""
note "The JSON plan holds every reason in full; cross-arm64's, for example:"
show "imagewright plan --format json ... | node -e '…platforms.find(p => p.id.endsWith(\":cross-arm64\")).reasons…'"
node -e '
  const plan = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const cross = plan.platforms.find((p) => p.id.endsWith(":cross-arm64"));
  console.log(JSON.stringify({ id: cross.id, decision: cross.decision, reasons: cross.reasons }, null, 2));
' <plan-2.json
to_build=$(node -e '
  const plan = JSON.parse(require("fs").readFileSync(0, "utf8"));
  console.log(plan.platforms.filter((p) => p.decision === "build").map((p) => p.id).sort().join(" "));
' <plan-2.json)
[ "$to_build " = "$(ids "$CHANGED")" ] || fail "plan should build exactly: $(ids "$CHANGED")— it builds: $to_build"
# shellcheck disable=SC2016 # a JavaScript template literal, not shell
builder_reason=$(node -e '
  const plan = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const builder = plan.platforms.find((p) => p.id.endsWith(":builder-amd64"));
  console.log(builder.reasons.map((r) => `${r.kind} ${(r.modified ?? []).join(",")}`).join(";"));
' <plan-2.json)
[ "$builder_reason" = "context-changed rootfs/VERSION" ] || fail "builder's reason should be context-changed rootfs/VERSION, got: $builder_reason"
ok "plan builds exactly builder, llvm, cross-arm64, cross-arm, cross-riscv64 (builder: context-changed rootfs/VERSION; the rest: upstream-rebuilt)"

heading "Step 4: build again — only what changed is rebuilt"
iw build --push 2>&1 | tee build-2.log
[ "$(progress_ids built build-2.log)" = "$(ids "$CHANGED")" ] || fail "step 4 should have rebuilt exactly: $(ids "$CHANGED")"
[ "$(progress_ids reused build-2.log)" = "$(ids "toolchain-amd64 assets-amd64 docs-amd64 tools-amd64")" ] \
  || fail "step 4 should have reused toolchain, assets, docs and tools"
ok "$(progress_ids built build-2.log | wc -w) built, $(progress_ids reused build-2.log | wc -w) reused"
node "$CLI" plan --exit-code --repo-prefix "$PREFIX" --image-info image-info.json >/dev/null \
  || fail "after the second build, plan should have nothing to build"
show "imagewright plan --exit-code --repo-prefix $PREFIX    # no image-info: the registry's image labels say what was built"
node "$CLI" plan --exit-code --repo-prefix "$PREFIX" | tail -n 1 \
  || fail "planning from the registry's labels should have nothing to build"
ok "nothing left to build, whether planned from image-info.json or from the registry"

heading "Step 5: run the rebuilt images"
for tag in llvm-amd64 cross-arm64; do
  image="$IMAGEWRIGHT_REGISTRY/${PREFIX}prereqs:$tag"
  show "$IMAGEWRIGHT_DOCKER run --rm $image"
  "$IMAGEWRIGHT_DOCKER" run --rm "$image" | tee "run-$tag.txt"
  grep -q 'rootfs 1.1' "run-$tag.txt" || fail "$image does not show rootfs 1.1"
done
ok "llvm and cross-arm64 carry rootfs 1.1"

heading "Done"
note "Work folder: ${WORK#"$ROOT"/} (image-info.json, plans, build logs under .imagewright/logs)."
note "Try: cd ${WORK#"$ROOT"/} && node $CLI plan --repo-prefix $PREFIX -i image-info.json after editing another file"
note "(examples/prereqs/README.md lists changes and what each rebuilds)."
