#!/bin/sh
# make-samples.sh DIR: write the small sample files that the man pages'
# EXAMPLES use (tests/man.bats runs every example in such a DIR).
# Names: vectors.tsv/.emb (200 x 8, keys w0..), a.emb b.emb (100 x 8),
# queries.emb (10 x 8), pairs.tsv (key key gold), scores.tsv (group gold
# sys1 sys2), texts.txt (one text per line over the w* vocabulary).
set -eu
dir=$1
: "${ORACLE_PYTHON:=/usr/bin/python3}"
cd "$dir"
"$ORACLE_PYTHON" - <<'PY'
import numpy as np
rng = np.random.default_rng(7)
def fmt(v):
    return np.format_float_positional(np.float32(v), unique=True, trim="-")
def write(name, prefix, x):
    with open(name, "w") as f:
        for i, r in enumerate(x):
            f.write(prefix + str(i) + "\t" + "\t".join(fmt(v) for v in r) + "\n")
offset = rng.standard_normal(8).astype(np.float32)
write("vectors.tsv", "w", (rng.standard_normal((200, 8)) + offset).astype(np.float32))
write("a.tsv", "a", rng.standard_normal((100, 8)).astype(np.float32))
write("b.tsv", "b", rng.standard_normal((100, 8)).astype(np.float32))
write("queries.tsv", "q", rng.standard_normal((10, 8)).astype(np.float32))
with open("pairs.tsv", "w") as f:
    for _ in range(50):
        i, j = rng.integers(0, 200, 2)
        f.write("w%d\tw%d\t%.1f\n" % (i, j, rng.integers(0, 51) / 5))
with open("scores.tsv", "w") as f:
    for i in range(100):
        gold = rng.integers(0, 26) / 5
        f.write("g%d\t%.1f\t%.4f\t%.4f\n" % (i % 3, gold, gold + rng.standard_normal(),
                                          rng.standard_normal()))
with open("texts.txt", "w") as f:
    for _ in range(20):
        f.write(" ".join("w%d" % k for k in rng.integers(0, 220, rng.integers(1, 8))) + "\n")
PY
for f in vectors a b queries; do
	embcat -O emb "$f.tsv" > "$f.emb"
done
rm -f a.tsv b.tsv queries.tsv
# simpson.tsv: three groups, each perfectly positively correlated, pooled
# negatively (embpearson(1) EXAMPLES).
printf 'a\t1\t6\na\t2\t7\na\t3\t8\nb\t4\t3\nb\t5\t4\nb\t6\t5\nc\t7\t0\nc\t8\t1\nc\t9\t2\n' > simpson.tsv
