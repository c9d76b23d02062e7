#!/usr/bin/env bash
# Removes spansight from this device: stops and disables its units, removes
# the unit files and PREFIX (all releases). Configuration, state (outbox,
# baselines) and the service user stay unless --purge is given.
#
# Usage: uninstall.sh [--dry-run] [--purge] [--prefix DIR] [--config-dir DIR]
#                     [--root DIR]
#   --dry-run         print the plan, change nothing
#   --purge           also remove the configuration, the state directory and
#                     the service user
#   --prefix DIR      as given to install.sh (default /opt/spansight)
#   --config-dir DIR  as given to install.sh (default /etc/spansight)
#   --root DIR        as given to install.sh: work below DIR, no userdel,
#                     units disabled with `systemctl --root`
#
# Idempotent: running it again on a clean system changes nothing. The mirror
# port keeps its promiscuous, no-address settings until the next reboot.
set -euo pipefail

PREFIX=/opt/spansight
CONFIG_DIR=/etc/spansight
STATE_DIR=/var/lib/spansight
ROOT=''
DRY_RUN=0
PURGE=0
SERVICE_USER=spansight
UNIT_DIR=/etc/systemd/system

usage() {
  sed -n '6,15p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --purge) PURGE=1 ;;
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
      echo "uninstall: unknown argument $1" >&2
      usage
      ;;
  esac
  shift
done

[ "$DRY_RUN" -eq 1 ] || [ -n "$ROOT" ] || [ "$(id -u)" -eq 0 ] || {
  echo "uninstall: E_NOT_ROOT: run as root (or with --dry-run)" >&2
  exit 1
}

say() { echo "uninstall: $*"; }

# quote, run (or only print, under --dry-run) and check_layout_args.
# shellcheck source=lib/deploy-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/deploy-common.sh"
check_layout_args uninstall

# Removes ROOT+PATH if it exists.
remove() {
  if [ -e "$ROOT$1" ] || [ -L "$ROOT$1" ]; then
    run rm -rf "$ROOT$1"
  fi
}

systemctl_args=()
is_live_systemd=0
if [ -n "$ROOT" ]; then
  systemctl_args=(--root="$ROOT")
elif [ -d /run/systemd/system ]; then
  is_live_systemd=1
else
  systemctl_args=(--root=/)
fi

# --- 1. Units ---------------------------------------------------------------

units=()
[ ! -e "$ROOT$UNIT_DIR/spansight.service" ] || units+=(spansight.service)
for link in "$ROOT$UNIT_DIR"/spansight.service.wants/spansight-mirror@*; do
  [ -e "$link" ] || [ -L "$link" ] || continue
  units+=("$(basename "$link")")
done
if [ "${#units[@]}" -gt 0 ]; then
  if [ "$is_live_systemd" -eq 1 ]; then
    run systemctl disable --now "${units[@]}"
  else
    run systemctl "${systemctl_args[@]}" disable "${units[@]}"
  fi
fi
units_removed=0
for path in "$UNIT_DIR/spansight.service" \
  "$UNIT_DIR/spansight-mirror@.service" "$UNIT_DIR/spansight.service.d" \
  "$UNIT_DIR/spansight.service.wants"; do
  if [ -e "$ROOT$path" ] || [ -L "$ROOT$path" ]; then
    remove "$path"
    units_removed=1
  fi
done
if [ "$is_live_systemd" -eq 1 ] && [ "$units_removed" -eq 1 ]; then
  run systemctl daemon-reload
  run systemctl reset-failed
fi

# --- 2. Releases ------------------------------------------------------------

# Only a directory install.sh made is removed: it holds releases/ or current.
if [ -d "$ROOT$PREFIX" ]; then
  if [ -d "$ROOT$PREFIX/releases" ] || [ -L "$ROOT$PREFIX/current" ]; then
    remove "$PREFIX"
  else
    say "left $ROOT$PREFIX alone: it holds no spansight releases"
  fi
fi

# --- 3. Configuration, state, user (--purge) --------------------------------

if [ "$PURGE" -eq 1 ]; then
  remove "$CONFIG_DIR"
  remove "$STATE_DIR"
  if [ -n "$ROOT" ]; then
    say "skipped under --root: removing user $SERVICE_USER"
  elif id -u "$SERVICE_USER" >/dev/null 2>&1; then
    run userdel "$SERVICE_USER"
  fi
else
  for path in "$CONFIG_DIR" "$STATE_DIR"; do
    [ ! -e "$ROOT$path" ] || say "kept $ROOT$path (remove with --purge)"
  done
fi
say "done; the mirror port stays promiscuous without addresses until reboot"
