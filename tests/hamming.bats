#!/usr/bin/env bats
# embcos --hamming: distances of bit streams (embquant --ubinary) against
# numpy (np.unpackbits and a sum of differing bits), in the paired,
# --topk and --matrix modes, with ties, every popcount kernel, and errors.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

py() {
	oracle -c "import sys, numpy as np, oracle as o
def bits(f, dim):
    x, k, h = o.read(open(f, 'rb').read())
    assert h[0]['dtype'] == 'bit' and h[0]['dim'] == dim, h[0]
    return np.unpackbits(x.astype(np.uint8), axis=1)[:, :dim].astype(np.int64), k
def dist(a, b):
    return (a[:, None, :] != b[None, :, :]).sum(2)
$1" "${@:2}"
}

# vecs NAME N D SEED: N x D normal rows as NAME.npy, and their bits NAME.bit
vecs() {
	py 'n, d, seed = map(int, sys.argv[2:5])
np.save(sys.argv[1] + ".npy", np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32))' "$@"
	embquant --ubinary -O emb "$1.npy" > "$1.bit"
}

@test "paired distances equal numpy's for dims 1, 7, 8, 63, 64, 65, 130, 1000" {
	for d in 1 7 8 63 64 65 130 1000; do
		vecs a 40 $d $d
		vecs b 40 $d $((d + 1))
		embcos --hamming a.bit b.bit > got.tsv
		py 'd = int(sys.argv[1])
a, _ = bits("a.bit", d); b, _ = bits("b.bit", d)
x = np.load("a.npy"); assert (a == (x > 0)).all()
want = (a != b).sum(1)
got = np.loadtxt("got.tsv", ndmin=2)
assert (got[:, 0] == np.arange(1, 41)).all() and (got[:, 2] == want).all(), (got[:5], want[:5])' $d
	done
}

@test "every popcount kernel gives the same distances" {
	vecs a 30 200 1
	vecs b 30 200 2
	embcos --hamming a.bit b.bit > best.tsv
	EMB_SIMD=generic embcos --hamming a.bit b.bit > generic.tsv
	EMB_SIMD=sse2 embcos --hamming a.bit b.bit > popcnt.tsv
	cmp best.tsv generic.tsv
	cmp best.tsv popcnt.tsv
	py 'a, _ = bits("a.bit", 200); b, _ = bits("b.bit", 200)
assert (np.loadtxt("generic.tsv")[:, 2] == (a != b).sum(1)).all()'
}

@test "--topk: the K smallest distances, ties to the lower row (random data, many ties)" {
	for args in "300 5 11 7" "500 13 12 20" "200 70 13 3" "50 64 14 60"; do
		set -- $args
		vecs db $1 $2 $3
		vecs q 17 $2 $(($3 + 100))
		embcos --hamming -k $4 --db db.bit q.bit > got.tsv
		EMB_SIMD=generic embcos --hamming -k $4 --db db.bit q.bit > generic.tsv
		cmp got.tsv generic.tsv
		py 'd, k = int(sys.argv[1]), int(sys.argv[2])
db, _ = bits("db.bit", d); q, _ = bits("q.bit", d)
D = dist(q, db)
got = [l.split("\t") for l in open("got.tsv").read().splitlines()]
k = min(k, len(db))
assert len(got) == len(q) * k
ties = 0
for i in range(len(q)):
    order = np.argsort(D[i], kind="stable")[:k]
    ties += (D[i] == D[i][order[-1]]).sum() > (D[i][order] == D[i][order[-1]]).sum()
    mine = got[i * k:(i + 1) * k]
    assert [int(r[1]) for r in mine] == list(order + 1), (i, mine, order + 1)
    assert [int(r[2]) for r in mine] == list(D[i][order]) and [int(r[3]) for r in mine] == list(range(1, k + 1))
    assert all(r[0] == str(i + 1) for r in mine)
assert ties > 0 or k >= len(db)   # the case is exercised' $2 $4
	done
}

