# shellcheck shell=bash
# Counters and checks shared by the live tests; source it after
# tools/testbed.sh. Every test ends with finish: "N passed, N failed".
pass=0
fail=0

# check "what" command...: the command's status is the verdict
check() {
	local what=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $what"
	fi
}

# a failure that is not a command's status
flunk() {
	fail=$((fail + 1))
	echo "FAIL $*"
}

# finish [teardown]: clean up, print the summary line, exit with the verdict
finish() {
	${1:-testbed_down}
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
	exit $?
}

# bring the test bed up (and tear it down on any exit), or finish failed
testbed_start() {
	if ! testbed_up; then
		flunk "test bed did not come up"
		finish
	fi
	trap testbed_down EXIT
}
