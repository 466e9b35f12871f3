#!/usr/bin/env bats
# Every program: --help on stdout, --version, usage errors (coreutils
# help-version.sh).
load test_helper

progs() {
	for p in $EMB_PROGRAMS; do basename "$p"; done
}

@test "--help prints usage on stdout and exits 0" {
	for p in $(progs); do
		run --separate-stderr "$p" --help
		assert_success
		assert_equal "$stderr" ""
		assert_line --index 0 --partial "Usage: $p "
		run "$p" -h
		assert_success
	done
}

@test "--version prints 'prog (embutils) VERSION'" {
	for p in $(progs); do
		run --separate-stderr "$p" --version
		assert_success
		[[ "${lines[0]}" =~ ^$p\ \(embutils\)\ [0-9]+\.[0-9]+$ ]] || { echo "$p: '$output'"; return 1; }
		[[ "${lines[1]}" =~ ^BLAS:\  ]] || { echo "$p: '$output'"; return 1; }
	done
}

@test "an unknown option is a usage error: status 2, hint on stderr, nothing on stdout" {
	for p in $(progs); do
		run --separate-stderr "$p" --no-such-option
		assert_equal "$status" 2
		assert_output ""
		assert_equal "${stderr##*$'\n'}" "Try '$p --help' for more information."
		assert_equal "$(printf '%s\n' "$stderr" | head -n1)" "$p: unrecognized option '--no-such-option'"
	done
}

@test "a bad common option value is a usage error" {
	for p in $(progs); do
		run -2 --separate-stderr "$p" -O nosuch
		assert_equal "$stderr" "$p: unknown format 'nosuch' (known: emb, tsv, npy, w2v, w2vbin, glove, vec, fvecs, bvecs, ivecs, jsonl)
Try '$p --help' for more information."
	done
}

@test "--help to a full disk is a write error" {
	for p in $(progs); do
		run -1 --separate-stderr sh -c "$p --help > /dev/full"
		assert_equal "$stderr" "$p: write error: No space left on device"
	done
}

@test "a misdetected OpenBLAS core is replaced by one this CPU runs; the user's choice wins" {
	grep -q avx2 /proc/cpuinfo || skip "CPU without AVX2: no faster kernels to choose"
	run --separate-stderr env EMB_OPENBLAS_DETECTED=Prescott embcat --version
	assert_success
	assert_line --index 1 --regexp '^BLAS: OpenBLAS, core (Haswell|SkylakeX|Cooperlake) \(OPENBLAS_CORETYPE set by embutils: OpenBLAS detected Prescott\)$'
	run --separate-stderr env OPENBLAS_CORETYPE=Prescott embcat --version
	assert_line --index 1 "BLAS: OpenBLAS, core Prescott"
	# The re-executed program still reads its standard input.
	run sh -c 'printf "a 1 2\n" | EMB_OPENBLAS_DETECTED=Prescott embcat'
	assert_output "$(printf 'a\t1\t2')"
}