@test "--topk over a database in several chunks and with keys, --exclude-self" {
	vecs db 3000 40 5
	embcat --rows=:1000 db.bit > p1.bit
	embcat --rows=1000: db.bit > p2.bit
	cat p1.bit p2.bit > db2.bit
	embcos --hamming -k 6 --db db.bit db.bit > one.tsv
	embcos --hamming -k 6 --db db2.bit db.bit > two.tsv
	cmp one.tsv two.tsv
	embcos --hamming -k 6 --exclude-self --db db.bit db.bit > ex.tsv
	py 'db, _ = bits("db.bit", 40)
D = dist(db[:200], db)
got = np.loadtxt("ex.tsv", dtype=np.int64)
for i in range(200):
    D[i, i] = 10**6
    order = np.argsort(D[i], kind="stable")[:6]
    r = got[i * 6:(i + 1) * 6]
    assert (r[:, 1] == order + 1).all() and (r[:, 2] == D[i][order]).all(), i'
	printf 'a\t1\t-1\t1\nb\t-1\t-1\t-1\nc\t1\t1\t1\n' | embquant --ubinary -O emb > k.bit
	run -0 embcos --hamming -k 2 --db k.bit k.bit
	assert_output $'a\ta\t0\t1\na\tc\t1\t2\nb\tb\t0\t1\nb\ta\t2\t2\nc\tc\t0\t1\nc\ta\t1\t2'
}

@test "--matrix: every distance, as numpy's" {
	vecs a 25 33 1
	vecs b 31 33 2
	embcos --hamming --matrix a.bit b.bit > m.tsv
	embcos --hamming --matrix -O emb a.bit > self.emb
	py 'a, _ = bits("a.bit", 33); b, _ = bits("b.bit", 33)
m = np.loadtxt("m.tsv", comments="#")
assert m.shape == (25, 32) and (m[:, 0] == np.arange(1, 26)).all()
assert (m[:, 1:] == dist(a, b)).all()
s, k, h = o.read(open("self.emb", "rb").read())
assert (s == dist(a, a)).all() and k == [str(i) for i in range(1, 26)]'
}

@test "padding bits a writer left set do not count" {
	py 'x = np.array([[0b10100000], [0b10111111]], np.uint8)   # dim 3: the same bits
sys.stdout.buffer.write(o.header(3, "bit") + o.chunk(x, "u8") + o.end(2))' > pad.bit
	run -0 embcos --hamming pad.bit pad.bit
	assert_output $'1\t1\t0\n2\t2\t0'
	run -0 embcos --hamming --matrix pad.bit
	assert_output $'#emb keys\n1\t0\t0\n2\t0\t0'
}

