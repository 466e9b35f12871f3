#!/usr/bin/env bats
# embspearman: values against scipy.stats.spearmanr (tests/corr_oracle.py),
# every option, and the exact error messages.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# gen KIND N SEED > file: TSV columns group, gold, sys1, sys2 (sys1
# follows gold, sys2 is noise; KIND shapes the values).
gen() {
	oracle - "$@" <<'PY'
import sys, numpy as np
kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
gold = rng.standard_normal(n)
s1 = gold + rng.standard_normal(n)
s2 = rng.standard_normal(n)
if kind == "ties":     # STS-style: gold in 0.2 steps, systems rounded too
    gold = np.round(rng.integers(0, 26, n) / 5, 1)
    s1 = np.round(gold + rng.standard_normal(n), 1)
    s2 = np.round(rng.standard_normal(n), 0)
elif kind == "negative":
    s1 = -gold + 0.5 * rng.standard_normal(n)
elif kind == "exponents":
    gold = gold * 1e-300
    s1 = s1 * 1e300
    s2 = np.exp(40 * s2)
for i in range(n):
    print("g%d\t%r\t%r\t%r" % (i % 3, float(gold[i]), float(s1[i]), float(s2[i])))
PY
}

# check FILE ARGS...: run embspearman ARGS FILE and compare with scipy.
check() {
	local file=$1
	shift
	embspearman "$@" "$file" > "$BATS_TEST_TMPDIR/out"
	oracle "$EMB_SRCDIR/tests/corr_oracle.py" spearman "$BATS_TEST_TMPDIR/out" "$file" "$@"
}

@test "random data: r and p as scipy, several -y columns" {
	gen random 300 1 > d.tsv
	check d.tsv -x 2 -y 3,4
}

@test "heavy ties (STS scores in 0.2 steps) use average ranks" {
	gen ties 500 2 > d.tsv
	check d.tsv -x 2 -y 3,4
	printf '1\t1\n2\t3\n2\t2\n3\t4\n' > t.tsv
	run embspearman t.tsv
	assert_success
	assert_close "$(cut -f3-5 <<< "${lines[1]}")" "4 0.948683298050514 0.0513167019494862" 1e-12
	check t.tsv
}

@test "negative correlation and values with exponents" {
	gen negative 100 3 > d.tsv
	check d.tsv -x 2 -y 3,4
	gen exponents 100 4 > e.tsv
	check e.tsv -x 2 -y 3,4
}

@test "each alternative, with the Fisher interval" {
	gen random 60 5 > d.tsv
	for alt in two-sided less greater; do
		check d.tsv -x 2 -y 3,4 --alternative "$alt" --ci 0.9
	done
}

