#!/usr/bin/env bats
# Every program: --help on stdout, --version, usage errors (coreutils
# help-version.sh).
load test_helper

progs() {
	for p in $EMB_PROGRAMS; do basename "$p"; done
}

@test "--help prints usage on stdout and exits 0" {
	for p in $(progs); do
		run --separate-stderr "$p" --help
		assert_success
		assert_equal "$stderr" ""
		assert_line --index 0 --partial "Usage: $p "
		run "$p" -h
		assert_success
	done
}

@test "--version prints 'prog (embutils) VERSION'" {
	for p in $(progs); do
		run --separate-stderr "$p" --version
		assert_success
		[[ "${lines[0]}" =~ ^$p\ \(embutils\)\ [0-9]+\.[0-9]+$ ]] || { echo "$p: '$output'"; return 1; }
		[[ "${lines[1]}" =~ ^BLAS:\  ]] || { echo "$p: '$output'"; return 1; }
	done
}

@test "an unknown option is a usage error: status 2, hint on stderr, nothing on stdout" {
	for p in $(progs); do
		run --separate-stderr "$p" --no-such-option
		assert_equal "$status" 2
		assert_output ""
		assert_equal "${stderr##*$'\n'}" "Try '$p --help' for more information."
		assert_equal "$(printf '%s\n' "$stderr" | head -n1)" "$p: unrecognized option '--no-such-option'"
	done
}

# The shared vector-stream options (embutils(7)) each program honours,
# by reading its code: a program that reads no vector stream honours no
# input option, one that writes none no output option.
declare -gA HONOURS=(
	[embcat]="-I -O --dtype --keys --no-keys --vector-field --key-field --progress"
	[embinfo]="-I --keys --no-keys --vector-field --key-field --progress"
	[embcos]="-I -O --dtype --keys --no-keys --vector-field --key-field --progress"
	[embspearman]=""
	[embpearson]="-I --keys --no-keys --vector-field --key-field --progress"
	[embcenter]="-I -O --dtype --keys --no-keys --vector-field --key-field --progress"
	[embwhiten]="-I -O --dtype --keys --no-keys --vector-field --key-field --progress"
	[embstat]="-I --dtype --keys --no-keys --vector-field --key-field --progress"
	[embgen]="-I -O --dtype --keys --no-keys --vector-field --key-field --progress"
	[emblsh]="-I --keys --no-keys --vector-field --key-field --progress"
	[embpool]="-I -O --dtype --keys --no-keys --vector-field --key-field --progress"
	[embeval]="-I --keys --no-keys --vector-field --key-field --progress"
	[embquant]="-I -O --keys --no-keys --vector-field --key-field --progress"
)
SHARED="-I --input-format -O --output-format --dtype --keys --no-keys --vector-field --key-field --progress"

# shared_arg OPT: the arguments that give shared option OPT a valid value.
shared_arg() {
	case $1 in
	-I|-O) printf '%s\n' "$1" tsv ;;
	--input-format|--output-format) printf '%s\n' "$1=tsv" ;;
	--dtype) printf '%s\n' --dtype=f64 ;;
	--vector-field|--key-field) printf '%s\n' "$1=x" ;;
	*) printf '%s\n' "$1" ;;
	esac
}

# help_lines PROG: the option column (27 characters, GNU layout) of each
# line of PROG --help that starts an option's entry.
help_lines() {
	"$1" --help | grep -E '^  (-[A-Za-z]|    --)' | cut -c1-27
}

# help_names PROG: every option name its --help shows, one per line.
help_names() {
	help_lines "$1" | grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ ,]*//' | sort -u
}

# man_names PAGE: every option name in the tags of the page's OPTIONS.
man_names() {
	groff -mdoc -Tascii -P-c "$1" 2>/dev/null | col -bx |
		awk '/^[A-Z]/ { sec = $0 } sec == "OPTIONS" && /^     -/' |
		grep -oE -- '(^|[ ,[])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ ,[]*//' | sort -u
}

