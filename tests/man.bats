#!/usr/bin/env bats
# Man pages: lint clean, quoting that renders right, and every EXAMPLES
# command (.Dl lines) runs and prints what the page says it prints.
#
# Expectations.  Each .Dl line under .Sh EXAMPLES is followed by one or
# more comment lines that say what it prints, checked here:
#
#   .\" expect: ERE         some line of standard output matches ERE
#   .\" expect-all: ERE     every line of standard output matches ERE
#   .\" expect-lines: N     standard output has N lines
#   .\" expect-stderr: ERE  some line of standard error matches ERE
#
# ERE is a bash extended regular expression in which \t stands for a TAB.
# Where the prose of the page states a result, the expectation checks that
# same result.
load test_helper

setup_file() {
	make_samples
}

@test "man pages lint clean with groff -mdoc -ww -z" {
	for m in $EMB_MANS; do
		run groff -mdoc -ww -z "$EMB_SRCDIR/$m"
		assert_success
		assert_output ""
	done
}

# render PAGE: the page as a reader sees it in a UTF-8 terminal, plain text.
render() {
	groff -mdoc -Tutf8 -P-c "$1" | LC_ALL=C.UTF-8 col -bx
}

# check_quotes: read rendered text; print each paragraph whose quotes are
# broken, and fail if there is one.  Broken: "" anywhere; a quote of a
# kind opened inside one of the same kind (as nested .Qq/.Ql/.Dq render
# when a macro swallows the rest of its line); a close without an open;
# an open never closed.  Curly single quotes between two letters are
# apostrophes, and ASCII " inside a ‘literal’ is the literal's own.
check_quotes() {
	PYTHONIOENCODING=utf-8 "$ORACLE_PYTHON" -c '
import re, sys
bad = 0
def report(why, p):
    global bad
    bad += 1
    print("%s: %s" % (why, p))
for para in re.split(r"\n\s*\n", sys.stdin.read()):
    p = " ".join(l.strip() for l in para.splitlines())
    if not p:
        continue
    if "\"\"" in p:
        report("doubled \"\"", p)
        continue
    why = None
    for o, c in (("\u2018", "\u2019"), ("\u201c", "\u201d")):
        depth = 0
        for i, ch in enumerate(p):
            if ch == o:
                if depth:
                    why = "nested " + o
                    break
                depth = 1
            elif ch == c:
                if c == "\u2019" and 0 < i < len(p) - 1 and p[i-1].isalnum() and p[i+1].isalnum():
                    continue
                if not depth:
                    why = "unopened " + c
                    break
                depth = 0
        if not why and depth:
            why = "unclosed " + o
        if why:
            break
    if not why:
        q = re.sub("\u2018[^\u2018\u2019]*\u2019", "L", p)
        depth = 0
        for i, ch in enumerate(q):
            if ch != "\"":
                continue
            before = q[i-1] if i else " "
            after = q[i+1] if i + 1 < len(q) else " "
            opens = before in " ([{" and not after.isspace()
            closes = not before.isspace() and (after.isspace() or after in ",.;:)]}!?")
            if opens and not closes:
                if depth:
                    why = "nested \""
                    break
                depth = 1
            elif closes and not opens:
                if not depth:
                    why = "unopened \""
                    break
                depth = 0
            elif not opens and not closes and before.isspace() and after.isspace():
                why = "stray \""
                break
            else:
                depth ^= 1
        if not why and depth:
            why = "unclosed \""
    if why:
        report(why, p)
sys.exit(1 if bad else 0)
'
}

@test "rendered man pages have no broken quotes" {
	for m in $EMB_MANS; do
		run check_quotes < <(render "$EMB_SRCDIR/$m")
		[ "$status" -eq 0 ] || { echo "$m:"; echo "$output"; return 1; }
	done
}