@test "Fisher interval uses the Bonett-Wright variance" {
	printf '1\t2\n2\t1\n3\t4\n4\t3\n5\t6\n6\t5\n' > s.tsv
	run embspearman --ci 0.95 s.tsv
	assert_success
	# r = 29/35; z = atanh(r); se = sqrt((1 + r^2/2)/3)
	line=$(oracle -c 'import math; from scipy.special import ndtri
r = 29/35; z = math.atanh(r); se = math.sqrt((1 + r*r/2) / 3); h = ndtri(0.975)
print(r, math.tanh(z - h*se), math.tanh(z + h*se))')
	read -r r lo hi <<< "$line"
	assert_close "$(cut -f4,6,7 <<< "${lines[1]}")" "$r $lo $hi" 1e-12
	check s.tsv --ci 0.95
}

@test "huge n" {
	oracle -c 'import numpy as np
rng = np.random.default_rng(9); x = rng.standard_normal(200000)
y = np.round(x + rng.standard_normal(200000), 2)
np.savetxt("h.tsv", np.c_[x, y], delimiter="\t", fmt="%.6g")'
	check h.tsv
}

@test "ranking paths: few distinct values, radix sort with ties, signed zeros" {
	# x has exactly 4096 distinct values (the counting path), y 4097 and
	# more with heavy ties, both signs, -0.0 next to 0.0 and exponents
	# from 1e-300 to 1e300 (the radix path); r to 1e-12, p to 1e-9.
	oracle -c 'import numpy as np
rng = np.random.default_rng(12); n = 30000
x = rng.permutation(np.r_[np.arange(4096), rng.integers(0, 4096, n - 4096)]) / 8.0 - 256
y = np.round(x + 300 * rng.standard_normal(n)) / 3
y[rng.random(n) < .05] = 0.0
y[rng.random(n) < .05] = -0.0
z = np.exp(rng.uniform(-690, 690, n)) * rng.choice([-1, 1], n)
z[: 200] = z[200: 400]
w = np.r_[np.arange(4097), np.zeros(n - 4097)]
with open("r.tsv", "w") as f:
    for row in zip(x, y, z, w): f.write("\t".join(repr(float(v)) for v in row) + "\n")'
	check r.tsv -x 1 -y 2,3,4
	check r.tsv -x 2 -y 3
	check r.tsv -x 4 -y 1 --group 4
}

@test "ranking on threads (n >= 65536): the ranks of one thread and of scipy, ties across buckets" {
	# y: heavy ties across the first pass's buckets, both zeros; z: a
	# range of exponents; w: a tie group of 60% (its bucket is larger than
	# a thread's share: ranked on one thread); v: continuous; u: the
	# first rows in [1.1, 1.9], the last spread over 1e-5 .. 1e5 (each
	# thread's share of the first pass sees other high bits).
	oracle -c 'import numpy as np
rng = np.random.default_rng(31); n = 150000
x = rng.standard_normal(n)
y = np.round(x + rng.standard_normal(n), 2)
y[rng.random(n) < .05] = 0.0
y[rng.random(n) < .05] = -0.0
z = np.exp(rng.uniform(-690, 690, n)) * rng.choice([-1, 1], n)
w = np.where(rng.random(n) < .6, 1.5, x)
v = x * 0.3 + rng.standard_normal(n)
u = np.where(np.arange(n) < n * 0.7, 1.5 + 0.4 * np.tanh(x + rng.standard_normal(n)),
             10.0 ** np.clip(2 * x + rng.standard_normal(n), -5, 5))
with open("p.tsv", "w") as f:
    for row in zip(x, y, z, w, v, u): f.write("\t".join(repr(float(a)) for a in row) + "\n")'
	check p.tsv -x 1 -y 2,3,4,5,6
	check p.tsv -x 4 -y 2,3,5
	for t in 1 2 3; do
		EMB_THREADS=$t embspearman -x 1 -y 2,3,4,5,6 p.tsv > t$t.out
		EMB_THREADS=$t embspearman -x 4 -y 2,3,5 p.tsv >> t$t.out
	done
	cmp t1.out t2.out
	cmp t1.out t3.out
}

@test "number formats and line endings the fast reader hands to the general one" {
	# Plain decimals take the fast path; the rest (exponents, a plus sign,
	# leading blanks, CRLF, long mantissas) the general one: same values.
	oracle -c 'import numpy as np
rng = np.random.default_rng(13); n = 3000
x = rng.standard_normal(n); y = x + rng.standard_normal(n)
fmts = ["%r", "%.3e", "%+g", " %g", "%.20f", "%.1f", "%g"]
with open("f.tsv", "w") as f:
    for i in range(n):
        a, b = (fmts[rng.integers(0, len(fmts))] % v for v in (x[i], y[i]))
        f.write(a + "\t" + b + "\t" + "z" + ("\r\n" if i % 5 == 0 else "\n"))'
	check f.tsv
	check f.tsv --nan omit
}

@test "the SSSE3 number reader and the portable one read every shape of number to the same values, on one thread and two" {
	# 70000 lines: over 256 KB, so a block is also read in two halves
	oracle -c 'import numpy as np
rng = np.random.default_rng(5); n = 70000
x = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n); y = x + rng.standard_normal(n)
fmts = ["%r", "%.7g", "%.9g", "%.3f", "%.1e", "%.15f", "%.16g", "%.0f."]
def text(v):
    t = fmts[rng.integers(0, len(fmts))] % v
    if rng.random() < 0.05:   # leading zeros
        t = t.replace("-", "-00") if t[0] == "-" else "00" + t
    elif rng.random() < 0.05 and t.startswith("0.") and len(t) > 2:   # ".5"
        t = t[1:]
    return t
with open("f.tsv", "w") as f:
    for i in range(n):
        f.write(text(x[i]) + "\t" + text(y[i]) + "\n")'
	for prog in embpearson embspearman; do
		EMB_SIMD=generic EMB_THREADS=1 $prog f.tsv > generic.out
		for threads in 1 2; do
			EMB_THREADS=$threads $prog f.tsv > got.out
			cmp generic.out got.out
		done
	done
	# and the values are numpy's: Pearson's r from them, to 1e-14
	run embpearson f.tsv
	oracle -c 'import sys, numpy as np
x, y = np.loadtxt("f.tsv", unpack=True)
r = float(sys.argv[1].split()[3])
assert abs(r - np.corrcoef(x, y)[0, 1]) < 1e-14, r' "${lines[1]}"
}