@test "--help lists exactly the shared options each program honours" {
	for p in $(progs); do
		[ -n "${HONOURS[$p]+set}" ] || { echo "$p: not in HONOURS"; return 1; }
		want=$(printf '%s\n' ${HONOURS[$p]} | sort)
		got=$(help_names "$p" | grep -xE -- '-I|-O|--dtype|--keys|--no-keys|--vector-field|--key-field|--progress' | sort)
		[ "$got" = "$want" ] || { echo "$p: --help shows '$got', want '$want'"; return 1; }
		for long in --input-format --output-format; do
			short=-${long:2:1}; short=${short^^}
			if grep -qx -- "$short" <<< "$want"; then
				help_names "$p" | grep -qx -- "$long" || { echo "$p: $short without $long"; return 1; }
			fi
		done
	done
}

@test "every shared option a program does not honour is a usage error naming it" {
	n=0
	for p in $(progs); do
		for o in $SHARED; do
			case $o in --input-format) base=-I ;; --output-format) base=-O ;; *) base=$o ;; esac
			grep -qw -- "$base" <<< " ${HONOURS[$p]} " && continue
			n=$((n + 1))
			mapfile -t args < <(shared_arg "$o")
			run --separate-stderr "$p" "${args[@]}" /dev/null
			assert_equal "$status" 2
			assert_output ""
			assert_equal "$stderr" "$p: option '$o' does not apply to $p
Try '$p --help' for more information."
		done
	done
	[ "$n" -eq 25 ]
}

@test "options that apply only in one mode are usage errors in the others" {
	run -2 --separate-stderr embcos -O tsv a b
	assert_equal "$stderr" "embcos: option '-O' is only for --matrix
Try 'embcos --help' for more information."
	run -2 --separate-stderr embcos --dtype=f16 --topk 1 --db x y
	assert_equal "${stderr_lines[0]}" "embcos: option '--dtype' is only for --matrix"
	run -2 --separate-stderr embpearson --no-keys -x 1 -y 2 /dev/null
	assert_equal "${stderr_lines[0]}" "embpearson: option '--no-keys' is only for --vectors"
	run -2 --separate-stderr embpearson --input-format=tsv /dev/null
	assert_equal "${stderr_lines[0]}" "embpearson: option '--input-format' is only for --vectors"
	run -2 --separate-stderr embgen --vector-field=v -n 1
	assert_equal "${stderr_lines[0]}" "embgen: option '--vector-field' is only for --means"
	run -2 --separate-stderr embgen --no-keys --prefix=k
	assert_equal "${stderr_lines[0]}" "embgen: --no-keys and --prefix exclude each other"
	run -2 --separate-stderr embstat --dtype=f16 /dev/null
	assert_equal "${stderr_lines[0]}" "embstat: --dtype takes only f64 here (embstat writes no vectors), not 'f16'"
	# ... and work in their own mode
	cd "$BATS_TEST_TMPDIR"
	embgen -n 3 -d 2 --keys -O tsv > m.tsv
	run embgen -n 2 -I tsv --means m.tsv -O tsv
	assert_success
	assert_equal "${#lines[@]}" 2
	run embpearson --vectors -I tsv --keys m.tsv m.tsv
	assert_success
	assert_line --index 0 --regexp $'^w0\tw0\t1$'
	run sh -c 'embcos --matrix -O emb --dtype f64 m.tsv | embinfo | grep -e dtype -e rows'
	assert_line --index 0 --partial '"rows":	3,'
	assert_line --index 1 --partial '"dtype":	"f64",'
}

