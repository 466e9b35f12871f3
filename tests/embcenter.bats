#!/usr/bin/env bats
# embcenter: centring, --normalize and all-but-the-top against numpy,
# saved models, the stdin spill, and every error message.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE ARGS...: python with numpy as np and tests/oracle.py as o;
# load(F) reads a stream file into a float64 matrix; abtt(X, D) is
# Mu & Viswanath's post-processing with the centred vectors projected.
py() {
	oracle -c "import sys, numpy as np, oracle as o
load = o.load
def abtt(x, d):
    xc = x - x.mean(0)
    s, u = np.linalg.eigh(np.cov(xc.T))
    top = u[:, ::-1][:, :d]
    return xc - xc @ top @ top.T
$1" "${@:2}"
}

aniso() {
	embgen -n 800 -d 12 --seed 4 --anisotropic --keys > a.emb
}

@test "default: subtract the mean (numpy, 1e-5)" {
	aniso
	embcenter a.emb > c.emb
	py 'x = load("a.emb"); c = load("c.emb")
assert c.shape == x.shape
assert np.abs(c - (x - x.mean(0))).max() < 1e-5, np.abs(c - (x - x.mean(0))).max()
assert np.abs(c.mean(0)).max() < 1e-5'
	run embcat -O tsv c.emb
	assert_line --index 0 --regexp '^w0	'
}

@test "mean 1e4 times the spread: centred values exact to 1e-9 (f64)" {
	py 'rng = np.random.default_rng(3)
x = 1e4 + rng.standard_normal((2500, 5))
sys.stdout.buffer.write(o.write(x, "f64"))' > big.emb
	embcenter big.emb > c.emb
	embcenter --abtt=2 big.emb > t.emb
	py 'x = load("big.emb"); c = load("c.emb"); t = load("t.emb")
assert np.abs(c - (x - x.mean(0))).max() < 1e-9
assert np.abs(t - abtt(x, 2)).max() < 1e-9, np.abs(t - abtt(x, 2)).max()'
}

@test "--normalize: centred rows scaled to unit length" {
	aniso
	embcenter --normalize a.emb > n.emb
	py 'x = load("a.emb"); n = load("n.emb")
c = x - x.mean(0)
assert np.abs(n - c / np.linalg.norm(c, axis=1, keepdims=True)).max() < 1e-6'
}

@test "--abtt D removes the top D principal directions (numpy, 1e-4)" {
	aniso
	embcenter --abtt=3 a.emb > t3.emb
	embcenter --abtt a.emb > t1.emb
	embcenter --abtt=3 --normalize a.emb > t3n.emb
	py 'x = load("a.emb")
for d, f in ((3, "t3.emb"), (1, "t1.emb")):
    t = load(f)
    assert np.abs(t - abtt(x, d)).max() < 1e-4, (d, np.abs(t - abtt(x, d)).max())
want = abtt(x, 3); want /= np.linalg.norm(want, axis=1, keepdims=True)
assert np.abs(load("t3n.emb") - want).max() < 1e-5'
}

@test "--abtt on large f32 input (sums in double) equals numpy to f32 rounding" {
	embgen -n 20000 -d 40 --seed 6 --anisotropic > big.emb
	embcenter --abtt=3 big.emb > t.emb
	py 'x = load("big.emb"); t = load("t.emb"); want = abtt(x, 3)
# f32 rounding of rows read and written, relative to each input row
err = np.abs(t - want).max(axis=1) / np.abs(x).max(axis=1)
assert err.max() < 16 * 2.0**-24, err.max()'
}

@test "--abtt default D is dim/100 rounded, at least 1" {
	embgen -n 300 -d 250 --seed 2 --anisotropic > w.emb
	embcenter --abtt --save m250 w.emb > /dev/null
	embgen -n 30 -d 20 --seed 2 > s.emb
	embcenter --abtt --save m20 s.emb > /dev/null
	run embinfo m250
	assert_output --partial '"k":	3'
	assert_output --partial '"kind":	"abtt"'
	run embinfo m20
	assert_output --partial '"k":	1'
}

