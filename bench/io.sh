#!/bin/bash
# bench/io.sh [ROWS] [DIM]: I/O throughput of the stream layer, side by side
# with the peers on the same generated data (default 100000 x 768 f32).
#   1. binary stream through embcat in a pipe, against cat (the pipe limit);
#   2. TSV -> binary parse, against numpy.loadtxt and pandas.read_csv;
#   3. peak RSS of embcat at ROWS and 10*ROWS rows (must not grow).
#   4. reading word2vec binary and .npy, against gensim and numpy.load;
#   5. reading an OpenAI JSON response (base64, decimal) against json.load;
#   6. reading the binary dumps: big-ann .fbin against numpy.fromfile,
#      ann-benchmarks HDF5 against h5py, safetensors against a numpy
#      reader of the format (json + frombuffer: the safetensors package
#      is not in Debian), a FAISS flat index against faiss.read_index.
# bench/io.sh --parse [ROWS] [DIM] [SPEARMAN_ROWS]: only the parse rows of
# issue 16 (default 100000 x 256, and 2000000 rows): TSV -> binary with one
# thread and with every core against numpy.loadtxt and pandas.read_csv, and
# Spearman from TSV against pandas + scipy.stats.spearmanr.  A table script
# may source this file and call bench_parse TSV and bench_spearman TSV
# (gen_tsv and gen_corr make the data).
# Run from a build directory (uses ./cmd) or set EMB_BIN.  Needs
# ./bootstrap --bench (python3-pandas, time).  Prints medians of 3 runs;
# --parse runs 5 rounds, each running every contender once, so that other
# work on a shared machine slows them alike, and prints wall and CPU medians.
set -eu
bin=${EMB_BIN:-$PWD/cmd}
py=${ORACLE_PYTHON:-/usr/bin/python3}
export PATH="$bin:$PATH"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# seconds CMD: median wall time of 3 runs of a shell command.
seconds() {
	for _ in 1 2 3; do
		s=$(date +%s.%N); bash -c "$1" > /dev/null; e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | median
}

# rounds N NAME=CMD...: every CMD once per round, N rounds; prints
# "NAME wall-median cpu-median" per command (cpu: user + sys).
rounds() {
	local n=$1 t nc name w c
	shift
	t=$(mktemp "${TMPDIR:-/tmp}/embround.XXXXXX")
	for ((r = 0; r < n; r++)); do
		for nc in "$@"; do
			/usr/bin/time -f "${nc%%=*} %e %U %S" -a -o "$t" bash -c "${nc#*=}" > /dev/null
		done
	done
	for nc in "$@"; do
		name=${nc%%=*}
		w=$(awk -v n="$name" '$1 == n {print $2}' "$t" | median)
		c=$(awk -v n="$name" '$1 == n {print $3 + $4}' "$t" | median)
		echo "$name $w $c"
	done
	rm -f "$t"
}

# bench_parse TSV: TSV -> binary, whole processes, against the peers.
bench_parse() {
	local tsv=$1 bytes res
	bytes=$(stat -c %s "$tsv")
	res=$(rounds 5 \
		"embcat_1_thread=EMB_THREADS=1 embcat -O emb '$tsv'" \
		"embcat=embcat -O emb '$tsv'" \
		"numpy.loadtxt='$py' -c 'import numpy as np; np.loadtxt(\"$tsv\", dtype=np.float32, delimiter=\"\t\")'" \
		"pandas.read_csv='$py' -c 'import numpy as np, pandas as pd; pd.read_csv(\"$tsv\", sep=\"\t\", header=None, dtype=np.float32, engine=\"c\").to_numpy()'")
	echo "TSV -> binary, $((bytes / 1000000)) MB, $(nproc) CPUs; medians of 5 rounds"
	while read -r name w c; do
		printf '  %-22s %7.3f s wall %7.3f s cpu %6.2f GB/s (wall) %6.2f GB/s (cpu)\n' "$name" "$w" "$c" \
			"$(echo "$bytes / $w / 1000000000" | bc -l)" "$(echo "$bytes / $c / 1000000000" | bc -l)"
	done <<< "$res"
	awk '{w[$1] = $2; c[$1] = $3}
	     END {printf "  ratios: numpy.loadtxt/embcat x%.1f (1 thread x%.1f), pandas.read_csv/embcat x%.1f (1 thread x%.1f), threads x%.2f\n",
		  w["numpy.loadtxt"] / w["embcat"], w["numpy.loadtxt"] / w["embcat_1_thread"],
		  w["pandas.read_csv"] / w["embcat"], w["pandas.read_csv"] / w["embcat_1_thread"],
		  w["embcat_1_thread"] / w["embcat"]}' <<< "$res"
}

