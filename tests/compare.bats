#!/usr/bin/env bats
# embspearman/embpearson --compare: two systems scored against the same
# gold.  Williams' t and p against R psych's r.test values pinned in
# tests/corr_oracle.py (1e-9) and against the numpy formulas on random
# data; Steiger's z against its numpy formula; the paired bootstrap for
# reproducibility, for holding the observed difference and against a numpy
# paired bootstrap (loosely: another generator); the errors.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# gen KIND N SEED [GROUPS] > file: TSV columns group, gold, s1 (follows
# gold), s2 (follows it less), s3 (noise).  KIND ties: STS-style steps.
gen() {
	oracle - "$@" <<'PY'
import sys, numpy as np
kind, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ng = int(sys.argv[4]) if len(sys.argv) > 4 else 3
rng = np.random.default_rng(seed)
gold = rng.standard_normal(n)
s1 = gold + rng.standard_normal(n)
s2 = gold + 1.7 * rng.standard_normal(n)
s3 = rng.standard_normal(n)
if kind == "ties":
    gold = np.round(rng.integers(0, 26, n) / 5, 1)
    s1 = np.round(gold + rng.standard_normal(n), 1)
    s2 = np.round(gold + 2 * rng.standard_normal(n), 1)
    s3 = np.round(rng.standard_normal(n), 0)
for i in range(n):
    print("g%d\t%r\t%r\t%r\t%r" % (i % ng, float(gold[i]), float(s1[i]), float(s2[i]), float(s3[i])))
PY
}

# check KIND FILE ARGS...: run emb$KIND --compare ARGS FILE; compare with
# the oracle.
check() {
	local kind=$1 file=$2
	shift 2
	emb$kind --compare "$@" "$file" > "$BATS_TEST_TMPDIR/out"
	oracle "$EMB_SRCDIR/tests/corr_oracle.py" "compare-$kind" "$BATS_TEST_TMPDIR/out" "$file" "$@"
}

@test "Williams' t and p equal R psych's r.test (pinned), on data with exactly those r" {
	while read -r n r1 r2 r12 t p; do
		oracle "$EMB_SRCDIR/tests/corr_oracle.py" exact "$n" "$r1" "$r2" "$r12" 7 > d.tsv
		run embpearson --compare -y 2,3 d.tsv
		assert_success
		run oracle -c '
import sys
got = sys.argv[1].split("\n")[1].split("\t")
n, r1, r2, r12, t, p = map(float, sys.argv[2:])
ok = abs(float(got[4]) - r1) < 1e-12 and abs(float(got[5]) - r2) < 1e-12 and abs(float(got[6]) - r12) < 1e-12
ok = ok and int(got[3]) == n
ok = ok and abs(float(got[8]) - t) <= 1e-9 * abs(t) and abs(float(got[9]) - p) <= 1e-9 * p
print("ok" if ok else "got %r, R says t %r p %r" % (got, t, p))' "$output" "$n" "$r1" "$r2" "$r12" "$t" "$p"
		assert_output ok
	done < <(oracle "$EMB_SRCDIR/tests/corr_oracle.py" rpsych)
	[ "$(oracle "$EMB_SRCDIR/tests/corr_oracle.py" rpsych | wc -l)" -eq 6 ]
}

@test "random data, several seeds and sizes: Williams' t, Steiger's z, p as the numpy formulas" {
	for kind in spearman pearson; do
		for size in 4 5 30 400 3000; do
			for seed in 1 2; do
				gen random "$size" "$seed" > d.tsv
				check "$kind" d.tsv -x 2 -y 3,4,5 --steiger
			done
		done
		gen ties 500 3 > t.tsv
		check "$kind" t.tsv -x 2 -y 3,4,5 --steiger
	done
}

