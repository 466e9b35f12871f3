#!/bin/sh
# bench/corr.sh [BUILDDIR] [ROWS]: embspearman and embpearson against the
# peers on one ROWS-row (default 10M) two-column TSV, whole processes:
#   spearman: scipy.stats.spearmanr after pandas.read_csv (as a user would)
#   pearson:  datamash ppearson, and scipy.stats.pearsonr after read_csv
# Prints hyperfine medians and the peer/ours ratios, with and without
# OPENBLAS_CORETYPE=Cooperlake (BLAS is not on this path; shown anyway).
set -eu
build=${1:-.}
rows=${2:-10000000}
py=${ORACLE_PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
data=$tmp/corr.tsv
"$py" - "$rows" "$data" <<'PY'
import sys, numpy as np
n = int(sys.argv[1]); rng = np.random.default_rng(1)
x = np.round(rng.integers(0, 26, n) / 5, 1)          # STS-like gold, ties
y = x + rng.standard_normal(n)
np.savetxt(sys.argv[2], np.c_[x, y], fmt=["%.1f", "%.6f"], delimiter="\t")
PY
echo "data: $rows rows, $(wc -c < "$data") bytes"
sp="$py -c 'import sys, pandas as pd; from scipy import stats; d = pd.read_csv(sys.argv[1], sep=\"\t\", header=None); print(stats.spearmanr(d[0], d[1]))' $data"
pp="$py -c 'import sys, pandas as pd; from scipy import stats; d = pd.read_csv(sys.argv[1], sep=\"\t\", header=None); print(stats.pearsonr(d[0], d[1]))' $data"
for env in "" "OPENBLAS_CORETYPE=Cooperlake"; do
	echo "== environment: ${env:-default}"
	hyperfine --warmup 0 --runs 3 --export-json "$tmp/h.json" \
		-n embspearman "env $env $build/cmd/embspearman $data" \
		-n scipy.spearmanr "env $env $sp" \
		-n embpearson "env $env $build/cmd/embpearson $data" \
		-n datamash.ppearson "env $env datamash ppearson 1:2 < $data" \
		-n scipy.pearsonr "env $env $pp" > /dev/null
	"$py" - "$tmp/h.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
for k, v in r.items():
    print("  %-18s median %7.3f s" % (k, v))
print("  spearman: scipy/embspearman = %.1fx" % (r["scipy.spearmanr"] / r["embspearman"]))
print("  pearson:  datamash/embpearson = %.1fx, scipy/embpearson = %.1fx" % (
    r["datamash.ppearson"] / r["embpearson"], r["scipy.pearsonr"] / r["embpearson"]))
PY
done
echo "== results agree:"
"$build/cmd/embspearman" "$data"; "$build/cmd/embpearson" "$data"
datamash ppearson 1:2 < "$data"
sh -c "$sp"; sh -c "$pp"
