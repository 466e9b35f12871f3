#!/usr/bin/env bats
# embcos: every mode and similarity function against numpy/scipy float64
# (tests/embcos_check.py), plus the error messages.
load test_helper

setup_file() {
	export D="$BATS_FILE_TMPDIR"
	cd "$D"
	# dim 37: not a multiple of any SIMD width, so the tail loops run too
	gen_tsv 60 37 1 keys > A.tsv
	gen_tsv 60 37 2 keys | sed 's/^w/v/' > B.tsv
	gen_tsv 300 37 3 keys | sed 's/^w/d/' > db.tsv
	gen_tsv 12 37 4 keys | sed 's/^w/q/' > q.tsv
	gen_tsv 20 768 5 keys > big1.tsv
	gen_tsv 20 768 6 keys > big2.tsv
	embcat -O emb A.tsv > A.emb
	# a database in many small chunks, so --topk really streams it
	oracle -c '
import sys, numpy as np, oracle
rows = [l.split("\t") for l in open("db.tsv").read().splitlines()]
x = np.array([[float(v) for v in r[1:]] for r in rows], np.float32)
sys.stdout.buffer.write(oracle.write(x, keys=[r[0] for r in rows], chunk_rows=17))
' > db.emb
	gen_tsv 8 6 9 keys > small.tsv
	printf 'w1\tw2\t3.5\tx\nw0\tw9\t1\tnope\nw3\tw3\t10\ty\nw4\tw5\t2\tz\n' > pairs.tsv
}

check() {
	oracle "$EMB_SRCDIR/tests/embcos_check.py" "$@"
}

@test "paired: every similarity function agrees with numpy to 1e-6" {
	cd "$D"
	for f in cos dot euclidean manhattan; do
		embcos --$f A.tsv B.tsv > out
		run check paired A.tsv B.tsv out $f 1e-6
		assert_success
	done
}

@test "paired: every SIMD kernel set gives the float64 value at dim 768" {
	# f32 accumulation would be off by about 1e-7; scores print with 9 digits
	cd "$D"
	for k in generic sse2 avx2 avx512; do
		EMB_SIMD=$k embcos big1.tsv big2.tsv > out
		run check paired big1.tsv big2.tsv out cos 1e-9
		assert_success
		EMB_SIMD=$k embcos --euclidean big1.tsv big2.tsv > out
		run check paired big1.tsv big2.tsv out euclidean 1e-6
		assert_success
		EMB_SIMD=$k embcos --manhattan big1.tsv big2.tsv > out
		run check paired big1.tsv big2.tsv out manhattan 1e-6
		assert_success
	done
}

@test "paired: binary and TSV input give the same output" {
	cd "$D"
	run embcos A.tsv B.tsv
	tsv=$output
	run embcos A.emb B.tsv
	assert_equal "$output" "$tsv"
}

@test "paired: B from standard input; keyless rows are numbered" {
	cd "$D"
	run embcos A.tsv - < B.tsv
	assert_equal "$(echo "$output" | head -n 1 | cut -f1,2)" "w0	v0"
	cut -f2- A.tsv > nokeys.tsv
	run embcos --no-keys nokeys.tsv nokeys.tsv
	assert_equal "$(echo "$output" | sed -n 3p)" "3	3	1"
}

@test "paired: one standard input is paired with itself (--dot = squared norm)" {
	cd "$D"
	embcos --dot < small.tsv > out
	run oracle -c '
import numpy as np, sys
x = np.array([[float(v) for v in l.split("\t")[1:]] for l in open("small.tsv")], np.float32).astype(float)
got = np.array([float(l.split("\t")[2]) for l in open("out")])
sys.exit(0 if np.allclose(got, (x * x).sum(1), rtol=1e-8, atol=0) else 1)'
	assert_success
	run embcos < /dev/null
	assert_success
	assert_output ""
}

@test "paired: scores print exactly as printf %.9g, ties and all magnitudes" {
	# --dot of a 1-dim row x with 1 is x itself, so the text must be
	# Python's correctly rounded '%.9g' of x (half to even on exact ties:
	# 3*2^-13 = 0.0003662109375 has ten digits)
	cd "$D"
	oracle -c '
import numpy as np
r = np.random.default_rng(7)
x = np.concatenate([r.uniform(-1, 1, 3000), r.standard_normal(2000) * 10.0 ** r.integers(-7, 12, 2000),
                    np.ldexp(r.integers(1, 2**24, 2000), r.integers(-40, 10, 2000)),
                    [0.0001220703125, 0.0003662109375, 2**-13 * 5, 1e-4, 9.99999995e-5, 1e-5, 0.5, 1, 0,
                     99999999.5, 999999999, 123456789, 1e9, 2**24, 2**-30, 3.4e38, 1e-45]]).astype(np.float32)
x = np.concatenate([x, -x])
open("x1.tsv", "w").write("".join(np.format_float_positional(v, unique=True, trim="-") + "\n" for v in x))
open("one1.tsv", "w").write("1\n" * len(x))
open("x1.want", "w").write("".join("%d\t%d\t%s\n" % (i + 1, i + 1, "%.9g" % (0.0 + float(v))) for i, v in enumerate(x)))
'
	embcos --dot x1.tsv one1.tsv > x1.out
	run diff x1.want x1.out
	assert_success
}

