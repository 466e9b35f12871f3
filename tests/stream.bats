#!/usr/bin/env bats
# The stream layer and file safety: files that shrink while mapped, standard
# input read once, inputs that are not regular files read twice, memory
# bounded by the bytes present, temporary files, write errors, --save.
load test_helper

setup_file() {
	make_samples
	cd "$SAMPLES"
	embgen -n 200000 -d 64 --keys --seed 3 > big.emb
	embcat -O npy big.emb > big.npy 2> /dev/null
	embgen -n 3000 -d 16 --keys --seed 4 > fit.emb
}

teardown() {
	# a failed test must not leave its tmpfs mounted
	if mountpoint -q "$SAMPLES/tiny" 2> /dev/null; then umount "$SAMPLES/tiny"; fi
	oracle_unchecked
}

setup() {
	cd "$SAMPLES"
	# OpenBLAS's threads can spin at exit under ulimit -v: keep one.
	export OPENBLAS_NUM_THREADS=1
}

# emb_py CODE: run CODE with header(), chunk() and end() that write the
# records of a binary emb stream (an independent writer) to out.
emb_py() {
	oracle -c '
import struct, json, sys
def c32c(data):
    crc = 0xffffffff
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xffffffff
def header(meta):
    j = json.dumps(meta).encode()
    while (20 + len(j)) % 8: j += b" "
    return b"\x89EMB\r\n\x1a\n" + struct.pack("<III", 1, len(j), c32c(j)) + j
def chunk(rows, keys, vals):
    return b"CHNK" + struct.pack("<IQQ", c32c(keys + vals), rows, len(keys)) + keys + vals
def end(rows):
    n = struct.pack("<Q", rows)
    return b"END\0" + struct.pack("<I", c32c(n)) + n + struct.pack("<Q", 0)
out = sys.stdout.buffer
'"$1" "${@:2}"
}

# ---- C1: a mapped file that shrinks ----

# shrink_while FILE PROG ARGS...: run PROG, stop it as soon as it has FILE
# mapped (a fixed sleep raced with a fast reader: a 50 MB file can be read
# whole in 0.1 s), truncate FILE to 1 MB, let it go on; its status and
# stderr are left in $status and $stderr.
shrink_while() {
	local f=$1 i
	shift
	"$@" > /dev/null 2> err &
	local p=$!
	for i in $(seq 20000); do
		grep -q "/$f\$" "/proc/$p/maps" 2> /dev/null && break
		kill -0 "$p" 2> /dev/null || break
	done
	kill -STOP "$p"
	truncate -s 1000000 "$f"
	kill -CONT "$p"
	status=0
	wait "$p" || status=$?
	stderr=$(cat err)
}

@test "a mapped .emb that shrinks while read ends in 'file shrank', status 1, never SIGBUS" {
	# The audit's case: embcat writes straight from the mapping to a
	# reader that waits.
	for args in "" "-O tsv"; do
		cp big.emb t.emb
		( embcat $args t.emb 2> err | (sleep 1; cat > /dev/null); echo "${PIPESTATUS[0]}" > rc ) &
		sleep 0.3
		truncate -s 1000000 t.emb
		wait
		assert_equal "$(cat rc)" 1
		[[ "$(cat err)" =~ ^embcat:\ t\.emb:\ byte\ [0-9]+:\ file\ shrank\ while\ being\ read$ ]]
	done
	cp big.emb t.emb
	shrink_while t.emb embinfo t.emb
	assert_equal "$status" 1
	[[ "$stderr" =~ ^embinfo:\ t\.emb:\ byte\ [0-9]+:\ file\ shrank\ while\ being\ read$ ]]
}

