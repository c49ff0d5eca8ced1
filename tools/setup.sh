#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh: installs every Debian package prr needs to build, test and demo
# (run as root on Debian 12).  Idempotent: when all packages are already
# installed it only says so; otherwise it runs apt-get update and installs
# what is missing.
#
#   tools/setup.sh && make test

set -eu

PACKAGES=(
	# build: module (both kernels), prrctl, selftest programs
	build-essential pkg-config git kmod dkms libmnl-dev libjson-c-dev
	# kernels and headers: 6.1 LTS (Debian 12's default) and 6.12 LTS
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	# kselftest_harness.h and checkpatch.pl come from the kernel source
	linux-source-6.1
	# the debug kernel of "make test-debug" (docs/debug-kernel.md)
	flex bison libelf-dev bc libssl-dev
	# static checks
	sparse clang libclang-rt-14-dev
	# man page check (groff -ww); Debian packages (tests/pkg)
	groff-base debhelper dh-dkms systemd
	# test VM
	qemu-system-x86 busybox-static cpio xz-utils
	# tools the tests and the demo run inside the VM
	iproute2 nftables tcpdump jq iputils-ping util-linux procps
	python3 python3-scapy python3-yaml
	# the seed testbed (make testbed)
	python3-libtorrent opentracker
)

die()
{
	echo "setup.sh: $*" >&2
	exit 1
}

check_system()
{
	[ "$(id -u)" -eq 0 ] || die "must run as root (try: sudo $0)"
	[ -r /etc/os-release ] || die "not a Debian system (no /etc/os-release)"
	# shellcheck disable=SC1091
	. /etc/os-release
	[ "${ID:-}" = debian ] ||
		die "needs Debian 12 (bookworm), found ${PRETTY_NAME:-unknown}"
	[ "${VERSION_ID:-}" = 12 ] ||
		echo "setup.sh: warning: made for Debian 12, found ${PRETTY_NAME:-?}" >&2
}

# Prints the packages of PACKAGES that are not fully installed.
missing_packages()
{
	local p status

	for p in "${PACKAGES[@]}"; do
		status=$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null) ||
			status=
		[ "$status" = installed ] || echo "$p"
	done
}

main()
{
	local missing

	check_system
	mapfile -t missing < <(missing_packages)
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "setup.sh: all ${#PACKAGES[@]} packages already installed"
		return
	fi
	echo "setup.sh: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" ||
		die "apt-get install failed"
	mapfile -t missing < <(missing_packages)
	[ "${#missing[@]}" -eq 0 ] || die "still not installed: ${missing[*]}"
	echo "setup.sh: done"
}

main "$@"
