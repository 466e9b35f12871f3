#!/bin/bash
# run.sh: replay the fuzz corpora, or fuzz for a bounded time (README.md).
#
#   run.sh [OPTION]... [HARNESS]...      replay corpus/HARNESS (default: all)
#   run.sh --time SECS [OPTION]... [HARNESS]...   fuzz each for SECS seconds
#
#   --bindir DIR   where the harness binaries are (default: tests/fuzz of the
#                  current directory, i.e. run from the build tree)
#   --time SECS    fuzz instead of replaying: SECS seconds per harness, into
#                  a scratch corpus (OUT/scratch/HARNESS) that starts empty
#                  and reads the committed corpus; the committed corpus is
#                  never written
#   --jobs N       fuzz N harnesses at once (default 1: one core)
#   --keep-going   fuzz in libFuzzer's fork mode and go on after a crash,
#                  a leak, an OOM or a timeout (for long campaigns)
#   --pending      replay pending/HARNESS (known crashes) instead of corpus/
#   --out DIR      findings, logs and scratch corpora (default: fuzz-out in
#                  the current directory); new crash-, leak-, oom- and
#                  timeout- files are left in DIR/findings/HARNESS/
#   -- ARGS        pass ARGS to libFuzzer (e.g. -max_len=65536)
#
# Each harness prints one line: PASS or FAIL, its name, and for fuzzing the
# executions, cov and ft of libFuzzer's final report and the findings.  The
# exit status is 1 if any harness failed.  Fuzzing runs under nice -n 10.
set -u
src=$(cd "$(dirname "$0")" && pwd)
all="emb tsv npy w2v w2vbin glove fvecs bvecs ivecs jsonl json fbin u8bin i8bin ibin safetensors faiss sniff model cols lists row"
bindir=tests/fuzz time= jobs=1 keep=no pending=no out=fuzz-out
extra=()
harnesses=()
while [ $# -gt 0 ]; do
	case $1 in
	--bindir) bindir=$2; shift ;;
	--bindir=*) bindir=${1#*=} ;;
	--time) time=$2; shift ;;
	--time=*) time=${1#*=} ;;
	--jobs) jobs=$2; shift ;;
	--jobs=*) jobs=${1#*=} ;;
	--keep-going) keep=yes ;;
	--pending) pending=yes ;;
	--out) out=$2; shift ;;
	--out=*) out=${1#*=} ;;
	--) shift; extra=("$@"); break ;;
	-h|--help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	*) harnesses+=("$1") ;;
	esac
	shift
done
[ ${#harnesses[@]} -gt 0 ] || read -r -a harnesses <<< "$all"
case $time in ''|*[!0-9]*) [ -z "$time" ] || { echo "run.sh: --time takes seconds" >&2; exit 2; } ;; esac
case $jobs in ''|*[!0-9]*|0) echo "run.sh: --jobs takes a positive number" >&2; exit 2 ;; esac
for h in "${harnesses[@]}"; do
	case " $all " in *" $h "*) ;; *) echo "run.sh: no harness '$h' (one of: $all)" >&2; exit 2 ;; esac
	[ -x "$bindir/$h" ] || { echo "run.sh: $bindir/$h is missing: run make fuzz first" >&2; exit 2; }
