#!/usr/bin/env bats
# The vector stream format (emb.5): round trips, the independent Python
# implementation in tests/oracle.py, and damage detection.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE...: run python with the oracle module imported as o, numpy as np.
py() {
	oracle -c "import sys, numpy as np, oracle as o
$1" "${@:2}"
}

@test "TSV -> binary -> TSV is byte-identical on f32 data" {
	gen_tsv 300 17 1 keys > a.tsv
	embcat -O emb a.tsv > a.emb
	embcat -O tsv a.emb > b.tsv
	cmp a.tsv b.tsv
}

@test "binary values equal numpy's parse of the text (independent reader)" {
	gen_tsv 50 9 2 > a.tsv
	embcat -O emb a.tsv > a.emb
	py 'x, k, h = o.read(open("a.emb","rb").read())
ref = np.loadtxt("a.tsv", dtype=np.float32, ndmin=2)
assert x.dtype == np.float32 and (x == ref).all(), "values differ"
assert h[0]["dim"] == 9 and h[0]["keys"] is False and k == []'
}

@test "streams written by the Python oracle are read exactly (f32, f64, f16)" {
	py 'rng = np.random.default_rng(3); x = rng.standard_normal((40, 5))
for t in ("f32", "f64", "f16"):
    open("x_%s.emb" % t, "wb").write(o.write(x, t, ["k%d" % i for i in range(40)], chunk_rows=7))'
	for t in f32 f64 f16; do
		embcat --dtype f64 -O emb "x_$t.emb" > "y_$t.emb"
	done
	py 'for t in ("f32", "f64", "f16"):
    a, ka, _ = o.read(open("x_%s.emb" % t, "rb").read())
    b, kb, _ = o.read(open("y_%s.emb" % t, "rb").read())
    assert (a.astype(np.float64) == b).all() and ka == kb, t'
}

@test "f64 round-trips exactly through TSV" {
	py 'x = np.random.default_rng(4).standard_normal((30, 6)) * 10.0 ** np.arange(-3, 3)
open("x.emb", "wb").write(o.write(x, "f64"))'
	embcat -O tsv x.emb | embcat -O emb --dtype f64 > y.emb
	py 'a = o.read(open("x.emb","rb").read())[0]; b = o.read(open("y.emb","rb").read())[0]
assert b.dtype == np.float64 and (a == b).all()'
}

@test "f16 output equals numpy float16 rounding" {
	gen_tsv 20 8 5 > a.tsv
	embcat -O emb --dtype f16 a.tsv > h.emb
	py 'x = o.read(open("h.emb","rb").read())[0]
ref = np.loadtxt("a.tsv", dtype=np.float32, ndmin=2).astype(np.float16)
assert x.dtype == np.float16 and (x == ref).all()'
}

@test "keys with UTF-8 and spaces survive the binary format" {
	printf 'na\303\257ve caf\303\251\t1\t2\nNew York\t3\t4.5\n\344\270\255\346\226\207\t-1\t0\n' > k.tsv
	embcat -O emb k.tsv > k.emb
	run embcat -O tsv k.emb
	assert_success
	assert_output "$(cat k.tsv)"
	py 'k = o.read(open("k.emb","rb").read())[1]
assert k == ["na\u00efve caf\u00e9", "New York", "\u4e2d\u6587"], k'
}

@test "keys that look numeric need --keys" {
	printf '1.5\t1\t2\n-\t3\t4\n' > n.tsv
	run -1 --separate-stderr embcat -O emb n.tsv
	assert_equal "$stderr" "embcat: n.tsv:2: '-' is not a number"
	run embcat --keys n.tsv
	assert_success
	# output whose first key looks like a number is marked keyed
	assert_output "$(printf '#emb keys\n'; cat n.tsv)"
	run embcat -O tsv <(embcat --keys -O tsv n.tsv)
	assert_output "$(printf '#emb keys\n'; cat n.tsv)"
}

@test "comments, blank lines, CRLF and trailing blanks are accepted" {
	printf '# a comment\r\nw1 1 2 \r\n\r\nw2 3 4\r\n\n' > c.tsv
	run embcat c.tsv
	assert_success
	assert_output "$(printf 'w1\t1\t2\nw2\t3\t4')"
}

