#!/usr/bin/env bats
# The other formats (emb.5, "Other formats"): .npy, word2vec text and
# binary, GloVe, fastText .vec, fvecs/bvecs/ivecs and JSON Lines.  Files
# are written by Debian's numpy and gensim; values are compared exactly
# (tolerance 0) unless a conversion rounds.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

py() {
	oracle -c "import sys, numpy as np
$1" "${@:2}"
}

@test "every format round-trips through the binary stream" {
	gen_tsv 50 7 11 keys > k.tsv
	embcat -O emb k.tsv > k.emb
	cut -f2- k.tsv > v.tsv
	for f in w2v w2vbin glove vec jsonl; do
		embcat -O "$f" k.emb > "x.$f"
		embcat -I "$f" "x.$f" | embcat -O emb > "y.$f.emb"
		run embcat -O tsv "y.$f.emb"
		assert_success
		assert_output "$(cat k.tsv)"
		# and sniffed, without -I
		run embcat -O tsv "x.$f"
		assert_output "$(cat k.tsv)"
	done
	for f in npy fvecs; do
		embcat -O "$f" --no-keys v.tsv > "x.$f"
		run embcat -O tsv "x.$f"
		assert_success
		assert_output "$(cat v.tsv)"
	done
	printf '1\t2\t255\n0\t7\t9\n' > b.tsv
	for f in bvecs ivecs; do
		embcat -O "$f" b.tsv > "x.$f"
		run embcat -O tsv "x.$f"
		assert_output "$(cat b.tsv)"
	done
	printf -- '-5\t2147483647\t-2147483648\n' > i.tsv
	embcat -O ivecs --dtype f64 i.tsv > i.ivecs
	run embcat -I ivecs -O tsv i.ivecs
	assert_output "$(cat i.tsv)"
}

@test "numpy's files are read exactly: byte orders, f2/f4/f8, Fortran order, 1-D, v2 and v3" {
	py 'x = np.random.default_rng(5).standard_normal((37, 6))
for t in ("<f4", ">f4", "<f8", ">f8", "<f2", ">f2"):
    np.save("x%s.npy" % t[1:] + ("le" if t[0] == "<" else "be"), x.astype(t))
np.save("fort.npy", np.asfortranarray(x.astype("<f4")))
np.save("one.npy", x[0].astype("<f4"))
for v in (2, 3):
    with open("v%d.npy" % v, "wb") as f:
        np.lib.format.write_array(f, x.astype("<f4"), version=(v, 0))
assert np.load("fort.npy").flags.f_contiguous'
	for f in *.npy; do
		embcat -O tsv --dtype f64 "$f" > "$f.tsv"
	done
	py 'import glob
for f in sorted(glob.glob("*.npy")):
    ref = np.load(f).astype(np.float64).reshape(-1, 6)
    got = np.loadtxt(f + ".tsv", ndmin=2)
    assert got.shape == ref.shape and (got == ref).all(), f'
	# Fortran order from a pipe is copied to a temporary file first
	run embcat -O tsv --dtype f64 < fort.npy
	assert_success
	assert_output "$(cat fort.npy.tsv)"
}

@test "written .npy files load bit-identical in numpy: file, pipe, f16, f64" {
	gen_tsv 30 5 12 > v.tsv
	embcat -O npy v.tsv > seek.npy
	embcat -O npy v.tsv | cat > pipe.npy
	embcat -O npy --dtype f16 v.tsv > h.npy
	embcat -O npy --dtype f64 v.tsv > d.npy
	: | embcat -I tsv -O npy > empty.npy
	py 'ref = np.loadtxt("v.tsv", dtype=np.float32, ndmin=2)
for f, t in (("seek.npy", "<f4"), ("pipe.npy", "<f4"), ("h.npy", "<f2"), ("d.npy", "<f8")):
    x = np.load(f)
    assert x.dtype == np.dtype(t) and x.shape == (30, 5), (f, x.dtype, x.shape)
    want = np.loadtxt("v.tsv", ndmin=2) if t == "<f8" else ref.astype(t)
    assert (x == want).all(), f
    assert open(f, "rb").read(128).index(b"\n") % 64 == 63, "data not 64-aligned"
assert np.load("empty.npy").size == 0'
	cmp <(tail -c +129 seek.npy) <(tail -c +129 pipe.npy)
}