@test "every option --help shows is accepted" {
	n=0
	for p in $(progs); do
		while IFS= read -r line; do
			# the argument: =ARG (long), [=ARG] (optional), ' ARG' (short)
			kind=none
			[[ $line =~ \[= ]] && kind=optional
			[[ $line =~ [a-z]=[A-Za-z] || $line =~ ^\ +-[A-Za-z]\ [A-Z] ]] && kind=required
			for o in $(grep -oE -- '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' <<< "$line" | sed 's/^[ ,]*//'); do
				case $o in
				-h|--help|-V|--version) continue ;;
				-I|-O|--input-format|--output-format) v=tsv ;;
				--dtype) v=f64 ;;
				--shard) v=0/2 ;;
				--rows) [ "$p" = embcat ] && v=0:2 || v=2 ;;
				--scheme) v=rotation ;;
				--oov) v=skip ;;
				--zero) v=nan ;;
				--nan) v=omit ;;
				--alternative) v=less ;;
				--empty) v=zero ;;
				--ci) v=0.5 ;;
				-B|--buckets) v=8 ;;
				--ties) v=none ;;
				--truth-format|--run-format) v=topk ;;
				--format) v=trec ;;
				--dims) [ "$p" = embwhiten ] && v=2 || v=0:2 ;;
				-m|--measure) v=map ;;
				*) v=2 ;;
				esac
				case $kind,$o in
				none,*) set -- "$o" ;;
				optional,*) set -- "$o" "$o=$v" ;;
				required,--*) set -- "$o=$v" ;;
				required,*) set -- "$o $v" ;;
				esac
				for a in "$@"; do
					n=$((n + 1))
					# shellcheck disable=SC2086
					run --separate-stderr "$p" $a --help
					[ "$status" -eq 0 ] && [[ ${lines[0]} == "Usage: $p "* ]] ||
						{ echo "$p $a --help: status $status: $stderr"; return 1; }
				done
			done
		done < <(help_lines "$p")
	done
	[ "$n" -ge 150 ]
}

@test "--help and the man page list the same options" {
	for p in $(progs); do
		diff <(help_names "$p") <(man_names "$EMB_SRCDIR/man/$p.1") ||
			{ echo "$p: < --help, > $p.1 OPTIONS"; return 1; }
	done
}

@test "a bad shared option value is a usage error" {
	for p in $(progs); do
		if grep -qw -- -I <<< "${HONOURS[$p]}"; then
			run -2 --separate-stderr "$p" -I nosuch
			assert_equal "$stderr" "$p: unknown format 'nosuch' (known: emb, tsv, npy, w2v, w2vbin, glove, vec, fvecs, bvecs, ivecs, jsonl, json, fbin, u8bin, i8bin, ibin, safetensors, faiss, hdf5)
Try '$p --help' for more information."
		fi
		if grep -qw -- --dtype <<< "${HONOURS[$p]}"; then
			run -2 --separate-stderr "$p" --dtype=f8
			assert_equal "${stderr_lines[0]}" "$p: unknown dtype 'f8' (known: f32, f64, f16, i8, u8, bit)"
		fi
	done
}

@test "numbers in options are decimal: no blanks, hex, nan or inf" {
	for a in 0x10 ' 1' '1 ' nan inf -inf 1e 1.2.3 '' 0x1p3 1,5; do
		run -2 --separate-stderr embwhiten --eps "$a" /dev/null
		assert_equal "${stderr_lines[0]}" "embwhiten: invalid number for --eps: '$a'"
		run -2 --separate-stderr embwhiten -k "$a" /dev/null
		assert_equal "${stderr_lines[0]}" "embwhiten: invalid number for -k: '$a'"
	done
	run -2 --separate-stderr embwhiten --eps 1e400 /dev/null
	assert_equal "${stderr_lines[0]}" "embwhiten: number out of range for --eps: '1e400'"
	run -2 --separate-stderr embwhiten -k 99999999999999999999 /dev/null
	assert_equal "${stderr_lines[0]}" "embwhiten: -k must be between 1 and 16777216, not 99999999999999999999"
	# decimal forms that are fine: sign, point, exponent, underflow to 0
	for a in 1 +1 1. .5 1e-3 2E+2 -0.5e1 1e-400; do
		run --separate-stderr embwhiten --power "$a" --help
		assert_success
	done
	run --separate-stderr embwhiten -k +3 --help
	assert_success
}

@test "--help to a full disk is a write error" {
	for p in $(progs); do
		run -1 --separate-stderr sh -c "$p --help > /dev/full"
		assert_equal "$stderr" "$p: write error: No space left on device"
	done
}

@test "a misdetected OpenBLAS core is replaced by one this CPU runs; the user's choice wins" {
	grep -q avx2 /proc/cpuinfo || skip "CPU without AVX2: no faster kernels to choose"
	embcenter --version | grep -q '^BLAS: OpenBLAS' || skip "not linked with OpenBLAS"
	run --separate-stderr env EMB_OPENBLAS_DETECTED=Prescott embcenter --version
	assert_success
	assert_line --index 1 --regexp '^BLAS: OpenBLAS, core (Haswell|SkylakeX|Cooperlake) \(OPENBLAS_CORETYPE set by embutils: OpenBLAS detected Prescott\)$'
	run --separate-stderr env OPENBLAS_CORETYPE=Prescott embcenter --version
	assert_line --index 1 "BLAS: OpenBLAS, core Prescott"
	# The re-executed program still reads its standard input.
	run sh -c 'printf "a 1 2\nb 3 5\n" | EMB_OPENBLAS_DETECTED=Prescott embcenter'
	assert_output "$(printf 'a\t-1\t-1.5\nb\t1\t1.5')"
}

