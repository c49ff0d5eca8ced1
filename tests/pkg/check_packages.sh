#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check_packages.sh: builds the Debian packages (dpkg-buildpackage -b from a
# copy of the tracked files), installs them on this host, checks that dkms
# built the module for every kernel that has headers and that each kernel's
# VM loads it with modprobe, then purges them.  KTAP on stdout; exit 0 iff
# all passed.  Run as root, on the host (it installs packages).
#
# The packages and the build log go to build/deb/.  A prr module that
# "make dkms-install" had put in dkms before is put back afterwards.

set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
OUT=$REPO/build/deb
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO/dkms.conf")
# shellcheck source=../../selftests/lib/ktap.sh
. "$REPO/selftests/lib/ktap.sh"

kernels()
{
	local d

	for d in /lib/modules/*/build; do
		[ -e "$d" ] && [ -r "/boot/vmlinuz-$(basename "$(dirname "$d")")" ] &&
			basename "$(dirname "$d")"
	done
}

build_packages()
{
	local src=$OUT/src

	rm -rf "$OUT" && mkdir -p "$src"
	git -C "$REPO" ls-files -z | (cd "$REPO" && xargs -0 tar -cf -) |
		tar -xf - -C "$src"
	(cd "$src" && dpkg-buildpackage -us -uc -b) > "$OUT/build.log" 2>&1 ||
		{ tail -n 20 "$OUT/build.log"; return 1; }
	ls "$OUT/prr-dkms_${VERSION}_all.deb" "$OUT"/prrctl_"${VERSION}"_*.deb
}

versions_agree()
{
	local changelog

	changelog=$(dpkg-parsechangelog -l "$REPO/debian/changelog" -S Version)
	[ "$changelog" = "$VERSION" ] ||
		{ echo "debian/changelog $changelog, dkms.conf $VERSION"; return 1; }
}

install_packages()
{
	apt-get install -y -q "$OUT/prr-dkms_${VERSION}_all.deb" \
		"$OUT"/prrctl_"${VERSION}"_*.deb
}

dkms_built()
{
	local krel=$1

	dkms status "prr/$VERSION" -k "$krel" | grep -q ': installed' ||
		{ dkms status; return 1; }
	modinfo -F version /lib/modules/"$krel"/updates/dkms/prr.ko* |
		grep -qx "$VERSION" || return 1
	# Secure Boot: dkms signs with its MOK (/var/lib/dkms/mok.pub).
	modinfo -F signer /lib/modules/"$krel"/updates/dkms/prr.ko* |
		grep -qx "DKMS module signing key"
}

tool_installed()
{
	/usr/sbin/prrctl -V | grep -qx "prrctl $VERSION" &&
	[ "$(man -w prrctl)" = /usr/share/man/man8/prrctl.8.gz ] &&
	[ -f /usr/share/bash-completion/completions/prrctl ] &&
	[ -L /etc/systemd/system/multi-user.target.wants/prr-restore.service ] &&
	systemd-analyze verify /lib/systemd/system/prr-restore.service
}

vm_modprobe()
{
	"$REPO/selftests/vm/run.sh" "$1" tests/pkg/guest-modprobe.sh |
		grep '^guest:\|^modprobe\|packaged\|^prrvm-exit'
	return "${PIPESTATUS[0]}"
}

purged()
{
	apt-get purge -y -q prrctl prr-dkms >/dev/null || return 1
	[ -z "$(dkms status prr)" ] || { dkms status prr; return 1; }
	! ls /lib/modules/*/updates/dkms/prr.ko* 2>/dev/null &&
	[ ! -e /usr/sbin/prrctl ]
}

main()
{
	local krel dev_installed

	[ "$(id -u)" -eq 0 ] || { ktap_fail "runs as root"; ktap_finish; }
	dev_installed=$(dkms status prr 2>/dev/null)
	ktap_check "dpkg-buildpackage builds prr-dkms and prrctl" build_packages
	ktap_check "debian/changelog and dkms.conf give version $VERSION" versions_agree
	ktap_check "both packages install" install_packages
	for krel in $(kernels); do
		ktap_check "dkms built, signed and installed the module for $krel" \
			dkms_built "$krel"
	done
	ktap_check "prrctl, man page, completion and enabled systemd unit installed" \
		tool_installed
	for krel in $(kernels); do
		ktap_check "the $krel VM loads the packaged module with modprobe" \
			vm_modprobe "$krel"
	done
	ktap_check "purging removes the module from dkms and every file" purged
	[ -z "$dev_installed" ] ||
		make -s -C "$REPO" dkms-install >/dev/null 2>&1 ||
		echo "# could not put the dkms-install module back"
	ktap_finish
}

main "$@"
