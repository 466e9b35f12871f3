#!/usr/bin/env bats
# Sharding and slicing (embcat --shard and --rows) and the global row
# numbers of keyless rows (emb.5, "Row numbers"): what a shard skips is
# never read past its record headers, and a keyless row keeps its number
# through shards, slices, concatenation in any order and row-wise filters.
# The oracle parses the streams itself (numbers by the emb.5 rule) and
# compares values with the rows of the original file at those numbers.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# py CODE ARGS...: python with numpy as np, tests/oracle.py as o, and
#   rows(PATH) -> (values as float64, row numbers), parsed from the bytes
#                 by the rule of emb.5 (row_offset, else go on counting);
#   write_chunks(PATH, X, SIZES) -> a keyless f32 stream of X in chunks
#                 of SIZES rows.
py() {
	oracle -c "import sys, json, struct, random, numpy as np, oracle as o
def rows(path):
    data = open(path, 'rb').read()
    pos, xs, nums, nxt, dim = 0, [], [], 1, 0
    while pos < len(data):
        assert data[pos:pos + 8] == o.MAGIC, pos
        ver, jl, jc = struct.unpack_from('<III', data, pos + 8)
        h = json.loads(data[pos + 20:pos + 20 + jl])
        pos += 20 + jl
        if 'row_offset' in h:
            nxt = h['row_offset'] + 1
        dim, dt = h['dim'] or dim, np.dtype(o.DT[h['dtype']])
        while True:
            tag = data[pos:pos + 4]
            crc, n, kb = struct.unpack_from('<IQQ', data, pos + 4)
            pos += 24
            if tag == b'END\0':
                break
            nb = kb + n * dim * dt.itemsize
            xs.append(np.frombuffer(data[pos + kb:pos + nb], dt).reshape(n, dim).astype(float))
            nums += range(nxt, nxt + n)
            nxt += n
            pos += nb
    return (np.concatenate(xs) if xs else np.zeros((0, dim))), nums
def write_chunks(path, x, sizes):
    assert sum(sizes) == len(x)
    out, s = [o.header(x.shape[1])], 0
    for k in sizes:
        out.append(o.chunk(x[s:s + k]))
        s += k
    out.append(o.end(len(x)))
    open(path, 'wb').write(b''.join(out))
def random_stream(path, seed, n, dim, most=300):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(min(rng.integers(1, most + 1), n - sum(sizes))))
    write_chunks(path, x, sizes)
    return x, sizes
$1" "${@:2}"
}

# check_part PART WHOLE: every row of PART is the row of WHOLE with its
# number; prints the numbers.
check_part() {
	py 'x, _ = rows(sys.argv[2]); p, nums = rows(sys.argv[1])
assert len(nums) == len(set(nums)), "a number twice"
assert all(1 <= k <= len(x) for k in nums), nums
assert (p == x[np.array(nums, int) - 1]).all() if nums else True
print(" ".join(map(str, nums)))' "$1" "$2"
}

@test "shards of random chunkings hold every row once, with its number, in any order of cat" {
	for seed in 1 2 3; do
		n=$((300 + seed * 457))
		py 'random_stream("x.emb", int(sys.argv[1]), int(sys.argv[2]), 6)' $seed $n
		for N in 1 3 7; do
			rm -f s*.emb
			for ((k = 0; k < N; k++)); do embcat --shard=$k/$N x.emb > s$k.emb; done
			# cat in a random order is the whole, numbered as one pass
			cat $(ls s*.emb | shuf --random-source=<(yes $seed)) > all.emb
			# each shard: the right rows under the right numbers; together
			# (and their cat), every row once
			py 'x, _ = rows("x.emb"); n = int(sys.argv[1]); seen = []
for f in sys.argv[2:]:
    p, nums = rows(f)
    assert (p == x[np.array(nums, int) - 1]).all() if nums else len(p) == 0, f
    if f != "all.emb":
        seen += nums
assert sorted(seen) == list(range(1, n + 1)), "not every row once"
assert sorted(rows("all.emb")[1]) == list(range(1, n + 1))' $n s*.emb all.emb
		done
	done
}

