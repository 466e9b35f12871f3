#!/usr/bin/env bats
# The demo pipeline (data/demo.sh) on one word set and one STS set: its
# intermediate files are re-scored with numpy/scipy, so the pipeline is
# tested, not just run.  Tolerances: 1e-9 on Spearman and Pearson against
# embspearman/embpearson at full precision, 1e-6 on cosines (f32 vectors),
# and half a unit of the last printed digit on the report's numbers.
load test_helper

setup_file() {
	export DEMO_DIR="$BATS_FILE_TMPDIR/run"
	mkdir -p "$DEMO_DIR"
	cd "$DEMO_DIR"
	DEMO_WORDSETS=EN-RG-65.txt DEMO_TASKS=STSB \
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
	embspearman -x 2 -y 3,4,5,6,7,8,9 "$W/scores.STSB.tsv" > sp.tsv
	embpearson -x 2 -y 3,4,5,6,7,8,9 "$W/scores.STSB.tsv" > pe.tsv
	py "$W/scores.STSB.tsv" sp.tsv pe.tsv demo/report.md <<'PY'
d = np.loadtxt(sys.argv[1], usecols=range(1, 9), delimiter="\t")
rs = [st.spearmanr(d[:, 0], d[:, j]).correlation for j in range(1, 8)]
rp = [st.pearsonr(d[:, 0], d[:, j])[0] for j in range(1, 8)]
for f, ref in ((sys.argv[2], rs), (sys.argv[3], rp)):
    ours = [float(l.split("\t")[3]) for l in open(f).readlines()[1:]]
    assert np.allclose(ours, ref, rtol=0, atol=1e-9), (f, ours, ref)
rows = [l for l in open(sys.argv[4]) if l.startswith("| STSB | test |")]
assert len(rows) == 2
for row, ref in zip(rows, (rs, rp)):
    shown = [float(v) for v in row.strip(" |\n").split("|")[3:]]
    assert np.allclose(shown, 100 * np.array(ref), rtol=0, atol=0.005 + 1e-9), (shown, ref)
assert abs(100 * rp[0] - 38.12) < 0.5, rp[0]
PY
}
