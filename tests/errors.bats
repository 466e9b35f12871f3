#!/usr/bin/env bats
# The error-message table (datamash tests/datamash-error-msgs.pl): every
# error a user can cause, with its exact first line on stderr and its exit
# status.  Rows live in tests/errors.tab, one per line, fields separated by
# a TAB:
#
#   CLASS  STATUS  EXPECTED-STDERR  COMMAND
#
# COMMAND runs under bash -o pipefail in a directory holding the sample
# files of tests/make-samples.sh (vectors.emb, pairs.tsv, ...) plus the
# fixtures made in setup_file below.  Memory caps use ulimit_v (a no-op
# under ASan: tests/test_helper.bash).  EXPECTED-STDERR is the whole first
# line of standard error, byte for byte ("" for none).  Status 1 errors
# print exactly one line; status 2 errors print the message and then the
# "Try 'PROG --help'" hint; status 0 rows check a warning.  One test per
# class runs all of its rows and lists every row that differs.
load test_helper

setup_file() {
	make_samples
	cd "$SAMPLES"
	# Fixtures shared by several rows; a row may also make its own with printf.
	embgen -n 50 -d 4 --seed 1 --keys > fifty.emb
}

# check_class CLASS: run every row of CLASS; fail listing the rows that differ.
check_class() {
	local class=$1 bad=0 n=0 c status want cmd got rc lines hint
	cd "$SAMPLES"
	while IFS=$'\t' read -r c status want cmd; do
		[ "$c" = "$class" ] || continue
		n=$((n + 1))
		rc=0
		bash -o pipefail -c "$cmd" > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" < /dev/null || rc=$?
		got=$(head -n 1 "$BATS_TEST_TMPDIR/err")
		lines=$(wc -l < "$BATS_TEST_TMPDIR/err")
		hint=$(sed -n 2p "$BATS_TEST_TMPDIR/err")
		[ "$want" = '""' ] && want=
		if [ "$rc" != "$status" ] || [ "$got" != "$want" ] ||
		   { [ "$status" = 1 ] && [ "$lines" -gt 1 ]; } ||
		   { [ "$status" = 2 ] && [[ $hint != "Try '"*"--help' for more information." ]]; }; then
			bad=$((bad + 1))
			printf 'row: %s\n  want %s: %s\n  got  %s: %s\n' "$cmd" "$status" "$want" "$rc" "$(cat "$BATS_TEST_TMPDIR/err")"
		fi
	done < <(grep -v '^#' "$EMB_SRCDIR/tests/errors.tab" | grep -v '^$')
	[ "$n" -gt 0 ] || { echo "no rows for class $class"; return 1; }
	[ "$bad" -eq 0 ]
}

@test "errors: inputs that are not regular files" { check_class nonregular; }
@test "errors: partial output never reads back as complete" { check_class partial; }
@test "errors: text is never read as binary, values never invented or dropped" { check_class textbinary; }
@test "errors: one non-finite value never gives a confident number" { check_class nonfinite; }
@test "errors: what the tools write, they read back the same" { check_class roundtrip; }
@test "errors: memory and time bounded by the data" { check_class bounded; }
@test "errors: files are safe" { check_class files; }
@test "errors: messages and usage" { check_class usage; }
@test "errors: partials and merges" { check_class fitmerge; }
