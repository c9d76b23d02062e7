#!/bin/sh
# Generate test/fixtures/public/generated-sip/sip-baresip-kamailio.pcap: real
# SIP traffic between two baresip phones and a Kamailio registrar and proxy,
# each in its own network namespace on a throw-away bridge that floods every
# frame (a hub), captured from a port of the bridge as a mirror port sees it.
# Run as root on Debian 12 with baresip, kamailio and tcpdump installed
# (apt-get install -y baresip-core kamailio tcpdump).
#
# The traffic: both phones register, phone 1 over UDP and phone 2 over TCP
# (the registrar answers with its Server header); phone 1 calls phone 2
# through the proxy, which adds its own Via
# and passes phone 1's User-Agent on; phone 2 rings until phone 1 gives up
# (CANCEL), and both unregister as they quit.
set -eu

DEFAULT_OUT="$(dirname "$0")/../test/fixtures/public/generated-sip"
OUT="${1:-$DEFAULT_OUT/sip-baresip-kamailio.pcap}"
TAG="ssip$$"
WORK="$(mktemp -d)"
PIDS=""

cleanup() {
  for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
  sleep 0.5
  for ns in sw pbx ph1 ph2 mon; do ip netns del "$TAG-$ns" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

in_ns() {
  target="$1"
  shift
  ip netns exec "$TAG-$target" "$@"
}

# The switch: a bridge that forgets every MAC at once, so it floods every
# frame to every port, the mirror port included.
for ns in sw pbx ph1 ph2 mon; do ip netns add "$TAG-$ns"; done
in_ns sw ip link add br0 type bridge ageing_time 0 stp_state 0
in_ns sw ip link set br0 up

# One port per host: the host end gets a fixed, locally administered MAC
# and an address; the mirror end has no address and sends nothing.
port() {
  ns="$1" mac="$2" addr="$3"
  ip link add "$TAG$ns" type veth peer name "p$TAG$ns"
  ip link set "$TAG$ns" netns "$TAG-$ns"
  ip link set "p$TAG$ns" netns "$TAG-sw"
  in_ns sw ip link set "p$TAG$ns" master br0 up
  in_ns "$ns" ip link set lo up
  in_ns "$ns" ip link set "$TAG$ns" address "$mac" up
  if [ -n "$addr" ]; then in_ns "$ns" ip addr add "$addr/24" dev "$TAG$ns"; fi
}
port pbx 02:53:49:50:00:01 10.77.0.1
port ph1 02:53:49:50:00:11 10.77.0.11
port ph2 02:53:49:50:00:12 10.77.0.12
port mon 02:53:49:50:00:99 ""
in_ns mon sysctl -qw "net.ipv6.conf.${TAG}mon.disable_ipv6=1" 2>/dev/null ||
  true

ip netns exec "$TAG-mon" tcpdump -i "${TAG}mon" -s 0 -U -w "$WORK/capture.pcap" \
  port 5060 2>/dev/null &
PIDS="$PIDS $!"
sleep 1

# A registrar that keeps locations in memory and proxies the rest.
cat >"$WORK/kamailio.cfg" <<'EOF'
#!KAMAILIO
debug=1
log_stderror=yes
children=1
listen=udp:10.77.0.1:5060
listen=tcp:10.77.0.1:5060
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "siputils.so"
loadmodule "textops.so"
request_route {
  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (is_method("REGISTER")) {
    save("location");
    exit;
  }
  if (has_totag()) {
    if (loose_route() || t_check_trans()) t_relay();
    exit;
  }
  if (is_method("INVITE")) record_route();
  if (!lookup("location")) {
    sl_send_reply("404", "Not Found");
    exit;
  }
  t_relay();
}
EOF
ip netns exec "$TAG-pbx" kamailio -f "$WORK/kamailio.cfg" -DD -E \
  -Y "$WORK" -P "$WORK/kamailio.pid" 2>"$WORK/kamailio.log" &
PIDS="$PIDS $!"
sleep 1

# A phone: registers once for an hour, plays a sine as its microphone and
# writes what it hears to a file that is thrown away.
phone() {
  name="$1" user="$2" addr="$3" transport="$4"
  mkdir -p "$WORK/$name"
  cat >"$WORK/$name/config" <<EOF
sip_listen $addr:5060
audio_source ausine,440
audio_player aufile,$WORK/$name/heard.wav
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module account.so
module menu.so
EOF
  echo "<sip:$user@10.77.0.1;transport=$transport>;regint=3600" \
    >"$WORK/$name/accounts"
}
phone ph1 1001 10.77.0.11 udp
phone ph2 1002 10.77.0.12 tcp

ip netns exec "$TAG-ph2" baresip -f "$WORK/ph2" -t 12 >"$WORK/ph2.log" 2>&1 &
PIDS="$PIDS $!"
sleep 1
ip netns exec "$TAG-ph1" baresip -f "$WORK/ph1" -t 8 \
  -e "/dial sip:1002@10.77.0.1" >"$WORK/ph1.log" 2>&1 &
PIDS="$PIDS $!"
# Phone 1 quits after 8 s (CANCEL, unregister), phone 2 after 12 s.
sleep 13

for pid in $PIDS; do kill "$pid" 2>/dev/null || true; done
sleep 1
PIDS=""
mkdir -p "$(dirname "$OUT")"
cp "$WORK/capture.pcap" "$OUT"
echo "wrote $OUT"
