#!/usr/bin/env bats
# --dims=A:B and --normalize (lib/emb_slice.c) against numpy's x[:, A:B]
# and x[:, :k] / norm (sentence-transformers' truncate_dim followed by
# normalisation), in embcat and in the programs that take them.
load test_helper

setup_file() {
	export D="$BATS_FILE_TMPDIR"
	cd "$D"
	gen_tsv 120 37 11 keys > x.tsv
	gen_tsv 9 37 12 keys | sed 's/^w/q/' > q.tsv
	gen_tsv 50 20 13 > nk.tsv
	# many small chunks, so rows move within and across chunks
	oracle -c '
import sys, numpy as np, oracle
rows = [l.split("\t") for l in open("x.tsv").read().splitlines()]
x = np.array([[float(v) for v in r[1:]] for r in rows], np.float32)
sys.stdout.buffer.write(oracle.write(x, keys=[r[0] for r in rows], chunk_rows=13))
' > x.emb
	embcat -O emb q.tsv > q.emb
}

# want SPEC NORMALIZE FILE.tsv [DTYPE]: numpy's slice (and normalisation) of
# the rows of FILE.tsv, as TSV with the values embcat -O tsv prints.
want() {
	oracle -c '
import sys, numpy as np
spec, norm, path = sys.argv[1], sys.argv[2] == "yes", sys.argv[3]
dt = np.float64 if len(sys.argv) > 4 and sys.argv[4] == "f64" else np.float32
rows = [l.split("\t") for l in open(path).read().splitlines()]
keyed = not rows[0][0].lstrip("-").replace(".", "").replace("e", "").isdigit()
keys = [r[0] for r in rows] if keyed else None
x = np.array([[float(v) for v in (r[1:] if keyed else r)] for r in rows], dt)
a, _, b = spec.partition(":")
y = x[:, int(a) if a else None:int(b) if b else None]
if norm:
    n = np.linalg.norm(y.astype(np.float64), axis=1, keepdims=True)
    y = np.where(n > 0, y / np.where(n > 0, n, 1), 0).astype(dt)
for i, r in enumerate(y):
    v = "\t".join(np.format_float_positional(t, unique=True, trim="-") for t in r)
    print((keys[i] + "\t" if keys else "") + v)
' "$@"
}

# near A B TOL: two TSV files with the same keys, values within TOL.
near() {
	oracle -c '
import sys, numpy as np
def load(p):
    rows = [l.split("\t") for l in open(p).read().splitlines()]
    return [r[0] for r in rows], np.array([[float(v) for v in r[1:]] for r in rows])
ka, a = load(sys.argv[1]); kb, b = load(sys.argv[2])
assert ka == kb, "keys differ"
assert a.shape == b.shape, "shapes %s %s" % (a.shape, b.shape)
d = np.max(np.abs(a - b)) if a.size else 0
assert d <= float(sys.argv[3]), "max difference %g" % d
' "$@"
}

@test "--dims: exactly numpy's x[:, A:B], from TSV and binary, every spec form" {
	cd "$D"
	for spec in 0:37 :1 :16 5:6 3:30 20: 36: :37 0: :; do
		want "$spec" no x.tsv > w
		embcat --dims=$spec -O tsv x.tsv > got
		near got w 0
		embcat --dims $spec -O tsv x.emb | cmp - got
	done
	# keyless rows, f64 values kept exact
	embcat --dtype f64 -O emb nk.tsv > nk64.emb
	want 2:19 no nk.tsv f64 | sed 's/^/k\t/' > w
	embcat --dims=2:19 -O tsv nk64.emb | sed 's/^/k\t/' > got
	near got w 0
	[ "$(embcat --dims=2:19 nk64.emb | embinfo | grep -c '"dtype":.*"f64"')" = 1 ]
	[ "$(embcat --dims=2:19 nk64.emb | embinfo | grep -c '"dim":.*17,')" = 1 ]
}

@test "--dims=:K --normalize equals truncate_dim then normalisation (x[:, :k] / norm)" {
	cd "$D"
	for k in 1 2 8 16 37; do
		want :$k yes x.tsv > w
		embcat --dims=:$k --normalize -O tsv x.emb > got
		near got w 2e-7
		embcat --normalize --dims :$k -O tsv x.tsv | cmp - got
	done
	# --normalize alone: unit rows, every direction kept
	want : yes x.tsv > w
	embcat --normalize -O tsv x.emb > got
	near got w 2e-7
	embcat --normalize x.emb | embcos --dot - - | oracle -c '
import sys
v = [float(l.split("\t")[2]) for l in sys.stdin]
assert len(v) == 120 and max(abs(t - 1) for t in v) < 1e-6, v[:3]
'
}

