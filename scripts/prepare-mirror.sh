#!/usr/bin/env bash
# Prepares a mirror (SPAN) port for passive capture: no addresses, no IPv6, no
# ARP (so the kernel never transmits on it), promiscuous, link up, receive
# offloads off (capture sees frames as on the wire), RX ring raised.
#
# Usage: prepare-mirror.sh IFACE [--rx-ring N] [--dry-run]
#   --rx-ring N  RX ring entries (clamped to the NIC maximum); default: maximum
#   --dry-run    print the commands that would change something, change nothing
#
# Idempotent: each setting is read first and only changed when it differs, so
# a second run changes nothing. Runs as root (systemd: spansight-mirror@IF).
set -euo pipefail

usage() {
  sed -n '6,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

IFACE=''
RX_RING=''
DRY_RUN=0
while [ "$#" -gt 0 ]; do
  case "$1" in
    --rx-ring)
      [ "$#" -ge 2 ] || usage
      RX_RING="$2"
      shift 2
      ;;
    --rx-ring=*)
      RX_RING="${1#--rx-ring=}"
      shift
      ;;
    --dry-run)
      DRY_RUN=1
      shift
      ;;
    -h | --help) usage ;;
    -*)
      echo "prepare-mirror: unknown option $1" >&2
      usage
      ;;
    *)
      [ -z "$IFACE" ] || usage
      IFACE="$1"
      shift
      ;;
  esac
done

[ -n "$IFACE" ] || usage
# Kernel interface names: at most 15 bytes, no '/' or whitespace. Checking
# here keeps a bad name from turning into a path under /proc/sys.
if ! [[ "$IFACE" =~ ^[A-Za-z0-9_.:@-]{1,15}$ ]]; then
  echo "prepare-mirror: E_IFACE_INVALID: '$IFACE' is not an interface name" >&2
  exit 2
fi
if [ -n "$RX_RING" ] && ! [[ "$RX_RING" =~ ^[1-9][0-9]{0,6}$ ]]; then
  echo "prepare-mirror: E_RX_RING_INVALID: --rx-ring needs an integer > 0" >&2
  exit 2
fi

note() { echo "prepare-mirror: $IFACE: $*"; }

# quote and run (or only print, under --dry-run).
# shellcheck source=lib/deploy-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/deploy-common.sh"

# Writes a value to a /proc/sys file unless it already holds it.
set_sysctl_file() {
  local path="$1" value="$2"
  if [ "$(cat "$path" 2>/dev/null)" = "$value" ]; then
    return 0
  fi
  if [ "$DRY_RUN" -eq 1 ]; then
    echo "would run: echo $value > $path"
  else
    echo "+ echo $value > $path"
    printf '%s\n' "$value" >"$path"
  fi
}

if [ ! -e "/sys/class/net/$IFACE" ]; then
  if [ "$DRY_RUN" -eq 1 ]; then
    note "not present; printing the full plan"
  else
    echo "prepare-mirror: E_IFACE_MISSING: no interface $IFACE (ip link)" >&2
    exit 1
  fi
fi
for tool in ip ethtool; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "prepare-mirror: E_TOOL_MISSING: $tool not found" \
      "(apt-get install iproute2 ethtool)" >&2
    exit 1
  fi
done

# 1. Silence the kernel before the link goes up: with IPv6 on, link up sends
# router solicitations and DAD probes; with ARP on, it answers ARP requests.
IPV6_CONF="/proc/sys/net/ipv6/conf/$IFACE"
if [ -d "$IPV6_CONF" ] || [ "$DRY_RUN" -eq 1 ]; then
  set_sysctl_file "$IPV6_CONF/accept_ra" 0
  set_sysctl_file "$IPV6_CONF/autoconf" 0
  set_sysctl_file "$IPV6_CONF/disable_ipv6" 1
elif [ -d /proc/sys/net/ipv6 ]; then
  note "no $IPV6_CONF; IPv6 settings skipped"