@test "empty input is a valid stream of 0 rows" {
	run embcat < /dev/null
	assert_success
	assert_output ""
	embcat -O emb < /dev/null > e.emb
	py 'x, k, h = o.read(open("e.emb","rb").read()); assert x.shape[0] == 0 and h[0]["dim"] == 0'
	run embcat -O tsv e.emb
	assert_success
	assert_output ""
}

@test "1-dim and 65536-dim rows round-trip" {
	printf '0.5\n-2\n3e-07\n' > one.tsv
	run embcat -O tsv <(embcat -O emb one.tsv)
	assert_output "$(cat one.tsv)"
	py 'x = np.random.default_rng(6).standard_normal((3, 65536)).astype(np.float32)
np.savetxt("w.tsv", x, fmt="%.9g", delimiter="\t")'
	embcat -O emb w.tsv > w.emb
	py 'x = o.read(open("w.emb","rb").read())[0]
assert x.shape == (3, 65536) and (x == np.loadtxt("w.tsv", dtype=np.float32)).all()'
}

@test "concatenated streams are one stream; headers must agree" {
	gen_tsv 10 4 7 keys | embcat -O emb > a.emb
	gen_tsv 5 4 8 keys | embcat -O emb > b.emb
	cat a.emb b.emb > ab.emb
	run embcat -O tsv ab.emb
	assert_success
	assert_equal "${#lines[@]}" 15
	gen_tsv 5 3 9 keys | embcat -O emb > c.emb
	cat a.emb c.emb > ac.emb
	off=$(stat -c %s a.emb)
	run -1 --separate-stderr embcat -O tsv ac.emb
	assert_equal "${#lines[@]}" 10
	assert_equal "$stderr" "embcat: ac.emb: byte $off: concatenated stream has dim 3, not 4"
	run -1 --separate-stderr embcat a.emb c.emb
	assert_equal "$stderr" "embcat: c.emb: dim 3 differs from the first input's 4"
}

@test "a stream cut at any byte is an error, never a shorter stream" {
	py 'open("s.emb","wb").write(o.write(np.arange(12.0).reshape(6, 2), keys=list("abcdef"), chunk_rows=4))'
	size=$(stat -c %s s.emb)
	for ((n = 1; n < size; n++)); do
		head -c $n s.emb > cut.emb
		run --separate-stderr embinfo cut.emb
		if [ "$status" -ne 1 ] || [ -n "$output" ] || [[ "$stderr" != "embinfo: cut.emb: byte "*": "* ]] ||
			[ "$(printf '%s\n' "$stderr" | wc -l)" -ne 1 ]; then
			echo "cut at $n: status $status, stdout '$output', stderr '$stderr'"
			return 1
		fi
	done
}

@test "truncation messages name the offset" {
	py 'open("s.emb","wb").write(o.write(np.arange(6.0).reshape(3, 2)))'
	size=$(stat -c %s s.emb)
	head -c $((size - 24)) s.emb > noend.emb
	run -1 --separate-stderr embcat noend.emb
	assert_equal "$stderr" "embcat: noend.emb: byte $((size - 24)): truncated stream: end record missing"
	head -c $((size - 30)) s.emb > mid.emb
	run -1 --separate-stderr embcat mid.emb
	assert_equal "$stderr" "embcat: mid.emb: byte $((size - 30)): truncated stream: chunk values cut short (18 of 24 bytes)"
	head -c 10 s.emb > hdr.emb
	run -1 --separate-stderr embcat hdr.emb
	assert_equal "$stderr" "embcat: hdr.emb: byte 10: truncated stream: header cut short (2 of 12 bytes)"
}

@test "a flipped byte in a chunk is detected by its checksum" {
	py 'd = bytearray(o.write(np.arange(8.0).reshape(4, 2))); h = len(o.header(2))
d[h + 24 + 5] ^= 0x10; open("f.emb","wb").write(d); print(h)' > hlen
	run -1 --separate-stderr embcat f.emb
	assert_output ""
	assert_equal "$stderr" "embcat: f.emb: byte $(cat hlen): chunk checksum mismatch (corrupt data)"
}

