#!/bin/sh
# Install every build and test dependency of KRANK from Debian 12 packages.
# Idempotent: one apt-get update, then one install of what is missing.
# Usage: scripts/install-deps.sh [--bench]
# tests/dist: dpkg-dev and debhelper build the .deb, systemd brings
# systemd-analyze for the unit, strace watches krank's system calls,
# python3-yaml and python3-kubernetes (the API schema) check the
# Kubernetes manifests.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config make
libelf-dev libyaml-dev libprotobuf-c-dev protobuf-c-compiler libdpdk-dev
libpciaccess-dev liburcu-dev liburing-dev libzydis-dev libcmocka-dev
clang libclang-rt-14-dev valgrind
iproute2 iputils-ping socat curl ethtool e2fsprogs python3 nftables
libpcap-dev tcpdump pciutils pci.ids
libsystemd-dev
redis-server redis-tools nginx-light
dpkg-dev debhelper dh-autoreconf systemd strace man-db
python3-yaml python3-kubernetes"
# --bench: also what make bench (tests/bench/run) uses beyond the tests:
# gnuplot for the plots, and the programs the benchmarks compare with
# (sockperf and iperf3: tests/bench/bench_net_tools.sh; fio and jq:
# bench_fio.sh cross-checks its O_DIRECT loop with fio).
if [ "${1:-}" = --bench ]; then
	PKGS="$PKGS gnuplot-nox stress-ng sockperf iperf3 fio jq"
fi
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: all dependencies are installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
