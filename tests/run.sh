#!/bin/sh
# Runs every test of a build directory and prints one closing line
# "N passed, N failed".  Usage: tests/run.sh BUILD_DIR [PATTERN]
B=${1:-build}
PAT=${2:-}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# The C tests' own exit status counts too: a sanitizer report at exit (a
# leak, say) fails the run even when every test printed "ok".
"$B/mmsim-tests" $PAT > "$out.c" 2>&1
rc=$?
cat "$out.c" | tee "$out"
rm -f "$out.c"
[ "$rc" -eq 0 ] || [ "$(grep -c '^not ok ' "$out")" -gt 0 ] ||
	echo "not ok - mmsim-tests exited with status $rc" | tee -a "$out"
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
# The race scenarios of examples/races (rN_*.lua): nothing found in a few
# hundred schedules with the fixes on, the race found with fix Rn off.
[ -z "$PAT" ] && for f in examples/races/r[0-9]*_*.lua; do
	[ -e "$f" ] || continue
	n=$(basename "$f" | sed 's/^r\([0-9]*\)_.*/\1/')
	name=cli_explore_$(basename "$f" .lua)
	if "$B/mmsim" explore "$f" --runs 200 >/dev/null 2>&1 &&
	   ! "$B/mmsim" explore "$f" --runs 2000 --bootargs "mte_race_fix_off=R$n" >/dev/null 2>&1; then
		echo "ok - $name"
	else
		echo "not ok - $name"
	fi | tee -a "$out"
done
pass=$(grep -c '^ok ' "$out")
fail=$(grep -c '^not ok ' "$out")
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
