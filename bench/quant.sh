#!/bin/bash
# bench/quant.sh [ROWS] [DIM] [QUERIES]: embquant against the numpy code of
# sentence-transformers' quantize_embeddings() (its int8 and ubinary paths
# written out, so the bench needs no torch), and embcos --hamming against
# FAISS IndexBinaryFlat, on the same generated data in the same run
# (default 100000 x 768 f32, embgen; 1000 queries for the Hamming top-10).
#   1. int8 fit + apply (ranges from the data itself), whole process, file in,
#      codes out to /dev/null: embquant --int8 x.emb, numpy on x.npy;
#   2. int8 with saved ranges: embquant --load, numpy with ranges=;
#   3. ubinary: embquant --ubinary, np.packbits(x > 0, axis=-1);
#   4. Hamming top-10 of QUERIES bit queries over the ROWS x DIM bit
#      database: embcos --hamming -k 10 (streams the .emb), FAISS
#      IndexBinaryFlat add + search (from the packed .npy).
# Each time is the median of 3 runs after a warm-up (hyperfine when it is
# installed); the peers' whole process includes starting Python and
# importing numpy (and FAISS), so their compute alone (the quantize or the
# add + search, timed inside the script, data already loaded) is shown too.
# Run from a build directory (uses ./cmd) or set EMB_BIN.
set -eu
rows=${1:-100000}
dim=${2:-768}
nq=${3:-1000}
bin=${EMB_BIN:-$PWD/cmd}
py=${ORACLE_PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/embbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH"

# median CMD: median wall seconds of 3 runs after one warm-up.
median() {
	if command -v hyperfine > /dev/null; then
		hyperfine --style none --warmup 1 --runs 3 --export-json "$work/h.json" "$1" > /dev/null
		"$py" -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$work/h.json"
		return
	fi
	bash -c "$1" > /dev/null
	for i in 1 2 3; do
		s=$(date +%s.%N)
		bash -c "$1" > /dev/null
		e=$(date +%s.%N)
		echo "$e - $s" | bc
	done | sort -n | sed -n 2p | awk '{ printf "%.3f\n", $1 }'
}

echo "generating $rows x $dim f32 (embgen) and $nq queries ..."
embgen -n "$rows" -d "$dim" --seed 1 > "$work/x.emb"
embgen -n "$nq" -d "$dim" --seed 2 > "$work/q.emb"
embcat -O npy "$work/x.emb" > "$work/x.npy"
embquant --int8 --save "$work/r.ranges" "$work/x.emb" > /dev/null
embcat -O npy "$work/r.ranges" > "$work/r.npy" 2> /dev/null
embquant --ubinary "$work/x.emb" > "$work/x.bit"
embquant --ubinary "$work/q.emb" > "$work/q.bit"
embcat -O npy "$work/x.bit" > "$work/xb.npy"
embcat -O npy "$work/q.bit" > "$work/qb.npy"

cat > "$work/st.py" <<'PY'
# sentence-transformers quantize_embeddings(), the numpy part, on an .npy
import sys, time, numpy as np
args = [a for a in sys.argv[1:] if not a.endswith(".t")]   # .t: where the time goes
x = np.load(args[1])
t0 = time.perf_counter()
if args[0] == "ubinary":
    out = np.packbits(x > 0, axis=-1)
else:
    ranges = np.load(args[2]).astype(x.dtype) if len(args) > 2 else \
        np.vstack((np.min(x, axis=0), np.max(x, axis=0)))
    starts = ranges[0, :]
    steps = (ranges[1, :] - ranges[0, :]) / 255
    out = ((x - starts) / steps - 128).astype(np.int8)
print(time.perf_counter() - t0, file=open(sys.argv[-1] if sys.argv[-1].endswith(".t") else "/dev/null", "a"))
out.tofile("/dev/null")
PY
cat > "$work/faiss_bin.py" <<'PY'
import sys, time, numpy as np, faiss
faiss.omp_set_num_threads(1)
xb, qb = np.load(sys.argv[1]), np.load(sys.argv[2])
t0 = time.perf_counter()
index = faiss.IndexBinaryFlat(xb.shape[1] * 8)
index.add(xb)
d, i = index.search(qb, 10)
print(time.perf_counter() - t0, file=open(sys.argv[3], "a"))
PY

# The codes agree before anything is timed.
embquant --int8 -O npy "$work/x.emb" > "$work/ours.npy"
"$py" - "$work/x.npy" "$work/ours.npy" <<'PY'
import sys, numpy as np
x = np.load(sys.argv[1]); r = np.vstack((x.min(0), x.max(0)))
want = ((x - r[0]) / ((r[1] - r[0]) / 255) - 128).astype(np.int8)
assert (np.load(sys.argv[2]) == want).all(), "codes differ"
PY

printf '%s\t%s\t%s\t%s\t%s\n' task embutils_s peer_s peer_compute_s peer_over_embutils
n=0
row() {
	n=$((n + 1))
	a=$(median "$2")
	b=$(median "$3 $work/inner$n.t")
	c=$(tail -n 3 "$work/inner$n.t" | sort -n | sed -n 2p | awk '{ printf "%.3f", $1 }')
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$a" "$b" "$c" "$(echo "scale=2; $b / $a" | bc)"
}
row "int8 fit+apply ${rows}x$dim" "embquant --int8 $work/x.emb" "$py $work/st.py int8 $work/x.npy"
row "int8 --load ranges" "embquant --int8 --load $work/r.ranges $work/x.emb" \
	"$py $work/st.py int8 $work/x.npy $work/r.npy"
row "ubinary" "embquant --ubinary $work/x.emb" "$py $work/st.py ubinary $work/x.npy"
row "hamming top-10, $nq queries (FAISS IndexBinaryFlat, 1 thread)" \
	"embcos --hamming -k 10 --db $work/x.bit $work/q.bit" "$py $work/faiss_bin.py $work/xb.npy $work/qb.npy"
flags=$(grep -m1 -o -w -e popcnt -e avx512vpopcntdq /proc/cpuinfo 2> /dev/null | sort -u | tr '\n' ' ')
echo "popcount instructions of this CPU: ${flags:-none} (embcos --hamming uses the best, see embcos(1))"
