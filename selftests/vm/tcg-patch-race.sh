#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Guest script reproducing why run.sh runs QEMU with one TCG thread:
#
#   PRR_VM_TCG_THREAD=multi selftests/vm/run.sh 6.12.117+deb12-amd64 \
#	selftests/vm/tcg-patch-race.sh
#
# pktgen (xmit_mode netif_receive) runs through __netif_receive_skb_core() on
# the last CPU, while CPU 0 adds and removes a clsact qdisc: each turns
# ingress_needed_key on or off, and text_poke_bp() patches the static branch
# in that function.  With a thread per vCPU the guest has died of
# "Oops: int3" in __netif_receive_skb_core() within 30-140 s (6.12, prr not
# loaded); with one thread, 900 toggles passed.  Exit status 0: no oops
# after PRR_TOGGLES (default 300) toggles; a panic ends the VM (run.sh 125).
#
# On 6.12 only: 6.1's pktgen with "count 0" keeps its CPU from ever passing
# an RCU quiescent state, and the qdisc changes wait for one.

set -u
TOGGLES=${PRR_TOGGLES:-300}
PG=/proc/net/pktgen

pg()
{
	echo "$2" > "$PG/$1" || { echo "pktgen: '$2' refused" >&2; exit 1; }
}

modprobe -a pktgen dummy || exit 1
ip link add in0 type dummy && ip link set in0 up || exit 1
thread=kpktgend_$(($(nproc) - 1))
pg "$thread" rem_device_all
pg "$thread" "add_device in0"
for cmd in "xmit_mode netif_receive" "count 0" "delay 0" "pkt_size 64" \
	   "dst_mac $(cat /sys/class/net/in0/address)" \
	   "dst_min 192.0.2.5" "dst_max 192.0.2.5"; do
	pg in0 "$cmd"
done
echo start > "$PG/pgctrl" &
until grep -q '^Current' "$PG/in0"; do
	sleep 0.1
done

for _ in $(seq "$TOGGLES"); do
	taskset -c 0 tc qdisc add dev lo clsact &&
		taskset -c 0 tc qdisc del dev lo clsact || exit 1
done
echo stop > "$PG/pgctrl"
wait
if dmesg | grep -E 'Oops|BUG:'; then
	exit 1
fi
echo "$TOGGLES toggles under pktgen traffic, no oops"
