#!/usr/bin/env bats
# --partial / --merge (embcenter, embwhiten, embstat, embpearson) and the
# Spearman recipe of embspearman(1): the partials of random splits, with
# empty and 1-row parts, merge to the one-pass fit (1e-9 relative in f64)
# and to numpy/scipy; every refusal has its message.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE ARGS...: python with numpy as np and tests/oracle.py as o.
py() {
	oracle -c "import sys, numpy as np, oracle as o
$1" "${@:2}"
}

# mksplit SEED N D K DTYPE [OFFSET [zero]]: random anisotropic rows (mean
# OFFSET, default 1000, far larger than the spread; with "zero", row 6 is
# all zeros, which has no unit vector) in all.emb and the same rows
# cut at random into part.1.emb .. part.K.emb, part 1 empty, part 2 one
# row, part K-1 empty again, the others of random sizes (some empty).
mksplit() {
	py '
seed, n, d, k, dt = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
off = float(sys.argv[6]) if len(sys.argv) > 6 else 1000.0
rng = np.random.default_rng(seed)
x = rng.standard_normal((n, d)) @ (rng.standard_normal((d, d)) * np.logspace(0, -2, d)) + off
if len(sys.argv) > 7 and sys.argv[7] == "zero":
    x[5] = 0
x = x.astype(o.DT[dt]).astype(np.float64)
bounds = [0, 0, 1] + sorted(rng.integers(1, n + 1, k - 4).tolist()) + [n, n]
keys = ["r%d" % i for i in range(n)]
open("all.emb", "wb").write(o.write(x, dt, keys, chunk_rows=97))
for i in range(k):
    a, b = bounds[i], bounds[i + 1]
    open("part.%d.emb" % (i + 1), "wb").write(o.write(x[a:b].reshape(b - a, d), dt, keys[a:b], chunk_rows=41))
' "$@"
}