@test "--save writes mean (and directions); --load applies it to new rows in one pass" {
	aniso
	embgen -n 7 -d 12 --seed 8 > q.emb
	embcenter --save m a.emb > c.emb
	embcenter --load m a.emb > c2.emb
	same c.emb c2.emb
	embcenter --load m < q.emb > qc.emb
	run embcat -O tsv m
	assert_equal "${#lines[@]}" 1
	assert_line --index 0 --regexp '^mean	'
	run embinfo m
	assert_output --partial '"kind":	"center"'
	embcenter --abtt=2 --save t a.emb > t.emb
	embcenter --load t a.emb > t2.emb
	same t.emb t2.emb
	embcenter --load t q.emb > qt.emb
	py 'x = load("a.emb"); q = load("q.emb"); m = load("m"); t = load("t")
assert np.abs(m[0] - x.mean(0)).max() < 1e-6
assert np.abs(load("qc.emb") - (q - x.mean(0))).max() < 1e-5
assert t.shape == (3, 12)
qc = q - x.mean(0); u = t[1:].T
assert np.abs(load("qt.emb") - (qc - qc @ u @ u.T)).max() < 1e-5
s, v = np.linalg.eigh(np.cov(x.T))
top = v[:, ::-1][:, :2]
assert np.abs(np.abs(top.T @ u) - np.eye(2)).max() < 1e-6'
}

@test "stdin, a pipe, TSV and a file give the same rows; the spill is removed" {
	aniso
	embcat -O tsv a.emb > a.tsv
	mkdir tmp
	embcenter a.emb > file.emb
	TMPDIR=$PWD/tmp embcenter < a.emb > redirect.emb
	cat a.emb | TMPDIR=$PWD/tmp embcenter > pipe.emb
	cat a.tsv | TMPDIR=$PWD/tmp embcenter -O emb > tsv.emb
	same file.emb redirect.emb
	same file.emb pipe.emb
	assert_equal "$(ls tmp)" ""
	run embcenter a.tsv
	assert_line --index 0 --regexp '^w0	'
	py 'a, b = load("file.emb"), load("tsv.emb")
assert np.abs(a - b).max() < 1e-6'
}

