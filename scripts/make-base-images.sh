#!/usr/bin/env bash
# Builds and pushes the "upstream" images the example repository reads, with the engine from setup-engine.sh:
#   base/busybox:stable   FROM scratch + static busybox (the example's base image)
#   ext/toolchain:1       /toolchain/VERSION (read by COPY --from)
#   ext/assets:1          /greeting.txt, /data/colors.txt (read by RUN --mount=from)
# Each image's content depends only on its variant number, so an upstream update is simulated by pushing the same
# tag with another variant.
#
# Usage: scripts/make-base-images.sh [--prefix PATH] [--variant N [--update IMAGE]...]
#   (no options)   push any image missing from the registry, at variant 0; images already there are left alone.
#   --variant N    rebuild and push with content variant N (0 is the original content): the images named by
#                  --update, or all of them when none is named.
#   --update IMAGE one of base/busybox, ext/toolchain, ext/assets; repeatable; needs --variant.
#   --prefix PATH  push under $IMAGEWRIGHT_REGISTRY/PATH/... instead, so a test can change upstream images
#                  without disturbing anyone else.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

ALL_IMAGES="base/busybox ext/toolchain ext/assets"
VARIANT=""
UPDATES=""
PREFIX=""

while [ $# -gt 0 ]; do
  case "$1" in
    --variant) [ $# -ge 2 ] || die "--variant needs a number"; VARIANT=$2; shift 2 ;;
    --variant=*) VARIANT=${1#*=}; shift ;;
    --update) [ $# -ge 2 ] || die "--update needs an image name"; UPDATES="$UPDATES $2"; shift 2 ;;
    --update=*) UPDATES="$UPDATES ${1#*=}"; shift ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a path"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (try --help)" ;;
  esac
done

[ -z "$VARIANT" ] || [[ "$VARIANT" =~ ^[0-9]+$ ]] || die "--variant must be a non-negative number, got '$VARIANT'"
[ -z "$UPDATES" ] || [ -n "$VARIANT" ] || die "--update needs --variant N (the content to push)"
for image in $UPDATES; do
  case " $ALL_IMAGES " in *" $image "*) ;; *) die "--update: unknown image '$image' (known: $ALL_IMAGES)" ;; esac
done
PREFIX=${PREFIX#/}; PREFIX=${PREFIX%/}
[ -z "$PREFIX" ] || [[ "$PREFIX" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]] || die "--prefix '$PREFIX' is not a valid repository path"

load_engine_env
BUSYBOX=$(find_static_busybox) || die "no static busybox found: run scripts/setup-engine.sh first"

tag_of() {
  case "$1" in
    base/busybox) echo stable ;;
    *) echo 1 ;;
  esac
}

repo_of() { printf '%s\n' "${PREFIX:+$PREFIX/}$1"; }

# Writes the build context of IMAGE at VARIANT into DIR.
write_context() {
  local image=$1 variant=$2 dir=$3
  case "$image" in
    base/busybox)
      cp "$BUSYBOX" "$dir/busybox"
      echo "busybox base variant $variant" >"$dir/base-release"
      cat >"$dir/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN ["/bin/sh", "-c", "mkdir -p /tmp /root /etc && chmod 1777 /tmp"]
COPY base-release /etc/base-release
CMD ["/bin/sh"]
EOF
      ;;
    ext/toolchain)
      mkdir -p "$dir/toolchain"
      echo "toolchain 1.0.$variant" >"$dir/toolchain/VERSION"
      printf '%s\n' 'FROM scratch' 'COPY toolchain/ /toolchain/' >"$dir/Dockerfile"
      ;;
    ext/assets)
      mkdir -p "$dir/assets/data"
      echo "hello from assets variant $variant" >"$dir/assets/greeting.txt"
      printf '%s\n' red green "blue-$variant" >"$dir/assets/data/colors.txt"
      printf '%s\n' 'FROM scratch' 'COPY assets/ /' >"$dir/Dockerfile"
      ;;
  esac
}

build_and_push() {
  local image=$1 variant=$2 ref dir digest
  ref="$IMAGEWRIGHT_REGISTRY/$(repo_of "$image"):$(tag_of "$image")"
  dir=$(mktemp -d)
  write_context "$image" "$variant" "$dir"
  if ! "$IMAGEWRIGHT_DOCKER" build -q -t "$ref" "$dir" >"$dir/build.log" 2>&1; then
    cat "$dir/build.log" >&2
    rm -rf "$dir"
    die "building $ref failed"
  fi
  if ! "$IMAGEWRIGHT_DOCKER" push "$ref" >"$dir/push.log" 2>&1; then
    cat "$dir/push.log" >&2
    rm -rf "$dir"
    die "pushing $ref failed"
  fi
  rm -rf "$dir"
  digest=$(registry_tag_digest "$IMAGEWRIGHT_REGISTRY" "$(repo_of "$image")" "$(tag_of "$image")") \
    || die "pushed $ref but the registry does not list it"
  say "pushed $ref (variant $variant) $digest"
}

wanted_update() {
  [ -n "$VARIANT" ] || return 1
  [ -z "$UPDATES" ] && return 0
  case " $UPDATES " in *" $1 "*) return 0 ;; esac
  return 1
}

for image in $ALL_IMAGES; do
  if wanted_update "$image"; then
    build_and_push "$image" "$VARIANT"
  elif digest=$(registry_tag_digest "$IMAGEWRIGHT_REGISTRY" "$(repo_of "$image")" "$(tag_of "$image")"); then
    say "present $IMAGEWRIGHT_REGISTRY/$(repo_of "$image"):$(tag_of "$image") $digest"
  else
    build_and_push "$image" 0
  fi
done