@test "f16 storage: rounding equals numpy float16, error within half an ulp" {
	gen_tsv 40 16 13 > v.tsv
	embcat -O emb --dtype f16 v.tsv | embcat -O npy > h.npy
	py 'x = np.loadtxt("v.tsv", dtype=np.float32, ndmin=2)
h = np.load("h.npy")
assert h.dtype == np.float16 and (h == x.astype(np.float16)).all()
rel = np.abs(h.astype(np.float32) - x) / np.maximum(np.abs(x), 6.1e-5)
assert rel.max() <= 2.0 ** -11 + 1e-7, rel.max()'
}

@test "gensim's word2vec files, text and binary, are read exactly" {
	py 'from gensim.models import KeyedVectors
rng = np.random.default_rng(6)
kv = KeyedVectors(9)
keys = ["the", "1.5", "-", "<unk>", "...", "caf\u00e9"] + ["w%d" % i for i in range(30)]
kv.add_vectors(keys, rng.standard_normal((len(keys), 9)).astype(np.float32))
kv.save_word2vec_format("g.txt", binary=False)
kv.save_word2vec_format("g.bin", binary=True)
with open("ref.tsv", "w") as f:
    for k in keys:
        f.write(k + "\t" + "\t".join(np.format_float_positional(v, unique=True, trim="-") for v in kv[k]) + "\n")'
	run embcat -I w2vbin -O tsv g.bin
	assert_success
	assert_output "$(cat ref.tsv)"
	run embcat -O tsv g.bin
	assert_output "$(cat ref.tsv)"
	embcat -I w2v -O emb g.txt > t.emb
	embcat -O tsv t.emb > t.tsv
	py 'a = np.loadtxt("t.tsv", usecols=range(1, 10), encoding="utf-8")
b = np.loadtxt("ref.tsv", usecols=range(1, 10), encoding="utf-8")
assert np.allclose(a, b, rtol=1e-6, atol=0)
ka = [l.split("\t")[0] for l in open("t.tsv", encoding="utf-8")]
kb = [l.split("\t")[0] for l in open("ref.tsv", encoding="utf-8")]
assert ka == kb, ka'
}

@test "gensim loads what we write as w2v, w2vbin, vec and glove" {
	gen_tsv 25 4 14 keys > k.tsv
	embcat -O w2vbin k.tsv > o.bin
	embcat -O w2v k.tsv | cat > o.txt
	embcat -O vec k.tsv > o.vec
	embcat -O glove k.tsv > o.glove
	py 'from gensim.models import KeyedVectors
rows = [l.split("\t") for l in open("k.tsv")]
ref = np.array([r[1:] for r in rows], np.float32)
for f, b, nh in (("o.bin", True, False), ("o.txt", False, False), ("o.vec", False, False), ("o.glove", False, True)):
    kv = KeyedVectors.load_word2vec_format(f, binary=b, no_header=nh)
    assert kv.index_to_key == [r[0] for r in rows], f
    assert (kv.vectors == ref).all(), f'
}

@test "GloVe and w2v keys are never guessed: numbers, punctuation, a space" {
	printf '1.5 1 2\n- 3 4\n... 5 6\nNew York 7 8\n' > g.txt
	run embcat -I glove -O tsv g.txt
	assert_success
	assert_output "$(printf '#emb keys\n1.5\t1\t2\n-\t3\t4\n...\t5\t6\nNew York\t7\t8')"
	printf '2 2\n# 1 2 \n0.5 3 4 \n' > w.txt
	run embcat -I w2v -O tsv w.txt
	assert_output "$(printf '#emb keys\n#\t1\t2\n0.5\t3\t4')"
}

