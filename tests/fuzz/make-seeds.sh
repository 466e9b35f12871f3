#!/bin/sh
# make-seeds.sh [BINDIR]: (re)write the seed corpora of tests/fuzz/corpus.
#
# BINDIR holds the built programs (default: cmd of the current directory,
# i.e. run it from the build tree).  Valid inputs come from embgen, embcat,
# embcenter and embwhiten; hostile ones (AUDIT.md's classes and more) from
# python3.  Every file it writes is named seed-*: it first removes the
# seed-* files of each corpus and leaves everything else (crash-* regression
# inputs, hand-added files) alone.  Files are small (< 4 KB), so that a
# replay is quick and the fuzzer mutates short inputs.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$(cd "${1:-cmd}" && pwd)
: "${ORACLE_PYTHON:=python3}"
corpus=$here/corpus
harnesses="emb tsv npy w2v w2vbin glove fvecs bvecs ivecs jsonl json fbin u8bin i8bin ibin safetensors faiss sniff model cols lists row"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/embseeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for h in $harnesses; do
	mkdir -p "$corpus/$h"
	rm -f "$corpus/$h"/seed-*
done
export PATH="$bin:$PATH"
cd "$tmp"

# ---- valid files from the programs ----
embgen -n 5 -d 4 --keys > k.emb
embgen -n 5 -d 4 -s 2 > nokeys.emb
embgen -n 3 -d 3 --keys --dtype f16 > f16.emb
embgen -n 3 -d 3 --keys --dtype f64 > f64.emb
embgen -n 0 -d 4 --keys > empty.emb
cat k.emb k.emb > concat.emb
embgen -n 4 -d 3 --keys -O tsv > k.tsv
embgen -n 4 -d 3 -O tsv > nokeys.tsv
cp k.emb nokeys.emb f16.emb f64.emb empty.emb concat.emb "$corpus/emb/"
for f in k nokeys f16 f64 empty concat; do mv "$corpus/emb/$f.emb" "$corpus/emb/seed-$f.emb"; done
cp k.tsv "$corpus/tsv/seed-keys.tsv"
cp nokeys.tsv "$corpus/tsv/seed-nokeys.tsv"
embcat -O npy k.emb > "$corpus/npy/seed-f32.npy" 2>/dev/null
embcat -O npy f64.emb > "$corpus/npy/seed-f64.npy" 2>/dev/null
embcat -O npy --dtype f16 k.emb > "$corpus/npy/seed-f16.npy" 2>/dev/null
embcat -O w2v k.emb > "$corpus/w2v/seed-k.w2v"
embcat -O vec nokeys.emb > "$corpus/w2v/seed-nokeys.vec"
embcat -O w2vbin k.emb > "$corpus/w2vbin/seed-k.bin"
embcat -O w2vbin nokeys.emb > "$corpus/w2vbin/seed-nokeys.bin"
embcat -O glove k.emb > "$corpus/glove/seed-k.txt"
embcat -O fvecs nokeys.emb > "$corpus/fvecs/seed-5x4.fvecs"
embcat -O ivecs nokeys.emb > "$corpus/ivecs/seed-5x4.ivecs" 2>/dev/null ||
	rm -f "$corpus/ivecs/seed-5x4.ivecs"
embcat -O jsonl k.emb > "$corpus/jsonl/seed-k.jsonl"
embcat -O jsonl nokeys.emb > "$corpus/jsonl/seed-nokeys.jsonl"
embcat -O json k.emb > "$corpus/json/seed-k.json"
embcat -O json nokeys.emb > "$corpus/json/seed-nokeys.json"
for f in fbin u8bin i8bin ibin; do
	embcat --round -O $f nokeys.emb > "$corpus/$f/seed-5x4.$f" 2>/dev/null ||
		embcat -O $f nokeys.emb > "$corpus/$f/seed-5x4.$f" 2>/dev/null ||
		rm -f "$corpus/$f/seed-5x4.$f"
done
embcat -O safetensors nokeys.emb > "$corpus/safetensors/seed-5x4.safetensors"
embcat -O safetensors --dtype f64 nokeys.emb > "$corpus/safetensors/seed-f64.safetensors"
embcat -O safetensors --dtype f16 nokeys.emb > "$corpus/safetensors/seed-f16.safetensors"
# (no FAISS writer: the faiss seeds come from python3 below)
embgen -n 20 -d 4 --keys > fit.emb
# (relative names: the header's history records the command line)
embcenter --save=center.model fit.emb > /dev/null
embcenter --abtt=1 --save=abtt.model fit.emb > /dev/null
embwhiten -k 2 --save=whiten.model fit.emb > /dev/null
embwhiten --zca --save=zca.model fit.emb > /dev/null
for m in center abtt whiten zca; do cp $m.model "$corpus/model/seed-$m.model"; done
# the sniffer: one file of each format
for f in "$corpus"/emb/seed-k.emb "$corpus"/tsv/seed-keys.tsv "$corpus"/npy/seed-f32.npy \
	 "$corpus"/w2v/seed-k.w2v "$corpus"/w2vbin/seed-k.bin "$corpus"/glove/seed-k.txt \
	 "$corpus"/fvecs/seed-5x4.fvecs "$corpus"/jsonl/seed-k.jsonl \
	 "$corpus"/safetensors/seed-5x4.safetensors; do
	cp "$f" "$corpus/sniff/seed-$(basename "$f" | sed 's/^seed-//')-$(basename "$(dirname "$f")")"
done

# ---- hostile and edge-case files ----
CORPUS=$corpus "$ORACLE_PYTHON" - <<'PY'
import json, os, struct

C = os.environ["CORPUS"]

def put(harness, name, data):
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= 4096, (harness, name, len(data))
    with open(os.path.join(C, harness, "seed-" + name), "wb") as f:
        f.write(data)

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF

