# Loaded by tests/cluster.bats, and by the Slurm job scripts it submits
# (which source only this file, so it must not need bats or test_helper).
#
# Part 1 holds every command the engines run: the only place the cluster
# tests name program flags.  man/embutils.7 (SCALING OUT) shows the same
# commands written out; change both together.  Part 2 starts and stops the
# private daemons.

#### Part 1: the job commands ############################################

# Neighbours per query, and the flags of the whitening fit.
CL_K=${CL_K:-10}
CL_WHITEN_FLAGS=${CL_WHITEN_FLAGS:--k 8}
# Flags of the per-shard embcos --topk whose lists embcos --merge reads:
# --partial (global rows and exact scores).  The one-process run never
# gets them: the merge must print what it prints.
CL_TOPK_FLAGS=${CL_TOPK_FLAGS---partial}
export CL_K CL_WHITEN_FLAGS CL_TOPK_FLAGS

# A row-wise job, runnable on main today: apply a transform fitted once on
# the whole stream (a --basefile) to each shard, then the paired cosine of
# each row before and after.  Rows are keyed, so shard outputs merge by
# concatenation; --shard deals chunks round-robin, so the order is not the
# input's and both sides are sorted.
#   rowwise_split K N DB > SHARD      rowwise_map SHARD MODEL > OUT
#   rowwise_reduce OUT... > RESULT    rowwise_one DB MODEL > RESULT
rowwise_split() { embcat --shard="$1/$2" "$3"; }
rowwise_map() { embcenter --load "$2" "$1" | embcos - "$1"; }
rowwise_reduce() { cat -- "$@" | sort; }
rowwise_one() { rowwise_map "$1" "$2" | sort; }

# The fit-and-search job: embcat --rows keeps global row numbers,
# embwhiten --partial/--merge fits, embcos --partial/--merge searches.
#   fit_split A B DB > SHARD     rows A..B-1 of DB, keeping their numbers
#   map_job SHARD.emb Q          SHARD.part (whitening statistics) and
#                                SHARD.top (top-k of Q's rows in SHARD)
#   reduce_job OUT SHARD...      OUT/model from the partials, OUT/top from
#                                the shards' top-k, OUT/white = DB whitened
#                                by OUT/model (DB is $CL_DB)
#   one_job DB Q OUT             the same three files from one process
fit_split() { embcat --rows="$1:$2" "$3"; }
map_job() {
	embwhiten --partial "$1" > "${1%.emb}.part" &&
		embcos -k "$CL_K" $CL_TOPK_FLAGS --db "$1" "$2" > "${1%.emb}.top"
}
reduce_job() {
	local out=$1 s parts=() tops=()
	shift
	for s; do
		parts+=("$s.part")
		tops+=("$s.top")
	done
	embwhiten $CL_WHITEN_FLAGS --merge "${parts[@]}" --save "$out/model" > /dev/null &&
		embcos --merge -k "$CL_K" "${tops[@]}" > "$out/top" &&
		embwhiten --load "$out/model" "$CL_DB" > "$out/white"
}
one_job() {
	embwhiten $CL_WHITEN_FLAGS --save "$3/model" "$1" > "$3/white" &&
		embcos -k "$CL_K" --db "$1" "$2" > "$3/top"
}
export -f rowwise_split rowwise_map rowwise_reduce rowwise_one
export -f fit_split map_job reduce_job one_job

#### Part 2: private daemons ###############################################