@test "each alternative; --percent; --group gives each group, mean, wmean and all" {
	gen random 300 4 > d.tsv
	for kind in spearman pearson; do
		for alt in two-sided less greater; do
			check "$kind" d.tsv -x 2 -y 3,4 --steiger --alternative "$alt"
		done
		check "$kind" d.tsv -x 2 -y 3,4,5 --percent
		check "$kind" d.tsv -x 2 -y 3,4,5 --group 1 --steiger
		gen random 90 5 2 > g2.tsv
		check "$kind" g2.tsv -x 2 -y 3,4 --group 1 --percent
	done
	# Spearman's three correlations are Pearson's of the average ranks.
	gen ties 200 6 > t.tsv
	oracle -c '
import numpy as np, scipy.stats as st
d = np.loadtxt("t.tsv", usecols=(1, 2, 3))
r = np.corrcoef(np.apply_along_axis(st.rankdata, 0, d).T)
print("%r\t%r\t%r" % (r[0, 1], r[0, 2], r[1, 2]))' > want.txt
	embspearman --compare -x 2 -y 3,4 t.tsv | tail -n 1 | cut -f5-7 > got.txt
	assert_close "$(cat got.txt)" "$(cat want.txt)" 1e-12
}

@test "--nan: omit uses the rows where all columns are present; propagate gives nan" {
	gen random 60 7 > d.tsv
	awk -F'\t' 'BEGIN { OFS = "\t" } NR % 7 == 0 { $3 = "NA" } NR % 11 == 0 { $4 = "" } { print }' d.tsv > m.tsv
	run --separate-stderr embspearman --compare --nan omit -x 2 -y 3,4 m.tsv
	assert_success
	assert_equal "$stderr" "embspearman: 2 vs 3 vs 4: omitted 13 of 60 rows with a missing value"
	check spearman m.tsv -x 2 -y 3,4 --nan omit --steiger
	check pearson m.tsv -x 2 -y 3,4 --nan omit --group 1
	check spearman m.tsv -x 2 -y 3,4,5 --nan propagate --group 1
	run embpearson --compare --nan propagate -x 2 -y 3,4 m.tsv
	assert_output "$(printf 'x\ty1\ty2\tn\tr1\tr2\tr12\tdiff\tt\tp\n2\t3\t4\t60\tnan\tnan\tnan\tnan\tnan\tnan')"
	run -1 --separate-stderr embpearson --compare -x 2 -y 3,4 m.tsv
	assert_equal "$stderr" "embpearson: m.tsv:7: column 3: missing value (see --nan)"
}

@test "--header names; --json prints the same numbers" {
	gen random 80 8 > d.tsv
	{ printf 'g\tgold\tA\tB\tC\n'; cat d.tsv; } > h.tsv
	check pearson h.tsv --header -x gold -y A,C,B --steiger
	embspearman --compare --header -x gold -y A,B --bootstrap 200 --steiger h.tsv > t.out
	embspearman --compare --header -x gold -y A,B --bootstrap 200 --steiger --json h.tsv > j.out
	run oracle -c 'import json, math
t = [l.rstrip("\n").split("\t") for l in open("t.out")]
j = json.load(open("j.out"))
assert len(j) == len(t) - 1 == 1
for tr in t[1:]:
    jr = j[0]
    assert [jr["x"], jr["y1"], jr["y2"], str(jr["n"])] == tr[:4], (jr, tr)
    assert [jr[k] for k in t[0][4:]] == [float(v) for v in tr[4:]], (jr, tr)
print("ok")'
	assert_output ok
}