MAGIC = b"\x89EMB\r\n\x1a\n"

def header(meta, version=1, pad=True, crc=None):
    j = json.dumps(meta, separators=(",", ":")).encode()
    if pad:
        j += b" " * (-(20 + len(j)) % 8)
    c = crc32c(j) if crc is None else crc
    return MAGIC + struct.pack("<III", version, len(j), c) + j

def keyblock(keys):
    b = b"".join(k.encode() + b"\0" for k in keys)
    return b + b"\0" * (-len(b) % 8)

def chunk(rows, keys=b"", values=b"", crc=None, keybytes=None):
    kb = len(keys) if keybytes is None else keybytes
    c = crc32c(keys + values) if crc is None else crc
    return b"CHNK" + struct.pack("<IQQ", c, rows, kb) + keys + values

def end(rows, crc=None):
    r = struct.pack("<Q", rows)
    return b"END\0" + struct.pack("<I", crc32c(r) if crc is None else crc) + r + bytes(8)

def f32(*v):
    return struct.pack("<%df" % len(v), *v)

K = {"dim": 2, "dtype": "f32", "keys": True}
N = {"dim": 2, "dtype": "f32", "keys": False}
ok_keys = keyblock(["a", "b"])
good = header(K) + chunk(2, ok_keys, f32(1, 2, 3, 4)) + end(2)
put("emb", "small-keys.emb", good)
put("emb", "no-end.emb", good[:-16])
put("emb", "trailing-garbage.emb", good + b"xyz")
put("emb", "bad-magic.emb", b"\x89EMB\r\n\x1a\x0b" + good[8:])
put("emb", "bad-json-crc.emb", header(K, crc=1) + chunk(2, ok_keys, f32(1, 2, 3, 4)) + end(2))
put("emb", "bad-chunk-crc.emb", header(K) + chunk(2, ok_keys, f32(1, 2, 3, 4), crc=7) + end(2))
put("emb", "end-count-wrong.emb", header(K) + chunk(2, ok_keys, f32(1, 2, 3, 4)) + end(3))
put("emb", "version2.emb", header(K, version=2) + end(0))
put("emb", "json-not-object.emb", MAGIC + struct.pack("<III", 1, 8, crc32c(b"[1,2]   ")) + b"[1,2]   " + end(0))
put("emb", "json-len-huge.emb", MAGIC + struct.pack("<III", 1, 0xFFFFFFF0, 0))
# -1 and 1e300 are in pending/emb (crash-dim-*: UB converting them to uint64_t)
for d in (0, 8.5, "8", 2**24 + 1, 2**32, 2**63):
    put("emb", "dim-%s.emb" % str(d).replace("+", ""), header({"dim": d, "dtype": "f32", "keys": False}) + end(0))
put("emb", "dtype-bad.emb", header({"dim": 2, "dtype": "i8", "keys": False}) + end(0))
put("emb", "keys-yes-string.emb", header({"dim": 2, "dtype": "f32", "keys": "yes"}) + end(0))
# crafted CHNK key blocks
put("emb", "keys-too-few.emb", header(K) + chunk(2, keyblock(["a"]), f32(1, 2, 3, 4)) + end(2))
put("emb", "keys-too-many.emb", header(K) + chunk(2, keyblock(["a", "b", "c"]), f32(1, 2, 3, 4)) + end(2))
put("emb", "keys-no-nul.emb", header(K) + chunk(2, b"abcdefgh", f32(1, 2, 3, 4)) + end(2))
put("emb", "keys-unpadded.emb", header(K) + chunk(2, b"a\0b\0", f32(1, 2, 3, 4)) + end(2))
put("emb", "keys-in-keyless.emb", header(N) + chunk(2, ok_keys, f32(1, 2, 3, 4)) + end(2))
put("emb", "keybytes-huge.emb", header(K) + chunk(2, b"", b"", keybytes=2**63) + end(2))
put("emb", "keybytes-amplify.emb", header({"dim": 1, "dtype": "f16", "keys": True}) +
    chunk(2**20, b"\0" * 64, b"", keybytes=2**20))
put("emb", "rows-huge.emb", header(N) + chunk(2**63, b"", b"") + end(0))
put("emb", "rows-zero-chunk.emb", header(N) + chunk(0) + end(0))
put("emb", "values-cut.emb", header(N) + chunk(4, b"", f32(1, 2, 3)))
put("emb", "utf8-bad-key.emb", header(K) + chunk(2, keyblock(["\udcff".encode("utf-8", "surrogateescape").decode("latin-1"), "b"]), f32(1, 2, 3, 4)) + end(2))
# concatenated streams: agreeing, disagreeing, and a dim-0 segment with data (N13)
put("emb", "concat-dim-mismatch.emb", good + header({"dim": 3, "dtype": "f32", "keys": True}) + end(0))
put("emb", "concat-dim0-data.emb", header(N) + chunk(1, b"", f32(1, 2)) + end(1) +
    header({"dim": 0, "dtype": "f32", "keys": False}) + chunk(1, b"", f32(5, 6)) + end(1))
put("emb", "zero-rows-then-chunk.emb", header(N) + end(0) + chunk(1, b"", f32(1, 2)) + end(1))
put("emb", "nan-inf.emb", header(N) + chunk(2, b"", f32(float("nan"), float("inf"), -0.0, 1e-45)) + end(2))
put("emb", "f16-values.emb", header({"dim": 2, "dtype": "f16", "keys": False}) +
    chunk(2, b"", struct.pack("<4H", 0x7C00, 0xFC00, 0x7E00, 0x0001)) + end(2))

