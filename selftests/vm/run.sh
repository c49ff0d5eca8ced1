#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh KREL SCRIPT [ARGS...]
#
# Boots Debian kernel KREL (/boot/vmlinuz-KREL) in QEMU (TCG) and runs
# "bash SCRIPT ARGS..." in it as root, cwd = repository root, then powers off.
# The guest sees the host's root file system read-only (so every host tool and
# /lib/modules, including dkms-installed modules, is there), fresh tmpfs on
# /tmp, /run, /var/tmp and /root, and this repository writable at the same
# absolute path as on the host, so files the script writes under the checkout
# are on the host afterwards.
#
# A SCRIPT under /tmp, /run, /var/tmp or /root (tmpfs in the guest) is copied
# under build/vm/ first.  The kernel command line carries only the checkout
# path and a run id; the job (environment, cd, script, arguments) is a file
# build/vm/job-ID.sh, deleted afterwards.
#
# The console is streamed to stdout and saved in build/vm/KREL/console.log
# (KREL: or PRR_VM_NAME).
# Exit status: the guest script's own, read from the marker line the guest's
# init prints; 125 when the guest never printed it (kernel panic, hang, VM
# timeout) or the VM could not be started, with a message on stderr.
#
# Environment:
#   PRR_*, V           passed through to the guest script (e.g. PRR_TESTS, a
#                      filter for selftests/guest-run.sh, and V, verbosity)
#   PRR_VM_TIMEOUT     seconds before the VM is killed (default 3000 = 50 min)
#   PRR_VM_NAME        the directory under build/vm/ for the console and the
#                      initramfs (default KREL): two VMs of one kernel at
#                      once need two names
#   PRR_VM_SMP         virtual CPUs (default 2)
#   PRR_VM_TCG_THREAD  single (default) or multi: QEMU's -accel tcg,thread=.
#                      One host thread runs all vCPUs in turn.  With one
#                      thread per vCPU (multi), a vCPU can still execute the
#                      int3 the kernel's text_poke_bp() put into code another
#                      vCPU has just finished patching (a static key turned on
#                      or off): "Oops: int3", kernel panic, prr loaded or not
#                      (selftests/vm/tcg-patch-race.sh reproduces it)
#   PRR_VM_ICOUNT      empty (default) or N, 0-10: QEMU's -icount shift=N,
#                      sleep=off.  The guest's clock then advances 2^N ns
#                      per instruction executed, whatever the host does: its
#                      timings count instructions (not caches, not TLB
#                      misses) and do not move with the host's load.  Needs
#                      PRR_VM_TCG_THREAD=single and PRR_VM_SMP=1 (with two
#                      vCPUs, 6.1 stops at "Booting SMP configuration")
#   PRR_VM_MEM         memory in MiB (default 1536)
#   PRR_VM_APPEND      extra kernel parameters (e.g. mitigations=off)
#   PRR_VM_KERNEL      kernel image to boot instead of /boot/vmlinuz-KREL (a
#                      kernel built outside Debian's packages, e.g. the debug
#                      kernel of selftests/debug/); KREL must be its release
#   PRR_VM_MODROOT     directory with lib/modules/KREL of that kernel (from
#                      "make modules_install INSTALL_MOD_PATH=DIR"): the
#                      initramfs takes its modules from there, and the guest
#                      sees DIR/lib/modules at /lib/modules (so modprobe finds
#                      modules.builtin); default: the host's /lib/modules.
#                      DIR must be on the host's root file system, outside
#                      /tmp, /run, /var/tmp and /root (tmpfs in the guest)

set -eu

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
VM_TIMEOUT=${PRR_VM_TIMEOUT:-3000}
VM_SMP=${PRR_VM_SMP:-2}
TCG_THREAD=${PRR_VM_TCG_THREAD:-single}
ICOUNT=${PRR_VM_ICOUNT:-}
VM_MEM=${PRR_VM_MEM:-1536}
KERNEL_ARGS=${PRR_VM_APPEND:-}
VM_KERNEL=${PRR_VM_KERNEL:-}
VM_MODROOT=${PRR_VM_MODROOT:-}
MARKER=prrvm-exit
NO_MARKER_STATUS=125

die()
{
	echo "run.sh: $*" >&2
	exit "$NO_MARKER_STATUS"
}

