#!/usr/bin/env bats
# embstat: every metric against a numpy implementation of its published
# formula, the known cases, every option, and errors.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# The numpy reference, written from the papers / the IsoScore repo, not
# from embstat.c.  ref(x, top) returns a dict with embstat's keys.
REF='
import sys, json, numpy as np, oracle as o
def ref(x, top=10):
    n, d = x.shape
    mu = x.mean(0)
    nr = np.linalg.norm(x, axis=1)
    u = x[nr > 0] / nr[nr > 0, None]
    m = len(u)
    g = u @ u.T                                  # every pair, explicitly
    avg = (g.sum() - np.trace(g)) / (m * (m - 1))
    cov = np.cov(x.T)
    ev = np.sort(np.linalg.eigvalsh(cov))[::-1]
    # Roy & Vetterli: entropy of the normalised singular values of the centred data
    s = np.sqrt(np.clip(ev, 0, None)); p = s / s.sum(); p = p[p > 0]
    erank = np.exp(-(p * np.log(p)).sum())
    # IsoScore repo steps 2-7 (its PCA is sklearn fit_transform = centred SVD scores)
    xc = x - mu
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    pts = (xc @ vt.T).T                          # dims x samples, as the repo
    v = np.zeros(d)                              # n < d: the missing components have variance 0
    vv = np.diag(np.atleast_2d(np.cov(pts))); v[:len(vv)] = vv
    vh = v * np.sqrt(d) / np.linalg.norm(v)
    delta = np.linalg.norm(vh - np.ones(d)) / np.sqrt(2 * (d - np.sqrt(d)))
    iso = ((d - delta ** 2 * (d - np.sqrt(d))) ** 2 - d) / (d * (d - 1))
    # Mu & Viswanath: Z(c) = sum_w exp(c.v_w) over eigenvectors c of X^T X
    # (as columns; both signs, since an eigenvector sign is arbitrary)
    _, U = np.linalg.eigh(x.T @ x)
    z = [np.exp(sg * (x @ U[:, i])).sum() for i in range(d) for sg in (1, -1)]
    return {"n": n, "dim": d, "mean_norm": np.linalg.norm(mu),
            "norm_mean": nr.mean(), "norm_min": nr.min(), "norm_max": nr.max(),
            "avg_cos": avg, "explained_variance_ratio": list(ev[:top] / ev.sum()),
            "effective_rank": erank, "partition_isotropy": min(z) / max(z),
            "isoscore": iso, "spectrum": list(ev)}
def load_tsv(f):
    return np.loadtxt(f, ndmin=2, dtype=np.float32, usecols=None).astype(np.float64)
def stat(f):
    out = {}
    for line in open(f):
        k, *v = line.rstrip("\n").split("\t")
        out[k] = [float(t) for t in v] if k == "explained_variance_ratio" else (
            v[0] if k == "avg_cos_exact" else float(v[0]))
    return out
def close(got, want, keys, tol):
    for k in keys:
        a, b = np.atleast_1d(got[k]).astype(float), np.atleast_1d(want[k]).astype(float)
        assert a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol), (k, a, b)
'

py() {
	oracle -c "$REF
$1" "${@:2}"
}

@test "every metric equals the numpy reference (exact pairs, f32 TSV input)" {
	gen_tsv 300 6 11 > raw.tsv
	# an offset makes the data anisotropic, so the metrics are not trivial
	py 'x = load_tsv("raw.tsv") + np.float32([3, 1, 0, 0, -2, 0])
np.savetxt("x.tsv", x.astype(np.float32), delimiter="\t", fmt="%.9g")'
	embstat x.tsv > s.tsv
	py 'x = load_tsv("x.tsv"); got, want = stat("s.tsv"), ref(x)
assert got["n"] == 300 and got["dim"] == 6 and got["avg_cos_exact"] == "true"
assert got["avg_cos_pairs"] == 300 * 299 / 2
close(got, want, ["mean_norm", "norm_mean", "norm_min", "norm_max", "avg_cos",
                  "explained_variance_ratio", "effective_rank", "isoscore"], 1e-9)
close(got, want, ["partition_isotropy"], 1e-7)
# a shared offset makes Z(c) lopsided: anisotropic by this measure too
assert want["partition_isotropy"] < 0.01, want["partition_isotropy"]'
}

