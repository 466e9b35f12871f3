#!/usr/bin/env bats
# emblsh: bucket rules, collision statistics, candidate pairs, multiprobe
# search against exact numpy top-k, statistics and errors.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# write_tsv NAME PYTHON: run PYTHON (numpy as np, rng = default_rng(0))
# which must leave a matrix in x and a key prefix in p; writes NAME.tsv and
# NAME.emb.
write_tsv() {
	oracle -c "
import numpy as np
rng = np.random.default_rng(0)
p = 'w'
$2
x = np.asarray(x, np.float32)
with open('$1.tsv', 'w') as f:
    for i, r in enumerate(x):
        f.write(p + str(i) + '\t' + '\t'.join(np.format_float_positional(v, unique=True, trim='-') for v in r) + '\n')
"
	embcat -O emb "$1.tsv" > "$1.emb"
}

# recall NEIGHBOURS DB QUERIES K: recall@K of emblsh/embcos-shaped output
# against exact cosine top-K computed by numpy on the TSV files.
recall() {
	oracle -c '
import sys, numpy as np
def load(f):
    k, v = [], []
    for line in open(f):
        t = line.rstrip("\n").split("\t"); k.append(t[0]); v.append([np.float32(a) for a in t[1:]])
    return k, np.array(v, float)
dk, d = load(sys.argv[2]); qk, q = load(sys.argv[3]); K = int(sys.argv[4])
d /= np.linalg.norm(d, axis=1, keepdims=True); q /= np.linalg.norm(q, axis=1, keepdims=True)
truth = {qk[i]: set(dk[j] for j in np.argsort(-(q[i] @ d.T), kind="stable")[:K]) for i in range(len(qk))}
got = {}
for line in open(sys.argv[1]):
    a, b = line.split("\t")[:2]; got.setdefault(a, set()).add(b)
print("%.4f" % np.mean([len(truth[k] & got.get(k, set())) / K for k in qk]))
' "$@"
}

@test "emblsh prints each key and one bucket id per table, in range" {
	write_tsv v 'x = rng.standard_normal((50, 8))'
	run emblsh -L 3 -B 16 v.emb
	assert_success
	run oracle -c '
import sys
rows = [l.split("\t") for l in open(sys.argv[1])]
assert len(rows) == 50 and all(len(r) == 4 for r in rows), "shape"
assert [r[0] for r in rows] == ["w%d" % i for i in range(50)], "keys"
assert all(0 <= int(v) < 16 for r in rows for v in r[1:]), "range"
' <(emblsh -L 3 -B 16 v.emb)
	assert_success
}

@test "emblsh numbers rows without keys from 1, and reads stdin" {
	printf '1 2\n3 4\n' > n.tsv
	run emblsh < n.tsv
	assert_success
	assert_equal "$(echo "$output" | cut -f1 | tr '\n' ' ')" "1 2 "
	run emblsh < /dev/null
	assert_success
	assert_output ""
}

@test "emblsh rotation: -x lands B/2 buckets away, and scale does not matter" {
	write_tsv v 'x = rng.standard_normal((40, 12)); x = np.vstack([x, -x, 3.5 * x])'
	run oracle -c '
import sys
r = [l.split("\t") for l in open(sys.argv[1])]
ids = [[int(v) for v in row[1:]] for row in r]
n = 40
for i in range(n):
    for t in range(4):
        assert ids[n + i][t] == (ids[i][t] + 16) % 32, ("neg", i, t)
        assert ids[2 * n + i][t] == ids[i][t], ("scale", i, t)
' <(emblsh -L 4 -B 32 v.emb)
	assert_success
}

@test "emblsh: identical vectors always collide, in every scheme" {
	write_tsv v 'x = rng.standard_normal((30, 10)); x = np.vstack([x, x])'
	for s in "--scheme rotation -H 2" "--scheme crosspolytope -H 2 --rotations 2" "--scheme simhash -K 20"; do
		emblsh $s -L 5 v.emb | cut -f2- > ids
		run cmp <(head -n 30 ids) <(tail -n 30 ids)
		assert_success
		# ... and so every such pair is a candidate.
		run sh -c "emblsh $s -L 5 --candidates v.emb | awk '\$2 == \"w\" substr(\$1, 2) + 30' | wc -l"
		assert_output 30
	done
}

