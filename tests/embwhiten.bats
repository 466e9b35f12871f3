#!/usr/bin/env bats
# embwhiten: BERT-whitening, ZCA, PCA and --power/--eps against numpy
# implementations of the formulas (np.cov + svd as bojone/BERT-whitening
# does), saved models, the stdin spill, and every error message.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE ARGS...: python with numpy as np and tests/oracle.py as o;
# load(F) reads a stream file into a float64 matrix, ref(X, K) is the
# BERT-whitening reference transform fitted on X (kernel, bias).
py() {
	oracle -c "import sys, numpy as np, oracle as o
load = o.load
def ref(x, k=None):
    mu = x.mean(axis=0, keepdims=True)
    u, s, vh = np.linalg.svd(np.cov(x.T))
    w = np.dot(u, np.diag(1 / np.sqrt(s)))
    return w[:, :k], -mu
def cosines(y):
    y = y / np.linalg.norm(y, axis=1, keepdims=True)
    return (y[0::2] * y[1::2]).sum(1)
$1" "${@:2}"
}

# Anisotropic data, the case whitening is for: 1000 x 16 f32.
aniso() {
	embgen -n 1000 -d 16 --seed 5 --anisotropic --keys > a.emb
}

@test "output covariance is the identity to 1e-4 (k = dim)" {
	aniso
	embwhiten a.emb > y.emb
	py 'y = load("y.emb")
assert y.shape == (1000, 16), y.shape
assert np.abs(y.mean(0)).max() < 1e-4, y.mean(0)
assert np.abs(np.cov(y.T) - np.eye(16)).max() < 1e-4, np.cov(y.T)'
}

@test "cosines of whitened pairs equal the BERT-whitening reference to 1e-5 (k = dim and k = 4)" {
	aniso
	embwhiten a.emb > y16.emb
	embwhiten -k 4 a.emb > y4.emb
	py 'x = load("a.emb")
for k, f in ((16, "y16.emb"), (4, "y4.emb")):
    kern, bias = ref(x, k)
    want = cosines((x + bias) @ kern)
    got = cosines(load(f))
    assert load(f).shape == (1000, k)
    assert np.abs(got - want).max() < 1e-5, (k, np.abs(got - want).max())'
}

@test "each output column is the reference's up to the eigenvector's sign (1e-4)" {
	aniso
	embwhiten -k 6 --dims=6 a.emb > y.emb
	py 'x = load("a.emb"); y = load("y.emb")
kern, bias = ref(x, 6)
want = (x + bias) @ kern
sign = np.sign((want * y).sum(0))
assert np.abs(y - want * sign).max() < 1e-4, np.abs(y - want * sign).max()'
}

@test "keys and TSV pass through; stdin, a pipe and a file give the same rows" {
	aniso
	embcat -O tsv a.emb > a.tsv
	embwhiten a.emb > file.emb
	embwhiten < a.emb > redirect.emb
	cat a.emb | embwhiten > pipe.emb
	same file.emb redirect.emb
	same file.emb pipe.emb
	run embwhiten -k 2 a.tsv
	assert_success
	assert_line --index 0 --regexp '^w0	[-0-9.e]+	[-0-9.e]+$'
	assert_equal "${#lines[@]}" 1000
	cat a.tsv | embwhiten -O emb > tsvpipe.emb
	py 'a, b = load("file.emb"), load("tsvpipe.emb")
assert np.abs(a - b).max() < 1e-5, np.abs(a - b).max()'
}

@test "--zca is U S^-1/2 U^T: equal to numpy (unique, no sign freedom) to 1e-4" {
	aniso
	embwhiten --zca a.emb > z.emb
	py 'x = load("a.emb"); z = load("z.emb")
s, u = np.linalg.eigh(np.cov(x.T))
want = (x - x.mean(0)) @ (u @ np.diag(s ** -0.5) @ u.T)
assert np.abs(z - want).max() < 1e-4, np.abs(z - want).max()
assert np.abs(np.cov(z.T) - np.eye(16)).max() < 1e-4'
}

