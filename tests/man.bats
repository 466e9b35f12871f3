#!/usr/bin/env bats
# Man pages: lint clean, and every EXAMPLES command (.Dl lines) runs.
load test_helper

setup_file() {
	export SAMPLES="$BATS_FILE_TMPDIR/samples"
	mkdir -p "$SAMPLES"
	sh "$EMB_SRCDIR/tests/make-samples.sh" "$SAMPLES"
}

@test "man pages lint clean with groff -mdoc -ww -z" {
	for m in $EMB_MANS; do
		run groff -mdoc -ww -z "$EMB_SRCDIR/$m"
		assert_success
		assert_output ""
	done
}

@test "every EXAMPLES command in the man pages runs" {
	n=0
	for m in $EMB_MANS; do
		# .Dl lines after .Sh EXAMPLES, with mdoc escapes undone.
		sed -n '/^\.Sh EXAMPLES/,/^\.Sh /s/^\.Dl //p' "$EMB_SRCDIR/$m" |
			sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" > "$BATS_TEST_TMPDIR/cmds"
		while IFS= read -r cmd; do
			n=$((n + 1))
			run sh -c "cd '$SAMPLES' && $cmd"
			if [ "$status" -ne 0 ]; then
				echo "$m: example failed (status $status): $cmd"
				echo "$output"
				return 1
			fi
		done < "$BATS_TEST_TMPDIR/cmds"
	done
	[ "$n" -gt 0 ]
}
