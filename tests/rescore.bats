#!/usr/bin/env bats
# Runs out of the search programs: embcos --topk / --merge / --candidates
# and emblsh --db with --format trec, read back by embeval and by
# tests/eval_oracle.py (trec_eval's definitions); embcos --candidates
# against numpy over the candidate sets (tests/rescore_check.py).
load test_helper

setup_file() {
	export D="$BATS_FILE_TMPDIR"
	cd "$D"
	gen_tsv 300 37 3 keys | sed 's/^w/d/' > db.tsv
	gen_tsv 12 37 4 keys | sed 's/^w/q/' > q.tsv
	embcat -O emb db.tsv > db.emb
	embcat -O emb q.tsv > q.emb
	# keyless: rows are named by their numbers
	gen_tsv 150 16 5 > kdb.tsv
	gen_tsv 7 16 6 > kq.tsv
	embcat -O emb kdb.tsv > kdb.emb
	embcat -O emb kq.tsv > kq.emb
}

rcheck() {
	oracle "$EMB_SRCDIR/tests/rescore_check.py" "$@"
}

# topk_of TREC: the TREC lines as topk lines (qkey dbkey score rank).
topk_of() {
	awk 'NF != 6 || $2 != "Q0" { exit 1 } { print $1 "\t" $3 "\t" $5 "\t" $4 }' "$1"
}

@test "--format trec: the --topk lines, columns moved, Q0 and the tag added" {
	cd "$D"
	for f in cos dot euclidean; do
		embcos --$f -k 9 --db db.emb q.emb > top
		embcos --$f -k 9 --format trec --db db.emb q.emb > run
		topk_of run | cmp - top
		run awk '{ print $6 }' run
		[ "$(sort -u <<< "$output")" = embutils ]
		[ "$(wc -l < run)" = 108 ]
	done
	embcos -k 4 --format trec --run-tag exp-1 --db kdb.emb kq.emb > run
	embcos -k 4 --db kdb.emb kq.emb > top
	topk_of run | cmp - top
	run awk '{ print $1, $2, $6 }' run
	[ "${lines[0]}" = "1 Q0 exp-1" ]
	[ "$(awk '{ print $6 }' run | sort -u)" = exp-1 ]
	# blank-separated, one space each, as trec_eval's own runs
	! grep -q "$(printf '\t')" run
	! grep -q '  ' run
}

@test "--format trec: emblsh --db and embcos --merge print the same lines as without" {
	cd "$D"
	emblsh -L 4 -P 2 -k 6 --db db.emb q.emb > top
	emblsh -L 4 -P 2 -k 6 --format trec --db db.emb q.emb > run
	topk_of run | cmp - top
	emblsh -L 4 -k 3 --format trec --run-tag lsh --db kdb.emb kq.emb > run
	emblsh -L 4 -k 3 --db kdb.emb kq.emb > top
	topk_of run | cmp - top
	[ "$(awk '{ print $6 }' run | sort -u)" = lsh ]
	embcat --rows=:100 db.emb > s1.emb
	embcat --rows=100: db.emb > s2.emb
	embcos -k 5 --partial --db s1.emb q.emb > p1
	embcos -k 5 --partial --db s2.emb q.emb > p2
	embcos --merge --format trec p2 p1 > run
	embcos -k 5 --format trec --db db.emb q.emb | cmp - run
}

@test "--format trec round trip: embeval --qrels gives the same numbers as the topk run and as trec_eval's definitions" {
	cd "$D"
	for seed in 1 2 3; do
		oracle -c '
import sys, numpy as np
rng = np.random.default_rng(int(sys.argv[1]))
for q in range(12):
    if q == 5:
        continue   # a query with no judgements
    for d in rng.choice(300, 40, replace=False):
        print("q%d 0 d%d %d" % (q, d, rng.integers(0, 4)))
' "$seed" > qrels.txt
		embcos -k 30 --db db.emb q.emb > top
		embcos -k 30 --format trec --run-tag s$seed --db db.emb q.emb > run
		embeval --qrels qrels.txt -m map -m recip_rank -m ndcg_cut.10 -m P.5 -m recall.20 \
			-m success.1 --json -q top > a.json
		embeval --qrels qrels.txt -m map -m recip_rank -m ndcg_cut.10 -m P.5 -m recall.20 \
			-m success.1 --json -q run > b.json
		cmp a.json b.json
		oracle "$EMB_SRCDIR/tests/eval_oracle.py" qrels qrels.txt run -m map -m recip_rank \
			-m ndcg_cut.10 -m P.5 -m recall.20 -m success.1 > o.json
		oracle "$EMB_SRCDIR/tests/eval_oracle.py" compare b.json o.json 1e-9
	done
}

