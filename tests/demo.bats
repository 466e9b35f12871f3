#!/usr/bin/env bats
# The demo pipeline (data/demo.sh) on one word set and two STS sets: its
# intermediate files are re-scored with numpy/scipy, so the pipeline is
# tested, not just run.  Tolerances: 1e-9 on Spearman and Pearson against
# embspearman/embpearson at full precision, 1e-6 on cosines (f32 vectors),
# and half a unit of the last printed digit on the report's numbers.
load test_helper

setup_file() {
	export DEMO_DIR="$BATS_FILE_TMPDIR/run"
	mkdir -p "$DEMO_DIR"
	cd "$DEMO_DIR"
	DEMO_WORDSETS=EN-RG-65.txt DEMO_TASKS="STS16 STSB" \
		sh "$EMB_SRCDIR/data/demo.sh" "$EMB_BUILDDIR/cmd" "$EMB_SRCDIR/data" \
		> stdout.txt 2> stderr.txt
	echo $? > status.txt
}

setup() {
	cd "$DEMO_DIR"
	W=demo/work
}

# py SCRIPT ARGS: oracle python with a reader of emb streams (no CRC check:
# the format tests cover that) as read_emb(path) -> (matrix, keys).
py() {
	oracle - "$@" <<PY
import json, struct, sys
import numpy as np, scipy.stats as st
def read_emb(path):
    data = open(path, "rb").read()
    pos, rows, keys = 0, [], []
    while pos < len(data):
        jl = struct.unpack_from("<I", data, pos + 12)[0]
        h = json.loads(data[pos + 20:pos + 20 + jl]); pos += 20 + jl
        dt = np.dtype({"f32": "<f4", "f64": "<f8", "f16": "<f2"}[h["dtype"]])
        while True:
            tag = data[pos:pos + 4]
            n, kb = struct.unpack_from("<QQ", data, pos + 8); pos += 24
            if tag == b"END\0":
                break
            keys += data[pos:pos + kb].split(b"\0")[:n]; pos += kb
            rows.append(np.frombuffer(data, dt, n * h["dim"], pos).reshape(n, h["dim"]))
            pos += n * h["dim"] * dt.itemsize
    return np.concatenate(rows).astype(np.float64), [k.decode() for k in keys]
def cos(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
$(cat)
PY
}

@test "demo: runs quietly and writes the report and both plots" {
	assert_equal "$(cat status.txt)" 0
	run cat stderr.txt
	assert_output ""
	[ -s demo/report.md ]
	for f in spectrum.svg spectrum.png stsb-scatter.svg stsb-scatter.png; do
		[ -s "demo/$f" ] || { echo "missing demo/$f"; return 1; }
	done
	run cat stdout.txt
	assert_line --partial "| EN-RG-65 | 65 | 65 | 0.0 |"
	assert_line --partial "| STSB | test | 1379 |"
	assert_line --partial "Pearson x 100 = 38.12"
	# A task without significance markers (only STS-B and SICK have them)
	# still gets its rows, 5 subsets and 3 aggregates in each table.
	[ "$(grep -c '^| STS16 | ' demo/report.md)" -eq 16 ]
	run grep '^| STS16 | .*[*+]' demo/report.md
	assert_failure
}

@test "demo: word-set cosines and coverage equal numpy on the same vectors" {
	py "$W/w.raw.emb" "$W/wordpairs.tsv" "$W/words.tsv" <<'PY'
x, keys = read_emb(sys.argv[1])
idx = {}
for i, k in enumerate(keys):
    idx.setdefault(k, i)
pairs = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])]
cov = [p for p in pairs if p[0] in idx and p[1] in idx]
got = [l.rstrip("\n").split("\t") for l in open(sys.argv[3])]
assert len(got) == len(cov) == 65, (len(got), len(cov))
ref = cos(x[[idx[p[0]] for p in cov]], x[[idx[p[1]] for p in cov]])
assert np.allclose([float(g[4]) for g in got], ref, rtol=0, atol=1e-6)
PY
}

