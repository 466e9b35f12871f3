#!/usr/bin/env bats
# The text parser: numbers against the C library, and the block reader
# (lib/emb_tsv.c): TSV parsed by threads must give the bytes, the line
# numbers and the messages of a single thread, for files and pipes, at
# sizes around the block size (EMB_TSV_BLOCK shrinks it so that small
# files cross many blocks).

load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "numbers parse as strtof/strtod do and every written value reads back (random and edge cases)" {
	for seed in 1 2; do
		run "$EMB_BUILDDIR/tests/parse-check" 100000 "$seed"
		assert_success
		assert_output --regexp '^parse-check: [0-9]+ strings agree with strtof/strtod \([0-9]+ on the f32 fast path\), [0-9]+ values read back exactly$'
	done
}

@test "top-k's row kernels (dot product, squared norm, scaling) give the bits of the ones they replace, under every EMB_SIMD" {
	# (the last: no cap, the widest set this CPU runs)
	for simd in generic sse2 avx2 ""; do
		for seed in 1 2; do
			run env EMB_SIMD="$simd" "$EMB_BUILDDIR/tests/parse-check" kernels 300 "$seed"
			assert_success
			assert_output --regexp '^parse-check: 24300 rows: dot, sumsq and scale agree \((generic|sse2|avx2|avx512) kernels\)$'
		done
	done
}

@test "numbers are written as the printf algorithm writes them, byte for byte (random, edge cases, a stretch of floats)" {
	# parse-check format COUNT SEED SWEEP FIRST: COUNT values of each
	# random class, then SWEEP consecutive floats from bit pattern FIRST
	# (here from 0.09375 past 0.1, from -0.75 past -1, and across the
	# ends of the 64-bit path, 2^-13 and -2^23)
	for args in "50000 1 3000000 0x3dc00000" "50000 2 3000000 0xbf400000" \
		    "20000 3 1000000 0x38f80000" "20000 4 1000000 0xcaf80000"; do
		run "$EMB_BUILDDIR/tests/parse-check" format $args
		assert_success
		assert_output --regexp '^parse-check: [0-9]+ values format as printf does$'
	done
}

# mk_tsv ROWS DIM SEED STYLE > FILE: random rows in one of several text
# styles, each value printed with 1 to 9 significant digits.
mk_tsv() {
	oracle -c '
import sys, numpy as np
n, d, seed, style = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(seed)
x = (rng.standard_normal((n, d)) * 10.0 ** rng.integers(-5, 4, (n, d))).astype(np.float32)
prec = rng.integers(1, 10, (n, d))
out = []
if style == "keys":
    out.append("#emb keys")
for i in range(n):
    vals = ["%.*g" % (int(prec[i, j]), float(x[i, j])) for j in range(d)]
    if style == "keys":
        out.append("%d\t" % i + "\t".join(vals))
    elif style == "messy":
        if rng.random() < 0.1:
            out.append("")
        if rng.random() < 0.05:
            out.append("# a comment " + str(i))
        if rng.random() < 0.05:
            out.append("   \t ")
        out.append("  " + "  ".join(vals) + " \r")
    else:
        out.append("\t".join(vals))
text = "\n".join(out)
if style != "nonl":
    text += "\n"
sys.stdout.write(text)
' "$@"
}

@test "threads and blocks give the bytes of one thread, from files and pipes, at sizes around the block" {
	for style in plain keys messy nonl; do
		for rows in 0 1 7 40 333; do
			mk_tsv "$rows" 5 "$rows" "$style" > in.tsv
			EMB_THREADS=1 EMB_TSV_BLOCK=100000000 embcat -O emb in.tsv > ref.emb 2> ref.err
			# (a pipe's history has no file name)
			cat in.tsv | EMB_THREADS=1 EMB_TSV_BLOCK=100000000 embcat -O emb > refp.emb 2> /dev/null
			for block in 1 37 300 4096; do
				for threads in 1 3 8; do
					EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O emb in.tsv > got.emb 2> got.err
					cmp ref.emb got.emb
					cmp ref.err got.err
					cat in.tsv | EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O emb > got.emb 2> got.err
					cmp refp.emb got.emb
					sed 's/in\.tsv/-/' ref.err | cmp - got.err
				done
			done
		done
	done
}

@test "the values the threads read are the numbers in the text (numpy reads the same file)" {
	mk_tsv 500 7 3 plain > in.tsv
	EMB_THREADS=4 EMB_TSV_BLOCK=1000 embcat -O emb in.tsv > got.emb
	oracle -c '
import sys, numpy as np, oracle
x = oracle.read(open(sys.argv[1], "rb").read())[0]
want = np.array([[np.float32(float(v)) for v in line.split("\t")]
                 for line in open(sys.argv[2])], dtype=np.float32)
assert x.shape == want.shape, (x.shape, want.shape)
assert np.array_equal(x.view(np.uint32), want.view(np.uint32))
' got.emb in.tsv
}