else
  note "IPv6 is not enabled in this kernel; nothing to disable"
fi

# Link flags as ",BROADCAST,NOARP,PROMISC,UP,"; empty when the link is absent.
LINK="$(ip -o link show dev "$IFACE" 2>/dev/null || true)"
FLAGS=''
if [[ "$LINK" == *'<'*'>'* ]]; then
  FLAGS="${LINK#*<}"
  FLAGS=",${FLAGS%%>*},"
fi
if [[ "$FLAGS" != *,NOARP,* ]]; then
  run ip link set dev "$IFACE" arp off
fi

# 2. No addresses of any family: an address would make the host answer on
# the mirror port and route through it.
if [ -z "$LINK" ] || [ -n "$(ip -o addr show dev "$IFACE" 2>/dev/null)" ]; then
  run ip addr flush dev "$IFACE"
fi

# 3. Promiscuous and up. Promiscuous mode set here persists on its own, so
# the agent needs no CAP_NET_ADMIN.
if [[ "$FLAGS" != *,PROMISC,* ]]; then
  run ip link set dev "$IFACE" promisc on
fi
if [[ "$FLAGS" != *,UP,* ]]; then
  run ip link set dev "$IFACE" up
fi

# 4. Offloads off. GRO/LRO merge received segments into one large frame, so
# capture would see frames that never crossed the wire; GSO/TSO only affect
# sending but are turned off too so `ethtool -k` shows a plain NIC.
FEATURES="$(ethtool -k "$IFACE" 2>/dev/null || true)"
for pair in gro:generic-receive-offload lro:large-receive-offload \
  rx-gro-hw:rx-gro-hw gso:generic-segmentation-offload \
  tso:tcp-segmentation-offload; do
  short="${pair%%:*}"
  long="${pair#*:}"
  state="$(printf '%s\n' "$FEATURES" | sed -n "s/^$long: //p")"
  case "$state" in
    off*) ;;
    *fixed*) note "$short cannot be turned off on this NIC ($state)" ;;
    on*)
      run ethtool -K "$IFACE" "$short" off || note "could not turn $short off"
      ;;
    '')
      if [ -z "$FEATURES" ]; then
        run ethtool -K "$IFACE" "$short" off || note "could not turn $short off"
      elif [ "$short" != rx-gro-hw ]; then
        # rx-gro-hw exists only on NICs with hardware GRO; the rest should.
        note "$short not reported by this NIC; skipped"
      fi
      ;;
  esac
done

# 5. A larger RX ring absorbs bursts while the agent is busy.
RINGS="$(ethtool -g "$IFACE" 2>/dev/null || true)"
if [ -z "$RINGS" ]; then
  if [ "$DRY_RUN" -eq 1 ] && [ -z "$LINK" ]; then
    echo "would run: ethtool -G $IFACE rx ${RX_RING:-<maximum>}"
  else
    note "NIC does not report ring sizes (ethtool -g); RX ring left alone"
  fi
else
  # First "RX:" line is under "Pre-set maximums", the second under "Current".
  rx_max="$(printf '%s\n' "$RINGS" | awk '/^RX:/ { print $2; exit }')"
  rx_now="$(printf '%s\n' "$RINGS" |
    awk '/^RX:/ { n++; if (n == 2) print $2 }')"
  target="${RX_RING:-$rx_max}"
  if [[ "$rx_max" =~ ^[0-9]+$ ]] && [ "$target" -gt "$rx_max" ]; then
    note "rx ring $target is above the NIC maximum $rx_max; using $rx_max"
    target="$rx_max"
  fi
  if ! [[ "$target" =~ ^[0-9]+$ && "$rx_now" =~ ^[0-9]+$ ]]; then
    note "could not read RX ring sizes; RX ring left alone"
  elif [ "$rx_now" != "$target" ]; then
    run ethtool -G "$IFACE" rx "$target" || note "could not set the RX ring"
  fi
fi

if [ "$DRY_RUN" -eq 0 ]; then
  note "ready for passive capture"
fi
