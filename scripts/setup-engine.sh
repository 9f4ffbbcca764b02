#!/usr/bin/env bash
# Sets up what imagewright's demo and tests need on a Debian/Ubuntu machine, as root: a Docker engine of its own
# (own data root, exec root, pidfile and socket, so it never meets another engine), a CNCF distribution registry
# on the loopback address, a Docker client that runs BuildKit, and the base images the example reads.
# Idempotent: when everything already answers it changes nothing; when the processes died it restarts them.
# Writes .work/engine.env (DOCKER_HOST, IMAGEWRIGHT_DOCKER, IMAGEWRIGHT_REGISTRY) for `source`.
# Also installs Debian's chromium (about 50 packages, 20-30 s once downloaded), which the HTML report's browser test drives.
#
# Also, on an amd64 machine, emulation for arm64 and arm/v7 RUN steps (qemu-user-static, binfmt-support) and static
# arm64/armhf busybox binaries in $IMAGEWRIGHT_STATE_DIR/busybox/<arch>/busybox, from which tests make real multi-arch
# base images offline. Emulation is optional: when it cannot be set up the script says why and goes on, and the tests
# that need it are skipped with that reason.
#
# Usage: scripts/setup-engine.sh [--no-base-images]
# Environment: IMAGEWRIGHT_REGISTRY_PORT (default 5000), IMAGEWRIGHT_STATE_DIR (default /var/lib/imagewright),
#   IMAGEWRIGHT_RUN_DIR (default /run/imagewright), IMAGEWRIGHT_START_TIMEOUT seconds (default 60),
#   IMAGEWRIGHT_DOCKERD_ARGS (extra dockerd flags, space separated), IMAGEWRIGHT_ENGINE_ENV (default .work/engine.env).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"; }

WITH_BASE_IMAGES=1
for arg in "$@"; do
  case "$arg" in
    --no-base-images) WITH_BASE_IMAGES=0 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $arg (try --help)" ;;
  esac
done

REGISTRY_PORT="${IMAGEWRIGHT_REGISTRY_PORT:-5000}"
REGISTRY_ADDR="127.0.0.1:$REGISTRY_PORT"
START_TIMEOUT="${IMAGEWRIGHT_START_TIMEOUT:-60}"

DOCKER_SOCK="$IW_RUN_DIR/docker.sock"
DOCKER_HOST_URL="unix://$DOCKER_SOCK"
DOCKERD_PIDFILE="$IW_RUN_DIR/dockerd.pid"
DOCKERD_LOG="$IW_LOG_DIR/dockerd.log"
REGISTRY_DIR="$IW_STATE_DIR/registry"
REGISTRY_CONFIG="$REGISTRY_DIR/config.yml"
REGISTRY_PIDFILE="$IW_RUN_DIR/registry.pid"
REGISTRY_LOG="$IW_LOG_DIR/registry.log"

[[ "$REGISTRY_PORT" =~ ^[0-9]+$ ]] || die "IMAGEWRIGHT_REGISTRY_PORT must be a port number, got '$REGISTRY_PORT'"
[ "$(id -u)" = 0 ] || die "run as root: dockerd needs it"

# ---- packages ---------------------------------------------------------------------------------------------------

missing_packages() {
  command -v dockerd >/dev/null || echo docker.io
  { [ -x /usr/bin/docker ] || command -v docker >/dev/null; } || echo docker.io
  [ -x /usr/bin/docker-registry ] || echo docker-registry
  find_static_busybox >/dev/null || echo busybox-static
  command -v htpasswd >/dev/null || echo apache2-utils
  command -v openssl >/dev/null || echo openssl
  # The HTML report's browser test (test/integration/report-browser.test.ts) drives Debian's chromium.
  [ -x /usr/bin/chromium ] || echo chromium
}