@test "paired: chunk checksums hold for large chunks in every piece size" {
	# the reader checksums 256 KiB pieces with a three-way crc32c: chunks
	# written by the Python oracle (its own CRC-32C) must read back whole,
	# ours must pass its check, and damage deep in a chunk is caught
	cd "$D"
	oracle -c '
import numpy as np, oracle
x = np.random.default_rng(3).standard_normal((3001, 37)).astype(np.float32)
keys = ["k%d" % i for i in range(len(x))]
open("big.emb", "wb").write(oracle.write(x, keys=keys, chunk_rows=3001) + oracle.write(x[:777], keys=keys[:777], chunk_rows=259))
d = bytearray(oracle.write(x, chunk_rows=3001)); d[len(d) - 24 - 1000] ^= 4
open("flip.emb", "wb").write(d)
open("cut.emb", "wb").write(oracle.write(x, chunk_rows=3001)[:300000])
np.savetxt("big.want", np.concatenate([x, x[:777]]), fmt="%.9g", delimiter="\t")
'
	embcat -O tsv big.emb | cut -f2- > big.tsv
	run oracle -c '
import numpy as np
a, b = np.loadtxt("big.tsv", ndmin=2), np.loadtxt("big.want", ndmin=2)
assert a.shape == b.shape == (3778, 37) and np.array_equal(a.astype(np.float32), b.astype(np.float32))
'
	assert_success
	embcat big.emb > copy.emb
	run oracle -c '
import oracle
x, k, h = oracle.read(open("copy.emb", "rb").read())
assert x.shape == (3778, 37) and k[3000] == "k3000"
'
	assert_success
	run -1 --separate-stderr embcos flip.emb flip.emb
	assert_output ""
	assert_equal "$stderr" "embcos: flip.emb: byte $(oracle -c 'import oracle; print(len(oracle.header(37)))'): chunk checksum mismatch (corrupt data)"
	run -1 --separate-stderr embcat cut.emb
	hl=$(oracle -c 'import oracle; print(len(oracle.header(37)))')
	assert_equal "$stderr" "embcat: cut.emb: byte 300000: truncated stream: chunk values cut short ($((300000 - hl - 24)) of $((3001 * 37 * 4)) bytes)"
}

@test "paired: different row counts name both counts" {
	cd "$D"
	head -n 50 B.tsv > B50.tsv
	run -1 --separate-stderr embcos A.tsv B50.tsv
	assert_equal "$stderr" "embcos: A.tsv has 60 rows but B50.tsv has 50"
	run -1 --separate-stderr embcos B50.tsv A.tsv
	assert_equal "$stderr" "embcos: B50.tsv has 50 rows but A.tsv has 60"
}

@test "paired: dim mismatch is an error" {
	cd "$D"
	run -1 --separate-stderr embcos A.tsv small.tsv
	assert_equal "$stderr" "embcos: dim mismatch: A.tsv has dim 37, small.tsv has dim 6"
	assert_output ""
}

@test "zero vectors: an error naming the row; --zero=nan and --zero=zero" {
	cd "$D"
	printf 'a\t1\t2\nb\t0\t0\nc\t3\t1\n' > z.tsv
	printf 'x\t1\t0\ny\t1\t1\nz\t0\t1\n' > z2.tsv
	run -1 --separate-stderr embcos z.tsv z2.tsv
	assert_equal "$stderr" "embcos: z.tsv:2: zero vector: cosine is undefined (see --zero)"
	# a streaming filter: the rows before the bad one are out already
	assert_output "a	x	0.447213595"
	run embcos --zero=nan z.tsv z2.tsv
	assert_equal "$(echo "$output" | sed -n 2p)" "b	y	nan"
	run embcos --zero=zero z.tsv z2.tsv
	assert_equal "$(echo "$output" | sed -n 2p)" "b	y	0"
	# not an error for the other functions: dot with zero is 0
	run embcos --dot z.tsv z2.tsv
	assert_equal "$(echo "$output" | sed -n 2p)" "b	y	0"
	run -1 --separate-stderr embcos -k 1 --db z.tsv z2.tsv
	assert_equal "$stderr" "embcos: z.tsv:2: zero vector: cosine is undefined (see --zero)"
	run -1 --separate-stderr embcos --matrix z2.tsv z.tsv
	assert_equal "$stderr" "embcos: z.tsv:2: zero vector: cosine is undefined (see --zero)"
	# a zero DB row never ranks with nan; scores 0 with --zero=zero
	run --separate-stderr embcos --zero=nan -k 3 --db z.tsv z2.tsv
	assert_equal "$(echo "$output" | cut -f2 | tr '\n' ' ')" "c a a c a c "
	assert_equal "$stderr" "embcos: 3 of 3 queries had fewer than 3 neighbours (z.tsv has 3 rows)"
	run embcos --zero=zero -k 3 --db z.tsv z2.tsv
	assert_equal "$(echo "$output" | sed -n 3p)" "x	b	0	3"
}