@test "absurd sizes in a header are refused before allocating" {
	py 'open("d.emb","wb").write(o.header(2**62) + o.end(0))'
	run -1 --separate-stderr embcat d.emb
	assert_equal "$stderr" "embcat: d.emb: byte 20: header claims dim 4611686018427387904 (limit 16777216)"
	py 'import struct; h = o.header(4); open("r.emb","wb").write(h + b"CHNK" + struct.pack("<IQQ", 0, 2**62, 0) + o.end(0)); print(len(h))' > hlen
	run -1 --separate-stderr embcat r.emb
	assert_equal "$stderr" "embcat: r.emb: byte $(($(cat hlen) + 8)): chunk claims 4611686018427387904 rows (limit 67108864 at dim 4)"
	py 'import struct; open("j.emb","wb").write(o.MAGIC + struct.pack("<III", 1, 2**32 - 1, 0))'
	run -1 --separate-stderr embcat j.emb
	assert_equal "$stderr" "embcat: j.emb: byte 12: header claims 4294967295 JSON bytes (limit 16777216)"
	py 'import struct; h = o.header(4, keys=True); open("k.emb","wb").write(h + b"CHNK" + struct.pack("<IQQ", 0, 1, 2**62) + o.end(0)); print(len(h))' > hlen
	run -1 --separate-stderr embcat k.emb
	assert_equal "$stderr" "embcat: k.emb: byte $(($(cat hlen) + 16)): chunk claims a key block of 4611686018427387904 bytes"
}

@test "bad magic, version and tags are named" {
	printf '\211EMX\r\n\032\n' > m.emb
	run -1 --separate-stderr embcat m.emb
	assert_equal "$stderr" "embcat: m.emb: byte 0: not an emb stream (bad magic)"
	py 'import struct; d = bytearray(o.write(np.ones((1, 2)))); d[8] = 9; open("v.emb","wb").write(d)'
	run -1 --separate-stderr embcat v.emb
	assert_equal "$stderr" "embcat: v.emb: byte 8: unsupported format version 9 (this is 1)"
	py 'd = bytearray(o.write(np.ones((1, 2)))); h = len(o.header(2)); d[h:h+4] = b"XXXX"; open("t.emb","wb").write(d); print(h)' > hlen
	run -1 --separate-stderr embcat t.emb
	assert_equal "$stderr" "embcat: t.emb: byte $(cat hlen): bad record tag (not a chunk or end record)"
}

@test "TSV errors name file and line" {
	printf 'a\t1\t2\t3\nb\t4\t5\t6\nc\t7\t8\n' > r.tsv
	run -1 --separate-stderr embcat r.tsv
	assert_output ""
	assert_equal "$stderr" "embcat: r.tsv:3: expected 3 values, found 2"
	# ragged after a first row of two whole numbers (one row of 3 after
	# "1 2" would be word2vec text: emb(5))
	printf '1 2\n3 4 5\n6 7 8\n' > r2.tsv
	run -1 --separate-stderr embcat r2.tsv
	assert_equal "$stderr" "embcat: r2.tsv:2: expected 2 values, found 3"
	printf 'a 1 2\nb nan 2\n' > nan.tsv
	run -1 --separate-stderr embcat nan.tsv
	assert_equal "$stderr" "embcat: nan.tsv:2: 'nan' is not a finite number"
	printf 'a 1 inf\n' > inf.tsv
	run -1 --separate-stderr embcat < inf.tsv
	assert_equal "$stderr" "embcat: -:1: 'inf' is not a finite number"
	printf 'a 1 2\nb 1 2x\n' > x.tsv
	run -1 --separate-stderr embcat x.tsv
	assert_equal "$stderr" "embcat: x.tsv:2: '2x' is not a number"
	printf 'lonely\n' > k.tsv
	run -1 --separate-stderr embcat k.tsv
	assert_equal "$stderr" "embcat: k.tsv:1: no values after the key"
}