@test "n = 0, 1, 2, 3 as scipy" {
	printf '1\t2\n' > n1.tsv
	printf '1\t2\n2\t1\n' > n2.tsv
	printf '1\t2\n2\t1\n3\t3\n' > n3.tsv
	for f in n2.tsv n3.tsv; do check "$f"; done
	run --separate-stderr embspearman n1.tsv
	assert_success
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t1\tnan\tnan')"
	assert_equal "$stderr" "embspearman: 1 vs 2: fewer than 2 pairs; the correlation is not defined"
	run --separate-stderr embspearman < /dev/null
	assert_success
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t0\tnan\tnan')"
	assert_equal "$stderr" "$(printf 'embspearman: no data rows\nembspearman: 1 vs 2: fewer than 2 pairs; the correlation is not defined')"
	run embspearman --alternative less n2.tsv
	assert_close "$(cut -f3-5 <<< "${lines[1]}")" "2 -1 nan" 1e-12
}

@test "constant input gives nan with a warning" {
	printf '1\t5\n2\t5\n3\t5\n' > c.tsv
	run --separate-stderr embspearman c.tsv
	assert_success
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t3\tnan\tnan')"
	assert_equal "$stderr" "embspearman: 1 vs 2: an input is constant; the correlation is not defined"
	check c.tsv
}

@test "--group: per-group scipy values, then mean, wmean and all" {
	gen ties 150 6 > d.tsv
	check d.tsv -x 2 -y 3,4 --group 1
	check d.tsv -x 2 -y 3 --group 1 --ci 0.95 --alternative greater
}

@test "--header takes column names; --percent prints r x 100" {
	{ printf 'set\tgold\tsysA\tsysB\n'; gen random 50 7; } > h.tsv
	check h.tsv --header -x gold -y sysA,4 --group set --percent --ci 0.9
	run embspearman --header -x gold -y sysB h.tsv
	assert_line --index 0 "$(printf 'x\ty\tn\tr\tp')"
	assert_line --regexp --index 1 "^gold	sysB	50	"
}

@test "blank-separated input" {
	gen random 40 8 | tr '\t' ' ' > b.txt
	check b.txt -x 2 -y 3
}

@test "--json prints the same numbers" {
	gen random 80 10 > d.tsv
	embspearman -x 2 -y 3,4 --ci 0.9 d.tsv > t.out
	embspearman -x 2 -y 3,4 --ci 0.9 --json d.tsv > j.out
	run oracle -c 'import json, sys
t = [l.rstrip("\n").split("\t") for l in open("t.out")][1:]
j = json.load(open("j.out"))
assert len(j) == len(t) == 2
for tr, jr in zip(t, j):
    assert [jr["x"], jr["y"], str(jr["n"])] == tr[:3], (jr, tr)
    assert [jr[k] for k in ("r", "p", "lo", "hi")] == [float(v) for v in tr[3:]], (jr, tr)
print("ok")'
	assert_success
	assert_output ok
	run embspearman -x 2 -y 3 --json --group 1 --percent d.tsv
	assert_output --partial '"group":	"mean"'
}