@test "shards run through emblsh and embcos --topk name rows by their global numbers" {
	py 'random_stream("x.emb", 7, 2500, 8, 200)
random_stream("q.emb", 8, 9, 8, 4)'
	emblsh --tables 3 x.emb | sort > one.lsh
	embcos -k 6 --db x.emb q.emb > one.top
	for N in 2 5; do
		rm -f s*.emb
		for ((k = 0; k < N; k++)); do embcat --shard=$k/$N x.emb > s$k.emb; done
		# the map step per shard, the shuffle by sort: the one-pass buckets
		for f in s*.emb; do emblsh --tables 3 $f; done | sort | cmp - one.lsh
		# every hit of every shard is a (query, row, score) of the whole file
		for f in s*.emb; do embcos -k 6 --db $f q.emb; done > hits
		py 'x, _ = rows("x.emb"); q, _ = rows("q.emb")
n = 0
for line in open("hits"):
    qi, r, s, rank = line.split("\t")
    a, b = q[int(qi) - 1], x[int(r) - 1]
    want = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
    assert abs(float(s) - want) < 1e-6, (line, want)
    n += 1
assert n == 9 * 6 * int(sys.argv[1]), n' $N
		# the shards concatenated in any order: the one-pass top-k, ties and all
		cat $(ls s*.emb | shuf --random-source=<(yes $N)) > all.emb
		embcos -k 6 --db all.emb q.emb | cmp - one.top
		emblsh --tables 3 all.emb | sort | cmp - one.lsh
	done
}