@test "fvecs, bvecs and ivecs written by numpy are read; files concatenate" {
	py 'x = np.random.default_rng(7).standard_normal((20, 12)).astype("<f4")
def vecs(a, t):
    d = np.full((a.shape[0], 1), a.shape[1], "<i4")
    return np.hstack([d.view(t) if t != "u1" else d.view("u1"), a.astype(t)]).tobytes()
open("x.fvecs", "wb").write(vecs(x, "<f4"))
i = (np.arange(20 * 12).reshape(20, 12) * 7919 - 5000).astype("<i4")
open("x.ivecs", "wb").write(vecs(i, "<i4"))
b = (np.arange(20 * 12).reshape(20, 12) % 256).astype("u1")
open("x.bvecs", "wb").write(b"".join(np.int32(12).astype("<i4").tobytes() + r.tobytes() for r in b))
np.savetxt("x.ref", x.astype(np.float64)); np.savetxt("i.ref", i); np.savetxt("b.ref", b)'
	embcat -O tsv --dtype f64 x.fvecs > x.tsv
	embcat -O tsv --dtype f64 x.ivecs > i.tsv
	embcat -O tsv x.bvecs > b.tsv
	run embinfo x.ivecs
	assert_output --partial '"format":	"ivecs"'
	run embinfo x.bvecs
	assert_output --partial '"format":	"bvecs"'
	py 'for a, b in (("x.tsv", "x.ref"), ("i.tsv", "i.ref"), ("b.tsv", "b.ref")):
    assert (np.loadtxt(a) == np.loadtxt(b)).all(), a'
	cat x.fvecs x.fvecs > xx.fvecs
	run embinfo xx.fvecs
	assert_output --partial '"rows":	40'
}

@test "JSON Lines: id/embedding, custom fields, numeric ids, OpenAI batch responses" {
	printf '{"id":"a","embedding":[1,2.5,-3]}\n\n{"id":"b c","embedding":[4,5,6e-3],"x":1}\n' > a.jsonl
	run embcat -O tsv a.jsonl
	assert_success
	assert_output "$(printf 'a\t1\t2.5\t-3\nb c\t4\t5\t0.006')"
	printf '{"doc":7,"vec":[1,2]}\n{"doc":"x","vec":[3,4]}\n' > c.jsonl
	run embcat --vector-field vec --key-field doc -O tsv c.jsonl
	assert_output "$(printf '#emb keys\n7\t1\t2\nx\t3\t4')"
	printf '{"object":"list","data":[{"object":"embedding","embedding":[0.5,1],"index":0},{"object":"embedding","embedding":[2,3],"index":1}],"model":"m"}\n' > o.jsonl
	run embcat -O tsv o.jsonl
	assert_output "$(printf '#emb keys\n0\t0.5\t1\n1\t2\t3')"
	printf '{"embedding":[1,2]}\n{"embedding":[3,4]}\n' > n.jsonl
	run embcat -O tsv n.jsonl
	assert_output "$(printf '1\t2\n3\t4')"
	gen_tsv 10 3 15 keys | embcat -O jsonl --vector-field v --key-field k > w.jsonl
	py 'import json
rows = [json.loads(l) for l in open("w.jsonl")]
assert [r["k"] for r in rows] == ["w%d" % i for i in range(10)]
assert all(len(r["v"]) == 3 for r in rows)'
}

@test "bad .npy files: short header, wrong dtype, truncated data, bad shape" {
	printf '\223NUMPY\001\000\166' > short.npy
	run -1 --separate-stderr embcat short.npy
	assert_output ""
	assert_equal "$stderr" "embcat: short.npy: byte 9: truncated stream: .npy header cut short (3 of 4 bytes)"
	py 'np.save("i.npy", np.arange(6, dtype="<i4").reshape(2, 3))
np.save("t.npy", np.zeros((3, 4), "<f4")); np.save("c.npy", np.zeros((2, 2, 2), "<f4"))
open("cut.npy", "wb").write(open("t.npy", "rb").read()[:-20])'
	run -1 --separate-stderr embcat i.npy
	assert_equal "$stderr" "embcat: i.npy: byte 10: unsupported .npy dtype '<i4' (want f2, f4, f8, i1 or u1, either byte order)"
	run -1 --separate-stderr embcat -O tsv cut.npy
	assert_output ""
	assert_equal "$stderr" "embcat: cut.npy: byte 156: truncated .npy data: row 2 cut short (the shape promises 3 rows)"
	run -1 --separate-stderr embcat c.npy
	assert_equal "$stderr" "embcat: c.npy: byte 10: shape is not 1-D or 2-D in .npy header \"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }\""
}

