#!/usr/bin/env bash
# Installs spansight from this built source tree onto the device it runs on:
# checks prerequisites, creates the service user, copies the build into
# PREFIX/releases/<version>, builds the libpcap binding there (npm ci),
# switches PREFIX/current, installs the config (never overwriting one) and
# the systemd units, and enables them.
#
# Usage: install.sh [--dry-run] [--start] [--prefix DIR] [--config-dir DIR]
#                   [--root DIR] [--skip-deps]
#   --dry-run         print the plan, change nothing
#   --start           (re)start the units after installing
#   --prefix DIR      install root of releases (default /opt/spansight)
#   --config-dir DIR  configuration directory (default /etc/spansight)
#   --root DIR        install below DIR instead of / (DESTDIR-style, for tests
#                     and image builds): no useradd, no chown/chgrp, and the
#                     units are enabled with `systemctl --root`, never started
#   --skip-deps       do not run `npm ci` in the release (tests; the release
#                     then has no node_modules and cannot run)
#
# Idempotent: a second run with the same build changes nothing. Run as root
# from a tree where `npm ci && npm run build` has been done.
set -euo pipefail
umask 022

SRC_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX=/opt/spansight
CONFIG_DIR=/etc/spansight
ROOT=''
DRY_RUN=0
START=0
SKIP_DEPS=0
NODE=/usr/bin/node
SERVICE_USER=spansight
UNIT_DIR=/etc/systemd/system

usage() {
  sed -n '8,18p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --start) START=1 ;;
    --skip-deps) SKIP_DEPS=1 ;;
    --prefix | --config-dir | --root)
      [ "$#" -ge 2 ] || usage
      case "$1" in
        --prefix) PREFIX="$2" ;;
        --config-dir) CONFIG_DIR="$2" ;;
        --root) ROOT="$2" ;;
      esac
      shift
      ;;
    -h | --help) usage ;;
    *)
      echo "install: unknown argument $1" >&2
      usage
      ;;
  esac
  shift
done

say() { echo "install: $*"; }
fail() {
  echo "install: $*" >&2
  exit 1
}

# quote, run (or only print, under --dry-run) and check_layout_args.
# shellcheck source=lib/deploy-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/deploy-common.sh"
check_layout_args install

# Writes stdin to ROOT+PATH with MODE unless it already holds exactly that.
# Returns 0 when it wrote (or would write), 1 when nothing changed.
write_if_changed() {
  local path="$ROOT$1" mode="$2" tmp
  tmp="$(mktemp)"
  cat >"$tmp"
  if [ -f "$path" ] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "would write: $path (mode $mode)"
    rm -f "$tmp"
  else
    echo "+ write $path (mode $mode)"
    mkdir -p "$(dirname "$path")"
    install -m "$mode" "$tmp" "$path"
    rm -f "$tmp"
  fi
  return 0
}

# --- 1. Prerequisites -------------------------------------------------------

node_version="$("$NODE" --version 2>/dev/null || true)"
if [[ "$node_version" != v20.* ]]; then
  fail "E_NODE_MISSING: spansight needs Node.js 20 at $NODE" \
    "(found: ${node_version:-none}). Install Node 20 (e.g. the NodeSource" \
    "node_20.x repository) so that $NODE --version prints v20.x."
fi
if [ ! -f "$SRC_DIR/dist/src/cli/main.js" ]; then
  fail "E_NOT_BUILT: $SRC_DIR/dist is missing; run 'npm ci && npm run build'" \
    "in $SRC_DIR first."
fi
if [ "$SKIP_DEPS" -eq 0 ]; then
  if ! command -v npm >/dev/null 2>&1; then
    fail "E_NPM_MISSING: npm not found; it comes with Node.js 20."
  fi
  # node-pcap is compiled on the device against libpcap by node-gyp.
  if [ ! -f /usr/include/pcap/pcap.h ]; then
    fail "E_LIBPCAP_MISSING: libpcap headers not found;" \
      "run: apt-get install libpcap-dev"
  fi
  for tool in make g++ python3; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "E_BUILD_TOOLS_MISSING: $tool not found (node-gyp builds the" \
        "capture binding); run: apt-get install build-essential python3"
  done
fi
for tool in ip ethtool; do
  command -v "$tool" >/dev/null 2>&1 ||
    fail "E_TOOL_MISSING: $tool not found (mirror port preparation);" \
      "run: apt-get install iproute2 ethtool"
done
[ "$DRY_RUN" -eq 1 ] || [ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] ||
  fail "E_NOT_ROOT: run as root (or with --dry-run to see the plan)"

VERSION="$("$NODE" -p "require('$SRC_DIR/package.json').version")"
RELEASE="$PREFIX/releases/$VERSION"
say "spansight $VERSION from $SRC_DIR to ${ROOT}$PREFIX (node $node_version)"

