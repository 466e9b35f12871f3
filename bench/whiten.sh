#!/bin/bash
# bench/whiten.sh [ROWS] [DIM]: embwhiten side by side with its peers on the
# same generated anisotropic data (default 200000 x 768 f32, embgen).
#   1. whole process, fit + apply, all dims and -k 256: embwhiten, the numpy
#      BERT-whitening reference (np.cov + svd, bojone/BERT-whitening) and
#      FAISS PCAMatrix(eigen_power=-0.5); each writes its f32 output to
#      /dev/null; data from the peer's own format (.npy) or ours (.emb);
#   2. the eigendecomposition alone at d = 768, 1024, 4096: LAPACK dsyevd
#      (OpenBLAS), GSL gsl_eigen_symmv, numpy.linalg.eigh.
# Everything runs twice: OpenBLAS's own CPU detection, then
# OPENBLAS_CORETYPE=Cooperlake.  Wall times are hyperfine medians.
# Run from a build directory (uses ./cmd and ./lib/libemb.a) or set
# EMB_BIN/EMB_BUILD.  Needs ./bootstrap --bench (hyperfine, python3-faiss).
set -eu
rows=${1:-200000}
dim=${2:-768}
build=${EMB_BUILD:-$PWD}
bin=${EMB_BIN:-$build/cmd}
src=$(cd "$(dirname "$0")/.." && pwd)
py=${ORACLE_PYTHON:-/usr/bin/python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/embbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH"

# median CMD...: hyperfine median wall seconds of 3 runs (1 warm-up).
median() {
	hyperfine --style none --warmup 1 --runs 3 --export-json "$work/h.json" "$1" > /dev/null
	"$py" -c 'import json,sys; print("%.3f" % json.load(open(sys.argv[1]))["results"][0]["median"])' "$work/h.json"
}

echo "generating $rows x $dim anisotropic f32 (embgen) ..."
embgen -n "$rows" -d "$dim" --seed 1 --anisotropic > "$work/x.emb"
# The peers read .npy: convert without checksums (a reader for timing only).
"$py" - "$work/x.emb" "$work/x.npy" <<'PY'
import json, struct, sys, numpy as np
data = open(sys.argv[1], "rb").read()
jl = struct.unpack_from("<I", data, 12)[0]
h = json.loads(data[20:20 + jl]); pos = 20 + jl; d = h["dim"]; parts = []
while data[pos:pos + 4] == b"CHNK":
    n, kb = struct.unpack_from("<QQ", data, pos + 8); pos += 24 + kb
    parts.append(np.frombuffer(data, "<f4", n * d, pos).reshape(n, d)); pos += n * d * 4
np.save(sys.argv[2], np.concatenate(parts))
PY

cat > "$work/ref.py" <<'PY'
# numpy BERT-whitening reference (bojone/BERT-whitening eng/utils.py)
import sys, numpy as np
x = np.load(sys.argv[1]); k = int(sys.argv[2]) or None
mu = x.mean(axis=0, keepdims=True)
u, s, vh = np.linalg.svd(np.cov(x.T))
kernel = (u @ np.diag(1 / np.sqrt(s)))[:, :k]
y = (x - mu) @ kernel
y.astype(np.float32).tofile("/dev/null")
PY
cat > "$work/faiss_pca.py" <<'PY'
import sys, numpy as np, faiss
x = np.load(sys.argv[1]); k = int(sys.argv[2]) or x.shape[1]
pca = faiss.PCAMatrix(x.shape[1], k, -0.5)
pca.train(x)
pca.apply_py(x).tofile("/dev/null")
PY

cc -O2 -std=c11 -D_DEFAULT_SOURCE -I"$build" -I"$src/lib" $(pkg-config --cflags gsl libcjson) \
	-o "$work/eigen" "$src/bench/eigen.c" "$build/lib/libemb.a" \
	$(pkg-config --libs gsl libcjson | sed 's/-lgslcblas//') -lopenblas -lm

row() { # NAME SECONDS BASE
	printf '  %-44s %8.3f s   x%5.2f vs embwhiten\n' "$1" "$2" "$(echo "$2 / $3" | bc -l)"
}

for core in "" Cooperlake; do
	if [ -n "$core" ]; then export OPENBLAS_CORETYPE=$core; else unset OPENBLAS_CORETYPE; fi
	echo
	echo "######## OPENBLAS_CORETYPE=${core:-(auto-detected)}"
	for k in 0 256; do
		kopt=; [ "$k" = 0 ] || kopt="-k $k"
		echo
		echo "== 1. fit + apply, whole process, $rows x $dim f32, k = ${k/#0/all}"
		t_ours=$(median "embwhiten $kopt $work/x.emb > /dev/null")
		t_pipe=$(median "cat $work/x.emb | embwhiten $kopt > /dev/null")
		t_np=$(median "$py $work/ref.py $work/x.npy $k")
		t_fa=$(median "$py $work/faiss_pca.py $work/x.npy $k")
		row "embwhiten FILE" "$t_ours" "$t_ours"
		row "cat FILE | embwhiten (stdin spill)" "$t_pipe" "$t_ours"
		row "numpy reference (np.cov + svd)" "$t_np" "$t_ours"
		row "faiss PCAMatrix(eigen_power=-0.5)" "$t_fa" "$t_ours"
	done
	echo
	echo "== 2. eigendecomposition alone (median of 3)"
	printf '  %6s %12s %12s %12s\n' d "dsyevd" "gsl symmv" "numpy eigh"
	for d in 768 1024 4096; do
		t_l=$("$work/eigen" "$d" lapack)
		if [ "$d" -le 1024 ]; then t_g=$("$work/eigen" "$d" gsl); else t_g=-; fi
		t_e=$("$py" -c '
import sys, time, numpy as np
d = int(sys.argv[1]); g = np.random.default_rng(1).standard_normal((d, d)) / (1 + np.arange(d))
c = g @ g.T / d; ts = []
for _ in range(3):
    t = time.perf_counter(); np.linalg.eigh(c); ts.append(time.perf_counter() - t)
print("%.4f" % sorted(ts)[1])' "$d")
		printf '  %6d %12s %12s %12s\n' "$d" "$t_l" "$t_g" "$t_e"
	done
done
