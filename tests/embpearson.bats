#!/usr/bin/env bats
# embpearson: values against scipy.stats.pearsonr (tests/corr_oracle.py),
# every option, --vectors against numpy, and the exact error messages.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# gen KIND N SEED > file: TSV columns group, gold, sys1, sys2.
gen() {
	oracle - "$@" <<'PY'
import sys, numpy as np
kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
gold = rng.standard_normal(n)
s1 = gold + rng.standard_normal(n)
s2 = rng.standard_normal(n)
if kind == "ties":
    gold = np.round(rng.integers(0, 26, n) / 5, 1)
    s1 = np.round(gold + rng.standard_normal(n), 1)
elif kind == "negative":
    s1 = -gold + 0.5 * rng.standard_normal(n)
elif kind == "exponents":
    gold = gold * 1e-300
    s1 = (s1 + 1e3) * 1e300
    s2 = np.exp(40 * s2)
for i in range(n):
    print("g%d\t%r\t%r\t%r" % (i % 3, float(gold[i]), float(s1[i]), float(s2[i])))
PY
}

check() {
	local file=$1
	shift
	embpearson "$@" "$file" > "$BATS_TEST_TMPDIR/out"
	oracle "$EMB_SRCDIR/tests/corr_oracle.py" pearson "$BATS_TEST_TMPDIR/out" "$file" "$@"
}

@test "random, tied, negative and exponent data: r and p as scipy" {
	for kind in random ties negative exponents; do
		gen "$kind" 300 1 > d.tsv
		check d.tsv -x 2 -y 3,4
	done
}

@test "each alternative with scipy's Fisher interval" {
	gen random 40 2 > d.tsv
	for alt in two-sided less greater; do
		check d.tsv -x 2 -y 3,4 --alternative "$alt" --ci 0.95
	done
}

@test "an empty cell before a number is missing, not the next cell's number" {
	printf 'a\t1\t2\t7\nb\t2\t\t8\nc\t3\t5\t9\nd\t4\t3\t1\ne\t5\t4\t0\n' > e.tsv
	check e.tsv -x 2 -y 3 --nan omit
	run embpearson -x 2 -y 3 --nan=propagate e.tsv
	[ "${lines[1]}" = "2	3	5	nan	nan" ]
}

@test "huge n" {
	oracle -c 'import numpy as np
rng = np.random.default_rng(3); x = rng.standard_normal(200000)
np.savetxt("h.tsv", np.c_[x, x + rng.standard_normal(200000)], delimiter="\t", fmt="%.8g")'
	check h.tsv
}

@test "n = 2 gives r = +-1 and p = 1; n = 3 as scipy" {
	printf '1\t2\n2\t1\n' > n2.tsv
	run embpearson n2.tsv
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t2\t-1\t1')"
	check n2.tsv
	printf '1\t2\n2\t1\n3\t3.5\n' > n3.tsv
	check n3.tsv --ci 0.9
	printf '1\t2\n' > n1.tsv
	run --separate-stderr embpearson n1.tsv
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t1\tnan\tnan')"
	assert_equal "$stderr" "embpearson: 1 vs 2: fewer than 2 pairs; the correlation is not defined"
}

@test "constant input gives nan with a warning" {
	printf '1\t5\n2\t5\n3\t5\n' > c.tsv
	run --separate-stderr embpearson c.tsv
	assert_success
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t3\tnan\tnan')"
	assert_equal "$stderr" "embpearson: 1 vs 2: an input is constant; the correlation is not defined"
}

@test "--group: per-group scipy values, then mean, wmean and all" {
	gen random 90 4 > d.tsv
	check d.tsv -x 2 -y 3,4 --group 1 --ci 0.9
}