# --- 2. Service user --------------------------------------------------------

if [ -n "$ROOT" ]; then
  say "skipped under --root: creating system user $SERVICE_USER"
elif id -u "$SERVICE_USER" >/dev/null 2>&1; then
  :
else
  run useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment 'spansight sensor' "$SERVICE_USER"
fi

# --- 3. Release directory ---------------------------------------------------

# What a release holds: the runtime build only (no sources, no tests).
RELEASE_FILES=(package.json package-lock.json README.md dist/src bin board
  proto scripts/prepare-mirror.sh scripts/install.sh scripts/uninstall.sh
  scripts/lib/deploy-common.sh systemd)
present=()
for item in "${RELEASE_FILES[@]}"; do
  [ -e "$SRC_DIR/$item" ] && present+=("$item")
done
# A fingerprint of the files copied: an unchanged build is not reinstalled.
source_sha="$(cd "$SRC_DIR" && find "${present[@]}" -type f -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
installed_sha="$(cat "$ROOT$RELEASE/.source-sha256" 2>/dev/null || true)"

if [ "$installed_sha" = "$source_sha" ]; then
  say "release $VERSION already installed and unchanged"
else
  staging="$ROOT$PREFIX/releases/.$VERSION.staging"
  run rm -rf "$staging"
  run mkdir -p "$staging"
  for item in "${present[@]}"; do
    [ "$(dirname "$item")" = . ] || run mkdir -p "$staging/$(dirname "$item")"
    run cp -R "$SRC_DIR/$item" "$staging/$item"
  done
  if [ "$SKIP_DEPS" -eq 1 ]; then
    say "skipped (--skip-deps): npm ci --omit=dev in the release"
  elif [ "$DRY_RUN" -eq 1 ]; then
    echo "would run: (cd $staging && npm ci --omit=dev --no-audit --no-fund)"
  else
    echo "+ (cd $staging && npm ci --omit=dev --no-audit --no-fund)"
    (cd "$staging" && npm ci --omit=dev --no-audit --no-fund)
    # node-pcap builds quietly and npm 11 skips unapproved install scripts;
    # a release without the binding would only fail at capture time.
    [ -n "$(find "$staging/node_modules/pcap/build" -name '*.node' \
      2>/dev/null)" ] || fail "E_PCAP_BUILD_FAILED: node_modules/pcap has no" \
      "compiled binding after npm ci; see the npm output above."
  fi
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "would write: $staging/.source-sha256"
  else
    printf '%s\n' "$source_sha" >"$staging/.source-sha256"
  fi
  # Swap the whole directory in at once; a running agent keeps the files it
  # has already loaded.
  if [ -e "$ROOT$RELEASE" ]; then
    run mv "$ROOT$RELEASE" "$ROOT$RELEASE.old.$$"
    run mv "$staging" "$ROOT$RELEASE"
    run rm -rf "$ROOT$RELEASE.old.$$"
  else
    run mv "$staging" "$ROOT$RELEASE"
  fi
fi

# `current` is replaced by rename, so it always points at a whole release.
current_target="$(readlink "$ROOT$PREFIX/current" 2>/dev/null || true)"
if [ "$current_target" != "releases/$VERSION" ]; then
  run ln -sfn "releases/$VERSION" "$ROOT$PREFIX/current.new"
  run mv -T "$ROOT$PREFIX/current.new" "$ROOT$PREFIX/current"
fi

# --- 4. Configuration -------------------------------------------------------

CONFIG_FILE="$CONFIG_DIR/spansight.json"
if [ ! -d "$ROOT$CONFIG_DIR" ]; then
  run mkdir -p "$ROOT$CONFIG_DIR"
  run chmod 0750 "$ROOT$CONFIG_DIR"
fi
if [ -e "$ROOT$CONFIG_FILE" ]; then
  say "kept existing $ROOT$CONFIG_FILE"
  config_to_read="$ROOT$CONFIG_FILE"
else
  run install -m 0640 "$SRC_DIR/board/spansight.example.json" \
    "$ROOT$CONFIG_FILE"
  config_to_read="$SRC_DIR/board/spansight.example.json"
  say "edit $CONFIG_FILE (sensor.id, sensor.board, publish.broker, TLS files)"
fi
# The agent reads its config as the service user: group-readable by it.
if [ -z "$ROOT" ]; then
  for path in "$CONFIG_DIR" "$CONFIG_FILE"; do
    if [ "$(stat -c %G "$path" 2>/dev/null)" != "$SERVICE_USER" ]; then
      run chgrp "$SERVICE_USER" "$path"
    fi
  done
else
  say "skipped under --root: chgrp $SERVICE_USER $CONFIG_DIR $CONFIG_FILE"
fi