@test "emblsh --seed reproduces the buckets, another seed changes them" {
	write_tsv v 'x = rng.standard_normal((100, 16))'
	for s in rotation crosspolytope simhash; do
		a=$(emblsh --scheme $s -L 2 --seed 7 v.emb)
		b=$(emblsh --scheme $s -L 2 --seed 7 v.emb)
		c=$(emblsh --scheme $s -L 2 --seed 8 v.emb)
		assert_equal "$a" "$b"
		[ "$a" != "$c" ]
	done
	# Binary and TSV input give the same buckets.
	assert_equal "$(emblsh -L 2 v.tsv)" "$(emblsh -L 2 v.emb)"
}

@test "emblsh simhash: collision probability is 1 - theta/pi" {
	# 300 pairs at each of three angles, 64 one-bit tables = 19200
	# trials per angle: sd <= 0.004, tolerance 0.02 (5 sd).
	write_tsv v '
rows = []
for th in (np.pi / 4, np.pi / 2, 3 * np.pi / 4):
    for _ in range(300):
        u, w = np.linalg.qr(rng.standard_normal((16, 2)))[0].T
        rows += [u, np.cos(th) * u + np.sin(th) * w]
x = np.array(rows)'
	emblsh --scheme simhash -K 1 -L 64 v.emb > ids
	run oracle -c '
import numpy as np
ids = np.array([l.split("\t")[1:] for l in open("ids")], int)
a, b = ids[0::2], ids[1::2]
print(" ".join("%.4f" % (a[g*300:(g+1)*300] == b[g*300:(g+1)*300]).mean() for g in range(3)))'
	assert_success
	assert_close "$output" "0.75 0.5 0.25" 0.02
}

@test "emblsh rotation and crosspolytope buckets are uniform on isotropic data (chi-square)" {
	write_tsv v 'x = rng.standard_normal((4096, 16))'
	# rotation: a fixed Gaussian R is not exactly uniform, so row i uses
	# table i mod 64 (a fresh R per 64 rows); crosspolytope rotates
	# exactly, so one table is uniform.
	emblsh -B 16 -L 64 v.emb > rot
	emblsh --scheme crosspolytope v.emb > cp
	run oracle -c '
import numpy as np
from scipy.stats import chisquare
rot = np.array([l.split("\t")[1:] for l in open("rot")], int)
b = rot[np.arange(len(rot)), np.arange(len(rot)) % 64]
cp = np.array([l.split("\t")[1] for l in open("cp")], int)
p1 = chisquare(np.bincount(b, minlength=16)).pvalue
p2 = chisquare(np.bincount(cp, minlength=32)).pvalue
assert cp.max() < 32 and b.max() < 16
print(p1 > 0.001, p2 > 0.001, p1, p2)'
	assert_success
	assert_output --partial "True True"
}

@test "emblsh --candidates lists each pair sharing a bucket once, with exact cosine" {
	write_tsv v 'x = rng.standard_normal((120, 8))'
	emblsh -L 3 -B 8 v.emb > ids
	emblsh -L 3 -B 8 --candidates --score v.emb > cand
	run oracle -c '
import numpy as np, itertools
ids = [l.rstrip("\n").split("\t") for l in open("ids")]
want = set()
for t in range(1, 4):
    g = {}
    for r in ids: g.setdefault(r[t], []).append(int(r[0][1:]))
    for m in g.values(): want |= set(itertools.combinations(sorted(m), 2))
rows = [l.rstrip("\n").split("\t") for l in open("cand")]
got = [(int(a[1:]), int(b[1:])) for a, b, _ in rows]
assert got == sorted(want), "pairs differ"
x = np.loadtxt("v.tsv", usecols=range(1, 9), dtype=np.float32).astype(float)
x /= np.linalg.norm(x, axis=1, keepdims=True)
err = max(abs(float(c) - x[i] @ x[j]) for (i, j), (_, _, c) in zip(got, rows))
assert err < 2e-9, err
print(len(got))'
	assert_success
	[ "$output" -gt 100 ]
}