@test "NaN in a binary row is an error naming the row" {
	cd "$D"
	oracle -c '
import sys, numpy as np, oracle
x = np.ones((3, 4), np.float32); x[1, 2] = np.nan
sys.stdout.buffer.write(oracle.write(x, keys=["a", "b", "c"]))' > nan.emb
	# Binary input: the byte where row 2's values start, found by the oracle.
	at=$(oracle -c '
import numpy as np
x = np.ones(4, np.float32); x[2] = np.nan
print(open("nan.emb", "rb").read().find(x.tobytes()))')
	run -1 --separate-stderr embcos nan.emb nan.emb
	assert_equal "$stderr" "embcos: nan.emb: byte $at: value is not finite"
	assert_output "a	a	1"
	run -1 --separate-stderr embcos -k 1 --db nan.emb --no-keys - <<< "1 2 3 4"
	assert_equal "$stderr" "embcos: nan.emb: byte $at: value is not finite"
}

@test "a bad row is named by its line (text) or byte (binary) in every mode" {
	cd "$D"
	printf '# comment\n\na\t1\t2\nz\t0\t0\n' > zc.tsv
	embcat -O emb zc.tsv > zc.emb
	# the byte where row z's values start, found by the oracle
	at=$(oracle -c '
import numpy as np
d = open("zc.emb", "rb").read()
print(d.find(np.array([1, 2, 0, 0], np.float32).tobytes()) + 8)')
	msg="zero vector: cosine is undefined (see --zero)"
	printf 'q\t1\t1\n' > q1.tsv
	for cmd in "embcos zc.tsv zc.tsv" "embcos zc.tsv zc.tsv --zero=error" \
		   "embcos -k 1 --db zc.tsv q1.tsv" "embcos -k 1 --db q1.tsv zc.tsv" \
		   "embcos --matrix zc.tsv" "embcos --matrix q1.tsv zc.tsv" \
		   "embcos --matrix zc.tsv q1.tsv" "embcos --blocks 2 zc.tsv zc.tsv"; do
		run -1 --separate-stderr $cmd
		assert_equal "$stderr" "embcos: zc.tsv:4: $msg"
		bin=${cmd//zc.tsv/zc.emb}
		run -1 --separate-stderr $bin
		assert_equal "$stderr" "embcos: zc.emb: byte $at: $msg"
	done
	run -1 --separate-stderr sh -c 'embcat -O emb zc.tsv | embcos - -'
	assert_equal "$stderr" "embcos: -: byte $at: $msg"
	# a zero block of a nonzero row: the row's line
	printf 'a\t1\t2\nb\t1\t0\n' > zb.tsv
	run -1 --separate-stderr embcos --blocks 2 zb.tsv zb.tsv
	assert_equal "$stderr" "embcos: zb.tsv:2: zero vector in block 1:2: cosine is undefined (see --zero)"
}

@test "--pairs: lines unchanged plus the score, for every function" {
	cd "$D"
	printf 'w1\tw2\t3.5\nw3\tw3\t10\nw4\tw5\t2\tid7\n' > p.tsv
	for f in cos dot euclidean manhattan; do
		embcos --$f --pairs p.tsv small.tsv > out
		run check pairs p.tsv small.tsv out $f 1e-6
		assert_success
	done
	run embcos --pairs p.tsv small.tsv
	assert_equal "$(sed -n 2p <<< "$output")" "w3	w3	10	1"
}

@test "--pairs: OOV skip (default) counts on stderr; nan, zero, error" {
	cd "$D"
	run --separate-stderr embcos --pairs pairs.tsv small.tsv
	assert_success
	assert_equal "$stderr" "embcos: pairs.tsv: 1 of 4 pairs (25.0%) skipped: key not in small.tsv"
	assert_equal "$(echo "$output" | cut -f1-4 | tr '\n' ' ')" "w1	w2	3.5	x w3	w3	10	y w4	w5	2	z "
	embcos --pairs pairs.tsv small.tsv > out 2>/dev/null
	run check pairs pairs.tsv small.tsv out cos 1e-6
	assert_success
	run --separate-stderr embcos --oov=nan --pairs pairs.tsv small.tsv
	assert_equal "$(sed -n 2p <<< "$output")" "w0	w9	1	nope	nan"
	assert_equal "$stderr" "embcos: pairs.tsv: 1 of 4 pairs (25.0%) scored nan: key not in small.tsv"
	run --separate-stderr embcos --oov=zero --pairs pairs.tsv small.tsv
	assert_equal "$(sed -n 2p <<< "$output")" "w0	w9	1	nope	0"
	run -1 --separate-stderr embcos --oov=error --pairs pairs.tsv small.tsv
	assert_equal "$stderr" "embcos: pairs.tsv:2: key 'w9' is not in small.tsv"
	assert_equal "$(cut -f1-4 <<< "$output")" "w1	w2	3.5	x"
}

@test "--pairs: case-sensitive unless --ignore-case; CRLF; blank lines counted" {
	cd "$D"
	printf 'W1\tw2\t1\r\n\nw3\tW4\t2\r\n' > pc.tsv
	run --separate-stderr embcos --pairs pc.tsv small.tsv
	assert_output ""
	assert_equal "$stderr" "embcos: pc.tsv: 2 of 2 pairs (100.0%) skipped: key not in small.tsv
embcos: pc.tsv: 1 blank lines skipped"
	run --separate-stderr embcos --ignore-case --pairs pc.tsv small.tsv
	assert_equal "$(echo "$output" | cut -f1-3 | tr '\n' ' ')" "W1	w2	1 w3	W4	2 "
	printf 'w1\tw2\t1\nw3\tw4\t2\n' > pl.tsv
	run embcos --pairs pl.tsv small.tsv
	assert_equal "$(echo "$output" | cut -f4)" "$(embcos --pairs pc.tsv --ignore-case small.tsv 2>/dev/null | cut -f4)"
}

@test "--pairs: a line with one column is an error" {
	cd "$D"
	printf 'w1\tw2\nw3\n' > p1.tsv
	run -1 --separate-stderr embcos --pairs p1.tsv small.tsv
	assert_equal "$stderr" "embcos: p1.tsv:2: expected two keys separated by a tab, found one field"
}

@test "--topk: the same sets, order and scores as numpy, for every function" {
	cd "$D"
	for f in cos dot euclidean manhattan; do
		embcos --$f -k 7 --db db.emb q.tsv > out
		run check topk q.tsv db.emb out $f 7 1e-7
		assert_success
	done
}

@test "--topk: K larger than the DB gives every row; queries from stdin" {
	cd "$D"
	embcos --topk 500 --db small.tsv < small.tsv > out
	[ "$(wc -l < out)" -eq 64 ]
	run check topk small.tsv small.tsv out cos 500 1e-7
	assert_success
}

@test "--topk --exclude-self: the query set is the DB" {
	cd "$D"
	embcos --topk 5 --exclude-self --db db.emb db.tsv > out
	run check topk db.tsv db.emb out cos 5 1e-7 exclude
	assert_success
	run grep -c -P '^(d\d+)\t\1\t' out
	assert_output "0"
}

@test "--topk: ties go to the lower DB row" {
	cd "$D"
	printf 'a\t1\t0\nb\t2\t0\nc\t0\t1\nd\t3\t0\n' > tie.tsv
	printf 'q\t1\t0\n' > tq.tsv
	run embcos --topk 2 --db tie.tsv tq.tsv
	assert_output "q	a	1	1
q	b	1	2"
}

@test "--topk --softmax: probabilities over the whole DB, as scipy's softmax" {
	cd "$D"
	embcos --topk 4 --softmax 0.1 --db db.emb q.tsv > out
	run check topk q.tsv db.emb out cos 4 1e-6 no 0.1
	assert_success
	embcos --dot --topk 4 --softmax 2 --exclude-self --db db.emb db.tsv > out
	run check topk db.tsv db.emb out dot 4 1e-6 exclude 2
	assert_success
}

@test "--softmax: attention of q = c(mu_a + mu_b) splits about half and half" {
	cd "$D"
	# keys near two orthogonal means of equal norm; q along their sum
	oracle -c '
import numpy as np
rng = np.random.default_rng(3)
mu = np.zeros((2, 16)); mu[0, 0] = mu[1, 1] = 1
for g in range(2):
    for i in range(50):
        print("%s%d\t" % ("ab"[g], i) + "\t".join("%.6f" % v for v in mu[g] + 0.01 * rng.standard_normal(16)))
' > keys.tsv
	printf 'q\t20\t20\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n' > attq.tsv
	embcos --dot --matrix --softmax 1 attq.tsv keys.tsv > att
	run oracle -c '
import numpy as np, sys
w = np.array(open("att").read().split("\t")[1:], float)
a, b = w[:50].sum(), w[50:].sum()
print(a, b)
sys.exit(0 if abs(a - 0.5) < 0.2 and abs(b - 0.5) < 0.2 and abs(a + b - 1) < 1e-6 else 1)'
	assert_success
	run check matrix attq.tsv keys.tsv att dot 1e-6 1
	assert_success
}

@test "--matrix: all pairs as TSV or -O emb, against numpy" {
	cd "$D"
	for f in cos dot euclidean manhattan; do
		embcos --$f --matrix q.tsv db.emb > out
		run check matrix q.tsv db.emb out $f 2e-5
		assert_success
	done
	embcos --matrix -O emb A.emb B.tsv > out.emb
	run check matrix A.emb B.tsv out.emb cos 1e-6
	assert_success
	embcos --matrix < q.tsv > out
	run check matrix q.tsv - out cos 1e-6
	assert_success
	embcos --matrix --softmax 0.5 q.tsv db.emb > out
	run check matrix q.tsv db.emb out cos 1e-6 0.5
	assert_success
}

@test "--blocks: global and per-block cosines, N blocks and ranges" {
	cd "$D"
	embcos --blocks 3 A.tsv B.tsv > out
	run check blocks A.tsv B.tsv out 3 1e-6
	assert_success
	embcos --blocks 0:10,10:30,5:37 A.tsv B.tsv > out
	run check blocks A.tsv B.tsv out 0:10,10:30,5:37 1e-6
	assert_success
}

@test "--blocks: high block cosines need not mean a high global one" {
	cd "$D"
	# every block cosine is 1, the global cosine is 0.02/1.0001
	printf 'x\t1\t0\t0.01\t0\n' > bx.tsv
	printf 'y\t0.01\t0\t1\t0\n' > by.tsv
	run embcos --blocks 2 bx.tsv by.tsv
	assert_success
	assert_close "$(cut -f3- <<< "$output")" "$(oracle -c 'print(0.02 / 1.0001, 1, 1)')" 1e-9
}

@test "--blocks: global cosine <= max block cosine when all block cosines >= 0" {
	cd "$D"
	oracle -c '
import numpy as np
rng = np.random.default_rng(5)
for i in range(200):
    x = rng.standard_normal(12); y = x + 1.5 * rng.standard_normal(12)
    print("r%d\t" % i + "\t".join("%.6f" % v for v in x))
    print("s%d\t" % i + "\t".join("%.6f" % v for v in y), file=open("by2.tsv", "a"))
' > bx2.tsv
	embcos --blocks 4 bx2.tsv by2.tsv > out
	run oracle -c '
import numpy as np, sys
r = np.array([l.split("\t")[2:] for l in open("out").read().splitlines()], float)
ok = r[:, 1:].min(1) >= 0
print(ok.sum())
sys.exit(0 if ok.sum() > 20 and np.all(r[ok, 0] <= r[ok, 1:].max(1) + 1e-12) else 1)'
	assert_success
}

@test "--blocks: bad specs" {
	cd "$D"
	run -2 --separate-stderr embcos --blocks 0:4,x A.tsv B.tsv
	assert_equal "$stderr" "embcos: --blocks wants N or ranges like 0:384,384:768, not '0:4,x'
Try 'embcos --help' for more information."
	run -1 --separate-stderr embcos --blocks 0:40 A.tsv B.tsv
	assert_equal "$stderr" "embcos: --blocks: range 0:40 is outside A.tsv's 37 dimensions"
	run -1 --separate-stderr embcos --blocks 40 A.tsv B.tsv
	assert_equal "$stderr" "embcos: --blocks: 40 blocks of A.tsv's 37 dimensions"
	printf 'a\t0\t0\t1\nb\t1\t1\t1\n' > zb.tsv
	run -1 --separate-stderr embcos --blocks 0:2,2:3 zb.tsv zb.tsv
	assert_equal "$stderr" "embcos: zb.tsv:1: zero vector in block 0:2: cosine is undefined (see --zero)"
}

@test "usage errors exit 2" {
	cd "$D"
	run -2 --separate-stderr embcos --topk 0 --db db.emb q.tsv
	assert_equal "$stderr" "embcos: --topk must be between 1 and 2147483647, not 0
Try 'embcos --help' for more information."
	run -2 --separate-stderr embcos --topk -3 --db db.emb q.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: --topk must be between 1 and 2147483647, not -3"
	run -2 --separate-stderr embcos --topk 3 q.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: --topk needs --db=DB"
	run -2 --separate-stderr embcos --matrix --pairs pairs.tsv q.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: options --matrix and --pairs cannot be used together"
	run -2 --separate-stderr embcos --softmax 1 A.tsv B.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: --softmax is only for --topk, --merge and --matrix"
	run -2 --separate-stderr embcos --matrix --softmax 0 q.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: --softmax wants a positive temperature, not '0'"
	run -2 --separate-stderr embcos --oov=drop --pairs pairs.tsv small.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: unknown --oov 'drop' (known: skip, nan, zero, error)"
	run -2 --separate-stderr embcos --zero=one A.tsv B.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: unknown --zero 'one' (known: error, nan, zero)"
	run -2 --separate-stderr embcos A.tsv B.tsv A.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: extra operand 'A.tsv'"
	run -2 --separate-stderr embcos --exclude-self A.tsv B.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: --exclude-self is only for --topk"
	assert_output ""
}

@test "missing files are data errors" {
	cd "$D"
	run -1 --separate-stderr embcos --topk 3 --db nodb.emb q.tsv
	assert_equal "$stderr" "embcos: nodb.emb: No such file or directory"
	assert_output ""
	run -1 --separate-stderr embcos --pairs nopairs.tsv small.tsv
	assert_equal "$stderr" "embcos: nopairs.tsv: No such file or directory"
}

@test "--pairs: pairs and vectors cannot both be standard input" {
	cd "$D"
	run -2 --separate-stderr embcos --pairs - - < pairs.tsv
	assert_output ""
	assert_equal "$stderr" "embcos: --pairs and the vectors cannot both be standard input
Try 'embcos --help' for more information."
	run -2 --separate-stderr embcos --pairs - < small.tsv
	assert_equal "$(head -n 1 <<< "$stderr")" "embcos: --pairs and the vectors cannot both be standard input"
	# either one alone from standard input is fine
	run --separate-stderr embcos --pairs - small.tsv < pairs.tsv
	assert_success
	assert_equal "$output" "$(embcos --pairs pairs.tsv small.tsv 2>/dev/null)"
	run --separate-stderr embcos --pairs pairs.tsv - < small.tsv
	assert_equal "$output" "$(embcos --pairs pairs.tsv small.tsv 2>/dev/null)"
}

@test "--pairs: a last line without a newline is scored, with a warning" {
	cd "$D"
	printf 'w1\tw2\t1\nw3\tw4\t2' > pn.tsv
	run --separate-stderr embcos --pairs pn.tsv small.tsv
	assert_success
	assert_equal "$stderr" "embcos: pn.tsv:2: last line has no newline (file cut short?)"
	assert_equal "$output" "$(printf 'w1\tw2\t1\nw3\tw4\t2\n' | embcos --pairs - small.tsv)"
	# a byte order mark is not part of the first key; line numbers count every line
	printf '\xef\xbb\xbfw1\tw2\t1\n\n# note\nw1\n' > pb.tsv
	run -1 --separate-stderr embcos --pairs pb.tsv small.tsv
	assert_equal "$(head -n 1 <<< "$output")" "$(printf 'w1\tw2\t1\n' | embcos --pairs - small.tsv)"
	assert_equal "$stderr" "embcos: pb.tsv:4: expected two keys separated by a tab, found one field"
}

# Rows of every size f32 holds: denormal (integers times 2^-149), tiny
# (1e-30), ordinary, huge (1e30) and near the f32 limit (3e38), each of
# its own direction.  FILE SEED
magnitudes() {
	oracle -c '
import sys, numpy as np
rng = np.random.default_rng(int(sys.argv[2]))
out = open(sys.argv[1], "w")
for tag in ("den", "tiny", "one", "huge", "max"):
    for i in range(4):
        if tag == "den":
            x = rng.integers(-40, 41, 7) * 2.0 ** -149
            x[i] = 41 * 2.0 ** -149
        else:
            x = rng.standard_normal(7)
            x = {"tiny": 1e-30 * x, "one": x, "huge": 1e30 * x,
                 "max": 3e38 * x / np.abs(x).max()}[tag]
        x = x.astype(np.float32)
        assert np.all(np.isfinite(x)) and np.any(x != 0)
        out.write("%s%d\t%s\n" % (tag, i, "\t".join(repr(float(v)) for v in x)))
' "$@"
}

@test "denormal, tiny and huge rows: every mode agrees with numpy in float64" {
	cd "$D"
	magnitudes mag.tsv 11
	magnitudes magq.tsv 12
	embcat -O emb mag.tsv > mag.emb
	cut -f1 mag.tsv | paste - <(cut -f1 mag.tsv | tac) > magpairs.tsv
	for f in cos dot euclidean manhattan; do
		embcos --$f mag.tsv magq.tsv > out
		run check paired mag.tsv magq.tsv out $f r1e-8
		assert_success
		embcos --$f --pairs magpairs.tsv mag.emb > out
		run check pairs magpairs.tsv mag.tsv out $f r1e-8
		assert_success
		embcos --$f -k 6 --db mag.emb magq.tsv > out
		run check topk magq.tsv mag.tsv out $f 6 r1e-8
		assert_success
		embcos --$f -k 6 --exclude-self --db mag.tsv mag.emb > out
		run check topk mag.tsv mag.tsv out $f 6 r1e-8 exclude
		assert_success
	done
	# --matrix writes f32: cosines to f32 precision
	embcos --matrix magq.tsv mag.emb > out
	run check matrix magq.tsv mag.tsv out cos 1e-6
	assert_success
	embcos --matrix mag.tsv > out
	run check matrix mag.tsv - out cos 1e-6
	assert_success
	# a score beyond f32 (--matrix writes f32) is an error, not inf
	printf 'h\t1e30\t1e30\n' > hm.tsv
	run -1 --separate-stderr embcos --dot --matrix hm.tsv
	assert_output ""
	assert_equal "$stderr" "embcos: --matrix: the dot score of row h with row 1 of B is beyond the f32 range"
	# a denormal row is a direction like any other: cosine 1 with itself
	printf 'd\t1e-45\t0\t0\n' > den.tsv
	run embcos den.tsv den.tsv
	assert_output "d	d	1"
	run embcos -k 1 --db den.tsv den.tsv
	assert_output "d	d	1	1"
	run embcos --matrix den.tsv
	assert_output "d	1"
}

@test "a zero row follows --zero in every mode" {
	cd "$D"
	printf 'a\t1\t2\nz\t0\t0\n' > z0.tsv
	printf 'a\tz\n' > z0p.tsv
	for mode in "z0.tsv z0.tsv" "-k 2 --db z0.tsv z0.tsv" "--matrix z0.tsv" \
		    "--pairs z0p.tsv z0.tsv"; do
		run -1 --separate-stderr embcos $mode
		assert_equal "$(echo "$stderr" | grep -c 'zero vector')" 1
		case $mode in
		--matrix*)
			# a matrix is vector output: TSV cannot hold nan (emb(5)), binary can
			run -1 --separate-stderr embcos --zero=nan $mode
			assert_equal "$stderr" "embcos: row 1: value 2 is nan, which TSV cannot hold"
			embcos --zero=nan -O emb $mode > m.emb
			run oracle -c 'import numpy as np, oracle
x, k, _ = oracle.read(open("m.emb", "rb").read())
print(k, np.isnan(x).astype(int).tolist())'
			assert_output "['a', 'z'] [[0, 1], [1, 1]]" ;;
		*)
			run --separate-stderr embcos --zero=nan $mode
			assert_success ;;
		esac
		run --separate-stderr embcos --zero=zero $mode
		assert_success
		refute_output --partial nan
	done
	run embcos --zero=zero z0.tsv z0.tsv
	assert_output "a	a	1
z	z	0"
	# --matrix is f32 (sgemm): a's cosine with itself to f32 precision
	run embcos --zero=zero --matrix z0.tsv
	assert_equal "$(cut -f1 <<< "$output" | tr '\n' ' ')" "a z "
	assert_close "$(cut -f2- <<< "$output" | tr '\n\t' '  ')" "1 0 0 0" 1e-7
}

@test "identical rows score 0, never -0" {
	cd "$D"
	printf 'a\t1\t2\na\t1\t2\nz\t0\t0\n' > e0.tsv
	for f in euclidean manhattan; do
		run embcos --zero=zero --$f e0.tsv e0.tsv
		assert_output "a	a	0
a	a	0
z	z	0"
		run embcos --$f -k 1 --db e0.tsv e0.tsv
		refute_output --partial -0
		run embcos --$f --matrix e0.tsv
		refute_output --partial -0
	done
}

@test "exclusive options: any two different ones are a usage error" {
	cd "$D"
	local opts=(--cos --dot --euclidean --manhattan)
	for a in "${opts[@]}"; do
		for b in "${opts[@]}"; do
			if [ "$a" = "$b" ]; then
				run -0 embcos $a $b A.tsv B.tsv
				continue
			fi
			run -2 --separate-stderr embcos $a $b A.tsv B.tsv
			assert_equal "$(echo "$stderr" | head -1)" "embcos: options $a and $b cannot be used together"
			assert_output ""
		done
	done
	local modes=("--pairs=pairs.tsv" "--topk=3" "--matrix" "--blocks=2")
	for a in "${modes[@]}"; do
		for b in "${modes[@]}"; do
			[ "$a" = "$b" ] && continue
			run -2 --separate-stderr embcos $a $b --db=A.tsv A.tsv
			assert_equal "$(echo "$stderr" | head -1)" "embcos: options ${a%%=*} and ${b%%=*} cannot be used together"
		done
	done
	run -2 --separate-stderr embcos -k 4 -k 5 --db A.tsv B.tsv
	assert_equal "$(echo "$stderr" | head -1)" "embcos: --topk given twice ('4' and '5')"
	run -0 embcos -k 4 --topk=4 --db A.tsv B.tsv
}

@test "--topk: K far beyond the DB costs nothing; an empty DB is reported" {
	cd "$D"
	( ulimit_v 1500000; embcos -k 30000000 --db small.tsv small.tsv > out 2> err )
	run check topk small.tsv small.tsv out cos 8 1e-7
	assert_success
	run cat err
	assert_output "embcos: 8 of 8 queries had fewer than 30000000 neighbours (small.tsv has 8 rows)"
	run --separate-stderr embcos -k 2 q.tsv --db /dev/null
	assert_success
	assert_output ""
	assert_equal "$stderr" "embcos: 12 of 12 queries had fewer than 2 neighbours (/dev/null has 0 rows)"
}

# Small integers give exact ties by the thousand (and sums exact in double),
# so a brute force in numpy knows every score to the last bit.
tie_data() {	# tie_data ROWS DIM SEED CHUNK_ROWS > FILE.emb
	oracle -c '
import sys, numpy as np, oracle
n, d, seed, ch = (int(v) for v in sys.argv[1:5])
r = np.random.default_rng(seed)
x = r.integers(-2, 3, (n, d)).astype(np.float32)
x[r.random(n) < 0.3] = x[0]                     # duplicates of one row
x[r.random(n) < 0.1] *= 2                       # and of others, scaled
x[np.all(x == 0, axis=1), 0] = 1                # no zero vector
sys.stdout.buffer.write(oracle.write(x, chunk_rows=ch))
' "$@"
}

@test "--topk: the exact top-K of a brute force, ties and all, whatever the threads and blocks" {
	cd "$D"
	tie_data 9000 8 11 4001 > tdb1.emb   # blocks of 4001: 3 tiles of queries
	tie_data 700 37 12 37 > tdb2.emb     # many small blocks
	tie_data 1100 8 13 1100 > tq1.emb
	tie_data 3 37 14 3 > tq2.emb
	for set in "tq1 tdb1" "tq2 tdb2" "tdb2 tdb2"; do
		set -- $set
		for f in cos dot euclidean manhattan; do
			for k in 1 10 100; do
				[ $f = cos ] || [ $k = 10 ] || continue
				EMB_THREADS=1 embcos --$f -k $k --partial --db $2.emb $1.emb > one
				run check topk_exact $1.emb $2.emb one $f $k
				assert_success
				for t in 2 3 7; do
					EMB_THREADS=$t embcos --$f -k $k --partial --db $2.emb $1.emb > many
					cmp one many
				done
			done
		done
	done
}

@test "--topk, --matrix: threads give the very bytes one thread gives" {
	cd "$D"
	for seed in 21 22; do
		gen_tsv 1200 19 $seed > rq.tsv
		gen_tsv 5000 19 $((seed + 10)) > rdb.tsv
		for opts in "-k 5" "-k 3 --softmax 0.05" "-k 4 --exclude-self --dot" \
			"-k 2 --euclidean --partial"; do
			EMB_THREADS=1 embcos $opts --db rdb.tsv rq.tsv > one
			EMB_THREADS=2 embcos $opts --db rdb.tsv rq.tsv > two
			EMB_THREADS=5 embcos $opts --db rdb.tsv rq.tsv > five
			cmp one two
			cmp one five
		done
		EMB_THREADS=1 embcos --matrix rq.tsv rdb.tsv > one
		EMB_THREADS=3 embcos --matrix rq.tsv rdb.tsv > three
		cmp one three
	done
}

@test "EMB_THREADS: not a positive integer is a usage error" {
	cd "$D"
	for v in 0 -1 x 2x 99999; do
		run -2 --separate-stderr env EMB_THREADS=$v embcos --topk 1 --db small.tsv small.tsv
		assert_equal "${stderr_lines[0]}" "embcos: EMB_THREADS must be an integer from 1 to 1024, not '$v'"
		assert_equal "${stderr_lines[1]}" "Try 'embcos --help' for more information."
	done
}