# bench_spearman TSV: Spearman from a two-column TSV, whole processes.
bench_spearman() {
	local tsv=$1 res
	res=$(rounds 5 \
		"embspearman=embspearman '$tsv'" \
		"pandas+scipy='$py' -c 'import sys, pandas as pd; from scipy import stats; d = pd.read_csv(\"$tsv\", sep=\"\t\", header=None); print(stats.spearmanr(d[0], d[1]))'")
	echo "Spearman from TSV, $(wc -l < "$tsv") rows; medians of 5 rounds"
	while read -r name w c; do
		printf '  %-22s %7.3f s wall %7.3f s cpu\n' "$name" "$w" "$c"
	done <<< "$res"
	awk '{w[$1] = $2; c[$1] = $3}
	     END {printf "  ratio: pandas+scipy/embspearman x%.1f wall, x%.1f cpu\n",
		  w["pandas+scipy"] / w["embspearman"], c["pandas+scipy"] / c["embspearman"]}' <<< "$res"
}

# gen_tsv ROWS DIM FILE: random f32 rows, %.7g, as numpy.savetxt writes them.
gen_tsv() {
	"$py" - "$1" "$2" "$3" <<'EOF'
import sys, numpy as np
n, d, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(1)
with open(path, "w") as f:
    for s in range(0, n, 10000):
        x = rng.standard_normal((min(10000, n - s), d)).astype(np.float32)
        np.savetxt(f, x, fmt="%.7g", delimiter="\t")
EOF
}

# gen_corr ROWS FILE: STS-like gold with ties and a noisy score, as
# bench/corr.sh makes.
gen_corr() {
	"$py" - "$1" "$2" <<'EOF'
import sys, numpy as np
n = int(sys.argv[1]); rng = np.random.default_rng(1)
x = np.round(rng.integers(0, 26, n) / 5, 1)
y = x + rng.standard_normal(n)
np.savetxt(sys.argv[2], np.c_[x, y], fmt=["%.1f", "%.6f"], delimiter="\t")
EOF
}

# Sourced by a table script: the functions only.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	return 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/embbench.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = --parse ]; then
	gen_tsv "${2:-100000}" "${3:-256}" "$work/x.tsv"
	bench_parse "$work/x.tsv"
	rm -f "$work/x.tsv"
	gen_corr "${4:-2000000}" "$work/corr.tsv"
	bench_spearman "$work/corr.tsv"
	exit 0
fi
rows=${1:-100000}
dim=${2:-768}

echo "generating $rows x $dim f32 TSV ..."
gen_tsv "$rows" "$dim" "$work/x.tsv"
embcat -O emb "$work/x.tsv" > "$work/x.emb"
tsv_bytes=$(stat -c %s "$work/x.tsv")
emb_bytes=$(stat -c %s "$work/x.emb")
vals=$((rows * dim))

echo
echo "== 1. binary stream through a pipe ($((emb_bytes / 1000000)) MB)"
t_cat=$(seconds "cat '$work/x.emb' | cat")
t_emb=$(seconds "cat '$work/x.emb' | embcat")
printf '%-34s %8.3f s %8.2f GB/s\n' "cat | cat (pipe limit)" "$t_cat" "$(echo "$emb_bytes / $t_cat / 1000000000" | bc -l)"
printf '%-34s %8.3f s %8.2f GB/s\n' "cat | embcat (verify + rewrite)" "$t_emb" "$(echo "$emb_bytes / $t_emb / 1000000000" | bc -l)"