done
bindir=$(cd "$bindir" && pwd)
mkdir -p "$out/logs" && out=$(cd "$out" && pwd)
# The allocation limit makes a small input that asks for gigabytes a finding.
common=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# replay HARNESS: run every file of its corpus once; a crash, leak or exit fails.
replay() {
	local h=$1 dir=$src/corpus/$1 log=$out/logs/replay-$1.log
	[ $pending = yes ] && dir=$src/pending/$1 log=$out/logs/pending-$1.log
	local files=("$dir"/*)
	[ $pending = yes ] && files=("$dir"/crash-*)
	if [ ! -e "${files[0]}" ]; then
		echo "PASS $h replay: no files in $dir"
		return 0
	fi
	mkdir -p "$out/findings/$h"
	if [ $pending = yes ]; then
		# each known crash on its own, to see which are fixed
		local f bad=0
		for f in "${files[@]}"; do
			if "$bindir/$h" "${common[@]}" -artifact_prefix="$out/findings/$h/" \
				"${extra[@]}" "$f" > "$log" 2>&1; then
				echo "PASS $h pending ${f#"$src"/}: fixed, move it to corpus/$h/"
			else
				bad=1
				echo "FAIL $h pending ${f#"$src"/}: $(grep -E -m 1 \
					'ERROR|runtime error|^fuzz ' "$log")"
			fi
		done
		return $bad
	fi
	if timeout -k 10 600 "$bindir/$h" "${common[@]}" -artifact_prefix="$out/findings/$h/" \
		"${extra[@]}" "${files[@]}" > "$log" 2>&1; then
		echo "PASS $h replay: ${#files[@]} files of ${dir#"$src"/}"
		return 0
	fi
	echo "FAIL $h replay: ${dir#"$src"/}: $(grep '^Running:' "$log" | tail -n 1 | sed 's/^Running: //')"
	grep -E -m 3 'ERROR|runtime error|^fuzz |SUMMARY' "$log" | sed 's/^/    /'
	echo "    full log: $log"
	return 1
}

# fuzz HARNESS: SECS seconds from its corpus into a scratch corpus.
fuzz() {
	local h=$1 log=$out/logs/fuzz-$1.log scratch=$out/scratch/$1 found=$out/findings/$1
	mkdir -p "$scratch" "$found"
	local before
	before=$(ls "$found" | grep -c -E '^(crash|leak|oom|timeout)-')
	local mode=()
	[ $keep = yes ] && mode=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
	# timeout(1) as well: a harness that hangs inside the sanitizer's own
	# report (a nested bug) never sees libFuzzer's in-process timers.
	timeout -k 10 $((time + 120)) nice -n 10 "$bindir/$h" "${common[@]}" "${mode[@]}" \
		-max_total_time="$time" \
		-print_final_stats=1 -artifact_prefix="$found/" "${extra[@]}" \
		"$scratch" "$src/corpus/$h" > "$log" 2>&1
	local rc=$?
	local last execs cov ft new
	last=$(grep -E '#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	new=$(( $(ls "$found" | grep -c -E '^(crash|leak|oom|timeout)-') - before ))
	local verdict=PASS
	[ $rc -ne 0 ] || [ "$new" -gt 0 ] && verdict=FAIL
	[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "fuzz $h: killed after $((time + 120)) s" >> "$log"
	echo "$verdict $h fuzz ${time}s: execs ${execs:-?} cov ${cov:-?} ft ${ft:-?} findings $new"
	if [ $verdict = FAIL ]; then
		grep -E -m 3 'ERROR|runtime error|^fuzz |SUMMARY|Test unit written' "$log" | sed 's/^/    /'
		echo "    findings: $found/  log: $log"
		return 1
	fi
	return 0
}

failed=0 passed=0
if [ -z "$time" ]; then
	for h in "${harnesses[@]}"; do
		if replay "$h"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
elif [ "$jobs" -eq 1 ]; then
	for h in "${harnesses[@]}"; do
		if fuzz "$h"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	done
else
	# JOBS harnesses at a time; their lines are printed in order at the end
	pids=() names=()
	for h in "${harnesses[@]}"; do
		fuzz "$h" > "$out/logs/line-$h" &
		pids+=($!) names+=("$h")
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
	done
	for i in "${!pids[@]}"; do
		if wait "${pids[$i]}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
		cat "$out/logs/line-${names[$i]}"
	done
fi
echo "run.sh: $passed harness(es) passed, $failed failed (logs in $out/logs)"
[ $failed -eq 0 ]