@test "only the programs that call BLAS load OpenBLAS; the others neither load it nor re-execute" {
	embcenter --version | grep -q '^BLAS: OpenBLAS' || skip "not linked with OpenBLAS"
	# The dynamic loader's own log: one "initialize program" a start, one
	# "calling init" of libopenblas for each start that loads it.
	loads() {
		LD_DEBUG=files EMB_OPENBLAS_DETECTED=Prescott "$@" 2>&1 >/dev/null |
			awk '/initialize program: .*emb/ { s++ } /calling init: .*libopenblas/ { o++ }
			     END { print s + 0, "starts,", o + 0, "OpenBLAS loads" }'
	}
	for p in embcat embinfo embpool embgen embspearman embpearson; do
		# (those that use GSL link its reference CBLAS, for GSL alone)
		run sh -c "nm -D --undefined-only '$(command -v "$p")' | grep -E ' (cblas_|[a-z]+_\$)'"
		assert_output ""
		run --separate-stderr "$p" --version
		assert_line --index 1 "BLAS: none ($p does not call BLAS)"
		run loads "$p" --version
		assert_output "1 starts, 0 OpenBLAS loads"
		run loads sh -c "printf 'a 1 2\\n' | $p > /dev/null"
		assert_output "1 starts, 0 OpenBLAS loads"
	done
	for p in embcenter embwhiten embstat; do
		run --separate-stderr "$p" --version
		assert_line --index 1 --regexp '^BLAS: OpenBLAS, core '
		run loads "$p" --version
		assert_output "2 starts, 2 OpenBLAS loads"
	done
}

@test "OpenBLAS's idle threads spin 2^20 cycles, not 2^28, unless the user says otherwise" {
	cd "$BATS_TEST_TMPDIR"
	mkfifo in
	# The program blocks opening the FIFO, after any re-execution.
	spin_of() {
		env "$@" embcenter in > /dev/null &
		local pid=$! value= i
		for i in $(seq 100); do
			value=$(tr '\0' '\n' < /proc/$pid/environ | sed -n 's/^OPENBLAS_THREAD_TIMEOUT=//p')
			[ -n "$value" ] && break
			sleep 0.05
		done
		: > in
		wait $pid
		echo "$value"
	}
	run spin_of -u OPENBLAS_THREAD_TIMEOUT
	assert_output 20
	run spin_of OPENBLAS_THREAD_TIMEOUT=7
	assert_output 7
	run spin_of -u OPENBLAS_THREAD_TIMEOUT OPENBLAS_CORETYPE=Haswell
	assert_output 20
}

@test "embcenter --abtt N: a number that is no file asks for --abtt=N; a file of that name is read" {
	cd "$BATS_TEST_TMPDIR"
	embgen -n 20 -d 4 --keys > v.emb
	run -2 --separate-stderr embcenter --abtt 2 v.emb
	assert_output ""
	assert_equal "$stderr" "embcenter: use --abtt=2 (with '=') to remove 2 directions
Try 'embcenter --help' for more information."
	run -2 --separate-stderr embcenter --abtt 1 < v.emb
	assert_equal "${stderr_lines[0]}" "embcenter: use --abtt=1 (with '=') to remove 1 direction"
	# with '=' the number is D; without --abtt a number is just a file name
	run -1 --separate-stderr embcenter --abtt=2 3
	assert_equal "$stderr" "embcenter: 3: No such file or directory"
	run -1 --separate-stderr embcenter 3
	assert_equal "$stderr" "embcenter: 3: No such file or directory"
	# an existing file named 3 is the input, centred with the default D = 1
	cp v.emb 3
	embcenter --abtt 3 > a.emb
	embcenter --abtt=1 v.emb > b.emb
	cmp <(embcat -O tsv a.emb) <(embcat -O tsv b.emb)
}