ensure_packages() {
  local pkgs
  pkgs=$(missing_packages | sort -u | tr '\n' ' ')
  pkgs=${pkgs% }
  if [ -z "$pkgs" ]; then
    say "packages: present"
    return
  fi
  command -v apt-get >/dev/null || die "missing packages ($pkgs) and no apt-get to install them"
  say "packages: installing $pkgs (log $IW_LOG_DIR/apt.log)"
  mkdir -p "$IW_LOG_DIR"
  export DEBIAN_FRONTEND=noninteractive
  # Without an init system, docker.io's post-install script may start a system-wide dockerd on the default
  # socket and bridge; a policy-rc.d that refuses service starts keeps this engine the only one.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    added_policy=1
  fi
  # Several people (or CI steps) may install at once: wait for the dpkg lock instead of failing.
  # shellcheck disable=SC2086
  if ! { apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends $pkgs; } >"$IW_LOG_DIR/apt.log" 2>&1; then
    [ "$added_policy" = 0 ] || rm -f "$policy"
    tail -n 25 "$IW_LOG_DIR/apt.log" >&2
    die "apt-get could not install: $pkgs"
  fi
  [ "$added_policy" = 0 ] || rm -f "$policy"
  pkgs=$(missing_packages | sort -u | tr '\n' ' ')
  [ -z "${pkgs// /}" ] || die "still missing after apt-get install: $pkgs"
}

# ---- emulation (optional) ---------------------------------------------------------------------------------------

FOREIGN_BUSYBOX_DIR="$IW_STATE_DIR/busybox"
# Debian architecture names; arm64 and armhf are what the QEMU integration test builds.
FOREIGN_ARCHES="arm64 armhf"

emulation_missing() {
  command -v qemu-aarch64-static >/dev/null || echo qemu-user-static
  command -v update-binfmts >/dev/null || echo binfmt-support
}

binfmt_ready() {
  local entry
  for entry in qemu-aarch64 qemu-arm; do
    [ -f "/proc/sys/fs/binfmt_misc/$entry" ] && head -n1 "/proc/sys/fs/binfmt_misc/$entry" | grep -qx enabled || return 1
  done
}

# Never fatal: a machine without binfmt_misc (or without Debian's foreign archives) still runs everything else.
ensure_emulation() {
  local pkgs arch tmp deb
  if ! command -v dpkg >/dev/null || [ "$(dpkg --print-architecture)" != amd64 ]; then
    say "emulation: skipped (set up only on Debian/Ubuntu amd64 machines)"
    return 0
  fi
  pkgs=$(emulation_missing | tr '\n' ' ')
  pkgs=${pkgs% }
  export DEBIAN_FRONTEND=noninteractive
  if [ -n "$pkgs" ]; then
    say "emulation: installing $pkgs (log $IW_LOG_DIR/apt-emulation.log)"
    # shellcheck disable=SC2086
    if ! { apt-get -o DPkg::Lock::Timeout=300 update && apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends $pkgs; } \
        >"$IW_LOG_DIR/apt-emulation.log" 2>&1; then
      say "emulation: not available: apt-get could not install $pkgs (see $IW_LOG_DIR/apt-emulation.log)"
      return 0
    fi
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc >/dev/null 2>&1 || true
  fi
  binfmt_ready || update-binfmts --enable >/dev/null 2>&1 || true
  if binfmt_ready; then say "emulation: arm64 and arm registered with binfmt_misc"
  else say "emulation: not available: qemu-aarch64/qemu-arm are not registered with binfmt_misc (no binfmt_misc in this kernel or container?)"
  fi
  for arch in $FOREIGN_ARCHES; do
    [ -x "$FOREIGN_BUSYBOX_DIR/$arch/busybox" ] && continue
    dpkg --print-foreign-architectures | grep -qx "$arch" || dpkg --add-architecture "$arch"
    tmp=$(mktemp -d)
    if ! ( cd "$tmp" && { apt-get download "busybox-static:$arch" || { apt-get -o DPkg::Lock::Timeout=300 update && apt-get download "busybox-static:$arch"; }; } ) \
        >"$IW_LOG_DIR/apt-busybox-$arch.log" 2>&1; then
      say "emulation: no static $arch busybox: apt-get download busybox-static:$arch failed (see $IW_LOG_DIR/apt-busybox-$arch.log)"
      rm -rf "$tmp"
      continue
    fi
    deb=$(ls "$tmp"/busybox-static_*.deb)
    dpkg-deb -x "$deb" "$tmp/root"
    mkdir -p "$FOREIGN_BUSYBOX_DIR/$arch"
    cp "$tmp/root/bin/busybox" "$FOREIGN_BUSYBOX_DIR/$arch/busybox"
    rm -rf "$tmp"
    say "emulation: static $arch busybox in $FOREIGN_BUSYBOX_DIR/$arch/busybox"
  done
}

# ---- processes --------------------------------------------------------------------------------------------------