@test "demo: word-set Spearman equals scipy on the intermediate file (1e-9), and the report rounds it" {
	run embspearman -x 3 -y 5,6,7,8,9,10,11 --group 4 "$W/words.tsv"
	assert_success
	printf '%s\n' "$output" > full.tsv
	py "$W/words.tsv" full.tsv demo/report.md <<'PY'
d = np.loadtxt(sys.argv[1], usecols=range(4, 11), delimiter="\t")
gold = np.loadtxt(sys.argv[1], usecols=[2], delimiter="\t")
ref = [st.spearmanr(gold, d[:, j]).correlation for j in range(7)]
ours = [float(l.split("\t")[4]) for l in open(sys.argv[2]) if l.startswith("EN-RG-65")]
assert np.allclose(ours, ref, rtol=0, atol=1e-9), (ours, ref)
row = [l for l in open(sys.argv[3]) if l.startswith("| EN-RG-65 |")][0]
shown = [float(v) for v in row.strip(" |\n").split("|")[4:]]
assert np.allclose(shown, 100 * np.array(ref), rtol=0, atol=0.005 + 1e-9), (shown, ref)
PY
}

@test "demo: STS-B sentence cosines equal numpy on the pooled vectors" {
	py "$W/s.STSB.raw.a.emb" "$W/s.STSB.raw.b.emb" "$W/scores.STSB.tsv" <<'PY'
a, ka = read_emb(sys.argv[1]); b, kb = read_emb(sys.argv[2])
assert ka == kb == [str(i) for i in range(1, 1380)]
got = np.loadtxt(sys.argv[3], usecols=[2], delimiter="\t")
assert np.allclose(got, cos(a, b), rtol=0, atol=1e-6)
PY
}

@test "demo: STS-B Spearman and Pearson equal scipy (1e-9), the report rounds them, anchor within 0.5" {
	embspearman -x 2 -y 3,4,5,6,7,8,9,10,11 "$W/scores.STSB.tsv" > sp.tsv
	embpearson -x 2 -y 3,4,5,6,7,8,9,10,11 "$W/scores.STSB.tsv" > pe.tsv
	py "$W/scores.STSB.tsv" sp.tsv pe.tsv demo/report.md <<'PY'
d = np.loadtxt(sys.argv[1], usecols=range(1, 11), delimiter="\t")
rs = [st.spearmanr(d[:, 0], d[:, j]).correlation for j in range(1, 10)]
rp = [st.pearsonr(d[:, 0], d[:, j])[0] for j in range(1, 10)]
for f, ref in ((sys.argv[2], rs), (sys.argv[3], rp)):
    ours = [float(l.split("\t")[3]) for l in open(f).readlines()[1:]]
    assert np.allclose(ours, ref, rtol=0, atol=1e-9), (f, ours, ref)
rows = [l for l in open(sys.argv[4]) if l.startswith("| STSB | test |")]
assert len(rows) == 2
for row, ref in zip(rows, (rs, rp)):
    shown = [float(v.strip().rstrip("*+")) for v in row.strip(" |\n").split("|")[3:]]
    assert np.allclose(shown, 100 * np.array(ref), rtol=0, atol=0.005 + 1e-9), (shown, ref)
assert abs(100 * rp[0] - 38.12) < 0.5, rp[0]
PY
}

@test "demo: SIF rows are embpool --sif, then X - X V V^T with V from svd of the uncentred fit set" {
	py "$W/s.STSB.sif.fit3.emb" "$W/s.STSB.sif.a.emb" "$W/s.STSB.sif.b.emb" \
		"$W/s.STSB.sif1.T.a.emb" "$W/s.STSB.sif10.T.b.emb" "$W/scores.STSB.tsv" <<'PY'
fit = read_emb(sys.argv[1])[0]; a = read_emb(sys.argv[2])[0]; b = read_emb(sys.argv[3])[0]
vt = np.linalg.svd(fit, full_matrices=False)[2]
def remove(x, d):
    v = vt[:d].T
    return x - x @ v @ v.T
r1a = read_emb(sys.argv[4])[0]; r10b = read_emb(sys.argv[5])[0]
assert np.abs(r1a - remove(a, 1)).max() < 1e-5 * np.abs(a).max(), np.abs(r1a - remove(a, 1)).max()
assert np.abs(r10b - remove(b, 10)).max() < 1e-5 * np.abs(b).max()
got = np.loadtxt(sys.argv[6], usecols=[9, 10], delimiter="\t")
ok = np.linalg.norm(a, axis=1) > 0
assert np.allclose(got[ok, 0], cos(remove(a, 1), remove(b, 1))[ok], rtol=0, atol=1e-5)
assert np.allclose(got[ok, 1], cos(remove(a, 10), remove(b, 10))[ok], rtol=0, atol=1e-5)
PY
	# The weights are SIF's, from the bundled frequencies.
	run embinfo "$W/s.STSB.sif.a.emb"
	assert_output --partial "subtlex-us.freq"
}

