#!/usr/bin/env bats
# embpool: pooled values against numpy on a tiny vocabulary (tolerance
# 1e-6: f32 output of float64 sums), the tokeniser rules one by one, empty
# texts, OOV counts, and every error message.
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
	# Six words with random f32 vectors (dim 5).
	oracle -c '
import numpy as np
x = np.random.default_rng(3).standard_normal((6, 5)).astype(np.float32)
for w, r in zip("alpha beta gamma delta eps zeta".split(), x):
    print(w + "\t" + "\t".join(np.format_float_positional(v, unique=True, trim="-") for v in r))
' > voc.tsv
	embcat -O emb voc.tsv > voc.emb
	printf '%s\n' 'alpha beta alpha' 'Gamma, zzz delta!' 'zzz yyy' 'eps' \
		'beta zeta gamma delta alpha eps beta' > texts.txt
}

# ref MODE [WEIGHTS] [SIF_A FREQ]: numpy reference rows (skipping texts
# with no known token), as TSV "line v1 ... v5".
ref() {
	oracle - "$@" <<'PY'
import sys, numpy as np
mode = sys.argv[1]
voc = {}
for line in open("voc.tsv"):
    f = line.split("\t")
    voc[f[0]] = np.array(f[1:], dtype=np.float32).astype(np.float64)
w = {k: 1.0 for k in voc}
if mode == "weights":
    for k in voc:
        w[k] = float(sys.argv[3])
    for line in open(sys.argv[2]):
        k, v = line.split()
        if k in voc:
            w[k] = float(v)
if mode == "sif":
    a, counts = float(sys.argv[2]), {}
    for line in open(sys.argv[3]):
        k, v = line.split()
        counts[k] = float(v)
    tot = sum(counts.values())
    w = {k: a / (a + counts.get(k, 0) / tot) for k in voc}
for i, line in enumerate(open("texts.txt"), 1):
    toks = [t.strip(",!").lower() for t in line.split()]
    known = [t for t in toks if t in voc]
    if not known:
        continue
    m = np.array([voc[t] * w[t] for t in known])
    v = m.max(0) if mode == "max" else m.sum(0) if mode == "sum" else m.mean(0)
    print(i, " ".join(repr(float(x)) for x in v))
PY
}

# rows FILE: our output as "key v1 ... v5" on one line per row (without
# the "#emb keys" line that TSV output keyed by line numbers starts with).
rows() {
	embcat -O tsv "$1" | sed '1{/^#emb keys$/d;}' | tr '\t' ' '
}

# compare OURS REF: keys equal, values within 1e-6.
compare() {
	assert_equal "$(cut -d' ' -f1 <<< "$1")" "$(cut -d' ' -f1 <<< "$2")"
	assert_close "$(cut -d' ' -f2- <<< "$1")" "$(cut -d' ' -f2- <<< "$2")" 1e-6
}

@test "embpool --mean (default) equals numpy's mean of the known tokens" {
	run --separate-stderr embpool --vectors voc.emb texts.txt
	assert_success
	assert_equal "$stderr" "embpool: 1 of 5 texts had no known token and were skipped
embpool: 3 of 16 tokens (18.75%) not in the vocabulary"
	embpool -q -v voc.emb texts.txt > out.emb
	compare "$(rows out.emb)" "$(ref mean)"
	run embinfo out.emb
	assert_output --partial '"rows":	4,'
	assert_output --partial '"dim":	5,'
}

@test "embpool --sum and --max equal numpy" {
	embpool -q -v voc.emb --sum texts.txt > sum.emb 2> /dev/null
	compare "$(rows sum.emb)" "$(ref sum)"
	embpool -q -v voc.emb --max texts.txt > max.emb 2> /dev/null
	compare "$(rows max.emb)" "$(ref max)"
}

@test "embpool --weights with --default-weight equals numpy" {
	printf 'alpha 2\nbeta\t0.5\nnotaword 9\ndelta -1\n' > w.txt
	embpool -q -v voc.emb --weights w.txt texts.txt > w.emb 2> /dev/null
	compare "$(rows w.emb)" "$(ref weights w.txt 1)"
	embpool -q -v voc.emb --weights w.txt --default-weight 0.25 texts.txt > w2.emb 2> /dev/null
	compare "$(rows w2.emb)" "$(ref weights w.txt 0.25)"
}

