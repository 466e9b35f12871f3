#!/bin/bash
# bench/io.sh [ROWS] [DIM]: I/O throughput of the stream layer, side by side
# with the peers on the same generated data (default 100000 x 768 f32).
#   1. binary stream through embcat in a pipe, against cat (the pipe limit);
#   2. TSV -> binary parse, against numpy.loadtxt and pandas.read_csv;
#   3. peak RSS of embcat at ROWS and 10*ROWS rows (must not grow).
#   4. reading word2vec binary and .npy, against gensim and numpy.load;
#   5. reading the binary dumps: big-ann .fbin against numpy.fromfile,
#      ann-benchmarks HDF5 against h5py, safetensors against a numpy
#      reader of the format (json + frombuffer: the safetensors package
#      is not in Debian), a FAISS flat index against faiss.read_index.
# Run from a build directory (uses ./cmd) or set EMB_BIN.  Needs
# ./bootstrap --bench (python3-pandas, time).  Prints medians of 3 runs.
# SECTIONS="5" runs only those sections (default: all).
set -eu
rows=${1:-100000}
dim=${2:-768}
bin=${EMB_BIN:-$PWD/cmd}
py=${ORACLE_PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/embbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH"
sections=${SECTIONS:-1 2 3 4 5}
want() { case " $sections " in *" $1 "*) return 0 ;; esac; return 1; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# seconds CMD: median wall time of 3 runs of a shell command.
seconds() {
	for _ in 1 2 3; do
		s=$(date +%s.%N); bash -c "$1" > /dev/null; e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | median
}

if ! want 1 && ! want 2 && ! want 3 && ! want 4; then
	echo "generating $rows x $dim f32 ..."
	"$py" -c 'import sys, numpy as np
np.save(sys.argv[3], np.random.default_rng(1).standard_normal((int(sys.argv[1]), int(sys.argv[2]))).astype(np.float32))' \
		"$rows" "$dim" "$work/x0.npy"
	embcat -O emb "$work/x0.npy" > "$work/x.emb"
	emb_bytes=$(stat -c %s "$work/x.emb")
else
echo "generating $rows x $dim f32 TSV ..."
"$py" - "$rows" "$dim" "$work/x.tsv" <<'PY'
import sys, numpy as np
n, d, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(1)
with open(path, "w") as f:
    for s in range(0, n, 10000):
        x = rng.standard_normal((min(10000, n - s), d)).astype(np.float32)
        np.savetxt(f, x, fmt="%.7g", delimiter="\t")
PY
embcat -O emb "$work/x.tsv" > "$work/x.emb"
tsv_bytes=$(stat -c %s "$work/x.tsv")
emb_bytes=$(stat -c %s "$work/x.emb")
vals=$((rows * dim))
fi

if want 1; then
echo
echo "== 1. binary stream through a pipe ($((emb_bytes / 1000000)) MB)"
t_cat=$(seconds "cat '$work/x.emb' | cat")
t_emb=$(seconds "cat '$work/x.emb' | embcat")
printf '%-34s %8.3f s %8.2f GB/s\n' "cat | cat (pipe limit)" "$t_cat" "$(echo "$emb_bytes / $t_cat / 1000000000" | bc -l)"
printf '%-34s %8.3f s %8.2f GB/s\n' "cat | embcat (verify + rewrite)" "$t_emb" "$(echo "$emb_bytes / $t_emb / 1000000000" | bc -l)"
fi
if want 2; then
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
fi
if want 3; then
echo
echo "== 3. peak RSS of a streaming pass (embcat, binary in, binary out)"
for mult in 1 10; do
	rss=$( { for ((i = 0; i < mult; i++)); do cat "$work/x.emb"; done |
		/usr/bin/time -f '%M' embcat > /dev/null; } 2>&1 | tail -n1)
	printf '%-34s %8d kB\n' "$((rows * mult)) rows" "$rss"
done
rss=$( { /usr/bin/time -f '%M' embcat -O emb "$work/x.tsv" > /dev/null; } 2>&1 | tail -n1)
printf '%-34s %8d kB\n' "$rows rows (TSV in)" "$rss"
fi
if want 4; then
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
	case $name in *hdf5*|h5py*) [ $hdf5 = yes ] || continue ;; esac
	printf '%-34s %8.3f s %8.1f MB/s  x%.2f vs embutils\n' "$name" "$t" \
		"$(echo "$emb_bytes / $t / 1000000" | bc -l)" "$(echo "$t / $base" | bc -l)"
done
fi

if want 5; then
echo
echo "== 5. reading the binary dumps, whole process ($((emb_bytes / 1000000)) MB of f32)"
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
embinfo "$work/x.hdf5" > /dev/null 2>&1 || { hdf5=no; echo "(HDF5 rows skipped: embutils built without --with-hdf5)"; }
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
fi