@test "demo: significance markers and table equal Williams' t (numpy) and hold the bootstrap interval" {
	py "$W/scores.STSB.tsv" "$W/compare.STSB.spearman.tsv" "$W/compare.STSB.pearson.tsv" demo/report.md <<'PY'
d = np.loadtxt(sys.argv[1], usecols=range(1, 11), delimiter="\t")
report = open(sys.argv[4]).read().split("\n")
tab = [l for l in report if l.startswith("| STSB | test |")]
assert len(tab) == 2
col = {6: 3, 10: 7, 11: 8}            # -y column -> index among the 9 shown
for kind, f, row in (("spearman", sys.argv[2], tab[0]), ("pearson", sys.argv[3], tab[1])):
    corr = (lambda u, v: st.spearmanr(u, v)[0]) if kind == "spearman" else (lambda u, v: st.pearsonr(u, v)[0])
    rows = [l.split("\t") for l in open(f).read().split("\n")[1:] if l]
    assert [int(r[1]) for r in rows] == [6, 10, 11] and all(r[2] == "3" for r in rows)
    cells = [c.strip() for c in row.strip(" |").split("|")[3:]]
    for r in rows:
        y = int(r[1]); n = len(d)
        r1, r2, r12 = corr(d[:, 0], d[:, y - 2]), corr(d[:, 0], d[:, 1]), corr(d[:, y - 2], d[:, 1])
        det = 1 - r1**2 - r2**2 - r12**2 + 2 * r1 * r2 * r12
        t = (r1 - r2) * np.sqrt((n - 1) * (1 + r12) / (2 * (n - 1) / (n - 3) * det + ((r1 + r2) / 2)**2 * (1 - r12)**3))
        p = 2 * st.t.sf(abs(t), n - 3)
        assert abs(float(r[8]) - t) < 1e-9 * abs(t) and abs(float(r[9]) - p) <= 1e-9 * p, (r, t, p)
        assert r[7] == "%.2f" % (100 * (r1 - r2)), (r, r1 - r2)
        lo, hi = float(r[10]), float(r[11])
        assert lo <= 100 * (r1 - r2) <= hi
        mark = ("*" if p < 0.05 else "") + ("+" if lo > 0 else "") if r1 > r2 else ""
        cell = cells[col[y]]
        assert cell == cell.rstrip("*+") + mark, (cell, mark)
        sig = [l for l in report if l.startswith("| STSB | %s | %s |" % (kind, {6: "whitened", 10: "SIF D=1", 11: "SIF D=10"}[y]))]
        assert len(sig) == 1 and "[%s, %s]" % (r[10], r[11]) in sig[0], sig
PY
}

@test "demo: the spectrum plot's raw line is the spectrum of the uncentred X^T X / n" {
	py "$W/w.raw.emb" "$W/spectrum.raw.tsv" "$W/spectrum.center.tsv" <<'PY'
x = read_emb(sys.argv[1])[0]
e = np.linalg.eigvalsh(x.T @ x / len(x))[::-1]
got = np.loadtxt(sys.argv[2], usecols=[2])
assert np.allclose(got, e / e.sum(), rtol=1e-6, atol=1e-9), (got[:3], (e / e.sum())[:3])
c = np.linalg.eigvalsh(np.cov(x.T))[::-1]
assert np.allclose(np.loadtxt(sys.argv[3], usecols=[2]), c / c.sum(), rtol=1e-6, atol=1e-9)
assert got[0] > (c / c.sum())[0] + 0.01   # the direction centring removes
PY
}

