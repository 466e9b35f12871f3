#!/bin/sh
# bench/lsh.sh [BINDIR] [DATADIR]: recall@10, candidates scored per query
# and queries per second of emblsh, side by side with FAISS IndexLSH and
# brute-force embcos --topk, on (1) 100k x 128 clustered data from embgen
# and (2) GloVe 6B 100d words from DATADIR (default ../shared/data).
# Ground truth is embcos --topk 10; recall@10 is embeval's, ann-benchmarks'
# definition (a result within 1e-3 of the 10th true distance counts, so
# ties at the 10th neighbour are hits).  Then every emblsh setting that
# meets issue 6's target (recall@10 >= 0.9 scoring <= 10% of the db) is
# timed as a whole run against embcos --topk 10: same queries, same K, both
# including load (and emblsh its indexing), runs alternated, medians.
# On the clustered data, emblsh then meets FAISS's graph and inverted-file
# indexes (IndexHNSWFlat, IndexIVFFlat) at recall@10 >= 0.95 (see peers).
# BENCH_PEERS_ONLY=1 runs that comparison alone.  Needs python3-faiss.
set -eu
bindir=${1:-$(pwd)/cmd}
data=${2:-$(cd "$(dirname "$0")/../.." && pwd)/shared/data}
PATH=$bindir:$PATH
PY=${ORACLE_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# recall FILE: recall@10 of the run FILE against truth.tsv, as embeval
# --recall prints it (ann-benchmarks' definition, ties counted).
recall() {
	embeval --recall -k 10 truth.tsv "$1" | awk -F '\t' '$2 == "all" { printf "%.3f", $3 }'
}

# lsh NAME OPTS...: one emblsh run, its figures on one line; settings that
# meet the target are added to the file "meets".
lsh() {
	name=$1; shift
	emblsh -v "$@" --db db.emb q.emb > lsh.tsv 2> err
	r=$(recall lsh.tsv)
	v=$(grep 'candidates scored' err)
	ix=$(echo "$v" | sed -n 's/.*rows in \([0-9.]*\) s;.*/\1/p')
	qps=$(echo "$v" | sed -n 's/.*s (\([0-9]*\)\/s).*/\1/p')
	cand=$(echo "$v" | sed -n 's/.*; \([0-9.]*\) candidates.*/\1/p')
	pct=$(echo "$v" | sed -n 's/.*(\([0-9.]*\)% of the db).*/\1/p')
	printf "%-44s recall@10 %s  cand/query %9s (%6s%%)  qps %8s  index %ss\n" \
		"$name" "$r" "$cand" "$pct" "$qps" "$ix"
	if awk -v r="$r" -v p="$pct" 'BEGIN { exit !(r >= 0.9 && p <= 10) }'; then
		echo "$*" >> meets
	fi
}

# whole_run: alternate embcos --topk 10 and each setting in "meets", 5
# rounds, and print the median wall times and their ratio.
whole_run() {
	[ -s meets ] || { echo "whole run: no emblsh setting met recall@10 >= 0.9 at <= 10% scored"; return; }
	"$PY" - "$bindir" <<'PY'
import subprocess, sys, time, statistics
bindir = sys.argv[1]
cfgs = [l.strip() for l in open("meets") if l.strip()]
cmds = [[bindir + "/embcos", "--topk", "10", "--db", "db.emb", "q.emb"]]
cmds += [[bindir + "/emblsh"] + c.split() + ["--db", "db.emb", "q.emb"] for c in cfgs]
t = [[] for _ in cmds]
for _ in range(5):
    for i, c in enumerate(cmds):
        s = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        t[i].append(time.perf_counter() - s)
bf = statistics.median(t[0])
print("whole run (load [+ index] + all queries, K=10), median of 5 alternated runs:")
print("  %-44s %.3f s" % ("embcos --topk 10 (brute force)", bf))
best = 0
for c, x in zip(cfgs, t[1:]):
    m = statistics.median(x); best = max(best, bf / m)
    print("  %-44s %.3f s  embcos/emblsh %.2f" % ("emblsh " + c, m, bf / m))
print("emblsh %s brute force at recall@10 >= 0.9, <= 10%% scored (best ratio %.2f)" %
      ("beats" if best > 1 else "does not beat", best))
PY
}

faiss_lsh() {
	"$PY" - "$bindir" <<'PY'
import subprocess, sys, time, numpy as np, faiss
bindir = sys.argv[1]
def load(f):
    k, v = [], []
    for line in open(f):
        t = line.rstrip("\n").split("\t"); k.append(t[0]); v.append(np.array(t[1:], np.float32))
    return k, np.vstack(v)
dk, d = load("db.tsv"); qk, q = load("q.tsv")
def recall(I, S):
    with open("faiss.tsv", "w") as f:
        for i in range(len(qk)):
            for r, j in enumerate(I[i]):
                if j >= 0:
                    f.write("%s\t%s\t%.9g\t%d\n" % (qk[i], dk[j], S[i][r], r + 1))
    out = subprocess.run([bindir + "/embeval", "--recall", "-k", "10", "truth.tsv", "faiss.tsv"],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])
faiss.normalize_L2(d); faiss.normalize_L2(q)
for nbits in (256, 512, 1024):
    ix = faiss.IndexLSH(d.shape[1], nbits, True, False)   # rotate_data, no thresholds
    t0 = time.time(); ix.train(d); ix.add(d); ti = time.time() - t0
    for kk, label in ((10, "hamming top-10"), (100, "hamming top-100 + cosine rerank")):
        t0 = time.time()
        _, I = ix.search(q, kk)
        s = np.einsum("qd,qkd->qk", q, d[I])
        o = np.argsort(-s, axis=1, kind="stable")[:, :10]
        I, s = np.take_along_axis(I, o, 1), np.take_along_axis(s, o, 1)
        t = time.time() - t0
        rec = recall(I, s)
        print("%-44s recall@10 %.3f  cand/query %9s (%6s%%)  qps %8.0f  index %.2fs" %
              ("faiss IndexLSH nbits=%d %s" % (nbits, label), rec, "all", "100.0", len(qk) / t, ti))
PY
}

