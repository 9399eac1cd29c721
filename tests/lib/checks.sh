# shellcheck shell=bash
# Counters and verdicts shared by the shell tests. Every test ends with
# the line the runner reads, "N passed, N failed" (summary; live tests:
# finish in tests/live/lib.sh).
pass=0
fail=0

# ok / flunk "why": a verdict the test reached itself
ok() {
	pass=$((pass + 1))
}

flunk() {
	fail=$((fail + 1))
	echo "FAIL $*"
}

# check "what" command...: the command's status is the verdict
check() {
	local what=$1
	shift
	if "$@"; then ok; else flunk "$what"; fi
}

# check_quiet "what" command...: the same, the command's output discarded
check_quiet() {
	local what=$1
	shift
	if "$@" > /dev/null 2>&1; then ok; else flunk "$what"; fi
}

# clean_up_on_exit FUNC (tools/cleanup.sh)
# shellcheck source=tools/cleanup.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../tools/cleanup.sh"

# summary: print the line; the status is the verdict (a test that checked
# nothing has not passed)
summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
}