@test "--nan=omit drops pairs and counts them; propagate gives nan" {
	printf '1\t2\n2\t\n3\t3\nnan\t4\n4\t5\n5\tNA\n6\t1\n' > m.tsv
	run --separate-stderr embspearman --nan=omit m.tsv
	assert_success
	assert_equal "$stderr" "embspearman: 1 vs 2: omitted 3 of 7 rows with a missing value"
	check m.tsv --nan omit
	run --separate-stderr embspearman --nan=propagate m.tsv
	assert_success
	assert_output "$(printf 'x\ty\tn\tr\tp\n1\t2\t7\tnan\tnan')"
	check m.tsv --nan propagate
	run -1 --separate-stderr embspearman m.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: m.tsv:2: column 2: missing value (see --nan)"
}

@test "--bootstrap: reproducible percentile interval around r" {
	gen random 200 11 > d.tsv
	run embspearman -x 2 -y 3 --bootstrap 400 --seed 3 d.tsv
	assert_success
	first=$output
	run embspearman -x 2 -y 3 --bootstrap 400 --seed 3 d.tsv
	assert_equal "$output" "$first"
	run embspearman -x 2 -y 3 --bootstrap 400 --seed 4 d.tsv
	[ "$output" != "$first" ]
	# The percentile interval holds r and is near the Fisher one (n = 200).
	fisher=$(embspearman -x 2 -y 3 --ci 0.95 d.tsv | tail -n 1 | cut -f6,7)
	boot=$(tail -n 1 <<< "$first" | cut -f6,7)
	assert_close "$boot" "$fisher" 0.03
	run oracle -c 'import sys; r, lo, hi = map(float, sys.argv[1:]); print(lo < r < hi)' \
		$(tail -n 1 <<< "$first" | cut -f4,6,7)
	assert_output True
	# Against scipy.stats.bootstrap's percentile interval, loosely.
	run oracle -c 'import numpy as np; from scipy import stats
d = np.loadtxt("d.tsv", usecols=(1, 2))
res = stats.bootstrap((d[:, 0], d[:, 1]), lambda x, y: stats.spearmanr(x, y)[0], paired=True,
    vectorized=False, n_resamples=400, method="percentile", random_state=1)
print(res.confidence_interval.low, res.confidence_interval.high)'
	assert_close "$boot" "$output" 0.03
}

@test "a block read in two halves on two threads: the rows, counts and messages of one thread" {
	# 3 MB of lines: blocks of 1 MB, each split in two.  Lines made odd
	# (a bad number, a short line, a blank line, CRLF, a missing last
	# column) anywhere, the first of them in either half of a block.
	gen random 40000 41 > base.tsv
	printf '%s\n' '' 's/\t[^\t]*$/\tx/' 's/\t[^\t]*\t[^\t]*$//' 's/.*//' 's/$/\r/' \
		's/^[^\t]*\t//' 's/\t/\t\t/' > edits
	while read -r edit; do
		for at in 2 6000 13000 19999 26000 39999; do
			if [ -n "$edit" ]; then
				sed "$at{$edit}" base.tsv > in.tsv
			else
				cp base.tsv in.tsv
			fi
			for args in "-x 2 -y 3,4" "-x 4 -y 2"; do
				run env EMB_THREADS=1 embspearman $args in.tsv
				ref_status=$status ref=$output
				run env EMB_THREADS=2 embspearman $args in.tsv
				assert_equal "$status" "$ref_status"
				assert_equal "$output" "$ref"
			done
		done
	done < edits
	# and the values are scipy's
	check base.tsv -x 2 -y 3,4
}