@test "--normalize: a zero row stays zero and is counted; a NaN row is an error" {
	cd "$D"
	printf 'a\t3\t4\t0\nb\t0\t0\t7\nc\t0\t0\t0\n' > z.tsv
	run --separate-stderr embcat --normalize -O tsv z.tsv
	assert_success
	assert_output "a	0.6	0.8	0
b	0	0	1
c	0	0	0"
	[ "$stderr" = "embcat: --normalize: 1 zero row left as zero (no direction to keep)" ]
	run --separate-stderr embcat --dims=:2 --normalize -O tsv z.tsv
	assert_line --index 1 "b	0	0"
	[ "$stderr" = "embcat: --normalize: 2 zero rows left as zero (no direction to keep)" ]
	# without --normalize nothing is said
	run --separate-stderr embcat --dims=:2 -O tsv z.tsv
	[ -z "$stderr" ]
	# binary input can hold a NaN (a TSV reader refuses one)
	oracle -c '
import sys, numpy as np, oracle
x = np.array([[1, 2], [np.nan, 1]], np.float32)
sys.stdout.buffer.write(oracle.write(x, keys=["a", "b"]))
' > n.emb
	run embcat --normalize -O tsv n.emb
	assert_failure 1
	assert_output --regexp "^embcat: n.emb: byte [0-9]+: value is not finite: the row has no norm \(--normalize\)$"
	run embcat --dims=:1 --normalize -O tsv n.emb
	assert_failure 1
	# the slice may leave the NaN out
	embcat --dims=1: --normalize -O tsv n.emb | cmp - <(printf 'a\t1\nb\t1\n')
}

@test "--dims with --rows, --shard and several inputs" {
	cd "$D"
	embcat --rows=10:30 --dims=4:9 -O tsv x.emb > got
	near got <(want 4:9 no x.tsv | sed -n 11,30p) 0
	cat <(embcat --shard=0/2 --dims=:3 -O tsv x.emb) <(embcat --shard=1/2 --dims=:3 -O tsv x.emb) |
		sort > got
	near got <(embcat --dims=:3 -O tsv x.emb | sort) 0
	near got <(want :3 no x.tsv | sort) 0
	embcat --dims=:5 x.emb q.emb -O tsv > got
	near got <(cat <(want :5 no x.tsv) <(want :5 no q.tsv)) 0
	# inputs of other dims agree after the cut
	embcat --dims=:8 -O emb x.emb > x8.emb
	embcat --dims=:8 x8.emb x.emb -O tsv > got
	near got <(want :8 no x.tsv; want :8 no x.tsv) 0
}

@test "embcos and emblsh: --dims/--normalize are embcat's, applied as read, in every mode" {
	cd "$D"
	embcat --dims=3:20 --normalize x.emb > xs.emb
	embcat --dims=3:20 --normalize q.emb > qs.emb
	embcat --dims=3:20 x.emb > xd.emb
	embcat --dims=3:20 q.emb > qd.emb
	embcos --dims=3:20 --normalize x.emb x.tsv | cmp - <(embcos xs.emb xs.emb)
	embcos --dims=3:20 --normalize --blocks 2 x.emb x.emb | cmp - <(embcos --blocks 2 xs.emb xs.emb)
	embcos --dims=3:20 --normalize -k 5 --db x.emb q.tsv | cmp - <(embcos -k 5 --db xs.emb qs.emb)
	embcos --dims=3:20 --dot -k 5 --db x.tsv q.emb | cmp - <(embcat --dims=3:20 q.emb |
		embcos --dot -k 5 --db <(embcat --dims=3:20 x.emb) -)
	embcos --dims=3:20 --normalize --matrix q.emb x.emb | cmp - <(embcos --matrix qs.emb xs.emb)
	embcos --dims=3:20 --normalize --matrix x.emb | cmp - <(embcos --matrix xs.emb)
	printf 'w1\tw2\nw3\tw4\n' > p.tsv
	embcos --dims=3:20 --pairs p.tsv x.emb | cmp - <(embcos --pairs p.tsv xd.emb)
	embcos -k 40 --db x.emb q.emb > c.txt
	embcos --dims=3:20 --candidates c.txt -k 3 --db x.emb q.emb |
		cmp - <(embcos --candidates c.txt -k 3 --db xd.emb qd.emb)
	emblsh --dims=3:20 -L 3 x.emb | cmp - <(emblsh -L 3 xs.emb)
	emblsh --dims=3:20 -L 3 --candidates x.emb | cmp - <(emblsh -L 3 --candidates xs.emb)
	emblsh --dims=3:20 -L 3 --stats x.emb | cmp - <(emblsh -L 3 --stats xs.emb)
	emblsh --dims=3:20 -L 3 -P 2 -k 4 --db x.emb q.emb | cmp - <(emblsh -L 3 -P 2 -k 4 --db xd.emb qd.emb)
}