@test "emblsh index: 64-bit and mixed-radix ids find exactly the rows sharing a bucket" {
	write_tsv v 'x = rng.standard_normal((300, 6)); x[150:] = x[:150] + 0.3 * rng.standard_normal((150, 6))'
	write_tsv q 'x = rng.standard_normal((500, 6))[460:]'
	for s in "--scheme simhash -K 32 -H 2 -L 2" "--scheme crosspolytope -B 6 -H 5 -L 3" \
		"--scheme rotation -B 4 -H 30 -L 2" "-B 2 -L 2"; do
		# shellcheck disable=SC2086
		emblsh $s v.emb > ids
		# shellcheck disable=SC2086
		emblsh $s q.emb > qids
		# shellcheck disable=SC2086
		emblsh $s --candidates v.emb > cand
		# shellcheck disable=SC2086
		emblsh $s --db v.emb -k 300 q.emb > nn 2> /dev/null
		run oracle -c '
import itertools
ids = [l.rstrip("\n").split("\t") for l in open("ids")]
qids = [l.rstrip("\n").split("\t") for l in open("qids")]
L = len(ids[0]) - 1
want, got = set(), [tuple(l.rstrip("\n").split("\t")) for l in open("cand")]
for t in range(1, L + 1):
    g = {}
    for r in ids: g.setdefault(r[t], []).append(r[0])
    for m in g.values(): want |= set(itertools.combinations(m, 2))
assert sorted(got) == sorted(want) and len(got) == len(set(got)), "candidate pairs differ"
nn = {}
for l in open("nn"):
    a, b = l.split("\t")[:2]; nn.setdefault(a, set()).add(b)
hits = 0
for q in qids:
    share = {r[0] for r in ids if any(r[t] == q[t] for t in range(1, L + 1))}
    assert nn.get(q[0], set()) == share, ("neighbours of", q[0])
    hits += len(share)
print(len(got), hits)'
		assert_success
		echo "$s: $output"
		[ "${output% *}" -gt 0 ]
	done
}

