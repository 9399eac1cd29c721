# shellcheck shell=bash
# Checks shared by the live tests; source it after tools/testbed.sh.
# Every test ends with finish: "N passed, N failed".
# shellcheck source=tests/lib/checks.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/checks.sh"

# finish [teardown]: clean up, print the summary line, exit with the verdict
finish() {
	${1:-testbed_down}
	summary
	exit $?
}

# bring the test bed up (and tear it down on any exit), or finish failed
testbed_start() {
	if ! testbed_up; then
		flunk "test bed did not come up"
		finish
	fi
	clean_up_on_exit testbed_down
}