# The pid recorded in PIDFILE when that process is alive and its command line contains NAME.
live_pid() {
  local pidfile=$1 name=$2 pid cmdline
  [ -f "$pidfile" ] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == *"$name"* ]] || return 1
  printf '%s\n' "$pid"
}

# Runs a command detached from this shell's session, so it outlives the script and the CI step.
start_detached() {
  local log=$1; shift
  setsid "$@" </dev/null >>"$log" 2>&1 &
  printf '%s\n' "$!"
}

# Polls CHECK (a function name) until it succeeds; on timeout prints the log tail and fails.
wait_until() {
  local what=$1 check=$2 log=$3 pid=${4:-} waited=0
  until "$check"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      printf 'error: %s exited during start-up; last lines of %s:\n' "$what" "$log" >&2
      tail -n 25 "$log" >&2 || true
      exit 1
    fi
    if [ "$waited" -ge "$START_TIMEOUT" ]; then
      printf 'error: %s did not answer within %ss; last lines of %s:\n' "$what" "$START_TIMEOUT" "$log" >&2
      tail -n 25 "$log" >&2 || true
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
}

# Any client can answer "is the daemon up"; the BuildKit-capable one is chosen later.
any_docker_client() {
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi
}

dockerd_answers() {
  DOCKER_HOST="$DOCKER_HOST_URL" "$(any_docker_client)" info >/dev/null 2>&1
}

ensure_dockerd() {
  local pid
  if dockerd_answers; then
    say "dockerd: running ($DOCKER_HOST_URL)"
    return
  fi
  if pid=$(live_pid "$DOCKERD_PIDFILE" dockerd); then
    say "dockerd: pid $pid is not answering yet; waiting"
    wait_until dockerd dockerd_answers "$DOCKERD_LOG" "$pid"
    say "dockerd: running ($DOCKER_HOST_URL)"
    return
  fi
  mkdir -p "$IW_STATE_DIR/docker" "$IW_RUN_DIR/exec" "$IW_LOG_DIR"
  rm -f "$DOCKERD_PIDFILE"
  say "dockerd: starting (log $DOCKERD_LOG)"
  # shellcheck disable=SC2086
  pid=$(start_detached "$DOCKERD_LOG" dockerd \
    --data-root "$IW_STATE_DIR/docker" \
    --exec-root "$IW_RUN_DIR/exec" \
    --host "$DOCKER_HOST_URL" \
    --pidfile "$DOCKERD_PIDFILE" \
    ${IMAGEWRIGHT_DOCKERD_ARGS:-})
  wait_until dockerd dockerd_answers "$DOCKERD_LOG" "$pid"
  say "dockerd: running ($DOCKER_HOST_URL)"
}

registry_answers() {
  local status
  status=$(http_status GET 127.0.0.1 "$REGISTRY_PORT" /v2/) || return 1
  [ "$status" = 200 ] || [ "$status" = 401 ]
}

registry_config() {
  cat <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/data
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
}

stop_pid() {
  local pid=$1 waited=0
  kill "$pid" 2>/dev/null || return 0
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 20 ]; do sleep 0.5; waited=$((waited + 1)); done
}

ensure_registry() {
  local pid config
  config=$(registry_config)
  mkdir -p "$REGISTRY_DIR/data" "$IW_RUN_DIR" "$IW_LOG_DIR"
  if pid=$(live_pid "$REGISTRY_PIDFILE" docker-registry); then
    if [ "$config" = "$(cat "$REGISTRY_CONFIG" 2>/dev/null)" ]; then
      wait_until registry registry_answers "$REGISTRY_LOG" "$pid"
      say "registry: running ($REGISTRY_ADDR)"
      return
    fi
    say "registry: configuration changed; restarting pid $pid"
    stop_pid "$pid"
  fi
  if registry_answers; then
    die "something else already answers on $REGISTRY_ADDR; stop it or set IMAGEWRIGHT_REGISTRY_PORT to another port"
  fi
  printf '%s\n' "$config" >"$REGISTRY_CONFIG"
  say "registry: starting on $REGISTRY_ADDR (log $REGISTRY_LOG)"
  pid=$(start_detached "$REGISTRY_LOG" /usr/bin/docker-registry serve "$REGISTRY_CONFIG")
  printf '%s\n' "$pid" >"$REGISTRY_PIDFILE"
  wait_until registry registry_answers "$REGISTRY_LOG" "$pid"
  say "registry: running ($REGISTRY_ADDR)"
}

