#!/bin/bash
# bench/scale-fit.sh [ROWS] [DIM] [QUERIES]: fits by partials and exact
# top-k by GNU parallel against one process, on generated anisotropic f32
# rows (default 2000000 x 256 and 2000 queries: 2 GB in $TMPDIR or /tmp).
#   1. fits by partials: centring + whitening fitted and applied by one
#      process (embcenter --save, embwhiten --save), against 2 shards on 2
#      job slots (embcenter/embwhiten --partial per shard, --merge, then
#      --load per shard); prints the speed-up and the largest difference
#      between the merged and the one-pass models, relative to each row's
#      largest value;
#   2. top-k by GNU parallel: embcos -k 10 of QUERIES queries over the whole
#      DB, against 2 shards searched by parallel -j 2 and embcos --merge;
#      prints the speed-up and whether the merged lines equal one process.
# Wall times are medians of REPS runs (default 3).  Shard jobs run with
# OPENBLAS_NUM_THREADS=1, one process with OpenBLAS's default (all cores).
# Needs GNU parallel.  Smoke test: bench/scale-fit.sh 20000 32 100.
# Run from a build directory (uses ./cmd) or set EMB_BIN.
# The two sections are the functions fits_by_partials and topk_by_parallel,
# callable on their own after sourcing this file (then call setup first).
set -eu

# Extra flags for the per-shard top-k that embcos --merge reads (see
# tests/cluster_helper.bash, CL_TOPK_FLAGS).
TOPK_FLAGS=${TOPK_FLAGS---partial}
K=10
REPS=${REPS:-3}

# setup ROWS DIM QUERIES: PATH, the work directory ($work, removed on exit),
# the data ($work/db.emb, $work/q.emb) and the 2 shards' row ranges.
setup() {
	rows=$1 dim=$2 queries=$3
	bin=${EMB_BIN:-$PWD/cmd}
	py=${ORACLE_PYTHON:-/usr/bin/python3}
	export PATH="$bin:$PATH"
	local missing=
	command -v parallel > /dev/null || missing="$missing GNU parallel;"
	if [ -n "$missing" ]; then
		echo "scale-fit.sh: needs$missing" >&2
		exit 1
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/embscale.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	export PARALLEL_HOME=$work/parallel
	mkdir -p "$PARALLEL_HOME"
	touch "$PARALLEL_HOME/will-cite"
	echo "generating $rows x $dim anisotropic f32 and $queries queries (embgen) ..."
	embgen -n "$rows" -d "$dim" --seed 1 --anisotropic > "$work/db.emb"
	embgen -n "$queries" -d "$dim" --seed 2 --anisotropic > "$work/q.emb"
	half=$((rows / 2))
	printf '0 %s\n%s %s\n' "$half" "$half" "$rows" > "$work/shards.txt"
}

# median CMD: the median wall seconds of REPS runs of the shell command CMD
# (run in $work).
median() {
	local i t0 t1 times=()
	for i in $(seq "$REPS"); do
		t0=$(date +%s.%N)
		(cd "$work" && bash -c "$1") || { echo "scale-fit.sh: failed: $1" >&2; exit 1; }
		t1=$(date +%s.%N)
		times+=("$(echo "$t1 - $t0" | bc)")
	done
	printf '%.3f\n' "${times[@]}" | sort -g | sed -n "$(((REPS + 1) / 2))p"
}

# model_diff ONE MERGED: the largest |a - b| over the models' values,
# relative to the largest |a| of their row.
model_diff() {
	"$py" -c '
import sys, numpy as np
def load(p):
    return np.array([l.rstrip("\n").split("\t")[1:] for l in open(p)], float)
a, b = load(sys.argv[1]), load(sys.argv[2])
if a.shape != b.shape:
    sys.exit("models differ in shape: %s and %s" % (a.shape, b.shape))
print("%.3g" % (np.abs(a - b) / np.maximum(np.abs(a).max(1, keepdims=True), 1e-300)).max())
' <(embcat -O tsv "$1") <(embcat -O tsv "$2")
}

ratio() { printf '%.2f' "$(echo "scale=4; $1 / $2" | bc)"; }

fits_by_partials() {
	echo
	echo "== fits by partials: centring + whitening, $rows x $dim"
	local one par
	one=$(median 'embcenter --save c1.model db.emb > /dev/null &&
		embwhiten --save w1.model db.emb > /dev/null')
	par=$(median 'export OPENBLAS_NUM_THREADS=1
		parallel -j 2 --colsep " " "embcat --rows={1}:{2} db.emb > s{#}.emb &&
			embcenter --partial s{#}.emb > s{#}.cpart &&
			embwhiten --partial s{#}.emb > s{#}.wpart" :::: shards.txt &&
		embcenter --merge s1.cpart s2.cpart --save c2.model > /dev/null &&
		embwhiten --merge s1.wpart s2.wpart --save w2.model > /dev/null &&
		parallel -j 2 "embcenter --load c2.model s{}.emb > /dev/null &&
			embwhiten --load w2.model s{}.emb > /dev/null" ::: 1 2')
	echo "one process (fit + apply)          ${one} s"
	echo "2 shards, parallel -j 2            ${par} s (cutting the shards included)"
	echo "speed-up                           $(ratio "$one" "$par")"
	echo "merged vs one-pass centring model  $(model_diff "$work/c1.model" "$work/c2.model") (largest difference / row's largest value)"
	echo "merged vs one-pass whitening model $(model_diff "$work/w1.model" "$work/w2.model")"
}

topk_by_parallel() {
	echo
	echo "== top-k by GNU parallel: $queries queries, k = $K, $rows x $dim"
	local one par
	one=$(median "embcos -k $K --db db.emb q.emb > top1.tsv")
	par=$(median "export OPENBLAS_NUM_THREADS=1
		parallel -j 2 --colsep ' ' 'embcat --rows={1}:{2} db.emb |
			embcos -k $K $TOPK_FLAGS --db - q.emb > t{#}.top' :::: shards.txt &&
		embcos --merge -k $K t1.top t2.top > top2.tsv")
	echo "one process                        ${one} s"
	echo "2 shards, parallel -j 2            ${par} s"
	echo "speed-up                           $(ratio "$one" "$par")"
	if cmp -s "$work/top1.tsv" "$work/top2.tsv"; then
		echo "merged top-k                       identical to one process ($(wc -l < "$work/top1.tsv") lines)"
	else
		echo "merged top-k                       DIFFERS from one process"
		return 1
	fi
}

main() {
	setup "${1:-2000000}" "${2:-256}" "${3:-2000}"
	echo "$(nproc) cores; $REPS runs each, medians"
	fits_by_partials
	topk_by_parallel
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
