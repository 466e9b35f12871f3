#!/usr/bin/env bats
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "embcat reads stdin by default and '-' as stdin" {
	printf 'a 1 2\n' > a.tsv
	run embcat < a.tsv
	assert_output "$(printf 'a\t1\t2')"
	printf 'b 3 4\n' > b.tsv
	run embcat a.tsv - < b.tsv
	assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
}

@test "embcat writes the input's format unless -O says otherwise" {
	gen_tsv 4 3 1 keys > a.tsv
	embcat -O emb a.tsv > a.emb
	run embcat a.emb
	assert_success
	[[ "$(head -c4 a.emb | od -An -c)" == "$(embcat a.emb | head -c4 | od -An -c)" ]]
	run embcat -I tsv a.tsv
	assert_output "$(cat a.tsv)"
}

@test "embcat -I emb on text is an error" {
	printf 'a 1 2\n' > a.tsv
	run -1 --separate-stderr embcat -I emb a.tsv
	assert_equal "$stderr" "embcat: a.tsv: byte 0: not an emb stream (bad magic)"
}

@test "embcat rejects mixing inputs with and without keys" {
	printf 'a 1 2\n' > k.tsv
	printf '1 2\n' > n.tsv
	run -1 --separate-stderr embcat -O emb k.tsv n.tsv
	assert_equal "$stderr" "embcat: n.tsv: has no keys but the first input has"
}

@test "embcat --dtype rejects unknown types" {
	run -2 --separate-stderr embcat --dtype f8
	assert_equal "$stderr" "embcat: unknown dtype 'f8' (known: f32, f64, f16, i8, u8, bit)
Try 'embcat --help' for more information."
}

@test "embcat TSV keys with a TAB cannot be written" {
	printf 'a\tb 1 2\n' > t.tsv
	run -1 --separate-stderr embcat -I tsv --no-keys t.tsv
	assert_equal "$stderr" "embcat: t.tsv:1: 'a' is not a number"
}

@test "embcat --progress reports on stderr only when asked" {
	gen_tsv 10 3 2 > a.tsv
	run --separate-stderr embcat a.tsv
	assert_equal "$stderr" ""
	run --separate-stderr embcat --progress -O emb a.tsv
	assert_success
	[[ "$stderr" =~ ^embcat:\ 10\ rows,\ [0-9.]+\ [kM]?B,\ [0-9.]+\ [kMG]?B/s$ ]] || { echo "stderr: '$stderr'"; return 1; }
}

@test "embcat -O tsv: rows formatted on several threads come out as one thread writes them" {
	for spec in "3001 37 f64 keys 2500" "4000 40 f32 nokeys 4000" "1500 70 f32 keys 700"; do
		set -- $spec
		oracle -c '
import sys, numpy as np, oracle
n, d, dt, keyed, ch = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4] == "keys", int(sys.argv[5])
r = np.random.default_rng(n)
x = r.standard_normal((n, d)) * 10.0 ** r.integers(-40, 38, (n, 1))
x = x.astype(np.float32).astype(np.float64) if dt == "f32" else x
keys = ["k%d" % i for i in range(n)] if keyed else None
if keyed:
    keys[0] = "12.5"            # a key that reads as a number: the mark line
sys.stdout.buffer.write(oracle.write(x, dtype=dt, keys=keys, chunk_rows=ch))
' "$@" > x.emb
		EMB_THREADS=1 embcat -O tsv x.emb > one
		for t in 2 3; do
			EMB_THREADS=$t embcat -O tsv x.emb > many
			cmp one many
		done
		run oracle -c '
import sys, numpy as np, oracle
x, keys, _ = oracle.read(open("x.emb", "rb").read())
lines = open("one").read().splitlines()
if keys:
    assert lines[0] == "#emb keys"; lines = lines[1:]
    assert [l.split("\t")[0] for l in lines] == keys
got = np.array([[float(v) for v in l.split("\t")[1 if keys else 0:]] for l in lines])
assert np.array_equal(got.astype(x.dtype), x), "values do not read back"
'
		assert_success
	done
	# a value TSV cannot hold, deep in a thread's range: the same rows
	# before it, the same message
	oracle -c '
import sys, numpy as np, oracle
x = np.random.default_rng(5).standard_normal((3000, 40)).astype(np.float32)
x[2200, 7] = np.inf
sys.stdout.buffer.write(oracle.write(x, chunk_rows=3000))
' > bad.emb
	run -1 --separate-stderr env EMB_THREADS=1 embcat -O tsv bad.emb
	one_out=$output
	assert_equal "$stderr" "embcat: row 2201: value 8 is inf, which TSV cannot hold"
	run -1 --separate-stderr env EMB_THREADS=2 embcat -O tsv bad.emb
	assert_equal "$stderr" "embcat: row 2201: value 8 is inf, which TSV cannot hold"
	assert_equal "$output" "$one_out"
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2200 ]
}
