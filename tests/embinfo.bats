#!/usr/bin/env bats
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

@test "embinfo: rows, dim, dtype, keys, chunks and norms match numpy" {
	oracle -c 'import numpy as np, oracle as o
x = np.random.default_rng(1).standard_normal((25, 6)) * 3
open("x.emb", "wb").write(o.write(x, "f64", ["k%d" % i for i in range(25)], chunk_rows=10))
n = np.linalg.norm(x, axis=1)
print("%.17g %.17g %.17g" % (n.min(), n.mean(), n.max()))' > ref
	run embinfo x.emb
	assert_success
	assert_line --partial '"rows":	25,'
	assert_line --partial '"dim":	6,'
	assert_line --partial '"dtype":	"f64",'
	assert_line --partial '"keys":	true,'
	assert_line --partial '"chunks":	3,'
	got=$(embinfo x.emb | oracle -c 'import json, sys; n = json.load(sys.stdin)["norm"]; print(n["min"], n["mean"], n["max"])')
	assert_close "$got" "$(cat ref)" 1e-12
}

@test "embinfo keeps header metadata and history" {
	oracle -c 'import numpy as np, oracle as o
open("m.emb", "wb").write(o.header(3, extra={"source": "unit test", "history": ["made by hand"]}) + o.chunk(np.ones((2, 3))) + o.end(2))'
	embcat m.emb > m2.emb
	run embinfo m2.emb
	assert_success
	assert_line --partial '"history":	["made by hand", "embcat m.emb"],'
	assert_line --partial '"source":	"unit test"'
}

@test "embinfo describes each file, and TSV from stdin" {
	printf 'a 3 4\nb 0 0\n' > a.tsv
	run embinfo a.tsv - < a.tsv
	assert_success
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c '"rows":	2,')" 2
	assert_line --partial '"file":	"-",'
	assert_line --partial '"max":	5'
	assert_line --partial '"min":	0,'
}

@test "embinfo on an empty stream reports 0 rows and null norms" {
	run embinfo < /dev/null
	assert_success
	assert_line --partial '"rows":	0,'
	assert_line --partial '"min":	null,'
}

@test "embinfo reports damage like every reader" {
	printf 'a 1 2\nb 1\n' > r.tsv
	run -1 --separate-stderr embinfo r.tsv
	assert_output ""
	assert_equal "$stderr" "embinfo: r.tsv:2: expected 2 values, found 1"
}

@test "embinfo counts non-finite rows; norms are over the finite rows (numpy)" {
	oracle -c 'import numpy as np, oracle as o
x = np.random.default_rng(1).standard_normal((50, 8)) * 3
x[3] = [np.nan, np.inf, -np.inf, 1, 2, 3, 4, 5]; x[9, 0] = np.nan; x[20] = 0
open("x.emb", "wb").write(o.write(x))
y = np.array([[1e200, 1e200], [3, 4]]); open("big.emb", "wb").write(o.write(y, "f64"))
ok = np.isfinite(x).all(1); n = np.linalg.norm(x[ok].astype(np.float32).astype(float), axis=1)
print("2 %.17g %.17g %.17g" % (n.min(), n.mean(), n.max()))' > ref
	got=$(embinfo x.emb | oracle -c 'import json, sys; j = json.load(sys.stdin); n = j["norm"]; print(j["nonfinite_rows"], n["min"], n["mean"], n["max"])')
	assert_close "$got" "$(cat ref)" 1e-12
	# finite values whose squares overflow a double still have a norm
	got=$(embinfo big.emb | oracle -c 'import json, sys; j = json.load(sys.stdin); n = j["norm"]; print(j["nonfinite_rows"], n["min"], n["max"])')
	assert_close "$got" "0 5 1.4142135623730951e200" 1e-12
}