@test "--json has the same values under stable snake_case keys" {
	embgen -n 500 -d 5 --anisotropic --seed 4 > a.emb
	embstat a.emb > s.tsv
	embstat --json a.emb > s.json
	py 'j = json.load(open("s.json")); t = stat("s.tsv")
keys = ["n", "dim", "mean_norm", "norm_mean", "norm_min", "norm_max", "avg_cos",
        "avg_cos_pairs", "avg_cos_exact", "explained_variance_ratio", "effective_rank",
        "partition_isotropy", "isoscore"]
assert list(j) == keys, list(j)
for k in keys:
    if k == "avg_cos_exact":
        assert j[k] is (t[k] == "true")
    else:
        assert np.allclose(j[k], t[k], rtol=1e-15, atol=0), k'
}

@test "anisotropic binary input from standard input: values equal numpy" {
	embgen -n 400 -d 12 --anisotropic --seed 2 > a.emb
	embstat --top 4 < a.emb > s.tsv
	py 'import oracle as o
x = o.read(open("a.emb", "rb").read())[0].astype(np.float64)
got, want = stat("s.tsv"), ref(x, top=4)
close(got, want, ["mean_norm", "avg_cos", "explained_variance_ratio", "effective_rank",
                  "isoscore"], 1e-9)
close(got, want, ["partition_isotropy"], 1e-7)
assert len(got["explained_variance_ratio"]) == 4
assert want["avg_cos"] > 0.3 and want["isoscore"] < 0.5, want'
}

@test "known case: isotropic Gaussian has avg cos ~ 0 and IsoScore ~ 1" {
	embgen -n 20000 -d 16 --seed 5 > iso.emb
	embstat iso.emb > s.tsv
	py 'g = stat("s.tsv")
assert abs(g["avg_cos"]) < 0.01, g["avg_cos"]
assert g["isoscore"] > 0.99, g["isoscore"]
assert g["partition_isotropy"] > 0.8, g["partition_isotropy"]
assert 15.5 < g["effective_rank"] <= 16, g["effective_rank"]
assert g["avg_cos_exact"] == "false" and g["avg_cos_pairs"] == 100000'
}

@test "known case: data on one line has IsoScore 0 and effective rank 1" {
	py 'a = np.array([1, -2, 0.5, 3, 1])
t = np.random.default_rng(1).standard_normal(200)
np.savetxt("line.tsv", np.outer(t, a), delimiter="\t", fmt="%.17g")'
	embstat --dtype f64 line.tsv > s.tsv
	py 'g = stat("s.tsv")
assert abs(g["isoscore"]) < 1e-6, g["isoscore"]
assert abs(g["effective_rank"] - 1) < 1e-3, g["effective_rank"]
assert abs(g["explained_variance_ratio"][0] - 1) < 1e-6
x = np.loadtxt("line.tsv"); close(g, ref(x), ["avg_cos", "mean_norm"], 1e-9)'
}

@test "sampled pairs: near the exact mean, reproducible with --seed, and seed-dependent" {
	embgen -n 3000 -d 8 --anisotropic --offset 1 --seed 3 > a.emb
	embstat --pairs 20000 --sample 2000 a.emb > s1.tsv
	embstat --pairs 20000 --sample 2000 a.emb > s2.tsv
	embstat --pairs 20000 --sample 2000 --seed 9 a.emb > s3.tsv
	cmp s1.tsv s2.tsv
	py 'import oracle as o
x = o.read(open("a.emb", "rb").read())[0].astype(np.float64)
want = ref(x)["avg_cos"]; g1, g3 = stat("s1.tsv"), stat("s3.tsv")
# sd of a 20000-pair mean of cosines (spread < 0.6) is < 0.005
assert abs(g1["avg_cos"] - want) < 0.02, (g1["avg_cos"], want)
assert abs(g3["avg_cos"] - want) < 0.02, (g3["avg_cos"], want)
assert g1["avg_cos"] != g3["avg_cos"]
assert g1["avg_cos_exact"] == "false" and g1["avg_cos_pairs"] == 20000'
}

@test "--pairs at least n(n-1)/2 makes the average exact; one pair fewer samples" {
	gen_tsv 50 4 8 > a.tsv
	embstat --pairs 1225 a.tsv > e.tsv
	embstat --pairs 1224 a.tsv > s.tsv
	py 'x = load_tsv("a.tsv"); want = ref(x)["avg_cos"]
e, s = stat("e.tsv"), stat("s.tsv")
assert e["avg_cos_exact"] == "true" and e["avg_cos_pairs"] == 1225
assert abs(e["avg_cos"] - want) < 1e-12, (e["avg_cos"], want)
assert s["avg_cos_exact"] == "false" and s["avg_cos_pairs"] == 1224'
}