# ---- TSV ----
put("tsv", "bom.tsv", "\ufeff1\t2\n3\t4\n")
put("tsv", "bom-keys.tsv", "\ufeffa\t1\t2\nb\t3\t4\n")
put("tsv", "crlf.tsv", "a\t1\t2\r\nb\t3\t4\r\n")
put("tsv", "comments-blank.tsv", "# c\n\na\t1\t2\n#tag\t5\t6\n\nb\t3\t4\n")
put("tsv", "spaces.tsv", "a 1  2\n  b\t3 4 \n")
put("tsv", "trailing-tab.tsv", "a\t1\t2\t\nb\t3\t4\t\n")
put("tsv", "ragged.tsv", "a\t1\t2\nb\t3\n")
put("tsv", "not-number.tsv", "a\t1\t2\nb\t3\tx\n")
put("tsv", "nan-inf.tsv", "nan\t1\t2\ninf\t3\t4\n")
put("tsv", "overflow.tsv", "a\t1e39\t1e400\nb\t1e-400\t-0\n")
put("tsv", "hex-comma.tsv", "a\t0x1p3\t1,5\n")
put("tsv", "no-newline.tsv", "a\t1\t2\nb\t3\t1.")
put("tsv", "numeric-keys.tsv", "1\t0.5\t0.25\n2\t0.5\t0.75\n")
put("tsv", "key-only.tsv", "a\nb\n")
put("tsv", "nul-byte.tsv", "a\t1\t2\nb\0c\t3\t4\n")
put("tsv", "long-key.tsv", "k" * 3000 + "\t1\t2\n")
put("tsv", "many-rows.tsv", "".join("w%d\t%d\t%d\n" % (i, i, -i) for i in range(200)))
put("tsv", "digits.tsv", "a\t" + "1" * 400 + "\t." + "0" * 300 + "1e-5\n")

# ---- .npy ----
def npy(descr, shape, data=b"", fortran=False, version=(1, 0), raw_header=None, magic=b"\x93NUMPY"):
    h = raw_header if raw_header is not None else \
        "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, shape)
    h = h.encode()
    lenfmt = "<H" if version[0] == 1 else "<I"
    pre = len(magic) + 2 + struct.calcsize(lenfmt)
    h += b" " * (-(pre + len(h) + 1) % 64) + b"\n"
    return magic + bytes(version) + struct.pack(lenfmt, len(h)) + h + data

put("npy", "f32.npy", npy("<f4", "(2, 3)", f32(1, 2, 3, 4, 5, 6)))
put("npy", "be-f8.npy", npy(">f8", "(2, 2)", struct.pack(">4d", 1, 2, 3, 4)))
put("npy", "f2.npy", npy("<f2", "(1, 4)", struct.pack("<4H", 0x3C00, 0x4000, 0x7C00, 1)))
put("npy", "fortran.npy", npy("<f4", "(3, 2)", f32(1, 2, 3, 4, 5, 6), fortran=True))
put("npy", "fortran-cut.npy", npy("<f4", "(3, 2)", f32(1, 2, 3), fortran=True))
put("npy", "one-d.npy", npy("<f4", "(3,)", f32(1, 2, 3)))
put("npy", "three-d.npy", npy("<f4", "(1, 2, 2)", f32(1, 2, 3, 4)))
put("npy", "scalar.npy", npy("<f4", "()", f32(1)))
put("npy", "v2.npy", npy("<f4", "(1, 2)", f32(1, 2), version=(2, 0)))
put("npy", "v3.npy", npy("<f4", "(1, 2)", f32(1, 2), version=(3, 0)))
put("npy", "v9.npy", npy("<f4", "(1, 2)", f32(1, 2), version=(9, 0)))
put("npy", "int.npy", npy("<i4", "(1, 2)", struct.pack("<2i", 1, 2)))
put("npy", "object.npy", npy("|O", "(1, 2)", b"\0" * 16))
put("npy", "neg-dim.npy", npy("<f4", "(3, -4)", f32(1, 2)))
put("npy", "neg-rows.npy", npy("<f4", "(-1, 4)", f32(1, 2, 3, 4)))
put("npy", "zero-rows-data-after.npy", npy("<f4", "(0, 2)", f32(1, 2, 3, 4)))
put("npy", "extra-data.npy", npy("<f4", "(1, 2)", f32(1, 2, 3)))
put("npy", "cut.npy", npy("<f4", "(2, 2)", f32(1, 2, 3)))
put("npy", "huge-shape.npy", npy("<f4", "(18446744073709551615, 2)", f32(1, 2)))
put("npy", "shape-spaces.npy", npy("<f4", "( 1 ,2 )", f32(1, 2)))
put("npy", "fortran-truely.npy", npy("<f4", "(1, 2)", f32(1, 2), fortran="Truely"))
put("npy", "no-descr.npy", npy("", "", raw_header="{'fortran_order': False, 'shape': (1, 2), }"))
put("npy", "header-unterminated.npy", npy("", "", raw_header="{'descr': '<f4', 'shape': (1, 2"))
put("npy", "magic-only.npy", b"\x93NUMP")
put("npy", "hlen-max.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff")

