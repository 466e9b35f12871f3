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