# Values the units need, read with the agent's own loader (board profile
# defaults merged, the file validated): capture interface, RX ring, memory.
errors="$(mktemp)"
settings="$("$NODE" --input-type=module -e "
  const { loadConfig } = await import(process.argv[1]);
  const c = loadConfig({ path: process.argv[2], env: {},
    boardDir: process.argv[3], hostname: 'install' });
  const host = c.board?.host;
  console.log([c.capture.interface ?? '', host?.rxRingEntries ?? '',
    host?.memoryMaxBytes ?? '', c.board?.name ?? 'none'].join(' '));
" "$SRC_DIR/dist/src/control/config.js" "$config_to_read" "$SRC_DIR/board" \
  2>"$errors")" || fail "E_CONFIG_INVALID: $config_to_read:" \
  "$(cat "$errors"; rm -f "$errors") Fix it and run install.sh again."
rm -f "$errors"
read -r IFACE RX_RING MEMORY_MAX_BYTES BOARD <<<"$settings"
say "board ${BOARD}, capture interface ${IFACE:-none (file replay)}"

# --- 5. systemd units -------------------------------------------------------

units_changed=0
# The units name the default paths; other prefixes are substituted in.
render_unit() {
  sed -e "s|/opt/spansight|$PREFIX|g" -e "s|/etc/spansight|$CONFIG_DIR|g" \
    "$SRC_DIR/systemd/$1"
}
for unit in spansight.service spansight-mirror@.service; do
  if render_unit "$unit" | write_if_changed "$UNIT_DIR/$unit" 0644; then
    units_changed=1
  fi
done

# Board-specific limits as a drop-in, so the unit itself stays generic. V8's
# heap gets half of MemoryMax: capture ring, kernel buffer and typed-array
# tables live outside it but count against the same cgroup.
DROPIN="$UNIT_DIR/spansight.service.d/10-board.conf"
if [ -n "$MEMORY_MAX_BYTES" ]; then
  heap_mib=$((MEMORY_MAX_BYTES / 2 / 1048576))
  if write_if_changed "$DROPIN" 0644 <<EOF; then
# Generated by install.sh from board profile '$BOARD'; rerun it to update.
[Service]
MemoryMax=$MEMORY_MAX_BYTES
Environment=NODE_OPTIONS=--max-old-space-size=$heap_mib
EOF
    units_changed=1
  fi
elif [ -e "$ROOT$DROPIN" ]; then
  run rm -f "$ROOT$DROPIN"
  units_changed=1
fi

mirror_args=''
[ -z "$RX_RING" ] || mirror_args="--rx-ring $RX_RING"
write_if_changed "$CONFIG_DIR/mirror.env" 0644 <<EOF || true
# Generated by install.sh from board profile '$BOARD': extra arguments of
# prepare-mirror.sh for spansight-mirror@.service. Rerun install.sh to update.
SPANSIGHT_MIRROR_ARGS=$mirror_args
EOF

# --- 6. Enable (and start) --------------------------------------------------

mirror_unit=''
if [ -n "$IFACE" ]; then
  mirror_unit="spansight-mirror@$(systemd-escape "$IFACE").service"
fi
systemctl_args=()
if [ -n "$ROOT" ]; then
  systemctl_args=(--root="$ROOT")
elif [ ! -d /run/systemd/system ]; then
  say "systemd is not running here: units are enabled but not reloaded"
  systemctl_args=(--root=/)
fi
is_live_systemd=0
[ "${#systemctl_args[@]}" -gt 0 ] || is_live_systemd=1

if [ "$is_live_systemd" -eq 1 ] && [ "$units_changed" -eq 1 ]; then
  run systemctl daemon-reload
fi
# A mirror unit left from an earlier interface must not touch that port.
for link in "$ROOT$UNIT_DIR"/spansight.service.wants/spansight-mirror@*; do
  [ -e "$link" ] || [ -L "$link" ] || continue
  old_unit="$(basename "$link")"
  [ "$old_unit" = "$mirror_unit" ] ||
    run systemctl "${systemctl_args[@]}" disable "$old_unit"
done
if [ ! -L "$ROOT$UNIT_DIR/multi-user.target.wants/spansight.service" ]; then
  run systemctl "${systemctl_args[@]}" enable spansight.service
fi
if [ -n "$mirror_unit" ] &&
  [ ! -L "$ROOT$UNIT_DIR/spansight.service.wants/$mirror_unit" ]; then
  run systemctl "${systemctl_args[@]}" enable "$mirror_unit"
fi

if [ "$START" -eq 1 ]; then
  if [ "$is_live_systemd" -eq 1 ]; then
    [ -z "$mirror_unit" ] || run systemctl restart "$mirror_unit"
    run systemctl restart spansight.service
  else
    say "--start ignored: no running systemd manages ${ROOT:-/}"
  fi
else
  say "not started; start with: systemctl start spansight"
fi
say "done"