@test "a mapped .npy that shrinks while read: the same" {
	cp big.npy t.npy
	shrink_while t.npy embcat -O tsv t.npy
	assert_equal "$status" 1
	[[ "$stderr" =~ ^embcat:\ t\.npy:\ byte\ [0-9]+:\ file\ shrank\ while\ being\ read$ ]]
	# The byte named lies at or past the new end of the file.
	n=${stderr#*byte }
	n=${n%%:*}
	[ "$n" -ge 1000000 ]
}

@test "a mapped TSV that shrinks while its blocks are parsed: the same, from any thread" {
	embcat -O tsv big.emb > big.tsv
	for threads in 1 2 4; do
		cp big.tsv t.tsv
		EMB_THREADS=$threads shrink_while t.tsv embcat -O emb t.tsv
		assert_equal "$status" 1
		[[ "$stderr" =~ ^embcat:\ t\.tsv:\ byte\ [0-9]+:\ file\ shrank\ while\ being\ read$ ]]
		n=${stderr#*byte }
		n=${n%%:*}
		[ "$n" -ge 1000000 ]
	done
	# Cut mid-page, blocks ahead of the parsers, while the reader waits on
	# its output: the shrink is what is named, not the line it cut.
	for threads in 1 2; do
		cp big.tsv t.tsv
		( EMB_THREADS=$threads embcat -O tsv t.tsv 2> err | (sleep 1; cat > /dev/null)
		  echo "${PIPESTATUS[0]}" > rc ) &
		sleep 0.3
		truncate -s 20000100 t.tsv
		wait
		assert_equal "$(cat rc)" 1
		[[ "$(cat err)" =~ ^embcat:\ t\.tsv:\ byte\ [0-9]+:\ file\ shrank\ while\ being\ read$ ]]
	done
	# A program that stops reading early (head) unmaps cleanly.
	run -0 sh -c 'embcat big.tsv | head -n 2 | wc -l'
	assert_output 2
}

@test "embstat on a file that shrinks: the same" {
	cp big.emb t.emb
	shrink_while t.emb embstat t.emb
	assert_equal "$status" 1
	[[ "$stderr" =~ ^embstat:\ t\.emb:\ byte\ [0-9]+:\ file\ shrank\ while\ being\ read$ ||
	   "$stderr" == "embstat: t.emb: file changed between the two passes" ]]
}

@test "a file changed between the two passes of a fit is an error" {
	cp big.emb t2.emb
	embwhiten -k 2 t2.emb > /dev/null 2> err &
	p=$!
	sleep 0.05
	kill -STOP $p
	embgen -n 10 -d 64 > t2.emb.new
	mv t2.emb.new t2.emb
	kill -CONT $p
	status=0
	wait $p || status=$?
	# Caught in the first pass, as it must be; a fit faster than the
	# sleep reads the old file twice (also right).
	[ $status = 0 ] || assert_equal "$(cat err)" "embwhiten: t2.emb: file changed between the two passes"
}

# ---- W9: standard input is read once ----

@test "embcat - - reads a file on stdin once, as cat does, and as from a pipe" {
	embcat - - < vectors.emb | embcat -O tsv > from-file.tsv
	cat vectors.emb | embcat - - | embcat -O tsv > from-pipe.tsv
	cmp from-file.tsv from-pipe.tsv
	embcat -O tsv vectors.emb | cmp - from-file.tsv
	# The offset of a regular-file stdin ends where the reading ended.
	run bash -c '{ embinfo - > /dev/null; cat | wc -c; } < vectors.emb'
	assert_output 0
	run bash -c '{ embcat -O tsv - > /dev/null; cat | wc -c; } < vectors.emb'
	assert_output 0
	run bash -c '{ embinfo - > /dev/null; cat | wc -c; } < big.npy'
	assert_output 0
}

@test "two roles on standard input are a usage error, from a file or a pipe" {
	for mode in file pipe; do
		for cmd in "embcos -k 2 --db - -" "embcos -k 2 --db -" "embcos --matrix - -" \
			   "emblsh -k 2 --db - -" "embpearson --vectors - -" \
			   "embcos --pairs - -"; do
			if [ $mode = file ]; then
				run -2 --separate-stderr bash -c "$cmd < queries.emb"
			else
				run -2 --separate-stderr bash -c "cat queries.emb | $cmd"
			fi
			assert_output ""
			[[ "$stderr" == *"cannot both be standard input"* ]]
		done
	done
	# /dev/stdin on a pipe is standard input too.
	run -2 --separate-stderr bash -c "cat queries.emb | embcos -k 2 --db /dev/stdin -"
	# A regular file reopened through /dev/stdin is a fresh read: allowed.
	run -0 bash -c "embcos -k 2 --db /dev/stdin queries.emb < vectors.emb | wc -l"
	assert_output 20
}

# ---- H1, W3: inputs read twice ----

# same_output CMD: CMD FILE on a regular file, a FIFO, <(...), /dev/stdin and
# a pipe give byte-identical output (binary output through embcat -O tsv, as
# the header history holds the command line).
same_output() {
	local cmd=$1 norm=$2 want
	want=$(bash -c "$cmd fit.emb $norm" | cksum)
	[ -n "$want" ]
	rm -f ff
	mkfifo ff
	(cat fit.emb > ff &)
	assert_equal "$(timeout 20 bash -c "$cmd ff $norm" | cksum)" "$want"
	assert_equal "$(timeout 20 bash -c "$cmd <(cat fit.emb) $norm" | cksum)" "$want"
	assert_equal "$(cat fit.emb | timeout 20 bash -c "$cmd /dev/stdin $norm" | cksum)" "$want"
	assert_equal "$(timeout 20 bash -c "$cmd /dev/stdin $norm" < fit.emb | cksum)" "$want"
	assert_equal "$(cat fit.emb | timeout 20 bash -c "$cmd - $norm" | cksum)" "$want"
	assert_equal "$(timeout 20 bash -c "$cmd $norm" < fit.emb | cksum)" "$want"
	rm -f ff
}

@test "embcenter: FIFO, <(...), /dev/stdin and a pipe give the file's output" {
	same_output "embcenter" "| embcat -O tsv"
	same_output "embcenter --abtt=2" "| embcat -O tsv"
	# and the same rows as numpy's centring
	embcenter fit.emb | embcat -O tsv > c.tsv
	embcat -O tsv fit.emb > x.tsv
	oracle -c '
import numpy as np
x = np.loadtxt("x.tsv", usecols=range(1, 17))
c = np.loadtxt("c.tsv", usecols=range(1, 17))
assert np.allclose(c, x - x.mean(0), atol=1e-5), abs(c - (x - x.mean(0))).max()'
}

@test "embwhiten: FIFO, <(...), /dev/stdin and a pipe give the file's output" {
	same_output "embwhiten -k 4" "| embcat -O tsv"
}

@test "embstat: FIFO, <(...), /dev/stdin and a pipe give the file's output" {
	same_output "embstat" ""
	same_output "embstat --json" ""
}

@test "--save from a FIFO fits on every row, as from the file" {
	rm -f ff
	mkfifo ff
	(cat fit.emb > ff &)
	embwhiten -k 4 --save m1.emb ff | embcat -O tsv > o1.tsv
	embwhiten -k 4 --save m2.emb fit.emb | embcat -O tsv > o2.tsv
	cmp o1.tsv o2.tsv
	same m1.emb m2.emb
	[ "$(wc -l < o1.tsv)" = 3000 ]
}

# ---- H5: memory bounded by the bytes present ----

@test "a chunk that claims more than the input holds fails as truncated, in bounded memory" {
	# rows = keybytes = 2^29 with 1 MB of keys; and 2^29 keyless f16 rows
	# (1 GiB of values) with 1 MB of them.  Under a 300 MB cap.
	emb_py 'out.write(header({"dim": 1, "dtype": "f16", "keys": True}) + b"CHNK" + struct.pack("<IQQ", 0, 1 << 29, 1 << 29) + bytes(1 << 20))' > amp.emb
	emb_py 'out.write(header({"dim": 1, "dtype": "f16", "keys": False}) + b"CHNK" + struct.pack("<IQQ", 0, 1 << 29, 0) + bytes(1 << 20))' > amp3.emb
	emb_py 'out.write(header({"dim": 1, "dtype": "f32", "keys": False}) + b"CHNK" + struct.pack("<IQQ", 0, 1 << 28, 0) + bytes(1 << 20))' > amp4.emb
	# keys all there (16 MB), values missing: key pointers are not made
	emb_py 'out.write(header({"dim": 1, "dtype": "f16", "keys": True}) + b"CHNK" + struct.pack("<IQQ", 0, 1 << 24, 1 << 24) + bytes(1 << 24))' > amp2.emb
	for f in amp amp2 amp3 amp4; do
		run -1 --separate-stderr bash -c "ulimit_v 300000; embinfo $f.emb"
		[[ "$stderr" == "embinfo: $f.emb: byte "*": truncated stream: chunk "*" cut short ("* ]] ||
			{ echo "$f file: $stderr"; false; }
		file_err=${stderr#*: }
		run -1 --separate-stderr bash -c "ulimit_v 300000; cat $f.emb | embinfo"
		# the same message from a pipe
		assert_equal "${stderr#*: }" "${file_err/$f.emb/-}"
	done
	# the byte named is the end of the file
	assert_equal "$file_err" "amp4.emb: byte $(stat -c %s amp4.emb): truncated stream: chunk values cut short (1048576 of 1073741824 bytes)"
}

# ---- N13, N6: header and key limits ----

@test "a dim-0 segment followed by a chunk is an error" {
	emb_py '
v = struct.pack("<8f", *range(8))
out.write(header({"dim": 8, "dtype": "f32", "keys": False}) + chunk(1, b"", v) + end(1))
out.write(header({"dim": 0, "dtype": "f32", "keys": False}) + chunk(1, b"", v) + end(1))' > d0.emb
	run -1 --separate-stderr embcat -O tsv d0.emb
	[[ "$stderr" == "embcat: d0.emb: byte "*": chunk in a stream of dim 0" ]]
	run -1 --separate-stderr bash -c 'cat d0.emb | embwhiten'
	[[ "$stderr" == "embwhiten: -: byte "*": chunk in a stream of dim 0" ]]
	# a dim-0 segment with no rows is still fine
	emb_py '
v = struct.pack("<8f", *range(8))
out.write(header({"dim": 8, "dtype": "f32", "keys": False}) + chunk(1, b"", v) + end(1))
out.write(header({"dim": 0, "dtype": "f32", "keys": False}) + end(0))' > d0ok.emb
	run -0 embcat -O tsv d0ok.emb
	assert_output "$(printf '0\t1\t2\t3\t4\t5\t6\t7')"
	# a leading dim-0 segment with no rows: the fit sees the rows' dim
	embgen -n 500 -d 16 --seed 5 > nokeys.emb
	{ embcat -O emb < /dev/null; cat nokeys.emb; } > lead0.emb
	cmp <(embwhiten -k 2 lead0.emb | embcat -O tsv) <(embwhiten -k 2 nokeys.emb | embcat -O tsv)
	cmp <(cat lead0.emb | embcenter | embcat -O tsv) <(embcenter nokeys.emb | embcat -O tsv)
}

@test "a binary key longer than 65535 bytes is an error; 65535 bytes is fine" {
	emb_py '
n = int(sys.argv[1])
k = b"k" * n + b"\0"
k += bytes(-len(k) % 8)
out.write(header({"dim": 1, "dtype": "f32", "keys": True}) + chunk(1, k, struct.pack("<f", 1.5)) + end(1))' 70000 > long.emb
	run -1 --separate-stderr embcat -O tsv long.emb
	[[ "$stderr" == "embcat: long.emb: byte "*": key longer than 65535 bytes" ]]
	emb_py '
n = int(sys.argv[1])
k = b"k" * n + b"\0"
k += bytes(-len(k) % 8)
out.write(header({"dim": 1, "dtype": "f32", "keys": True}) + chunk(1, k, struct.pack("<f", 1.5)) + end(1))' 65535 > max.emb
	run -0 bash -c 'embcat max.emb | embcat -O tsv | cut -f2'
	assert_output 1.5
}

# ---- N8, B1: temporary files ----

# tiny_tmpfs: mount a 64 KiB tmpfs on ./tiny (skip when we cannot).
tiny_tmpfs() {
	mkdir -p tiny
	mount -t tmpfs -o size=64k tmpfs tiny 2> /dev/null || skip "cannot mount a tmpfs"
}

@test "every temporary file lives in TMPDIR, and a full one is named" {
	tiny_tmpfs
	local where="temporary file in $PWD/tiny"
	run -1 --separate-stderr bash -o pipefail -c 'TMPDIR=$PWD/tiny embcat -O npy big.emb | cat > /dev/null'
	assert_equal "$stderr" "embcat: $where: write error: No space left on device"
	run -1 --separate-stderr bash -o pipefail -c 'TMPDIR=$PWD/tiny embcat -O w2v big.emb | cat > /dev/null'
	assert_equal "$stderr" "embcat: $where: write error: No space left on device"
	run -1 --separate-stderr bash -c 'cat big.emb | TMPDIR=$PWD/tiny embwhiten > /dev/null'
	assert_equal "$stderr" "embwhiten: $where: write error: No space left on device"
	# Fortran-order .npy from a pipe is copied to a temporary file
	oracle -c 'import numpy as np; np.save("f.npy", np.asfortranarray(np.arange(40000, dtype=np.float32).reshape(10000, 4)))'
	run -1 --separate-stderr bash -o pipefail -c 'cat f.npy | TMPDIR=$PWD/tiny embinfo > /dev/null'
	assert_equal "$stderr" "embinfo: $where: write error: No space left on device"
	assert_equal "$(ls -A tiny)" ""
}

@test "no signal leaves a temporary file behind" {
	mkdir -p tmp
	for sig in TERM QUIT USR1 ALRM XCPU; do
		{ cat fit.emb; sleep 3; } | env --default-signal=INT,QUIT TMPDIR=$PWD/tmp embwhiten > /dev/null 2>&1 &
		pid=$!
		# wait until the spill is open (a file of TMPDIR among its descriptors)
		for _ in $(seq 50); do
			ls -l /proc/$pid/fd 2> /dev/null | grep -q "$PWD/tmp" && break
			sleep 0.1
		done
		ls -l /proc/$pid/fd | grep -q "$PWD/tmp"
		assert_equal "$(ls -A tmp)" ""
		kill -$sig $pid
		wait $pid || true
		assert_equal "$(ls -A tmp)" ""
	done
}

# ---- B10, B11: stop at the first write error ----

@test "a reader gone away with SIGPIPE ignored ends the writer promptly, quietly, status 1" {
	# (npy and w2v to a pipe wait for the row count: head gets nothing early)
	for fmt in emb tsv jsonl; do
		run bash -c "trap '' PIPE; timeout 10 embgen -n 3000000 -d 16 -O $fmt 2> err | head -c1 > /dev/null; echo \${PIPESTATUS[0]}; cat err"
		assert_output 1
	done
	run bash -c "trap '' PIPE; timeout 10 embcat -O tsv big.emb 2> err | head -c1 > /dev/null; echo \${PIPESTATUS[0]}; cat err"
	assert_output 1
	# programs that print their own lines check after each one
	for cmd in "embcos big.emb big.emb" "emblsh big.emb" "embcos -k 5 --db fit.emb fit.emb"; do
		SECONDS=0
		run bash -c "trap '' PIPE; timeout 20 $cmd 2> err | head -c1 > /dev/null; echo \${PIPESTATUS[0]}; cat err"
		assert_output 1
		[ $SECONDS -lt 5 ]
	done
}

@test "a full disk stops the writer at once, with one message" {
	tiny_tmpfs
	run -1 --separate-stderr bash -c 'timeout 10 embcat -O w2v big.emb > tiny/x.w2v'
	assert_equal "$stderr" "embcat: write error: No space left on device"
	run -1 --separate-stderr bash -c 'timeout 10 embcat -O tsv big.emb > tiny/x.tsv'
	assert_equal "$stderr" "embcat: write error: No space left on device"
	# a closed stdout: one message
	run -1 --separate-stderr bash -c 'embgen -n 5 -d 2 | embcat -I emb -O npy >&-'
	assert_equal "$stderr" "embcat: write error: Bad file descriptor"
}

# ---- D1: --save ----

@test "--save never overwrites an input or the output, through links too" {
	for prog in embcenter "embwhiten -k 2"; do
		cp fit.emb x.emb
		ln -sf x.emb sym.emb
		ln -f x.emb hard.emb
		before=$(cksum < x.emb)
		run -1 --separate-stderr $prog --save x.emb x.emb
		assert_equal "$stderr" "${prog%% *}: --save x.emb is also an input"
		assert_output ""
		run -1 --separate-stderr $prog --save sym.emb x.emb
		assert_equal "$stderr" "${prog%% *}: --save sym.emb is also an input"
		run -1 --separate-stderr $prog --save hard.emb sym.emb
		assert_equal "$stderr" "${prog%% *}: --save hard.emb is also an input"
		run -1 --separate-stderr bash -c "$prog --save hard.emb < x.emb"
		assert_equal "$stderr" "${prog%% *}: --save hard.emb is also an input"
		run -1 --separate-stderr bash -c "$prog --save o.emb fit.emb > o.emb"
		assert_equal "$stderr" "${prog%% *}: --save o.emb is also the output"
		assert_equal "$(cksum < x.emb)" "$before"
	done
	embcenter --save m.emb fit.emb > /dev/null
	run -1 --separate-stderr bash -c "embcenter --load m.emb fit.emb > m.emb"
	assert_equal "$stderr" "embcenter: --load m.emb is also the output"
	# /dev/null may be both
	embcenter --save /dev/null fit.emb > /dev/null
}

@test "--save to an unwritable place fails before the fit reads the input" {
	# The input stalls after 64 KiB: only a check made first can answer.
	run -1 --separate-stderr bash -c '{ cat fit.emb; sleep 5; } | timeout 3 embwhiten --save /nonexistent/m.emb'
	assert_equal "$stderr" "embwhiten: /nonexistent/m.emb: No such file or directory"
	run -1 --separate-stderr bash -c '{ cat fit.emb; sleep 5; } | timeout 3 embcenter --save /nonexistent/m.emb'
	assert_equal "$stderr" "embcenter: /nonexistent/m.emb: No such file or directory"
}

@test "a killed fit leaves no partial model, and an old model intact" {
	mkdir -p sv
	embcenter --save sv/old.emb fit.emb > /dev/null
	cp sv/old.emb keep.emb
	for sig in TERM QUIT KILL; do
		# (background jobs start with SIGQUIT ignored: restore it)
		{ cat fit.emb; sleep 3; } | env --default-signal=QUIT embwhiten --save sv/new.emb > /dev/null 2>&1 &
		pid=$!
		{ cat fit.emb; sleep 3; } | env --default-signal=QUIT embwhiten --save sv/old.emb > /dev/null 2>&1 &
		pid2=$!
		sleep 0.5
		kill -$sig $pid $pid2
		wait $pid $pid2 || true
		[ ! -e sv/new.emb ]
		cmp sv/old.emb keep.emb
		# only SIGKILL may leave the temporary name (never the model's)
		[ $sig = KILL ] || assert_equal "$(ls -A sv)" "old.emb"
	done
	# and a finished one appears whole, with the file mode of a new file
	embwhiten -k 2 --save sv/new.emb fit.emb > /dev/null
	embinfo sv/new.emb > /dev/null
	[ "$(stat -c %a sv/new.emb)" = "$(umask -S > /dev/null; touch sv/t; stat -c %a sv/t)" ]
}

# ---- N2: the process keeps its name after the OpenBLAS re-exec ----

@test "after the OpenBLAS kernel re-exec the process is still named after the program" {
	EMB_OPENBLAS_DETECTED=Prescott embwhiten --version | grep -q "set by embutils" ||
		skip "no re-exec here (no OpenBLAS, or the CPU lacks AVX2)"
	rm -f ff
	mkfifo ff
	EMB_OPENBLAS_DETECTED=Prescott embwhiten ff > /dev/null &
	pid=$!
	sleep 0.3
	assert_equal "$(cat /proc/$pid/comm)" embwhiten
	pgrep -x embwhiten | grep -qx "$pid"
	cat fit.emb > ff
	wait $pid
	rm -f ff
}
