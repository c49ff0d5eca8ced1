#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside the test VM (selftests/vm/run.sh KREL tests/pkg/guest-modprobe.sh)
# after the packages were installed on the host: the module dkms built from
# prr-dkms loads with modprobe, and the packaged prrctl configures it.

set -eu

krel=$(uname -r)
modprobe prr
have=$(modinfo -n prr)
case "$have" in
/lib/modules/"$krel"/updates/dkms/prr.ko*) ;;
*)	echo "modprobe loaded $have, not the dkms module"; exit 1 ;;
esac
/usr/sbin/prrctl add-cpe 192.0.2.1 port-value 0x0400 port-mask 0x1400 local
/usr/sbin/prrctl show | grep -q '^192.0.2.1 port-value 0x0400 port-mask 0x1400 local' ||
	{ echo "the packaged prrctl does not show the entry"; exit 1; }
rmmod prr
echo "guest: $krel loaded $have and prrctl configured it"
