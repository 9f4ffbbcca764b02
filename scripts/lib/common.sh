# Shared by scripts/setup-engine.sh and scripts/make-base-images.sh; sourced, never run.
# Paths can be moved with IMAGEWRIGHT_STATE_DIR / IMAGEWRIGHT_RUN_DIR / IMAGEWRIGHT_ENGINE_ENV so a second checkout
# can run its own engine.

IW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
IW_ENV_FILE="${IMAGEWRIGHT_ENGINE_ENV:-$IW_ROOT/.work/engine.env}"
IW_STATE_DIR="${IMAGEWRIGHT_STATE_DIR:-/var/lib/imagewright}"
IW_RUN_DIR="${IMAGEWRIGHT_RUN_DIR:-/run/imagewright}"
IW_LOG_DIR="$IW_STATE_DIR/log"

say() { printf '%s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A static busybox is required: the base image is FROM scratch, so nothing else provides a libc.
find_static_busybox() {
  local f linkage
  for f in /bin/busybox /usr/bin/busybox; do
    [ -x "$f" ] || continue
    # ldd exits 1 for static binaries, so its status says nothing; its message does.
    linkage=$(ldd "$f" 2>&1 || true)
    if [[ "$linkage" == *"not a dynamic executable"* || "$linkage" == *"statically linked"* ]]; then
      printf '%s\n' "$f"
      return 0
    fi
  done
  return 1
}

# Plain HTTP over bash's /dev/tcp, because curl and wget are not guaranteed on a fresh machine.
# Prints the status code, then each response header as `name: value` (name lower-cased), one per line.
# Usage: http_request METHOD HOST PORT PATH [ACCEPT]
http_request() {
  local method=$1 host=$2 port=$3 path=$4 accept=${5:-} fd line
  { exec {fd}<>"/dev/tcp/$host/$port"; } 2>/dev/null || return 1
  {
    printf '%s %s HTTP/1.0\r\nHost: %s:%s\r\n' "$method" "$path" "$host" "$port"
    [ -n "$accept" ] && printf 'Accept: %s\r\n' "$accept"
    printf '\r\n'
  } >&"$fd"
  if ! IFS= read -r -t 5 line <&"$fd"; then
    exec {fd}>&-
    return 1
  fi
  line=${line%$'\r'}
  printf '%s\n' "$(printf '%s' "$line" | cut -d' ' -f2)"
  while IFS= read -r -t 5 line <&"$fd"; do
    line=${line%$'\r'}
    [ -z "$line" ] && break
    printf '%s: %s\n' "$(printf '%s' "${line%%:*}" | tr 'A-Z' 'a-z')" "${line#*: }"
  done
  exec {fd}>&-
}

http_status() {
  local out
  out=$(http_request "$@") || return 1
  printf '%s\n' "${out%%$'\n'*}"
}

# Registry address split into host and port, e.g. 127.0.0.1:5000.
registry_host() { printf '%s\n' "${1%%:*}"; }
registry_port() { printf '%s\n' "${1##*:}"; }

MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

# Prints the digest of REPO:TAG in the registry at ADDR (host:port), or fails when the tag is absent.
registry_tag_digest() {
  local addr=$1 repo=$2 tag=$3 out
  out=$(http_request HEAD "$(registry_host "$addr")" "$(registry_port "$addr")" "/v2/$repo/manifests/$tag" "$MANIFEST_ACCEPT") || return 1
  [ "${out%%$'\n'*}" = 200 ] || return 1
  printf '%s\n' "$out" | sed -n 's/^docker-content-digest: //p'
}

# Reads .work/engine.env into the environment, failing clearly when the engine was never set up.
load_engine_env() {
  [ -f "$IW_ENV_FILE" ] || die "$IW_ENV_FILE is missing: run scripts/setup-engine.sh first"
  # shellcheck disable=SC1090
  . "$IW_ENV_FILE"
  [ -n "${DOCKER_HOST:-}" ] && [ -n "${IMAGEWRIGHT_DOCKER:-}" ] && [ -n "${IMAGEWRIGHT_REGISTRY:-}" ] \
    || die "$IW_ENV_FILE lacks DOCKER_HOST, IMAGEWRIGHT_DOCKER or IMAGEWRIGHT_REGISTRY: run scripts/setup-engine.sh again"
  export DOCKER_BUILDKIT=1
}