# peers LSH-SETTING...: emblsh and FAISS IndexIVFFlat and IndexHNSWFlat on
# db.emb/q.emb (and their TSV), each swept over its search-time knob; the
# cheapest setting of each with recall@10 >= 0.95 (embeval) is reported as a
# batch job (index build + 1000 queries) and as queries per second.  emblsh
# is timed as a whole process (load, index, search) and by its -v figures;
# FAISS from vectors in memory (its load is not counted).  Both get
# BENCH_THREADS threads (default 1: emblsh searches on one core; OpenBLAS,
# which projects its rows, and FAISS's OpenMP get the same count).
peers() {
	"$PY" - "$bindir" "${BENCH_THREADS:-1}" "$@" <<'PY'
import os, re, subprocess, sys, time, numpy as np, faiss
bindir, threads, lsh_cfgs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
faiss.omp_set_num_threads(threads)
env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
def load(f):
    k, v = [], []
    for line in open(f):
        t = line.rstrip("\n").split("\t"); k.append(t[0]); v.append(np.array(t[1:], np.float32))
    return k, np.vstack(v)
dk, d = load("db.tsv"); qk, q = load("q.tsv")
def recall(path):
    out = subprocess.run([bindir + "/embeval", "--recall", "-k", "10", "truth.tsv", path],
                         capture_output=True, text=True, check=True).stdout
    return float(out.split()[-1])
def faiss_recall(I, S):
    with open("peer.tsv", "w") as f:
        for i in range(len(qk)):
            for r, j in enumerate(I[i]):
                if j >= 0:
                    f.write("%s\t%s\t%.9g\t%d\n" % (qk[i], dk[j], S[i][r], r + 1))
    return recall("peer.tsv")
res = []   # (method, setting, recall, build s, search s, batch s)
for cfg in lsh_cfgs:
    t0 = time.perf_counter()
    with open("peer.tsv", "w") as out:
        p = subprocess.run([bindir + "/emblsh", "-v"] + cfg.split() + ["--db", "db.emb", "q.emb"],
                           stdout=out, stderr=subprocess.PIPE, text=True, check=True, env=env)
    wall = time.perf_counter() - t0
    m = re.search(r"rows in ([0-9.]+) s; [0-9]+ queries in ([0-9.]+) s", p.stderr)
    res.append(("emblsh", cfg, recall("peer.tsv"), float(m.group(1)), float(m.group(2)), wall))
dn, qn = d.copy(), q.copy()
faiss.normalize_L2(dn); faiss.normalize_L2(qn)   # cosine = inner product
dim, nlist = d.shape[1], 256   # about sqrt(rows): k-means training stays cheap
t0 = time.perf_counter()
ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
ivf.train(dn); ivf.add(dn)
tb = time.perf_counter() - t0
for nprobe in (1, 2, 4, 8, 16, 32, 64):
    ivf.nprobe = nprobe
    t0 = time.perf_counter(); S, I = ivf.search(qn, 10); ts = time.perf_counter() - t0
    res.append(("faiss IndexIVFFlat", "nlist=%d nprobe=%d" % (nlist, nprobe), faiss_recall(I, S),
                tb, ts, tb + ts))
t0 = time.perf_counter()
hnsw = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
hnsw.hnsw.efConstruction = 40
hnsw.add(dn)
tb = time.perf_counter() - t0
for ef in (16, 32, 64, 128, 256):
    hnsw.hnsw.efSearch = ef
    t0 = time.perf_counter(); S, I = hnsw.search(qn, 10); ts = time.perf_counter() - t0
    res.append(("faiss IndexHNSWFlat", "M=32 efConstruction=40 efSearch=%d" % ef,
                faiss_recall(I, S), tb, ts, tb + ts))
nq = len(qk)
print("%d database rows, %d queries, k=10; FAISS %s; %d thread(s) each; %s" %
      (len(dk), nq, faiss.__version__, faiss.omp_get_max_threads(),
       "load average %.1f" % os.getloadavg()[0]))
print("  %-20s %-40s %9s %8s %8s %8s %8s" % ("method", "setting", "recall@10", "build s",
                                              "search s", "batch s", "qps"))
for m, c, r, b, s, w in res:
    print("  %-20s %-40s %9.4f %8.3f %8.3f %8.3f %8.0f" % (m, c, r, b, s, w, nq / s))
best = {}
for row in res:
    if row[2] >= 0.95 and (row[0] not in best or row[5] < best[row[0]][5]):
        best[row[0]] = row
print("cheapest batch job at recall@10 >= 0.95 (build + %d queries; emblsh's is the whole "
      "process, load included):" % nq)
ref = best.get("emblsh")
for m in ("emblsh", "faiss IndexIVFFlat", "faiss IndexHNSWFlat"):
    if m not in best:
        print("  %-20s no setting reached recall@10 0.95" % m)
        continue
    _, c, r, b, s, w = best[m]
    ratio = ("  batch %.1fx emblsh's, qps %.2fx emblsh's" % (w / ref[5], (nq / s) / (nq / ref[4]))
             if ref and m != "emblsh" else "")
    print("  %-20s %-40s recall@10 %.4f  batch %.3f s  qps %.0f%s" % (m, c, r, w, nq / s, ratio))
PY
}