@test "history records each command that wrote a binary stream" {
	gen_tsv 3 2 1 | embcat -O emb | embcat --dtype f64 > h.emb
	run embinfo h.emb
	assert_success
	assert_line --partial '"history":	["embcat -O emb", "embcat --dtype f64"]'
}

@test "shards split at chunk boundaries hold every row once" {
	py 'open("big.emb","wb").write(o.write(np.arange(100.0).reshape(50, 2), keys=["r%d" % i for i in range(50)], chunk_rows=6))'
	for k in 0 1 2; do embcat --shard=$k/3 -O tsv big.emb; done | sort > shards
	embcat -O tsv big.emb | sort > whole
	cmp shards whole
	run -2 --separate-stderr embcat --shard=3/3 big.emb
	assert_equal "$stderr" "embcat: --shard wants K/N with 0 <= K < N <= 1000000, not '3/3'
Try 'embcat --help' for more information."
}

# Regular files are read through a private mapping (values used in place
# when aligned and already in memory form); pipes through read(2).  Every
# path must give the same rows and the same errors.

@test "mapped (aligned, embcat) and copied (unaligned, oracle) files and pipes read the same values" {
	py 'import json
x = np.random.default_rng(7).standard_normal((300, 5))
for t in ("f32", "f64", "f16"):
    # pad the header so the first record starts at an odd offset: no value
    # is aligned, so the reader must copy
    pad = ""
    while (len(o.header(5, t, True, {"pad": pad})) % 8) % 2 == 0:
        pad += "x"
    d = o.write(x, t, ["k%d" % i for i in range(300)], chunk_rows=37)
    d = o.header(5, t, True, {"pad": pad}) + d[len(o.header(5, t, True)):]
    open("u_%s.emb" % t, "wb").write(d)'
	for t in f32 f64 f16; do
		embcat -O emb "u_$t.emb" > "a_$t.emb"
		# embcat pads its header: the first record starts at a multiple of 8
		py 'd = open(sys.argv[1], "rb").read(); n = int.from_bytes(d[12:16], "little")
assert (20 + n) % 8 == 0, n
assert d[20:20 + n].decode().endswith(" ") or (20 + len(d[20:20 + n].rstrip())) % 8 == 0' "a_$t.emb"
		embcat -O tsv "u_$t.emb" > "u_$t.tsv"
		embcat -O tsv "a_$t.emb" > "a_$t.tsv"
		cat "a_$t.emb" | embcat -O tsv > "p_$t.tsv"
		cmp "u_$t.tsv" "a_$t.tsv"
		cmp "u_$t.tsv" "p_$t.tsv"
		# and f32 files read as f64 (converted from the mapping)
		embcat --dtype f64 -O tsv "a_$t.emb" > "a64_$t.tsv"
		cat "a_$t.emb" | embcat --dtype f64 -O tsv > "p64_$t.tsv"
		cmp "a64_$t.tsv" "p64_$t.tsv"
	done
	py 'for t in ("f32", "f64", "f16"):
    a, ka, h = o.read(open("a_%s.emb" % t, "rb").read())
    u, ku, _ = o.read(open("u_%s.emb" % t, "rb").read())
    assert (a == u).all() and ka == ku and h[0]["dtype"] == t, t
    ref = np.loadtxt("a64_%s.tsv" % t, usecols=range(1, 6))
    assert (ref == a.astype(np.float64)).all(), t'
	# concatenated in one file: the second stream's records are unaligned
	cat a_f64.emb u_f64.emb a_f64.emb > cat.emb
	run embinfo cat.emb
	assert_success
	assert_line --partial '"rows":	900'
	cmp <(embcat -O tsv cat.emb) <(cat a_f64.tsv u_f64.tsv a_f64.tsv)
}