@test "--spectrum prints every covariance eigenvalue, ratio and cumulative ratio" {
	gen_tsv 100 7 9 > a.tsv
	embstat --spectrum a.tsv > sp.tsv
	run head -n 1 sp.tsv
	assert_output "# k	eigenvalue	ratio	cumulative"
	py 'x = load_tsv("a.tsv"); ev = np.array(ref(x)["spectrum"])
t = np.loadtxt("sp.tsv", comments="#")
assert t.shape == (7, 4)
assert (t[:, 0] == np.arange(1, 8)).all()
assert np.allclose(t[:, 1], ev, rtol=1e-10, atol=1e-12), (t[:, 1], ev)
assert np.allclose(t[:, 2], ev / ev.sum(), atol=1e-12)
assert np.allclose(t[:, 3], np.cumsum(ev) / ev.sum(), atol=1e-12) and abs(t[-1, 3] - 1) < 1e-12'
	embstat --spectrum --json a.tsv > sp.json
	py 'x = load_tsv("a.tsv"); j = json.load(open("sp.json"))
assert np.allclose(j["spectrum"], ref(x)["spectrum"], rtol=1e-10)
assert "isoscore" in j'
}

@test "--top K gives K ratios, at most dim" {
	gen_tsv 40 5 1 > a.tsv
	run embstat --top 2 a.tsv
	assert_line --regexp '^explained_variance_ratio	[^	]+	[^	]+$'
	run embstat --top 99 a.tsv
	assert_line --regexp '^explained_variance_ratio(	[^	]+){5}$'
}

@test "mean 1e4 times the spread: the spectrum keeps its precision" {
	py 'x = 1e4 + np.random.default_rng(2).standard_normal((500, 4)) * [1, 2, 3, 4]
np.savetxt("far.tsv", x, delimiter="\t", fmt="%.17g")'
	embstat --dtype f64 --spectrum far.tsv > sp.tsv
	py 'x = np.loadtxt("far.tsv"); ev = np.sort(np.linalg.eigvalsh(np.cov(x.T)))[::-1]
t = np.loadtxt("sp.tsv", comments="#")
assert np.allclose(t[:, 1], ev, rtol=1e-8), (t[:, 1], ev)'
}

@test "zero rows are counted on stderr and left out of the cosine only" {
	printf 'a\t1\t0\nb\t0\t0\nc\t0\t2\nd\t0\t0\ne\t1\t1\n' > z.tsv
	run --separate-stderr embstat z.tsv
	assert_success
	assert_equal "$stderr" "embstat: z.tsv: 2 zero rows left out of the average cosine"
	printf '%s\n' "$output" > s.tsv
	py 'g = stat("s.tsv"); x = np.array([[1, 0], [0, 0], [0, 2], [0, 0], [1, 1]], float)
w = ref(x)
assert g["n"] == 5 and g["avg_cos_pairs"] == 3 and g["norm_min"] == 0
close(g, w, ["avg_cos", "mean_norm", "norm_mean", "isoscore", "partition_isotropy"], 1e-12)'
}

@test "empty input: n 0 and undefined metrics as nan (TSV) or null (JSON)" {
	run embstat < /dev/null
	assert_success
	assert_line "n	0"
	assert_line "isoscore	nan"
	assert_line "avg_cos_pairs	0"
	run embstat --json < /dev/null
	assert_success
	assert_output --partial '"isoscore":	null'
}

@test "a file and the same stream on standard input give the same report" {
	embgen -n 700 -d 6 --mixture 3 --seed 8 > m.emb
	embstat m.emb > f.tsv
	embstat < m.emb > s.tsv
	cmp f.tsv s.tsv
}

@test "bad data exits 1 with the file and line" {
	printf '1\t2\n3\n' > bad.tsv
	run -1 --separate-stderr embstat bad.tsv
	assert_output ""
	assert_equal "$stderr" "embstat: bad.tsv:2: expected 2 values, found 1"
	run -1 --separate-stderr embstat missing.emb
	assert_output ""
	assert_equal "$stderr" "embstat: missing.emb: No such file or directory"
}