@test "--power 0 is a PCA rotation: output covariance diag(eigenvalues), descending" {
	aniso
	embwhiten --power 0 a.emb > p.emb
	embwhiten --power=-0.25 -k 3 a.emb > q.emb
	py 'x = load("a.emb"); p = load("p.emb"); q = load("q.emb")
s = np.linalg.eigvalsh(np.cov(x.T))[::-1]
c = np.cov(p.T)
assert np.abs(c - np.diag(s)).max() < 1e-3 * s[0], (np.diag(c), s)
# S^-0.25 leaves variances s^0.5 on the top 3 directions
assert np.abs(np.diag(np.cov(q.T)) - np.sqrt(s[:3])).max() < 1e-4 * s[0]'
}

@test "--eps E adds E to the eigenvalues: variances become s/(s+E)" {
	aniso
	embwhiten --eps 2 a.emb > e.emb
	embinfo e.emb > /dev/null
	py 'x = load("a.emb"); e = load("e.emb")
s = np.linalg.eigvalsh(np.cov(x.T))[::-1]
assert np.abs(np.diag(np.cov(e.T)) - s / (s + 2)).max() < 1e-5'
}

@test "mean 1e4 times the spread: covariance still exact (shifted accumulation)" {
	py 'rng = np.random.default_rng(2)
x = 1e4 + rng.standard_normal((3000, 6)) * np.arange(1, 7)
sys.stdout.buffer.write(o.write(x, "f64"))' > big.emb
	# --eps 0: nothing but rounding between us and the identity
	embwhiten --eps 0 big.emb > y.emb
	embwhiten --save m.emb big.emb > /dev/null
	py 'x = load("big.emb"); y = load("y.emb")
assert np.abs(np.cov(y.T) - np.eye(6)).max() < 1e-8, np.cov(y.T)
kern, bias = ref(x)
sign = np.sign((((x + bias) @ kern) * y).sum(0))
assert np.abs(y - (x + bias) @ kern * sign).max() < 1e-8
m = load("m.emb")
assert np.abs(m[0] - x.mean(0)).max() < 1e-9, m[0] - x.mean(0)'
}

@test "large f32 input (sums in double): mean 1e4 times the spread, the model numpy's to 1e-9" {
	# 20000 rows, eigenvalues spanning 400x: the fit widens f32 rows to
	# double (emb_linalg.h), so only the f32 outputs show f32 rounding
	py 'rng = np.random.default_rng(7)
x = 1e4 + rng.standard_normal((20000, 24)) * np.linspace(1, 20, 24)
sys.stdout.buffer.write(o.write(x, "f32"))' > big32.emb
	embwhiten --eps 0 --save m.emb big32.emb > y.emb
	embwhiten -k 5 big32.emb > y5.emb
	py 'x = load("big32.emb"); y = load("y.emb"); m = load("m.emb"); y5 = load("y5.emb")
assert np.abs(m[0] - x.mean(0)).max() < 1e-8, np.abs(m[0] - x.mean(0)).max()
W = m[1:].T
# W^T C W = I with C the float64 covariance of the same f32 values
assert np.abs(W.T @ np.cov(x.T) @ W - np.eye(24)).max() < 1e-9, np.abs(W.T @ np.cov(x.T) @ W - np.eye(24)).max()
s = np.linalg.eigvalsh(np.cov(x.T))[::-1]
assert np.abs(1 / (W ** 2).sum(0) / s - 1).max() < 1e-9
assert np.abs(np.cov(y.T) - np.eye(24)).max() < 1e-5, np.abs(np.cov(y.T) - np.eye(24)).max()
for k, f in ((24, y), (5, y5)):
    kern, bias = ref(x, k)
    want = cosines((x + bias) @ kern)
    assert np.abs(cosines(f) - want).max() < 1e-5, (k, np.abs(cosines(f) - want).max())'
}

@test "large f32 input of rank 20 in 32 dims: the rank is still found" {
	py 'rng = np.random.default_rng(8)
x = rng.standard_normal((20000, 20)) @ rng.standard_normal((20, 32))
sys.stdout.buffer.write(o.write(x, "f32"))' > low.emb
	run --separate-stderr embwhiten -O tsv low.emb
	assert_success
	assert_equal "$stderr" "embwhiten: covariance is singular (rank 20 < dim 32, 20000 rows): 12 directions are scaled by --eps alone"
}