# free_ports N: N distinct TCP ports that nothing listens on, picked at
# random from 20000-59999 (a fixed port would collide with a second run).
# The daemons that take them fail to bind if another process wins the race,
# and the tests then fail with the daemon's log.
free_ports() {
	local n=$1 used p got=()
	used=$(ss -Htan | awk '{ sub(/.*:/, "", $4); print $4 }')
	while [ ${#got[@]} -lt "$n" ]; do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		grep -qx "$p" <<< "$used" && continue
		case " ${got[*]} " in *" $p "*) continue ;; esac
		got+=("$p")
	done
	echo "${got[@]}"
}

# listening PORT: something listens on TCP PORT (any address).
listening() {
	ss -Htln "sport = :$1" | grep -q .
}

# wait_for SECONDS COMMAND...: poll COMMAND every 0.2 s until it succeeds.
wait_for() {
	local n=$(($1 * 5))
	shift
	while ! "$@" 2> /dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.2
	done
}

# daemon NAME SECONDS COMMAND...: start COMMAND in the background under a
# timeout of SECONDS (a backstop should nobody stop it) with its output in
# $CL_T/NAME.out; the timeout's pid goes to $CL_T/NAME.run.  fd 3 is closed
# or bats would wait for the daemon to exit.
daemon() {
	local name=$1 secs=$2
	shift 2
	timeout -k 5 "$secs" "$@" > "$CL_T/$name.out" 2>&1 < /dev/null 3>&- &
	echo $! > "$CL_T/$name.run"
}

# stop PIDFILE...: TERM each pid named in a PIDFILE, then KILL it after 5 s.
stop() {
	local f pid pids=() i
	for f; do
		[ -s "$f" ] && pid=$(cat "$f") && kill -0 "$pid" 2> /dev/null && pids+=("$pid")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2> /dev/null
	for i in $(seq 25); do
		kill -0 "${pids[@]}" 2> /dev/null || return 0
		sleep 0.2
	done
	kill -KILL "${pids[@]}" 2> /dev/null
	return 0
}

# why NAME LOG...: a one-line reason and the tails of the logs, on stdout.
why() {
	local name=$1 f
	shift
	echo "$name did not start or does not accept the test's jobs; its logs:"
	for f; do
		[ -s "$f" ] && { echo "--- $f"; tail -n 15 "$f"; }
	done
}

# start_sshd: a private sshd on 127.0.0.1:$CL_SSH_PORT with its own host
# key, authorised key and config in $CL_T/ssh; sets CL_SSH (the ssh command
# for parallel --ssh) and CL_SSH_LOGIN.  On failure prints why.
start_sshd() {
	local d=$CL_T/ssh user
	user=$(id -un)
	rm -rf "$d" && mkdir -p "$d" || return 1
	if [ "$(id -u)" = 0 ]; then
		# OpenSSH 9.2 as root chroots its pre-auth child into /run/sshd
		# (made by openssh-server's postinst, but /run is a tmpfs).
		[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || return 1
		getent passwd sshd > /dev/null ||
			{ echo "sshd: no privilege separation user 'sshd' (apt-get install openssh-server)"; return 1; }
	fi
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" < /dev/null &&
		ssh-keygen -q -t ed25519 -N '' -f "$d/key" < /dev/null &&
		cp "$d/key.pub" "$d/authorized_keys" || return 1
	cat > "$d/sshd_config" <<-EOF
	ListenAddress 127.0.0.1
	Port $CL_SSH_PORT
	HostKey $d/host_key
	PidFile $d/sshd.pid
	AuthorizedKeysFile $d/authorized_keys
	StrictModes no
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	PermitRootLogin prohibit-password
	UsePAM no
	SetEnv PATH=$PATH
	EOF
	daemon sshd 600 /usr/sbin/sshd -D -e -f "$d/sshd_config"
	CL_SSH="ssh -i $d/key -p $CL_SSH_PORT -o BatchMode=yes -o StrictHostKeyChecking=no"
	CL_SSH="$CL_SSH -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
	CL_SSH_LOGIN=$user@127.0.0.1
	if ! wait_for 10 listening "$CL_SSH_PORT" ||
		! $CL_SSH "$CL_SSH_LOGIN" true < /dev/null > "$d/probe.log" 2>&1; then
		why sshd "$CL_T/sshd.out" "$d/probe.log"
		return 1
	fi
}

# start_slurm: a private single-node slurmctld + slurmd on 127.0.0.1 ports
# $CL_SLURM_PORTS, configured in $CL_T/slurm (auth/none, so no munged);
# exports SLURM_CONF.  On failure prints why.  Slurm 22.05 has no listen
# address setting: both daemons bind every address, and with auth/none
# whoever reaches those ports while the test runs can submit jobs as this
# user.  Run it where a firewall closes high ports, or in a network
# namespace (unshare -n, then ip link set lo up).
start_slurm() {
	local d=$CL_T/slurm user ctld_port slurmd_port
	read -r ctld_port slurmd_port <<< "$CL_SLURM_PORTS"
	user=$(id -un)
	rm -rf "$d/state" "$d/spool" && mkdir -p "$d/state" "$d/spool" || return 1
	cat > "$d/slurm.conf" <<-EOF
	ClusterName=embt
	SlurmctldHost=localhost(127.0.0.1)
	SlurmUser=$user
	SlurmdUser=$user
	AuthType=auth/none
	CredType=cred/none
	StateSaveLocation=$d/state
	SlurmdSpoolDir=$d/spool
	SlurmctldPidFile=$d/slurmctld.pid
	SlurmdPidFile=$d/slurmd.pid
	SlurmctldLogFile=$d/slurmctld.log
	SlurmdLogFile=$d/slurmd.log
	SlurmctldPort=$ctld_port
	SlurmdPort=$slurmd_port
	ProctrackType=proctrack/pgid
	TaskPlugin=task/none
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	SchedulerType=sched/builtin
	SelectType=select/cons_tres
	SelectTypeParameters=CR_CPU
	MpiDefault=none
	ReturnToService=2
	NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
	PartitionName=debug Nodes=localhost Default=YES MaxTime=10 State=UP
	EOF
	export SLURM_CONF=$d/slurm.conf
	daemon slurmctld 600 slurmctld -D
	daemon slurmd 600 slurmd -D -N localhost
	if ! wait_for 20 node_idle; then
		why "slurmctld or slurmd" "$CL_T/slurmctld.out" "$d/slurmctld.log" \
			"$CL_T/slurmd.out" "$d/slurmd.log"
		return 1
	fi
}
node_idle() { [ "$(timeout 5 sinfo -h -o %t 2> /dev/null)" = idle ]; }

# slurm_wait JOBID SECONDS: wait until every task of JOBID has finished;
# succeed if all COMPLETED, else print their states and the logs.
slurm_wait() {
	local id=$1 n=$(($2 * 5)) states
	while :; do
		states=$(timeout 10 scontrol -o show job "$id" 2> /dev/null | grep -o 'JobState=[A-Z_]*' | sort -u)
		if [ -n "$states" ] && ! grep -qE '=(PENDING|RUNNING|CONFIGURING|COMPLETING)$' <<< "$states"; then
			[ "$states" = JobState=COMPLETED ] && return 0
			break
		fi
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "job $id timed out after $2 s"; break; }
		sleep 0.2
	done
	echo "job $id: $(echo $states)"
	timeout 10 scontrol -o show job "$id" 2> /dev/null | grep -o 'Reason=[^ ]*' | sort -u
	why "job $id" "$CL_T"/slurm/job/*.err "$CL_T/slurm/slurmd.log" | tail -n +2
	return 1
}

# stop_all: cancel the Slurm jobs, stop every daemon this file started
# (by the daemons' own pid files and by the timeouts' pids), then check
# that none of their ports is still listened on.
stop_all() {
	local p left=
	# Only while our slurmctld runs: scancel retries an absent one for long.
	if [ -s "$CL_T/slurm/slurmctld.pid" ] && kill -0 "$(cat "$CL_T/slurm/slurmctld.pid")" 2> /dev/null; then
		timeout 10 scancel --user="$(id -un)" 2> /dev/null
	fi
	stop "$CL_T/ssh/sshd.pid" "$CL_T/slurm/slurmd.pid" "$CL_T/slurm/slurmctld.pid"
	stop "$CL_T"/*.run
	for p in $CL_SSH_PORT $CL_SLURM_PORTS; do
		wait_for 5 eval "! listening $p" || left="$left $p"
	done
	[ -z "$left" ] || { echo "still listening on port(s)$left:"; ss -Htlnp; return 1; }
}