@test "empty input gives an empty output and status 0" {
	run --separate-stderr embcenter < /dev/null
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "data errors: bad rows, dim mismatch, not a model" {
	printf 'a 1 2\nb 3 x\n' > bad.tsv
	run -1 --separate-stderr embcenter bad.tsv
	assert_output ""
	[[ "$stderr" == "embcenter: bad.tsv:2: "* ]]
	embgen -n 20 -d 4 > d4.emb
	embgen -n 20 -d 3 > d3.emb
	embcenter --save m4 d4.emb > /dev/null
	run -1 --separate-stderr embcenter --load m4 d3.emb
	assert_equal "$stderr" "embcenter: d3.emb: dim 3 differs from the model's 4"
	assert_output ""
	run -1 --separate-stderr embcenter --load d3.emb d3.emb
	assert_equal "$stderr" "embcenter: d3.emb: not a transform model (no \"transform\" in its header)"
	assert_output ""
}

@test "usage errors exit 2" {
	embgen -n 20 -d 4 > d4.emb
	run -2 --separate-stderr embcenter --abtt=0 d4.emb
	assert_equal "$stderr" "embcenter: --abtt must be between 1 and 16777216, not 0
Try 'embcenter --help' for more information."
	run -2 --separate-stderr embcenter --abtt=5 d4.emb
	assert_equal "$stderr" "embcenter: --abtt 5 is more than the input's dim 4
Try 'embcenter --help' for more information."
	assert_output ""
	run -2 --separate-stderr embcenter --load m --abtt d4.emb
	assert_equal "$stderr" "embcenter: --load applies a saved model; it cannot be used with --abtt
Try 'embcenter --help' for more information."
	run -2 --separate-stderr embcenter --load m --save n d4.emb
	assert_equal "$stderr" "embcenter: --load applies a saved model; it cannot be used with --save
Try 'embcenter --help' for more information."
	run -2 --separate-stderr embcenter d4.emb d4.emb
	assert_equal "$stderr" "embcenter: extra operand 'd4.emb'
Try 'embcenter --help' for more information."
}

@test "--abtt with n < dim (Gram route) equals numpy and the covariance route" {
	for nd in "2 64 1" "5 300 3" "5 300 7" "50 300 3"; do
		set -- $nd
		embgen -n "$1" -d "$2" --seed 9 --dtype f64 > x.emb
		embcenter --abtt="$3" x.emb > g.emb
		EMB_GRAM=off embcenter --abtt="$3" x.emb > c.emb
		embcenter --abtt="$3" --save m.emb x.emb > /dev/null
		EMB_GRAM=off embcenter --abtt="$3" --save mc.emb x.emb > /dev/null
		embgen -n 4 -d "$2" --seed 10 --dtype f64 > q.emb
		embcenter --load m.emb q.emb > gq.emb
		embcenter --load mc.emb q.emb > cq.emb
		py "x = load('x.emb'); g = load('g.emb'); c = load('c.emb'); D = $3
xc = x - x.mean(0)
u, s, vt = np.linalg.svd(xc, full_matrices=False)
r = int((s > s[0] * 1e-7).sum()) if s[0] > 0 else 0
v = vt[:min(D, r)]
ref = xc - xc @ v.T @ v
assert np.abs(g - ref).max() < 1e-9 * max(1, np.abs(x).max()), np.abs(g - ref).max()
assert np.abs(g - c).max() < 1e-9 * max(1, np.abs(x).max())
if D <= r:   # beyond the rank the removed null directions are arbitrary
    assert np.abs(load('gq.emb') - load('cq.emb')).max() < 1e-9 * np.abs(load('q.emb')).max()"
	done
}

@test "a NaN or inf is an error naming the row (binary byte, TSV line)" {
	py 'x = np.random.default_rng(1).standard_normal((50, 4)); x[7, 2] = np.nan
open("nan.emb", "wb").write(o.write(x))'
	run -1 --separate-stderr embcenter nan.emb
	assert_equal "$stderr" "embcenter: nan.emb: byte $(py 'print(len(o.header(4)) + 24 + 7 * 16)'): value is not finite"
	assert_output ""
	run -1 --separate-stderr embcenter --abtt=1 nan.emb
	assert_equal "$stderr" "embcenter: nan.emb: byte $(py 'print(len(o.header(4)) + 24 + 7 * 16)'): value is not finite"
	run -1 --separate-stderr bash -c 'embcenter --save m.emb <(embgen -n 5 -d 4) >/dev/null; embcenter --load m.emb nan.emb'
	assert_equal "$stderr" "embcenter: nan.emb: byte $(py 'print(len(o.header(4)) + 24 + 7 * 16)'): value is not finite"
}

@test "saved models are checked when loaded" {
	embgen -n 10 -d 8 > x.emb
	py 'import json
def model(rows, t):
    return o.header(8, "f64", False, {"transform": t})[0:0] + o.write(np.array(rows, float), "f64")
def save(name, rows, t):
    x = np.array(rows, float)
    out = [o.header(x.shape[1], "f64", False, {"transform": t})]
    out.append(o.chunk(x, "f64")); out.append(o.end(x.shape[0]))
    open(name, "wb").write(b"".join(out))
save("w999.emb", np.ones((1000, 8)), {"kind": "whiten", "dim_in": 8, "dim_out": 999, "k": 999})
save("cnan.emb", np.full((1, 8), np.nan), {"kind": "center", "dim_in": 8, "dim_out": 8, "k": 0})
save("wk.emb", np.ones((4, 8)), {"kind": "whiten", "dim_in": 8, "dim_out": 5, "k": 5})
save("c2.emb", np.ones((2, 8)), {"kind": "center"})
save("nbig.emb", np.ones((1, 8)), {"kind": "center", "n": 1e300})
save("nneg.emb", np.ones((1, 8)), {"kind": "center", "n": -3})'
	run -1 --separate-stderr embwhiten --load w999.emb x.emb
	assert_equal "$stderr" "embwhiten: w999.emb: a whiten model of dim 8 has 999 direction rows (at most 8)"
	run -1 --separate-stderr embcenter --load cnan.emb x.emb
	assert_equal "$stderr" "embcenter: cnan.emb: row 1 of the model is not finite"
	run -1 --separate-stderr embwhiten --load wk.emb x.emb
	assert_equal "$stderr" "embwhiten: wk.emb: transform.k 5 but the model has 3 direction rows"
	run -1 --separate-stderr embcenter --load c2.emb x.emb
	assert_equal "$stderr" "embcenter: c2.emb: a center model has 2 rows, not 1"
	run -1 --separate-stderr embcenter --load nbig.emb x.emb
	assert_equal "$stderr" "embcenter: nbig.emb: bad transform.n in its header"
	run -1 --separate-stderr embcenter --load nneg.emb x.emb
	assert_equal "$stderr" "embcenter: nneg.emb: bad transform.n in its header"
}

# remove_pc X D: numpy's X - X V V^T, V the top D right singular vectors
# of the uncentred X (np.linalg.svd), as Arora et al. and fse do.
REMOVE_PC='
def remove_pc(x, d):
    v = np.linalg.svd(x)[2][:d].T
    return x - x @ v @ v.T'

@test "--remove-pc=D equals numpy's X - X V V^T, V from svd(X) (f32 rounding), several D and shapes" {
	# Shapes: many rows, rows = dim, fewer rows than dims (Gram route), one row;
	# a large common offset makes the uncentred top direction the mean's.
	for shape in "600 16 1" "600 16 4" "600 16 10" "40 40 3" "9 30 2" "9 30 8" "1 6 1"; do
		set -- $shape
		oracle - "$@" <<'PY'
import sys, numpy as np, oracle as o
n, d, _ = map(int, sys.argv[1:])
rng = np.random.default_rng(n + d)
x = (rng.standard_normal((n, d)) * np.linspace(3, 0.2, d) + 4 * rng.standard_normal(d)).astype(np.float32)
open("x.emb", "wb").write(o.header(d, "f32") + o.chunk(x, "f32") + o.end(n))
PY
		embcenter --remove-pc="$3" x.emb > y.emb
		py "$REMOVE_PC"'
x = load("x.emb"); y = load("y.emb"); d = int(sys.argv[1])
ref = remove_pc(x, d)
err = np.abs(y - ref).max() / max(1, np.abs(x).max())
assert y.shape == x.shape and err < 1e-5, (d, err)' "$3"
	done
}

@test "--remove-pc: no mean subtracted (unlike --abtt), f64 exact, --normalize after" {
	embgen -n 300 -d 10 --seed 5 --anisotropic --dtype f64 > a.emb
	embcenter --remove-pc=2 a.emb > r.emb
	embcenter --abtt=2 a.emb > t.emb
	embcenter --remove-pc=2 --normalize a.emb > rn.emb
	py "$REMOVE_PC"'
x = load("a.emb"); r = load("r.emb"); t = load("t.emb"); rn = load("rn.emb")
ref = remove_pc(x, 2)
assert np.abs(r - ref).max() < 1e-12 * np.abs(x).max(), np.abs(r - ref).max()
# ABTT centres first: its rows have mean 0, remove-pc ones need not.
assert np.abs(t.mean(0)).max() < 1e-9 and np.abs(r.mean(0)).max() > 1e-3
assert np.abs(r - t).max() > 1e-3
assert np.abs(rn - ref / np.linalg.norm(ref, axis=1, keepdims=True)).max() < 1e-12'
}

@test "--remove-pc --save: a remove-pc model (zero mean row); --load applies it to other data" {
	embgen -n 500 -d 12 --seed 6 --anisotropic --keys > a.emb
	embgen -n 30 -d 12 --seed 9 > q.emb
	for d in 1 3 12; do
		embcenter --remove-pc="$d" --save m$d a.emb > r.emb
		embcenter --load m$d a.emb > r2.emb
		same r.emb r2.emb
		embcenter --load m$d < q.emb > qr.emb
		run embinfo m$d
		assert_output --partial '"kind":	"remove-pc"'
		py "$REMOVE_PC"'
x = load("a.emb"); q = load("q.emb"); m = load(sys.argv[2]); d = int(sys.argv[1])
assert m.shape == (d + 1, 12) and not m[0].any()
v = np.linalg.svd(x)[2][:d].T
assert np.abs(load("qr.emb") - (q - q @ v @ v.T)).max() < 1e-5 * max(1, np.abs(q).max())' "$d" "m$d"
	done
	run embcat -O tsv m3
	assert_line --index 1 --regexp '^w1	'
}

@test "--remove-pc: usage and model errors" {
	embgen -n 20 -d 4 > d4.emb
	run -2 --separate-stderr embcenter --remove-pc=5 d4.emb
	assert_output ""
	assert_equal "$stderr" "embcenter: --remove-pc 5 is more than the input's dim 4
Try 'embcenter --help' for more information."
	run -2 --separate-stderr embcenter --remove-pc=0 d4.emb
	assert_equal "${stderr_lines[0]}" "embcenter: --remove-pc must be between 1 and 16777216, not 0"
	run -2 --separate-stderr embcenter --remove-pc=1 --abtt=1 d4.emb
	assert_equal "${stderr_lines[0]}" "embcenter: --abtt and --remove-pc are two different removals: choose one"
	run -2 --separate-stderr embcenter --load m --remove-pc=1 d4.emb
	assert_equal "${stderr_lines[0]}" "embcenter: --load applies a saved model; it cannot be used with --remove-pc"
	oracle -c 'import numpy as np, oracle as o
x = np.eye(4)[:2]; x[0, 1] = 0.5
open("bad.emb", "wb").write(o.header(4, "f64", False, {"transform": {"kind": "remove-pc", "dim_in": 4, "k": 1}}) + o.chunk(x, "f64") + o.end(2))'
	run -1 --separate-stderr embcenter --load bad.emb d4.emb
	assert_output ""
	assert_equal "$stderr" "embcenter: bad.emb: a remove-pc model's mean row is not zero"
}
