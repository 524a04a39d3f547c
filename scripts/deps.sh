#!/bin/sh
# deps.sh: install, on a Debian 12 machine as root, the system packages that
# ikectx's tests and its kernel lab need. Idempotent: when everything is
# present it only checks and exits; `apt-get update` runs only when a package
# is missing.
set -eu

PKGS="qemu-system-x86 busybox-static xz-utils kmod iproute2 tshark libpcap-dev strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins vagrant shellcheck"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "deps: all present ($PKGS)"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run this script as root to install them" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing
echo "deps: done"
