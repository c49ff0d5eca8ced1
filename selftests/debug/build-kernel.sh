#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh [--check] [CACHE]
#
# Builds prr's debug kernel (KASAN, kmemleak, lockdep, ...; see
# docs/debug-kernel.md) from Debian's linux-source-6.1 in CACHE (default
# $PRR_DEBUG_CACHE or /var/cache/prr-debug-kernel), outside the repository:
#
#   CACHE/linux-source-6.1/     the build tree (make -C it M=... builds prr)
#   CACHE/root/lib/modules/KREL modules_install of it (modules.builtin, the
#                               guest's modprobe reads it; see run-debug.sh)
#   CACHE/bzImage, CACHE/krel   the kernel image and its release
#   CACHE/build.log             the build's output, with the wall time
#   CACHE/stamp                 hashes of the inputs of the finished build
#
# The config is x86_64_defconfig + kvm_guest.config + selftests/debug.config
# (the fragment), modules other than prr turned off (mod2noconfig), then
# olddefconfig; the build fails when any line of the fragment did not survive.
# Nothing is rebuilt when the stamp matches the tarball, the fragment and
# RECIPE below; --check only tells (exit status 0: the cache is current).
# The compiler runs under "nice -n 19" with -j$PRR_DEBUG_JOBS (default nproc).
# The log's last line gives the build's wall time and the CPU time it took
# (user + system of all compiler runs: the wall time on idle cores is about
# that divided by the number of cores).

set -eu -o pipefail

# Bump when a change here changes the kernel that comes out (the configure
# steps, the make targets): the stamp then no longer matches.  Other edits of
# this script leave a cached kernel alone.
RECIPE=1
CHECK=0
if [ "${1:-}" = --check ]; then
	CHECK=1
	shift
fi
REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
CACHE=${1:-${PRR_DEBUG_CACHE:-/var/cache/prr-debug-kernel}}
FRAGMENT=$REPO/selftests/debug.config
TARBALL=${PRR_DEBUG_KSRC:-/usr/src/linux-source-6.1.tar.xz}
TREE=$CACHE/linux-source-6.1
JOBS=${PRR_DEBUG_JOBS:-$(nproc)}
LOG=$CACHE/build.log

die()
{
	echo "build-kernel.sh: $*" >&2
	exit 1
}

log()
{
	printf '%s %s\n' "$(date -u '+%F %T')" "$*" | tee -a "$LOG"
}

inputs()
{
	stat -L -c 'tarball %n %s %Y' "$TARBALL"
	echo "fragment $(sha256sum < "$FRAGMENT")"
	echo "recipe $RECIPE"
}

extract()
{
	[ -f "$TREE/Makefile" ] && return
	[ -r "$TARBALL" ] ||
		die "$TARBALL not found: apt-get install linux-source-6.1"
	log "extracting $TARBALL"
	tar -xJf "$TARBALL" -C "$CACHE"
	[ -f "$TREE/Makefile" ] || die "$TARBALL has no linux-source-6.1/"
}

kmake()
{
	nice -n 19 make -C "$TREE" -j"$JOBS" "$@"
}

configure()
{
	log "configuring: x86_64_defconfig kvm_guest.config $FRAGMENT"
	{
		kmake x86_64_defconfig
		# merge_config.sh: later fragments override earlier ones; -m
		# merges without olddefconfig (done below, after mod2noconfig).
		(cd "$TREE" && scripts/kconfig/merge_config.sh -m .config \
			kernel/configs/kvm_guest.config "$FRAGMENT")
		kmake olddefconfig
		kmake mod2noconfig
		kmake olddefconfig
	} >> "$LOG"
	"$REPO/selftests/debug/check-config.sh" "$FRAGMENT" "$TREE/.config" |
		tee -a "$LOG"
}

build()
{
	local start end krel cpu

	start=$(date +%s)
	log "building with -j$JOBS"
	kmake bzImage modules >> "$LOG" 2>&1 ||
		die "kernel build failed: see $LOG"
	kmake modules_prepare >> "$LOG" 2>&1
	krel=$(kmake -s kernelrelease)
	rm -rf "$CACHE/root"
	kmake INSTALL_MOD_PATH="$CACHE/root" modules_install >> "$LOG" 2>&1 ||
		die "modules_install failed: see $LOG"
	cp "$TREE/arch/x86/boot/bzImage" "$CACHE/bzImage"
	echo "$krel" > "$CACHE/krel"
	end=$(date +%s)
	# Second line of "times": user and system time of the children (not
	# in a $(...) subshell: its children are not the build's).
	times > "$CACHE/times"
	cpu=$(sed -n 2p "$CACHE/times")
	log "built $krel in $((end - start)) s wall time (-j$JOBS, $(nproc) cores; CPU user, system: $cpu)"
}

main()
{
	[ -r "$FRAGMENT" ] || die "no $FRAGMENT"
	if [ -f "$CACHE/stamp" ] && [ -f "$CACHE/bzImage" ] &&
	   [ "$(inputs)" = "$(cat "$CACHE/stamp")" ]; then
		echo "build-kernel.sh: $CACHE is up to date ($(cat "$CACHE/krel"))"
		exit 0
	fi
	if [ "$CHECK" = 1 ]; then
		echo "build-kernel.sh: no current debug kernel in $CACHE (the fragment, the tarball or RECIPE changed, or it was never built)"
		exit 1
	fi
	mkdir -p "$CACHE"
	rm -f "$CACHE/stamp"
	: > "$LOG"
	extract
	configure
	build
	inputs > "$CACHE/stamp"
}

main "$@"
