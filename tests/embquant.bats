#!/usr/bin/env bats
# embquant: int8/uint8/binary/ubinary codes against sentence-transformers'
# quantize_embeddings() formulas written out in numpy (tests/quant_oracle.py),
# saved and merged ranges, the new dtypes i8/u8/bit through the formats,
# and every error message.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE ARGS...: python with numpy as np, tests/oracle.py as o and
# tests/quant_oracle.py as q.
py() {
	oracle -c "import sys, numpy as np, oracle as o, quant_oracle as q
$1" "${@:2}"
}

# data N D SEED [f64]: N x D normal rows, as data.npy (f32, or f64).
data() {
	py 'n, d, seed = map(int, sys.argv[1:4])
x = np.random.default_rng(seed).standard_normal((n, d))
np.save("data.npy", x if len(sys.argv) > 4 else x.astype(np.float32))' "$@"
}

@test "int8 and uint8 codes equal sentence-transformers' bit for bit (f32, several sizes and dims)" {
	for args in "100 1 1" "257 7 2" "1000 64 3" "2 5 4" "300 13 5"; do
		data $args
		embquant --int8 -O npy data.npy > i8.npy 2> /dev/null
		embquant --uint8 -O npy data.npy > u8.npy 2> /dev/null
		py 'x = np.load("data.npy")
for f, p in (("i8.npy", "int8"), ("u8.npy", "uint8")):
    got, want = np.load(f), q.st_quantize(x, p)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    assert (got == want).all(), (f, np.argwhere(got != want)[:5])'
	done
}

@test "f64 input is quantized in f64, as numpy does" {
	data 500 9 7 f64
	embquant --int8 -O npy data.npy > i8.npy
	py 'x = np.load("data.npy"); assert x.dtype == np.float64
assert (np.load("i8.npy") == q.st_quantize(x, "int8")).all()'
}

@test "the binary stream carries the same codes as the npy output" {
	data 300 11 8
	embquant --int8 -O emb data.npy > i8.emb
	embquant --int8 -O npy data.npy > i8.npy
	py 'x, k, h = o.read(open("i8.emb", "rb").read())
assert h[0]["dtype"] == "i8" and h[0]["quantization"] == {"precision": "int8", "rounding": "toward zero"}, h[0]
assert x.dtype == np.int8 and (x == np.load("i8.npy")).all()'
}

@test "--save then --load equals quantize_embeddings(ranges=...) on other rows; outside values clamp, numpy's wrap" {
	for seed in 1 2 3; do
		py 'rng = np.random.default_rng(int(sys.argv[1]))
cal = rng.standard_normal((200, 16)).astype(np.float32)
new = (rng.standard_normal((300, 16)) * 2).astype(np.float32)   # many outside
np.save("cal.npy", cal); np.save("new.npy", new)' $seed
		embquant --int8 --save r.ranges cal.npy > /dev/null
		embquant --int8 --load r.ranges -O npy new.npy > i8.npy
		embquant --uint8 --load r.ranges -O npy new.npy > u8.npy
		py 'cal, new = np.load("cal.npy"), np.load("new.npy")
r = np.vstack((cal.min(0), cal.max(0)))
for f, p in (("i8.npy", "int8"), ("u8.npy", "uint8")):
    got = np.load(f)
    assert (got == q.clamped(new, p, r)).all(), f
    inside = (new >= r[0]) & (new <= r[1])
    assert (~inside).sum() > 100
    assert (got[inside] == q.st_quantize(new, p, r)[inside]).all(), f
# numpy wraps the values outside (200.7 becomes -56): we do not
assert np.array([200.7], np.float32).astype(np.int8)[0] == -56'
	done
}

@test "--round gives the nearest code, ties to even" {
	data 400 10 9
	embquant --int8 --round -O npy data.npy > i8.npy
	embquant --uint8 --round -O npy data.npy > u8.npy
	py 'x = np.load("data.npy")
assert (np.load("i8.npy") == q.clamped(x, "int8", rounding=np.rint)).all()
assert (np.load("u8.npy") == q.clamped(x, "uint8", rounding=np.rint)).all()'
}

@test "a dimension with max = min gets the lowest code below the range and at it, the highest above" {
	printf '1\t5\n1\t6\n1\t7\n' > cal.tsv
	printf '0\t5\n1\t6\n2\t7\n' > new.tsv
	embquant --int8 --save r.ranges cal.tsv > /dev/null 2>&1
	run -0 --separate-stderr embquant --int8 --load r.ranges -O tsv new.tsv
	assert_output $'-128\t-128\n-128\t0\n127\t126'
	py 'x = np.array([[0, 5], [1, 6], [2, 7]], np.float32)
r = np.array([[1, 5], [1, 7]], np.float32)
assert (q.clamped(x, "int8", r)[:, 1] == [-128, 0, 126]).all()
assert (q.st_quantize(x, "int8", r)[:, 1] == [-128, 0, 126]).all()'
}

