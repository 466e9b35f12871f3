#!/usr/bin/env bats
# The codecs' own rules (emb.5, "Other formats"): JSON Lines read whole
# lines, keep id text and refuse what JSON or f32 cannot hold; .npy
# headers are read as numpy reads them; word2vec and .npy headers never
# pass a negative or unfinished count; text writers refuse nan and inf.
# The oracles are Debian's python3 json, numpy and gensim.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

py() {
	oracle -c "import sys, json, numpy as np
$1" "${@:2}"
}

# fails CMD...: CMD exits 1 with one line on stderr and nothing on stdout;
# the line is left in $stderr.
fails() {
	run -1 --separate-stderr "$@"
	assert_output ""
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}

@test "JSON Lines: the whole line is one object; anything after it is an error" {
	printf '{"id":"a","embedding":[1,2]}{"id":"b","embedding":[3,4]}\n{"id":"c","embedding":[5,6]} trailing\n' > two.jsonl
	fails embcat -O tsv two.jsonl
	assert_equal "$stderr" "embcat: two.jsonl:1: text after the JSON object"
	for tail in ' x' ',' ']' '}' ' {"id":"b","embedding":[3,4]}' ' null' '\001' '\000'; do
		printf '{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[3,4]}%b\n' "$tail" > t.jsonl
		fails embcat -I jsonl -O tsv t.jsonl
		assert_equal "$stderr" "embcat: t.jsonl:2: text after the JSON object"
	done
	# blanks and a CR around the object are not text
	printf ' \t{"id":"a","embedding":[1,2]} \t\r\n\r\n  \n{"id":"b","embedding":[3,4]}' > ok.jsonl
	run -0 embcat -O tsv ok.jsonl
	assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
	py 'assert [json.loads(l) for l in open("ok.jsonl") if l.strip()]'
}

@test "JSON Lines: what JSON forbids is an error naming the line, as Python's json says" {
	# Python's json.dumps writes NaN and Infinity by default; json.loads
	# with parse_constant refusing them is the strict oracle
	py 'import math
open("c.txt", "w").write("\n".join(json.dumps({"embedding": [1, v]}) for v in (math.nan, math.inf, -math.inf)) + "\n")'
	for i in 1 2 3; do
		sed -n "${i}p" c.txt > c.jsonl
		word=$(py 'print(open("c.jsonl").read().split(", ")[1].rstrip("]}\n"))')
		fails embcat -I jsonl c.jsonl
		assert_equal "$stderr" "embcat: c.jsonl:1: $word is not valid JSON"
	done
	# cJSON takes these; JSON (and Python) do not
	for bad in '01' '1.' '-.5' '1.e3' '-01' '00' '-00.5'; do
		printf '{"embedding":[1,2]}\n{"embedding":[1,%s]}\n' "$bad" > b.jsonl
		run ! py 'json.loads(open("b.jsonl").read().split("\n")[1])'
		fails embcat -I jsonl b.jsonl
		assert_equal "$stderr" "embcat: b.jsonl:2: '$bad' is not a JSON number"
	done
	printf '{"id":"a\tb","embedding":[1,2]}\n' > ctl.jsonl
	run ! py 'json.loads(open("ctl.jsonl").read())'
	fails embcat -I jsonl ctl.jsonl
	assert_equal "$stderr" "embcat: ctl.jsonl:1: control character 0x09 in a JSON string (column 9)"
	printf '{"id":"a",\001"embedding":[1,2]}\n' > ctl2.jsonl
	fails embcat -I jsonl ctl2.jsonl
	assert_equal "$stderr" "embcat: ctl2.jsonl:1: control character 0x01 in JSON text (column 11)"
	printf '{"embedding":[1,.5]}\n' > dot.jsonl
	fails embcat -I jsonl dot.jsonl
	assert_equal "$stderr" "embcat: dot.jsonl:1: invalid JSON (column 17)"
	printf '{"embedding":[1,2]}\n[1,2,3]\n' > arr.jsonl
	fails embcat arr.jsonl
	assert_equal "$stderr" "embcat: arr.jsonl:2: not a JSON object"
	printf '{"embedding":[1,2]}\n{"embedding":[1,2\n' > cut.jsonl
	fails embcat cut.jsonl
	assert_equal "$stderr" "embcat: cut.jsonl:2: invalid JSON (column 18)"
}