@test "--bootstrap: reproducible by seed, holds the observed difference, near a numpy paired bootstrap" {
	for kind in spearman pearson; do
		for seed in 1 2 3; do
			gen random 250 "$seed" > d.tsv
			run emb$kind --compare -x 2 -y 3,4 --bootstrap 1000 --seed "$seed" d.tsv
			assert_success
			first=$output
			run emb$kind --compare -x 2 -y 3,4 --bootstrap 1000 --seed "$seed" d.tsv
			assert_equal "$output" "$first"
			run emb$kind --compare -x 2 -y 3,4 --bootstrap 1000 --seed $((seed + 10)) d.tsv
			[ "$output" != "$first" ]
			printf '%s\n' "$first" > out.tsv
			oracle "$EMB_SRCDIR/tests/corr_oracle.py" "compare-$kind" out.tsv d.tsv -x 2 -y 3,4 --bootstrap 1000
			# A numpy paired bootstrap (its own generator): resample rows
			# once, both correlations on the same resample.
			run oracle - "$kind" <<'PY'
import sys, numpy as np, scipy.stats as st
kind = sys.argv[1]
d = np.loadtxt("d.tsv", usecols=(1, 2, 3))
row = open("out.tsv").read().split("\n")[1].split("\t")
lo, hi, pb = map(float, row[10:13])
rng = np.random.default_rng(99)
# all 4000 resamples at once: Spearman is Pearson of each resample's ranks
s = d[rng.integers(0, len(d), (4000, len(d)))]
if kind == "spearman":
    s = st.rankdata(s, axis=1)
def r(u, v):
    u = u - u.mean(1, keepdims=True); v = v - v.mean(1, keepdims=True)
    return (u * v).sum(1) / np.sqrt((u * u).sum(1) * (v * v).sum(1))
diffs = r(s[:, :, 0], s[:, :, 1]) - r(s[:, :, 0], s[:, :, 2])
wlo, whi = np.quantile(diffs, [0.025, 0.975])
wp = min(1, 2 * min((diffs <= 0).mean(), (diffs >= 0).mean()))
ok = abs(lo - wlo) < 0.03 and abs(hi - whi) < 0.03 and abs(pb - wp) < 0.03
print("ok" if ok else "ours %r %r %r, numpy %r %r %r" % (lo, hi, pb, wlo, whi, wp))
PY
			assert_output ok
		done
	done
}

@test "--bootstrap with --group resamples within groups; --ci sets the level; one-sided intervals" {
	gen random 240 9 3 > d.tsv
	run embspearman --compare --group 1 -x 2 -y 3,4 --bootstrap 500 --seed 2 d.tsv
	assert_success
	printf '%s\n' "$output" > out.tsv
	oracle "$EMB_SRCDIR/tests/corr_oracle.py" compare-spearman out.tsv d.tsv -x 2 -y 3,4 --group 1 --bootstrap 500
	# mean and wmean have an interval and p_boot, but no t (no simple test).
	run awk -F'\t' '$1 == "mean" || $1 == "wmean" { print $10, $11, ($12 < $13) }' out.tsv
	assert_output "$(printf 'nan nan 1\nnan nan 1')"
	# A stratified numpy bootstrap of the mean difference agrees loosely.
	run oracle - <<'PY'
import numpy as np, scipy.stats as st
g = np.loadtxt("d.tsv", usecols=0, dtype=str)
d = np.loadtxt("d.tsv", usecols=(1, 2, 3))
rows = [l.split("\t") for l in open("out.tsv").read().split("\n")[1:] if l]
mean = [r for r in rows if r[0] == "mean"][0]
rng = np.random.default_rng(5)
parts = [d[g == k] for k in ("g0", "g1", "g2")]
def r(u, v):
    u = u - u.mean(1, keepdims=True); v = v - v.mean(1, keepdims=True)
    return (u * v).sum(1) / np.sqrt((u * u).sum(1) * (v * v).sum(1))
m = []
for p in parts:  # 3000 resamples of each group at once; Spearman = Pearson of ranks
    s = st.rankdata(p[rng.integers(0, len(p), (3000, len(p)))], axis=1)
    m.append(r(s[:, :, 0], s[:, :, 1]) - r(s[:, :, 0], s[:, :, 2]))
diffs = np.mean(m, axis=0)
wlo, whi = np.quantile(diffs, [0.025, 0.975])
lo, hi = float(mean[11]), float(mean[12])
print("ok" if abs(lo - wlo) < 0.03 and abs(hi - whi) < 0.03 else (lo, hi, wlo, whi))
PY
	assert_output ok
	# A narrower level gives a narrower interval from the same resamples.
	w95=$(embpearson --compare -x 2 -y 3,5 --bootstrap 400 d.tsv | tail -n 1 | awk -F'\t' '{print $12 - $11}')
	w80=$(embpearson --compare -x 2 -y 3,5 --bootstrap 400 --ci 0.8 d.tsv | tail -n 1 | awk -F'\t' '{print $12 - $11}')
	run oracle -c "print($w80 < $w95)"
	assert_output True
	# One-sided: the open end is the bound of a difference, 2 or -2.
	run embpearson --compare -x 2 -y 3,5 --bootstrap 300 --alternative greater --percent d.tsv
	assert_equal "$(tail -n 1 <<< "$output" | cut -f12)" 200.00
	printf '%s\n' "$output" > g.tsv
	oracle "$EMB_SRCDIR/tests/corr_oracle.py" compare-pearson g.tsv d.tsv -x 2 -y 3,5 --bootstrap 300 --alternative greater --percent
	run embpearson --compare -x 2 -y 3,5 --bootstrap 300 --alternative less d.tsv
	assert_equal "$(tail -n 1 <<< "$output" | cut -f11)" -2
}