@test "--format trec: a key with a blank, an empty key and bad tags are errors" {
	cd "$D"
	printf 'a b\t1\t0\nc\t0\t1\n' > blank.tsv
	printf 'q\t1\t0\n' > one.tsv
	run embcos -k 2 --format trec --db blank.tsv one.tsv
	assert_failure 1
	assert_output --partial "embcos: --format trec: database key 'a b' holds a blank: TREC runs separate fields by blanks"
	# the topk format has no such limit
	run embcos -k 2 --db blank.tsv one.tsv
	assert_success
	assert_line --index 0 "$(printf 'q\ta b\t1\t1')"
	run emblsh -k 2 --format trec --db one.tsv blank.tsv
	assert_failure 1
	assert_output --partial "emblsh: --format trec: query key 'a b' holds a blank"
	run embcos -k 2 --format trec --run-tag 'a b' --db db.emb q.emb
	assert_failure 2
	assert_line --index 0 "embcos: --run-tag wants one word without blanks, not 'a b'"
	run embcos -k 2 --run-tag x --db db.emb q.emb
	assert_failure 2
	assert_line --index 0 "embcos: --run-tag is only for --format trec"
	run emblsh --format trec db.emb
	assert_failure 2
	assert_line --index 0 "emblsh: --format needs --db"
}

@test "--candidates: the K best of each query's pairs, as numpy, from every list format" {
	cd "$D"
	for seed in 1 2 3; do
		for fmt in pairs2 pairs3 topk trec; do
			rcheck gen $seed q.tsv db.tsv 400 $fmt > c.txt
			for f in cos dot euclidean manhattan; do
				embcos --$f --candidates c.txt -k 5 --db db.emb q.emb > out
				rcheck check q.tsv db.tsv c.txt out 5 $f 1e-7
			done
			embcos --candidates c.txt -k 3 --format trec --db db.tsv q.tsv > out
			rcheck check q.tsv db.tsv c.txt out 3 cos 1e-7
		done
	done
	# K beyond the candidates: all of them
	rcheck gen 4 q.tsv db.tsv 30 pairs2 > c.txt
	embcos --candidates c.txt -k 1000 --db db.emb q.emb > out
	rcheck check q.tsv db.tsv c.txt out 1000 cos 1e-7
}

@test "--candidates: keyless rows by their numbers; --topk and emblsh output as lists" {
	cd "$D"
	rcheck gen 7 kq.emb kdb.emb 200 pairs2 > c.txt
	head -n 3 c.txt | grep -qE '^[0-9]+	[0-9]+$'
	embcos --candidates c.txt -k 4 --db kdb.emb kq.emb > out
	rcheck check kq.emb kdb.emb c.txt out 4 cos 1e-7
	# a search's output rescored in fewer dimensions (a Matryoshka cascade)
	embcos -k 40 --dims=:6 --db kdb.emb kq.emb > c.txt
	embcos --candidates c.txt -k 4 --db kdb.emb kq.emb > out
	rcheck check kq.emb kdb.emb c.txt out 4 cos 1e-7
	emblsh -L 2 -k 30 --format trec --db db.emb q.emb > c.txt
	embcos --candidates c.txt -k 5 --db db.emb q.emb > out
	rcheck check q.tsv db.tsv c.txt out 5 cos 1e-7
	# a shard's rows keep their global numbers
	embcat --rows=50: kdb.emb > shard.emb
	embcos -k 10 --db shard.emb kq.emb > c.txt
	awk '$2 <= 50 { exit 1 }' c.txt
	embcos --candidates c.txt -k 10 --db shard.emb kq.emb | cmp - c.txt
}

@test "--candidates: every pair listed gives --topk --exclude-self byte for byte" {
	cd "$D"
	embcat --rows=:80 db.emb > x.emb
	oracle -c '
for i in range(80):
    for j in range(80):
        if i != j:
            print("d%d\td%d" % (i, j))
' > all.txt
	embcos --candidates all.txt -k 7 --db x.emb x.emb > out
	embcos -k 7 --exclude-self --db x.emb x.emb | cmp - out
	# emblsh --candidates lists a pair of one file once: both orders, as emblsh(1) shows
	emblsh --candidates -L 2 -B 4 x.emb | awk -F '\t' -v OFS='\t' '{ print $1, $2; print $2, $1 }' > c.txt
	embcos --candidates c.txt -k 5 --db x.emb x.emb > out
	embcat -O tsv x.emb > x.tsv
	rcheck check x.tsv x.tsv c.txt out 5 cos 1e-7
}

@test "--candidates: equal scores go to the lower database row" {
	cd "$D"
	# rows 2, 4 and 5 are the same vector; row 1 is longer but as near (cos)
	printf 'a\t1\t0\nb\t2\t1\nc\t3\t1\nd\t0\t1\ne\t2\t1\nf\t2\t1\n' > tie.tsv
	printf 'q\t1\t0.5\nr\t0\t1\n' > tq.tsv
	printf 'q\tf\nq\te\nq\tb\nq\tf\nr\td\nq\ta\n' > c.txt
	run embcos --candidates c.txt -k 3 --db tie.tsv tq.tsv
	assert_success
	assert_output "q	b	1	1
q	e	1	2
q	f	1	3
r	d	1	1"
	rcheck check tq.tsv tie.tsv c.txt <(echo "$output") 3 cos 1e-9
	# --dot: b, e, f tie at 2.5 again; a and c differ
	printf 'q\tc\nq\tf\nq\tb\nq\ta\n' > c.txt
	embcos --dot --candidates c.txt -k 4 --db tie.tsv tq.tsv > out
	rcheck check tq.tsv tie.tsv c.txt out 4 dot 1e-9
	[ "$(cut -f2 out | paste -sd,)" = c,b,f,a ]
}