@test "JSON Lines: a byte order mark may start the file only" {
	printf '\357\273\277{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[3,4]}\n' > bom.jsonl
	py 'assert len([json.loads(l) for l in open("bom.jsonl", encoding="utf-8-sig")]) == 2'
	run -0 embcat -I jsonl -O tsv bom.jsonl
	assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
	printf '{"id":"a","embedding":[1,2]}\n\357\273\277{"id":"b","embedding":[3,4]}\n' > bom2.jsonl
	fails embcat -I jsonl bom2.jsonl
	assert_equal "$stderr" "embcat: bom2.jsonl:2: byte order mark (U+FEFF) after the first line"
}

@test "JSON Lines: ids keep their text, so distinct ids never collide" {
	ids='9007199254740993 9007199254740992 12345678901234567890 -12345678901234567890 1e2 1E2 100 100.0 1.5e-3 -0 0 "100"'
	for id in $ids; do
		printf '{"id":%s,"embedding":[1,2]}\n' "$id"
	done > ids.jsonl
	run -0 embcat -O tsv ids.jsonl
	# the oracle: each id's source text (Python's json keeps it with
	# parse_int=str and parse_float=str; strings are themselves)
	py 'want = [str(json.loads(l, parse_int=str, parse_float=str)["id"]) for l in open("ids.jsonl")]
lines = sys.argv[1].split("\n")
assert lines[0] == "#emb keys", lines[0]  # numeric keys: TSV marks them (emb(5))
got = [l.split("\t")[0] for l in lines[1:]]
assert got == want, (got, want)
assert got[0] != got[1] and got[4] != got[6] and got[5] != got[6]' "$output"
	# an OpenAI batch's "index" too
	printf '{"data":[{"embedding":[1],"index":18446744073709551617},{"embedding":[2],"index":18446744073709551616}]}\n' > big.jsonl
	run -0 embcat -O tsv big.jsonl
	assert_output "$(printf '#emb keys\n18446744073709551617\t1\n18446744073709551616\t2')"
}

@test "JSON Lines: values are read like TSV: rounded once, and never turned into inf" {
	# 1+2^-24 is halfway between two floats: a double rounded to float
	# lands on 1 (ties to even), the text just above it must give 1+2^-23
	texts='1.00000005960464477539062500001 0.1 -3.4028234663852886e38 1.17549421e-38 1e-46 7.006492321624086e-46 123456789 0.30000001192092896'
	printf '{"embedding":[%s]}\n' "$(echo $texts | tr ' ' ,)" > r.jsonl
	run -0 embcat -O tsv r.jsonl
	py 'from fractions import Fraction as F
import warnings; warnings.simplefilter("ignore")
texts = sys.argv[1].split()
def nearest_f32(t):
    x = F(t)
    c = np.float32(float(t))
    cands = [v for v in (np.nextafter(c, np.float32(-np.inf)), c, np.nextafter(c, np.float32(np.inf)))
             if np.isfinite(v)]
    best = min(cands, key=lambda v: (abs(F(float(v)) - x), int(v.view(np.uint32)) & 1))
    return best
got = [np.float32(v) for v in sys.argv[2].split("\t")]
want = [nearest_f32(t) for t in texts]
assert [g.tobytes() for g in got] == [w.tobytes() for w in want], (got, want)
assert got[0] != np.float32(1)' "$texts" "$output"
	for v in 1e39 -1e39 3.4028236e38 1e400 -1e400; do
		printf '{"id":"a","embedding":[1,2]}\n{"id":"b","embedding":[1,%s]}\n' "$v" > o.jsonl
		fails embcat -O tsv o.jsonl
		assert_equal "$stderr" "embcat: o.jsonl:2: '$v' is not a finite number"
		printf 'a\t1\t2\nb\t1\t%s\n' "$v" > o.tsv
		run -1 --separate-stderr embcat -O tsv o.tsv
		assert_equal "$stderr" "embcat: o.tsv:2: '$v' is not a finite number"
	done
	# f64 holds 1e39, not 1e400
	printf '{"embedding":[1e39,-1e300]}\n' > d.jsonl
	run -0 embcat --dtype f64 -O tsv d.jsonl
	assert_output "$(printf '1e+39\t-1e+300')"
	printf '{"embedding":[1e400]}\n' > d.jsonl
	fails embcat --dtype f64 -O tsv d.jsonl
	assert_equal "$stderr" "embcat: d.jsonl:1: '1e400' is not a finite number"
}