@test "bad input: exact messages, status 1, no output" {
	printf '1\t2\nx1\t3\n' > bad.tsv
	run -1 --separate-stderr embspearman bad.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: bad.tsv:2: column 1: not a number: 'x1'"
	printf '1\t2\n3\n' > short.tsv
	run -1 --separate-stderr embspearman short.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: short.tsv:2: no column 2 (the line has 1)"
	run -1 --separate-stderr embspearman -x 9 short.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: short.tsv:1: no column 9 (the line has 2)"
	printf 'a\tb\n1\t2\n' > h.tsv
	run -1 --separate-stderr embspearman --header -y c h.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: h.tsv:1: -y: no column named 'c'"
	run -1 --separate-stderr embspearman --header < /dev/null
	assert_output ""
	assert_equal "$stderr" "embspearman: -: no header line"
	run -1 --separate-stderr embspearman nosuch.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: nosuch.tsv: No such file or directory"
}

@test "usage errors: status 2" {
	run -2 --separate-stderr embspearman -x 0 /dev/null
	assert_output ""
	assert_equal "${stderr_lines[0]}" "embspearman: -x: '0' is not a column number (use --header for names)"
	run -2 --separate-stderr embspearman -y 2,,3 /dev/null
	assert_equal "${stderr_lines[0]}" "embspearman: -y: empty column in '2,,3'"
	run -2 --separate-stderr embspearman --alternative=both /dev/null
	assert_equal "${stderr_lines[0]}" "embspearman: --alternative must be two-sided, less or greater, not 'both'"
	run -2 --separate-stderr embspearman --nan=skip /dev/null
	assert_equal "${stderr_lines[0]}" "embspearman: --nan must be error, omit or propagate, not 'skip'"
	run -2 --separate-stderr embspearman --ci 1.5 /dev/null
	assert_equal "${stderr_lines[0]}" "embspearman: --ci must be between 0 and 1 (exclusive), not '1.5'"
	run -2 --separate-stderr embspearman --bootstrap 0 /dev/null
	assert_equal "${stderr_lines[0]}" "embspearman: --bootstrap must be between 1 and 10000000, not 0"
	run -2 --separate-stderr embspearman --frobnicate
	assert_output ""
	assert_equal "${stderr_lines[1]}" "Try 'embspearman --help' for more information."
}

@test "--header: every file's own header names its columns" {
	# the audit's h1/h2: the same table with two column orders
	printf 'gold\ta\tb\n1\t1\t3\n2\t2\t2\n3\t3\t1\n' > h1.tsv
	printf 'gold\tb\ta\n4\t6\t4\n5\t5\t5\n6\t4\t6\n' > h2.tsv
	{ printf 'g\tgold\tsa\tsb\n'; gen ties 60 21; } > h3.tsv
	oracle - <<'PY'
import numpy as np
rows = [l.rstrip("\n").split("\t") for l in open("h3.tsv")][1:]
# h4.tsv: h3's rows with its columns in another order, and a group by name
with open("h4.tsv", "w") as f:
    f.write("sb\tgold\tg\tsa\n")
    for r in rows[30:]:
        f.write("\t".join([r[3], r[1], r[0], r[2]]) + "\n")
with open("h3a.tsv", "w") as f:
    f.write("g\tgold\tsa\tsb\n")
    for r in rows[:30]:
        f.write("\t".join(r) + "\n")
PY
	run embspearman --header -x gold -y a h1.tsv h2.tsv
	assert_success
	oracle -c 'import sys
from scipy.stats import spearmanr
r = spearmanr([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]).statistic
line = sys.argv[1].split("\n")[1].split("\t")
assert line[:3] == ["gold", "a", "6"] and abs(float(line[3]) - r) < 1e-12, (line, r)' "$output"
	embspearman --header -x gold -y b h1.tsv h2.tsv > t.out
	oracle -c 'from scipy.stats import spearmanr
r = spearmanr([1, 2, 3, 4, 5, 6], [3, 2, 1, 6, 5, 4]).statistic
line = open("t.out").read().split("\n")[1].split("\t")
assert abs(float(line[3]) - r) < 1e-12, (line, r)'
	# against scipy on the concatenated table, with a group column by name
	check h3.tsv --header -x gold -y sa,sb --group g
	embspearman --header -x gold -y sa,sb --group g h3a.tsv h4.tsv > a.out
	embspearman --header -x gold -y sa,sb --group g h3.tsv > b.out
	cmp a.out b.out
	# embpearson reads columns the same way
	embpearson --header -x gold -y sa,sb h3a.tsv h4.tsv > c.out
	embpearson --header -x gold -y sa,sb h3.tsv > d.out
	cmp c.out d.out
	# a later header without the name is an error naming it and line 1
	printf 'gold\tc\n7\t1\n' > h5.tsv
	run -1 --separate-stderr embspearman --header -x gold -y a h1.tsv h5.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: h5.tsv:1: -y: no column named 'a'"
	run -1 --separate-stderr embpearson --header -x gold -y a h1.tsv h5.tsv
	assert_equal "$stderr" "embpearson: h5.tsv:1: -y: no column named 'a'"
}