@test "emblsh --max-bucket skips big buckets and counts their pairs" {
	write_tsv v 'x = rng.standard_normal((60, 8))'
	emblsh -B 4 v.emb > ids
	read -r dropped nb < <(oracle -c '
from collections import Counter
c = Counter(l.split("\t")[1] for l in open("ids"))
big = [n for n in c.values() if n > 15]
print(sum(n * (n - 1) // 2 for n in big), len(big))')
	[ "$nb" -gt 0 ]
	run --separate-stderr emblsh -B 4 --candidates --max-bucket 15 v.emb
	assert_success
	assert_equal "$stderr" "emblsh: skipped $dropped pairs in $nb buckets of more than 15 rows"
	want=$(oracle -c '
from collections import Counter
c = Counter(l.split("\t")[1] for l in open("ids"))
print(sum(n * (n - 1) // 2 for n in c.values() if n <= 15))')
	assert_equal "$(echo "$output" | wc -l)" "$want"
}

@test "emblsh --db probing every bucket is exact top-k, line for line as embcos" {
	write_tsv d 'x = rng.standard_normal((300, 12))'
	write_tsv q 'x = rng.standard_normal((20, 12)); p = "q"'
	# one sign bit, both buckets probed: every row is a candidate.
	emblsh --scheme simhash -K 1 -P 2 --db d.emb -k 5 q.emb > lsh
	assert_equal "$(wc -l < lsh)" 100
	run recall lsh d.tsv q.tsv 5
	assert_output "1.0000"
	# Scores and ranks vs numpy.
	run oracle -c '
import numpy as np
ld = lambda f: np.loadtxt(f, usecols=range(1, 13), dtype=np.float32).astype(float)
d = ld("d.tsv"); q = ld("q.tsv")
d /= np.linalg.norm(d, axis=1, keepdims=True); q /= np.linalg.norm(q, axis=1, keepdims=True)
for l in open("lsh"):
    a, b, s, r = l.split("\t")
    assert abs(float(s) - q[int(a[1:])] @ d[int(b[1:])]) < 2e-9, l
print("ok")'
	assert_output ok
	if command -v embcos > /dev/null; then
		run cmp lsh <(embcos --topk 5 --db d.emb q.emb)
		assert_success
	fi
}

@test "emblsh --db: more tables and more probes find more neighbours" {
	write_tsv d 'c = rng.standard_normal((20, 32)) * 2; x = c[rng.integers(0, 20, 3000)] + rng.standard_normal((3000, 32))'
	write_tsv q 'c = rng.standard_normal((20, 32)) * 2; p = "q"
rng2 = np.random.default_rng(0); c = rng2.standard_normal((20, 32)) * 2
x = c[rng.integers(0, 20, 50)] + rng.standard_normal((50, 32))'
	for s in rotation crosspolytope simhash; do
		r1=$(recall <(emblsh --scheme $s -L 1 --db d.emb q.emb) d.tsv q.tsv 10)
		r2=$(recall <(emblsh --scheme $s -L 8 --db d.emb q.emb) d.tsv q.tsv 10)
		r3=$(recall <(emblsh --scheme $s -L 8 -P 8 --db d.emb q.emb) d.tsv q.tsv 10)
		echo "$s $r1 $r2 $r3"
		oracle -c "import sys; sys.exit(not ($r1 <= $r2 <= $r3 and $r3 > $r1))"
	done
}

@test "emblsh -v counts the candidates scored; --max-candidates caps them" {
	write_tsv d 'x = rng.standard_normal((500, 8))'
	write_tsv q 'x = rng.standard_normal((10, 8)); p = "q"'
	run --separate-stderr emblsh -v -L 4 -B 4 --max-candidates 50 --db d.emb q.emb
	assert_success
	[[ "$stderr" =~ "10 queries in ".*"; 50.0 candidates scored per query (10.000% of the db)" ]] || { echo "$stderr"; return 1; }
}

@test "emblsh centring before hashing improves recall on offset data" {
	command -v embcenter > /dev/null || skip "embcenter is not built"
	write_tsv d 'o = rng.standard_normal(32) * 4; c = rng.standard_normal((30, 32))
x = o + c[rng.integers(0, 30, 3000)] + 0.5 * rng.standard_normal((3000, 32))
np.save("o.npy", o); np.save("c.npy", c)'
	write_tsv q 'o = np.load("o.npy"); c = np.load("c.npy"); p = "q"
x = o + c[rng.integers(0, 30, 100)] + 0.5 * rng.standard_normal((100, 32))'
	embcenter --save mean.model d.emb > dc.emb
	embcenter --load mean.model q.emb > qc.emb
	embcat -O tsv dc.emb > dc.tsv
	embcat -O tsv qc.emb > qc.tsv
	# The same budget of candidates per query (10% of the db).
	raw=$(recall <(emblsh -L 8 -B 32 --max-candidates 300 --db d.emb q.emb) d.tsv q.tsv 10)
	cen=$(recall <(emblsh -L 8 -B 32 --max-candidates 300 --db dc.emb qc.emb) dc.tsv qc.tsv 10)
	echo "raw $raw centred $cen"
	oracle -c "import sys; sys.exit(not $cen > $raw)"
}

@test "emblsh --stats agrees with the bucket ids" {
	write_tsv v 'x = rng.standard_normal((200, 8))'
	emblsh -L 2 -B 8 -H 2 v.emb > ids
	run emblsh --stats -L 2 -B 8 -H 2 v.emb
	assert_success
	assert_line --index 0 "$(printf 'table\trows\tbuckets\tused\tempty\tmin\tmean\tmax\tentropy\tmax_entropy')"
	want=$(oracle -c '
import numpy as np
from collections import Counter
for t in (1, 2):
    c = np.array(list(Counter(l.split("\t")[t] for l in open("ids")).values()))
    p = c / c.sum()
    print(t, 200, 64, len(c), 64 - len(c), c.min(), 200 / len(c), c.max(), -(p * np.log2(p)).sum(), 6)')
	assert_close "$(echo "$output" | tail -n +2)" "$want" 1e-5
	run emblsh --stats --json -L 2 -B 8 -H 2 v.emb
	run oracle -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["scheme"], len(d["tables"]), d["tables"][1]["buckets"])' "$output"
	assert_output "rotation 2 64"
}

@test "emblsh usage errors" {
	run -2 --separate-stderr emblsh --scheme minhash
	assert_output ""
	assert_equal "$stderr" "emblsh: unknown scheme 'minhash' (known: rotation, crosspolytope, simhash)
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh -B 7 < /dev/null
	assert_equal "$stderr" "emblsh: --buckets must be even and at least 2, not 7
Try 'emblsh --help' for more information."
	printf '1 2 3\n' > t.tsv
	run -2 --separate-stderr emblsh --scheme crosspolytope -B 16 t.tsv
	assert_equal "$stderr" "emblsh: --buckets for crosspolytope must be at most 8 (twice the padded dim), not 16
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --scheme simhash -K 40 -H 2
	assert_equal "$stderr" "emblsh: --bits times --hashes must be at most 64, not 80
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh -B 256 -H 9 < /dev/null
	assert_equal "$stderr" "emblsh: --buckets 256 to the power --hashes 9 does not fit in 64 bits
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh -K 8
	assert_equal "$stderr" "emblsh: --bits needs --scheme simhash
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --scheme simhash -B 8
	assert_equal "$stderr" "emblsh: --buckets does not apply to simhash (use --bits)
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --rotations 2
	assert_equal "$stderr" "emblsh: --rotations needs --scheme crosspolytope
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --score
	assert_equal "$stderr" "emblsh: --score and --max-bucket need --candidates
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh -k 3
	assert_equal "$stderr" "emblsh: --query, --topk, --max-candidates and --verbose need --db
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh -P 3
	assert_equal "$stderr" "emblsh: --probes needs --db
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --json
	assert_equal "$stderr" "emblsh: --json needs --stats
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --candidates --stats
	assert_equal "$stderr" "emblsh: --candidates, --db and --stats exclude each other
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh a b
	assert_equal "$stderr" "emblsh: extra operand 'b'
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh --db a --query b c
	assert_equal "$stderr" "emblsh: give the queries either with --query or as the operand
Try 'emblsh --help' for more information."
	run -2 --separate-stderr emblsh -L 0
	assert_equal "$stderr" "emblsh: --tables must be between 1 and 1024, not 0
Try 'emblsh --help' for more information."
}

@test "emblsh data errors: dim mismatch, missing db, bad rows; short lists are counted" {
	printf 'a 1 2 3\nb 2 3 4\n' > d.tsv
	printf 'q 1 2\n' > q.tsv
	run -1 --separate-stderr emblsh --db d.tsv q.tsv
	assert_output ""
	assert_equal "$stderr" "emblsh: q.tsv: dim 2 differs from the database's 3"
	run -1 --separate-stderr emblsh --db nope.emb q.tsv
	assert_equal "$stderr" "emblsh: nope.emb: No such file or directory"
	printf 'a 1 2\nb 1 x\n' > bad.tsv
	run -1 --separate-stderr emblsh bad.tsv
	assert_output ""
	assert_equal "$stderr" "emblsh: bad.tsv:2: 'x' is not a number"
	printf 'q 1 2 3\nz 0 0 0\n' > q3.tsv
	run --separate-stderr emblsh --scheme simhash -K 1 -P 2 --db d.tsv -k 2 --query q3.tsv
	assert_success
	assert_equal "$(echo "$output" | cut -f1,2,4 | tr '\n' ' ')" "$(printf 'q\ta\t1 q\tb\t2 ')"
	assert_equal "$stderr" "emblsh: 1 of 2 queries had fewer than 2 candidates"
}

@test "emblsh --stats: bucket counts are exact integers up to 2^64" {
	printf 'a\t1\t2\nb\t-1\t3\n' > d2.tsv
	run emblsh --stats -B 65536 -H 4 d2.tsv
	assert_success
	used=$(sed -n 2p <<< "$output" | cut -f4)
	want=$(oracle -c 'import sys; print(2**64, 2**64 - int(sys.argv[1]))' "$used")
	assert_equal "$(sed -n 2p <<< "$output" | cut -f3,5 | tr '\t' ' ')" "$want"
	run emblsh --stats --json -B 65536 -H 4 d2.tsv
	assert_output --partial "\"buckets\": 18446744073709551616, \"used\": $used, \"empty\": $(oracle -c 'import sys; print(2**64 - int(sys.argv[1]))' "$used")"
}

@test "emblsh --candidates runs in memory bounded by the rows, not the pairs" {
	# 5000 identical rows: 12497500 pairs, 100 MB if they were all kept
	# (ulimit -v is no good here: OpenBLAS spins when a thread's arena fails)
	yes '1 1' | head -n 5000 > same.tsv
	/usr/bin/time -o rss -f %M emblsh --candidates -L 2 same.tsv > cand
	run wc -l < cand
	assert_output "$((5000 * 4999 / 2))"
	run sed -n '1p;4999p;5000p;$p' cand
	assert_output "1	2
1	5000
2	3
4999	5000"
	rss_below rss 40000
}

@test "emblsh --candidates: the pairs are those sharing a bucket, ordered, once" {
	write_tsv v 'x = rng.standard_normal((400, 6)); x[200:] = x[:200] + 0.2 * rng.standard_normal((200, 6))'
	for s in "-L 4 -B 8" "--scheme simhash -K 3 -L 3" "--scheme crosspolytope -L 2 -H 2"; do
		emblsh $s v.emb > ids
		emblsh $s --candidates v.emb > cand
		run oracle -c '
import sys
rows = [l.rstrip("\n").split("\t") for l in open("ids")]
key = {r[0]: i for i, r in enumerate(rows)}
want = sorted({(i, j) for i in range(len(rows)) for j in range(i + 1, len(rows))
               if any(a == b for a, b in zip(rows[i][1:], rows[j][1:]))})
got = [tuple(key[k] for k in l.split()) for l in open("cand")]
sys.exit(0 if got == want else "got %d pairs, want %d" % (len(got), len(want)))'
		assert_success
	done
}

@test "emblsh: denormal, tiny and huge rows hash by direction and find themselves" {
	# each row as integers, times 2^-147 (denormal, exact) and 2^125 (near
	# the f32 limit, exact): the same direction, so the same buckets
	oracle -c '
import numpy as np
rng = np.random.default_rng(3)
with open("sc.tsv", "w") as f:
    for i in range(40):
        x = rng.integers(-3, 4, 16).astype(np.float64); x[0] = 3
        for tag, s in (("n", 1.0), ("t", 2.0 ** -147), ("h", 2.0 ** 125)):
            y = np.float32(x * s)
            assert np.all(y.astype(np.float64) == x * s)
            f.write("r%d%s\t%s\n" % (i, tag, "\t".join(repr(float(v)) for v in y)))'
	for s in rotation simhash crosspolytope; do
		emblsh --scheme $s -L 3 sc.tsv > ids
		run oracle -c '
import sys
d = {}
for l in open("ids"):
    f = l.rstrip("\n").split("\t"); d.setdefault(f[0][:-1], set()).add(tuple(f[1:]))
bad = [k for k, v in d.items() if len(v) != 1]
sys.exit("rows whose scaled copies differ: %s" % bad if bad else 0)'
		assert_success
	done
	# the cosine of a denormal row with itself is 1, as in embcos
	printf 'd\t1e-45\t0\t0\n' > den.tsv
	run emblsh -k 1 --db den.tsv den.tsv
	assert_output "d	d	1	1"
	grep -E '^r[0-9]+t' sc.tsv > t.tsv
	run emblsh -k 1 -L 2 --db t.tsv t.tsv
	assert_equal "$(cut -f1 <<< "$output" | tr '\n' ' ')" "$(cut -f2 <<< "$output" | tr '\n' ' ')"
	assert_equal "$(cut -f3 <<< "$output" | sort -u)" "1"
}

@test "emblsh: a value that is not finite in binary input names its byte" {
	oracle -c '
import sys, numpy as np, oracle
x = np.ones((3, 4), np.float32); x[2, 1] = np.inf
sys.stdout.buffer.write(oracle.write(x, keys=["a", "b", "c"]))' > inf.emb
	at=$(oracle -c '
import numpy as np
x = np.ones(4, np.float32); x[1] = np.inf
print(open("inf.emb", "rb").read().find(x.tobytes()))')
	for cmd in "emblsh inf.emb" "emblsh --candidates inf.emb" "emblsh --stats inf.emb" \
		   "emblsh --db inf.emb inf.emb"; do
		run -1 --separate-stderr $cmd
		assert_equal "$stderr" "emblsh: inf.emb: byte $at: value is not finite"
	done
}

@test "emblsh -k far beyond the database costs nothing" {
	write_tsv d 'x = rng.standard_normal((30, 8))'
	run --separate-stderr /usr/bin/time -o rss -f %M emblsh --scheme simhash -K 1 -P 2 -k 2000000000 --db d.emb d.emb
	assert_success
	rss_below rss 40000
	assert_equal "$(wc -l <<< "$output")" 900
	assert_equal "$stderr" "emblsh: 30 of 30 queries had fewer than 2000000000 candidates"
	run -0 bash -c 'emblsh --scheme simhash --candidates --score d.emb < /dev/null'
}

@test "emblsh: mode options exclude each other in every pair" {
	local modes=(--candidates --db=x --stats)
	for a in "${modes[@]}"; do
		for b in "${modes[@]}"; do
			[ "$a" = "$b" ] && continue
			run -2 --separate-stderr emblsh $a $b
			assert_equal "$(head -1 <<< "$stderr")" "emblsh: --candidates, --db and --stats exclude each other"
		done
	done
}
