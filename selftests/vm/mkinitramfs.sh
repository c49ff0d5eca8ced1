#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh KREL OUT
#
# Builds the initramfs that boots Debian kernel KREL in QEMU for prr's
# selftests: a static busybox (with a symlink per applet), selftests/vm/init as
# /init, and the modules the init needs to mount the host's file systems over
# virtio 9p (virtio_pci, 9pnet_virtio, 9p and their dependencies, decompressed,
# named /mod/NN-name.ko in the order modprobe would insert them).  OUT is a
# gzip'd newc cpio archive.
#
# OUT is rebuilt only when an input changed: OUT.inputs records the kernel
# release, each module file and busybox (path, size, mtime) and the content
# hashes of the init and of this script.
#
# Environment:
#   MODROOT   take the modules from MODROOT/lib/modules/KREL (modprobe -d)
#             instead of /lib/modules/KREL; a kernel with virtio_pci, 9p and
#             9pnet_virtio built in (modules.builtin) needs none

set -eu

VM_DIR=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=${BUSYBOX:-/bin/busybox}
NEEDED_MODULES="virtio_pci 9pnet_virtio 9p"
MODROOT=${MODROOT:-}

die()
{
	echo "mkinitramfs.sh: $*" >&2
	exit 1
}

# Prints the module files to insert for KREL, in order, each once.  Modules
# built into the kernel ("builtin virtio_pci" on 6.12) need nothing.
list_module_files()
{
	local krel=$1 m out all=

	for m in $NEEDED_MODULES; do
		out=$(modprobe ${MODROOT:+-d "$MODROOT"} -S "$krel" \
			--show-depends "$m" 2>&1) ||
			die "modprobe ${MODROOT:+-d $MODROOT }-S $krel --show-depends $m: $out"
		all+="$out"$'\n'
	done
	printf '%s' "$all" | awk '$1 == "insmod" && !seen[$2]++ { print $2 }'
}

describe_inputs()
{
	local krel=$1 modules=$2 f

	echo "krel $krel"
	[ -z "$MODROOT" ] || echo "modroot $MODROOT"
	echo "init $(sha256sum < "$VM_DIR/init")"
	echo "script $(sha256sum < "$VM_DIR/mkinitramfs.sh")"
	stat -L -c 'busybox %n %s %Y' "$BUSYBOX"
	for f in $modules; do
		stat -L -c 'module %n %s %Y' "$f"
	done
}

check_busybox()
{
	[ -x "$BUSYBOX" ] ||
		die "$BUSYBOX not found: apt-get install busybox-static"
	if LC_ALL=C readelf -l "$BUSYBOX" 2>/dev/null |
	   grep -q 'program interpreter'; then
		die "$BUSYBOX is dynamically linked: apt-get install busybox-static"
	fi
}

# Copies one module file to DEST, decompressing it: busybox insmod in the
# initramfs only takes plain .ko files.
copy_module()
{
	local src=$1 dest=$2

	case "$src" in
	*.ko.xz)	xz -dc "$src" > "$dest" ;;
	*.ko.zst)	zstd -qdc "$src" > "$dest" ;;
	*.ko.gz)	gzip -dc "$src" > "$dest" ;;
	*.ko)		cp "$src" "$dest" ;;
	*)		die "unexpected module file $src" ;;
	esac
}

build_tree()
{
	local root=$1 modules=$2 applet f n=0 name

	mkdir -p "$root"/{bin,dev,proc,sys,mnt,mod}
	cp "$BUSYBOX" "$root/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
	done
	install -m 0755 "$VM_DIR/init" "$root/init"
	for f in $modules; do
		n=$((n + 1))
		name=$(basename "$f")
		copy_module "$f" "$root/mod/$(printf '%02d' "$n")-${name%%.ko*}.ko"
	done
}

main()
{
	local krel out modules inputs

	[ $# -eq 2 ] || die "usage: mkinitramfs.sh KREL OUT"
	krel=$1
	out=$2
	if [ -n "$MODROOT" ]; then
		[ -f "$MODROOT/lib/modules/$krel/modules.builtin" ] ||
			die "no modules for kernel $krel in $MODROOT/lib/modules/$krel"
	else
		[ -d "/lib/modules/$krel/kernel" ] ||
			die "no modules for kernel $krel in /lib/modules/$krel"
	fi
	check_busybox
	modules=$(list_module_files "$krel")
	inputs=$(describe_inputs "$krel" "$modules")
	if [ -s "$out" ] && [ -f "$out.inputs" ] &&
	   [ "$inputs" = "$(cat "$out.inputs")" ]; then
		exit 0
	fi
	mkdir -p "$(dirname "$out")"
	WORK=$(mktemp -d "$(dirname "$out")/.initramfs.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	build_tree "$WORK/root" "$modules"
	(cd "$WORK/root" && find . -print0 | LC_ALL=C sort -z |
		cpio --quiet -o -0 -H newc -R 0:0) | gzip -1 > "$WORK/initramfs"
	mv "$WORK/initramfs" "$out"
	printf '%s\n' "$inputs" > "$out.inputs"
}

main "$@"
