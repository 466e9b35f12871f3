#!/usr/bin/env bats
# embeval: every number against tests/eval_oracle.py, an independent
# Python implementation of each definition (trec_eval, ann-benchmarks,
# big-ann-benchmarks, FAISS).  pytrec_eval and ir_measures are not in
# Debian, so the oracle is the reference.  Values are compared at full
# precision through --json (tolerance 1e-12), and the text lines against
# trec_eval's format applied to those values.
load test_helper

eo() {
	oracle "$EMB_SRCDIR/tests/eval_oracle.py" "$@"
}

# same_as_oracle ORACLE-ARGS -- EMBEVAL-ARGS: embeval --json -q must equal
# the oracle.  The case is recorded with copies of its input files and
# checked by check_oracle, all cases in one Python process (one process
# per case was most of this file's time); teardown fails a test that left
# cases unchecked.
same_as_oracle() {
	local o=() a n dir="$BATS_TEST_TMPDIR/cases.d"
	mkdir -p "$dir"
	n=$(($(ls "$dir" | wc -l) + 1))
	mkdir "$dir/$n"
	while [ "$1" != -- ]; do
		a=$1
		if [ -f "$a" ]; then
			cp "$a" "$dir/$n/${a##*/}"
			a=$dir/$n/${a##*/}
		fi
		o+=("$a")
		shift
	done
	shift
	embeval "$@" --json -q > "$dir/$n/embeval.json" 2> "$BATS_TEST_TMPDIR/a.err" ||
		{ echo "embeval $*: $(cat "$BATS_TEST_TMPDIR/a.err")"; return 1; }
	printf '%s\t%s\n' "${o[*]}" "$dir/$n/embeval.json" >> "$BATS_TEST_TMPDIR/cases"
}

# check_oracle: the cases recorded so far against the oracle, at 1e-12.
check_oracle() {
	[ -s "$BATS_TEST_TMPDIR/cases" ] || return 0
	eo batch "$BATS_TEST_TMPDIR/cases" 1e-12 || return 1
	echo "$(wc -l < "$BATS_TEST_TMPDIR/cases") cases agree" > "$BATS_TEST_TMPDIR/checked"
	rm -rf "$BATS_TEST_TMPDIR/cases" "$BATS_TEST_TMPDIR/cases.d"
}

teardown() {
	if [ -s "$BATS_TEST_TMPDIR/cases" ]; then
		echo "same_as_oracle cases never checked: call check_oracle"
		return 1
	fi
	oracle_unchecked
}

# text_matches_json ARGS: the text lines are trec_eval's format of the
# JSON values, per query in the JSON's order, then 'all'.
text_matches_json() {
	embeval "$@" -q > "$BATS_TEST_TMPDIR/t.txt" 2> /dev/null
	embeval "$@" -q --json 2> /dev/null | oracle -c '
import json, sys
j = json.load(sys.stdin)
for q, ms in j.get("queries", {}).items():
    for m, v in ms.items():
        print("%-22s\t%s\t%6.4f" % (m, q, v))
for m, v in j["all"].items():
    print("%-22s\t%s\t%6.4f" % (m, "all", v))
' | diff - "$BATS_TEST_TMPDIR/t.txt"
}

# vectors SEED: db.tsv (keyless, 200 x 8, rows 100..139 copies of 60..99
# so that neighbours tie) and q.tsv (15 queries, the first five equal to
# database rows, whose copies tie at rank 1).
vectors() {
	oracle -c '
import sys, numpy as np
rng = np.random.default_rng(int(sys.argv[1]))
x = rng.standard_normal((200, 8)).astype(np.float32)
x[100:140] = x[60:100]
q = rng.standard_normal((15, 8)).astype(np.float32)
q[:5] = x[60:65]
for name, a in (("db.tsv", x), ("q.tsv", q)):
    with open(name, "w") as f:
        for r in a:
            f.write("\t".join(repr(float(v)) for v in r) + "\n")
' "$1"
}

@test "trec_eval measures equal the oracle on random graded qrels, tied scores, missing queries" {
	cd "$BATS_TEST_TMPDIR"
	for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
		eo gen-qrels "$seed" .
		for run in run.trec run.tsv; do
			for c in "" -c; do
				all=(-m map -m recip_rank -m P -m recall -m ndcg_cut -m success)
				same_as_oracle qrels qrels.txt "$run" "${all[@]}" $c -- --qrels qrels.txt "${all[@]}" $c "$run"
				same_as_oracle qrels qrels.txt "$run" $c -- --qrels qrels.txt $c "$run"
				same_as_oracle qrels qrels.txt "$run" -m P.1,3 -m ndcg_cut.1,2,7 -m success.2 $c -- \
					--qrels=qrels.txt -m ndcg_cut.7,1,2 -m success.2 --measure=P.3,1 $c "$run"
			done
		done
		# the two run formats give the same numbers; the TREC run's rank column is ignored
		cmp <(embeval --qrels qrels.txt run.trec 2> /dev/null) <(embeval --qrels qrels.txt run.tsv 2> /dev/null)
		awk '{ $4 = 1000 - NR; print }' run.trec > shuffled.trec
		cmp <(embeval --qrels qrels.txt run.trec 2> /dev/null) <(embeval --qrels qrels.txt shuffled.trec 2> /dev/null)
		text_matches_json --qrels qrels.txt -m P -m ndcg_cut run.tsv
	done
	check_oracle
}

@test "trec_eval: ties by docno descending, rel 0 and negative judgements, queries with nothing relevant" {
	cd "$BATS_TEST_TMPDIR"
	# q1: d1 and d2 tie; trec_eval ranks d2 first (docno descending): MRR 1/2
	# q2: nothing relevant (0 and -1 judgements); q3: no results (not averaged)
	printf 'q1 0 d1 1\nq1 0 d3 0\nq2 0 d1 0\nq2 0 d2 -1\nq3 0 d1 2\n' > qrels.txt
	printf 'q1\td1\t0.5\t1\nq1\td2\t0.5\t2\nq1\td3\t0.1\t3\nq2\td2\t0.9\t1\nq4\td1\t1\t1\n' > run.tsv
	run --separate-stderr embeval --qrels qrels.txt -m recip_rank -m map -m P.1,5 -q run.tsv
	assert_success
	# trec_eval's order: map, recip_rank, P
	assert_equal "$output" "$(printf '%-22s\t%s\t%6.4f\n' map q1 0.5 recip_rank q1 0.5 P_1 q1 0 P_5 q1 0.2 \
		map q2 0 recip_rank q2 0 P_1 q2 0 P_5 q2 0 map all 0.25 recip_rank all 0.25 P_1 all 0 P_5 all 0.1)"
	assert_equal "$stderr" "embeval: run.tsv: 1 of 3 queries of qrels.txt have no results (not averaged; see -c)
embeval: run.tsv: 1 query not in qrels.txt (ignored)"
	same_as_oracle qrels qrels.txt run.tsv -m recip_rank -m map -m P.1,5 -m ndcg_cut -- \
		--qrels qrels.txt -m recip_rank -m map -m P.1,5 -m ndcg_cut run.tsv
	same_as_oracle qrels qrels.txt run.tsv -c -- --qrels qrels.txt -c run.tsv
	# with -c, q3 counts 0 in the means
	run --separate-stderr embeval --qrels qrels.txt -m recip_rank -c run.tsv
	assert_output "$(printf '%-22s\tall\t0.1667' recip_rank)"
	check_oracle
}

@test "trec_eval: an empty run is an error, or zeros with -c; standard input is the default run" {
	cd "$BATS_TEST_TMPDIR"
	printf 'q1 0 d1 1\nq2 0 d2 3\n' > qrels.txt
	: > empty.tsv
	run -1 --separate-stderr embeval --qrels qrels.txt empty.tsv
	assert_output ""
	assert_equal "${stderr_lines[-1]}" "embeval: no query of qrels.txt has results in empty.tsv"
	run --separate-stderr embeval --qrels qrels.txt -c -m ndcg_cut.10 -m success.1 empty.tsv
	assert_success
	assert_output "$(printf '%-22s\tall\t0.0000\n' ndcg_cut_10 success_1)"
	run --separate-stderr embeval --qrels qrels.txt -m P.1 < <(printf 'q2 Q0 d2 1 3.5 r\n')
	assert_output "$(printf '%-22s\tall\t1.0000' P_1)"
}

@test "recall equals the oracle: every tie rule, epsilon, --at, scores or vectors, several seeds" {
	cd "$BATS_TEST_TMPDIR"
	for seed in 1 2 3; do
		vectors "$seed"
		embcos --topk 30 --db db.tsv q.tsv > truth.tsv
		emblsh -L 2 -k 10 --seed "$seed" --db db.tsv q.tsv > lsh.tsv 2> /dev/null
		# exact results with some lines dropped and a query missing
		embcos --topk 12 --db db.tsv q.tsv | awk -v s="$seed" 'NR % (3 + s) != 0 && $1 != 4' > cut.tsv
		for run in lsh.tsv cut.tsv; do
			for opt in "-k 10" "-k 1" "-k 5 --at 3" "-k 10 --ties=none" "-k 10 --ties=groups" \
				   "-k 1 --ties=groups --at 2" "-k 3 --epsilon 0.1" "-k 10 --epsilon=0.01" \
				   "--at 1 --ties=none" "--at 1" "--at 4 --ties=groups"; do
				# shellcheck disable=SC2086
				same_as_oracle recall $opt truth.tsv "$run" -- --recall $opt truth.tsv "$run"
				# shellcheck disable=SC2086
				same_as_oracle recall $opt --db db.tsv --queries q.tsv truth.tsv "$run" -- \
					--recall $opt --db db.tsv --queries q.tsv truth.tsv "$run"
			done
		done
		text_matches_json --recall -k 10 --at 1 truth.tsv lsh.tsv
	done
	check_oracle
}

@test "recall: ties at rank K count under --ties=distance and groups, not under none" {
	cd "$BATS_TEST_TMPDIR"
	# true distances 0.1 0.2 0.2 0.2 (cosines 0.9 0.8 0.8 0.8); K = 2
	printf 'q\ta\t0.9\t1\nq\tb\t0.8\t2\nq\tc\t0.8\t3\nq\td\t0.8\t4\n' > truth.tsv
	printf 'q\ta\t0.9\t1\nq\td\t0.8\t2\n' > run.tsv
	for t in distance:1.0000 groups:1.0000 none:0.5000; do
		run embeval --recall -k 2 --ties="${t%:*}" truth.tsv run.tsv
		assert_output "$(printf '%-22s\tall\t%s' recall_2 "${t#*:}")"
	done
	# 0.7995 is within 0.2 + 1e-3 of the 2nd true distance; 0.7985 is not
	printf 'q\ta\t0.9\t1\nq\tx\t0.7995\t2\n' > near.tsv
	printf 'q\ta\t0.9\t1\nq\tx\t0.7985\t2\n' > far.tsv
	run embeval --recall -k 2 truth.tsv near.tsv
	assert_output --partial $'\tall\t1.0000'
	run embeval --recall -k 2 truth.tsv far.tsv
	assert_output --partial $'\tall\t0.5000'
	# epsilon multiplies: 0.2 * 1.01 = 0.202 takes cosine 0.7985 (0.2015)
	run embeval --recall -k 2 --epsilon 0.01 truth.tsv far.tsv
	assert_output --partial $'\tall\t1.0000'
	# FAISS 1-recall@1 by ids: a tie at rank 1 found first is a miss
	printf 'q\tb\t0.9\t1\nq\ta\t0.9\t2\n' > t1.tsv
	printf 'q\ta\t0.9\t1\n' > r1.tsv
	run embeval --recall --at 1 --ties=none t1.tsv r1.tsv
	assert_output --partial $'\tall\t0.0000'
	run embeval --recall --at 1 t1.tsv r1.tsv
	assert_output --partial $'\tall\t1.0000'
}

@test "recall: missing queries count 0 and are counted; empty and foreign runs" {
	cd "$BATS_TEST_TMPDIR"
	printf '1\t5\t0.9\t1\n2\t6\t0.8\t1\n3\t7\t0.7\t1\n' > truth.tsv
	printf '1\t5\t0.9\t1\n9\t1\t0.5\t1\n' > run.tsv
	run --separate-stderr embeval --recall -k 1 -q truth.tsv run.tsv
	assert_success
	assert_equal "$output" "$(printf '%-22s\t%s\t%6.4f\n' recall_1 1 1 recall_1 2 0 recall_1 3 0 recall_1 all 0.3333)"
	assert_equal "$stderr" "embeval: run.tsv: 2 of 3 queries have no results (counted as 0)
embeval: run.tsv: 1 query not in truth.tsv (ignored)"
	run --separate-stderr embeval --recall -k 1 truth.tsv /dev/null
	assert_output "$(printf '%-22s\tall\t0.0000' recall_1)"
	assert_equal "$stderr" "embeval: /dev/null: 3 of 3 queries have no results (counted as 0)"
	# the run on standard input
	run embeval --recall -k 1 truth.tsv < truth.tsv
	assert_output "$(printf '%-22s\tall\t1.0000' recall_1)"
	# either file may be a TREC run: the same numbers
	awk -F'\t' '{ print $1, "Q0", $2, $4, $3, "exact" }' truth.tsv > truth.trec
	awk -F'\t' '{ print $1, "Q0", $2, $4, $3, "approx" }' run.tsv > run.trec
	cmp <(embeval --recall -k 1 -q truth.tsv run.tsv 2>&1) <(embeval --recall -k 1 -q truth.trec run.trec 2>&1 |
		sed 's/\.trec/.tsv/g')
}

@test "recall: ivecs ground truth, 0-based, with and without vectors and keys" {
	cd "$BATS_TEST_TMPDIR"
	vectors 4
	embcos --topk 20 --db db.tsv q.tsv > truth.tsv
	emblsh -L 2 -k 10 --db db.tsv q.tsv > run.tsv 2> /dev/null
	oracle -c '
import numpy as np
ids = {}
for l in open("truth.tsv"):
    q, d, s, r = l.split("\t")
    ids.setdefault(q, []).append(int(d) - 1)
np.array([[len(v)] + v for v in ids.values()], dtype="<i4").tofile("gt.ivecs")
'
	for opt in "-k 10" "-k 10 --ties=groups" "--at 1 --ties=none" "-k 5 --epsilon 0.1"; do
		# shellcheck disable=SC2086
		same_as_oracle recall $opt --ivecs --db db.tsv --queries q.tsv gt.ivecs run.tsv -- \
			--recall $opt --db db.tsv --queries q.tsv gt.ivecs run.tsv
	done
	# without vectors: ids only, the same as the text truth
	cmp <(embeval --recall -k 10 --ties=none gt.ivecs run.tsv) <(embeval --recall -k 10 --ties=none truth.tsv run.tsv)
	cmp <(cat gt.ivecs | embeval --recall -k 10 --ties=none --truth-format=ivecs - run.tsv) \
		<(embeval --recall -k 10 --ties=none truth.tsv run.tsv)
	# keyed vectors: ivecs rows become their keys
	embcat --no-keys -O tsv db.tsv | awk '{ print "d" NR "\t" $0 }' > dbk.tsv
	embcat --no-keys -O tsv q.tsv | awk '{ print "q" NR "\t" $0 }' > qk.tsv
	embcos --topk 10 --db dbk.tsv qk.tsv > runk.tsv
	run embeval --recall -k 10 --db dbk.tsv --queries qk.tsv gt.ivecs runk.tsv
	assert_output "$(printf '%-22s\tall\t1.0000' recall_10)"
	run -2 --separate-stderr embeval --recall -k 10 gt.ivecs run.tsv
	assert_equal "${stderr_lines[0]}" "embeval: gt.ivecs is ivecs, which holds no distances: give --db and --queries, or --ties=none"
	check_oracle
}

# truth SEED: db.tsv and q.tsv (vectors SEED), their exact neighbours'
# ids (angular = 1 - cos) by numpy in gt.ibin, and with WITH_HDF5 set the
# ann-benchmarks files gt.hdf5 (ids and distances, as ann-benchmarks
# stores them) and nodist.hdf5 (ids only); a third of the queries' lists
# cut at 50 neighbours.
truth() {
	vectors "$1"
	oracle -c '
import os, numpy as np
x = np.loadtxt("db.tsv", dtype=np.float32); q = np.loadtxt("q.tsv", dtype=np.float32)
xn = x / np.linalg.norm(x, axis=1, keepdims=True); qn = q / np.linalg.norm(q, axis=1, keepdims=True)
d = 1 - (qn.astype(np.float64) @ xn.T.astype(np.float64))
ids = np.argsort(d, axis=1, kind="stable")[:, :50].astype(np.int32)
dist = np.take_along_axis(d, ids, axis=1).astype(np.float32)
with open("gt.ibin", "wb") as f:
    np.array(ids.shape, dtype=np.uint32).tofile(f); ids.tofile(f)
if os.environ.get("WITH_HDF5"):
    import h5py
    with h5py.File("gt.hdf5", "w") as f:
        f.attrs["distance"] = "angular"; f.attrs["point_type"] = "float"; f.attrs["dimension"] = x.shape[1]
        f["train"] = x; f["test"] = q; f["neighbors"] = ids; f["distances"] = dist
    with h5py.File("nodist.hdf5", "w") as f:
        f["neighbors"] = ids
'
	emblsh -L 2 -k 20 --db db.tsv q.tsv > run.tsv 2> /dev/null
}

@test "recall: big-ann ibin ground truth equals the numpy oracle" {
	cd "$BATS_TEST_TMPDIR"
	for seed in 5 6 7; do
		truth $seed
		for opt in "-k 10" "-k 10 --ties=groups" "--at 1 --ties=none" "-k 5 --epsilon 0.1" "-k 20 --at 5"; do
			# shellcheck disable=SC2086
			same_as_oracle recall $opt --ibin --db db.tsv --queries q.tsv gt.ibin run.tsv -- \
				--recall $opt --db db.tsv --queries q.tsv gt.ibin run.tsv
		done
		# from a pipe, named by --truth-format
		cmp <(cat gt.ibin | embeval --recall -k 10 --ties=none --truth-format=ibin - run.tsv) \
			<(embeval --recall -k 10 --ties=none gt.ibin run.tsv)
		cmp <(cat gt.ibin | embeval --recall -k 10 --db db.tsv --queries q.tsv --truth-format=ibin - run.tsv) \
			<(embeval --recall -k 10 --db db.tsv --queries q.tsv gt.ibin run.tsv)
	done
	run -2 --separate-stderr embeval --recall -k 10 gt.ibin run.tsv
	assert_equal "${stderr_lines[0]}" "embeval: gt.ibin is ibin, which holds no distances: give --db and --queries, or --ties=none"
	run -2 embeval --recall -k 1 --truth-format=nope gt.ibin run.tsv
	assert_line -n 0 "embeval: unknown --truth-format 'nope' (known: topk, ivecs, ibin, hdf5)"
	check_oracle
}

@test "recall: ann-benchmarks HDF5 ground truth (neighbors, distances) equals the numpy oracle and ibin's" {
	cd "$BATS_TEST_TMPDIR"
	printf '\211HDF\r\n\032\n' | embcat -I hdf5 2>&1 | grep -q 'built without HDF5' && skip "built without HDF5"
	for seed in 5 6 7; do
		WITH_HDF5=1 truth $seed
		for opt in "-k 10" "-k 10 --ties=groups" "--at 1 --ties=none" "-k 5 --epsilon 0.1" "-k 20 --at 5"; do
			# distances from the file
			# shellcheck disable=SC2086
			same_as_oracle recall $opt --hdf5 gt.hdf5 run.tsv -- --recall $opt gt.hdf5 run.tsv
			# distances from the vectors
			# shellcheck disable=SC2086
			same_as_oracle recall $opt --hdf5 --db db.tsv --queries q.tsv gt.hdf5 run.tsv -- \
				--recall $opt --db db.tsv --queries q.tsv gt.hdf5 run.tsv
		done
		# the same ids, whatever file holds them
		cmp <(embeval --recall -k 10 --ties=none gt.ibin run.tsv) <(embeval --recall -k 10 --ties=none gt.hdf5 run.tsv)
		cmp <(cat gt.hdf5 | embeval --recall -k 10 --ties=none - run.tsv) <(embeval --recall -k 10 --ties=none gt.hdf5 run.tsv)
		cmp <(cat gt.ibin | embeval --recall -k 10 --ties=none --truth-format=ibin - run.tsv) \
			<(embeval --recall -k 10 --ties=none gt.hdf5 run.tsv)
	done
	run -2 --separate-stderr embeval --recall -k 10 nodist.hdf5 run.tsv
	assert_equal "${stderr_lines[0]}" "embeval: nodist.hdf5 is HDF5, which holds no distances: give --db and --queries, or --ties=none"
	embcat -O tsv db.tsv > /dev/null
	oracle -c 'import h5py; f = h5py.File("nn.hdf5", "w"); f["train"] = [[1.0]]'
	run -1 --separate-stderr embeval --recall -k 1 --ties=none nn.hdf5 run.tsv
	assert_equal "$stderr" "embeval: nn.hdf5: no dataset 'neighbors' in the HDF5 file"
	oracle -c 'import h5py, numpy as np; f = h5py.File("neg.hdf5", "w"); f["neighbors"] = np.array([[0, 1], [2, -3]], dtype="i4")'
	run -1 --separate-stderr embeval --recall -k 1 --ties=none neg.hdf5 run.tsv
	assert_equal "$stderr" "embeval: neg.hdf5:2: neighbour -3 is negative (HDF5 holds 0-based rows)"
	# libhdf5 is loaded only to read an HDF5 file; when it cannot be, the
	# read fails naming it
	run -1 --separate-stderr env EMB_HDF5_LIBRARY=libembnope.so.0 embeval --recall -k 1 --ties=none gt.hdf5 run.tsv
	assert_equal "$stderr" "embeval: gt.hdf5: cannot load the HDF5 library (libembnope.so.0): libembnope.so.0: cannot open shared object file: No such file or directory"
	check_oracle
}

@test "the other similarities: distances are minus the scores" {
	cd "$BATS_TEST_TMPDIR"
	vectors 5
	for sim in dot euclidean manhattan; do
		embcos --$sim --topk 15 --db db.tsv q.tsv > truth.tsv
		embcos --$sim --topk 8 --db db.tsv q.tsv | awk 'NR % 3' > run.tsv
		for opt in "-k 8" "-k 4 --epsilon 0.1" "-k 8 --ties=groups"; do
			# shellcheck disable=SC2086
			same_as_oracle recall $opt --sim $sim truth.tsv run.tsv -- --recall $opt --$sim truth.tsv run.tsv
			# shellcheck disable=SC2086
			same_as_oracle recall $opt --sim $sim --db db.tsv --queries q.tsv truth.tsv run.tsv -- \
				--recall $opt --$sim --db db.tsv --queries q.tsv truth.tsv run.tsv
		done
	done
	check_oracle
}