check_args()
{
	local krel=$1

	if [ -n "${PRR_VM_KERNEL:-}" ]; then
		[ -r "$VM_KERNEL" ] ||
			die "PRR_VM_KERNEL: no readable kernel image $VM_KERNEL"
	fi
	[ -r "$VM_KERNEL" ] ||
		die "no readable kernel image $VM_KERNEL (apt-get install linux-image-$krel)"
	[ -z "$VM_MODROOT" ] || [ -d "$VM_MODROOT/lib/modules/$krel" ] ||
		die "PRR_VM_MODROOT: no $VM_MODROOT/lib/modules/$krel"
	case "$VM_MODROOT" in
	*[[:space:]]*)
		die "PRR_VM_MODROOT must not contain spaces: $VM_MODROOT" ;;
	esac
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 not found: run tools/setup.sh"
	case "$REPO" in
	*[[:space:]]*)
		die "the checkout path must not contain spaces: $REPO" ;;
	esac
	case "${PRR_VM_NAME-x}" in
	'' | */* | . | ..)
		die "PRR_VM_NAME must be a directory name, not '${PRR_VM_NAME:-}'" ;;
	esac
	case "$VM_TIMEOUT" in
	''|*[!0-9]*)
		die "PRR_VM_TIMEOUT must be a number of seconds, not '$VM_TIMEOUT'" ;;
	esac
	case "$TCG_THREAD" in
	single | multi) ;;
	*) die "PRR_VM_TCG_THREAD must be single or multi, not '$TCG_THREAD'" ;;
	esac
	case "$ICOUNT" in
	'' | [0-9] | 10) ;;
	*) die "PRR_VM_ICOUNT must be empty or a shift of 0 to 10, not '$ICOUNT'" ;;
	esac
	if [ -n "$ICOUNT" ] &&
	   { [ "$TCG_THREAD" != single ] || [ "$VM_SMP" != 1 ]; }; then
		die "PRR_VM_ICOUNT needs PRR_VM_TCG_THREAD=single and PRR_VM_SMP=1"
	fi
}

# Prints the path under which the guest finds SCRIPT.  Scripts inside the
# checkout or elsewhere on the host's root are visible as they are; scripts
# under directories the guest replaces with tmpfs are copied next to the job.
guest_script_path()
{
	local script=$1 copy=$2 abs

	abs=$(cd "$(dirname "$script")" && pwd -P)/$(basename "$script")
	case "$abs" in
	"$REPO"/*)
		echo "$abs" ;;
	/tmp/*|/run/*|/var/tmp/*|/root/*|/dev/*)
		cp "$abs" "$copy"
		echo "$copy" ;;
	*)
		echo "$abs" ;;
	esac
}

# Writes the job file the guest's init runs with bash: the passed-through
# environment, cd to the repository root, the script and its arguments.
write_job()
{
	local job=$1 script=$2 var

	shift 2
	{
		echo "# Generated by selftests/vm/run.sh; deleted after the run."
		for var in $(compgen -e | grep -E '^(PRR_[A-Za-z0-9_]*|V)$'); do
			printf 'export %s=%q\n' "$var" "${!var}"
		done
		printf 'cd %q || exit 126\n' "$REPO"
		printf 'exec bash %q' "$script"
		[ $# -eq 0 ] || printf ' %q' "$@"
		printf '\n'
	} > "$job"
}

# Runs QEMU with the console written straight to LOG (a pipe reader that
# lags behind makes QEMU's serial port drop characters) and streams LOG to
# stdout meanwhile; returns the exit status of timeout(1) around QEMU.
boot()
{
	local krel=$1 initramfs=$2 id=$3 log=$4 rc=0

	local share=security_model=none,multidevs=remap
	local cmdline="console=ttyS0 panic=-1 quiet${KERNEL_ARGS:+ $KERNEL_ARGS}"

	cmdline+=" prrvm_repo=$REPO prrvm_id=$id"
	[ -z "$VM_MODROOT" ] || cmdline+=" prrvm_modroot=$VM_MODROOT"
	: > "$log"
	timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
		-machine q35 -accel "tcg,thread=$TCG_THREAD" \
		${ICOUNT:+-icount "shift=$ICOUNT,sleep=off"} \
		-cpu max -m "$VM_MEM" -smp "$VM_SMP" \
		-nographic -no-reboot -nic none \
		-kernel "$VM_KERNEL" -initrd "$initramfs" \
		-virtfs "local,path=/,mount_tag=root,readonly=on,$share" \
		-virtfs "local,path=${REPO//,/,,},mount_tag=repo,$share" \
		-append "$cmdline" \
		< /dev/null >> "$log" 2>&1 &
	QEMU_PID=$!
	# In the background too: bash runs traps (stop_vm) only while it is
	# in "wait", not while a foreground pipeline runs.
	tail -s 0.2 -n +1 -f --pid="$QEMU_PID" "$log" | clean_console &
	wait "$QEMU_PID" || rc=$?
	QEMU_PID=
	wait
	return "$rc"
}

# Drops carriage returns and terminal control sequences from console output.
clean_console()
{
	sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g'
}

# timeout(1) runs QEMU in its own process group, out of reach of ^C.
# shellcheck disable=SC2317 # called by trap
stop_vm()
{
	[ -z "${QEMU_PID:-}" ] || kill "$QEMU_PID" 2>/dev/null
	exit 130
}

main()
{
	local krel script dir id initramfs log rc=0 status

	[ $# -ge 2 ] || die "usage: run.sh KREL SCRIPT [ARGS...]"
	krel=$1
	script=$2
	shift 2
	[ -f "$script" ] || die "no such guest script: $script"
	VM_KERNEL=${VM_KERNEL:-/boot/vmlinuz-$krel}
	check_args "$krel"
	[ -z "$VM_MODROOT" ] || VM_MODROOT=$(cd "$VM_MODROOT" && pwd -P)

	dir=$REPO/build/vm/${PRR_VM_NAME:-$krel}
	mkdir -p "$dir"
	initramfs=$dir/initramfs.cpio.gz
	MODROOT=$VM_MODROOT "$REPO/selftests/vm/mkinitramfs.sh" "$krel" "$initramfs" ||
		die "could not build the initramfs for $krel"

	id=$(date +%s)-$$-$RANDOM
	JOB=$REPO/build/vm/job-$id.sh
	log=$dir/console.log
	trap 'rm -f "$JOB" "$JOB.script"' EXIT
	trap stop_vm INT TERM
	write_job "$JOB" "$(guest_script_path "$script" "$JOB.script")" "$@"

	boot "$krel" "$initramfs" "$id" "$log" || rc=$?
	clean_console < "$log" > "$log.tmp" && mv "$log.tmp" "$log"
	status=$(grep -a -o "$MARKER $id status=[0-9]*" "$log" | tail -n 1)
	if [ -z "$status" ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			die "$krel: the VM did not finish within $VM_TIMEOUT s (PRR_VM_TIMEOUT); console: $log"
		fi
		die "$krel: the guest stopped without reporting an exit status (QEMU exit $rc: kernel panic or init failure?); console: $log"
	fi
	exit "${status##*status=}"
}

main "$@"
