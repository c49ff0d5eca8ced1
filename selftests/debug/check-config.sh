#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-config.sh FRAGMENT CONFIG
#
# Fails (exit 1, one line per option) when a line of the config fragment
# FRAGMENT did not survive in the kernel config CONFIG: "CONFIG_X=v" must be
# in CONFIG as it is, "# CONFIG_X is not set" means CONFIG_X must not be set
# there (absent, because its dependencies are off, is fine too).

set -eu

die()
{
	echo "check-config.sh: $*" >&2
	exit 1
}

# Prints the fragment's settings as "NAME VALUE", VALUE "n" for "not set".
fragment_settings()
{
	sed -n -e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(.*\)$/\1 \2/p' \
	       -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1 n/p' "$1"
}

main()
{
	local fragment config name want have bad=0 n=0

	[ $# -eq 2 ] || die "usage: check-config.sh FRAGMENT CONFIG"
	fragment=$1
	config=$2
	[ -r "$fragment" ] || die "no fragment $fragment"
	[ -r "$config" ] || die "no config $config"
	while read -r name want; do
		n=$((n + 1))
		have=$(sed -n "s/^$name=\(.*\)$/\1/p" "$config")
		if [ "$want" = n ]; then
			[ -z "$have" ] && continue
		elif [ "$have" = "$want" ]; then
			continue
		fi
		echo "check-config.sh: $name: fragment wants ${want}, config has ${have:-not set}" >&2
		bad=$((bad + 1))
	done < <(fragment_settings "$fragment")
	if [ "$bad" -gt 0 ]; then
		echo "check-config.sh: $bad of $n fragment options did not survive in $config" >&2
		exit 1
	fi
	echo "check-config.sh: all $n fragment options are in $config"
}

main "$@"