# ---- word2vec text, GloVe ----
put("w2v", "decimal-comma.w2v", "2 3\nthe 0,1 0,2 0,3\nof 0,4 0,5 0,6\n")
put("w2v", "nan.w2v", "2 3\nthe nan 0.2 0.3\nof 0.4 0.5 0.6\n")
put("w2v", "key-space.w2v", "1 2\nnew york 0.1 0.2\n")
put("w2v", "neg-dim.w2v", "2 -3\nthe 0.1 0.2 0.3\n")
put("w2v", "neg-rows.w2v", "-2 3\nthe 0.1 0.2 0.3\n")
put("w2v", "zero-rows-data-after.w2v", "0 2\nthe 0.1 0.2\n")
put("w2v", "zero-dim.w2v", "1 0\nthe\n")
put("w2v", "fewer-rows.w2v", "3 2\nthe 0.1 0.2\n")
put("w2v", "more-rows.w2v", "1 2\nthe 0.1 0.2\nof 0.3 0.4\n")
put("w2v", "huge-count.w2v", "99999999999999999999 2\nthe 0.1 0.2\n")
put("w2v", "bom.w2v", "\ufeff1 2\nthe 0.1 0.2\n")
put("w2v", "crlf.w2v", "1 2\r\nthe 0.1 0.2\r\n")
put("w2v", "header-only.w2v", "2 3\n")
put("glove", "hash-words.txt", "the 0.1 0.2\n# 0.3 0.4\n#tag 0.5 0.6\n")
put("glove", "key-spaces.txt", "new york 0.1 0.2\nlos angeles 0.3 0.4\n")
put("glove", "ragged.txt", "a 1 2\nb 3\n")
put("glove", "numeric-word.txt", "1 0.1 0.2\ninf 0.3 0.4\n")
put("glove", "bom.txt", "\ufeffthe 0.1 0.2\n")
put("glove", "tabs.txt", "the\t0.1\t0.2\n")

# ---- word2vec binary ----
def w2vbin(rows, dim, body, header=None):
    return (header if header is not None else "%d %d\n" % (rows, dim)).encode() + body

put("w2vbin", "two.bin", w2vbin(2, 2, b"the " + f32(1, 2) + b"\nof " + f32(3, 4) + b"\n"))
put("w2vbin", "no-newlines.bin", w2vbin(2, 2, b"the " + f32(1, 2) + b"of " + f32(3, 4)))
put("w2vbin", "cut.bin", w2vbin(2, 2, b"the " + f32(1, 2) + b"\nof " + f32(3)))
put("w2vbin", "key-nul.bin", w2vbin(1, 2, b"t\0he " + f32(1, 2) + b"\n"))
put("w2vbin", "key-long.bin", w2vbin(1, 2, b"k" * 3000 + b" " + f32(1, 2) + b"\n"))
put("w2vbin", "neg-dim.bin", w2vbin(0, 0, b"the " + f32(1, 2), header="1 -2\n"))
put("w2vbin", "zero-rows-data-after.bin", w2vbin(0, 2, b"the " + f32(1, 2) + b"\n"))
put("w2vbin", "text-like.bin", "2 3\nthe 0,1 0,2 0,3\nof 0,4 0,5 0,6\n".encode())
put("w2vbin", "huge-dim.bin", w2vbin(1, 2**40, b"the " + f32(1, 2)))

# ---- fvecs / bvecs / ivecs ----
put("fvecs", "two.fvecs", struct.pack("<i", 2) + f32(1, 2) + struct.pack("<i", 2) + f32(3, 4))
put("fvecs", "dim-change.fvecs", struct.pack("<i", 2) + f32(1, 2) + struct.pack("<i", 3) + f32(3, 4, 5))
put("fvecs", "cut.fvecs", struct.pack("<i", 2) + f32(1, 2) + struct.pack("<i", 2) + f32(3))
put("fvecs", "dim-neg.fvecs", struct.pack("<i", -1) + f32(1, 2))
put("fvecs", "dim-zero.fvecs", struct.pack("<i", 0) * 3)
put("fvecs", "dim-huge.fvecs", struct.pack("<i", 2**24) + f32(1))
put("bvecs", "two.bvecs", struct.pack("<i", 3) + bytes([1, 2, 255]) + struct.pack("<i", 3) + bytes([0, 9, 8]))
put("bvecs", "dim-change.bvecs", struct.pack("<i", 2) + bytes([1, 2]) + struct.pack("<i", 1) + bytes([3]))
put("bvecs", "cut.bvecs", struct.pack("<i", 4) + bytes([1, 2]))
put("bvecs", "dim-neg.bvecs", struct.pack("<i", -7) + bytes(8))
put("ivecs", "two.ivecs", struct.pack("<i2i", 2, 1, -2) + struct.pack("<i2i", 2, 2**31 - 1, -2**31))
put("ivecs", "cut.ivecs", struct.pack("<i2i", 2, 1, 2) + struct.pack("<ii", 2, 1))
put("ivecs", "dim-neg.ivecs", struct.pack("<i", -1) + struct.pack("<i", 5))
put("ivecs", "dim-huge.ivecs", struct.pack("<i", 2**24 + 1))

# ---- JSON Lines ----
put("jsonl", "trailing-text.jsonl", '{"id":"a","embedding":[1,2]}{"id":"b","embedding":[3,4]}\n'
    '{"id":"c","embedding":[5,6]} trailing\n')
put("jsonl", "big-ids.jsonl", '{"id":9007199254740993,"embedding":[1,2]}\n'
    '{"id":12345678901234567890,"embedding":[1,2]}\n{"id":1e2,"embedding":[1,2]}\n'
    '{"id":100,"embedding":[1,2]}\n')
put("jsonl", "out-of-range.jsonl", '{"id":"a","embedding":[1,1e39,1e400]}\n')
put("jsonl", "nan.jsonl", '{"embedding":[1,NaN]}\n')
put("jsonl", "bom.jsonl", '\ufeff{"id":"a","embedding":[1,2]}\n')
put("jsonl", "array-line.jsonl", "[1,2,3]\n")
put("jsonl", "openai-batch.jsonl", json.dumps({"data": [{"index": i, "embedding": [0.5, i]}
                                                      for i in range(5)]}) + "\n")
put("jsonl", "openai-batch-ragged.jsonl", json.dumps({"data": [{"index": 0, "embedding": [1, 2]},
                                                             {"index": 1, "embedding": [3]}]}) + "\n")