@test "--rows=A:B is rows A+1..B, numbered so; slices concatenate to the whole" {
	n=1234
	py 'random_stream("x.emb", 11, int(sys.argv[1]), 5, 150)' $n
	# edges: empty, whole, open ends, chunk boundaries, past the end
	for r in 0:0 0:1 0:$n :$n 0: : 7:8 100:101 149:151 1233:1234 1233: 1234: 2000:3000 \
		 500:2000 $((RANDOM % n)):$((n + 1)); do
		embcat --rows=$r x.emb > s.emb
		py 'p, nums = rows("s.emb"); x, _ = rows("x.emb"); n = len(x)
a, b = sys.argv[1].split(":")
a = int(a) if a else 0; b = min(int(b), n) if b else n
assert nums == list(range(a + 1, b + 1)) if a < b else nums == [], (sys.argv[1], nums[:3])
assert (p == x[a:b]).all() if a < b else len(p) == 0' $r
	done
	# random cut points: the slices, cat in any order, number every row once
	for seed in 1 2 3; do
		cuts=$(py 'rng = np.random.default_rng(int(sys.argv[1]))
c = sorted(set([0, 1234] + list(rng.integers(0, 1235, 6))))
print(" ".join(map(str, c)))' $seed)
		set -- $cuts
		rm -f p*.emb
		i=0
		while [ $# -gt 1 ]; do embcat --rows=$1:$2 x.emb > p$i.emb; i=$((i + 1)); shift; done
		cat $(ls p*.emb | shuf --random-source=<(yes $seed)) > all.emb
		emblsh all.emb | sort | cmp - <(emblsh x.emb | sort)
	done
	# a slice of a slice counts rows in its input and keeps their numbers
	embcat --rows=300:700 x.emb | embcat --rows=10:12 > ss.emb
	run check_part ss.emb x.emb
	assert_output "311 312"
}

@test "--shard and --rows never read the payload of what they skip, yet see damaged headers" {
	py 'x = np.random.default_rng(3).standard_normal((1000, 5)).astype(np.float32)
write_chunks("x.emb", x, [100] * 10)
d = bytearray(open("x.emb", "rb").read())
first = d.index(b"CHNK")
rec = 24 + 100 * 5 * 4
for j in (1, 4, 7):        # corrupt the values of chunks 1, 4 and 7
    d[first + j * rec + 24 + 77] ^= 0x40
open("bad.emb", "wb").write(d)
t = bytearray(d)
t[first + 5 * rec:first + 5 * rec + 4] = b"CHNX"  # a bad tag on chunk 5
open("tag.emb", "wb").write(t)
open("cut.emb", "wb").write(d[:first + 8 * rec + 500])  # cut inside chunk 8'
	run -1 --separate-stderr embcat bad.emb
	[[ $stderr == *"chunk checksum mismatch (corrupt data)" ]]
	# shards 0 and 2 of 3 skip chunks 1, 4 and 7; shard 1 reads them
	for k in 0 2; do
		embcat --shard=$k/3 bad.emb > s.emb
		embcat --shard=$k/3 x.emb > g.emb
		same g.emb s.emb
		cat bad.emb | embcat --shard=$k/3 > p.emb   # from a pipe: read, not summed
		same p.emb s.emb
	done
	run -1 --separate-stderr embcat --shard=1/3 bad.emb
	[[ $stderr == *"chunk checksum mismatch (corrupt data)" ]]
	# --rows reads chunks 5 and 6 only
	embcat --rows=520:680 bad.emb > r.emb
	run check_part r.emb x.emb
	assert_output "$(seq 521 680 | tr '\n' ' ' | sed 's/ $//')"
	# what the headers show is still checked in skipped chunks
	run -1 --separate-stderr embcat --shard=0/3 tag.emb
	[[ $stderr == "embcat: tag.emb: byte "*": bad record tag (not a chunk or end record)" ]]
	for k in 0 2; do   # shard 0 skips chunk 8, shard 2 reads it
		run -1 --separate-stderr embcat --shard=$k/3 cut.emb
		[[ $stderr == "embcat: cut.emb: byte "*": truncated stream: chunk values cut short"* ]]
		run -1 --separate-stderr bash -c "cat cut.emb | embcat --shard=$k/3 > /dev/null"
		[[ $stderr == "embcat: -: byte "*": truncated stream: chunk values cut short"* ]]
	done
	# a slice that ends before the damage (chunks 7 and 8) stops reading there
	embcat --rows=500:700 cut.emb > r.emb
	run check_part r.emb x.emb
	assert_output "$(seq 501 700 | tr '\n' ' ' | sed 's/ $//')"
}

@test "shards and slices of several inputs keep the numbers of their concatenation" {
	py 'random_stream("a.emb", 1, 333, 4, 60); random_stream("c.emb", 3, 95, 4, 30)'
	gen_tsv 120 4 2 > b.tsv
	embcat a.emb b.tsv c.emb -O emb > whole.emb
	for N in 2 4 9; do
		rm -f s*.emb
		for ((k = 0; k < N; k++)); do embcat --shard=$k/$N a.emb b.tsv c.emb > s$k.emb; done
		cat $(ls s*.emb | shuf --random-source=<(yes $N)) > all.emb
		[ "$(check_part all.emb whole.emb | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "$(seq 1 548 | tr '\n' ' ')" ]
	done
	embcat --rows=300:460 a.emb b.tsv c.emb > r.emb
	run check_part r.emb whole.emb
	assert_output "$(seq 301 460 | tr '\n' ' ' | sed 's/ $//')"
	# an input that carries numbers keeps them; one that does not goes on
	embcat --rows=10:20 a.emb > ten.emb
	embcat ten.emb c.emb > tc.emb
	run py 'print(" ".join(map(str, rows("tc.emb")[1])))'
	assert_output "$(seq 11 20 | tr '\n' ' ')$(seq 21 115 | tr '\n' ' ' | sed 's/ $//')"
}

@test "empty shards and slices are valid streams that concatenate with the others" {
	py 'write_chunks("x.emb", np.random.default_rng(5).standard_normal((250, 3)), [200, 50])'
	run embinfo x.emb
	assert_output --partial '"chunks":	2,'
	for k in 0 1 2 3 4; do embcat --shard=$k/5 x.emb > s$k.emb; done
	for k in 2 3 4; do
		run embinfo s$k.emb
		assert_output --partial '"rows":	0,'
	done
	cat s4.emb s1.emb s2.emb s0.emb s3.emb > all.emb
	[ "$(check_part all.emb x.emb | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "$(seq 1 250 | tr '\n' ' ')" ]
	# every empty range, the first included, still writes a header of dim 3
	for r in 0:0 :0 5:5 250:250 300: 300:400; do
		embcat --rows=$r x.emb > e.emb
		run embinfo e.emb
		assert_output --partial '"rows":	0,'
		assert_output --partial '"dim":	3,'
		embcat --rows=$r -O npy x.emb > e.npy
		embcat --rows=$r -O fbin x.emb > e.fbin
		run py 'print(np.load("e.npy").shape, np.fromfile("e.fbin", dtype="<u4").tolist())'
		assert_output "(0, 3) [0, 3]"
	done
	run embcat --shard=1/2 -O tsv < /dev/null
	assert_success
	assert_output ""
}

@test "row-wise filters keep the numbers of a shard: embcenter, embwhiten, embcat, embcos, emblsh" {
	py 'random_stream("x.emb", 21, 1500, 6, 100)'
	embcat --shard=1/3 x.emb > s.emb
	want=$(check_part s.emb x.emb)
	embcenter --save c.emb x.emb > /dev/null
	embwhiten --save w.emb x.emb > /dev/null
	for cmd in "embcenter --load c.emb" "embwhiten --load w.emb" "embcenter" "embwhiten -k 3" \
		   "embcat" "embcat --dtype f64" "embcat -O emb"; do
		$cmd s.emb > o.emb
		cat s.emb | $cmd > p.emb   # through the spill of a pipe too
		for f in o.emb p.emb; do
			run py 'print(" ".join(map(str, rows(sys.argv[1])[1])))' $f
			assert_output "$want"
		done
	done
	# the values came through too (embcat --dtype f64 is exact)
	embcat --dtype f64 s.emb > o.emb
	run check_part o.emb x.emb
	assert_output "$want"
	# paired embcos: each side's numbers
	embcat --rows=100:130 x.emb > a.emb
	embcat --rows=1000:1030 x.emb > b.emb
	run bash -c "embcos a.emb b.emb | cut -f1,2 | tr '\t\n' ': '"
	assert_output "$(paste -d: <(seq 101 130) <(seq 1001 1030) | tr '\n' ' ')"
	# emblsh: hashed rows, query keys, database keys
	run bash -c "emblsh s.emb | cut -f1 | tr '\n' ' '"
	assert_output "$want "
	emblsh --db s.emb -k 3 a.emb > hits
	py 'want = set(map(int, sys.argv[1].split()))
for line in open("hits"):
    q, r = line.split("\t")[:2]
    assert 101 <= int(q) <= 130 and int(r) in want, line' "$want"
}

@test "formats that cannot hold numbers say so once; keyed formats take them as keys" {
	py 'write_chunks("x.emb", np.random.default_rng(2).standard_normal((40, 3)), [7] * 5 + [5])'
	for f in tsv npy fvecs; do
		run --separate-stderr embcat --rows=5:10 -O $f x.emb
		assert_success
		assert_equal "$stderr" "embcat: standard output: $f holds no row numbers: row 6 is written as row 1 (write emb to keep them)"
	done
	# rows that start at 1 lose nothing, and say nothing
	run --separate-stderr embcat --rows=0:10 -O tsv x.emb
	assert_equal "$stderr" ""
	run --separate-stderr embcat --shard=0/3 -O tsv x.emb
	assert_equal "$stderr" "embcat: standard output: tsv holds no row numbers: row 22 is written as row 8 (write emb to keep them)"
	run --separate-stderr bash -c "embcat --rows=5:8 -O w2v x.emb | cut -d' ' -f1"
	assert_equal "$stderr" ""
	assert_output "$(printf '3\n6\n7\n8')"
}

@test "row_offset in a header: honoured, checked, and continued by segments without one" {
	py 'x = np.arange(24, dtype=np.float32).reshape(8, 3)
s = (o.header(3, extra={"row_offset": 100}) + o.chunk(x[:3]) + o.end(3)
     + o.header(3) + o.chunk(x[3:5]) + o.end(2)
     + o.header(3, extra={"row_offset": 0}) + o.chunk(x[5:8]) + o.end(3))
open("seg.emb", "wb").write(s)
for i, v in enumerate([-1, 1.5, "7", 2 ** 60, None]):
    open("bad%d.emb" % i, "wb").write(o.header(3, extra={"row_offset": v}) + o.end(0))'
	run bash -c "emblsh seg.emb | cut -f1 | tr '\n' ' '"
	assert_output "101 102 103 104 105 1 2 3 "
	run bash -c "embcat --rows=2:6 seg.emb | emblsh | cut -f1 | tr '\n' ' '"
	assert_output "103 104 105 1 "
	for b in 0 1 2 3 4; do
		run -1 --separate-stderr embinfo bad$b.emb
		assert_equal "$stderr" "embinfo: bad$b.emb: byte 20: header \"row_offset\" is not a whole number from 0 to 2^53"
	done
}

@test "--shard, --rows: bad values are usage errors" {
	for r in 5:3 3 -1:5 1:-2 a:b 1:2:3 ' 1:2' 0x10:20 :18446744073709551616; do
		run -2 --separate-stderr embcat --rows="$r" /dev/null
		assert_output ""
		assert_equal "${stderr_lines[0]}" "embcat: --rows wants A:B, A: or :B with whole numbers 0 <= A <= B, not '$r'"
		assert_equal "${stderr_lines[1]}" "Try 'embcat --help' for more information."
	done
	run -2 --separate-stderr embcat --rows=0:5 --shard=0/2 /dev/null
	assert_equal "${stderr_lines[0]}" "embcat: options --shard and --rows cannot be used together"
}
