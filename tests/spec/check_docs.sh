#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check_docs.sh REPO: the man page and the bash completion know every command
# and option that "prrctl help" lists, the man page renders without groff
# warnings, and the completion completes.  KTAP output; exit 0 iff all pass.

set -u
REPO=${1:-.}
PRRCTL=$REPO/tools/prrctl/prrctl
MAN=$REPO/tools/man/prrctl.8
COMPLETION=$REPO/tools/completion/prrctl
N=0
FAILED=0

result()
{
	N=$((N + 1))
	if [ "$1" = ok ]; then
		echo "ok $N $2"
	else
		echo "not ok $N $2"
		FAILED=$((FAILED + 1))
	fi
}

check()
{
	local name=$1

	shift
	if "$@" >/dev/null 2>&1; then result ok "$name"; else result fail "$name"; fi
}

# The command words of the "Commands:" section of prrctl help.
help_commands()
{
	"$PRRCTL" help | sed -n '/^Commands:/,/^Options:/p' |
		sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u
}

# The long options of the "Options:" section (-json, -batch ...).
help_options()
{
	"$PRRCTL" help | sed -n '/^Options:/,/^$/p' |
		grep -o -- '-[a-zA-Z]\{2,\}' | sort -u
}

man_has_command()
{
	grep -Eq "^\.(B|BI|BR) \"?$1( |\"|$)" "$MAN"
}

man_has_option()
{
	grep -Eq "^\.(B|BR) .*\\\\$1( |\"|$)|^\.B \\\\$1$" "$MAN"
}

completion_has()
{
	grep -q -- "[\" ]$1[\" ]" "$COMPLETION"
}

# Completes "prrctl WORDS..." (the last word being completed); prints the
# candidates on one line.
complete_words()
{
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		 _prrctl; echo "${COMPREPLY[*]}"' _ "$COMPLETION" prrctl "$@"
}

main()
{
	local cmd opt

	echo "KTAP version 1"
	[ -x "$PRRCTL" ] || { echo "Bail out! $PRRCTL not built"; exit 1; }
	for cmd in $(help_commands); do
		check "man page documents $cmd" man_has_command "$cmd"
		check "completion offers $cmd" completion_has "$cmd"
	done
	for opt in $(help_options); do
		check "man page documents $opt" man_has_option "$opt"
		check "completion offers $opt" completion_has "$opt"
	done
	check "man page renders without warnings" \
		test -z "$(groff -man -ww -z "$MAN" 2>&1)"
	check "completion: 'prrctl sh' -> show" \
		test "$(complete_words sh)" = show
	check "completion: 'prrctl set source-check ' -> on off" \
		test "$(complete_words set source-check '')" = "on off"
	check "completion: 'prrctl -n x add-cpe 192.0.2.1 ' offers port-value" \
		grep -qw port-value <<< "$(complete_words -n x add-cpe 192.0.2.1 '')"
	echo "1..$N"
	echo "# docs: pass:$((N - FAILED)) fail:$FAILED"
	[ "$FAILED" -eq 0 ]
}

main