@test "a bad line in any block is reported with its own line number, the first one in the file" {
	mk_tsv 300 4 9 plain > base.tsv
	for bad in 2 3 57 150 299 300; do
		sed "${bad}s/^[^[:blank:]]*/0.5x/" base.tsv > in.tsv
		for block in 64 1000 100000; do
			for threads in 1 2 4; do
				run -1 env EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O emb in.tsv
				assert_output "embcat: in.tsv:$bad: '0.5x' is not a number"
				# a second bad line further on changes nothing
				sed "$((bad < 300 ? 300 : 299))s/^[^[:blank:]]*/zz/" in.tsv > two.tsv
				[ "$bad" = 300 ] && want=299 || want=$bad
				[ "$bad" = 300 ] && word=zz || word=0.5x
				run -1 env EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O emb two.tsv
				assert_output "embcat: two.tsv:$want: '$word' is not a number"
				run -1 sh -c "cat in.tsv | EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O emb"
				assert_output "embcat: -:$bad: '0.5x' is not a number"
			done
		done
	done
}

@test "every kind of bad line is named as a single thread names it, wherever it falls" {
	mk_tsv 200 3 4 keys > base.tsv
	# line 1 is the mark: data lines are 2..201
	printf '%s\n' "s/^120\t[^[:blank:]]*\t/120\tnan\t/" "s/^130\t.*/130\t1\t2/" "s/^140\t.*/&\t5/" \
		"s/^150\t[^[:blank:]]*/150\t1e999/" "s/^160\t[^[:blank:]]*/160\t0x10/" > edits
	while read -r edit; do
		sed "$edit" base.tsv > in.tsv
		run -1 env EMB_THREADS=1 EMB_TSV_BLOCK=100000000 embcat -O emb in.tsv
		ref=$output
		[[ $ref == "embcat: in.tsv:1"[2-6]"2: "* ]]
		for block in 50 700; do
			run -1 env EMB_THREADS=3 EMB_TSV_BLOCK=$block embcat -O emb in.tsv
			assert_output "$ref"
		done
	done < edits
	# a NUL byte, and a key too long, in a later block
	{ head -n 150 base.tsv; printf '150\t1\t2\000\t3\n'; } > in.tsv
	run -1 env EMB_THREADS=2 EMB_TSV_BLOCK=100 embcat -I tsv -O emb in.tsv
	assert_output "embcat: in.tsv:151: line holds a NUL byte (binary data?)"
	{ head -n 150 base.tsv; printf '%*s\t1\t2\t3\n' 70000 k | tr ' ' k; } > in.tsv
	run -1 env EMB_THREADS=1 EMB_TSV_BLOCK=100000000 embcat -O emb in.tsv
	ref=$output
	[[ $ref == "embcat: in.tsv:151: key longer than "* ]]
	run -1 env EMB_THREADS=2 EMB_TSV_BLOCK=100 embcat -O emb in.tsv
	assert_output "$ref"
	# a bad last line without a newline: the warning, then the error
	{ head -n 150 base.tsv; printf '150\t1\tx\t3'; } > in.tsv
	run -1 --separate-stderr env EMB_THREADS=2 EMB_TSV_BLOCK=100 embcat -O emb in.tsv
	[ "${stderr_lines[0]}" = "embcat: in.tsv:151: last line has no newline (file cut short?)" ]
	[ "${stderr_lines[1]}" = "embcat: in.tsv:151: 'x' is not a number" ]
}