@test "embpearson --vectors --dims: r of the truncated rows, as scipy; only with --vectors" {
	cd "$D"
	embcat --rows=:9 x.emb > x9.emb
	for spec in :5 3:30 10:; do
		embpearson --vectors --dims=$spec x9.emb q.emb > out
		embpearson --vectors --normalize --dims=$spec x9.emb q.emb > outn
		for o in out outn; do oracle -c '
import sys, numpy as np
from scipy.stats import pearsonr
def load(p):
    rows = [l.split("\t") for l in open(p).read().splitlines()]
    return np.array([[float(v) for v in r[1:]] for r in rows], np.float32).astype(np.float64)
a, _, b = sys.argv[1].partition(":")
sl = slice(int(a) if a else None, int(b) if b else None)
x = load(sys.argv[2])[:9, sl]; y = load(sys.argv[3])[:, sl]
got = [float(l.split("\t")[2]) for l in open(sys.argv[4])]
want = [pearsonr(x[i], y[i])[0] for i in range(9)]
assert np.allclose(got, want, rtol=0, atol=1e-6), (got[:3], want[:3])
' "$spec" x.tsv q.tsv $o; done
		[ "$(cut -f1,2 out)" = "$(cut -f1,2 outn)" ]
	done
	run embpearson --dims=:3 -x 1 -y 2 q.tsv
	assert_failure 2
	assert_line --index 0 "embpearson: option '--dims' is only for --vectors"
}

@test "embcos --dims: cosines of the truncated rows, as numpy" {
	cd "$D"
	for k in 4 16 30; do
		embcos --dims=:$k -k 6 --db x.emb q.emb > out
		oracle "$EMB_SRCDIR/tests/embcos_check.py" topk <(want :$k no q.tsv) <(want :$k no x.tsv) out cos 6 1e-7
	done
}

@test "--dims and --normalize: bad usage and ranges beyond the dim" {
	cd "$D"
	for spec in 4 5:5 6:2 -1:3 a:b :0 1:2:3 '' 0:16777217 ' :3'; do
		run embcat --dims="$spec" x.emb
		assert_failure 2
		assert_line --index 0 "embcat: --dims wants A:B, A: or :B with whole numbers 0 <= A < B, not '$spec'"
		assert_line --index 1 "Try 'embcat --help' for more information."
	done
	run embcat --dims=:3 --dims=:4 x.emb
	assert_failure 2
	assert_line --index 0 "embcat: --dims given twice (':3' and ':4')"
	run embcat --dims=:38 x.emb
	assert_failure 1
	assert_output "embcat: --dims=:38 is outside the 37 dimensions of x.emb"
	run embcat --dims=37: x.tsv
	assert_failure 1
	assert_output "embcat: --dims=37: is outside the 37 dimensions of x.tsv"
	run embcos --dims=:50 -k 2 --db x.emb q.emb
	assert_failure 1
	assert_output "embcos: --dims=:50 is outside the 37 dimensions of q.emb"
	run emblsh --dims=:50 --db x.emb q.emb
	assert_failure 1
	run embcos --merge --normalize c.txt
	assert_failure 2
	assert_line --index 0 "embcos: option '--normalize' is only for the modes that read vectors"
	run embinfo --dims=:3 x.emb
	assert_failure 2
	# an empty input has no dim to cut
	: > empty.tsv
	run embcat --dims=:3 -O tsv empty.tsv
	assert_success
	[ -z "$output" ]
}

@test "--dims --normalize: write errors" {
	cd "$D"
	run bash -c 'embcat --dims=:3 --normalize -O tsv x.emb > /dev/full'
	assert_failure 1
	assert_output "embcat: write error: No space left on device"
}
