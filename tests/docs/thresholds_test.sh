#!/usr/bin/env bash
# The documents generated from the threshold list (user/correlate/
# thresholds.h) are what is committed: deploy/hydrascope.conf.example, its
# copy among the fuzz seeds and the README's table. An edit of one of them
# alone (not of the list, then `make thresholds-docs`) fails here. Ends
# with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
GEN=build/gen-thresholds
pass=0
fail=0

# same "what" generated committed: equal, or FAIL with the diff
same() {
	local d
	if d=$(diff -u "$2" "$3"); then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $1 differs from the list (make thresholds-docs):"
		printf '%s\n' "$d" | head -20
	fi
}

if [ ! -x "$GEN" ]; then
	echo "FAIL $GEN not built (make $GEN)"
	echo "0 passed, 1 failed"
	exit 1
fi
conf=$(mktemp) table=$(mktemp) seed=$(mktemp) readme=$(mktemp)
trap 'rm -f "$conf" "$table" "$seed" "$readme"' EXIT

"$GEN" conf > "$conf"
same deploy/hydrascope.conf.example "$conf" deploy/hydrascope.conf.example

# the fuzz seed is the example behind the byte that picks the config parser
{ printf '\002'; cat "$conf"; } > "$seed"
same tests/fuzz/corpus/config/corr-example "$seed" tests/fuzz/corpus/config/corr-example

"$GEN" readme > "$table"
sed -n '/^<!-- thresholds:/,/^<!-- end of thresholds/{//!p}' README.md > "$readme"
same "README.md's threshold table" "$table" "$readme"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