@test "JSON Lines: keys with NUL or bad UTF-8 are refused; long keys too" {
	printf '{"id":"a\\u0000b","embedding":[1,2]}\n' > nul.jsonl
	py 'assert json.loads(open("nul.jsonl").read())["id"] == "a\0b"'
	fails embcat nul.jsonl
	assert_equal "$stderr" 'embcat: nul.jsonl:1: "id" holds a NUL character (\u0000)'
	# an escaped backslash before u0000 is text, not a NUL
	printf '{"id":"a\\\\u0000b","embedding":[1,2]}\n' > esc.jsonl
	run -0 embcat -O tsv esc.jsonl
	assert_output "$(printf 'a\\u0000b\t1\t2')"
	for bytes in '\377\376' '\300\200' '\355\240\200' '\364\220\200\200' 'a\303'; do
		printf '{"id":"%b","embedding":[1,2]}\n' "$bytes" > u.jsonl
		run ! py 'open("u.jsonl", encoding="utf-8").read()'
		fails embcat -I jsonl u.jsonl
		assert_equal "$stderr" 'embcat: u.jsonl:1: "id" is not valid UTF-8'
	done
	# escapes decode to UTF-8 (a surrogate pair too)
	printf '{"id":"\\u00e9\\ud83d\\ude00\\u4e2d","embedding":[1,2]}\n' > ok.jsonl
	run -0 embcat -O tsv ok.jsonl
	py 'assert sys.argv[1].split("\t")[0] == json.loads(open("ok.jsonl").read())["id"]' "$output"
	py 'print(json.dumps({"id": "k" * 65536, "embedding": [1]}))' > long.jsonl
	fails embcat long.jsonl
	assert_equal "$stderr" "embcat: long.jsonl:1: key longer than 65535 bytes"
	py 'print(json.dumps({"id": "k" * 65535, "embedding": [1]}))' > max.jsonl
	run -0 embinfo max.jsonl
}

@test "JSON Lines writer: keys Python's json reads back, or an error naming the row" {
	printf 'ok\t1\n\377\376\t2\n' > bad.tsv
	run -1 --separate-stderr embcat -O jsonl bad.tsv
	assert_output '{"id":"ok","embedding":[1]}'
	assert_equal "$stderr" "embcat: row 2: key is not valid UTF-8; it cannot be written as jsonl"
	for bytes in '\300\200' '\355\240\200' 'a\303'; do
		printf '%b\t1\n' "$bytes" > bad.tsv
		run ! py 'open("bad.tsv", encoding="utf-8").read()'
		fails embcat -O jsonl bad.tsv
		assert_equal "$stderr" "embcat: row 1: key is not valid UTF-8; it cannot be written as jsonl"
	done
	printf 'q"uo\\te\t1\n\303\251\342\202\254\t2\nctl\001x\t3\n' > good.tsv
	embcat -O jsonl good.tsv > good.jsonl
	py 'rows = [json.loads(l) for l in open("good.jsonl", encoding="utf-8")]
keys = [l.split(b"\t")[0].decode() for l in open("good.tsv", "rb")]
assert [r["id"] for r in rows] == keys, rows'
}

@test "JSON Lines: an OpenAI batch of 100k rows is read in linear time" {
	py 'print(json.dumps({"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [i / 4, 0.5]} for i in range(100000)]}))' > b.jsonl
	timeout 20 embcat -O tsv b.jsonl > b.tsv
	py 'lines = open("b.tsv").read().split("\n")[:-1]
assert lines.pop(0) == "#emb keys"  # the keys (indexes) are numbers
assert len(lines) == 100000
assert all(l == "%d\t%s\t0.5" % (i, np.format_float_positional(np.float32(i / 4), trim="-")) for i, l in enumerate(lines)), lines[:3]'
}

