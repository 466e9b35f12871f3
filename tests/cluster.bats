#!/usr/bin/env bats
# Sharded jobs on real engines: GNU parallel on this machine's cores, GNU
# parallel over ssh to a private sshd, and Slurm job arrays on a private
# single-node slurmctld + slurmd, all on 127.0.0.1.  Each engine runs
#  - a row-wise job (a saved transform and paired cosine per shard), and
#  - the fit-and-search job (whitening fitted from per-shard partials,
#    exact top-k merged from per-shard embcos --partial lists).
# Every merged result is compared with one process over the whole stream.
# The job commands live in tests/cluster_helper.bash.  Run by
# 'make check-cluster', not by 'make check'.  A daemon that does not start
# fails the tests that need it, with its log; nothing is skipped.
load test_helper
load cluster_helper

SHARDS=4

setup_file() {
	export CL_T=$BATS_FILE_TMPDIR
	export CL_HELPER=$BATS_TEST_DIRNAME/cluster_helper.bash
	export PARALLEL_HOME=$CL_T/parallel
	mkdir -p "$PARALLEL_HOME" "$CL_T/slurm/job"
	touch "$PARALLEL_HOME/will-cite"

	# Row-wise data: keyed pieces of random sizes (one of 1 row, one empty)
	# in one file, one chunk each, so --shard deals several chunks.
	local d=$CL_T/rw i n
	mkdir -p "$d"
	for i in 0 1 2 3 4 5 6; do
		case $i in 2) n=1 ;; 4) n=0 ;; *) n=$((200 + RANDOM % 400)) ;; esac
		embgen -n "$n" -d 16 -s "$((RANDOM + 1))" --anisotropic --prefix="p${i}_"
	done > "$d/db.emb"
	embcenter --abtt=2 --save "$d/c.model" "$d/db.emb" > /dev/null
	rowwise_one "$d/db.emb" "$d/c.model" > "$d/one"

	# Fit-and-search data: keyless rows, so top-k names DB rows by number.
	d=$CL_T/fit
	mkdir -p "$d"
	for i in 0 1 2; do
		embgen -n 1000 -d 16 -s "$((RANDOM + 1))" --anisotropic
	done > "$d/db.emb"
	embgen -n 40 -d 16 -s "$((RANDOM + 1))" --anisotropic > "$d/q.emb"
	export CL_DB=$d/db.emb CL_ROWS=3000

	# A port found free can be taken before the daemon binds it: then try
	# other ports, up to three times.
	local try
	for try in 1 2 3; do
		export CL_SSH_PORT=$(free_ports 1)
		if start_sshd > "$CL_T/sshd.why" 2>&1; then
			touch "$CL_T/sshd.up"
			break
		fi
		stop "$CL_T/ssh/sshd.pid" "$CL_T/sshd.run"
		grep -qi 'address already in use' "$CL_T/sshd.why" || break
	done
	export CL_SSH CL_SSH_LOGIN
	for try in 1 2 3; do
		export CL_SLURM_PORTS=$(free_ports 2)
		if start_slurm > "$CL_T/slurm.why" 2>&1; then
			touch "$CL_T/slurm.up"
			break
		fi
		stop "$CL_T/slurm/slurmd.pid" "$CL_T/slurm/slurmctld.pid" "$CL_T/slurmd.run" \
			"$CL_T/slurmctld.run"
		grep -qi 'address already in use' "$CL_T/slurm.why" || break
	done
}

teardown_file() {
	stop_all
}

need_sshd() {
	[ -e "$CL_T/sshd.up" ] || { cat "$CL_T/sshd.why"; return 1; }
}
need_slurm() {
	[ -e "$CL_T/slurm.up" ] || { cat "$CL_T/slurm.why"; return 1; }
}