@test ".npy read from a mapped file, in place or not, equals numpy and the pipe path" {
	py 'x = np.random.default_rng(9).standard_normal((700, 12))
for t in ("<f4", "<f8", "<f2", ">f4"):
    np.save("x%s%s.npy" % (t[1:], "le" if t[0] == "<" else "be"), x.astype(t))
# a hand-made header of odd length: the data is unaligned, so it is copied
d = ("{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (700, 12), }" + " " * 4 + "\n").encode()
assert (10 + len(d)) % 4 != 0
open("odd.npy", "wb").write(b"\x93NUMPY\x01\x00" + len(d).to_bytes(2, "little") + d + x.astype("<f4").tobytes())
assert (np.load("odd.npy") == x.astype("<f4")).all()'
	for f in *.npy; do
		embcat -O tsv --dtype f64 "$f" > "$f.tsv"
		cat "$f" | embcat -O tsv --dtype f64 > "$f.pipe"
		cmp "$f.tsv" "$f.pipe"
		embcat -O tsv "$f" > "$f.32"
		cat "$f" | embcat -O tsv > "$f.32pipe"
		cmp "$f.32" "$f.32pipe"
	done
	py 'import glob
for f in sorted(glob.glob("*.npy")):
    ref = np.load(f).astype(np.float64)
    got = np.loadtxt(f + ".tsv", ndmin=2)
    assert got.shape == ref.shape and (got == ref).all(), f'
	# cut anywhere in the data: the same error from the file as from a pipe
	size=$(stat -c %s xf8le.npy)
	for n in 128 129 135 136 1000 $((size / 2)) $((size - 8)) $((size - 1)); do
		head -c $n xf8le.npy > cut.npy
		run --separate-stderr embinfo cut.npy
		file="$status $output $stderr"
		run --separate-stderr embinfo - < <(cat cut.npy)
		assert_equal "$file" "$status $output ${stderr/embinfo: -: /embinfo: cut.npy: }"
		assert_equal "$status" 1
	done
	cat xf8le.npy xf8le.npy > long.npy
	run -1 --separate-stderr embinfo long.npy
	assert_equal "$stderr" "embinfo: long.npy: byte $size: data after the 700 rows the .npy shape promises"
}

@test "bad vecs, word2vec and JSON files each give one line naming an offset or line" {
	py 'import struct
open("d.fvecs", "wb").write(struct.pack("<i3f", 3, 1, 2, 3) + struct.pack("<i3f", 3, 4, 5, 6) + struct.pack("<i4f", 4, 1, 2, 3, 4))'
	run -1 --separate-stderr embcat -I fvecs -O tsv d.fvecs
	assert_output ""
	assert_equal "$stderr" "embcat: d.fvecs: byte 32: row 3 has dim 4, the first row 3"
	head -c 30 d.fvecs > t.fvecs
	run -1 --separate-stderr embcat -I fvecs t.fvecs
	assert_equal "$stderr" "embcat: t.fvecs: byte 30: truncated stream: row values cut short (10 of 12 bytes)"
	printf '3 2\nw 1 2\nx 3 4\n' > s.txt
	run -1 --separate-stderr embcat -O tsv s.txt
	assert_output ""
	assert_equal "$stderr" "embcat: s.txt:3: the header promises 3 rows, the file holds 2"
	printf '{"id":"a","embedding":[1,2]}\n{"id":"b","vector":[1,2]}\n' > m.jsonl
	run -1 --separate-stderr embcat m.jsonl
	assert_equal "$stderr" "embcat: m.jsonl:2: no \"embedding\" member (nor a \"data\" array)"
	printf '{"id":"a","embedding":[1,2]}\n{"embedding":[1,2]}\n' > k.jsonl
	run -1 --separate-stderr embcat k.jsonl
	assert_equal "$stderr" "embcat: k.jsonl:2: no \"id\" member"
	printf '{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[1,"2"]}\n' > n.jsonl
	run -1 --separate-stderr embcat n.jsonl
	assert_equal "$stderr" "embcat: n.jsonl:2: \"embedding\" value 2 is not a number"
	printf '{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[1,2\n' > p.jsonl
	run -1 --separate-stderr embcat p.jsonl
	assert_equal "$stderr" "embcat: p.jsonl:2: invalid JSON (column 27)"
}