@test "JSON Lines: a line too long for memory is an error, not the end of the file" {
	oracle -c "open('l.jsonl','wb').write(b'{\"embedding\":[1,2]}\n{\"embedding\":[3,4]}\n{\"embedding\":['+b'5,'*150_000_000+b'5]}\n')"
	# AddressSanitizer cannot run under ulimit -v: cap its allocations instead
	# (the same ENOMEM from getline), and drop its warning
	run -1 --separate-stderr bash -c 'if grep -qa __asan_init "$(command -v embinfo)"; then
		export ASAN_OPTIONS=$ASAN_OPTIONS:allocator_may_return_null=1:max_allocation_size_mb=100
	else
		ulimit -v 400000
	fi
	# a pipe, not 2> >(...): bash would not wait for the filter
	{ embinfo l.jsonl 2>&1 >&3 | grep -v "^==" >&2; } 3>&1
	exit "${PIPESTATUS[0]}"'
	assert_output ""
	assert_equal "$stderr" "embinfo: l.jsonl:3: out of memory reading the line"
}

@test "JSON Lines: a line read whole but too large to parse in memory is out of memory, not invalid JSON" {
	# (cJSON reports a failed allocation as a parse error)
	grep -qa __asan_init "$(command -v embinfo)" && skip "AddressSanitizer cannot run under ulimit -v"
	# one number of 120 MB (cJSON copies it), and 20M values (a node each)
	oracle -c "open('n.jsonl','wb').write(b'{\"embedding\":[1,2]}\n{\"embedding\":[3,4]}\n{\"embedding\":['+b'5'*120_000_000+b']}\n')"
	oracle -c "open('v.jsonl','wb').write(b'{\"embedding\":[1,2]}\n{\"embedding\":['+b'5,'*20_000_000+b'5]}\n')"
	run -1 --separate-stderr bash -c 'ulimit -v 200000; embinfo n.jsonl'
	assert_output ""
	assert_equal "$stderr" "embinfo: n.jsonl:3: out of memory parsing the line"
	run -1 --separate-stderr bash -c 'ulimit -v 400000; embinfo v.jsonl'
	assert_equal "$stderr" "embinfo: v.jsonl:2: out of memory parsing the line"
	# with the memory, the same lines are read and checked as usual
	run -1 --separate-stderr embinfo n.jsonl
	assert_equal "$stderr" 'embinfo: n.jsonl:3: "embedding" has 1 values, the first row 2'
}

@test "word2vec and .npy headers: negative sizes are named, and 0 rows means none" {
	printf '2 -3\nthe 0.1 0.2 0.3\n' > a.txt
	for f in w2v w2vbin vec; do
		fails embcat -I $f a.txt
		assert_equal "$stderr" "embcat: a.txt:1: negative dim -3 in header"
	done
	printf -- '-2 3\nthe 0.1 0.2 0.3\n' > b.txt
	fails embcat -I w2v b.txt
	assert_equal "$stderr" "embcat: b.txt:1: negative row count -2 in header"
	for h in '2' '2 3 4' '2 3x' '+2 3' '-0 3' '2 0x3' '99999999999999999999999 3'; do
		printf '%s\nthe 0.1 0.2 0.3\n' "$h" > c.txt
		fails embcat -I w2v c.txt
		assert_equal "$stderr" 'embcat: c.txt:1: not a word2vec header (want "ROWS DIM")'
	done
	printf '  2\t3 \r\nthe 0.1 0.2 0.3\nof 1 2 3\n' > d.txt
	run -0 embcat -I w2v -O tsv d.txt
	assert_output "$(printf 'the\t0.1\t0.2\t0.3\nof\t1\t2\t3')"
	# data after a header of 0 rows is an error, as after N rows
	printf '0 2\nthe 0.1 0.2\n' > z.txt
	fails embcat -O tsv z.txt
	assert_equal "$stderr" "embcat: z.txt:2: the header promises 0 rows, the file holds 1"
	printf '0 2\n\n' > z2.txt
	run -0 embcat -I w2v -O tsv z2.txt
	assert_output ""
	py 'import struct; open("z.bin", "wb").write(b"0 2\nthe " + struct.pack("<2f", 1, 2) + b"\n")'
	fails embcat -I w2vbin z.bin
	assert_equal "$stderr" "embcat: z.bin: byte 4: data after the 0 rows the header promises"
	py 'np.save("z.npy", np.zeros((0, 4), "<f4"))
open("z2.npy", "wb").write(open("z.npy", "rb").read() + np.ones(4, "<f4").tobytes())'
	run -0 embcat -O tsv z.npy
	assert_output ""
	fails embcat z2.npy
	assert_equal "$stderr" "embcat: z2.npy: byte 128: data after the 0 rows the .npy shape promises"
	# npy: the shape's sign, as numpy writes it
	py 'h = open("z.npy", "rb").read()[:128]
for name, shape in (("n1", "(3, -4)"), ("n2", "(-1, 4)"), ("n3", "(-4,)"), ("n4", "(3, - 4)")):
    d = h[10:].replace(b"(0, 4)", shape.encode()).rstrip().ljust(117) + b"\n"
    open(name + ".npy", "wb").write(h[:10] + d + np.zeros(12, "<f4").tobytes())'
	fails embcat n1.npy
	assert_equal "$stderr" "embcat: n1.npy: byte 10: negative dim -4 in .npy shape"
	fails embcat n2.npy
	assert_equal "$stderr" "embcat: n2.npy: byte 10: negative row count -1 in .npy shape"
	fails embcat n3.npy
	assert_equal "$stderr" "embcat: n3.npy: byte 10: negative dim -4 in .npy shape"
	fails embcat n4.npy
	assert_equal "$stderr" "embcat: n4.npy: byte 10: negative dim -4 in .npy shape"
}