@test "column files: a byte order mark, a last line without a newline, a NUL" {
	printf '\xef\xbb\xbfgold\tsys\n1\t2\n2\t1\n3\t3\n4\t5\n' > bom.tsv
	tail -n +2 bom.tsv > plain.tsv
	run --separate-stderr embspearman --header -x gold -y sys bom.tsv
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(embspearman --header -x gold -y sys bom.tsv | tail -n 1 | cut -f 3-)" \
		"$(embspearman plain.tsv | tail -n 1 | cut -f 3-)"
	printf '\xef\xbb\xbf1\t2\n2\t1\n3\t3\n' > bom2.tsv
	run --separate-stderr embpearson bom2.tsv
	assert_success
	assert_equal "$stderr" ""
	printf '1\t2\n2\t1\n3\t3\n4\t5' > cut.tsv
	run --separate-stderr embspearman cut.tsv
	assert_success
	assert_equal "$stderr" "embspearman: cut.tsv:4: last line has no newline (file cut short?)"
	assert_equal "$output" "$(embspearman plain.tsv)"
	printf '1\t2\n2\t1\0\n3\t3\n' > nul.tsv
	run -1 --separate-stderr embspearman nul.tsv
	assert_equal "$stderr" "embspearman: nul.tsv:2: line holds a NUL byte (binary data?)"
	# a real line number after blank lines and a header
	printf 'a\tb\n\n1\t2\n\n2\tx\n' > bl.tsv
	run -1 --separate-stderr embspearman --header -x a -y b bl.tsv
	assert_equal "$stderr" "embspearman: bl.tsv:5: column 2: not a number: 'x'"
	# decimal only
	printf '1\t2\n0x10\t3\n' > hex.tsv
	run -1 --separate-stderr embspearman hex.tsv
	assert_equal "$stderr" "embspearman: hex.tsv:2: column 1: not a number: '0x10'"
}

@test "an empty or blank cell past the first line is missing, never the next cell's number" {
	# The fast reader once let its number parser skip the tab of an empty
	# cell and read the next column's value in its place.
	printf '1\t5\t3\t9\n2\t6\t\t4\n3\t7\t2\t5\n4\t1\t7\t1\n5\t2\t8\t3\n' > e.tsv
	run --separate-stderr embspearman --nan omit -x 1 -y 3 e.tsv
	assert_success
	assert_equal "$stderr" "embspearman: 1 vs 3: omitted 1 of 5 rows with a missing value"
	check e.tsv -x 1 -y 3 --nan omit
	check e.tsv -x 1 -y 3,4 --nan propagate
	run -1 --separate-stderr embspearman -x 1 -y 3 e.tsv
	assert_equal "$stderr" "embspearman: e.tsv:2: column 3: missing value (see --nan)"
	printf '1\t5\t3\t9\n2\t6\t \t4\n3\t7\t2\t5\n' > b.tsv
	run -1 --separate-stderr embspearman -x 1 -y 3 b.tsv
	assert_equal "$stderr" "embspearman: b.tsv:2: column 3: not a number: ' '"
}