echo
echo "== 2. TSV -> binary, whole process ($((tsv_bytes / 1000000)) MB text, $vals values)"
t_parse=$(seconds "embcat -O emb '$work/x.tsv'")
t_np=$(seconds "'$py' -c 'import numpy as np; np.loadtxt(\"$work/x.tsv\", dtype=np.float32, delimiter=\"\t\")'")
t_pd=$(seconds "'$py' -c 'import numpy as np, pandas as pd; pd.read_csv(\"$work/x.tsv\", sep=\"\t\", header=None, dtype=np.float32, engine=\"c\").to_numpy()'")
for row in "embcat -O emb:$t_parse" "numpy.loadtxt:$t_np" "pandas.read_csv (C engine):$t_pd"; do
	name=${row%:*}; t=${row##*:}
	printf '%-34s %8.3f s %8.1f MB/s %6.1f Mvalues/s  x%.2f vs embcat\n' "$name" "$t" \
		"$(echo "$tsv_bytes / $t / 1000000" | bc -l)" "$(echo "$vals / $t / 1000000" | bc -l)" \
		"$(echo "$t / $t_parse" | bc -l)"
done

echo
echo "== 3. peak RSS of a streaming pass (embcat, binary in, binary out)"
for mult in 1 10; do
	rss=$( { for ((i = 0; i < mult; i++)); do cat "$work/x.emb"; done |
		/usr/bin/time -f '%M' embcat > /dev/null; } 2>&1 | tail -n1)
	printf '%-34s %8d kB\n' "$((rows * mult)) rows" "$rss"
done
rss=$( { /usr/bin/time -f '%M' embcat -O emb "$work/x.tsv" > /dev/null; } 2>&1 | tail -n1)
printf '%-34s %8d kB\n' "$rows rows (TSV in)" "$rss"

echo
echo "== 4. reading the dumps people have: word2vec binary and .npy, whole process"
# Same values as above, with keys w0.. for word2vec.  Each reader ends with
# the matrix in memory (ours: streamed through embinfo's norm pass, which
# touches every value); medians of 3 runs.
embcat -O w2vbin "$work/x.emb" > "$work/x.bin" 2>/dev/null
embcat -O npy "$work/x.emb" > "$work/x.npy" 2>/dev/null
t_wb=$(seconds "embinfo '$work/x.bin'")
t_gs=$(seconds "'$py' -c 'from gensim.models import KeyedVectors as K; K.load_word2vec_format(\"$work/x.bin\", binary=True)'")
t_nb=$(seconds "embinfo '$work/x.npy'")
t_nl=$(seconds "'$py' -c 'import numpy as np; np.load(\"$work/x.npy\").sum()'")
t_nm=$(seconds "'$py' -c 'import numpy as np; np.load(\"$work/x.npy\", mmap_mode=\"r\").sum()'")
for row in "embinfo x.bin (w2vbin):$t_wb:$t_wb" "gensim load_word2vec_format:$t_gs:$t_wb" \
	   "embinfo x.npy:$t_nb:$t_nb" "numpy.load + sum:$t_nl:$t_nb" "numpy.load mmap + sum:$t_nm:$t_nb"; do
	IFS=: read -r name t base <<< "$row"
	printf '%-34s %8.3f s %8.1f MB/s  x%.2f vs embutils\n' "$name" "$t" \
		"$(echo "$emb_bytes / $t / 1000000" | bc -l)" "$(echo "$t / $base" | bc -l)"
done

echo
echo "== JSON: an OpenAI embeddings response (base64 and decimal), whole process"
# The same values; keys are the indexes.  Python's peer: json.load, then
# numpy's base64 decode (or np.array of the lists) into one f32 matrix.
"$py" - "$work/x.npy" "$work" <<'PY'
import sys, json, base64, numpy as np
x = np.load(sys.argv[1])
b64 = lambda r: base64.b64encode(r.tobytes()).decode()
for name, enc in (("x64.json", b64), ("xfl.json", lambda r: r.tolist())):
    with open(sys.argv[2] + "/" + name, "w") as f:
        json.dump({"object": "list", "model": "m", "data": [
            {"object": "embedding", "index": i, "embedding": enc(r)} for i, r in enumerate(x)]}, f)
PY
j64_bytes=$(stat -c %s "$work/x64.json")
jfl_bytes=$(stat -c %s "$work/xfl.json")
t_j64=$(seconds "embinfo -I json '$work/x64.json'")
t_p64=$(seconds "'$py' -c 'import json, base64, numpy as np; d = json.load(open(\"$work/x64.json\"))[\"data\"]; np.stack([np.frombuffer(base64.b64decode(e[\"embedding\"]), \"<f4\") for e in sorted(d, key=lambda e: e[\"index\"])]).sum()'")
t_jfl=$(seconds "embinfo -I json '$work/xfl.json'")
t_pfl=$(seconds "'$py' -c 'import json, numpy as np; d = json.load(open(\"$work/xfl.json\"))[\"data\"]; np.array([e[\"embedding\"] for e in sorted(d, key=lambda e: e[\"index\"])], dtype=np.float32).sum()'")
for row in "embinfo x64.json (base64):$t_j64:$t_j64:$j64_bytes" \
	   "json.load + base64 + numpy:$t_p64:$t_j64:$j64_bytes" \
	   "embinfo xfl.json (decimal):$t_jfl:$t_jfl:$jfl_bytes" \
	   "json.load + numpy.array:$t_pfl:$t_jfl:$jfl_bytes"; do
	IFS=: read -r name t base bytes <<< "$row"
	printf '%-34s %8.3f s %8.1f MB/s  x%.2f vs embutils\n' "$name" "$t" \
		"$(echo "$bytes / $t / 1000000" | bc -l)" "$(echo "$t / $base" | bc -l)"
done
echo
echo "== 6. reading the binary dumps, whole process ($((emb_bytes / 1000000)) MB of f32)"
# The same values in each format; each reader ends with the matrix in
# memory and sums it (ours: embinfo's norm pass touches every value).
embcat -O fbin "$work/x.emb" > "$work/x.fbin"
embcat -O safetensors "$work/x.emb" > "$work/x.safetensors"
"$py" -c 'import sys, numpy as np, h5py, faiss
with open(sys.argv[1], "rb") as f:
    n, d = np.fromfile(f, count=2, dtype=np.int32)
    x = np.fromfile(f, dtype=np.float32).reshape(n, d)
with h5py.File(sys.argv[2], "w") as f:
    f.attrs["distance"] = "angular"; f["train"] = x
i = faiss.IndexFlatIP(int(d)); i.add(x); faiss.write_index(i, sys.argv[3])' \
	"$work/x.fbin" "$work/x.hdf5" "$work/x.faiss"
sums=$(dirname "$0")/../tests/formats_oracle.py
t_fb=$(seconds "embinfo '$work/x.fbin'")
t_nf=$(seconds "'$py' -c 'import numpy as np
with open(\"$work/x.fbin\", \"rb\") as f:
    n, d = np.fromfile(f, count=2, dtype=np.int32); np.fromfile(f, dtype=np.float32).reshape(n, d).sum()'")
hdf5=yes
embinfo "$work/x.hdf5" > /dev/null 2>&1 || { hdf5=no; echo "(HDF5 rows skipped: embutils built without HDF5: configure found no hdf5.h, or --without-hdf5)"; }
t_h5=$(seconds "embinfo '$work/x.hdf5'")
t_hp=$(seconds "'$py' -c 'import h5py; h5py.File(\"$work/x.hdf5\", \"r\")[\"train\"][:].sum()'")
t_st=$(seconds "embinfo '$work/x.safetensors'")
t_sp=$(seconds "'$py' -c 'import sys; sys.path.insert(0, \"$(dirname "$sums")\"); import formats_oracle as o
t, m = o.st_read(\"$work/x.safetensors\"); t[\"embeddings\"].sum()'")
t_fa=$(seconds "embinfo '$work/x.faiss'")
t_fp=$(seconds "'$py' -c 'import faiss; i = faiss.read_index(\"$work/x.faiss\"); i.reconstruct_n(0, i.ntotal).sum()'")
for row in "embinfo x.fbin:$t_fb:$t_fb" "numpy.fromfile + sum:$t_nf:$t_fb" \
	   "embinfo x.hdf5:$t_h5:$t_h5" "h5py read + sum:$t_hp:$t_h5" \
	   "embinfo x.safetensors:$t_st:$t_st" "numpy safetensors reader + sum:$t_sp:$t_st" \
	   "embinfo x.faiss:$t_fa:$t_fa" "faiss.read_index + reconstruct:$t_fp:$t_fa"; do
	IFS=: read -r name t base <<< "$row"
	case $name in *hdf5*|h5py*) [ $hdf5 = yes ] || continue ;; esac
	printf '%-34s %8.3f s %8.1f MB/s  x%.2f vs embutils\n' "$name" "$t" \
		"$(echo "$emb_bytes / $t / 1000000" | bc -l)" "$(echo "$t / $base" | bc -l)"
done
