#!/bin/bash
# bench/scale.sh [ROWS] [DIM]: scaling out (issue 12), on generated data
# (default 1000000 x 256 f32, about 1 GB, in $TMPDIR or /tmp).
#   1. the cost of a shard: embcat --shard=0/8 and --rows slices of a
#      regular file against a full pass, and from a pipe (which must read
#      everything);
#   2. making the data in parallel parts with embgen --first;
#   3. fits by partials (--partial / --merge) and
#   4. exact top-k by GNU parallel: bench/scale-fit.sh.
# Run from a build directory (uses ./cmd) or set EMB_BIN.  Not a test:
# it prints figures.  Times are medians of 3 runs, with the file in the
# page cache (one untimed pass first), so they measure CPU and memory
# traffic, not the disk.
set -eu
rows=${1:-1000000}
dim=${2:-256}
bin=${EMB_BIN:-$PWD/cmd}
work=$(mktemp -d "${TMPDIR:-/tmp}/embscale.XXXXXX")
trap 'rm -rf "$work"' EXIT
export PATH="$bin:$PATH"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# seconds CMD: median wall time of 3 runs of a shell command.
seconds() {
	for _ in 1 2 3; do
		s=$(date +%s.%N); bash -c "$1" > /dev/null; e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | median
}
ratio() { echo "$1 / $2" | bc -l; }
row() { printf '%-46s %8.3f s   %6.3f of a full pass\n' "$1" "$2" "$(ratio "$2" "$3")"; }

x=$work/x.emb
echo "generating $rows x $dim f32 ..."
t_gen1=$(seconds "embgen -n $rows -d $dim --seed 1 > '$x'")
half=$((rows / 2))
t_gen2=$(seconds "embgen --first=0 -n $half -d $dim --seed 1 > '$work/g0.emb' &
	embgen --first=$half -n $((rows - half)) -d $dim --seed 1 > '$work/g1.emb'; wait")
bytes=$(stat -c %s "$x")
cat "$x" > /dev/null # into the page cache
chunks=$(embinfo "$x" | sed -n 's/.*"chunks":[^0-9]*\([0-9]*\).*/\1/p')

echo
echo "== 1. cost of a shard ($((bytes / 1000000)) MB, $chunks chunks)"
t_full=$(seconds "embcat '$x' > /dev/null")
t_full_f=$(seconds "embcat '$x' > '$work/out.emb'")
t_sh=$(seconds "embcat --shard=0/8 '$x' > /dev/null")
t_sh_f=$(seconds "embcat --shard=0/8 '$x' > '$work/out.emb'")
t_sh7=$(seconds "embcat --shard=7/8 '$x' > /dev/null")
r8=$((rows / 8))
t_rows0=$(seconds "embcat --rows=0:$r8 '$x' > /dev/null")
t_rows7=$(seconds "embcat --rows=$((rows - r8)): '$x' > /dev/null")
t_rowsm=$(seconds "embcat --rows=$((3 * r8 + 12345)):$((4 * r8 + 12345)) '$x' > /dev/null")
t_one=$(seconds "embcat --rows=0:1 '$x' > /dev/null")
t_pipe=$(seconds "cat '$x' | embcat > /dev/null")
t_pipe_sh=$(seconds "cat '$x' | embcat --shard=0/8 > /dev/null")
printf '%-46s %8.3f s   %6.2f GB/s\n' "full pass: embcat FILE > /dev/null" "$t_full" \
	"$(echo "$bytes / $t_full / 1000000000" | bc -l)"
row "embcat --shard=0/8 FILE > /dev/null" "$t_sh" "$t_full"
row "embcat --shard=7/8 FILE > /dev/null" "$t_sh7" "$t_full"
row "embcat --rows=0:1 FILE (start-up, one chunk)" "$t_one" "$t_full"
row "embcat --rows=0:N/8 FILE" "$t_rows0" "$t_full"
row "embcat --rows=7N/8: FILE (the last eighth)" "$t_rows7" "$t_full"
row "embcat --rows=an eighth from mid-chunk" "$t_rowsm" "$t_full"
printf '%-46s %8.3f s\n' "full pass to a file" "$t_full_f"
row "embcat --shard=0/8 FILE to a file" "$t_sh_f" "$t_full_f"
printf '%-46s %8.3f s\n' "full pass from a pipe: cat | embcat" "$t_pipe"
row "cat | embcat --shard=0/8 (reads everything)" "$t_pipe_sh" "$t_pipe"
echo "a 1/8 shard of a regular file costs $(printf '%.3f' "$(ratio "$t_sh" "$t_full")") of a full pass (ideal 0.125)"

echo
echo "== 2. making the data: embgen in one process, and in 2 parts (--first) on 2 cores"
printf '%-46s %8.3f s\n' "embgen -n $rows" "$t_gen1"
printf '%-46s %8.3f s   speed-up %.2f\n' "embgen --first=0 and --first=$half, in parallel" "$t_gen2" \
	"$(ratio "$t_gen1" "$t_gen2")"
# fvecs: the values alone, streamed (the parts' row numbers are the
# run's, which fvecs cannot hold: its warning is expected)
cat "$work/g0.emb" "$work/g1.emb" | embcat -O fvecs 2> /dev/null | cmp -s - <(embcat -O fvecs "$x") &&
	echo "the two parts concatenated are the one-process rows, byte for byte" ||
	{ echo "the parts differ from the one-process run" >&2; exit 1; }
rm -f "$work/g0.emb" "$work/g1.emb" "$work/out.emb"

# 3 and 4 are bench/scale-fit.sh, on 2000000 rows and 2000 queries by
# default (FIT_ROWS, QUERIES), the issue's sizes.
echo
echo "== 3, 4. fits by partials and exact top-k by GNU parallel (bench/scale-fit.sh)"
EMB_BIN=$bin bash "$(dirname "$0")/scale-fit.sh" "${FIT_ROWS:-2000000}" "$dim" "${QUERIES:-2000}"
