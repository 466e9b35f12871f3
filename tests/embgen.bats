#!/usr/bin/env bats
# embgen: the sample moments of each distribution against the model,
# reproducibility, output forms, and command-line errors.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE ARGS...: python with numpy as np and tests/oracle.py as o;
# load(F) reads a stream file into a float64 matrix.
py() {
	oracle -c "import sys, numpy as np, oracle as o
load = o.load
$1" "${@:2}"
}

@test "isotropic: mean 0 and covariance alpha*I (sampling tolerance)" {
	embgen -n 20000 -d 5 --seed 3 > a.emb
	embgen -n 20000 -d 5 --seed 3 --alpha 4 --isotropic > b.emb
	# sd of a sample mean is 1/sqrt(20000) = 0.007; of a variance ~0.01*alpha
	py 'a, b = load("a.emb"), load("b.emb")
assert a.shape == (20000, 5), a.shape
assert np.abs(a.mean(0)).max() < 0.04, a.mean(0)
assert np.abs(np.cov(a.T) - np.eye(5)).max() < 0.05, np.cov(a.T)
assert np.abs(np.cov(b.T) - 4 * np.eye(5)).max() < 0.2, np.cov(b.T)'
}

@test "mixture with --means: equal weights, means and covariance alpha*I + beta*mu*mu^T" {
	printf 'm0\t10\t0\t0\nm1\t0\t-10\t5\n' > means.tsv
	embgen -n 20000 --means means.tsv --alpha 0.5 --beta 0.04 --keys > m.emb
	py 'x = load("m.emb"); mu = np.array([[10, 0, 0], [0, -10, 5]], float)
assert x.shape == (20000, 3)
lab = np.argmin(((x[:, None, :] - mu[None]) ** 2).sum(-1), 1)
frac = (lab == 0).mean()
assert abs(frac - 0.5) < 0.02, frac          # sd 0.0035
for k in range(2):
    y = x[lab == k]
    assert np.abs(y.mean(0) - mu[k]).max() < 0.1, (k, y.mean(0))
    want = 0.5 * np.eye(3) + 0.04 * np.outer(mu[k], mu[k])
    got = np.cov(y.T)
    assert np.abs(got - want).max() < 0.06 * np.abs(want).max(), (k, got, want)'
}

@test "mixture with random means: K distinct clusters of spread mean-scale" {
	embgen -n 3000 -d 50 --mixture 3 --mean-scale 5 --alpha 0.01 -O tsv --no-keys > m.tsv
	py 'x = np.loadtxt("m.tsv")
cent = []
for r in x:
    if not any(np.linalg.norm(r - m) < 5 for m in cent):
        cent.append(r)
assert len(cent) == 3, len(cent)
cent = np.array(cent)
# means ~ N(0, 25 I): each has squared norm ~ 25*50 = 1250 (chi2 sd ~ 250)
n2 = (cent ** 2).sum(1)
assert ((n2 > 500) & (n2 < 2500)).all(), n2'
}

@test "anisotropic: offset norm, dominant variances beta*d/j + alpha, the rest alpha" {
	embgen -n 40000 -d 20 --anisotropic --offset 3 --beta 2 --directions 2 --alpha 0.5 > a.emb
	py 'x = load("a.emb"); d = 20
m = x.mean(0)
assert abs(np.linalg.norm(m) - 3 * np.sqrt(d)) < 0.1, np.linalg.norm(m)
ev = np.sort(np.linalg.eigvalsh(np.cov(x.T)))[::-1]
want = np.r_[2 * d / 1 + 0.5, 2 * d / 2 + 0.5, np.full(d - 2, 0.5)]
assert np.allclose(ev[:2], want[:2], rtol=0.04), ev[:2]
assert np.allclose(ev[2:], 0.5, atol=0.05), ev[2:]'
}

@test "anisotropic default: three directions, high average cosine" {
	embgen -n 2000 -d 64 --anisotropic > a.emb
	py 'x = load("a.emb"); x /= np.linalg.norm(x, axis=1, keepdims=True)
c = x @ x.T; n = len(x); avg = (c.sum() - n) / (n * n - n)
assert 0.4 < avg < 0.8, avg
ev = np.sort(np.linalg.eigvalsh(np.cov(load("a.emb").T)))[::-1]
assert ev[2] > 10 and ev[3] < 2, ev[:5]'
}