put("jsonl", "dim-change.jsonl", '{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[1,2,3]}\n')
import base64
b64 = lambda *v: base64.b64encode(struct.pack("<%df" % len(v), *v)).decode()
put("jsonl", "base64.jsonl", '{"id":"a","embedding":"%s"}\n{"id":"b","embedding":"%s"}\n'
    % (b64(1, 2), b64(3, 4)))
put("jsonl", "base64-short.jsonl", '{"id":"a","embedding":"AAAAAAA="}\n')
put("jsonl", "openai-batch-api.jsonl", "".join(json.dumps({
    "id": "b%d" % r, "custom_id": "req-%d" % r, "error": None if r != 1 else {"message": "x"},
    "response": {"status_code": 200 if r != 2 else 500, "body": {"object": "list", "data": [
        {"index": i, "embedding": b64(r, i)} for i in range(r % 3 + 1)]}}}) + "\n"
    for r in range(5)))

# ---- JSON documents ----
put("json", "openai-b64.json", json.dumps({"object": "list", "model": "m", "data": [
    {"object": "embedding", "index": i, "embedding": b64(0.5, i)} for i in (2, 0, 1)]},
    indent=2))
put("json", "openai-dup-index.json", json.dumps({"data": [
    {"index": 0, "embedding": [1, 2]}, {"index": 0, "embedding": [3, 4]}]}, indent=1))
put("json", "openai-missing-index.json", json.dumps({"data": [
    {"index": 0, "embedding": [1, 2]}, {"index": 5, "embedding": [3, 4]}]}))
put("json", "objects.json", json.dumps([{"id": 7, "embedding": [1, 2], "x": {"y": [None, True]}},
                                        {"id": 1e2, "embedding": b64(3, 4)}], indent=4))
put("json", "bare.json", "[[1,2],\n[3,4.5e-3]]\n")
put("json", "ragged.json", "[[1,2],[3]]")
put("json", "deep.json", "[" * 600 + "]" * 600)
put("json", "escapes.json", '[{"id":"a\\u00e9\\/\\"","embedding":"AACAPw\\u003d\\u003d"}]')
put("json", "cut.json", '{"data":[{"index":0,"embedding":[1,2')
put("json", "trailing.json", "[[1]]\n[[2]]\n")
put("json", "empty-array.json", "[]")
put("jsonl", "nested.jsonl", '{"id":"a","embedding":[[1,2],[3,4]]}\n')
put("jsonl", "strings.jsonl", '{"id":"a","embedding":["1","2"]}\n')
put("jsonl", "key-nul.jsonl", '{"id":"a\\u0000b","embedding":[1,2]}\n')
put("jsonl", "key-object.jsonl", '{"id":{"x":1},"embedding":[1,2]}\n')
put("jsonl", "empty-vector.jsonl", '{"id":"a","embedding":[]}\n')
put("jsonl", "blank-lines.jsonl", '\n{"id":"a","embedding":[1,2]}\n\n  \n')
put("jsonl", "deep.jsonl", '{"id":"a","x":' + "[" * 1500 + "]" * 1500 + ',"embedding":[1]}\n')
put("jsonl", "unterminated.jsonl", '{"id":"a","embedding":[1,2\n')

# ---- models (embcenter/embwhiten --load) ----
def model(kind, dim, rows, extra=None, values=None, dtype="f64"):
    t = {"kind": kind, "dim_in": dim, "dim_out": dim, "k": rows - 1, "n": 20, "normalize": False}
    if extra:
        t.update(extra)
    meta = {"dim": dim, "dtype": dtype, "keys": False, "transform": t}
    fmt = "<%dd" % (rows * dim) if dtype == "f64" else "<%df" % (rows * dim)
    vals = struct.pack(fmt, *(values or [0.5 * (i % 5) for i in range(rows * dim)]))
    return header(meta) + chunk(rows, b"", vals) + end(rows)

put("model", "center.model", model("center", 3, 1))
put("model", "center-two-rows.model", model("center", 3, 2))
put("model", "center-nan.model", model("center", 2, 1, values=[float("nan")] * 2))
put("model", "whiten-k-mismatch.model", model("whiten", 8, 3, {"dim_out": 999, "k": 999}))
put("model", "whiten-dim-out-0.model", model("whiten", 4, 3, {"dim_out": 0, "k": 2}))
put("model", "whiten-one-row.model", model("whiten", 4, 1, {"dim_out": 4, "k": 0}))
put("model", "abtt-k-big.model", model("abtt", 3, 2, {"k": 50}))
put("model", "abtt-zero-dirs.model", model("abtt", 3, 1, {"k": 0}))
put("model", "kind-unknown.model", model("pca", 3, 1))
put("model", "kind-number.model", model("center", 3, 1, {"kind": 7}))
put("model", "no-transform.model", header({"dim": 2, "dtype": "f64", "keys": False}) + end(0))
# n = 1e300 and -5 are in pending/model (crash-model-n-*: UB converting them to uint64_t)
put("model", "f32-values.model", model("whiten", 2, 2, {"dim_out": 1, "k": 1}, dtype="f32"))
put("model", "normalize.model", model("center", 2, 1, {"normalize": True}, values=[0, 0]))
put("model", "zero-rows.model", header({"dim": 2, "dtype": "f64", "keys": False,
                                        "transform": {"kind": "center"}}) + end(0))
put("model", "tsv-text.model", "a\t1\t2\n")

