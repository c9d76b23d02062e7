#!/usr/bin/env bash
# Installs the Debian packages spansight needs to build, test and benchmark.
# Idempotent: packages already present are left alone, so a second run is fast.
set -euo pipefail

# libpcap-dev builds the capture binding; the rest are real peers used by the
# tests (tshark, mosquitto, tcpreplay) and the benchmark (tcpdump, p0f,
# ndpiReader). iproute2 and ethtool serve the live-capture tests and scripts;
# dcmtk makes real DICOM traffic for scripts/make-dicom-fixture.sh; systemd
# provides systemd-analyze and systemd-notify for test/deploy and sd-notify;
# netsniff-ng's trafgen drives `npm run bench:live`; openssl makes the test
# PKI and python3 receives sd_notify datagrams in a test.
PACKAGES=(
  libpcap-dev tshark tcpdump tcpreplay mosquitto p0f libndpi-bin
  iproute2 ethtool dcmtk systemd netsniff-ng openssl python3
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing (${missing[*]}); run this script as root" >&2
  exit 1
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" |
  debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