@test "a program changing values in place leaves its mapped input file unchanged" {
	gen_tsv 200 8 4 keys | embcat -O emb > a.emb
	gen_tsv 200 8 4 | embcat -O npy > a.npy
	embcat --dtype f64 a.emb > d.emb
	cp a.emb a.orig; cp a.npy n.orig; cp d.emb d.orig
	for f in a.emb a.npy d.emb; do
		embcenter "$f" > "c_$f"
		cat "$f" | embcenter > "p_$f"
		embcenter --normalize "$f" > /dev/null
		embwhiten "$f" > /dev/null
		cmp <(embcat -O tsv "c_$f") <(embcat -O tsv "p_$f")
	done
	cmp a.emb a.orig
	cmp a.npy n.orig
	cmp d.emb d.orig
	# past the first 8 MB the reader gives back the pages of rows it has
	# handed out: rows still read right, changed or not
	embgen -n 3000 -d 1024 --seed 5 > big.emb
	embcat -O npy big.emb > big.npy
	cp big.emb big.orig
	for f in big.emb big.npy; do
		cmp <(embcenter "$f" | embcat -O tsv) <(cat "$f" | embcenter | embcat -O tsv)
		cmp <(embcat -O tsv "$f") <(cat "$f" | embcat -O tsv)
	done
	cmp big.emb big.orig
	# the centred rows really are centred: the values were changed
	py 'x, _, _ = o.read(open("c_a.emb", "rb").read())
assert np.abs(x.mean(0)).max() < 1e-5, x.mean(0)
y, _, _ = o.read(open("a.emb", "rb").read())
assert np.abs(y.mean(0)).max() > 1e-3'
}

@test "an aligned stream cut at any byte fails as it does from a pipe" {
	py 'open("s.emb","wb").write(o.write(np.arange(18.0).reshape(6, 3), "f64", keys=list("abcdef"), chunk_rows=4))'
	embcat -O emb s.emb > a.emb
	size=$(stat -c %s a.emb)
	for ((n = 1; n < size; n++)); do
		head -c $n a.emb > cut.emb
		run --separate-stderr embinfo cut.emb
		file="$status $output $stderr"
		run --separate-stderr embinfo - < <(cat cut.emb)
		if [ "$file" != "$status $output ${stderr/embinfo: -: /embinfo: cut.emb: }" ] ||
			[[ "$file" != "1  embinfo: cut.emb: byte "* ]]; then
			echo "cut at $n: file '$file', pipe '$status $output $stderr'"
			return 1
		fi
	done
}

@test "'#' lines are comments only when they are not shaped like a row" {
	# GloVe has the word '#': every line of key + dim numbers is a row
	printf 'the 0.1 0.2\n# 0.3 0.4\n#tag 0.5 0.6\n' > g.txt
	run --separate-stderr embcat -O tsv g.txt
	assert_success
	assert_equal "$stderr" ""
	assert_output "$(printf 'the\t0.1\t0.2\n#\t0.3\t0.4\n#tag\t0.5\t0.6')"
	# before the first other line too, in order; comments around them skipped
	printf '# written by hand\n#x 1 2\n# 3 4\nthe 5 6\n# the end, 7 8\n#y\t9 10\n' > h.txt
	run embcat -O tsv h.txt
	assert_output "$(printf '#emb keys\n#x\t1\t2\n#\t3\t4\nthe\t5\t6\n#y\t9\t10')"
	# a TAB-separated file: the key ends at the TAB, so '# 1 2' is a comment
	printf '# 1 2\n#\t3\t4\nw\t5\t6\n' > t.tsv
	run embcat t.tsv
	assert_output "$(printf '#emb keys\n#\t3\t4\nw\t5\t6')"
	# a '#' row with a bad value is a bad row, not a comment
	printf 'a 1 2\n#b nan 2\n' > n.txt
	run -1 --separate-stderr embcat n.txt
	assert_equal "$stderr" "embcat: n.txt:2: 'nan' is not a finite number"
	# keyless: a row never starts with '#'
	printf '# 1 2\n3 4\n#5 6\n' > k.tsv
	run embcat k.tsv
	assert_output "$(printf '3\t4')"
	# the values are the ones numpy reads from the same lines
	embcat -O emb h.txt > h.emb
	py 'x, k, _ = o.read(open("h.emb", "rb").read())
assert k == ["#x", "#", "the", "#y"], k
assert (x == np.array([[1, 2], [3, 4], [5, 6], [9, 10]], np.float32)).all()'
}