@test "usage errors exit 2 with the exact message" {
	run -2 --separate-stderr embstat --pairs 0
	assert_output ""
	assert_equal "${stderr_lines[0]}" "embstat: --pairs must be between 1 and 1099511627776, not 0"
	assert_equal "${stderr_lines[1]}" "Try 'embstat --help' for more information."
	run -2 --separate-stderr embstat --top 0
	assert_equal "${stderr_lines[0]}" "embstat: --top must be between 1 and 16777216, not 0"
	run -2 --separate-stderr embstat --sample 1
	assert_equal "${stderr_lines[0]}" "embstat: --sample must be between 2 and 4294967296, not 1"
	run -2 --separate-stderr embstat --seed x
	assert_equal "${stderr_lines[0]}" "embstat: invalid number for --seed: 'x'"
	run -2 --separate-stderr embstat a b
	assert_equal "${stderr_lines[0]}" "embstat: extra operand 'b'"
	run -2 --separate-stderr embstat --bogus
	assert_output ""
}

@test "n < dim (Gram route): every metric equals numpy and the covariance route" {
	for nd in "2 64" "5 300" "50 300" "3 1000"; do
		set -- $nd
		embgen -n "$1" -d "$2" --seed 5 --dtype f64 > x.emb
		embstat --json --spectrum x.emb > g.json
		EMB_GRAM=off embstat --json --spectrum x.emb > c.json
		py 'x = o.load("x.emb"); g = json.load(open("g.json")); c = json.load(open("c.json"))
want = ref(x)
n, d = x.shape
keys = ["mean_norm", "norm_mean", "avg_cos", "explained_variance_ratio",
        "isoscore", "partition_isotropy"]
close(g, want, keys, 1e-8)
close(g, c, keys, 1e-8)
# The effective rank takes square roots of eigenvalues, so the rounding
# noise (~1e-16) of zero eigenvalues weighs ~1e-8 each on the covariance
# route; the Gram route has exact zeros, as numpy with the noise zeroed.
ev = np.sort(np.linalg.eigvalsh(np.cov(x.T)))[::-1]
ev[ev < ev[0] * d * 2.2e-16] = 0
sq = np.sqrt(ev); p = sq / sq.sum(); p = p[p > 0]
assert abs(g["effective_rank"] - np.exp(-(p * np.log(p)).sum())) < 1e-9 * n
close(g, c, ["effective_rank"], 1e-4)
# the spectrum: n-1 nonzero eigenvalues, then exact zeros (the covariance
# route gives rounding noise there)
sg, sc, sw = (np.array(t["spectrum"]) for t in (g, c, want))
assert np.allclose(sg[:n - 1], sw[:n - 1], rtol=1e-9) and (sg[n - 1:] == 0).all()

assert np.abs(sc[n - 1:]).max() < 1e-10 * sw[0], np.abs(sc[n - 1:]).max() / sw[0]' 
	done
}

@test "1 x 30000 f16 input: small memory, little time; --sample is bounded by the rows" {
	embgen -n 1 -d 30000 --dtype f16 > e.emb
	(ulimit_v 400000; timeout 20 embstat e.emb > s.tsv)
	run cut -f1 s.tsv
	assert_line n
	embgen -n 200 -d 8 --seed 1 > v.emb
	(ulimit_v 400000; embstat --sample 4294967296 --pairs 100 v.emb > a.tsv)
	embstat --sample 200 --pairs 100 v.emb > b.tsv
	cmp a.tsv b.tsv
}

@test "a NaN or inf is an error naming the row" {
	oracle -c 'import numpy as np, oracle as o
x = np.random.default_rng(1).standard_normal((50, 4)); x[7, 2] = np.inf
open("inf.emb", "wb").write(o.write(x))
open("big.emb", "wb").write(o.write(x.clip(-9, 9) * 1e30))'
	run -1 --separate-stderr embstat inf.emb
	assert_equal "$stderr" "embstat: inf.emb: byte $(oracle -c 'import oracle as o; print(len(o.header(4)) + 24 + 7 * 16)'): value is not finite"
	assert_output ""
	embstat --json --spectrum big.emb > b.json
	py 'x = o.load("big.emb"); g = json.load(open("b.json")); want = ref(x / 1e30)
close(g, want, ["avg_cos", "explained_variance_ratio", "effective_rank", "isoscore"], 1e-6)'
}