@test "--save writes a MODEL stream: mean row, then the columns of W; --load applies it in one pass" {
	aniso
	embgen -n 10 -d 16 --seed 9 --anisotropic > q.emb
	embwhiten -k 5 --save w.model a.emb > y.emb
	embwhiten --load w.model a.emb > y2.emb
	same y.emb y2.emb
	embwhiten --load w.model < q.emb > qy.emb
	run embcat -O tsv w.model
	assert_success
	assert_equal "${#lines[@]}" 6
	assert_line --index 0 --regexp '^mean	'
	assert_line --index 5 --regexp '^w5	'
	run embinfo w.model
	assert_output --partial '"kind":	"whiten"'
	assert_output --partial '"dim_out":	5'
	assert_output --partial '"power":	-0.5'
	py 'x = load("a.emb"); m = load("w.model"); q = load("q.emb"); qy = load("qy.emb")
assert m.shape == (6, 16)
assert np.abs(m[0] - x.mean(0)).max() < 1e-5
W = m[1:].T
# W^T cov W = I: the model whitens its training data
assert np.abs(W.T @ np.cov(x.T) @ W - np.eye(5)).max() < 1e-6
assert np.abs(qy - (q - m[0]) @ W).max() < 1e-4'
}

@test "--normalize gives unit rows, in fit and in --load" {
	aniso
	embwhiten --normalize --save w.model a.emb > n.emb
	embwhiten --load w.model a.emb > n2.emb
	embwhiten a.emb > plain.emb
	embwhiten --load w.model --normalize a.emb > n3.emb
	same n.emb n2.emb
	same n.emb n3.emb
	py 'n = load("n.emb"); p = load("plain.emb")
assert np.abs(np.linalg.norm(n, axis=1) - 1).max() < 1e-6
assert np.abs(n - p / np.linalg.norm(p, axis=1, keepdims=True)).max() < 1e-6'
}

@test "fewer rows than dims: a warning, finite output, whitened in the rows' span" {
	embgen -n 5 -d 8 --seed 1 > few.emb
	run --separate-stderr embwhiten -O tsv few.emb
	assert_success
	assert_equal "$stderr" "embwhiten: covariance is singular (rank 4 < dim 8, 5 rows): 4 directions are scaled by --eps alone"
	embwhiten few.emb 2>/dev/null > y.emb
	py 'y = load("y.emb")
assert np.isfinite(y).all()
c = np.cov(y.T)
assert np.abs(np.diag(c)[:4] - 1).max() < 1e-4, np.diag(c)'
}

@test "duplicate rows, a single row and --eps 0 never give inf or nan" {
	embgen -n 3 -d 4 --seed 1 > one.emb
	cat one.emb one.emb one.emb > dup.emb
	run --separate-stderr embwhiten -O tsv --eps 0 dup.emb
	assert_success
	assert_equal "$stderr" "embwhiten: covariance is singular (rank 2 < dim 4, 9 rows): 2 directions are scaled by --eps alone"
	embwhiten --eps 0 dup.emb 2>/dev/null > y.emb
	embgen -n 1 -d 4 --seed 1 > single.emb
	embwhiten single.emb 2>/dev/null > s.emb
	py 'y = load("y.emb"); s = load("s.emb")
assert np.isfinite(y).all() and np.isfinite(s).all()
assert (s == 0).all(), s'
}

