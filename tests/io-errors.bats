#!/usr/bin/env bats
# Every program: a full disk and a closed stdout are errors (exit 1, one
# line); a reader that goes away (| head -c1) ends it quietly
# (coreutils tests/misc/write-errors.sh).
load test_helper

setup_file() {
	make_samples
	# Enough output to fill a pipe, so head really closes it early.
	cd "$SAMPLES"
	for i in $(seq 20); do cat vectors.emb; done > many.emb
	for i in $(seq 200); do cat scores.tsv; done > many-scores.tsv
	for i in $(seq 500); do cat texts.txt; done > many-texts.txt
	embgen -n 3000 -d 8 > many-queries.emb
	embcos --topk 5 --db vectors.emb many-queries.emb > many-truth.tsv
}

# invocation PROG: a command line that reads standard input and writes a
# lot to standard output, and the sample file to feed it.
invocation() {
	case $1 in
	embcat) echo "embcat -O tsv" many.emb ;;
	embcos) echo "embcos" many.emb ;;
	embspearman | embpearson) echo "$1 -x 2 -y 3" many-scores.tsv ;;
	embgen) echo "embgen -n 200000 -d 16" /dev/null ;;
	embpool) echo "embpool -q -v vectors.emb -O tsv" many-texts.txt ;;
	emblsh) echo "emblsh --seed 1" many.emb ;;
	embeval) echo "embeval --recall -k 5 -q many-truth.tsv" many-truth.tsv ;;
	embquant) echo "embquant --ubinary -O tsv" many.emb ;;
	*) echo "$1" many.emb ;;
	esac
}

each() {
	for p in $EMB_PROGRAMS; do
		p=$(basename "$p")
		set -- $(invocation "$p")
		input=${*: -1}
		cmd=${*:1:$#-1}
		"$TEST" "$p" "$cmd" "$input"
	done
}

full_disk() {
	run -1 --separate-stderr sh -c "cd '$SAMPLES' && $2 < $3 > /dev/full"
	assert_equal "$stderr" "$1: write error: No space left on device"
}

closed_stdout() {
	run -1 --separate-stderr sh -c "cd '$SAMPLES' && $2 < $3 >&-"
	assert_equal "$stderr" "$1: write error: Bad file descriptor"
}

early_close() {
	run bash -c "cd '$SAMPLES' && $2 < $3 2> '$BATS_TEST_TMPDIR/err' | head -c1 > /dev/null; echo \${PIPESTATUS[0]}"
	assert_success
	[[ "$output" == 0 || "$output" == 141 ]] || { echo "$1: status $output"; return 1; }
	run cat "$BATS_TEST_TMPDIR/err"
	assert_output ""
}

@test "writing to a full disk is an error" {
	TEST=full_disk each
}

@test "writing to a closed stdout is an error" {
	TEST=closed_stdout each
}

@test "a closed pipe (| head -c1) ends quietly" {
	TEST=early_close each
}

@test "a missing input file is named" {
	for p in $EMB_PROGRAMS; do
		p=$(basename "$p")
		case $p in embgen) continue ;; esac
		set -- $(invocation "$p")
		cmd=${*:1:$#-1}
		run -1 --separate-stderr sh -c "cd '$SAMPLES' && $cmd /no/such/file"
		assert_equal "$stderr" "$p: /no/such/file: No such file or directory"
	done
}