@test "--partial on random splits, --merge: the same ranges and codes as one pass (empty and 1-row parts too)" {
	data 500 12 11
	embcat -O emb data.npy > all.emb
	embquant --int8 --save one.ranges all.emb > one.i8.emb
	for split in "0 1 250 500" "0 0 499 500" "0 137 138 400 500" "0 500"; do
		set -- $split
		parts=()
		while [ $# -gt 1 ]; do
			embcat --rows=$1:$2 all.emb > part$1.emb
			embquant --partial part$1.emb > p$1.emb
			parts+=(p$1.emb)
			shift
		done
		embquant --merge --save merged.ranges "${parts[@]}"
		same one.ranges merged.ranges
		embquant --int8 --load merged.ranges all.emb > merged.i8.emb 2> /dev/null
		same one.i8.emb merged.i8.emb
	done
	py 'x, k, h = o.read(open("merged.ranges", "rb").read())
d = np.load("data.npy")
assert k == ["min", "max"] and h[0]["partial"] == {"kind": "ranges", "n": 500, "precision": "f32"}, (k, h)
assert (x[0] == d.min(0)).all() and (x[1] == d.max(0)).all()'
}

@test "fewer than 100 calibration rows: sentence-transformers' warning, word for word" {
	data 99 4 1
	run -0 --separate-stderr embquant --int8 data.npy
	assert_equal "$stderr" 'embquant: Computing int8 quantization buckets based on 99 embeddings. int8 quantization is more stable with `ranges` calculated from more embeddings or a `calibration_embeddings` that can be used to calculate the buckets.'
	data 1 4 1
	run -0 --separate-stderr embquant --uint8 data.npy
	assert_equal "$stderr" 'embquant: Computing uint8 quantization buckets based on 1 embedding. uint8 quantization is more stable with `ranges` calculated from more embeddings or a `calibration_embeddings` that can be used to calculate the buckets.'
	data 100 4 1
	run -0 --separate-stderr embquant --int8 data.npy
	assert_equal "$stderr" ""
}

@test "--binary and --ubinary equal np.packbits(x > 0) per row (dims 1, 8, 13, 64, 100)" {
	for d in 1 8 13 64 100; do
		data 50 $d $d
		embquant --binary -O npy data.npy > b.npy
		embquant --ubinary -O npy data.npy > ub.npy
		embquant --ubinary -O emb data.npy > ub.emb
		py 'x = np.load("data.npy")
b, ub = np.load("b.npy"), np.load("ub.npy")
assert b.dtype == np.int8 and ub.dtype == np.uint8
assert (ub == np.packbits(x > 0, axis=1)).all() and (b == q.st_quantize(x, "binary")).all()
if x.shape[1] % 8 == 0:   # sentence-transformers packs the flattened array
    assert (ub == q.st_quantize(x, "ubinary")).all()
y, k, h = o.read(open("ub.emb", "rb").read())
assert h[0]["dtype"] == "bit" and h[0]["dim"] == x.shape[1] and (y == ub).all()'
	done
}

@test "TSV prints codes as integers, and a bit stream its packed bytes" {
	printf 'a\t1\t-1\t2\t0\t3\t-3\t1\t1\t1\nb\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t-1\t5\n' > x.tsv
	run -0 embquant --ubinary -O tsv x.tsv
	assert_output $'a\t171\t128\nb\t0\t128'
	run -0 embquant --binary -O tsv x.tsv
	assert_output $'a\t43\t0\nb\t-128\t0'
	embquant --ubinary -O emb x.tsv > b.emb
	run -0 embcat -O tsv b.emb
	assert_output $'a\t171\t128\nb\t0\t128'
	run -0 embcat --dtype f32 -O tsv b.emb
	assert_output $'a\t1\t0\t1\t0\t1\t0\t1\t1\t1\nb\t0\t0\t0\t0\t0\t0\t0\t0\t1'
	py 'x = np.loadtxt("x.tsv", usecols=range(1, 10))
assert (np.packbits(x > 0, axis=1) == [[171, 128], [0, 128]]).all()'
}

@test "--dequantize gives each code's interval middle, and re-quantizes to the same codes" {
	data 300 20 4
	for r in "" --round; do
		embquant --int8 $r --save r.ranges -O emb data.npy > i8.emb
		embquant --uint8 $r --load r.ranges -O emb data.npy > u8.emb
		embquant --dequantize --load r.ranges i8.emb > di8.emb
		embquant --dequantize --load r.ranges u8.emb > du8.emb
		embquant --int8 $r --load r.ranges di8.emb > i8b.emb
		embquant --uint8 $r --load r.ranges du8.emb > u8b.emb
		same i8.emb i8b.emb
		same u8.emb u8b.emb
		py 'x = np.load("data.npy"); r = np.vstack((x.min(0), x.max(0))).astype(np.float64)
rnd = sys.argv[1] == "--round"
for f, c, p in (("di8.emb", "i8.emb", "int8"), ("du8.emb", "u8.emb", "uint8")):
    got, codes = o.load(f), o.load(c)
    want = q.dequantize(codes, r, p, rnd)
    assert np.abs(got - want).max() < 1e-6, (f, np.abs(got - want).max())' "${r:-trunc}"
	done
}

@test "codes go through embcat unchanged, in emb, npy and TSV; --dtype f32 gives their values" {
	data 200 9 3
	embquant --int8 -O emb data.npy > i8.emb 2> /dev/null
	embquant --uint8 -O emb data.npy > u8.emb 2> /dev/null
	for f in i8 u8; do
		embcat $f.emb > copy.emb
		cmp <(tail -c +200 $f.emb | od -An -tx1 | tail -n +3) <(tail -c +200 copy.emb | od -An -tx1 | tail -n +3) > /dev/null || same $f.emb copy.emb
		py 'x, k, h = o.read(open("copy.emb", "rb").read()); assert h[0]["dtype"] == sys.argv[1]' $f
		embcat -O npy $f.emb > c.npy
		embcat --dtype f32 $f.emb > c.f32.emb
		embcat -O tsv $f.emb | embcat --dtype $f -O emb > back.emb
		py 'a = o.read(open(sys.argv[1] + ".emb", "rb").read())[0]
assert (np.load("c.npy") == a).all() and np.load("c.npy").dtype == a.dtype
assert (o.load("c.f32.emb") == a).all() and (o.read(open("back.emb", "rb").read())[0] == a).all()' $f
	done
}

@test "writing a value that is not a code to i8, u8 or bit is an error naming the row" {
	run -1 --separate-stderr embcat --dtype i8 -O emb <(printf '1\t2\n3\t128\n')
	assert_equal "$stderr" "embcat: standard output: row 2: value 128 is not an i8 code (a whole number from -128 to 127; embquant makes codes from real numbers)"
	run -1 --separate-stderr embcat --dtype u8 -O emb <(printf '0.5\t2\n')
	assert_equal "$stderr" "embcat: standard output: row 1: value 0.5 is not a u8 code (a whole number from 0 to 255; embquant makes codes from real numbers)"
	run -1 --separate-stderr embcat --dtype bit -O npy <(printf '0\t1\n1\t-1\n')
	assert_equal "$stderr" "embcat: standard output: row 2: value -1 is not a bit code (0 or 1; embquant makes codes from real numbers)"
}

@test "programs that compute from codes write f32, not codes" {
	data 200 6 2
	embquant --int8 -O emb data.npy > i8.emb
	embcenter i8.emb > c.emb
	py 'x, k, h = o.read(open("c.emb", "rb").read())
a = o.load("i8.emb")
assert h[0]["dtype"] == "f32" and np.abs(x - (a - a.mean(0))).max() < 1e-4'
}

@test "a header dtype this reader does not know is refused, not misread" {
	py 'sys.stdout.buffer.write(o.header(2, "i4") + o.end(0))' > new.emb
	run -1 --separate-stderr embcat new.emb
	assert_equal "$stderr" 'embcat: new.emb: byte 20: header has no valid "dtype" (f32, f64, f16, i8, u8 or bit)'
}

@test "usage errors" {
	data 10 3 1
	run -2 --separate-stderr embquant data.npy
	assert_equal "${stderr_lines[0]}" "embquant: give a mode: --int8, --uint8, --binary, --ubinary or --dequantize"
	run -2 --separate-stderr embquant --int8 --binary data.npy
	assert_equal "${stderr_lines[0]}" "embquant: options --int8 and --binary cannot be used together"
	run -2 --separate-stderr embquant --binary --save r data.npy
	assert_equal "${stderr_lines[0]}" "embquant: --binary has no ranges: --save does not apply"
	run -2 --separate-stderr embquant --ubinary --round data.npy
	assert_equal "${stderr_lines[0]}" "embquant: --ubinary has no ranges: --round does not apply"
	run -2 --separate-stderr embquant --dequantize data.npy
	assert_equal "${stderr_lines[0]}" "embquant: --dequantize needs the ranges the codes were made with: give --load=RANGES"
	run -2 --separate-stderr embquant --partial --int8 data.npy
	assert_equal "${stderr_lines[0]}" "embquant: options --partial and --int8 cannot be used together"
	run -2 --separate-stderr embquant --merge p.emb
	assert_equal "${stderr_lines[0]}" "embquant: --merge writes ranges: give --save=RANGES"
	run -2 --separate-stderr embquant --int8 --load a --save b data.npy
	assert_equal "${stderr_lines[0]}" "embquant: options --load and --save cannot be used together"
	run -2 --separate-stderr embquant --int8 --dtype f32 data.npy
	assert_equal "${stderr_lines[0]}" "embquant: option '--dtype' does not apply to embquant"
	assert_equal "${stderr_lines[1]}" "Try 'embquant --help' for more information."
	assert_output ""
}

@test "data errors: codes as input, nan, a dim other than the ranges', not ranges, formats without codes" {
	data 150 3 1
	embquant --int8 --save r.ranges -O emb data.npy > i8.emb
	run -1 --separate-stderr embquant --int8 i8.emb
	assert_equal "$stderr" "embquant: i8.emb: already i8 codes (embquant quantizes real numbers)"
	py 'sys.stdout.buffer.write(o.write(np.array([[1, 2, 3], [1, np.nan, 3]])))' > nan.emb
	at=$(py 'print(len(o.header(3)) + 24 + 12)')   # where row 2 starts
	run -1 --separate-stderr embquant --int8 --load r.ranges nan.emb
	assert_equal "$stderr" "embquant: nan.emb: byte $at: value 2 is nan"
	embquant --int8 --load r.ranges nan.emb > cut.emb 2> /dev/null || true
	run -1 --separate-stderr embcat cut.emb   # what was written does not read as complete
	assert_equal "${stderr%%:*}" "embcat"
	[[ "$stderr" == *"truncated stream"* ]]
	run -1 --separate-stderr embquant --ubinary nan.emb
	assert_equal "$stderr" "embquant: nan.emb: byte $at: value 2 is nan"
	run -1 --separate-stderr embquant --partial nan.emb
	assert_equal "$stderr" "embquant: nan.emb: byte $at: value 2 is nan"
	run -1 --separate-stderr embquant --int8 --load r.ranges <(printf '1\t2\n')
	assert_equal "$stderr" "embquant: /dev/fd/63: dim 2, but the ranges in r.ranges have dim 3"
	run -1 --separate-stderr embquant --int8 --load i8.emb data.npy
	assert_equal "$stderr" 'embquant: i8.emb: not a partial (no "partial" in its header; make one with --partial)'
	embcenter --partial data.npy > m.emb
	run -1 --separate-stderr embquant --merge --save x.ranges m.emb
	assert_equal "$stderr" "embquant: m.emb: a partial of kind 'moments', not 'ranges'"
	run -1 --separate-stderr embquant --dequantize --load r.ranges data.npy
	assert_equal "$stderr" "embquant: data.npy: dtype f32, not i8 or u8 codes"
	run -1 --separate-stderr embquant --int8 -O fvecs data.npy
	assert_equal "$stderr" "embquant: fvecs cannot hold i8 codes (write emb, npy or tsv with -O)"
	run -1 --separate-stderr embquant --partial i8.emb
	assert_equal "$stderr" "embquant: i8.emb: already i8 codes (embquant quantizes real numbers)"
	embquant --partial data.npy > p.emb
	run -1 --separate-stderr embquant --int8 p.emb
	assert_equal "$stderr" "embquant: p.emb: a partial, not vectors (merge partials with --merge)"
}

@test "write errors: /dev/full and a closed stdout" {
	data 150 3 1
	for m in --int8 --uint8 --binary --ubinary --partial; do
		run -1 --separate-stderr sh -c "embquant $m data.npy > /dev/full"
		assert_equal "$stderr" "embquant: write error: No space left on device"
	done
	run -1 --separate-stderr sh -c "embquant --int8 data.npy >&-"
	assert_equal "$stderr" "embquant: write error: Bad file descriptor"
	run -1 --separate-stderr embquant --merge --save /dev/full p.emb
	embquant --partial data.npy > p.emb
	run -1 --separate-stderr embquant --merge --save /nonexistent/r p.emb
	assert_equal "$stderr" "embquant: /nonexistent/r: No such file or directory"
}

@test "embcos --ranges scores int8 codes as the values they stand for: paired, --topk (f32 queries), --matrix" {
	py 'rng = np.random.default_rng(21)
c = (rng.standard_normal((400, 24)) * rng.uniform(0.01, 3, 24) + rng.standard_normal(24)).astype(np.float32)
np.save("corpus.npy", c); np.save("q.npy", c[:30] + 0.1 * rng.standard_normal((30, 24)).astype(np.float32))'
	for r in "" --round; do
		embquant --int8 $r --save r.ranges -O emb corpus.npy > c.i8
		embcat --rows=:200 c.i8 > a.i8
		embcat --rows=200: c.i8 > b.i8
		embquant --uint8 $r --load r.ranges -O emb corpus.npy > c.u8
		embcos --ranges r.ranges a.i8 b.i8 > paired.tsv
		embcos --ranges r.ranges -k 5 --db c.i8 q.npy > top.tsv
		embcos --ranges r.ranges --dot --matrix a.i8 c.u8 > m.tsv
		py 'import quant_oracle as q
rnd = sys.argv[1] == "--round"
x = np.load("corpus.npy").astype(np.float64); r = np.vstack((x.min(0), x.max(0)))
codes8 = o.read(open("c.i8", "rb").read())[0]; codesu = o.read(open("c.u8", "rb").read())[0]
deq = q.dequantize(codes8, r, "int8", rnd).astype(np.float32).astype(np.float64)
dequ = q.dequantize(codesu, r, "uint8", rnd).astype(np.float32).astype(np.float64)
def cos(a, b): return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
got = np.loadtxt("paired.tsv")[:, 2]
assert np.abs(got - cos(deq[:200], deq[200:])).max() < 1e-6
# raw codes (the PR #4058 mistake) are much further from the float cosines
exact = cos(x[:200], x[200:])
raw = cos(codes8[:200].astype(float), codes8[200:].astype(float))
assert np.abs(got - exact).mean() < 0.2 * np.abs(raw - exact).mean(), (np.abs(got - exact).mean(), np.abs(raw - exact).mean())
qq = np.load("q.npy").astype(np.float64)
s = (qq / np.linalg.norm(qq, axis=1, keepdims=True)) @ (deq / np.linalg.norm(deq, axis=1, keepdims=True)).T
t = np.loadtxt("top.tsv").reshape(30, 5, 4)
for i in range(30):
    want = np.argsort(-s[i], kind="stable")[:5]
    assert np.abs(t[i, :, 2] - s[i][want]).max() < 1e-6
    assert (t[i, :, 1] == want + 1).all() or np.abs(np.sort(s[i])[-6:]).ptp() < 1e-6, i
m = np.loadtxt("m.tsv", comments="#")
assert np.abs(m[:, 1:] - deq[:200] @ dequ.T).max() < 1e-3 * np.abs(deq[:200] @ dequ.T).max()' "${r:-trunc}"
	done
}

@test "embcos refuses raw codes, packed binary codes and mismatched ranges" {
	data 150 6 1
	embquant --int8 --save r.ranges -O emb data.npy > i8.emb
	embquant --binary -O emb data.npy > b.emb
	run -1 --separate-stderr embcos i8.emb i8.emb
	assert_equal "$stderr" "embcos: i8.emb: i8 codes: give the --ranges they were made with (raw codes ignore each dimension's scale)"
	run -1 --separate-stderr embcos -k 1 --db i8.emb data.npy
	assert_equal "$stderr" "embcos: i8.emb: i8 codes: give the --ranges they were made with (raw codes ignore each dimension's scale)"
	run -1 --separate-stderr embcos --ranges r.ranges b.emb b.emb
	assert_equal "$stderr" "embcos: b.emb: packed bits, not int8 or uint8 codes: make them with embquant --ubinary and score them with --hamming"
	data 150 5 1
	embquant --int8 --save r5.ranges -O emb data.npy > i5.emb
	run -1 --separate-stderr embcos --ranges r.ranges i5.emb i5.emb
	assert_equal "$stderr" "embcos: i5.emb: dim 5, but the ranges in r.ranges have dim 6"
	run -1 --separate-stderr embcos --ranges i5.emb i5.emb i5.emb
	assert_equal "$stderr" 'embcos: i5.emb: not a partial (no "partial" in its header; make one with --partial)'
	run -2 --separate-stderr embcos --ranges r.ranges --hamming i5.emb
	assert_equal "${stderr_lines[0]}" "embcos: options --ranges and --hamming cannot be used together"
}