# partials PROG [OPTION]...: p.I.emb = PROG --partial part.I.emb for each part.
partials() {
	local f i
	for f in part.*.emb; do
		i=${f#part.}
		"$1" --partial "${@:2}" "$f" > "p.$i" || return 1
	done
}

# close A B TOL: two model files hold the same rows, to TOL relative to
# the largest value, and the same transform parameters; prints the
# difference (for the report).
close() {
	py '
ra, ka, ha = o.read(open(sys.argv[1], "rb").read())
rb, kb, hb = o.read(open(sys.argv[2], "rb").read())
tol = float(sys.argv[3])
assert ka == kb, (ka, kb)
ta, tb = ha[0]["transform"], hb[0]["transform"]
for key in set(ta) | set(tb):
    va, vb = ta.get(key), tb.get(key)
    if isinstance(va, float) or isinstance(vb, float):
        assert abs(va - vb) <= tol * max(abs(vb), 1e-300), (key, va, vb)
    else:
        assert va == vb, (key, va, vb)
diff = np.abs(ra - rb).max() / np.abs(rb).max()
print("max relative difference %.3g" % diff)
assert diff <= tol, diff
' "$@"
}

@test "embwhiten: merged partials of random splits are the one-pass model (f64, 1e-9)" {
	for seed in 1 2 3; do
		mksplit "$seed" 700 12 9 f64
		partials embwhiten
		for opts in "" "-k 5" "--zca" "--power=0" "--eps=0.01 --normalize" "-k 3 --power=-1"; do
			embwhiten $opts --save one.model all.emb > /dev/null
			embwhiten --merge $opts --save merged.model p.*
			close merged.model one.model 1e-9
		done
	done
}

@test "embwhiten: merged model against numpy (mean, and U (S + eps)^-1/2 of np.cov)" {
	mksplit 4 500 10 7 f64 -3e4
	partials embwhiten
	embwhiten --merge --save m.model p.*
	py 'x = o.load("all.emb"); m = o.load("m.model")
eps = o.read(open("m.model", "rb").read())[2][0]["transform"]["eps"]
assert np.abs(m[0] - x.mean(0)).max() <= 1e-12 * np.abs(x.mean(0)).max(), m[0] - x.mean(0)
s, u = np.linalg.eigh(np.cov(x.T)); s, u = s[::-1], u[:, ::-1]
w = (u * (s + eps) ** -0.5).T
w *= np.sign(w[np.arange(10), np.abs(w).argmax(1)])[:, None]
d = np.abs(m[1:] - w).max() / np.abs(w).max()
print("merged vs numpy: %.3g" % d)
assert d < 1e-8, d'
}

@test "embwhiten: f32 input merges to the one-pass model to f32 rounding of outputs" {
	mksplit 5 3000 16 8 f32 5
	partials embwhiten
	embwhiten --save one.model all.emb > one.emb
	embwhiten --merge --save merged.model p.*
	close merged.model one.model 1e-9
	embwhiten --load merged.model all.emb > merged.emb
	py 'a = o.load("one.emb"); b = o.load("merged.emb")
d = np.abs(a - b).max() / np.abs(a).max()
print("outputs differ by %.3g" % d)
assert d < 1e-6, d'
}

@test "embwhiten: 20000 f32 rows: merged and one-pass models equal numpy's, smallest direction too" {
	# the smallest direction's eigenvalue is ~4e-8 of the largest: below
	# f32 rounding, so an f32 sum of products would lose it
	mksplit 7 20000 32 6 f32 5
	partials embwhiten
	embwhiten --merge --save m.model p.*
	embwhiten --save one.model all.emb > /dev/null
	close m.model one.model 1e-9
	py 'x = o.load("all.emb"); m = o.load("m.model")
t = o.read(open("m.model", "rb").read())[2][0]["transform"]
assert t["rank"] == 32, t
s, u = np.linalg.eigh(np.cov(x.T)); s, u = s[::-1], u[:, ::-1]
w = (u * (s + t["eps"]) ** -0.5).T
w *= np.sign(w[np.arange(32), np.abs(w).argmax(1)])[:, None]
d = np.abs(m[1:] - w).max() / np.abs(w).max()
print("merged vs numpy: %.3g" % d)
assert d < 1e-8, d'
}

@test "embwhiten: fewer rows than dims: the merge matches the covariance and the Gram routes" {
	for seed in 6 7; do
		mksplit "$seed" 12 20 6 f64
		partials embwhiten
		embwhiten --merge -k 5 --save merged.model p.*
		EMB_GRAM=off embwhiten -k 5 --save cov.model all.emb > /dev/null
		close merged.model cov.model 1e-9
		# The Gram route's top directions are the same, to its rounding.
		embwhiten -k 5 --save gram.model all.emb > /dev/null
		py 'a = o.load("merged.model"); b = o.load("gram.model")
assert np.abs(a - b).max() <= 1e-8 * np.abs(b).max(), np.abs(a - b).max()'
	done
}

@test "embcenter: merged partials give the one-pass mean and --abtt model" {
	for seed in 8 9 10; do
		mksplit "$seed" 400 9 10 f64
		partials embcenter
		for opts in "" "--abtt=2" "--abtt=1 --normalize"; do
			embcenter $opts --save one.model all.emb > /dev/null
			embcenter --merge $opts --save merged.model p.*
			close merged.model one.model 1e-9
		done
	done
	py 'x = o.load("all.emb"); m = o.load("merged.model")
assert np.abs(m[0] - x.mean(0)).max() <= 1e-12 * np.abs(x).max()'
}

@test "embcenter --remove-pc: merged partials give the one-pass uncentred directions and numpy's" {
	for seed in 15 16 17; do
		for dt in f64 f32; do
			mksplit "$seed" 300 8 7 "$dt" 3
			partials embcenter
			for opts in "--remove-pc=1" "--remove-pc=3 --normalize"; do
				embcenter $opts --save one.model all.emb > /dev/null
				embcenter --merge $opts --save merged.model p.*
				close merged.model one.model 1e-9
			done
			# X - X V V^T with V from np.linalg.svd(X), as the issue states it
			embcenter --load merged.model all.emb > out.emb
			py 'x = o.load("all.emb"); y = o.load("out.emb")
v = np.linalg.svd(x, full_matrices=False)[2][:3].T
want = x - x @ v @ v.T
# f32 rounding of x, relative to what is left of each row after removal
bound = 64 * 2.0**-24 * np.linalg.norm(x, axis=1) / np.linalg.norm(want, axis=1)
want /= np.linalg.norm(want, axis=1, keepdims=True)
err = np.abs(y - want).max(axis=1)
assert (err <= bound).all(), (err / bound).max()'
		done
	done
}

@test "one partial feeds embcenter, embwhiten and embstat alike" {
	mksplit 11 300 6 5 f32
	partials embstat
	mkdir w && for f in part.*.emb; do embwhiten --partial "$f" > "w/${f#part.}"; done
	for f in p.*; do
		py 'ra, ka, ha = o.read(open(sys.argv[1], "rb").read())
rb, kb, hb = o.read(open(sys.argv[2], "rb").read())
assert ka == kb and ha[0]["partial"] == hb[0]["partial"] and (ra == rb).all()' "$f" "w/${f#p.}"
	done
	embwhiten --merge --save a.model p.*
	embwhiten --merge --save b.model w/*
	cmp <(embcat -O tsv a.model) <(embcat -O tsv b.model)
	embcenter --merge --save c.model p.*
	embcenter --save one.model all.emb > /dev/null
	close c.model one.model 1e-9
}

@test "embstat --merge: the one-pass report but partition_isotropy, which it says it leaves out" {
	for seed in 12 13 14; do
		mksplit "$seed" 600 8 9 f64 1000 zero
		partials embstat
		embstat --json --pairs=1000000 all.emb > one.json
		run --separate-stderr embstat --merge --json p.*
		[ "$status" -eq 0 ]
		[ "$stderr" = "embstat: 1 zero row left out of the average cosine
embstat: partition_isotropy left out: it needs a second pass over the rows" ]
		echo "$output" > merged.json
		py 'import json
a = json.load(open("merged.json")); b = json.load(open("one.json"))
assert "partition_isotropy" not in a and set(a) == set(b) - {"partition_isotropy"}, set(a) ^ set(b)
worst = 0
for k in a:
    va = np.array(a[k], float); vb = np.array(b[k], float)
    d = np.abs(va - vb).max() / max(np.abs(vb).max(), 1e-300)
    worst = max(worst, d)
    assert d <= 1e-9, (k, a[k], b[k])
print("max relative difference %.3g" % worst)'
	done
	# TSV: the same lines as one pass, without partition_isotropy.
	embstat --pairs=1000000 --top=3 all.emb | grep -v partition_isotropy | cut -f1 > one.names
	embstat --merge --top=3 p.* 2> /dev/null | cut -f1 > merged.names
	cmp one.names merged.names
	# --spectrum alone needs no second pass: nothing is left out.
	run --separate-stderr embstat --merge --spectrum p.*
	[ "$stderr" = "embstat: 1 zero row left out of the average cosine" ]
	embstat --spectrum all.emb > one.tsv
	py 'a = np.loadtxt(sys.argv[1]); b = np.loadtxt(sys.argv[2])
assert np.abs(a - b).max() <= 1e-9 * np.abs(b).max()' one.tsv <(echo "$output")
}

@test "embstat --merge: values against numpy" {
	mksplit 15 500 7 6 f64 0
	partials embstat
	embstat --merge --json p.* 2> /dev/null > m.json
	py 'import json
r = json.load(open("m.json")); x = o.load("all.emb")
nz = x[np.linalg.norm(x, axis=1) > 0]; u = nz / np.linalg.norm(nz, axis=1, keepdims=True)
g = u @ u.T; m = len(u)
cos = (g.sum() - np.trace(g)) / (m * (m - 1))
ev = np.sort(np.linalg.eigvalsh(np.cov(x.T)))[::-1]
assert r["n"] == 500 and r["dim"] == 7
assert abs(r["avg_cos"] - cos) < 1e-12, (r["avg_cos"], cos)
assert abs(r["mean_norm"] - np.linalg.norm(x.mean(0))) < 1e-12
assert abs(r["norm_mean"] - np.linalg.norm(x, axis=1).mean()) < 1e-12
assert np.allclose(r["explained_variance_ratio"], ev / ev.sum(), rtol=1e-10, atol=0)'
}

@test "partials of empty input: a merge of nothing but empty parts, and with others" {
	: > empty.tsv
	embwhiten --partial empty.tsv > e.p
	embinfo e.p | grep -q '"n":	0'
	mksplit 16 50 4 4 f64
	partials embwhiten
	embwhiten --merge --save a.model e.p p.*
	embwhiten --save one.model all.emb > /dev/null
	close a.model one.model 1e-9
	run --separate-stderr embstat --merge e.p
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "n	0" ]
}

@test "--partial and --merge refusals" {
	embgen -n 20 -d 3 > v.emb
	embgen -n 20 -d 4 > w.emb
	embwhiten --partial v.emb > pv
	embwhiten --partial w.emb > pw
	printf '1\t2\n2\t3\n4\t4\n' > c.tsv
	embpearson --partial c.tsv > pp
	run -1 --separate-stderr embwhiten --merge --save m v.emb
	[ "$stderr" = "embwhiten: v.emb: not a partial (no \"partial\" in its header; make one with --partial)" ]
	[ -z "$output" ] && [ ! -e m ]
	run -1 --separate-stderr embwhiten --merge --save m pv pw
	[ "$stderr" = "embwhiten: pw: a partial of dim 4, but pv has dim 3" ]
	run -1 --separate-stderr embcenter --merge --save m pv pp
	[ "$stderr" = "embcenter: pp: a partial of kind 'pearson', not 'moments'" ]
	run -1 --separate-stderr embpearson --merge pp pv
	[ "$stderr" = "embpearson: pv: a partial of kind 'moments', not 'pearson'" ]
	run -1 --separate-stderr embstat --merge c.tsv
	[ "$stderr" = "embstat: c.tsv: not a partial (no \"partial\" in its header; make one with --partial)" ]
	[ ! -e m ]
	# A partial cut short is no partial.
	head -c -24 pv > cut
	run -1 --separate-stderr embwhiten --merge --save m cut
	[[ $stderr = "embwhiten: cut: "* ]]
	[ ! -e m ]
	run -2 --separate-stderr embwhiten --partial --save m v.emb
	[ "${stderr_lines[0]}" = "embwhiten: --partial writes statistics, not a model: --save belongs to --merge" ]
	run -2 --separate-stderr embwhiten --merge pv
	[ "${stderr_lines[0]}" = "embwhiten: --merge writes a model: give --save=MODEL" ]
	run -2 --separate-stderr embcenter --partial --merge pv
	[ "${stderr_lines[0]}" = "embcenter: options --partial and --merge cannot be used together" ]
	run -2 --separate-stderr embcenter --merge --save m
	[ "${stderr_lines[0]}" = "embcenter: --merge wants the partials to merge as operands" ]
	run -2 --separate-stderr embcenter --partial -O tsv v.emb
	[ "${stderr_lines[0]}" = "embcenter: option '-O' does not apply to --partial (a partial is always binary f64)" ]
	run -2 --separate-stderr embstat --merge --pairs 10 pv
	[ "${stderr_lines[0]}" = "embstat: --merge averages the cosine over all pairs exactly: --pairs does not apply" ]
	run -2 --separate-stderr embstat --partial --json v.emb
	[ "${stderr_lines[0]}" = "embstat: --partial writes statistics, not a report: --json belongs to --merge" ]
	run -2 --separate-stderr embpearson --merge -y 3 pp
	[ "${stderr_lines[0]}" = "embpearson: --merge takes the columns from the partials: -y belongs to --partial" ]
	run -2 --separate-stderr embpearson --partial --ci 0.9 c.tsv
	[ "${stderr_lines[0]}" = "embpearson: --partial writes statistics, not a report: --ci belongs to --merge" ]
	run -2 --separate-stderr embpearson --partial --vectors v.emb v.emb
	[ "${stderr_lines[0]}" = "embpearson: options --partial and --vectors cannot be used together" ]
	run -2 --separate-stderr embwhiten --merge --load m pv
	[ "${stderr_lines[0]}" = "embwhiten: options --merge and --load cannot be used together" ]
}

# ---- embpearson ----

# pgen N SEED > file: TSV columns group, gold, sys1, sys2 with ties, some
# missing cells (empty or nan) and a constant group.
pgen() {
	oracle - "$@" <<'PY'
import sys, numpy as np
n, seed = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(seed)
gold = np.round(rng.integers(0, 26, n) / 5, 1) + 100
s1 = np.round(gold + rng.standard_normal(n), 2)
s2 = rng.standard_normal(n) * 1e-3
grp = rng.choice(["a", "b", "c", "const"], n)
s2[grp == "const"] = 7
for i in range(n):
    v1 = "" if rng.random() < 0.03 else repr(float(s1[i]))
    v2 = "nan" if rng.random() < 0.03 else repr(float(s2[i]))
    print("%s\t%r\t%s\t%s" % (grp[i], float(gold[i]), v1, v2))
PY
}

# psplit FILE K SEED: FILE's lines cut at random into s.1.tsv .. s.K.tsv
# (the first empty, the second one line).
psplit() {
	py '
lines = open(sys.argv[1]).readlines(); k = int(sys.argv[2])
rng = np.random.default_rng(int(sys.argv[3]))
cuts = [0, 0, 1] + sorted(rng.integers(1, len(lines), k - 3).tolist()) + [len(lines)]
for i in range(k):
    open("s.%d.tsv" % (i + 1), "w").writelines(lines[cuts[i]:cuts[i + 1]])
' "$@"
}

@test "embpearson --merge: random splits give the one-pass report, and scipy's" {
	local n=0
	for seed in 1 2 3; do
		pgen 400 "$seed" > d$seed.tsv
		rm -f s.*.tsv
		psplit d$seed.tsv 8 "$seed"
		for cols in "-x 2 -y 3,4 --nan=omit" "-x 2 -y 3,4 --group 1 --nan=omit" \
			    "-x 2 -y 3 --nan=propagate" "-x 2 -y 3,4 --group 1 --nan=propagate"; do
			rm -f s.*.p
			for f in s.*.tsv; do embpearson $cols --partial "$f" > "${f%.tsv}.p" 2> /dev/null; done
			for rep in "" "--ci 0.9" "--alternative less --ci 0.95" "--json"; do
				n=$((n + 1))
				embpearson $cols $rep d$seed.tsv > one$n.out 2> one.err
				embpearson --merge $rep s.*.p > merged$n.out 2> merged.err
				cmp one.err merged.err
				oracle_later "$EMB_SRCDIR/tests/same_numbers.py" merged$n.out one$n.out
				case $rep in --json) ;; *) oracle_later "$EMB_SRCDIR/tests/corr_oracle.py" pearson merged$n.out d$seed.tsv $cols $rep ;; esac
			done
		done
	done
	oracle_check
}

@test "embpearson --merge: --header columns, and partials of other columns are refused" {
	pgen 60 4 > d.tsv
	{ printf 'grp\tgold\tsys1\tsys2\n'; head -30 d.tsv; } > h1.tsv
	{ printf 'grp\tgold\tsys1\tsys2\n'; tail -n +31 d.tsv; } > h2.tsv
	embpearson --header -x gold -y sys1 --nan=omit --partial h1.tsv > h1.p
	embpearson --header -x gold -y sys1 --nan=omit --partial h2.tsv > h2.p
	embpearson --merge h1.p h2.p > merged.out 2> /dev/null
	{ printf 'grp\tgold\tsys1\tsys2\n'; cat d.tsv; } > h.tsv
	oracle "$EMB_SRCDIR/tests/corr_oracle.py" pearson merged.out h.tsv --header -x gold -y sys1 --nan omit
	embpearson --header -x gold -y sys2 --nan=omit --partial h2.tsv > other.p
	run -1 --separate-stderr embpearson --merge h1.p other.p
	[ "$stderr" = "embpearson: other.p: a partial of other columns than h1.p's (-x, -y and --group must be the same)" ]
	embpearson --header -x gold -y sys1 --nan=propagate --partial h2.tsv > prop.p
	run -1 --separate-stderr embpearson --merge h1.p prop.p
	[ "$stderr" = "embpearson: prop.p: a partial made with --nan=propagate, but h1.p with --nan=omit" ]
}

# ---- the Spearman recipe of embspearman(1), "Sharded scores" ----

# recipe: the pipeline of the man page, as printed, with parts of 400 rows
# instead of 10 million so that a test has many.
recipe() {
	sed -n '/^\.Ss Sharded scores/,/^\.Ss \|^\.Sh /p' "$EMB_SRCDIR/man/embspearman.1" |
		sed -n '/^\.Bd -literal/,/^\.Ed/{/^\.[BE]d/d;p}' |
		sed -e 's/\\e/\\/g' -e 's/-l 10000000/-l 400/'
}

@test "Spearman beyond memory: the man page's recipe (sort -g, average ranks, Pearson partials) = scipy.stats.spearmanr" {
	recipe > recipe.sh
	grep -q 'embpearson --merge part' recipe.sh
	for seed in 1 2 3; do
		rm -f part.* rx ry sorted
		# Heavy ties (a giant tie run, written as 1, 1.0, 1e0 and 1.00),
		# negative values and exponents, in columns 2 and 3.
		py '
rng = np.random.default_rng(int(sys.argv[1])); n = 3000
x = rng.integers(-3, 4, n).astype(float); x[rng.random(n) < 0.5] = 1
y = np.round(x + rng.standard_normal(n), 1) * 10.0 ** rng.integers(-2, 3, n)
with open("scores.tsv", "w") as f:
    for i, (a, b) in enumerate(zip(x, y)):
        sa = {1.0: rng.choice(["1", "1.0", "1e0", "1.00"])}.get(a, repr(a))
        f.write("id%d\t%s\t%r\n" % (i, sa, b))
' "$seed"
		sh recipe.sh > merged.out
		[ "$(ls part.*.emb | wc -l)" -eq 8 ]
		embspearman -x 2 -y 3 scores.tsv > one.out
		py '
from scipy import stats
d = np.loadtxt("scores.tsv", usecols=(1, 2)); res = stats.spearmanr(d[:, 0], d[:, 1])
m = open("merged.out").read().split("\n")[1].split("\t")
s = open("one.out").read().split("\n")[1].split("\t")
assert m[2] == "3000" and abs(float(m[3]) - res.statistic) <= 1e-12, (m, res)
assert abs(float(m[4]) - res.pvalue) <= 1e-9 * res.pvalue, (m, res)
assert abs(float(s[3]) - res.statistic) <= 1e-12, (s, res)
print("rho %r, merged %s" % (res.statistic, m[3]))'
	done
}