@test "empty input gives an empty output stream and status 0" {
	run --separate-stderr embwhiten < /dev/null
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "the stdin spill lives in TMPDIR and never has a name there" {
	aniso
	mkdir tmp
	TMPDIR=$PWD/tmp embwhiten < a.emb > /dev/null
	assert_equal "$(ls -A tmp)" ""
	{ cat a.emb; sleep 2; } | TMPDIR=$PWD/tmp embwhiten > /dev/null &
	pid=$!
	for _ in $(seq 20); do
		ls -l /proc/$pid/fd 2> /dev/null | grep -q "$PWD/tmp/" && break
		sleep 0.1
	done
	# open in TMPDIR (O_TMPFILE, or unlinked at once), yet no name there
	ls -l /proc/$pid/fd | grep -q "$PWD/tmp/"
	assert_equal "$(ls -A tmp)" ""
	kill -TERM "$pid"
	wait || true
	assert_equal "$(ls -A tmp)" ""
}

@test "an unusable TMPDIR is a clear error" {
	run -1 --separate-stderr sh -c 'TMPDIR=/nonexistent embwhiten < /dev/null'
	assert_equal "$stderr" "embwhiten: cannot create a temporary file in /nonexistent: No such file or directory"
	assert_output ""
}

@test "data errors: bad rows, dim mismatch with the model, not a model" {
	printf 'a 1 2\nb 3\n' > bad.tsv
	run -1 --separate-stderr embwhiten bad.tsv
	assert_output ""
	[[ "$stderr" == "embwhiten: bad.tsv:2: "* ]]
	embgen -n 50 -d 4 > d4.emb
	embgen -n 50 -d 6 > d6.emb
	embwhiten --save m4 d4.emb > /dev/null
	run -1 --separate-stderr embwhiten --load m4 d6.emb
	assert_equal "$stderr" "embwhiten: d6.emb: dim 6 differs from the model's 4"
	assert_output ""
	run -1 --separate-stderr embwhiten --load d4.emb d4.emb
	assert_equal "$stderr" "embwhiten: d4.emb: not a transform model (no \"transform\" in its header)"
	assert_output ""
	run -1 --separate-stderr embwhiten --load nosuch d4.emb
	assert_equal "$stderr" "embwhiten: nosuch: No such file or directory"
}

@test "usage errors exit 2" {
	embgen -n 20 -d 4 > d4.emb
	run -2 --separate-stderr embwhiten -k 0 d4.emb
	assert_equal "$stderr" "embwhiten: -k must be between 1 and 16777216, not 0
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten -k 5 d4.emb
	assert_equal "$stderr" "embwhiten: -k 5 is more than the input's dim 4
Try 'embwhiten --help' for more information."
	assert_output ""
	run -2 --separate-stderr embwhiten --zca -k 2 d4.emb
	assert_equal "$stderr" "embwhiten: --zca keeps every dimension; it cannot be used with -k
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten --load m -k 2 d4.emb
	assert_equal "$stderr" "embwhiten: --load applies a saved model; it cannot be used with -k, --zca, --power or --eps
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten --load m --save n d4.emb
	assert_equal "$stderr" "embwhiten: --load applies a saved model; it cannot be used with --save
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten --eps -1 d4.emb
	assert_equal "$stderr" "embwhiten: --eps must be a number >= 0, not '-1'
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten --power x d4.emb
	assert_equal "$stderr" "embwhiten: invalid number for --power: 'x'
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten d4.emb d4.emb
	assert_equal "$stderr" "embwhiten: extra operand 'd4.emb'
Try 'embwhiten --help' for more information."
	run -2 --separate-stderr embwhiten --bogus
	assert_output ""
}

@test "n < dim takes the Gram route: numpy and the covariance route agree (n = 1, 2, 5, 50; dim 64, 300, 3000)" {
	# f64 data, so the comparison is not blurred by f32 output rounding.
	for nd in "1 64" "2 64" "5 300" "50 300" "2 3000"; do
		set -- $nd
		embgen -n "$1" -d "$2" --seed 7 --dtype f64 > x.emb
		embwhiten x.emb 2>/dev/null > g.emb
		EMB_GRAM=off embwhiten x.emb 2>/dev/null > c.emb
		embwhiten -k 1 x.emb 2>/dev/null > g1.emb
		embwhiten --power 0 x.emb 2>/dev/null > gp.emb
		EMB_GRAM=off embwhiten --power 0 x.emb 2>/dev/null > cp.emb
		py 'x = load("x.emb"); g = load("g.emb"); c = load("c.emb"); g1 = load("g1.emb")
gp = load("gp.emb"); cp = load("cp.emb")
n, d = x.shape
assert g.shape == c.shape == (n, d) and g1.shape == (n, 1), (g.shape, c.shape)
xc = x - x.mean(0)
if n > 1:
    s, u = np.linalg.eigh(np.cov(x.T)); s, u = s[::-1], u[:, ::-1]
else:
    s, u = np.zeros(d), np.eye(d)
r = int((s > s[0] * d * 2.2e-16).sum()) if s[0] > 0 else 0
eps = 1e-8 * s.clip(0).sum() / d if s.clip(0).sum() > 0 else 1
for j in range(r):
    ref = xc @ u[:, j] * (s[j] + eps) ** -0.5
    sg = 1 if g[:, j] @ ref >= 0 else -1
    assert np.abs(g[:, j] - sg * ref).max() < 1e-8, ("numpy", n, d, j)
    assert np.abs(g[:, j] - c[:, j]).max() < 1e-8, ("cov route", n, d, j)
    assert np.abs(gp[:, j] - cp[:, j]).max() < 1e-10, ("power 0", n, d, j)
if r:
    assert np.abs(g1[:, 0] - g[:, 0]).max() < 1e-12
# Null directions: the fitted rows have nothing there (rounding only).
scale = (eps ** -0.5) * np.abs(xc).max() if n > 1 else 1
assert np.abs(g[:, r:]).max() <= 1e-9 * scale, np.abs(g[:, r:]).max()
assert np.abs(c[:, r:]).max() <= 1e-9 * scale
'
	done
}

@test "n < dim: a saved model keeps the null space (scaled by eps alone) without a dim x dim matrix" {
	embgen -n 3 -d 300 --seed 2 --dtype f64 > fit.emb
	embgen -n 4 -d 300 --seed 3 --dtype f64 > new.emb
	embwhiten --save m.emb fit.emb 2>/dev/null > /dev/null
	EMB_GRAM=off embwhiten --save mc.emb fit.emb 2>/dev/null > /dev/null
	embwhiten --load m.emb new.emb > g.emb
	embwhiten --load mc.emb new.emb > c.emb
	# Null-space bases differ (any orthonormal basis is right), so compare
	# what does not depend on the basis: the explicit columns and the
	# Gram matrix of the outputs (cosines, norms).
	py 'm = load("m.emb"); g = load("g.emb"); c = load("c.emb")
assert m.shape == (1 + 2 + 2, 300), m.shape   # mean, 2 directions, 2 reflectors
r = 2
sg = np.sign((g[:, :r] * c[:, :r]).sum(0))
assert np.abs(g[:, :r] - sg * c[:, :r]).max() < 1e-6 * np.abs(c).max()
assert np.abs(g @ g.T - c @ c.T).max() < 1e-6 * np.abs(c @ c.T).max()'
	run embinfo m.emb
	assert_output --partial '"null_rows":	2'
}

@test "n < dim, --zca: the low-rank ZCA equals the covariance route" {
	embgen -n 5 -d 64 --seed 4 --dtype f64 > x.emb
	embwhiten --zca x.emb 2>/dev/null > g.emb
	EMB_GRAM=off embwhiten --zca x.emb 2>/dev/null > c.emb
	embwhiten --zca --save m.emb x.emb 2>/dev/null > /dev/null
	embgen -n 3 -d 64 --seed 5 --dtype f64 > q.emb
	EMB_GRAM=off embwhiten --zca --save mc.emb x.emb 2>/dev/null > /dev/null
	embwhiten --load m.emb q.emb > gq.emb
	embwhiten --load mc.emb q.emb > cq.emb
	py 'g, c, gq, cq, x, q = (load(f) for f in ("g.emb", "c.emb", "gq.emb", "cq.emb", "x.emb", "q.emb"))
mu = x.mean(0); s, u = np.linalg.eigh(np.cov(x.T)); s, u = s[::-1], u[:, ::-1]
eps = 1e-8 * s.clip(0).sum() / 64
f = (s.clip(0) + eps) ** -0.5; f[4:] = eps ** -0.5   # rank 4: the null space by eps alone
W = u @ np.diag(f) @ u.T
big = np.abs((q - mu) @ W).max()
assert np.abs(gq - (q - mu) @ W).max() < 1e-9 * big, np.abs(gq - (q - mu) @ W).max()
assert np.abs(cq - (q - mu) @ W).max() < 1e-6 * big     # LAPACK null-space rounding
assert np.abs(g - (x - mu) @ W).max() < 1e-9 * big
assert g.shape == c.shape == (5, 64) and np.isfinite(c).all()'
}

@test "1 x 30000 f16 and 3 x 3000 inputs: small memory, little time" {
	embgen -n 1 -d 30000 --dtype f16 > e.emb
	embgen -n 3 -d 3000 > f.emb
	(ulimit_v 400000; timeout 20 embwhiten e.emb 2>/dev/null > y.emb)
	(ulimit_v 400000; timeout 20 embwhiten --save m.emb f.emb 2>/dev/null > z.emb)
	py 'y = load("y.emb"); z = load("z.emb")
assert y.shape == (1, 30000) and (y == 0).all()
assert z.shape == (3, 3000) and np.isfinite(z).all()'
}

@test "a NaN or inf is an error naming the row, never a LAPACK code; 1e30 and 3e38 data stay finite" {
	py 'x = np.random.default_rng(1).standard_normal((50, 4)); x[7, 2] = np.nan
open("nan.emb", "wb").write(o.write(x)); x[7, 2] = -np.inf; open("inf.emb", "wb").write(o.write(x, "f64"))
open("big.emb", "wb").write(o.write(np.random.default_rng(2).standard_normal((40, 4)) * 1e30))
y = np.random.default_rng(3).uniform(-3e38, 3e38, (9000, 4)); y[:, 3] = np.abs(y[:, 3]) / 4
open("huge.emb", "wb").write(o.write(y.astype(np.float32)))'
	run -1 --separate-stderr embwhiten nan.emb
	assert_equal "$stderr" "embwhiten: nan.emb: byte $(py 'print(o.header(4).__len__() + 24 + 7 * 16)'): value is not finite"
	run -1 --separate-stderr embwhiten inf.emb
	assert_equal "$stderr" "embwhiten: inf.emb: byte $(py 'print(o.header(4, "f64").__len__() + 24 + 7 * 32)'): value is not finite"
	assert_output ""
	embcat -O tsv big.emb | embwhiten -O tsv --dtype f64 > /dev/null
	embwhiten big.emb > b.emb
	embwhiten huge.emb > h.emb
	py 'x = load("big.emb"); b = load("b.emb"); h = load("h.emb"); X = load("huge.emb")
c = np.cov(b.T); assert np.abs(c - np.eye(4)).max() < 1e-4, c
c = np.cov(h.T); assert np.isfinite(h).all() and np.abs(c - np.eye(4)).max() < 1e-3, c'
}

@test "rows kept while fewer than dims, then summed: chunks that cross n = dim equal numpy" {
	py 'x = np.random.default_rng(3).standard_normal((1000, 300)) @ np.diag(np.linspace(0.1, 3, 300)) + 5
open("x.emb", "wb").write(o.write(x, "f64", chunk_rows=100))'
	embwhiten --power 0 x.emb > w.emb
	py 'x = load("x.emb"); w = load("w.emb")
ev = np.sort(np.linalg.eigvalsh(np.cov(x.T)))[::-1]
assert np.abs(np.diag(np.cov(w.T)) / ev - 1).max() < 1e-9'
}

@test "a model fitted on one row loads back: every direction is null, scaled by eps alone" {
	embgen -n 1 -d 16 --seed 1 --dtype f64 > one.emb
	embgen -n 3 -d 16 --seed 2 --dtype f64 > q.emb
	embwhiten --save m.emb one.emb 2>/dev/null > y.emb
	embwhiten --load m.emb q.emb > yq.emb
	# no variance: eps defaults to 1, so y = (q - x) in some orthonormal basis
	py 'x = load("one.emb"); q = load("q.emb"); y = load("y.emb"); yq = load("yq.emb")
assert (y == 0).all() and yq.shape == (3, 16)
assert np.abs(yq @ yq.T - (q - x) @ (q - x).T).max() < 1e-12 * np.abs(q - x).max() ** 2 * 16'
}