# ---- docker client ----------------------------------------------------------------------------------------------

docker_candidates() {
  local c seen=" "
  for c in $(type -ap docker) /usr/bin/docker /usr/local/bin/docker; do
    [ -x "$c" ] || continue
    case "$seen" in *" $(readlink -f "$c") "*) continue ;; esac
    seen="$seen$(readlink -f "$c") "
    printf '%s\n' "$c"
  done
}

has_buildx() { DOCKER_HOST="$DOCKER_HOST_URL" "$1" buildx version >/dev/null 2>&1; }

# The legacy builder rejects RUN --mount, so a successful build of this proves the client drives BuildKit.
buildkit_probe() {
  local client=$1 busybox dir ok=1
  busybox=$(find_static_busybox) || die "no static busybox found"
  dir=$(mktemp -d)
  cp "$busybox" "$dir/busybox"
  printf '%s\n' 'FROM scratch' 'COPY busybox /bin/busybox' \
    'RUN --mount=type=tmpfs,target=/probe ["/bin/busybox", "touch", "/probe/ok"]' >"$dir/Dockerfile"
  if DOCKER_HOST="$DOCKER_HOST_URL" DOCKER_BUILDKIT=1 "$client" build -q -t imagewright-probe:buildkit "$dir" \
      >"$dir/out" 2>&1; then
    ok=0
    DOCKER_HOST="$DOCKER_HOST_URL" "$client" rmi imagewright-probe:buildkit >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  return "$ok"
}

# Keeps the earlier choice when it still points at this engine and the client still exists.
previous_client() {
  [ -f "$IW_ENV_FILE" ] || return 1
  local prev_host prev_client
  prev_host=$(sed -n "s/^export DOCKER_HOST=//p" "$IW_ENV_FILE" | tr -d "'\"")
  prev_client=$(sed -n "s/^export IMAGEWRIGHT_DOCKER=//p" "$IW_ENV_FILE" | tr -d "'\"")
  [ "$prev_host" = "$DOCKER_HOST_URL" ] && [ -n "$prev_client" ] && [ -x "$prev_client" ] || return 1
  printf '%s\n' "$prev_client"
}

choose_client() {
  local c tried=""
  if c=$(previous_client); then
    CLIENT=$c
    say "docker client: $CLIENT (kept from $IW_ENV_FILE)"
    return
  fi
  # Clients with buildx first: their `docker build` is BuildKit without further help.
  for c in $(docker_candidates | while read -r x; do if has_buildx "$x"; then echo "$x"; fi; done) \
           $(docker_candidates | while read -r x; do if ! has_buildx "$x"; then echo "$x"; fi; done); do
    tried="$tried $c"
    if buildkit_probe "$c"; then
      CLIENT=$c
      say "docker client: $CLIENT (runs BuildKit)"
      return
    fi
    say "docker client: $c cannot run BuildKit builds (no buildx, legacy builder)"
  done
  die "no docker client runs BuildKit builds (tried:${tried:- none}); install docker.io (its /usr/bin/docker does)"
}

# ---- environment file -------------------------------------------------------------------------------------------

write_env_file() {
  local content tmp
  content=$(printf '%s\n' \
    "# Written by scripts/setup-engine.sh; source it to reach imagewright's engine and registry." \
    "export DOCKER_HOST=$DOCKER_HOST_URL" \
    "export IMAGEWRIGHT_DOCKER=$CLIENT" \
    "export IMAGEWRIGHT_REGISTRY=$REGISTRY_ADDR" \
    "export DOCKER_BUILDKIT=1")
  if [ "$content" = "$(cat "$IW_ENV_FILE" 2>/dev/null)" ]; then
    say "env: $IW_ENV_FILE unchanged"
    return
  fi
  mkdir -p "$(dirname "$IW_ENV_FILE")"
  tmp="$IW_ENV_FILE.tmp.$$"
  printf '%s\n' "$content" >"$tmp"
  mv "$tmp" "$IW_ENV_FILE"
  say "env: wrote $IW_ENV_FILE"
}

ensure_packages
mkdir -p "$IW_LOG_DIR"
ensure_emulation
ensure_dockerd
ensure_registry
choose_client
write_env_file
if [ "$WITH_BASE_IMAGES" = 1 ]; then
  bash "$IW_ROOT/scripts/make-base-images.sh"
fi
say "ready: source ${IW_ENV_FILE#"$IW_ROOT"/}"