@test ".npy headers: exactly the spellings numpy.load accepts are read" {
	# Each header is a spelling of a 2-D, 1-D or 0-D float array (or not
	# a valid one); the payload fits the shape the literal means, so
	# numpy.load accepting it means the file is complete.
	py 'import ast
def write(name, d, payload):
    d = d.encode("latin1")
    d = d + b" " * ((64 - (10 + len(d) + 1) % 64) % 64) + b"\n"
    open(name, "wb").write(b"\x93NUMPY\x01\x00" + len(d).to_bytes(2, "little") + d + payload)
shapes = ["(3, 4)", "( 3 ,4 )", "(3,4,)", "(3 , 4 , )", "(\t3,\n4)", "(03, 4)", "(3, 0_4)",
          "(3_0, 4)", "(+3, 4)", "(- 0, 12)", "(12,)", "(12)", "( 12 , )", "()", "(,)",
          "(3, 4.0)", "(3, 4) ", "[3, 4]", "(3 4)", "(3,,4)", "(0x3, 4)", "(0o3, 0b100)",
          "(0x_3, 4)", "(0X3_, 4)", "(00, 4)", "(1_2,)", "(1__2,)", "(12_,)", "((3, 4))",
          "((3), 4)", "(3, #c\n 4)", "(3, True)", "(3, 4L)", "(3, 4l)", "(3, 4j)", "(3, +(4))",
          "(3, --4)", "(3, 4)x", "(3, \"4\")", "((3, 4),)", "(3, 1e1)", "(0b2, 4)", "(0o8,)",
          "(3, 4, )", "(3,\\\n4)", "(3, 4", "3, 4", "(3, None)"]
fos = ["False", "True", "Truely", "false", "1", "None", "False ", "(False)", "Fals",
       "((True))", "True_", "0", "\"False\""]
# (only the three floats we read: numpy also reads <g and f16, float128)
descrs = ["<f4", ">f4", "=f4", "|f4", "f4", "<f8", ">f8", "<f2", ">f2", "<f4\x27 \x27", "<f4 ", "<i4", "<f",
          "f", "d", "e", ">d", "|e", "=d", "float32", "<float32", "single", "double", "half", "float64",
          "<f3", "F4", "", "<", "<f4\x27 \x27f4"]
dicts = ["{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: %s, }" % s for s in shapes]
dicts += ["{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: %s, \x27shape\x27: (3, 4), }" % f for f in fos]
dicts += ["{\x27descr\x27: \x27%s\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), }" % d for d in descrs]
dicts += ["{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3, 4)}",
          "{\x27shape\x27: (3, 4), \x27fortran_order\x27: False, \x27descr\x27: \x27<f4\x27}",
          "{ \x27descr\x27 : \x27<f4\x27 , \x27fortran_order\x27 : False , \x27shape\x27 : (3, 4) , }",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4),,}",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False}",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), \x27x\x27: 1}",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4)} x",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (9, 9), \x27shape\x27: (3, 4)}",
          "{\x27descr\x27: \x27<f4\x27 \x27fortran_order\x27: False, \x27shape\x27: (3, 4)}",
          "{\x27descr\x27:\x27<f4\x27,\x27fortran_order\x27:False,\x27shape\x27:(3,4)}",
          "{\n \x27descr\x27: \x27<f4\x27,\n \x27fortran_order\x27: False,\n \x27shape\x27: (3, 4),\n}",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), } # comment",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), }}",
          "{(\x27descr\x27): \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), }",
          "{\x27descr\x27: \x27<f4\x27, \x27fortran_order\x27: True, \x27shape\x27: (3, 4), }",
          "{\x27de\x27 \x27scr\x27: \x27<f4\x27, \x27fortran_order\x27: False, \x27shape\x27: (3, 4), }",
          "(\x27descr\x27, \x27<f4\x27)", "{}", "{,}", ""]