@test "embspearman(1)'s worked example (raw vs whitened GloVe on STS-B) prints what the page shows" {
	page=$EMB_SRCDIR/man/embspearman.1
	mkdir -p worked && cd worked
	ln -sfn "$EMB_SRCDIR/data" data
	sed -n '/worked-example-begin/,/worked-example-end/p' "$page" | sed -n '/^\.Bd/,/^\.Ed/p' |
		sed '1d;$d' > block.txt
	sed -n 's/^\$ //p' block.txt > cmds.sh
	grep -v '^\$ ' block.txt > want.txt
	[ "$(wc -l < cmds.sh)" -ge 5 ] && [ "$(wc -l < want.txt)" -eq 2 ]
	run bash -eo pipefail cmds.sh
	assert_success
	printf '%s\n' "$output" > got.txt
	# The page aligns the columns with blanks: compare field by field.
	run diff <(tr -s ' \t' '\n\n' < got.txt) <(tr -s ' \t' '\n\n' < want.txt)
	assert_success
	# The prose quotes the same numbers, rounded.
	oracle - "$page" got.txt <<'PY'
import re, sys
page = open(sys.argv[1]).read()
prose = page.split("worked-example-end")[1].split(".Sh")[0].replace("\\-", "-")
head, row = [l.split("\t") for l in open(sys.argv[2]).read().split("\n")[:2]]
v = dict(zip(head, row))
want = [v["r2"], v["r1"], v["diff"], "%.2f" % (float(v["r12"]) / 100), "%.2f" % float(v["t"]),
        "%.1e" % float(v["p"]), v["lo"], v["hi"], "p_boot = %s" % v["p_boot"], "%d degrees" % (int(v["n"]) - 3)]
want[5] = re.sub(r"e-0*", "e-", want[5])
missing = [w for w in want if w not in prose]
assert not missing, missing
PY
}

@test "demo: the quantization table equals numpy (sentence-transformers' formulas) on the pooled vectors" {
	py "$W/s.STSB.a.emb" "$W/s.STSB.b.emb" "$W/s.stsbtrain.fit.emb" "$W/sent.STSB.tsv" demo/report.md <<'PY'
import quant_oracle as q
a = read_emb(sys.argv[1])[0].astype(np.float32); b = read_emb(sys.argv[2])[0].astype(np.float32)
cal = read_emb(sys.argv[3])[0].astype(np.float32)
gold = np.array([float(l.split("\t")[1]) for l in open(sys.argv[4])])
def cosz(x, y):
    x = x.astype(np.float64); y = y.astype(np.float64)
    n = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
    return np.where(n > 0, (x * y).sum(1) / np.where(n > 0, n, 1), 0)
r = np.vstack((cal.min(0), cal.max(0)))
deq = lambda x: q.dequantize(q.clamped(x, "int8", r), r.astype(np.float64), "int8", False).astype(np.float32)
bits = lambda x: (x > 0).astype(np.int64)
scores = [cosz(a, b), cosz(deq(a), deq(b)), -(bits(a) != bits(b)).sum(1),
          (a.astype(np.float64) * bits(b)).sum(1), cosz(a[:, :50], b[:, :50]), cosz(a[:, :25], b[:, :25])]
rho = [100 * st.spearmanr(gold, s).correlation for s in scores]
rows = [l for l in open(sys.argv[5]) if l.startswith("| STSB | ") and l.count("|") == 6]
assert len(rows) == 6, rows
for row, want in zip(rows, rho):
    cells = [c.strip() for c in row.strip(" |\n").split("|")]
    assert abs(float(cells[3]) - want) <= 0.005 + 1e-9, (cells, want)
    assert abs(float(cells[4]) - 100 * want / rho[0]) <= 0.05 + 1e-6, (cells, want / rho[0])
assert rho[1] > 0.98 * rho[0] and rho[2] > 0.9 * rho[0]   # what the table is for: int8 ~ lossless
PY
}
