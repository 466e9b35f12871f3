#!/bin/sh
# bench/cos.sh [BUILDDIR]: embcos side by side with numpy and FAISS, on the
# same data (embgen's .emb for embcos, the same values as .npy for numpy and
# FAISS), in one run.  Whole processes (load + compute + write),
# medians of hyperfine runs, ratios printed at the end.
#   paired: N_PAIRS rows x DIM, embcos A B  vs  numpy einsum / norms
#   top-k:  NQ queries x NDB rows, K best by cosine:
#           embcos --topk  vs  numpy (argpartition on q @ db.T, in blocks)
#           vs FAISS IndexFlatIP (normalize_L2), THREADS threads each;
#           with Debian's OpenBLAS as it detects this CPU, then with
#           OPENBLAS_CORETYPE=$CORETYPE (the machine's sgemm limit).
# Environment: N_PAIRS (1000000), DIM (768), NQ (10000), NDB (100000),
# K (10), THREADS (2), RUNS (3), CORETYPE (Cooperlake), BENCH_DIR,
# MODES ("paired topk": either or both).
set -eu
build=${1:-$(pwd)}
embcos=$(cd "$build" && pwd)/cmd/embcos
py=${ORACLE_PYTHON:-/usr/bin/python3}
n=${N_PAIRS:-1000000} d=${DIM:-768} nq=${NQ:-10000} ndb=${NDB:-100000}
k=${K:-10} threads=${THREADS:-2} runs=${RUNS:-3} core=${CORETYPE:-Cooperlake}
modes=${MODES:-paired topk}
dir=${BENCH_DIR:-/tmp/bench-cos-$n-$d-$nq-$ndb}
mkdir -p "$dir"
cd "$dir"
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads

# embgen makes the data; the same values go to .npy for numpy and FAISS
# (a fast reader of emb(5) chunks: CRCs were checked by embgen's writer).
gen() {	# gen NAME ROWS SEED
	[ -f $1.emb ] || "$(dirname "$embcos")/embgen" -n $2 -d $d -s $3 > $1.emb
	[ -f $1.npy ] || "$py" - $1 <<'PY'
import json, struct, sys, numpy as np
name = sys.argv[1]
buf = memoryview(open(name + ".emb", "rb").read())
jl = struct.unpack_from("<I", buf, 12)[0]
dim = json.loads(bytes(buf[20:20 + jl]))["dim"]
pos, parts = 20 + jl, []
while bytes(buf[pos:pos + 4]) == b"CHNK":
    n, kb = struct.unpack_from("<QQ", buf, pos + 8)
    parts.append(np.frombuffer(buf[pos + 24 + kb:pos + 24 + kb + n * dim * 4], np.float32))
    pos += 24 + kb + n * dim * 4
np.save(name + ".npy", np.concatenate(parts).reshape(-1, dim))
PY
}
case " $modes " in *" paired "*) gen a $n 1; gen b $n 2;; esac
case " $modes " in *" topk "*) gen q $nq 3; gen db $ndb 4;; esac

cat > np_paired.py <<'PY'
import sys, numpy as np
a = np.load("a.npy"); b = np.load("b.npy")
s = np.einsum("ij,ij->i", a, b) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
s.tofile(sys.stdout.buffer)
PY
cat > np_topk.py <<'PY'
import sys, numpy as np
k = int(sys.argv[1])
q = np.load("q.npy"); db = np.load("db.npy")
q /= np.linalg.norm(q, axis=1, keepdims=True); db /= np.linalg.norm(db, axis=1, keepdims=True)
out = []
for s in range(0, len(q), 1024):
    sc = q[s:s + 1024] @ db.T
    idx = np.argpartition(-sc, k, axis=1)[:, :k]
    top = np.take_along_axis(sc, idx, 1)
    o = np.argsort(-top, axis=1)
    out.append(np.take_along_axis(idx, o, 1))