out = open("list", "w")
for i, d in enumerate(dicts):
    name = "h%03d.npy" % i
    try:
        lit = ast.literal_eval(d.replace("4L", "4"))
        shape = tuple(int(v) for v in lit["shape"])
        payload = np.arange(int(np.prod(shape)), dtype=np.dtype(lit["descr"])).tobytes()
    except Exception:
        payload = np.arange(12, dtype="<f4").tobytes()
    write(name, d, payload)
    try:
        a = np.load(name)
        assert a.dtype.kind == "f" and a.ndim <= 2
        a = a.reshape(1, -1) if a.ndim < 2 else a
        np.savetxt(name + ".want", a.astype(np.float64), fmt="%.17g", delimiter="\t")
        st = "ok"
    except Exception:
        st = "refused"
    print(name, st, file=out)'
	n=0 ok=0
	while read -r f want; do
		n=$((n + 1))
		if embcat -O tsv --dtype f64 "$f" > "$f.got" 2> "$f.err"; then
			[ "$want" = ok ] || { cat "$f.err"; echo "$f: numpy refuses it, we read it"; return 1; }
			ok=$((ok + 1))
			py 'a = np.loadtxt(sys.argv[1], ndmin=2); b = np.loadtxt(sys.argv[2], ndmin=2)
assert a.shape == b.shape and (a == b).all(), (a, b)' "$f.want" "$f.got"
		else
			[ "$want" = refused ] || { cat "$f.err"; echo "$f: numpy reads it, we refuse it"; return 1; }
			[ "$(wc -l < "$f.err")" -eq 1 ]
		fi
	done < list
	# both kinds are well represented
	[ "$n" -gt 80 ] && [ "$ok" -gt 30 ] && [ $((n - ok)) -gt 30 ]
}

# A writer killed before emb_close() leaves the placeholder header: the
# file must fail in embutils, numpy and gensim alike.
@test "a killed or failed .npy or word2vec writer leaves a file no reader takes for complete" {
	embgen -n 100000 -d 64 --keys --seed 3 > big.emb
	for f in npy w2v w2vbin vec; do
		{ cat big.emb; sleep 3; } | embcat -I emb -O $f > "p.$f" &
		pid=$!
		sleep 1
		kill -TERM "$pid"
		wait "$pid" || true
		[ "$(stat -c %s "p.$f")" -gt 100000 ] # rows were written
		run -1 --separate-stderr embinfo -I $f "p.$f"
		assert_equal "$stderr" "$(case $f in
			npy) echo "embinfo: p.npy: byte 10: incomplete file: its writer stopped before it wrote the row count" ;;
			*) echo "embinfo: p.$f:1: incomplete file: its writer stopped before it wrote the row count" ;;
			esac)"
		run -1 embinfo "p.$f"
	done
	py 'from gensim.models import KeyedVectors as K
import warnings; warnings.simplefilter("ignore")
loaders = {"npy": np.load, "w2v": K.load_word2vec_format, "vec": K.load_word2vec_format,
           "w2vbin": lambda f: K.load_word2vec_format(f, binary=True)}
