#!/usr/bin/env bats
# The binary dumps of issue 13 (emb.5, "Other formats"): big-ann-benchmarks
# .fbin/.u8bin/.i8bin/.ibin, safetensors, FAISS flat indexes and
# ann-benchmarks HDF5.  Files are written by numpy (big-ann's own readers
# and writers are numpy one-liners), by the independent safetensors writer
# of tests/formats_oracle.py, by faiss.write_index and by h5py; values are
# compared exactly (tolerance 0) unless a conversion rounds.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

py() {
	oracle -c "import sys, numpy as np
from formats_oracle import *
$1" "${@:2}"
}

# same A.npy B.npy: equal shapes and values, bit for bit (nan == nan).
same() {
	py 'a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
assert np.array_equal(a, b, equal_nan=True), np.abs(a - b).max()' "$1" "$2"
}

have_hdf5() {
	printf '\211HDF\r\n\032\n' | embcat -I hdf5 2>&1 | grep -q 'built without HDF5' && return 1
	oracle -c 'import h5py' 2>/dev/null
}

@test "big-ann files written by numpy are read exactly, from a file and a pipe, at several sizes" {
	for seed in 1 2 3; do
		py 'seed = int(sys.argv[1]); r = np.random.default_rng(seed)
for n in (0, 1, int(r.integers(2, 3000))):
    d = int(r.integers(1, 40))
    x = {"fbin": r.standard_normal((n, d)).astype("f4"),
         "u8bin": r.integers(0, 256, (n, d)), "i8bin": r.integers(-128, 128, (n, d)),
         "ibin": r.integers(-2**31, 2**31, (n, d))}
    x["fbin"][0:1, 0:1] = np.nan if n else 0
    for k, v in x.items():
        bigann_write(k, "s%d.n%d.%s" % (seed, n, k), v)
        np.save("s%d.n%d.%s.want.npy" % (seed, n, k), v.astype("f8"))' $seed
	done
	for f in s*.*bin; do
		embcat -O npy --dtype f64 "$f" > "$f.got.npy"
		same "$f.want.npy" "$f.got.npy"
		k=${f##*.}
		embcat -I "$k" -O npy --dtype f64 < "$f" > "$f.pipe.npy"
		cat "$f" | embcat -I "$k" -O npy --dtype f64 > "$f.pipe2.npy"
		cmp "$f.got.npy" "$f.pipe.npy"
		cmp "$f.got.npy" "$f.pipe2.npy"
	done
	# int32 ids are exact in every stream the tools pass on
	embinfo s1.n1.ibin | grep -q '"dtype":	"f64"'
}

@test "big-ann files we write are byte-identical to numpy's and read back by big-ann's reader" {
	for seed in 4 5; do
		py 'seed = int(sys.argv[1]); r = np.random.default_rng(seed)
n, d = int(r.integers(1, 5000)), int(r.integers(1, 30))
np.save("f.npy", r.standard_normal((n, d)).astype("f4"))
np.save("u.npy", r.integers(0, 256, (n, d)).astype("f8"))
np.save("i.npy", r.integers(-128, 128, (n, d)).astype("f8"))
np.save("l.npy", r.integers(-2**31, 2**31, (n, d)).astype("f8"))
bigann_write("fbin", "want.fbin", np.load("f.npy"))
bigann_write("u8bin", "want.u8bin", np.load("u.npy"))
bigann_write("i8bin", "want.i8bin", np.load("i.npy"))
bigann_write("ibin", "want.ibin", np.load("l.npy"))' $seed
		for k in fbin:f u8bin:u i8bin:i ibin:l; do
			f=${k%%:*} src=${k##*:}.npy
			# to a regular file (the count patched at close) and to a pipe
			embcat -O "$f" "$src" > "got.$f"
			embcat -O "$f" "$src" | cat > "pipe.$f"
			cmp "want.$f" "got.$f"
			cmp "want.$f" "pipe.$f"
			oracle "$EMB_SRCDIR/tests/formats_oracle.py" bigann-read "$f" "got.$f" back.npy
			py 'a = np.load("back.npy").astype("f8"); b = np.load(sys.argv[1]).astype("f8")
assert np.array_equal(a, b)' "$src"
		done
	done
	# an empty stream is a valid empty file: n = 0
	embcat -O fbin -I tsv < /dev/null > e.fbin
	[ "$(od -An -tu4 e.fbin | tr -s ' ')" = " 0 0" ]
}

@test "--rows=A:B on a big-ann file seeks and equals numpy's slice, for random A:B" {
	py 'r = np.random.default_rng(7)
x = r.standard_normal((20000, 5)).astype("f4"); bigann_write("fbin", "x.fbin", x); np.save("x.npy", x)
ids = r.integers(0, 10**6, (3001, 3)); bigann_write("ibin", "x.ibin", ids); np.save("ids.npy", ids.astype("f8"))'
	for ab in 0:0 0:1 19999:20000 20000:20000 5:17 1000:19000 13333:13334 $(oracle -c '
import numpy as np; r = np.random.default_rng(8)
for a, b in np.sort(r.integers(0, 20001, (6, 2)), axis=1): print("%d:%d" % (a, b))'); do
		a=${ab%%:*} b=${ab##*:}
		embcat --rows="$ab" -O npy x.fbin > got.npy 2>/dev/null
		cat x.fbin | embcat -I fbin --rows="$ab" -O npy > pipe.npy 2>/dev/null
		cmp got.npy pipe.npy
		# (embcat writes no .npy at all for no rows)
		[ -s got.npy ] || { [ "$a" -eq "$b" ] && continue; }
		py 'a, b = int(sys.argv[1]), int(sys.argv[2])
assert np.array_equal(np.load("got.npy").reshape(-1, 5), np.load("x.npy")[a:b])' "$a" "$b"
	done
	embcat --rows=2999:3001 -O npy --dtype f64 x.ibin > got.npy 2>/dev/null
	py 'assert np.array_equal(np.load("got.npy"), np.load("ids.npy")[2999:3001])'
	# the rows keep their numbers in emb output: 6 and 7
	run -0 embcat -O w2v --rows=5:7 x.fbin
	assert_line -n 1 --regexp '^6 '
	assert_line -n 2 --regexp '^7 '
}

@test "big-ann formats are told by the file name's extension, else they need -I" {
	py 'bigann_write("fbin", "v.fbin", np.ones((3, 4), "f4"))'
	cp v.fbin v.dat
	run -1 --separate-stderr embcat -O tsv v.dat
	[[ "$stderr" == "embcat: v.dat: format not recognised; name it with -I FMT (one of: "*"fbin, u8bin, i8bin, ibin"* ]]
	run -0 embcat -I fbin -O tsv v.dat
	assert_output "$(printf '1\t1\t1\t1\n1\t1\t1\t1\n1\t1\t1\t1')"
	# the same bytes named .u8bin are 3 rows of 4 bytes... that do not fit
	cp v.fbin v.u8bin
	run -1 --separate-stderr embcat -O tsv v.u8bin
	assert_equal "$stderr" "embcat: v.u8bin: byte 20: data after the 3 rows the u8bin header promises"
	# -I wins over the name
	run -0 embcat -I fbin -O tsv v.u8bin
	assert_line -n 0 "$(printf '1\t1\t1\t1')"
}

@test "writing u8bin, i8bin and ibin refuses what they cannot hold, naming row and value" {
	printf '1\t2\n3\t256\n' > u.tsv
	run -1 --separate-stderr embcat -O u8bin u.tsv
	assert_equal "$stderr" "embcat: standard output: row 2, value 2: 256 is not a whole number from 0 to 255; it cannot be written as u8bin"
	printf '1\t-129\n' > i.tsv
	run -1 --separate-stderr embcat -O i8bin i.tsv
	assert_equal "$stderr" "embcat: standard output: row 1, value 2: -129 is not a whole number from -128 to 127; it cannot be written as i8bin"
	printf '1\t2\n0.5\t1\n' > h.tsv
	run -1 --separate-stderr embcat -O ibin h.tsv
	assert_equal "$stderr" "embcat: standard output: row 2, value 1: 0.5 is not a whole number from -2147483648 to 2147483647; it cannot be written as ibin"
	py 'np.save("n.npy", np.array([[1, np.nan]], "f4"))'
	run -1 --separate-stderr embcat -O ibin n.npy
	assert_equal "$stderr" "embcat: standard output: row 1, value 2: nan is not a whole number from -2147483648 to 2147483647; it cannot be written as ibin"
	printf '2147483648\n' > big.tsv
	run -1 embcat --dtype f64 -O ibin big.tsv
	# the limits themselves are written exactly
	printf -- '-2147483648\t2147483647\n' > lim.tsv
	embcat --dtype f64 -O ibin lim.tsv > lim.ibin
	run embcat -O tsv lim.ibin
	assert_output "$(printf -- '-2147483648\t2147483647')"
}

@test "a killed or failed big-ann or safetensors writer leaves a file no reader takes for complete" {
	embgen -n 200000 -d 64 --seed 3 > big.emb
	for f in fbin safetensors; do
		{ cat big.emb; sleep 3; } | embcat -I emb -O $f > "p.$f" &
		pid=$!
		for i in $(seq 50); do [ -s "p.$f" ] && break; sleep 0.1; done
		sleep 0.5
		kill -TERM "$pid"
		wait "$pid" || true
		[ "$(stat -c %s "p.$f")" -gt 8 ]
		run -1 --separate-stderr embinfo -I $f "p.$f"
		case $f in
		safetensors) assert_equal "$stderr" "embinfo: p.$f: byte 8: incomplete file: its writer stopped before it wrote the row count" ;;
		*) assert_equal "$stderr" "embinfo: p.$f: byte 0: incomplete file: its writer stopped before it wrote the row count" ;;
		esac
	done
	# big-ann's readers fail on the placeholder too
	py 'import shutil; shutil.copy("p.fbin", "p.ibin")
for k in ("fbin", "ibin"):
    try:
        a = bigann_read(k, "p." + k)
    except ValueError:
        continue
    raise SystemExit("big-ann read_%s loaded a partial file: %s" % (k, a.shape))
import json
try:
    st_read("p.safetensors")
except ValueError:
    pass
else:
    raise SystemExit("a partial safetensors file parsed")'
	# a full disk: the writer fails and the file is refused
	for f in fbin safetensors; do
		run -1 bash -c "trap '' XFSZ; ulimit -f 100; embcat -O $f big.emb 2>/dev/null > full.$f"
		run -1 embinfo -I $f "full.$f"
	done
}

@test "safetensors: we read what an independent writer writes: F32, F16, BF16, F64, several tensors" {
	for seed in 11 12; do
		py 'seed = int(sys.argv[1]); r = np.random.default_rng(seed)
n, d = int(r.integers(1, 2000)), int(r.integers(1, 50))
x = r.standard_normal((n, d))
for dt, t in (("F32", "f4"), ("F16", "f2"), ("F64", "f8")):
    open("%s.st" % dt, "wb").write(st_bytes({"emb": (x.astype(t), dt)}))
    np.save("%s.want.npy" % dt, x.astype(t).astype("f8"))
open("BF16.st", "wb").write(st_bytes({"emb": (x, "BF16")}))
t, _ = st_read("BF16.st"); np.save("BF16.want.npy", t["emb"].astype("f8"))
# a model file: a 1-D bias, an int tensor and two 2-D ones
open("multi.st", "wb").write(st_bytes({"bias": (x[0], "F32"), "ids": (np.arange(5), "I64"),
    "w": (x[: n // 2 + 1].astype("f4"), "F32"), "emb": (x.astype("f2"), "F16")}, {"format": "pt"}))
np.save("w.want.npy", x[: n // 2 + 1].astype("f4").astype("f8"))' $seed
		for dt in F32 F16 BF16 F64; do
			embcat -O npy --dtype f64 "$dt.st" > got.npy
			same "$dt.want.npy" got.npy
			cat "$dt.st" | embcat -O npy --dtype f64 > pipe.npy
			cmp got.npy pipe.npy
		done
		embcat --tensor w -O npy --dtype f64 multi.st > got.npy
		same w.want.npy got.npy
		embcat --tensor emb -O npy --dtype f64 multi.st > got.npy
		same F16.want.npy got.npy
		run -1 --separate-stderr embcat -O tsv multi.st
		assert_equal "$stderr" "embcat: multi.st: several 2-D tensors; choose one with --tensor (2-D tensors: w, emb)"
		run -1 --separate-stderr embcat --tensor bias -O tsv multi.st
		assert_equal "$stderr" "embcat: multi.st: safetensors tensor 'bias' has 1 dimensions (want 2)"
		run -1 --separate-stderr embcat --tensor nope -O tsv multi.st
		assert_equal "$stderr" "embcat: multi.st: no tensor 'nope' in the safetensors file (tensors: ids, bias, w, emb)"
		# --rows seeks inside the tensor
		embcat --tensor w --rows=1:2 -O npy --dtype f64 multi.st > r.npy 2>/dev/null
		py 'assert np.array_equal(np.load("r.npy").reshape(-1, np.load("w.want.npy").shape[1]), np.load("w.want.npy")[1:2])'
	done
	run -0 embinfo --tensor w multi.st
	assert_output --partial '"format":	"pt"'
}

@test "safetensors we write is byte for byte the independent writer's, and keeps the history" {
	for seed in 21 22 23; do
		py 'r = np.random.default_rng(int(sys.argv[1])); n, d = int(r.integers(0, 3000)), int(r.integers(1, 40))
np.save("x.npy", r.standard_normal((n, d)).astype("f4"))' $seed
		for dt in f32 f16; do
			embcat -O safetensors --dtype $dt x.npy | cat > pipe.st
			embcat -O safetensors --dtype $dt x.npy > file.st
			meta=$(oracle "$EMB_SRCDIR/tests/formats_oracle.py" st-meta pipe.st)
			T=$(echo $dt | tr f F)
			py 'import json
x = np.load("x.npy"); t = {"f32": "f4", "f16": "f2"}[sys.argv[2]]
want = st_bytes({"embeddings": (x.astype(t), sys.argv[3])}, json.loads(sys.argv[1]))
got = open("pipe.st", "rb").read()
assert want == got, (want[:200], got[:200])
# the regular file is padded to the placeholder length, and parses the same
t2, m2 = st_read("file.st"); t1, m1 = st_read("pipe.st")
assert m1 == m2 and np.array_equal(t1["embeddings"], t2["embeddings"])
assert json.loads(m1["history"])[-1].startswith("embcat -O safetensors --dtype")' "$meta" $dt "$T"
			# and it reads back, history included
			run -0 embinfo file.st
			assert_output --partial "embcat -O safetensors --dtype $dt x.npy"
		done
	done
	# the history of the input goes on
	embgen -n 3 -d 2 --seed 1 | embcat -O safetensors | cat > h.st
	embcat -O emb h.st | embinfo | grep -q 'embgen -n 3 -d 2 --seed 1'
}

@test "bad safetensors files: each gives one line naming a byte offset" {
	py 'x = np.ones((2, 3), "f4")
good = st_bytes({"a": (x, "F32"), "b": (x, "F32")})
n = int.from_bytes(good[:8], "little"); h = good[8:8 + n].decode(); data = good[8 + n:]
def mk(name, header, data=data):
    hb = header.encode(); hb += b" " * (-len(hb) % 8)
    open(name, "wb").write(len(hb).to_bytes(8, "little") + hb + data)
mk("overlap.st", h.replace("\"data_offsets\":[24,48]", "\"data_offsets\":[20,44]"), data[:44])
mk("hole.st", h.replace("\"data_offsets\":[24,48]", "\"data_offsets\":[28,52]"), data + b"1234")
mk("short.st", h, data[:40])
mk("long.st", h, data + b"x")
mk("size.st", h.replace("[2,3]", "[2,4]", 1))
mk("notjson.st", "{\"a\":")
open("hugelen.st", "wb").write((10**9).to_bytes(8, "little") + b"{}")'
	run -1 --separate-stderr embcat -I safetensors --tensor a -O tsv overlap.st
	assert_equal "$stderr" "embcat: overlap.st: byte 148: safetensors tensor 'b' starts at data byte 20, not 24 where the tensor before it ends (a hole or an overlap)"
	run -1 --separate-stderr embcat --tensor a -O tsv hole.st
	assert_equal "$stderr" "embcat: hole.st: byte 156: safetensors tensor 'b' starts at data byte 28, not 24 where the tensor before it ends (a hole or an overlap)"
	run -1 --separate-stderr embcat --tensor a -O tsv short.st
	assert_equal "$stderr" "embcat: short.st: byte 168: safetensors file cut short: the tensors take 48 data bytes, the file holds 40"
	run -1 --separate-stderr embcat --tensor a -O tsv long.st
	assert_equal "$stderr" "embcat: long.st: byte 176: safetensors data after the tensors: the tensors take 48 data bytes, the file holds 49"
	run -1 --separate-stderr embcat --tensor a -O tsv size.st
	assert_equal "$stderr" "embcat: size.st: byte 8: safetensors tensor 'a': data_offsets [0, 24] hold 24 bytes, its shape and dtype need 32"
	run -1 --separate-stderr embcat -I safetensors -O tsv notjson.st
	assert_equal "$stderr" "embcat: notjson.st: byte 15: safetensors header is not a JSON object"
	run -1 --separate-stderr embcat -I safetensors -O tsv hugelen.st
	assert_equal "$stderr" "embcat: hugelen.st: byte 0: safetensors header claims 1000000000 bytes (limit 100000000)"
}

@test "safetensors on a pipe: bytes after the last tensor, or tensors cut short after the one read, are errors (fuzz)" {
	# The file's size is checked at open; a pipe's end only after the
	# rows, past the tensors that follow the one read.
	py 'x = np.arange(6, dtype="f4").reshape(2, 3)
good = st_bytes({"a": (x, "F32"), "b": (x + 10, "F32")})
open("good.st", "wb").write(good)
open("long.st", "wb").write(good + b"x")
open("short.st", "wb").write(good[:-4])'
	n=$(wc -c < good.st)
	for t in a b; do
		run -0 --separate-stderr sh -c "cat good.st | embcat -I safetensors --tensor $t -O tsv"
		py 'x = np.arange(6).reshape(2, 3) + (10 if sys.argv[2] == "b" else 0)
assert np.array_equal(np.loadtxt(sys.argv[1].splitlines(), ndmin=2), x)' "$output" "$t"
		run -1 --separate-stderr sh -c "cat long.st | embcat -I safetensors --tensor $t -O tsv"
		assert_equal "$stderr" "embcat: -: byte $n: data after the 2 rows the safetensors header promises"
	done
	run -1 --separate-stderr sh -c "cat short.st | embcat -I safetensors --tensor a -O tsv"
	assert_equal "$stderr" "embcat: -: byte $((n - 4)): truncated file: safetensors tensors cut short (20 of 24 bytes)"
}

@test "FAISS flat indexes written by faiss.write_index are read exactly; other indexes are refused by fourcc" {
	for seed in 31 32; do
		oracle -c 'import sys, faiss, numpy as np
r = np.random.default_rng(int(sys.argv[1])); n, d = int(r.integers(1, 3000)), int(r.integers(1, 64))
x = r.standard_normal((n, d)).astype("f4"); np.save("x.npy", x.astype("f8"))
for name, idx in (("ip", faiss.IndexFlatIP(d)), ("l2", faiss.IndexFlatL2(d)), ("old", faiss.IndexFlat(d, faiss.METRIC_L1))):
    idx.add(x); faiss.write_index(idx, name + ".faiss")
faiss.write_index(faiss.IndexFlatIP(d), "empty.faiss")
h = faiss.IndexHNSWFlat(d, 8); h.add(x); faiss.write_index(h, "hnsw.faiss")
faiss.write_index(faiss.IndexLSH(d, 16), "lsh.faiss")' $seed
		for f in ip l2 old; do
			embcat -O npy --dtype f64 $f.faiss > got.npy
			same x.npy got.npy
			cat $f.faiss | embcat -O npy --dtype f64 > pipe.npy
			cmp got.npy pipe.npy
		done
		run -0 embinfo ip.faiss
		assert_output --partial '"faiss_metric":	"inner_product"'
		run -0 embinfo l2.faiss
		assert_output --partial '"faiss_metric":	"l2"'
		run -0 embinfo empty.faiss
		assert_output --partial '"rows":	0'
		run -1 --separate-stderr embcat hnsw.faiss
		assert_equal "$stderr" "embcat: hnsw.faiss: byte 0: FAISS index type 'IHNf' is not a flat index (IxFI, IxF2 or IxFl); only flat indexes store the vectors as they are"
		run -1 --separate-stderr embcat -I faiss lsh.faiss
		assert_equal "$stderr" "embcat: lsh.faiss: byte 0: FAISS index type 'IxHe' is not a flat index (IxFI, IxF2 or IxFl); only flat indexes store the vectors as they are"
	done
	# a cut file names where it ends
	head -c 100 ip.faiss > cut.faiss
	run -1 --separate-stderr embcat cut.faiss
	[[ "$stderr" == "embcat: cut.faiss: byte 100: truncated FAISS index: "* ]]
	# writing FAISS is not supported: faiss itself does that
	run -1 --separate-stderr embcat -O faiss ip.faiss
	assert_equal "$stderr" "embcat: writing faiss is not supported"
}

@test "ann-benchmarks HDF5 written by h5py: train, test, neighbors, distances, attributes" {
	have_hdf5 || skip "built without HDF5, or no h5py"
	for seed in 41 42; do
		oracle -c 'import sys, h5py, numpy as np
r = np.random.default_rng(int(sys.argv[1])); n, d, q, k = int(r.integers(1, 3000)), int(r.integers(1, 50)), 17, 10
train = r.standard_normal((n, d)).astype("f4"); test = r.standard_normal((q, d)).astype("f4")
nb = r.integers(0, 2**31 - 1, (q, k)).astype("i4"); dist = r.random((q, k)).astype("f4")
with h5py.File("a.hdf5", "w") as f:
    f.attrs["distance"] = "angular"; f.attrs["dimension"] = d; f.attrs["point_type"] = "float"
    f["train"] = train; f["test"] = test; f["neighbors"] = nb; f["distances"] = dist
for name, v in (("train", train), ("test", test), ("neighbors", nb), ("distances", dist)):
    np.save(name + ".npy", v.astype("f8"))' $seed
		embcat -O npy --dtype f64 a.hdf5 > got.npy
		same train.npy got.npy
		for ds in train test neighbors distances; do
			embcat --dataset $ds -O npy --dtype f64 a.hdf5 > got.npy
			same $ds.npy got.npy
			cat a.hdf5 | embcat --dataset $ds -O npy --dtype f64 > pipe.npy
			cmp got.npy pipe.npy
		done
		run -0 embinfo --dataset neighbors a.hdf5
		assert_output --partial '"distance":	"angular"'
		assert_output --partial '"point_type":	"float"'
		assert_output --partial '"hdf5_dataset":	"neighbors"'
		assert_output --partial '"dtype":	"f64"'
		embcat --dataset test --rows=3:9 -O npy --dtype f64 a.hdf5 > r.npy 2>/dev/null
		py 'assert np.array_equal(np.load("r.npy"), np.load("test.npy")[3:9])'
	done
	run -1 --separate-stderr embcat --dataset nope a.hdf5
	assert_equal "$stderr" "embcat: a.hdf5: no dataset 'nope' in the HDF5 file (it holds: distances, neighbors, test, train)"
	head -c 2000 a.hdf5 > cut.hdf5
	run -1 --separate-stderr embcat cut.hdf5
	assert_equal "$stderr" "embcat: cut.hdf5: byte 0: not a readable HDF5 file (damaged or cut short?)"
}

@test "libhdf5 is loaded only to read an HDF5 file; a failed load is an error naming the library" {
	have_hdf5 || skip "built without HDF5, or no h5py"
	# not linked: its curl/gnutls/krb5 chain stays out of every program
	run -0 ldd "$(command -v embcat)"
	refute_output --partial hdf5
	oracle -c 'import h5py, numpy as np; f = h5py.File("a.hdf5", "w"); f["train"] = np.ones((2, 3), "f4")'
	printf '1\t2\n' > v.tsv
	# EMB_HDF5_LIBRARY (emb.5) names another library: other inputs never load it
	EMB_HDF5_LIBRARY=libembnope.so.0 embcat -O tsv v.tsv > /dev/null
	for how in "embcat a.hdf5" "embinfo a.hdf5" "embcat -I hdf5 -" "embstat a.hdf5"; do
		run -1 --separate-stderr env EMB_HDF5_LIBRARY=libembnope.so.0 $how < a.hdf5
		f=${how##* }
		assert_equal "$stderr" "${how%% *}: $f: cannot load the HDF5 library (libembnope.so.0): libembnope.so.0: cannot open shared object file: No such file or directory"
		assert_output ""
	done
	# a library without HDF5's names
	run -1 --separate-stderr env EMB_HDF5_LIBRARY=libm.so.6 embcat a.hdf5
	[[ "$stderr" == "embcat: a.hdf5: cannot load the HDF5 library (libm.so.6): "*"undefined symbol: H5open" ]]
	# an empty EMB_HDF5_LIBRARY is the default one
	EMB_HDF5_LIBRARY= embcat -O tsv a.hdf5 > got.tsv
	[ "$(cat got.tsv)" = "$(printf '1\t1\t1\n1\t1\t1')" ]
}

@test "--tensor and --dataset: usage errors, and refused for other formats" {
	run -2 embcat --tensor= x
	assert_line -n 0 "embcat: --tensor needs a tensor name"
	assert_line -n 1 "Try 'embcat --help' for more information."
	run -2 embcat --dataset= x
	assert_line -n 0 "embcat: --dataset needs a dataset name"
	run -2 embinfo --tensor
	assert_line -n 0 "embinfo: option '--tensor' requires an argument"
	printf '1\t2\n' > v.tsv
	run -1 --separate-stderr embcat --tensor a v.tsv
	assert_equal "$stderr" "embcat: v.tsv: --tensor is for safetensors input, not tsv"
	run -1 --separate-stderr embcat --dataset train v.tsv
	assert_equal "$stderr" "embcat: v.tsv: --dataset is for HDF5 input, not tsv"
	run -0 embcat --help
	assert_output --partial "--tensor=NAME"
	assert_output --partial "--dataset=NAME"
}

@test "a zero-row FAISS index with bytes after it is an error from a pipe as from a file (fuzz)" {
	py 'import struct
b = b"IxFI" + struct.pack("<iqqqBiQ", 4, 0, 1 << 20, 1 << 20, 1, 0, 0)
open("z.faiss", "wb").write(b); open("zx.faiss", "wb").write(b + b"\0" * 8)'
	run -0 --separate-stderr sh -c "cat z.faiss | embcat -I faiss -O tsv"
	assert_equal "$output" ""
	run -1 --separate-stderr embcat -I faiss -O tsv zx.faiss
	assert_equal "$stderr" "embcat: zx.faiss: byte 45: data after the 0 vectors of the FAISS index"
	run -1 --separate-stderr sh -c "cat zx.faiss | embcat -I faiss -O tsv"
	assert_equal "$stderr" "embcat: -: byte 45: data after the 0 vectors of the FAISS index"
}

@test "a zero-row safetensors or big-ann file with bytes after its data is an error from a pipe as from a file (fuzz)" {
	py 'import json, struct
def st(tensors, data):
    h = json.dumps(tensors).encode()
    return struct.pack("<Q", len(h)) + h + data
one = {"e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]}}
two = {"e": {"dtype": "F32", "shape": [0, 3], "data_offsets": [0, 0]},
       "f": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
open("z.safetensors", "wb").write(st(one, b""))
open("zx.safetensors", "wb").write(st(one, b"BOO"))
open("zf.safetensors", "wb").write(st(two, b"\0\0\x80?"))
open("zfx.safetensors", "wb").write(st(two, b"\0\0\x80?!"))
open("z.fbin", "wb").write(struct.pack("<II", 0, 3))
open("zx.fbin", "wb").write(struct.pack("<II", 0, 3) + b"xyz")'
	for f in z zf; do
		run -0 --separate-stderr sh -c "cat $f.safetensors | embcat -I safetensors -O tsv --tensor e"
		assert_equal "$output" ""
	done
	run -0 --separate-stderr sh -c "cat z.fbin | embcat -I fbin -O tsv"
	assert_equal "$output" ""
	run -1 --separate-stderr sh -c "cat zx.safetensors | embcat -I safetensors -O tsv"
	assert_equal "$stderr" "embcat: -: byte 72: data after the 0 rows the safetensors header promises"
	run -1 --separate-stderr embcat -O tsv zx.safetensors
	assert_equal "$stderr" "embcat: zx.safetensors: byte 72: safetensors data after the tensors: the tensors take 0 data bytes, the file holds 3"
	run -1 --separate-stderr sh -c "cat zfx.safetensors | embcat -I safetensors -O tsv --tensor e"
	assert_output ""
	assert_equal "$stderr" "embcat: -: byte $(($(stat -c %s zfx.safetensors) - 1)): data after the 0 rows the safetensors header promises"
	run -1 --separate-stderr sh -c "cat zx.fbin | embcat -I fbin -O tsv"
	assert_equal "$stderr" "embcat: -: byte 8: data after the 0 rows the fbin header promises"
	run -1 --separate-stderr embcat -O tsv zx.fbin
	assert_equal "$stderr" "embcat: zx.fbin: byte 8: data after the 0 rows the fbin header promises"
}