# ---- columns (embspearman/embpearson) ----
put("cols", "two.tsv", "1\t2\n2\t4\n3\t5\n")
put("cols", "four.tsv", "1\t2\t3\tg1\n2\t4\t6\tg2\n3\t5\t7\tg1\n4\t1\t0\tg2\n")
put("cols", "header.tsv", "x\ty\tz\tg\n1\t2\t3\ta\n2\t4\t1\tb\n3\t5\t2\ta\n")
put("cols", "header-reordered.tsv", "g\tz\ty\tx\na\t1\t2\t3\nb\t2\t3\t1\n")
put("cols", "missing.tsv", "1\t\n2\tNA\n3\tnan\n4\t5\n")
put("cols", "inf.tsv", "inf\t2\n2\t3\n3\t1\n4\t5\n1e400\t-inf\n")
put("cols", "bom.tsv", "\ufeff1\t2\n3\t4\n")
put("cols", "spaces.tsv", "  1  2 3 g\n 2 3   4 h\n")
put("cols", "crlf.tsv", "1\t2\r\n3\t4\r\n")
put("cols", "blank-lines.tsv", "1\t2\n\n3\t4\n\n")
put("cols", "short-line.tsv", "1\t2\t3\t4\n5\n")
put("cols", "not-number.tsv", "1\tx\n")
put("cols", "long-number.tsv", "1\t" + "9" * 400 + "\n2\t0." + "0" * 350 + "1\n")
put("cols", "no-newline.tsv", "1\t2\n3\t4")
put("cols", "nul.tsv", "1\t2\n3\0\t4\n")
put("cols", "many-groups.tsv", "".join("%d\t%d\t%d\tg%d\n" % (i, i * 7 % 11, i % 3, i) for i in range(100)))

# ---- big-ann-benchmarks .fbin .u8bin .i8bin .ibin: n:u32 d:u32, then n*d values ----
def xbin(n, d, vals, code, hn=None, hd=None):
    return struct.pack("<II", n if hn is None else hn, d if hd is None else hd) + \
        struct.pack("<%d%s" % (len(vals), code), *vals)

for h, code, vals in (("fbin", "f", [0.5, -1.0, 2.25, 3.0, float("nan"), float("inf")]),
                      ("u8bin", "B", [0, 1, 127, 128, 255, 7]),
                      ("i8bin", "b", [-128, -1, 0, 1, 127, 5]),
                      ("ibin", "i", [0, -1, 2**31 - 1, -2**31, 5, 6])):
    put(h, "2x3", xbin(2, 3, vals, code))
    put(h, "3x2", xbin(3, 2, vals, code))
    put(h, "zero-rows", xbin(0, 3, [], code))
    put(h, "zero-dim", xbin(0, 0, [], code))
    put(h, "zero-dim-rows", xbin(5, 0, [], code))
    put(h, "truncated", xbin(2, 3, vals[:5], code))
    put(h, "data-after", xbin(1, 3, vals, code))
    put(h, "huge-n", xbin(0xffffffff, 3, vals, code))
    put(h, "unfinished-n", xbin(0x7fffffff, 3, vals, code))
    put(h, "huge-d", xbin(1, 0xffffffff, vals, code))
    put(h, "d-past-max", xbin(1, 1 << 24, vals, code))
    put(h, "short-header", b"\x02\x00\x00")
    put(h, "empty", b"")
put("fbin", "text", "2 3\n1 2 3\n4 5 6\n")

# ---- safetensors: N:u64, a JSON header, the tensors' bytes ----
def st(hdr, data, n=None, pad=True):
    h = hdr if isinstance(hdr, bytes) else json.dumps(hdr).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h) if n is None else n) + h + data

f32 = struct.pack("<6f", 1, 2, 3, 4, 5, 6)
def t(dtype="F32", shape=(2, 3), offs=(0, 24)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offs)}
put("safetensors", "2x3", st({"embeddings": t()}, f32))
put("safetensors", "meta-history", st({"__metadata__": {"history": '["embgen -n 2"]', "x": "y"},
                                       "e": t()}, f32))
put("safetensors", "meta-bad-history", st({"__metadata__": {"history": "[1,"}, "e": t()}, f32))
put("safetensors", "meta-not-string", st({"__metadata__": {"history": 5}, "e": t()}, f32))
put("safetensors", "f16", st({"e": t("F16", (2, 3), (0, 12))}, f32[:12]))
put("safetensors", "bf16", st({"e": t("BF16", (2, 3), (0, 12))}, f32[:12]))
put("safetensors", "f64", st({"e": t("F64", (1, 3), (0, 24))}, f32))
put("safetensors", "i32", st({"e": t("I32", (2, 3))}, f32))
put("safetensors", "unknown-dtype", st({"e": t("Q7", (2, 3))}, f32))
put("safetensors", "two-2d", st({"a": t("F32", (1, 3), (0, 12)), "b": t("F32", (1, 3), (12, 24))}, f32))
put("safetensors", "1d-and-2d", st({"a": t("F32", (3,), (0, 12)), "b": t("F32", (1, 3), (12, 24))}, f32))
put("safetensors", "3d", st({"e": t("F32", (1, 2, 3))}, f32))
put("safetensors", "0d", st({"e": t("F32", (), (0, 4))}, f32[:4]))
put("safetensors", "zero-rows", st({"e": t("F32", (0, 3), (0, 0))}, b""))
put("safetensors", "zero-dim", st({"e": t("F32", (4, 0), (0, 0))}, b""))
put("safetensors", "offsets-past-end", st({"e": t("F32", (2, 3), (0, 48))}, f32))
put("safetensors", "offsets-reversed", st({"e": t("F32", (2, 3), (24, 0))}, f32))
put("safetensors", "offsets-hole", st({"e": t("F32", (2, 3), (8, 32))}, f32 + f32[:8]))
put("safetensors", "offsets-overlap", st({"a": t("F32", (1, 3), (0, 12)), "b": t("F32", (1, 3), (8, 20))}, f32))
put("safetensors", "offsets-huge", st({"e": t("F32", (2, 3), (2**64 - 8, 2**64 - 8 + 24))}, f32))
put("safetensors", "offsets-negative", st({"e": t("F32", (2, 3), (-24, 0))}, f32))
put("safetensors", "offsets-float", st({"e": t("F32", (2, 3), (0.5, 24.5))}, f32))
put("safetensors", "shape-mismatch", st({"e": t("F32", (3, 3), (0, 24))}, f32))
put("safetensors", "shape-huge", st({"e": t("F32", (2**62, 2**3), (0, 24))}, f32))
put("safetensors", "shape-overflow", st({"e": t("F32", (2**33, 2**33), (0, 0))}, b""))
put("safetensors", "shape-negative", st({"e": t("F32", (-2, -3), (0, 24))}, f32))
put("safetensors", "data-after", st({"e": t()}, f32 + b"extra..."))
put("safetensors", "unpadded", st({"e": t()}, f32, pad=False))
put("safetensors", "header-len-huge", st({"e": t()}, f32, n=2**63))
put("safetensors", "header-len-past-end", st({"e": t()}, f32, n=4000))
put("safetensors", "header-len-zero", st(b"", f32, n=0))
put("safetensors", "header-not-object", st(b"[1,2,3]", f32))
put("safetensors", "header-bad-json", st(b'{"e": {"dtype": "F32", ', f32))
put("safetensors", "header-nul", st(b'{"e":\0 1}', f32))
put("safetensors", "tensor-not-object", st({"e": 7}, f32))
put("safetensors", "dup-names", st(b'{"e":' + json.dumps(t()).encode() + b',"e":' +
                                   json.dumps(t()).encode() + b'}', f32))
