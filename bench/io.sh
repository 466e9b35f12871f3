#!/bin/bash
# bench/io.sh [ROWS] [DIM]: I/O throughput of the stream layer, side by side
# with the peers on the same generated data (default 100000 x 768 f32).
#   1. binary stream through embcat in a pipe, against cat (the pipe limit);
#   2. TSV -> binary parse, against numpy.loadtxt and pandas.read_csv;
#   3. peak RSS of embcat at ROWS and 10*ROWS rows (must not grow).
#   4. reading word2vec binary and .npy, against gensim and numpy.load;
#   5. reading an OpenAI JSON response (base64, decimal) against json.load.
# Run from a build directory (uses ./cmd) or set EMB_BIN.  Needs
# ./bootstrap --bench (python3-pandas, time).  Prints medians of 3 runs.
set -eu
rows=${1:-100000}
dim=${2:-768}
bin=${EMB_BIN:-$PWD/cmd}
py=${ORACLE_PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/embbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# seconds CMD: median wall time of 3 runs of a shell command.
seconds() {
	for _ in 1 2 3; do
		s=$(date +%s.%N); bash -c "$1" > /dev/null; e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | median
}

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