@test "Simpson's paradox: every group +1, pooled negative" {
	printf 'a\t1\t6\na\t2\t7\na\t3\t8\nb\t4\t3\nb\t5\t4\nb\t6\t5\nc\t7\t0\nc\t8\t1\nc\t9\t2\n' > s.tsv
	run embpearson --group 1 -x 2 -y 3 s.tsv
	assert_success
	for i in 1 2 3 4 5; do
		assert_close "$(cut -f5 <<< "${lines[$i]}")" 1 1e-12
	done
	want=$(oracle -c 'import numpy as np
x = np.arange(1, 10); y = np.array([6, 7, 8, 3, 4, 5, 0, 1, 2])
print(np.corrcoef(x, y)[0, 1])')
	assert_close "$(cut -f5 <<< "${lines[6]}")" "$want" 1e-12
	assert_line --index 6 --regexp '^all	2	3	9	-0\.[78]'
	check s.tsv --group 1 -x 2 -y 3
}

@test "--nan policies, --percent, --header, --json" {
	printf 'g\ta\tb\nu\t1\t2\nu\t2\t\nu\t3\t3\nv\tnan\t4\nv\t4\t5\nv\t5\tNA\nv\t6\t1\n' > m.tsv
	run --separate-stderr embpearson --header -x a -y b --nan=omit m.tsv
	assert_equal "$stderr" "embpearson: a vs b: omitted 3 of 7 rows with a missing value"
	check m.tsv --header -x a -y b --nan omit --percent
	check m.tsv --header -x a -y b --nan propagate --group g
	run -1 --separate-stderr embpearson --header -x a -y b m.tsv
	assert_output ""
	assert_equal "$stderr" "embpearson: m.tsv:3: column 3: missing value (see --nan)"
	run --separate-stderr embpearson --json --header -x a -y b --nan=omit m.tsv
	run oracle -c 'import json, sys; j = json.loads(sys.argv[1]); print(j[0]["x"], j[0]["y"], j[0]["n"])' "$output"
	assert_output "a b 4"
}

@test "--vectors: centred cosine of each pair of rows, as numpy" {
	gen_tsv 30 8 1 keys > a.tsv
	gen_tsv 30 8 2 keys | sed 's/^w/v/' > b.tsv
	embcat -O emb a.tsv > a.emb
	run embpearson --vectors a.emb b.tsv
	assert_success
	assert_line --index 0 --regexp '^w0	v0	'
	assert_equal "${#lines[@]}" 30
	want=$(oracle -c 'import numpy as np
a = np.loadtxt("a.tsv", usecols=range(1, 9)); b = np.loadtxt("b.tsv", usecols=range(1, 9))
a = a.astype(np.float32).astype(float)  # a.emb holds f32; b.tsv is read as f64
print(" ".join(repr(np.corrcoef(x, y)[0, 1]) for x, y in zip(a, b)))')
	assert_close "$(cut -f3 <<< "$output")" "$want" 1e-12
}

@test "--vectors: constant rows, unequal lengths and dims" {
	printf 'k1\t1\t1\t1\nk2\t1\t2\t3\n' > a.tsv
	printf 'k1\t1\t2\t3\nk2\t3\t2\t1\n' > b.tsv
	run --separate-stderr embpearson --vectors a.tsv b.tsv
	assert_success
	assert_equal "$(cut -f1,2 <<< "$output" | tr '\n\t' '  ')" "k1 k1 k2 k2 "
	assert_close "$(cut -f3 <<< "$output")" "nan -1" 1e-12
	assert_equal "$stderr" "embpearson: 1 pair with a constant vector: r is nan"
	head -n 1 b.tsv > b1.tsv
	run -1 --separate-stderr embpearson --vectors a.tsv b1.tsv
	assert_equal "$stderr" "embpearson: a.tsv has 2 rows but b1.tsv has 1"
	# the longer one second, and longer than one chunk: its whole count
	seq 1 70000 | sed 's/^/k/; s/$/\t1\t2\t3/' > long.tsv
	run -1 --separate-stderr embpearson --vectors b1.tsv long.tsv
	assert_equal "$stderr" "embpearson: b1.tsv has 1 row but long.tsv has 70000"
	printf 'k1\t1\t2\n' > d2.tsv
	run -1 --separate-stderr embpearson --vectors a.tsv d2.tsv
	assert_output ""
	assert_equal "$stderr" "embpearson: a.tsv has dim 3 but d2.tsv has dim 2"
	run -2 --separate-stderr embpearson --vectors a.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --vectors wants two streams A B"
}

@test "bad input and usage errors" {
	printf '1\t2\n3\tfoo\n' > bad.tsv
	run -1 --separate-stderr embpearson bad.tsv
	assert_output ""
	assert_equal "$stderr" "embpearson: bad.tsv:2: column 2: not a number: 'foo'"
	run -1 --separate-stderr embpearson -y 3 bad.tsv
	assert_equal "$stderr" "embpearson: bad.tsv:1: no column 3 (the line has 2)"
	run -2 --separate-stderr embpearson -x abc bad.tsv
	assert_output ""
	assert_equal "${stderr_lines[0]}" "embpearson: -x: 'abc' is not a column number (use --header for names)"
	run -2 --separate-stderr embpearson --alternative=up bad.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --alternative must be two-sided, less or greater, not 'up'"
	run -2 --separate-stderr embpearson --bootstrap 0 bad.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --bootstrap must be between 1 and 10000000, not 0"
	assert_equal "${stderr_lines[1]}" "Try 'embpearson --help' for more information."
}

@test "inf, -inf and 1e400 in a column: an error naming the line, or missing under --nan" {
	for v in inf -inf 1e400 -1e400 Infinity; do
		printf '%s\t2\n2\t3\n3\t1\n4\t5\n' "$v" > i.tsv
		run -1 --separate-stderr embpearson --ci 0.95 i.tsv
		assert_output ""
		assert_equal "$stderr" "embpearson: i.tsv:1: column 1: value is not finite (see --nan)"
		run -1 --separate-stderr embspearman i.tsv
		assert_equal "$stderr" "embspearman: i.tsv:1: column 1: value is not finite (see --nan)"
		# omit: the other three rows, as scipy on them
		run --separate-stderr embpearson --nan omit i.tsv
		assert_equal "$stderr" "embpearson: 1 vs 2: omitted 1 of 4 rows with a missing value"
		want=$(oracle -c 'from scipy import stats; print(repr(stats.pearsonr([2, 3, 4], [3, 1, 5])[0]))')
		assert_close "$(sed -n 2p <<< "$output" | cut -f4)" "$want" 1e-12
		run --separate-stderr embspearman --nan propagate i.tsv
		assert_equal "$(sed -n 2p <<< "$output" | cut -f4)" nan
	done
	# past the first line (the fast number reader) too
	printf '1\t2\n2\t3\n3\t1e400\n4\t5\n' > j.tsv
	run -1 --separate-stderr embspearman j.tsv
	assert_equal "$stderr" "embspearman: j.tsv:3: column 2: value is not finite (see --nan)"
	printf '1\t2\n2\t3\n3\t1\n-inf\t5\n' > j.tsv
	run -1 --separate-stderr embpearson j.tsv
	assert_equal "$stderr" "embpearson: j.tsv:4: column 1: value is not finite (see --nan)"
}

@test "--vectors: a row holding NaN or inf is an error naming it, not a constant vector" {
	oracle -c 'import numpy as np, oracle as o
x = np.random.default_rng(1).standard_normal((50, 4))
open("a.emb", "wb").write(o.write(x))
x[7, 2] = np.inf; open("inf.emb", "wb").write(o.write(x))
x[7, 2] = np.nan; open("nan.emb", "wb").write(o.write(x, "f64"))'
	off=$(oracle -c 'import oracle as o; print(len(o.header(4)) + 24 + 7 * 16)')
	run -1 --separate-stderr embpearson --vectors a.emb inf.emb
	assert_equal "$stderr" "embpearson: inf.emb: byte $off: value is not finite"
	off=$(oracle -c 'import oracle as o; print(len(o.header(4, "f64")) + 24 + 7 * 32)')
	run -1 --separate-stderr embpearson --vectors nan.emb a.emb
	assert_equal "$stderr" "embpearson: nan.emb: byte $off: value is not finite"
}