@test "--candidates: queries with no pairs are counted; an empty list" {
	cd "$D"
	printf 'q1\td3\nq1\td4\nq7\td9\n' > c.txt
	run --separate-stderr embcos --candidates c.txt -k 2 --db db.emb q.emb
	assert_success
	[ "${#lines[@]}" = 3 ]
	[ "$stderr" = "embcos: 10 of 12 queries had no candidates in c.txt" ]
	: > empty.txt
	run --separate-stderr embcos --candidates empty.txt -k 2 --db db.emb q.emb
	assert_success
	[ -z "$output" ]
	[ "$stderr" = "embcos: 12 of 12 queries had no candidates in empty.txt" ]
	# from standard input
	printf 'q0\td0\n' | embcos --candidates - -k 1 --db db.emb q.emb 2> /dev/null | cut -f1,2 |
		cmp - <(printf 'q0\td0\n')
}

@test "--candidates: unknown keys and malformed lists name the line" {
	cd "$D"
	printf 'q1\td3\nq1\td300\n' > c.txt
	run embcos --candidates c.txt -k 2 --db db.emb q.emb
	assert_failure 1
	assert_output "embcos: c.txt:2: database key 'd300' is not in db.emb"
	printf 'q1\td3\nq99\td4\n' > c.txt
	run embcos --candidates c.txt -k 2 --db db.emb q.emb
	assert_failure 1
	assert_output "embcos: c.txt:2: query key 'q99' is not in q.emb"
	printf 'q1\td3\nq1\n' > c.txt
	run embcos --candidates c.txt -k 2 --db db.emb q.emb
	assert_failure 1
	assert_output "embcos: c.txt:2: expected 3 fields (key key [score]), found 1"
	printf 'q1 d3 1 2 3\n' > c.txt
	run embcos --candidates c.txt -k 2 --db db.emb q.emb
	assert_failure 1
	assert_output --partial "embcos: c.txt:1: a candidate list has 2 or 3 fields"
	# nothing is printed before the bad line is found
	printf 'q0\td3\nq1\tnope\n' > c.txt
	run --separate-stderr embcos --candidates c.txt -k 2 --db db.emb q.emb
	[ "$status" = 1 ] && [ -z "$output" ]
}

@test "--candidates: bad usage" {
	cd "$D"
	run embcos --candidates c.txt --db db.emb q.emb
	assert_failure 2
	assert_line --index 0 "embcos: --candidates needs --db=DB and -k K"
	run embcos --candidates c.txt -k 2 q.emb
	assert_failure 2
	assert_line --index 0 "embcos: --candidates needs --db=DB and -k K"
	run embcos --candidates c.txt -k 2 --softmax 1 --db db.emb q.emb
	assert_failure 2
	run embcos --candidates c.txt -k 2 --exclude-self --db db.emb q.emb
	assert_failure 2
	assert_line --index 0 "embcos: --exclude-self is only for --topk"
	run embcos --candidates - -k 2 --db db.emb
	assert_failure 2
	assert_line --index 0 "embcos: --candidates and QUERIES cannot both be standard input"
	run embcos --candidates - -k 2 --db db.emb - < q.emb
	assert_failure 2
	run embcos --candidates c.txt --pairs p.txt -k 2 --db db.emb q.emb
	assert_failure 2
	assert_line --index 0 "embcos: options --candidates and --pairs cannot be used together"
	run embcos --format trec --matrix q.emb
	assert_failure 2
	assert_line --index 0 "embcos: --format is only for --topk, --candidates and --merge"
	run embcos -k 2 --partial --format trec --db db.emb q.emb
	assert_failure 2
	assert_line --index 0 "embcos: options --partial and --format cannot be used together"
}

@test "write errors: --format trec and --candidates" {
	cd "$D"
	run bash -c 'embcos -k 20 --format trec --db db.emb q.emb > /dev/full'
	assert_failure 1
	assert_output "embcos: write error: No space left on device"
	run bash -c 'emblsh -L 4 -P 4 -k 3 --format trec --db db.emb q.emb > /dev/full'
	assert_failure 1
	assert_output "emblsh: write error: No space left on device"
	embcos -k 50 --db db.emb q.emb > c.txt
	run bash -c 'embcos --candidates c.txt -k 50 --db db.emb q.emb > /dev/full'
	assert_failure 1
	assert_output "embcos: write error: No space left on device"
}
