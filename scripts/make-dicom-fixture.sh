#!/bin/sh
# Generate test/fixtures/public/generated-dicom/dicom-dcmtk-extra.pcap: real
# DICOM upper-layer traffic between dcmtk tools inside a throw-away network
# namespace, captured on its loopback. Run as root on Debian 12 with dcmtk and
# tcpdump installed (apt-get install -y dcmtk tcpdump).
#
# The traffic: a C-ECHO on a non-DICOM port; a C-STORE with a user identity
# (user name and passcode) of a synthetic object whose patient fields hold
# canary strings; the same C-STORE with a 1500-byte loopback MTU so the
# association request spans several TCP segments; and a refused association.
# Patient and credential values are canaries that must never leave a parser.
set -eu

DEFAULT_OUT="$(dirname "$0")/../test/fixtures/public/generated-dicom"
OUT="${1:-$DEFAULT_OUT/dicom-dcmtk-extra.pcap}"
NS="spansight-dicom-$$"
WORK="$(mktemp -d)"

cleanup() {
  if [ -n "${TCPDUMP_PID:-}" ]; then kill "$TCPDUMP_PID" 2>/dev/null || true; fi
  for pid in ${SCP_PIDS:-}; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

in_ns() { ip netns exec "$NS" "$@"; }

# A Secondary Capture object with one 8-bit pixel and canary patient fields.
# UIDs are UUID-derived (2.25 arc, ISO/IEC 9834-8), fixed for repeatability.
cat >"$WORK/object.dump" <<'EOF'
(0002,0001) OB 00\01
(0002,0002) UI =SecondaryCaptureImageStorage
(0002,0003) UI [2.25.329800735698586629295641978511506172918]
(0002,0010) UI =LittleEndianExplicit
(0008,0016) UI =SecondaryCaptureImageStorage
(0008,0018) UI [2.25.329800735698586629295641978511506172918]
(0008,0020) DA [20240304]
(0008,0060) CS [OT]
(0010,0010) PN [CANARY-PATIENT-7731]
(0010,0020) LO [CANARY-MRN-7731]
(0010,0030) DA [19700101]
(0020,000d) UI [2.25.113059749145936325402354257176981405696]
(0020,000e) UI [2.25.238225634543417938106744474393826238411]
(0028,0002) US 1
(0028,0004) CS [MONOCHROME2]
(0028,0010) US 1
(0028,0011) US 1
(0028,0100) US 8
(0028,0101) US 8
(0028,0102) US 7
(0028,0103) US 0
(7fe0,0010) OB 00\00
EOF
dump2dcm -q "$WORK/object.dump" "$WORK/object.dcm"

ip netns add "$NS"
in_ns ip link set lo up
mkdir -p "$WORK/store" "$(dirname "$OUT")"

# Background jobs run `ip netns exec` directly (it execs the tool), so $!
# is the tool itself and cleanup can stop it.
ip netns exec "$NS" tcpdump -i lo -s 0 -U -w "$WORK/capture.pcap" tcp \
  2>/dev/null &
TCPDUMP_PID=$!
sleep 1

ip netns exec "$NS" storescp -aet PACS_ARCHIVE -od "$WORK/store" --ignore \
  4242 &
SCP_PIDS="$!"
ip netns exec "$NS" storescp -aet REFUSING_SCP --refuse 11113 &
SCP_PIDS="$SCP_PIDS $!"
sleep 1

# C-ECHO on a non-DICOM port with a larger maximum PDU.
in_ns echoscu -aet ECHO_MODALITY -aec PACS_ARCHIVE -pdu 32768 \
  127.0.0.1 4242
# A C-STORE with a user identity in clear, type 2 (user name and passcode),
# whose data set carries the canary patient name.
in_ns storescu -aet CT_SCANNER_01 -aec PACS_ARCHIVE \
  -usr CANARY-USER-7731 -pwd CANARY-PASS-7731 \
  127.0.0.1 4242 "$WORK/object.dcm"
# The same without credentials and with a small MTU: the 128-context
# request spans several segments.
in_ns ip link set lo mtu 1500
in_ns storescu -aet SEGMENTED_SCU -aec PACS_ARCHIVE \
  127.0.0.1 4242 "$WORK/object.dcm"
in_ns ip link set lo mtu 65536
# Refused association: A-ASSOCIATE-RJ.
in_ns echoscu -aet ECHO_MODALITY -aec REFUSING_SCP 127.0.0.1 11113 || true

sleep 1
kill "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null || true
TCPDUMP_PID=""
cp "$WORK/capture.pcap" "$OUT"
echo "wrote $OUT"