# workdir NAME JOB: a fresh directory $CL_T/NAME holding a copy of JOB's
# data (rw or fit; copies, as rsync would send links as links), made the
# current directory.
workdir() {
	local f
	rm -rf "${CL_T:?}/$1"
	mkdir -p "$CL_T/$1"
	for f in "$CL_T/$2"/*.emb "$CL_T/$2"/*.model; do
		if [ -e "$f" ]; then cp "$f" "$CL_T/$1"/; fi
	done
	cd "$CL_T/$1"
}

# random_shards: SHARDS lines 'K A B', shard K = rows A..B-1 of CL_ROWS;
# the shards' sizes are a random order of 0, 1, a and the rest, so every
# split has an empty and a 1-row shard.
random_shards() {
	local a=$((2 + RANDOM % (CL_ROWS - 4))) k=0 c=0 s
	for s in $(printf '%s\n' 0 1 "$a" "$((CL_ROWS - 1 - a))" | shuf); do
		echo "$k $c $((c + s))"
		k=$((k + 1))
		c=$((c + s))
	done
}

# check_rowwise MERGED: the engine's result equals one process, byte for byte.
check_rowwise() {
	[ "$(wc -l < "$CL_T/rw/one")" -gt 500 ]
	cmp "$CL_T/rw/one" "$1"
}

# fit_one: the one-process fit and search, once for all engines.
fit_one() {
	[ -s "$CL_T/fit/one/top" ] && return 0
	mkdir -p "$CL_T/fit/one"
	one_job "$CL_DB" "$CL_T/fit/q.emb" "$CL_T/fit/one"
}

# check_fit OUT: OUT/top equals the one-process top-k byte for byte; the
# merged model's values (f64) equal the one-pass model's to 1e-9 relative
# to each row's largest; the stream whitened by either differs by at most
# 2^-21 of its row's largest value (a few f32 roundings).
check_fit() {
	fit_one
	[ "$(wc -l < "$CL_T/fit/one/top")" -eq $((40 * CL_K)) ]
	cmp "$CL_T/fit/one/top" "$1/top"
	oracle -c '
import sys, numpy as np
def load(path, keyed):
    rows = [l.rstrip("\n").split("\t") for l in open(path)]
    if not keyed:
        return None, np.array(rows, float)
    return [r[0] for r in rows], np.array([r[1:] for r in rows], float)
def close(what, one, got, tol, keyed):
    k1, a = load(one, keyed); k2, b = load(got, keyed)
    if a.shape != b.shape or (keyed and k1 != k2):
        sys.exit("%s: shapes %s and %s or keys differ" % (what, a.shape, b.shape))
    scale = np.maximum(np.abs(a).max(axis=1, keepdims=True), 1e-300)
    err = (np.abs(a - b) / scale).max()
    print("%s: largest difference %.3g of the row scale (bound %g)" % (what, err, tol))
    if not err <= tol:
        sys.exit(1)
close("model", sys.argv[1], sys.argv[2], 1e-9, True)
close("whitened", sys.argv[3], sys.argv[4], 2.0 ** -21, False)
' <(embcat -O tsv "$CL_T/fit/one/model") <(embcat -O tsv "$1/model") \
		<(embcat -O tsv "$CL_T/fit/one/white") <(embcat -O tsv "$1/white")
}

@test "GNU parallel -j: a row-wise job over shards equals one process" {
	workdir par-rw rw
	parallel -j "$(nproc)" \
		'rowwise_split {} 4 db.emb > s{}.emb && rowwise_map s{}.emb c.model > s{}.out' \
		::: 0 1 2 3 < /dev/null
	rowwise_reduce s0.out s1.out s2.out s3.out > merged
	check_rowwise merged
}

@test "GNU parallel -j: fit by partials and top-k by shards equal one process" {
	workdir par-fit fit
	random_shards > shards.txt
	echo "shards (K A B): $(cat shards.txt)"
	parallel -j "$(nproc)" --colsep ' ' \
		'fit_split {2} {3} db.emb > s{1}.emb && map_job s{1}.emb q.emb' \
		:::: shards.txt < /dev/null
	mkdir out
	reduce_job out s0 s1 s2 s3
	check_fit out
}

@test "GNU parallel over ssh: a row-wise job over shards equals one process" {
	need_sshd
	workdir ssh-rw rw
	local k
	for k in 0 1 2 3; do
		rowwise_split $k $SHARDS db.emb > s$k.emb
	done
	parallel --ssh "$CL_SSH" -S "2/$CL_SSH_LOGIN" --workdir "$CL_T/remote" \
		--env rowwise_map --basefile c.model --trc {.}.out \
		'rowwise_map {} c.model > {.}.out' ::: s0.emb s1.emb s2.emb s3.emb < /dev/null
	rowwise_reduce s0.out s1.out s2.out s3.out > merged
	check_rowwise merged
	# The jobs ran through the private sshd and --cleanup removed their files.
	grep -q 'Accepted publickey' "$CL_T/sshd.out"
	[ ! -e "$CL_T/remote/s0.emb" ]
	[ ! -e "$CL_T/remote/s0.out" ]
}

@test "GNU parallel over ssh: fit by partials and top-k by shards equal one process" {
	need_sshd
	workdir ssh-fit fit
	random_shards > shards.txt
	echo "shards (K A B): $(cat shards.txt)"
	local k a b
	while read -r k a b; do
		fit_split "$a" "$b" db.emb > s$k.emb
	done < shards.txt
	parallel --ssh "$CL_SSH" -S "2/$CL_SSH_LOGIN" --workdir "$CL_T/remote" \
		--env map_job --env CL_K --env CL_TOPK_FLAGS --basefile q.emb \
		--transferfile {} --return {.}.part --return {.}.top --cleanup \
		'map_job {} q.emb' ::: s0.emb s1.emb s2.emb s3.emb < /dev/null
	mkdir out
	reduce_job out s0 s1 s2 s3
	check_fit out
	[ ! -e "$CL_T/remote/s0.emb" ]
	[ ! -e "$CL_T/remote/s0.top" ]
}

@test "Slurm array + afterok: a row-wise job over shards equals one process" {
	need_slurm
	workdir slurm-rw rw
	cat > map.sh <<-'EOF'
	#!/bin/bash
	. "$CL_HELPER" || exit 1
	k=$SLURM_ARRAY_TASK_ID
	rowwise_split $k $SLURM_ARRAY_TASK_COUNT db.emb > s$k.emb &&
		rowwise_map s$k.emb c.model > s$k.out
	EOF
	cat > reduce.sh <<-'EOF'
	#!/bin/bash
	. "$CL_HELPER" || exit 1
	rowwise_reduce s0.out s1.out s2.out s3.out > merged
	EOF
	local job=$CL_T/slurm/job map reduce
	map=$(sbatch --parsable --array=0-$((SHARDS - 1)) -J rw-map \
		-o "$job/rw-map-%a.out" -e "$job/rw-map-%a.err" map.sh)
	reduce=$(sbatch --parsable --dependency=afterok:$map -J rw-reduce \
		-o "$job/rw-reduce.out" -e "$job/rw-reduce.err" reduce.sh)
	slurm_wait "$map" 60
	slurm_wait "$reduce" 60
	check_rowwise merged
}

@test "Slurm array + afterok: fit by partials and top-k by shards equal one process" {
	need_slurm
	workdir slurm-fit fit
	random_shards > shards.txt
	echo "shards (K A B): $(cat shards.txt)"
	cat > map.sh <<-'EOF'
	#!/bin/bash
	. "$CL_HELPER" || exit 1
	read -r k a b < <(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" shards.txt)
	fit_split "$a" "$b" db.emb > s$k.emb && map_job s$k.emb q.emb
	EOF
	cat > reduce.sh <<-'EOF'
	#!/bin/bash
	. "$CL_HELPER" || exit 1
	mkdir -p out && reduce_job out s0 s1 s2 s3
	EOF
	local job=$CL_T/slurm/job map reduce
	map=$(sbatch --parsable --array=0-$((SHARDS - 1)) -J fit-map \
		-o "$job/fit-map-%a.out" -e "$job/fit-map-%a.err" map.sh)
	reduce=$(sbatch --parsable --dependency=afterok:$map -J fit-reduce \
		-o "$job/fit-reduce.out" -e "$job/fit-reduce.err" reduce.sh)
	slurm_wait "$map" 60
	slurm_wait "$reduce" 60
	check_fit out
}

@test "every daemon stops and nothing is left listening" {
	stop_all
	local f
	for f in "$CL_T/ssh/sshd.pid" "$CL_T/slurm/slurmd.pid" "$CL_T/slurm/slurmctld.pid"; do
		if kill -0 "$(cat "$f")" 2> /dev/null; then
			echo "$f: process $(cat "$f") still runs"
			return 1
		fi
	done
}