put("safetensors", "empty-header", st({}, b""))
put("safetensors", "short", b"\x10\x00\x00")
put("safetensors", "empty", b"")

# ---- FAISS flat indexes: fourcc d:i32 ntotal:i64 2 x i64 is_trained:u8
#      metric:i32 [metric_arg:f32] count:u64 values ----
def fx(cc=b"IxFI", d=3, n=2, metric=0, count=None, vals=None, arg=False, trained=1):
    vals = [0.5 * i for i in range(min(d * n, 64))] if vals is None else vals
    b = cc + struct.pack("<iqqqBi", d, n, 1 << 20, 1 << 20, trained, metric)
    if arg:
        b += struct.pack("<f", 2.0)
    return b + struct.pack("<Q", d * n if count is None else count) + \
        struct.pack("<%df" % len(vals), *vals)

put("faiss", "ip-2x3", fx())
put("faiss", "l2-2x3", fx(b"IxF2", metric=1))
put("faiss", "old-2x3", fx(b"IxFl"))
put("faiss", "lp-metric-arg", fx(b"IxFI", metric=4, arg=True))
put("faiss", "zero-rows", fx(n=0))
put("faiss", "zero-dim", fx(d=0, n=0))
put("faiss", "zero-dim-rows", fx(d=0, n=3, vals=[]))
put("faiss", "count-words", fx(count=3, vals=[1.0] * 6))
put("faiss", "count-wrong", fx(count=7))
put("faiss", "count-huge", fx(count=2**64 - 1))
put("faiss", "truncated", fx(vals=[1.0] * 5))
put("faiss", "data-after", fx() + b"\0" * 12)
put("faiss", "huge-n", fx(n=2**62, count=0))
put("faiss", "huge-n-count", fx(n=2**40, d=1 << 16, count=2**56))
put("faiss", "negative-n", fx(n=-1, count=2**64 - 3))
put("faiss", "huge-d", fx(d=2**31 - 1, n=1, count=2**31 - 1))
put("faiss", "negative-d", fx(d=-3, n=2, count=2**64 - 6))
put("faiss", "ivf-fourcc", b"IwFl" + fx()[4:])
put("faiss", "hnsw-fourcc", b"IHNf" + fx()[4:])
put("faiss", "binary-fourcc", b"\x00\x01\x02\x03" + fx()[4:])
put("faiss", "short-header", fx()[:20])
put("faiss", "fourcc-only", b"IxFI")
put("faiss", "empty", b"")
try:
    import tempfile
    import faiss
    import numpy as np
    x = np.arange(12, dtype="float32").reshape(3, 4) / 7
    for name, idx in (("write-index-ip", faiss.IndexFlatIP(4)),
                      ("write-index-l2", faiss.IndexFlatL2(4)),
                      ("write-index-empty", faiss.IndexFlatL2(5))):
        if not name.endswith("empty"):
            idx.add(x)
        with tempfile.NamedTemporaryFile() as tf:
            faiss.write_index(idx, tf.name)
            put("faiss", name, open(tf.name, "rb").read())
    with tempfile.NamedTemporaryFile() as tf:
        idx = faiss.IndexIVFFlat(faiss.IndexFlatL2(4), 4, 1)
        idx.train(np.random.RandomState(0).rand(40, 4).astype("float32"))
        faiss.write_index(idx, tf.name)
        put("faiss", "write-index-ivf", open(tf.name, "rb").read())
except ImportError:
    pass

# ---- embeval's lists: runs, qrels, pairs, ivecs ground truth ----
# fuzz.c's lists harness reads an input as list_specs[size % 8]: text
# seeds are padded with blank lines (skipped) to pick the reader they are for.
SPEC = {"truth-ivecs": 0, "topk": 1, "trec": 2, "qrels": 3, "truth": 4, "run": 5,
        "pairs": 6, "candidates": 7}
def put_list(name, data, spec):
    data = data.encode() if isinstance(data, str) else data
    data += b"\n" * ((SPEC[spec] - len(data)) % 8)
    put("lists", spec + "-" + name, data)