run_set() {
	title=$1; shift
	echo
	embcat -O tsv db.emb > db.tsv
	embcat -O tsv q.emb > q.tsv
	echo "## $title: $(wc -l < db.tsv) rows, $(wc -l < q.tsv) queries"
	hyperfine -N --runs 3 --export-json bf.json \
		"$bindir/embcos --topk 10 --db db.emb q.emb" > /dev/null 2>&1
	bf=$("$PY" -c 'import json; r = json.load(open("bf.json"))["results"][0]; print("%.3f" % r["median"])')
	echo "embcos --topk 10 (brute force): median $bf s  qps $(echo "$bf $(wc -l < q.tsv)" | awk '{ printf "%.0f", $2 / $1 }') (incl. load)"
	embcos --topk 10 --db db.emb q.emb > truth.tsv
	rm -f meets
	for cfg in "$@"; do
		# shellcheck disable=SC2086
		lsh "emblsh $cfg" $cfg
	done
	faiss_lsh
	whole_run
}

echo "# emblsh benchmark ($(nproc) cores; emblsh qps counts query time only, after indexing)"

embgen -n 101000 -d 128 --mixture 100 --seed 1 --prefix w -O tsv > all.tsv
head -n 100000 all.tsv | embcat -O emb > db.emb
tail -n 1000 all.tsv | embcat -O emb > q.emb
# emblsh settings for the peers, cheapest first (recall@10 0.96 to 1.0 here)
peer_lsh="--scheme simhash -K 16 -L 4 -P 8|--scheme simhash -K 20 -L 16 -P 4|--scheme crosspolytope -L 4|--scheme simhash -K 16 -L 32"
run_peers() {
	embcat -O tsv db.emb > db.tsv
	embcat -O tsv q.emb > q.tsv
	embcos --topk 10 --db db.emb q.emb > truth.tsv
	echo
	echo "## peers at recall@10 >= 0.95: embgen --mixture 100, 100000 x 128"
	old=$IFS; IFS='|'
	# shellcheck disable=SC2086
	set -- $peer_lsh
	IFS=$old
	peers "$@"
}
if [ -n "${BENCH_PEERS_ONLY:-}" ]; then
	run_peers
	exit 0
fi
run_set "embgen --mixture 100, 100000 x 128" \
	"--scheme simhash -K 16 -L 8" \
	"--scheme simhash -K 16 -L 4 -P 8" \
	"--scheme simhash -K 16 -L 8 -P 4" \
	"--scheme crosspolytope -L 4" \
	"--scheme simhash -K 16 -L 32" \
	"--scheme rotation -B 64 -H 3 -L 16 -P 4" \
	"--scheme crosspolytope -H 2 -L 8 -P 16" \
	"--scheme simhash -K 18 -L 32 -P 4"
run_peers

if ls "$data"/glove-6B-100d/*.txt > /dev/null 2>&1; then
	# Every 30th word is a query, the rest the database; centred (FALCONN).
	cat "$data"/glove-6B-100d/*.txt | awk '!seen[$1]++' > glove.txt
	awk 'NR % 30 == 0' glove.txt | embcat -O emb > qr.emb
	awk 'NR % 30 != 0' glove.txt | embcat -O emb > dbr.emb
	embcenter --save mean.model dbr.emb > db.emb
	embcenter --load mean.model qr.emb > q.emb
	run_set "GloVe 6B 100d, centred" \
		"--scheme simhash -K 12 -L 16" \
		"--scheme crosspolytope -L 16 -P 8" \
		"--scheme crosspolytope -L 32 -P 16" \
		"--scheme simhash -K 12 -L 32 -P 8" \
		"--scheme simhash -K 12 -L 64 -P 4" \
		"--scheme simhash -K 14 -L 64 -P 16" \
		"--scheme crosspolytope -H 2 -L 16 -P 64" \
		"--scheme crosspolytope -H 2 -L 32 -P 32"
fi