for f, load in loaders.items():
    try:
        load("p." + f)
    except ValueError:
        continue
    raise SystemExit("%s loaded a partial file" % f)'
	# a full disk (here the file size limit, EFBIG): the writer fails, and
	# what it leaves (a patched count over short data, or the placeholder)
	# is refused by all three
	embgen -n 20000 -d 16 --keys --seed 2 > m.emb
	for f in npy w2v w2vbin vec; do
		run -1 bash -c "trap '' XFSZ; ulimit -f 200; embcat -O $f m.emb 2>/dev/null > full.$f"
		[ "$(stat -c %s "full.$f")" -eq 204800 ]
		run -1 --separate-stderr embinfo -I $f "full.$f"
		# The writer stops at the first failed write, before the count.
		if [ $f = npy ]; then
			assert_equal "$stderr" "embinfo: full.npy: byte 10: incomplete file: its writer stopped before it wrote the row count"
		else
			assert_equal "$stderr" "embinfo: full.$f:1: incomplete file: its writer stopped before it wrote the row count"
		fi
	done
	py 'from gensim.models import KeyedVectors as K
import warnings; warnings.simplefilter("ignore")
loaders = {"npy": np.load, "w2v": K.load_word2vec_format, "vec": K.load_word2vec_format,
           "w2vbin": lambda f: K.load_word2vec_format(f, binary=True)}
for f, load in loaders.items():
    try:
        load("full." + f)
    except (ValueError, EOFError):
        continue
    raise SystemExit("%s loaded a partial file" % f)'
	# completed: the same three read them, with the rows embutils wrote
	embgen -n 500 -d 8 --keys --seed 4 > s.emb
	for f in npy w2v w2vbin vec; do
		embcat -O $f s.emb 2>/dev/null > "c.$f"          # the count patched in
		embcat -O $f s.emb 2>/dev/null | cat > "cp.$f"   # written after the rows
		run -0 embinfo "c.$f"
		run -0 embinfo "cp.$f"
	done
	embcat -O tsv s.emb > s.tsv
	py 'from gensim.models import KeyedVectors as K
ref = np.loadtxt("s.tsv", usecols=range(1, 9), dtype=np.float32)
keys = [l.split("\t")[0] for l in open("s.tsv")]
assert (np.load("c.npy") == ref).all() and (np.load("cp.npy") == ref).all()
for f, b in (("c.w2v", False), ("c.vec", False), ("c.w2vbin", True), ("cp.w2v", False)):
    kv = K.load_word2vec_format(f, binary=b)
    assert list(kv.index_to_key) == keys and (kv.vectors == ref).all(), f'
}

@test "text writers refuse nan and inf naming the row; binary formats carry them" {
	py 'np.save("n.npy", np.array([[1, 2], [3, np.nan], [-np.inf, 1], [np.inf, 0]], "<f4"))'
	for f in w2v vec glove jsonl; do
		run -1 --separate-stderr embcat -O $f n.npy
		assert_equal "$(echo "$output" | wc -l)" 1 # row 1
		assert_equal "$stderr" "embcat: row 2: value 2 is nan, which $f cannot hold"
	done
	py 'np.save("i.npy", np.array([[-np.inf, 2], [np.inf, 1]], "<f8"))'
	fails embcat -O w2v i.npy
	assert_equal "$stderr" "embcat: row 1: value 1 is -inf, which w2v cannot hold"
	for f in w2vbin npy fvecs emb; do
		embcat -O $f n.npy 2>/dev/null | embcat -I $f -O npy > "back.$f.npy"
		py 'a = np.load("n.npy"); b = np.load(sys.argv[1])
assert a.shape == b.shape and np.array_equal(a, b, equal_nan=True)' "back.$f.npy"
	done
}

@test "word2vec: a NUL in a binary key is refused; text keys may hold spaces" {
	py 'import struct; open("nul.bin", "wb").write(b"2 2\nok " + struct.pack("<2f", 1, 2) + b"\nt\0he " + struct.pack("<2f", 3, 4) + b"\n")'
	fails embcat -I w2vbin nul.bin
	assert_equal "$stderr" "embcat: nul.bin: byte 17: NUL byte in the key of row 2"
	# text word2vec: the key is all but the last D fields
	printf '3 2\nnew york 0.1 0.2\n1.5 3 4\n  a  b  c  5 6 \n' > sp.txt
	run -0 embcat -I w2v -O tsv sp.txt
	assert_output "$(printf 'new york\t0.1\t0.2\n1.5\t3\t4\na  b  c\t5\t6')"
	printf '1 2\nnew york 0.1\n' > short.txt
	fails embcat -I w2v short.txt
	assert_equal "$stderr" "embcat: short.txt:2: 'york' is not a number"
}
