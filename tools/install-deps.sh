#!/usr/bin/env bash
# Install what natgw needs from Debian 12's archive, only if something is missing.
# Build: DPDK 22.11, meson, cmocka, libbsd, libpcap. Tests: scapy, the lab's clients and
# servers (tools/lab/packages.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pkgs=(build-essential pkg-config meson ninja-build libdpdk-dev dpdk-dev dpdk libbsd-dev
      libcmocka-dev libpcap-dev python3-scapy python3-pyelftools gnuplot-nox
      clang libclang-rt-14-dev)	# fuzz targets (tools/fuzz.sh): libFuzzer/ASan runtimes
if [ -f "$here/lab/packages.txt" ]; then
	while read -r p _; do
		case "$p" in ''|'#'*) ;; *) pkgs+=("$p") ;; esac
	done < "$here/lab/packages.txt"
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "natgw: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