@test "embpool --sif A --freq FILE equals numpy's a/(a + p(w)) weighted mean" {
	printf 'alpha 500\nbeta 300\ngamma 20\nother 180\n' > freq.txt
	embpool -q -v voc.emb --sif 0.01 --freq freq.txt texts.txt > s.emb 2> /dev/null
	compare "$(rows s.emb)" "$(ref sif 0.01 freq.txt)"
}

@test "embpool -f N pools a TSV column and keys rows by line number" {
	paste texts.txt texts.txt | sed 's/^/x\t/' > t.tsv
	embpool -q -v voc.emb -f 3 t.tsv > f.emb 2> /dev/null
	compare "$(rows f.emb)" "$(ref mean)"
	run -1 --separate-stderr embpool -q -v voc.emb -f 4 t.tsv
	assert_equal "$stderr" "embpool: t.tsv:1: no field 4"
	assert_output ""
}

@test "embpool --empty=zero writes zero rows, --empty=error stops at the line" {
	run --separate-stderr embpool -q -v voc.emb --empty=zero -O tsv texts.txt
	assert_success
	# line 1 is "#emb keys": the keys are line numbers
	assert_line --index 0 '#emb keys'
	assert_line --index 3 $'3\t0\t0\t0\t0\t0'
	assert_equal "${#lines[@]}" 6
	assert_equal "$stderr" "embpool: 1 of 5 texts had no known token and were written as zero vectors"
	run -1 --separate-stderr embpool -v voc.emb --empty=error texts.txt
	assert_equal "$stderr" "embpool: texts.txt:3: no known token in the text"
	printf '\n\n' | embpool -v voc.emb --empty=skip > e.emb 2> err.txt
	assert_equal "$(cat err.txt)" "embpool: 2 of 2 texts had no known token and were skipped
embpool: 0 of 0 tokens (0.00%) not in the vocabulary"
}

@test "embpool tokeniser: case, punctuation, joiners, hyphens, clitics" {
	# A one-hot vocabulary: --sum counts each token.
	words="do not stop it s u.s well known 1,000 10:30 café can ca 3.5 o'clock x"
	i=0; n=$(wc -w <<< "$words")
	for w in $words; do
		row=$(for j in $(seq 0 $((n - 1))); do [ $j = $i ] && printf '\t1' || printf '\t0'; done)
		printf '%s%s\n' "$w" "$row"
		i=$((i + 1))
	done > onehot.tsv
	text="Don't STOP; it's U.S. well-known 1,000 at 10:30 -- café's (cannot) can't 3.5. o'clock 'x' 1,a"
	run --separate-stderr sh -c "printf '%s\n' \"\$1\" | embpool -v onehot.tsv --sum -O tsv" sh "$text"
	assert_success
	# counts: do not stop it s u.s well known 1,000 10:30 café can ca 3.5 o'clock x
	assert_output $'#emb keys\n1\t1\t3\t1\t1\t2\t1\t1\t1\t1\t1\t1\t1\t1\t1\t1\t1'
	# "at" and the two pieces of "1,a" ("1" and "a") are the only OOV tokens.
	assert_equal "$stderr" "embpool: 3 of 22 tokens (13.64%) not in the vocabulary"
}

@test "embpool on empty input writes an empty stream" {
	run embpool -v voc.emb < /dev/null
	assert_success
	embpool -v voc.emb < /dev/null > empty.emb
	run embinfo empty.emb
	assert_output --partial '"rows":	0,'
}

@test "embpool bad weights and frequency files name the line" {
	printf 'alpha 1\nbeta x\n' > bad.txt
	run -1 --separate-stderr embpool -v voc.emb --weights bad.txt texts.txt
	assert_equal "$stderr" "embpool: bad.txt:2: expected WORD and a number"
	assert_output ""
	printf 'alpha 1\nbeta -3\n' > neg.txt
	run -1 --separate-stderr embpool -v voc.emb --sif 1e-3 --freq neg.txt texts.txt
	assert_equal "$stderr" "embpool: neg.txt:2: a count must be finite and not negative"
	printf 'alpha 0\n' > zero.txt
	run -1 --separate-stderr embpool -v voc.emb --sif 1e-3 --freq zero.txt texts.txt
	assert_equal "$stderr" "embpool: zero.txt: the counts sum to zero"
	: > novec.tsv
	run -1 --separate-stderr embpool -v novec.tsv texts.txt
	assert_equal "$stderr" "embpool: novec.tsv: no word vectors"
}

