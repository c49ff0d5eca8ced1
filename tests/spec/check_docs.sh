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
# shellcheck source=../../selftests/lib/ktap.sh
. "$REPO/selftests/lib/ktap.sh"

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

	[ -x "$PRRCTL" ] || { ktap_fail "$PRRCTL is built"; ktap_finish; }
	for cmd in $(help_commands); do
		ktap_check "man page documents $cmd" man_has_command "$cmd"
		ktap_check "completion offers $cmd" completion_has "$cmd"
	done
	for opt in $(help_options); do
		ktap_check "man page documents $opt" man_has_option "$opt"
		ktap_check "completion offers $opt" completion_has "$opt"
	done
	ktap_check "man page renders without warnings" \
		test -z "$(groff -man -ww -z "$MAN" 2>&1)"
	ktap_check "completion: 'prrctl sh' -> show" \
		test "$(complete_words sh)" = show
	ktap_check "completion: 'prrctl set source-check ' -> on off" \
		test "$(complete_words set source-check '')" = "on off"
	ktap_check "completion: 'prrctl -n x add-cpe 192.0.2.1 ' offers port-value" \
		grep -qw port-value <<< "$(complete_words -n x add-cpe 192.0.2.1 '')"
	ktap_finish
}

main