@test "errors after comments and blank lines name the real line" {
	printf '# comment\n\na\t1\t2\n\n# 2\nb\t3\tx\n' > c.tsv
	run -1 --separate-stderr embcat c.tsv
	assert_equal "$stderr" "embcat: c.tsv:6: 'x' is not a number"
	printf '#c 1\n#d 2 3\nw 4 5\n#e 6 x\n' > d.txt
	run --separate-stderr embcat -O tsv d.txt
	assert_output "$(printf '#emb keys\n#d\t2\t3\nw\t4\t5')"
	assert_equal "$stderr" ""
	printf '#c 1 2\nw 4 5\nv 6\n' > e.txt
	run -1 --separate-stderr embcat e.txt
	assert_equal "$stderr" "embcat: e.txt:3: expected 2 values, found 1"
	printf '#c 1 2 x\nw 4 5\n#d 6 7 8\nv 9 y\n' > f.txt
	run -1 --separate-stderr embcat f.txt
	assert_equal "$stderr" "embcat: f.txt:4: 'y' is not a number"
}

@test "keyed TSV reads back keyed: numeric first keys are marked '#emb keys'" {
	sh "$EMB_SRCDIR/tests/make-samples.sh" .
	# embpool keys rows by line number
	embpool -q -v vectors.emb -O tsv texts.txt > p.tsv
	embpool -q -v vectors.emb texts.txt > p.emb
	assert_equal "$(head -n 1 p.tsv)" "#emb keys"
	run embinfo p.tsv
	assert_output --partial '"dim":	8'
	assert_output --partial '"keys":	true'
	same p.tsv p.emb
	# the same pair scores the same through TSV and the binary stream
	printf '1\t2\n3\t4\n' > pp.tsv
	assert_equal "$(embcos --pairs pp.tsv p.tsv)" "$(embcos --pairs pp.tsv p.emb)"
	# numpy and pandas-style readers skip the mark as a comment
	oracle -c 'import numpy as np
a = np.loadtxt("p.tsv", delimiter="\t", ndmin=2)
b = np.loadtxt("p.tsv", delimiter="\t", ndmin=2, usecols=range(1, 9))
assert a.shape == (20, 9) and (a[:, 0] == np.arange(1, 21)).all(), a.shape
assert (a[:, 1:] == b).all()'
	# embgen without a prefix, numeric JSON ids, nan/inf words, '#' keys
	embgen -n 5 -d 3 --keys --prefix '' -O tsv > g.tsv
	run embcat g.tsv
	assert_output "$(cat g.tsv)"
	assert_equal "$(embinfo g.tsv | grep -c '"dim":	3')" 1
	printf '{"id":7,"embedding":[1,2]}\n{"id":8,"embedding":[3,4]}\n' > j.jsonl
	embcat -O tsv j.jsonl > j.tsv
	run embcat -O jsonl j.tsv
	assert_output "$(printf '{"id":"7","embedding":[1,2]}\n{"id":"8","embedding":[3,4]}')"
	for k in nan inf -Infinity 1e5 '#' '#tag'; do
		printf '%s\t1\t2\nw\t3\t4\n' "$k" | embcat --keys -O tsv > m.tsv
		assert_equal "$(head -n 1 m.tsv)" "#emb keys"
		run embcat -O tsv m.tsv
		assert_output "$(printf '#emb keys\n%s\t1\t2\nw\t3\t4' "$k")"
	done
	# every key starts with '#'
	printf '#a\t1\t2\n#b\t3\t4\n' | embcat --keys -O tsv > h.tsv
	run embcat h.tsv
	assert_output "$(cat h.tsv)"
	# words need no mark: the output is unchanged
	printf 'w\t1\t2\n' > w.tsv
	run embcat w.tsv
	assert_output "$(cat w.tsv)"
	# --no-keys and --keys still decide
	run embcat --no-keys -O tsv g.tsv
	assert_output "$(tail -n +2 g.tsv)"
	printf '#emb keys\n1 2 3\n' > m2.tsv
	run embcat --no-keys m2.tsv
	assert_output "$(printf '1\t2\t3')"
}