@test "small n and constant columns: nan with a warning, not a number" {
	printf 'a\t1\t2\t3\nb\t2\t1\t1\nc\t3\t3\t2\n' > three.tsv
	run --separate-stderr embspearman --compare -x 2 -y 3,4 three.tsv
	assert_success
	assert_equal "$stderr" "embspearman: 2 vs 3 vs 4: fewer than 4 pairs; Williams' t is not defined"
	assert_equal "$(tail -n 1 <<< "$output" | cut -f9,10)" "$(printf 'nan\tnan')"
	check spearman three.tsv -x 2 -y 3,4
	printf '1\t2\t5\n2\t1\t5\n3\t3\t5\n4\t4\t5\n' > const.tsv
	run --separate-stderr embpearson --compare -y 2,3 const.tsv
	assert_success
	assert_equal "$stderr" "embpearson: 1 vs 2 vs 3: an input is constant; the correlations are not defined"
	assert_equal "$(tail -n 1 <<< "$output" | cut -f5-)" "$(printf 'nan\tnan\tnan\tnan\tnan\tnan')"
}

@test "usage errors: status 2, exact messages" {
	printf '1\t2\t3\t4\n2\t1\t3\t3\n3\t3\t1\t2\n4\t4\t4\t1\n' > d.tsv
	run -2 --separate-stderr embspearman --compare -x 1 -y 2 d.tsv
	assert_output ""
	assert_equal "${stderr_lines[0]}" "embspearman: --compare needs at least two -y columns, not '2'"
	assert_equal "${stderr_lines[1]}" "Try 'embspearman --help' for more information."
	run -2 --separate-stderr embpearson --steiger -y 2,3 d.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --steiger needs --compare"
	run -2 --separate-stderr embpearson --compare -y 2,3 --ci 0.9 d.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --ci with --compare needs --bootstrap"
	run -2 --separate-stderr embpearson --compare --vectors d.tsv d.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --compare does not apply to --vectors"
	run -1 --separate-stderr embspearman --compare -y 2,9 d.tsv
	assert_output ""
	assert_equal "$stderr" "embspearman: d.tsv:1: no column 9 (the line has 4)"
	run -2 --separate-stderr embpearson --compare --bootstrap=-1 -y 2,3 d.tsv
	assert_equal "${stderr_lines[0]}" "embpearson: --bootstrap must be between 1 and 10000000, not -1"
}

@test "embpearson --bootstrap without --compare: a percentile interval of r, reproducible" {
	gen random 200 11 > d.tsv
	run embpearson -x 2 -y 3 --bootstrap 1000 --seed 3 d.tsv
	assert_success
	first=$output
	run embpearson -x 2 -y 3 --bootstrap 1000 --seed 3 d.tsv
	assert_equal "$output" "$first"
	fisher=$(embpearson -x 2 -y 3 --ci 0.95 d.tsv | tail -n 1 | cut -f6,7)
	assert_close "$(tail -n 1 <<< "$first" | cut -f6,7)" "$fisher" 0.03
	assert_equal "$(head -n 1 <<< "$first")" "$(printf 'x\ty\tn\tr\tp\tlo\thi')"
}