@test "embpool usage errors exit 2" {
	hint="Try 'embpool --help' for more information."
	run -2 --separate-stderr embpool texts.txt
	assert_equal "$stderr" "embpool: --vectors=WORDS is required
$hint"
	run -2 --separate-stderr embpool -v voc.emb --sif 0.1 texts.txt
	assert_equal "$stderr" "embpool: --sif=A and --freq=FILE go together
$hint"
	run -2 --separate-stderr embpool -v voc.emb --sif 0.1 --freq f --weights w texts.txt
	assert_equal "$stderr" "embpool: --weights and --sif are exclusive
$hint"
	run -2 --separate-stderr embpool -v voc.emb --max --weights w texts.txt
	assert_equal "$stderr" "embpool: --max takes no weights
$hint"
	run -2 --separate-stderr embpool -v voc.emb --empty=drop texts.txt
	assert_equal "$stderr" "embpool: --empty wants skip, zero or error, not 'drop'
$hint"
	run -2 --separate-stderr embpool -v voc.emb --sif -1 --freq f texts.txt
	assert_equal "$stderr" "embpool: --sif wants a positive number, not '-1'
$hint"
	run -2 --separate-stderr embpool -v - -
	assert_equal "$stderr" "embpool: --vectors and TEXT cannot both be standard input
$hint"
	run -2 --separate-stderr embpool -v voc.emb a b
	assert_equal "$stderr" "embpool: extra operand 'b'
$hint"
	assert_output ""
}

@test "embpool: a byte order mark, a last line without a newline" {
	printf '\xef\xbb\xbfalpha beta\nGamma' > bom.txt
	printf 'alpha beta\nGamma\n' > plain.txt
	run --separate-stderr embpool -q -v voc.emb bom.txt
	assert_success
	assert_equal "$stderr" "embpool: bom.txt:2: last line has no newline (file cut short?)"
	embpool -q -v voc.emb bom.txt > a.emb 2>/dev/null
	embpool -q -v voc.emb plain.txt > b.emb
	same a.emb b.emb
	printf '\xef\xbb\xbfalpha 3\n' > w.txt
	embpool -q -v voc.emb --weights w.txt plain.txt > c.emb
	printf 'alpha 3\n' > w2.txt
	embpool -q -v voc.emb --weights w2.txt plain.txt > d.emb
	same c.emb d.emb
	run ! same c.emb b.emb
}

@test "embpool: --mean, --sum and --max exclude each other in every pair" {
	printf 'the cat\n' > t1.txt
	local opts=(--mean --sum --max)
	for a in "${opts[@]}"; do
		for b in "${opts[@]}"; do
			if [ "$a" = "$b" ]; then
				run -0 embpool -q -v voc.emb $a $b t1.txt
				continue
			fi
			run -2 --separate-stderr embpool -v voc.emb $a $b t1.txt
			assert_output ""
			assert_equal "$stderr" "embpool: options $a and $b cannot be used together
Try 'embpool --help' for more information."
		done
	done
}

@test "embpool: keyless word vectors and non-finite values are errors" {
	cut -f2- voc.tsv | embcat -O emb > nokeys.emb
	run -1 --separate-stderr embpool -v nokeys.emb texts.txt
	assert_output ""
	assert_equal "$stderr" "embpool: nokeys.emb has no keys: word vectors are looked up by word"
	oracle -c '
import sys, numpy as np, oracle
x = np.ones((3, 4), np.float32); x[1, 3] = np.nan
sys.stdout.buffer.write(oracle.write(x, keys=["a", "b", "c"]))' > nan.emb
	at=$(oracle -c '
import numpy as np
x = np.ones(4, np.float32); x[3] = np.nan
print(open("nan.emb", "rb").read().find(x.tobytes()))')
	run -1 --separate-stderr embpool -v nan.emb texts.txt
	assert_equal "$stderr" "embpool: nan.emb: byte $at: value is not finite"
}