@test "undetectable input names the accepted formats; -I forces one" {
	printf '\000\000\000\000\001' > z.bin
	run -1 --separate-stderr embcat z.bin
	assert_output ""
	assert_equal "$stderr" "embcat: z.bin: format not recognised; name it with -I FMT (one of: emb, tsv, npy, w2v, w2vbin, glove, vec, fvecs, bvecs, ivecs, jsonl, json, fbin, u8bin, i8bin, ibin, safetensors, faiss, hdf5)"
	printf '1 2\n3 4\n' > two.txt
	run embcat -O tsv two.txt
	assert_output "$(printf '1\t2\n3\t4')"
	# as word2vec: "1 2" is a header, and "3 4" is a key and one value
	run -1 --separate-stderr embcat -I w2v two.txt
	assert_equal "$stderr" "embcat: two.txt:2: expected a key and 2 values, found 2 fields"
}

@test "writers refuse what a format cannot hold; keys dropped are counted" {
	printf 'a b\t1\t2\n' > sp.tsv
	run -1 --separate-stderr embcat -O w2v sp.tsv
	assert_equal "$stderr" "embcat: row 1: key 'a b' is empty or holds a blank; it cannot be written as w2v"
	printf '1.5\t2\n' > f.tsv
	run -1 --separate-stderr embcat -O ivecs f.tsv
	assert_equal "$stderr" "embcat: row 1, value 1: 1.5 is not a whole number from -2147483648 to 2147483647; it cannot be written as ivecs"
	printf 'a\t1\t2\nb\t3\t4\n' > k.tsv
	run --separate-stderr embcat -O npy k.tsv
	assert_success
	assert_equal "$stderr" "embcat: standard output: npy holds no keys: the keys of 2 rows were not written"
}

# GloVe has no header: it is sniffed as TSV, which reads the same rows.
@test "formats pass through other programs: embinfo reads every one" {
	gen_tsv 12 3 16 keys > k.tsv
	for f in emb tsv npy w2v w2vbin glove vec fvecs jsonl; do
		embcat -O "$f" k.tsv 2>/dev/null > "x.$f"
		run --separate-stderr embinfo "x.$f"
		assert_success
		assert_output --partial '"rows":	12'
		assert_output --partial "\"format\":	\"$(case $f in vec) echo w2v ;; glove) echo tsv ;; *) echo $f ;; esac)\""
	done
}

@test "narrowing writers count the finite values they write as infinities" {
	cd "$BATS_TEST_TMPDIR"
	# Values around each type's overflow threshold, both signs, with nan
	# and inf that were not finite to begin with (never counted).
	oracle -c '
import numpy as np, sys
rng = np.random.default_rng(5)
x = np.concatenate([rng.uniform(-70000, 70000, 300), [65519, 65520, -65520, 65504, 3.3e38, 3.5e38, 1e300, -1e300, np.nan, np.inf, -np.inf, 0.0]])
np.save("x.npy", x.reshape(-1, 3))
with np.errstate(over="ignore"):
    f16 = int(np.sum(np.isfinite(x) & np.isinf(x.astype(np.float16))))
    f32 = int(np.sum(np.isfinite(x) & np.isinf(x.astype(np.float32))))
open("want", "w").write("%d %d\n" % (f16, f32))'
	read -r f16 f32 < want
	for fmt in emb npy; do
		run -0 --separate-stderr embcat -O $fmt --dtype f16 x.npy
		assert_equal "$stderr" "embcat: standard output: $f16 values too large for f16 were written as infinity"
	done
	for fmt in "emb --dtype f32" "npy --dtype f32" fvecs; do
		run -0 --separate-stderr embcat -O $fmt x.npy
		assert_equal "$stderr" "embcat: standard output: $f32 values too large for f32 were written as infinity"
	done
	# nothing to say when nothing overflows
	run -0 --separate-stderr embcat -O emb x.npy
	assert_equal "$stderr" ""
	printf 'k\t65504\n' | embcat -O emb --dtype f16 2> err > /dev/null
	assert_equal "$(cat err)" ""
	printf 'k\t65520\n' | embcat -O emb --dtype f16 2> err > /dev/null
	assert_equal "$(cat err)" "embcat: standard output: 1 value too large for f16 was written as infinity"
}