@test "the quote check catches quote macros nested on one line" {
	# The three forms of AUDIT.md M5, each in its own paragraph, then the
	# same text written right (one quote macro per line).
	cat > "$BATS_TEST_TMPDIR/q.1" <<'MDOC'
.Dd January 1, 2026
.Dt Q 1
.Os
.Sh NAME
.Nm q
.Nd quotes
.Sh DESCRIPTION
.Va dtype
.Pq Qq f32 , Qq f64 No or Qq f16 ,
IEEE 754.
.Pp
Join
.Pq Ql u.s , Ql 3.5 , Ql o'clock ,
and digits.
.Pp
Split
.Pq Ql don't No \(-> Ql do not , Ql can't No \(-> Ql ca not ;
then.
.Pp
Doubled
.Dq Dq inner
here.
MDOC
	run check_quotes < <(render "$BATS_TEST_TMPDIR/q.1")
	assert_failure
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 --partial 'dtype ("f32, "f64 or "f16""")'
	assert_line --index 1 --partial "(‘u.s, ‘3.5, ‘o'clock’’’)"
	assert_line --index 2 --partial "(‘don't → ‘do not, ‘can't → ‘ca not’’’’)"
	assert_line --index 3 --regexp '^nested “'
	cat > "$BATS_TEST_TMPDIR/q.1" <<'MDOC'
.Dd January 1, 2026
.Dt Q 1
.Os
.Sh NAME
.Nm q
.Nd quotes
.Sh DESCRIPTION
.Va dtype
.Po
.Qq f32 ,
.Qq f64
or
.Qq f16
.Pc ,
IEEE 754, and
.Ql ';.:()\(dq
stripped from NLTK's tokens.
.Pp
Split
.Po
.Ql don't
\(->
.Ql do not
.Pc ;
then.
MDOC
	run check_quotes < <(render "$BATS_TEST_TMPDIR/q.1")
	assert_success
	assert_output ""
}

# examples PAGE: the EXAMPLES of PAGE, one line each: "cmd<TAB>COMMAND" for
# a .Dl line (mdoc escapes undone) and "KIND<TAB>ARG" for its expectations.
examples() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$1" | sed -n \
		-e 's/^\.Dl /cmd\t/p' \
		-e 's/^\.\\" \(expect[a-z-]*\): /\1\t/p' |
		sed -e '/^cmd/{s/\\e/\\/g; s/\\-/-/g; s/\\(aq/'"'"'/g}'
}

@test "every EXAMPLES command runs and prints what its expectations say" {
	n=0 checks=0
	for m in $EMB_MANS; do
		examples "$EMB_SRCDIR/$m" > "$BATS_TEST_TMPDIR/ex"
		cmd= expected=0
		# a sentinel line ends the last example
		while IFS=$'\t' read -r kind arg; do
			if [ "$kind" = cmd ] || [ "$kind" = end ]; then
				if [ -n "$cmd" ] && [ "$expected" -eq 0 ]; then
					echo "$m: no expectation after: $cmd"
					return 1
				fi
				[ "$kind" = end ] && break
				cmd=$arg expected=0
				n=$((n + 1))
				rc=0
				(cd "$SAMPLES" && sh -c "$cmd") > "$BATS_TEST_TMPDIR/out" 2> "$BATS_TEST_TMPDIR/err" || rc=$?
				if [ "$rc" -ne 0 ]; then
					echo "$m: example failed (status $rc): $cmd"
					cat "$BATS_TEST_TMPDIR/err"
					return 1
				fi
				continue
			fi
			[ -n "$cmd" ] || { echo "$m: $kind before any .Dl"; return 1; }
			expected=$((expected + 1))
			checks=$((checks + 1))
			re=${arg//\\t/$'\t'}
			ok=1
			case $kind in
			expect) ok=0
				while IFS= read -r l; do [[ $l =~ $re ]] && { ok=1; break; }; done < "$BATS_TEST_TMPDIR/out" ;;
			expect-stderr) ok=0
				while IFS= read -r l; do [[ $l =~ $re ]] && { ok=1; break; }; done < "$BATS_TEST_TMPDIR/err" ;;
			expect-all)
				while IFS= read -r l; do [[ $l =~ $re ]] || { ok=0; break; }; done < "$BATS_TEST_TMPDIR/out" ;;
			expect-lines)
				[ "$(wc -l < "$BATS_TEST_TMPDIR/out")" -eq "$arg" ] || ok=0 ;;
			*) echo "$m: unknown expectation '$kind'"; return 1 ;;
			esac
			if [ "$ok" -ne 1 ]; then
				echo "$m: $kind '$arg' does not hold for: $cmd"
				echo "--- stdout:"; head -n 20 "$BATS_TEST_TMPDIR/out"
				echo "--- stderr:"; head -n 5 "$BATS_TEST_TMPDIR/err"
				return 1
			fi
		done < <(cat "$BATS_TEST_TMPDIR/ex"; printf 'end\t\n')
	done
	[ "$n" -gt 0 ]
	[ "$checks" -ge "$n" ]
}