@test "--format trec prints minus the distance; embeval --hamming reads topk and TREC runs alike, as numpy counts" {
	for args in "300 24 21 10" "200 70 22 5" "120 9 23 8"; do
		set -- $args
		vecs db $1 $2 $3
		vecs q 15 $2 $(($3 + 100))
		embcos --hamming -k $((2 * $4)) --db db.bit q.bit > truth.tsv
		embcos --hamming -k $((2 * $4)) --format trec --run-tag h --db db.bit q.bit > truth.trec
		# a run: a random half of each query's 2K nearest, in rank order
		py 'import random
rows = [l.split("\t") for l in open("truth.tsv").read().splitlines()]
trec = [l.split(" ") for l in open("truth.trec").read().splitlines()]
assert [(r[0], r[1], "-" + r[2] if r[2] != "0" else "0", r[3]) for r in rows] == \
       [(t[0], t[2], t[4], t[3]) for t in trec] and all(t[1] == "Q0" and t[5] == "h" for t in trec)
rnd = random.Random(int(sys.argv[1]))
by_q = {}
for r in rows: by_q.setdefault(r[0], []).append(r)
with open("run.tsv", "w") as f, open("run.trec", "w") as g, open("qrels", "w") as h:
    for qid, items in by_q.items():
        keep = sorted(rnd.sample(range(len(items)), len(items) // 2))
        for rank, i in enumerate(keep, 1):
            f.write("%s\t%s\t%s\t%d\n" % (qid, items[i][1], items[i][2], rank))
            g.write("%s Q0 %s %d %d x\n" % (qid, items[i][1], rank, -int(items[i][2])))
        for i in range(3):
            h.write("%s 0 %s 1\n" % (qid, items[i][1]))' $3
		embeval --recall -k $4 --hamming -q truth.tsv run.tsv > r1
		embeval --recall -k $4 --hamming -q truth.trec run.trec > r2
		cmp r1 r2
		py 'k = int(sys.argv[1])
d, _ = bits("db.bit", int(sys.argv[2])); q, _ = bits("q.bit", int(sys.argv[2]))
D = dist(q, d)
run = {}
for l in open("run.tsv"):
    r = l.split("\t"); run.setdefault(int(r[0]), []).append(int(r[1]))
want = []
for i in range(len(q)):
    kth = np.sort(D[i])[k - 1]
    want.append(sum(D[i][j - 1] <= kth + 1e-3 for j in run[i + 1][:k]) / k)
got = [l.split() for l in open("r1").read().splitlines()]
assert got[-1][1] == "all" and abs(float(got[-1][2]) - np.mean(want)) < 5e-5, (got[-1], np.mean(want))
assert [abs(float(g[2]) - w) < 5e-5 for g, w in zip(got, want)] == [True] * len(want)' $4 $2
		embeval --qrels qrels --hamming -q -m P.5 -m recip_rank run.tsv > m1
		embeval --qrels qrels -q -m P.5 -m recip_rank run.trec > m2
		cmp m1 m2
		embeval --qrels qrels -q -m P.5 -m recip_rank run.tsv > m3
		run cmp -s m1 m3   # read as similarities, the distances rank backwards
		assert_failure
	done
	run -2 --separate-stderr embeval --recall -k 2 --hamming --db db.bit --queries q.bit truth.tsv run.tsv
	assert_equal "${stderr_lines[0]}" "embeval: --hamming takes the distances from the lists, not from --db and --queries"
	run -2 --separate-stderr embeval --recall -k 2 --hamming --cos truth.tsv run.tsv
	assert_equal "${stderr_lines[0]}" "embeval: options --hamming and --cos cannot be used together"
}

@test "--hamming usage and data errors" {
	vecs a 5 16 1
	run -2 --separate-stderr embcos --hamming --cos a.bit
	assert_equal "${stderr_lines[0]}" "embcos: options --hamming and --cos cannot be used together"
	run -2 --separate-stderr embcos --dot --hamming a.bit
	assert_equal "${stderr_lines[0]}" "embcos: options --dot and --hamming cannot be used together"
	run -2 --separate-stderr embcos --hamming --pairs p.tsv a.bit
	assert_equal "${stderr_lines[0]}" "embcos: options --pairs and --hamming cannot be used together"
	run -2 --separate-stderr embcos --hamming -k 2 --partial --db a.bit a.bit
	assert_equal "${stderr_lines[0]}" "embcos: options --partial and --hamming cannot be used together"
	run -2 --separate-stderr embcos --hamming --matrix --softmax 1 a.bit
	assert_equal "${stderr_lines[0]}" "embcos: options --softmax and --hamming cannot be used together"
	run -1 --separate-stderr embcos --hamming a.npy a.bit
	assert_equal "$stderr" "embcos: a.npy: --hamming scores bit streams, not f32 (make them with embquant --ubinary)"
	run -1 --separate-stderr embcos -k 1 --hamming --db a.npy a.bit
	assert_equal "$stderr" "embcos: a.npy: --hamming scores bit streams, not f32 (make them with embquant --ubinary)"
	run -1 --separate-stderr embcos a.bit a.bit
	assert_equal "$stderr" "embcos: a.bit: a bit stream: score it with --hamming"
	run -1 --separate-stderr embcos -k 1 --db a.bit a.npy
	assert_equal "$stderr" "embcos: a.bit: a bit stream: score it with --hamming"
	vecs b 5 17 1
	run -1 --separate-stderr embcos --hamming a.bit b.bit
	assert_equal "$stderr" "embcos: dim mismatch: a.bit has dim 16, b.bit has dim 17"
	run -1 --separate-stderr sh -c 'embcos --hamming --matrix a.bit > /dev/full'
	assert_equal "$stderr" "embcos: write error: No space left on device"
	run -1 --separate-stderr sh -c 'embcos --hamming -k 2 --db a.bit a.bit > /dev/full'
	assert_equal "$stderr" "embcos: write error: No space left on device"
}