@test "text after a word2vec header is never read as binary" {
	t() { # t STDERR INPUT: both from a file and from a pipe
		printf "$2" > t.txt
		run -1 --separate-stderr embcat -O tsv t.txt
		assert_output ""
		assert_equal "$stderr" "embcat: t.txt:$1"
		run -1 --separate-stderr embcat -O tsv < t.txt
		assert_equal "$stderr" "embcat: -:$1"
	}
	t "2: '0,1' is not a number" '2 3\nthe 0,1 0,2 0,3\nof 0,4 0,5 0,6\n'
	t "2: 'nan' is not a finite number" '2 3\nthe nan 0.2 0.3\nof 0.4 0.5 0.6\n'
	t "3: '-Infinity' is not a finite number" '2 2\nthe 1 2\nof -Infinity 3\n'
	t "2: expected a key and 3 values, found 2 fields" '1 3\nthe 0.1\n'
	t "3: expected a key and 3 values, found 3 fields" '2 3\nthe 0.1 0.2 0.3\nof 0.4 0.5\n'
	t "2: expected a key and 2 values, found 2 fields" '2 2\nnew york\n'
	# a key holding a space, and CRLF line ends, read as word2vec text
	printf '2 3\r\nnew york 0.1 0.2 0.3\r\nof 0.4 0.5 0.6\r\n' > s.txt
	run embcat -O tsv s.txt
	assert_output "$(printf 'new york\t0.1\t0.2\t0.3\nof\t0.4\t0.5\t0.6')"
	run embinfo < s.txt
	assert_output --partial '"format":	"w2v"'
	# neither text nor binary rows
	printf '2 3\n\001\002\003\n' > b.txt
	run -1 --separate-stderr embcat b.txt
	assert_equal "$stderr" "embcat: b.txt: format not recognised; name it with -I FMT (one of: emb, tsv, npy, w2v, w2vbin, glove, vec, fvecs, bvecs, ivecs, jsonl, json, fbin, u8bin, i8bin, ibin, safetensors, faiss, hdf5)"
	# a keyless TSV after a first line of two whole numbers stays TSV
	printf '1 2\n# three\n3 4\n' > k.tsv
	run embcat k.tsv
	assert_output "$(printf '1\t2\n3\t4')"
}

@test "gensim's word2vec binary files sniff as w2vbin at every size" {
	py 'from gensim.models import KeyedVectors
rng = np.random.default_rng(8)
for d, n in ((1, 1), (1, 3), (2, 2), (3, 50), (4, 1), (300, 2), (300, 400), (20000, 2)):
    kv = KeyedVectors(d)
    kv.add_vectors(["w%d" % i for i in range(n)], rng.standard_normal((n, d)).astype(np.float32))
    kv.save_word2vec_format("g_%d_%d.bin" % (d, n), binary=True)
    kv.save_word2vec_format("g_%d_%d.txt" % (d, n), binary=False)
# positive values just above 0.5: high bytes are printable ASCII
kv = KeyedVectors(2)
kv.add_vectors(["a", "b"], np.array([[0.5000001, 0.75], [1.25, 0.6]], np.float32))
kv.save_word2vec_format("g_pos.bin", binary=True)'
	for f in g_*.bin; do
		run embinfo "$f"
		assert_output --partial '"format":	"w2vbin"'
		run embinfo < "$f"
		assert_output --partial '"format":	"w2vbin"'
	done
	for f in g_*.txt; do
		run embinfo "$f"
		assert_output --partial '"format":	"w2v"'
	done
	embcat -O tsv g_300_400.bin > a.tsv
	py 'from gensim.models import KeyedVectors
kv = KeyedVectors.load_word2vec_format("g_300_400.bin", binary=True)
x = np.loadtxt("a.tsv", usecols=range(1, 301), dtype=np.float32)
assert (x == kv.vectors).all()'
	# the C tool's layout (a newline after each row), and a file cut short
	embcat -O w2vbin g_3_50.bin > c.bin
	run embinfo c.bin
	assert_output --partial '"format":	"w2vbin"'
	head -c 100 g_300_2.bin > cut.bin
	run -1 --separate-stderr embinfo cut.bin
	assert_equal "$stderr" "embinfo: cut.bin: byte 100: truncated stream: row values cut short (91 of 1200 bytes)"
}

