#!/bin/sh
# Runs every test of a build directory and prints one closing line
# "N passed, N failed".  Usage: tests/run.sh BUILD_DIR [PATTERN]
B=${1:-build}
PAT=${2:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

"$B/mmsim-tests" $PAT | tee "$out"
for f in tests/lua/*.lua; do
	[ -e "$f" ] || continue
	[ -n "$PAT" ] && case "$f" in *"$PAT"*) ;; *) continue ;; esac
	name=lua_$(basename "$f" .lua)
	if log=$("$B/mmsim" run "$f" 2>&1); then
		echo "ok - $name"
	else
		echo "$log" | sed 's/^/# /'
		echo "not ok - $name"
	fi | tee -a "$out"
done
# The experiment command end to end, in its quick form.
[ -z "$PAT" ] && { "$B/mmsim" experiment tag-storage --quick --out "$(mktemp -d)" >/dev/null 2>&1 &&
	echo "ok - cli_experiment_quick" || echo "not ok - cli_experiment_quick"; } | tee -a "$out"
pass=$(grep -c '^ok ' "$out")
fail=$(grep -c '^not ok ' "$out")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
