# SPDX-License-Identifier: GPL-2.0
#
# Counting the results of a nested KTAP document, for the scripts that sum up
# suites (selftests/run-all.sh, selftests/debug/run-debug.sh).

# Prints "passed failed skipped" leaf counts of the KTAP document on stdin:
# result lines with no nested results of their own, at any depth
# (depth = indentation / 2).  A result with nested results counts as one
# failed leaf only when it failed while none of its nested results did (a
# crash, a timeout, a bad plan).
count_leaves()
{
	awk '
	function mark_ancestors(d,   k) { for (k = 0; k < d; k++) subfail[k]++ }
	/^ *(not )?ok [0-9]+/ {
		match($0, /^ */)
		d = int(RLENGTH / 2)
		line = substr($0, RLENGTH + 1)
		failed = line ~ /^not ok/
		skipped = toupper(line) ~ /#[ \t]*SKIP/
		if (haschild[d]) {
			if (failed && !skipped && !subfail[d]) {
				fail++
				mark_ancestors(d)
			}
		} else if (skipped) {
			skip++
		} else if (failed) {
			fail++
			mark_ancestors(d)
		} else {
			pass++
		}
		for (k in haschild)
			if (k + 0 >= d) { haschild[k] = 0; subfail[k] = 0 }
		for (k = 0; k < d; k++)
			haschild[k] = 1
	}
	END { printf "%d %d %d\n", pass, fail, skip }'
}