@test "a mapped file reads as the same text through a pipe: long lines, comments, CRLF, a short tail" {
	# Regular files are read from a mapping up to the last line ending a
	# pad before the end, then by stdio; a line longer than a block goes
	# back to stdio.  Every place those seams can fall gives a pipe's bytes.
	for style in plain keys messy nonl; do
		mk_tsv 400 6 21 "$style" > base.tsv
		for long in none 5 200 399; do
			if [ "$long" = none ]; then
				cp base.tsv in.tsv
			else
				# a comment line of 3000 bytes: longer than the blocks below
				awk -v n="$long" 'NR == n { printf "#%03000d\n", 0 } { print }' base.tsv > in.tsv
			fi
			for block in 64 500 2999 3100 100000; do
				for threads in 1 3; do
					EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O tsv in.tsv > got.tsv 2> got.err
					cat in.tsv | EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O tsv > ref.tsv 2> ref.err
					cmp ref.tsv got.tsv
					sed 's/^embcat: -:/embcat: in.tsv:/' ref.err | cmp - got.err
				done
			done
		done
	done
	# and a last row that ends 0 to 70 bytes before a page boundary, where
	# the file ends (the mapped part stops a pad earlier, so the parsers'
	# reads past a mapped block stay in the file)
	mk_tsv 300 4 5 plain > base.tsv
	head -n -1 base.tsv > head.tsv
	last=$(tail -n 1 base.tsv)
	size=$(($(wc -c < head.tsv) + ${#last} + 1))
	page=$(getconf PAGESIZE)
	EMB_THREADS=1 EMB_TSV_BLOCK=100000000 embcat -O tsv base.tsv > ref.tsv
	for tail in $(seq 0 70); do
		c=$(((size + 2 * page) / page * page - tail - size))
		{ cat head.tsv; printf '#%*s\n' $((c - 2)) '' | tr ' ' x; echo "$last"; } > in.tsv
		[ $(($(wc -c < in.tsv) % page)) = $(((page - tail) % page)) ]
		for block in 256 4096; do
			EMB_THREADS=2 EMB_TSV_BLOCK=$block embcat -O tsv in.tsv > got.tsv
			cmp ref.tsv got.tsv
		done
	done
}

@test "a file much larger than a block is read by the workers with the rows in order" {
	mk_tsv 3000 16 11 plain > in.tsv
	for i in 1 2 3 4 5 6 7 8; do cat in.tsv; done > big.tsv
	EMB_THREADS=1 EMB_TSV_BLOCK=100000000 embcat -O tsv big.tsv > ref.tsv
	EMB_THREADS=4 EMB_TSV_BLOCK=65536 embcat -O tsv big.tsv > got.tsv
	cmp ref.tsv got.tsv
	[ "$(wc -l < got.tsv)" = 24000 ]
	# rows of the 8 copies are equal: nothing was reordered or repeated
	[ "$(sort -u got.tsv | wc -l)" = "$(sort -u <(embcat -O tsv in.tsv) | wc -l)" ]
	cmp <(head -n 3000 got.tsv) <(tail -n 3000 got.tsv)
}

@test "EMB_THREADS and EMB_TSV_BLOCK must be numbers in range" {
	printf '1 2\n' > in.tsv
	for v in 0 x -1 1025 3x; do
		run -2 --separate-stderr env EMB_THREADS="$v" embcat -O tsv in.tsv
		[ "${stderr_lines[0]}" = "embcat: EMB_THREADS must be an integer from 1 to 1024, not '$v'" ]
		[ "${stderr_lines[1]}" = "Try 'embcat --help' for more information." ]
		assert_output ""
	done
	for v in 0 x 1073741825; do
		run -2 --separate-stderr env EMB_TSV_BLOCK="$v" embcat -O tsv in.tsv
		[ "${stderr_lines[0]}" = "embcat: EMB_TSV_BLOCK: '$v' is not a block size (1 to 2^30 bytes)" ]
		assert_output ""
	done
}

# mk_odd ROWS DIM SEED > FILE: valid rows of every shape of number the
# readers take (signs, leading zeros, ".5" and "5.", exponents, up to 25
# digits, 16 characters and more), separated by runs of blanks, some rows
# with trailing blanks or a CR, so that values and rows fall at every
# offset of the SIMD parser's 16- and 64-byte windows.
mk_odd() {
	oracle -c '
import sys, numpy as np
n, d, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
def tok():
    x = float(rng.standard_normal()) * 10.0 ** int(rng.integers(-12, 12))
    k = int(rng.integers(0, 9))
    if k == 0:
        t = "%.*g" % (int(rng.integers(1, 18)), x)
    elif k == 1:
        t = "%.*f" % (int(rng.integers(0, 21)), x)
    elif k == 2:
        t = "%.*e" % (int(rng.integers(0, 17)), x)
    elif k == 3:
        t = "%.*E" % (int(rng.integers(0, 5)), x)
    elif k == 4:   # long mantissas: past 15, 16, 19 digits
        t = str(int(rng.integers(1, 10))) + "." + "".join(str(int(v)) for v in rng.integers(0, 10, int(rng.integers(10, 25))))
    elif k == 5:   # ".5", "-.5", "5."
        t = "%.*f" % (int(rng.integers(0, 9)), abs(x) % 10)
        t = t[1:] if t.startswith("0.") else t if "." in t else t + "."
    elif k == 6:
        t = "0" * int(rng.integers(1, 20)) + "%.6g" % abs(x)
    elif k == 7:
        t = "%d" % int(rng.integers(-10**9, 10**9))
    else:
        t = "%.7g" % x
    if "e" not in t and "E" not in t and k != 7 and rng.random() < 0.1:
        t += "e%+d" % int(rng.integers(-30, 30))
    if not t.startswith("-") and rng.random() < 0.1:
        t = "+" + t
    return t
seps = ["\t"] * 12 + ["  ", " \t", "\t\t", " "]
out = []
for i in range(n):
    line = seps[int(rng.integers(0, len(seps)))] if rng.random() < 0.1 else ""
    for j in range(d):
        line += (seps[int(rng.integers(0, len(seps)))] if j else "") + tok()
    if rng.random() < 0.1:
        line += " \t"[int(rng.integers(0, 2))]
    if rng.random() < 0.1:
        line += "\r"
    out.append(line)
sys.stdout.write("\n".join(out) + "\n")
' "$@"
}

@test "the SSSE3 parser and the portable one read every shape of number to the bits numpy reads" {
	for seed in 1 2 3; do
		mk_odd 300 $((seed + 6)) "$seed" > in.tsv
		for dtype in f32 f64; do
			EMB_SIMD=generic EMB_THREADS=1 embcat -O emb --dtype $dtype in.tsv > generic.emb
			for block in 333 100000000; do
				for threads in 1 3; do
					EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -O emb --dtype $dtype in.tsv > got.emb
					cmp generic.emb got.emb
				done
			done
			oracle -c '
import sys, numpy as np, oracle
x = oracle.read(open(sys.argv[1], "rb").read())[0]
rows = [[float(v) for v in line.split()] for line in open(sys.argv[2], newline="")]
want = np.array(rows, dtype=np.float64)
if sys.argv[3] == "f32":
    want = want.astype(np.float32)
assert x.shape == want.shape, (x.shape, want.shape)
assert x.dtype == want.dtype, x.dtype
assert np.array_equal(x.view(np.uint8), want.view(np.uint8))
' got.emb in.tsv $dtype
		done
	done
}

@test "rows the one-pass parser refuses are named as the line-at-a-time parser names them" {
	mk_odd 120 5 4 > base.tsv
	# line 77 made bad in each way; a CR before the LF and trailing
	# blanks are fine, anywhere else a CR, a vertical tab or a NUL is not
	printf '%s\n' 's/$/\t1/' 's/[[:blank:]][^[:blank:]]*\r\?$//' 's/[^[:blank:]]*\r\?$//' \
		's/[^[:blank:]]*\r\?$/\r/' 's/\r$//; s/$/\r\r/' \
		's/^\([^[:blank:]]*\)/\1\r/' 's/^\([^[:blank:]]*\)/\1\v/' 's/[[:blank:]]\+/\v/' \
		's/^[^[:blank:]]*/1.2.3/' 's/^[^[:blank:]]*/--1/' 's/^[^[:blank:]]*/1e/' \
		's/^[^[:blank:]]*/12345678901234567.5x/' 's/^[^[:blank:]]*/0x1p3/' \
		's/^[^[:blank:]]*/1e99999/' 's/^[^[:blank:]]*/inf/' 's/^[^[:blank:]]*/1\x002/' > edits
	while read -r edit; do
		sed "77{$edit}" base.tsv > in.tsv
		run -1 env EMB_SIMD=generic EMB_THREADS=1 embcat -I tsv -O emb in.tsv
		ref=$output
		[[ $ref == "embcat: in.tsv:77: "* ]]
		for simd in generic avx2; do
			for block in 64 1000 100000000; do
				for threads in 1 3; do
					run -1 env EMB_SIMD=$simd EMB_THREADS=$threads EMB_TSV_BLOCK=$block embcat -I tsv -O emb in.tsv
					assert_output "$ref"
				done
			done
		done
	done < edits
	# a row that ends early is not completed from the next line, wherever
	# the line break falls in the parser's 64-byte windows
	for pad in 0 1 30 61 62 63 64 65 100; do
		v=$(printf '%*s' "$pad" '' | tr ' ' 0)1
		printf '1\t2\t3\n4\t%s\t \n6\n7\t8\t9\n' "$v" > in.tsv
		for simd in generic avx2; do
			run -1 env EMB_SIMD=$simd embcat -O tsv in.tsv
			assert_output "embcat: in.tsv:2: expected 3 values, found 2"
		done
	done
	# the same line is fine in the line-at-a-time reader's way too:
	# trailing blanks and a CR before the LF, on every line
	sed 's/\r\?$/ \t\r/' base.tsv > in.tsv
	EMB_SIMD=generic EMB_THREADS=1 embcat -O tsv base.tsv > ref.tsv
	EMB_THREADS=2 EMB_TSV_BLOCK=500 embcat -O tsv in.tsv > got.tsv
	cmp ref.tsv got.tsv
	[ "$(wc -l < got.tsv)" = 120 ]
}

@test "the AVX2 row parser takes runs of plain values as strtof reads them and leaves every other token to its caller" {
	for seed in 1 2 3; do
		run "$EMB_BUILDDIR/tests/parse-check" rows 1500 "$seed"
		assert_success
		if [[ $output == "parse-check: no AVX2 row parser here" ]]; then
			skip "this CPU has no AVX2"
		fi
		# most tokens are plain, so most must go the fast way
		[[ $output =~ ^parse-check:\ 600000\ tokens\ in\ 1500\ rows,\ ([0-9]+)\ taken\ by\ the\ row\ parser\ in\ [0-9]+\ calls$ ]]
		((BASH_REMATCH[1] > 600000 * 6 / 10))
	done
	# files as people print them (%.9g, %.7g, %.6f, integers), with now
	# and then a token the row parser leaves (exponents, '+', 16 digits,
	# a float midpoint): every path gives numpy's bits
	for seed in 1 2; do
		oracle -c '
import sys, numpy as np
rng = np.random.default_rng(int(sys.argv[1]))
fmts = ["%.9g", "%.7g", "%.6f", "%d", "%.8g"]
lines = []
for i in range(400):
    f = fmts[i % len(fmts)]
    row = []
    for j in range(37):
        x = float(rng.standard_normal()) * 10.0 ** int(rng.integers(-3, 4))
        t = f % (int(x * 1000) if f == "%d" else x)
        k = rng.random()
        if k < 0.01:
            t = "%.3e" % x
        elif k < 0.015:
            t = "+" + t.lstrip("-")
        elif k < 0.02:
            t = "%.16f" % x
        elif k < 0.025:
            t = "%d" % (2 ** 24 + 1 + 2 * int(rng.integers(0, 1000)))
        row.append(t)
    lines.append("\t".join(row))
sys.stdout.write("\n".join(lines) + "\n")
' "$seed" > in.tsv
		EMB_SIMD=generic EMB_THREADS=1 embcat -O emb in.tsv > generic.emb
		for simd in sse2 avx2 ""; do
			for block in 1000 100000000; do
				EMB_SIMD=$simd EMB_TSV_BLOCK=$block embcat -O emb in.tsv > got.emb
				cmp generic.emb got.emb
			done
		done
		oracle -c '
import sys, numpy as np, oracle
x = oracle.read(open(sys.argv[1], "rb").read())[0]
want = np.array([[float(v) for v in l.split()] for l in open(sys.argv[2])]).astype(np.float32)
assert np.array_equal(x.view(np.uint32), want.view(np.uint32))
' got.emb in.tsv
	done
}

@test "one thread parses straight into the reader's chunk: rows past its room, at a chunk's end inside a block, are the same bytes" {
	# 2048 floats a row: a chunk holds 127 rows (1 MiB), a block about 120,
	# so a chunk ends inside a block, and the rows past its room wait in
	# the block for the next chunk
	for keys in "" "--keys"; do
		oracle -c '
import sys, numpy as np
rng = np.random.default_rng(7)
keys = sys.argv[1] == "--keys"
text = ["%.1f" % (v / 10.0) for v in range(-99, 100)]
for i in range(700):
    row = [text[v] for v in rng.integers(0, len(text), 2048)]
    if i % 97 == 5:
        row[int(rng.integers(0, 2048))] = "1e-3"   # a value the row parser leaves
    sys.stdout.write(("w%d\t" % i if keys else "") + "\t".join(row) + "\n")
' "$keys" > in.tsv
		EMB_THREADS=3 embcat -O emb in.tsv > threads.emb
		for block in 1000000 2900000; do
			EMB_THREADS=1 EMB_TSV_BLOCK=$block embcat -O emb in.tsv > one.emb
			cmp threads.emb one.emb
		done
		oracle -c '
import sys, numpy as np, oracle
x, k = oracle.read(open(sys.argv[1], "rb").read())[:2]
lines = [l.split() for l in open(sys.argv[2])]
if sys.argv[3]:
    assert list(k) == [l[0] for l in lines]
    lines = [l[1:] for l in lines]
want = np.array(lines, dtype=np.float64).astype(np.float32)
assert np.array_equal(x.view(np.uint32), want.view(np.uint32))
' one.emb in.tsv "$keys"
	done
}