@test "same seed gives the same bytes; other seeds differ; -n m is a prefix" {
	embgen -n 100 -d 7 --anisotropic --seed 9 -O tsv > a.tsv
	embgen -n 100 -d 7 --anisotropic --seed 9 -O tsv > b.tsv
	embgen -n 100 -d 7 --anisotropic --seed 10 -O tsv > c.tsv
	embgen -n 30 -d 7 --anisotropic --seed 9 -O tsv > d.tsv
	cmp a.tsv b.tsv
	run cmp -s a.tsv c.tsv
	assert_failure
	head -n 30 a.tsv | cmp - d.tsv
}

@test "binary by default, TSV with -O tsv holds the same values; f64 with --dtype" {
	embgen -n 50 -d 4 --seed 2 > a.emb
	embgen -n 50 -d 4 --seed 2 -O tsv > a.tsv
	embgen -n 50 -d 4 --seed 2 --dtype f64 > a64.emb
	head -c 8 a.emb | od -An -tx1 | grep -q '89 45 4d 42'
	embcat -O tsv a.emb | cmp - a.tsv
	py 'a, a64 = load("a.emb"), o.read(open("a64.emb", "rb").read())
assert a64[0].dtype == np.float64 and a64[2][0]["dtype"] == "f64"
# f32 output is the f64 draw rounded
assert (a64[0].astype(np.float32) == a.astype(np.float32)).all()'
}

@test "keys: --prefix=P gives P0.. and --keys gives w0..; none by default" {
	embgen -n 3 -d 2 --prefix=row -O tsv > p.tsv
	embgen -n 3 -d 2 --keys -O tsv > k.tsv
	embgen -n 3 -d 2 > n.emb
	run cut -f1 p.tsv
	assert_output "$(printf 'row0\nrow1\nrow2')"
	run cut -f1 k.tsv
	assert_output "$(printf 'w0\nw1\nw2')"
	py 'x, k, h = o.read(open("n.emb", "rb").read())
assert k == [] and h[0]["keys"] is False and x.shape == (3, 2)'
}

@test "large N streams in chunks (several chunk records)" {
	embgen -n 70000 -d 16 > big.emb
	run embinfo big.emb
	assert_output --partial '"rows":	70000'
	refute_output --partial '"chunks":	1,'
}

@test "-n 0 and no arguments give valid streams" {
	embgen -n 0 -d 3 > z.emb
	embgen < /dev/null > def.emb
	py 'x, k, h = o.read(open("z.emb", "rb").read())
assert x.shape[0] == 0 and h[0]["dim"] == 3
y = o.read(open("def.emb", "rb").read())[0]
assert y.shape == (1000, 16), y.shape'
}

@test "usage errors exit 2 with the exact message" {
	run -2 --separate-stderr embgen -d 0
	assert_output ""
	assert_equal "${stderr_lines[0]}" "embgen: -d must be between 1 and 16777216, not 0"
	assert_equal "${stderr_lines[1]}" "Try 'embgen --help' for more information."
	run -2 --separate-stderr embgen -n x
	assert_equal "${stderr_lines[0]}" "embgen: invalid number for -n: 'x'"
	run -2 --separate-stderr embgen --mixture 0
	assert_equal "${stderr_lines[0]}" "embgen: --mixture must be between 1 and 1048576, not 0"
	run -2 --separate-stderr embgen --alpha -1
	assert_equal "${stderr_lines[0]}" "embgen: --alpha must not be negative, not '-1'"
	run -2 --separate-stderr embgen --anisotropic -d 3 --directions 4
	assert_equal "${stderr_lines[0]}" "embgen: --directions (4) must not exceed the dim (3)"
	run -2 --separate-stderr embgen --mixture 2 --anisotropic
	assert_equal "${stderr_lines[0]}" "embgen: --isotropic, --mixture/--means and --anisotropic exclude each other"
	local modes=(--isotropic --mixture=2 --means=m.tsv --anisotropic)
	for a in "${modes[@]}"; do
		for b in "${modes[@]}"; do
			[ "$a" = "$b" ] && continue
			run -2 --separate-stderr embgen $a $b
			assert_output ""
			case "$a$b" in
			*mixture*means*|*means*mixture*)
				assert_equal "${stderr_lines[0]}" "embgen: --mixture and --means cannot be used together (the means fix K)" ;;
			*)
				assert_equal "${stderr_lines[0]}" "embgen: --isotropic, --mixture/--means and --anisotropic exclude each other" ;;
			esac
		done
	done
	run -2 --separate-stderr embgen extra
	assert_equal "${stderr_lines[0]}" "embgen: extra operand 'extra'"
	run -2 --separate-stderr embgen --seed 4294967296
	assert_equal "${stderr_lines[0]}" "embgen: --seed must be between 0 and 4294967295, not 4294967296"
	run -2 --separate-stderr embgen --bogus
	assert_output ""
}