@test "a UTF-8 byte order mark is skipped by every text reader" {
	bom=$'\xef\xbb\xbf'
	# keyless TSV keeps both columns
	printf '%s1\t2\n3\t4\n' "$bom" > a.tsv
	run embcat a.tsv
	assert_output "$(printf '1\t2\n3\t4')"
	run embinfo < a.tsv
	assert_output --partial '"dim":	2'
	# the first key is 'a', not BOM + 'a': word2vec, GloVe, JSON Lines too
	printf '%sa\t1\t2\nb\t3\t4\n' "$bom" > k.tsv
	printf '%s2 2\na 1 2\nb 3 4\n' "$bom" > k.w2v
	printf '%sa 1 2\nb 3 4\n' "$bom" > k.glove
	printf '%s{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[3,4]}\n' "$bom" > k.jsonl
	embcat -O w2vbin k.tsv > nobom.bin
	{ printf '%s' "$bom"; cat nobom.bin; } > k.w2vbin
	for f in k.tsv k.w2v k.glove k.jsonl k.w2vbin; do
		run embcat -O tsv "$f"
		assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
		run embcat -O tsv < "$f"
		assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
	done
	run embcat -I glove -O tsv k.glove
	assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
	# key lookups find it (embcos --pairs, both files with a mark)
	printf '%sa\tb\n' "$bom" > p.tsv
	run embcos --pairs p.tsv k.tsv
	assert_success
	assert_output "$(embcos --pairs <(printf 'a\tb\n') <(printf 'a\t1\t2\nb\t3\t4\n'))"
	assert_output --regexp '^a	b	0.98386991'  # 11 / (sqrt(5) * 5)
	# a mark in the middle of a file is not special
	printf 'a\t1\t2\n%sb\t3\t4\n' "$bom" > m.tsv
	embcat -O emb m.tsv > m.emb
	oracle -c 'import sys; sys.path.insert(0, ".")
import oracle as o
x, k, _ = o.read(open("m.emb", "rb").read())
assert k == ["a", "\ufeffb"], k'
}

@test "word2vec text whose keys are numbers (embgen -O w2v) reads back keyed, from a file and a pipe" {
	cd "$BATS_TEST_TMPDIR"
	for d in 1 2 7; do
		embgen -n 5 -d $d --seed 3 --keys --prefix "" > g.emb
		embcat -O w2v g.emb > g.w2v
		head -2 g.w2v | tail -1 | grep -q '^0 ' # the keys are numbers
		same g.emb g.w2v
		cat g.w2v | embcat -O emb > p.emb
		same g.emb p.emb
		run embinfo < g.w2v
		assert_output --partial '"format":	"w2v"'
	done
}

@test "a pipe whose whole content was peeked sniffs fvecs/bvecs as the same file does" {
	cd "$BATS_TEST_TMPDIR"
	# 16 bytes: one fvecs row of dim 3 -- as bvecs, 2 rows of 7 bytes would not fill it
	printf '\003\000\000\000\001\002\377\003\000\000\000\011\010\000\001\002' > v.bin
	run embinfo v.bin
	assert_output --partial '"format":	"fvecs"'
	run embinfo < v.bin
	assert_output --partial '"format":	"fvecs"'
	cat v.bin | embcat -O tsv > pipe.tsv
	embcat -O tsv v.bin > file.tsv
	cmp pipe.tsv file.tsv
}

@test "input that starts with a byte order mark is text: never sniffed as fvecs/bvecs/ivecs" {
	cd "$BATS_TEST_TMPDIR"
	# BOM + one fvecs record of dim 1 (a fuzz finding: the file and the pipe
	# used to disagree)
	printf '\357\273\277\001\000\000\000\000\000\000\000' > b.bin
	run -1 --separate-stderr embinfo b.bin
	assert_equal "$stderr" "embinfo: b.bin:1: line holds a NUL byte (binary data?)"
	run -1 --separate-stderr embinfo < b.bin
	assert_equal "$stderr" "embinfo: -:1: line holds a NUL byte (binary data?)"
	# named, it is read as what it is named
	run -1 --separate-stderr embinfo -I fvecs b.bin
	assert_output ""
}