np.concatenate(out).tofile(sys.stdout.buffer)
PY
cat > faiss_topk.py <<'PY'
import sys, numpy as np, faiss
k, t = int(sys.argv[1]), int(sys.argv[2])
faiss.omp_set_num_threads(t)
q = np.load("q.npy"); db = np.load("db.npy")
faiss.normalize_L2(q); faiss.normalize_L2(db)
index = faiss.IndexFlatIP(db.shape[1]); index.add(db)
D, I = index.search(q, k)
I.tofile(sys.stdout.buffer)
PY
cat > sgemm_peak.py <<'PY'
import time, numpy as np
a = np.ones((4096, 4096), np.float32); b = a.copy()
a @ b
t = time.perf_counter(); a @ b; t = time.perf_counter() - t
print("%.1f" % (2 * 4096 ** 3 / t / 1e9))
PY

hf() {	# hf NAME CMD...: median seconds of RUNS runs into $NAME.json
	name=$1; shift
	hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "$name.json" "$@" >/dev/null 2>&1 ||
		hyperfine --style none --warmup 1 --runs "$runs" --export-json "$name.json" "$@" >/dev/null
	"$py" -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$name.json"
}

echo "threads=$threads runs=$runs"

case " $modes " in *" paired "*)
echo "== paired cosine, $n pairs x $d (whole process) =="
# Alternated runs (ours, numpy, ours, ...) after one warm-up of each, so
# that load from other jobs falls on both alike; medians.
"$py" - "$runs" "$embcos a.emb b.emb > /dev/null" "$py np_paired.py > /dev/null" <<'PY'
import statistics, subprocess, sys, time
runs, cmds = int(sys.argv[1]), sys.argv[2:]
for c in cmds:
    subprocess.run(c, shell=True, check=True)
t = [[] for c in cmds]
for r in range(runs):
    for i, c in enumerate(cmds):
        s = time.perf_counter()
        subprocess.run(c, shell=True, check=True)
        t[i].append(time.perf_counter() - s)
o, n = (statistics.median(x) for x in t)
print("embcos %.3fs  numpy %.3fs  speed-up %.2fx  (medians of %d alternated runs;"
      " embcos %s, numpy %s)" % (o, n, n / o, runs, " ".join("%.3f" % v for v in t[0]),
                                  " ".join("%.3f" % v for v in t[1])))
PY
;; esac

case " $modes " in *" topk "*) ;; *) exit 0;; esac
peak0=$("$py" sgemm_peak.py)
peak1=$(OPENBLAS_CORETYPE=$core "$py" sgemm_peak.py)
echo "sgemm 4096^3 (numpy): ${peak0} GFLOP/s as detected, ${peak1} GFLOP/s with OPENBLAS_CORETYPE=$core"
flop=$("$py" -c "print(2 * $nq * $ndb * $d)")
for mode in detected "$core"; do
	if [ "$mode" = detected ]; then unset OPENBLAS_CORETYPE; else export OPENBLAS_CORETYPE=$core; fi
	echo "== top-$k of $nq queries in $ndb x $d, OpenBLAS core: $mode =="
	t_ours=$(hf t_ours "sh -c '$embcos --topk $k --db db.emb q.emb > /dev/null'")
	t_faiss=$(hf t_faiss "sh -c '$py faiss_topk.py $k $threads > /dev/null'")
	t_np=$(hf t_np "sh -c '$py np_topk.py $k > /dev/null'")
	"$py" -c "
o, f, n, fl = $t_ours, $t_faiss, $t_np, $flop
print('embcos %.3fs (%.1f GFLOP/s)  faiss %.3fs (%.1f GFLOP/s)  numpy %.3fs' % (o, fl / o / 1e9, f, fl / f / 1e9, n))
print('embcos/faiss time ratio %.2f  embcos/numpy %.2f' % (o / f, o / n))"
done
unset OPENBLAS_CORETYPE
echo "faiss-detected vs embcos-$core: compare the two blocks above"