TOPK = "q1\td1\t0.9\t1\nq1\td2\t0.8\t2\nq2\td1\t0.5\t1\n"
TREC = "q1 Q0 d1 1 0.9 t\nq1 Q0 d2 2 0.8 t\nq2 Q0 d3 1 0.1 t\n"
put_list("3.tsv", TOPK, "topk")
put_list("3.tsv", TOPK, "run")
put_list("3.run", TREC, "trec")
put_list("3.run", TREC, "run")
put_list("3.run", TREC, "truth")
put_list("3.run", TREC, "candidates")
put_list("3.tsv", TOPK, "candidates")
put_list("3", "q1 0 d1 1\nq1 0 d2 0\nq2 0 d3 2\n", "qrels")
put_list("neg-rel", "q1 0 d1 -1\nq1 0 d2 99999999999999999999\n", "qrels")
put_list("3.tsv", "a\tb\t0.5\nb\tc\nc\ta\t-1\n", "pairs")
put_list("twice.tsv", "a\tb\t0.5\nb\tc\na\tb\t0.5\n", "candidates")
put_list("twice.tsv", "a\tb\t0.5\nb\tc\na\tb\t0.5\n", "pairs")
put_list("dup-doc.tsv", "q1\td1\t0.9\t1\nq1\td1\t0.8\t2\n", "topk")
put_list("spaces-blank.txt", "  q1   d1  0.9  1 \n\n q2 d2 nan 2\n", "topk")
put_list("bad-number.tsv", "q1\td1\tx\t1\nq1\td2\t0.8\t1e999\n", "topk")
put_list("bad-rank.run", "q1 Q0 d1 -5 0.9 t\nq1 Q0 d2 1.5 0.8 t\n", "trec")
put_list("wrong-fields.tsv", "q1\td1\t0.9\nq1 Q0 d1 1 0.9\n", "run")
put_list("interleaved.tsv", "".join("q%d\td%d\t%g\t%d\n" % (i % 3, i, 1.0 / (i + 1), i // 3 + 1)
                                    for i in range(30)), "run")
put_list("crlf.run", "q1 Q0 d1 1 0.9 t\r\nq1 Q0 d2 2 0.8 t\r\n", "trec")
put_list("nul.tsv", "q1\td\0x\t0.9\t1\n", "topk")
put_list("empty", "", "run")
put_list("empty", "", "qrels")
# ---- the AVX2 row parser: rows of more than one 64-byte window ----
put("row", "g7.tsv", "\t".join("%.7g" % ((i * 0.7351) % 3 - 1.5) for i in range(40)) + "\n")
put("row", "g9-keyless-two.tsv", ("\t".join("%.9g" % (i / 7.0 - 2) for i in range(30)) + "\n") * 2)
put("row", "ints-blanks.tsv", "  ".join("%d" % (i * 37 - 500) for i in range(60)) + " \t\n")
put("row", "shapes.tsv", "\t".join(["0.5", "-.25", "5.", "-0", "007.50", "1e-3", "+2", "1.2.3",
                                    "-", ".", "1-2", "nan", "123456789012345", "1234567890123456",
                                    "16777217", "-33554434", "0.000000000000001", "9.99"] * 3) + "\r\n")
put("row", "controls.tsv", "1.5\t2.5\v3.5\t4.5\f5.5\0" + "\t".join("6.25" for _ in range(30)))
put("row", "long-tokens.tsv", "\t".join(["1." + "3" * 70, "2.5"] * 8))
IV = struct.pack("<i3ii3i", 3, 0, 2, 1, 3, 4, 5, 6)
put("lists", "truth-ivecs-2x3.ivecs", IV)                   # 32 bytes: spec 0
put("lists", "truth-2x3-1x1.ivecs", IV + struct.pack("<ii", 1, 9))  # 40: spec 0
put("lists", "truth-1x2.ivecs", struct.pack("<i2i", 2, 0, 1))       # 12: spec 4
put("lists", "truth-ivecs-negative.ivecs", struct.pack("<i3i", 3, -1, 0, 1))
put("lists", "truth-dim-change.ivecs", struct.pack("<i2iii", 2, 0, 1, 1, 9))
put("lists", "truth-ivecs-truncated.ivecs", struct.pack("<i2ii", 5, 0, 1, 2))
put("lists", "truth-ivecs-huge-dim.ivecs", struct.pack("<i", 2**31 - 1) + b"\0" * 4)
put("lists", "truth-ivecs-zero-dim.ivecs", struct.pack("<ii", 0, 0))
put("lists", "truth-ivecs-empty", b"")

# ---- the sniffer: AUDIT.md's look-alikes ----
for h, n in (("tsv", "bom.tsv"), ("w2v", "decimal-comma.w2v"), ("w2v", "nan.w2v"),
             ("w2v", "key-space.w2v"), ("w2v", "zero-rows-data-after.w2v"),
             ("glove", "hash-words.txt"), ("jsonl", "trailing-text.jsonl"),
             ("jsonl", "bom.jsonl"), ("npy", "magic-only.npy"), ("tsv", "nan-inf.tsv"),
             ("tsv", "numeric-keys.tsv"), ("w2vbin", "two.bin"), ("fvecs", "dim-change.fvecs"),
             ("ivecs", "two.ivecs"), ("bvecs", "two.bvecs"), ("emb", "concat-dim0-data.emb"),
             ("fbin", "2x3"), ("u8bin", "2x3"), ("i8bin", "2x3"), ("ibin", "2x3"),
             ("safetensors", "meta-history"), ("safetensors", "offsets-past-end"),
             ("faiss", "ip-2x3"), ("faiss", "l2-2x3"), ("faiss", "ivf-fourcc")):
    with open(os.path.join(C, h, "seed-" + n), "rb") as f:
        put("sniff", n.replace(".", "-") + "-" + h, f.read())
put("sniff", "empty", b"")
put("sniff", "one-newline", b"\n")
PY

for h in $harnesses; do
	printf '%s: %s seeds\n' "$h" "$(ls "$corpus/$h" | grep -c '^seed-')"
done