@test "the TSV writer refuses nan and inf, naming the row and value" {
	oracle -c 'import numpy as np
np.save("n.npy", np.array([[1, 2], [3, np.nan]], np.float32))
np.save("i.npy", np.array([[1, -np.inf]], np.float32))
np.save("big.npy", np.array([[1e300, 1]], np.float64))'
	run -1 --separate-stderr embcat -O tsv n.npy
	assert_equal "$stderr" "embcat: row 2: value 2 is nan, which TSV cannot hold"
	run -1 --separate-stderr embcat -O tsv i.npy
	assert_equal "$stderr" "embcat: row 1: value 2 is -inf, which TSV cannot hold"
	# an f64 beyond the f32 range would print as inf
	run -1 --separate-stderr embcat -O tsv --dtype f32 big.npy
	assert_equal "$stderr" "embcat: row 1: value 1 is inf, which TSV cannot hold"
	run embcat -O tsv --dtype f64 big.npy
	assert_output "$(printf '1e+300\t1')"
	# the binary format carries them
	embcat -O emb n.npy > n.emb
	py 'x = o.read(open("n.emb", "rb").read())[0]
assert np.isnan(x[1, 1]) and x[0, 1] == 2'
}

@test "numbers are decimal only: hexadecimal floats are not numbers" {
	for v in 0x1p3 0X10 -0x1 +0x.8p1 0x1.8; do
		printf 'a\t%s\t2\n' "$v" > x.tsv
		run -1 --separate-stderr embcat x.tsv
		assert_equal "$stderr" "embcat: x.tsv:1: '$v' is not a number"
	done
	printf 'a\t1e3\t.5\nb\t-2.5E-1\t+7\n' > d.tsv
	run embcat d.tsv
	assert_output "$(printf 'a\t1000\t0.5\nb\t-0.25\t7')"
}

@test "a last line without a newline is read, with a warning" {
	printf 'a\t1\t2\nb\t3\t4' > cut.tsv
	run --separate-stderr embcat cut.tsv
	assert_success
	assert_output "$(printf 'a\t1\t2\nb\t3\t4')"
	assert_equal "$stderr" "embcat: cut.tsv:2: last line has no newline (file cut short?)"
	printf '1 2\n# no newline' > c2.tsv
	run --separate-stderr embcat c2.tsv
	assert_success
	assert_equal "$stderr" "embcat: c2.tsv:2: last line has no newline (file cut short?)"
	printf '2 2\nthe 1 2\nof 3 4' > w.txt
	run --separate-stderr embcat -O tsv w.txt
	assert_success
	assert_equal "$stderr" "embcat: w.txt:3: last line has no newline (file cut short?)"
	run --separate-stderr embcat -I glove -O tsv < <(printf 'the 1 2')
	assert_success
	assert_equal "$stderr" "embcat: -:1: last line has no newline (file cut short?)"
	printf 'a\t1\t2\n' > ok.tsv
	run --separate-stderr embcat ok.tsv
	assert_equal "$stderr" ""
}

@test "a line too long for memory is an error, never the end of the file" {
	export OPENBLAS_NUM_THREADS=1
	printf 'a\t1\t2\n' > s.tsv
	# a sanitizer build cannot run under ulimit -v
	(ulimit -v 60000 && embinfo s.tsv > /dev/null) || skip "programs do not run under ulimit -v 60000"
	oracle -c 'open("l.tsv", "wb").write(b"a\t1\t2\nb\t3\t4\nc\t" + b"5 " * 15000000 + b"\n")'
	run -1 --separate-stderr bash -c 'ulimit -v 60000; embinfo l.tsv'
	assert_output ""
	assert_equal "$stderr" "embinfo: l.tsv:3: out of memory"
}

@test "a NUL byte in a text line is an error" {
	printf 'a\t1\t2\nb\t3\t4\0junk\n' > z.tsv
	run -1 --separate-stderr embcat -I tsv z.tsv
	assert_equal "$stderr" "embcat: z.tsv:2: line holds a NUL byte (binary data?)"
}