@test "bad --means files exit 1 with the exact message" {
	printf '1\t2\t3\n' > m3.tsv
	: > empty.tsv
	run -1 --separate-stderr embgen --means m3.tsv -d 4
	assert_output ""
	assert_equal "$stderr" "embgen: m3.tsv: means have dim 3, but -d is 4"
	run -1 --separate-stderr embgen --means empty.tsv
	assert_output ""
	assert_equal "$stderr" "embgen: empty.tsv: no means (empty stream)"
	run -1 --separate-stderr embgen --means missing.tsv
	assert_output ""
	assert_equal "$stderr" "embgen: missing.tsv: No such file or directory"
}

# parts SEED N: random cut points of 0..N, as "0 c1 c2 ... N" (cuts inside
# blocks of 1024 rows and on their edges, empty and 1-row parts).
parts() {
	py 'rng = np.random.default_rng(int(sys.argv[1])); n = int(sys.argv[2])
c = list(rng.integers(0, n + 1, 4)) + [1024, 1025, 2048, n - 1, 1, 1]
print(" ".join(map(str, sorted(set([0, n] + [int(v) for v in c if 0 <= v <= n])))))' "$@"
}

@test "--first=M -n K: the parts of a run are its rows, byte for byte, numbered as in the run" {
	n=3100
	for opts in "-d 5" "-d 3 --mixture 4 --beta 0.3" "-d 7 --anisotropic --keys" "-d 2 --dtype f64"; do
		embgen -n $n $opts --seed 3 -O tsv > whole.tsv
		embgen -n $n $opts --seed 3 > whole.emb
		for seed in 1 2; do
			set -- $(parts $seed $n)
			rm -f p*.emb
			: > parts.tsv
			while [ $# -gt 1 ]; do
				embgen --first=$1 -n $(($2 - $1)) $opts --seed 3 -O tsv 2> /dev/null >> parts.tsv
				embgen --first=$1 -n $(($2 - $1)) $opts --seed 3 > p$1.emb
				shift
			done
			cmp parts.tsv whole.tsv
			# binary: the same bits, each part headed by its first row's offset,
			# and the parts, cat in any order, numbered as the run
			cat $(ls p*.emb | shuf --random-source=<(yes $seed)) > all.emb
			py 'x, keys, h = o.read(open("whole.emb", "rb").read())
assert "row_offset" not in h[0], h[0]
got = {}
for f in sys.argv[1:]:
    y, k, hy = o.read(open(f, "rb").read())
    m = int(f[1:-4])
    assert hy[0].get("row_offset") == m, (f, hy[0])
    assert y.dtype == x.dtype and (y.view(np.uint8) == x[m:m + len(y)].view(np.uint8)).all(), f
    assert k == keys[m:m + len(y)], f
' p*.emb
			if ! grep -q keys <<< "$opts"; then
				emblsh all.emb | sort | cmp - <(emblsh whole.emb | sort)
			fi
		done
	done
}

@test "--first=M draws no row before M's block" {
	# 1e12 rows before M would take hours; a block takes microseconds
	timeout 20 embgen --first=1000000000000 -n 3 -d 4 > far.emb
	run embinfo far.emb
	assert_output --partial '"rows":	3,'
	run bash -c "emblsh far.emb | cut -f1 | tr '\n' ' '"
	assert_output "1000000000001 1000000000002 1000000000003 "
	# and it is the same row the long run would write there (last rows of
	# a shorter run with the same M block checked by the test above)
	embgen --first=1000000000002 -n 1 -d 4 > one.emb
	py 'a = load("far.emb"); b = load("one.emb")
assert (a[2] == b[0]).all()'
}

@test "--first: bad values are usage errors" {
	run -2 --separate-stderr embgen --first=-1
	assert_output ""
	assert_equal "${stderr_lines[0]}" "embgen: --first must be between 0 and 1125899906842624, not -1"
	assert_equal "${stderr_lines[1]}" "Try 'embgen --help' for more information."
	run -2 --separate-stderr embgen --first=x
	assert_equal "${stderr_lines[0]}" "embgen: invalid number for --first: 'x'"
	run -2 --separate-stderr embgen --first=1125899906842625
	assert_equal "${stderr_lines[0]}" "embgen: --first must be between 0 and 1125899906842624, not 1125899906842625"
}
