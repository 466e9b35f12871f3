#!/usr/bin/env bats
# JSON input (emb.5, "Other formats": jsonl and json): whole documents in
# each shape, base64 vectors, OpenAI Batch API output.  Files are written
# by Debian's Python (json, base64, numpy) with random sizes, dims, index
# orders and indentation; values are compared to numpy's float32 exactly
# (tolerance 0: base64 carries the bits, decimal text is parsed once).
load test_helper

setup() {
	cd "$BATS_TEST_TMPDIR"
}

# mk SEED: files of one random case, and truth.npy / truth.keys.
mk() {
	oracle - "$1" <<'EOF'
import sys, json, base64, numpy as np
seed = int(sys.argv[1])
rng = np.random.default_rng(seed)
n, d = int(rng.integers(1, 300)), int(rng.integers(1, 70))
x = (rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
np.save("truth.npy", x)
ind = [None, 1, 2, 4][seed % 4]
b64 = lambda r: base64.b64encode(r.astype("<f4").tobytes()).decode()
order = rng.permutation(n)
def resp(enc):
    return {"object": "list",
            "data": [{"object": "embedding", "index": int(i),
                      "embedding": enc(x[i])} for i in order],
            "model": "text-embedding-3-small",
            "usage": {"prompt_tokens": 5, "total_tokens": 5}}
# the response as OpenAI's client sees it: base64, and floats
with open("r64.json", "w") as f:
    json.dump(resp(b64), f, indent=2)
with open("rfl.json", "w") as f:
    json.dump(resp(lambda r: [float(v) for v in r]), f, indent=ind)
keys = ["k%d" % i if i % 3 else i * 7 for i in range(n)]
with open("objs.json", "w") as f:
    json.dump([{"doc": keys[i], "meta": {"a": [1, {"b": None}]},
                "vec": b64(x[i]) if i % 2 else [float(v) for v in x[i]]}
               for i in range(n)], f, indent=ind)
with open("bare.json", "w") as f:
    json.dump([[float(v) for v in r] for r in x], f, indent=ind)
with open("rows.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": "r%d" % i, "embedding": b64(x[i])}) + "\n")
with open("truth.keys", "w") as f:
    f.write("".join(str(k) + "\n" for k in keys))
EOF
}

# values EMBFILE: compare a stream's values with truth.npy exactly
values() {
	embcat -O npy "$1" 2>/dev/null > got.npy
	oracle -c '
import numpy as np
a, b = np.load("got.npy"), np.load("truth.npy")
assert a.shape == b.shape, (a.shape, b.shape)
bad = np.flatnonzero((a != b).any(axis=1))
assert bad.size == 0, "rows differ: %s" % bad[:5]
'
}

@test "json: OpenAI responses, row objects and bare arrays equal numpy's float32 (random sizes, orders, indents)" {
	for seed in 1 2 3 4 5 6; do
		mk "$seed"
		n=$(oracle -c 'import numpy as np; print(len(np.load("truth.npy")))')
		for f in r64.json rfl.json; do
			# ordered and keyed by index, whatever the order of data
			embcat -I json -O emb "$f" > x.emb
			values x.emb
			run embcat -O tsv x.emb
			assert_equal "$(printf '%s\n' "$output" | sed 1d | cut -f1)" "$(seq 0 $((n - 1)))"
		done
		# sniffed: pretty-printed is json
		embcat -O emb r64.json > y.emb
		same x.emb y.emb
		embcat --vector-field vec --key-field doc -O emb objs.json > o.emb
		values o.emb
		assert_equal "$(embcat -O tsv o.emb | grep -v '^#' | cut -f1)" "$(cat truth.keys)"
		embcat -O emb bare.json > b.emb
		values b.emb
		run embinfo b.emb
		assert_output --partial '"keys":	false'
		embcat -O emb rows.jsonl > l.emb
		values l.emb
	done
}

@test "json: a program that reads f64 (embinfo) gets each value rounded once from its text to f64, in every shape and across chunks" {
	# (the values were parsed as float32 at opening, and the chunks then
	# said f64: embinfo's norms were garbage)
	oracle - <<'EOF'
import json, base64, numpy as np
rng = np.random.default_rng(7)
n, d = 30000, 5   # two chunks of f64
x = rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 3, size=(n, 1))
x32 = x.astype(np.float32)
def dump(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, indent=1)
dump("list.json", {"object": "list", "data": [{"index": i, "embedding": [float(v) for v in x[i]]}
                                              for i in range(n)]})
dump("objs.json", [{"id": "r%d" % i, "embedding": [float(v) for v in x[i]]} for i in range(n)])
dump("bare.json", [[float(v) for v in r] for r in x])
b64 = lambda r: base64.b64encode(r.astype("<f4").tobytes()).decode()
dump("b64.json", {"object": "list", "data": [{"index": i, "embedding": b64(x32[i])}
                                             for i in range(n)]})
for name, m in (("x.tsv", x), ("x32.tsv", x32.astype(np.float64))):
    with open(name, "w") as f:
        f.write("".join("\t".join(repr(float(v)) for v in r) + "\n" for r in m))
    nm = np.linalg.norm(m, axis=1)
    with open(name + ".want", "w") as f:
        f.write("%r %r %r\n" % (nm.min(), nm.mean(), nm.max()))
EOF
	norms() {
		embinfo "$1" > info.json
		oracle -c 'import json; n = json.load(open("info.json"))["norm"]; print(repr(n["min"]), repr(n["mean"]), repr(n["max"]))'
	}
	# the TSV against numpy
	for t in x.tsv x32.tsv; do
		read -r a b c < <(norms "$t")
		read -r wa wb wc < "$t.want"
		oracle -c "import math; assert all(math.isclose(g, w, rel_tol=1e-12) for g, w in (($a, $wa), ($b, $wb), ($c, $wc))), ($a, $b, $c)"
	done
	# each JSON shape as the same values in TSV, to the bit
	tsv=$(norms x.tsv)
	for f in list.json objs.json bare.json; do
		assert_equal "$(norms "$f")" "$tsv"
	done
	assert_equal "$(norms b64.json)" "$(norms x32.tsv)"
}

@test "json: -O json is an array of row objects that json.load and -I json read back exactly" {
	for seed in 7 8 9; do
		mk "$seed"
		embcat -O json rows.jsonl > w.json
		oracle -c '
import json, numpy as np
rows = json.load(open("w.json"))
x = np.load("truth.npy")
assert [r["id"] for r in rows] == ["r%d" % i for i in range(len(x))]
assert (np.array([r["embedding"] for r in rows], dtype=np.float32) == x).all()
'
		embcat -O emb w.json > back.emb
		values back.emb
		cmp <(embcat -O tsv rows.jsonl) <(embcat -O tsv back.emb)
	done
	# no rows: an empty array, which reads back as no rows
	run embcat -I tsv -O json < /dev/null
	assert_output '[]'
	printf '[]\n' | embcat -O tsv > e.tsv
	[ ! -s e.tsv ]
}

@test "json: one-line documents, blanks and a byte order mark" {
	printf '[[1,2],[3,4]]' > a
	printf ' \n\t[ [1 , 2] ,\r\n [3,4] ] \n' > b
	printf '\357\273\277[[1,2],[3,4]]\n' > c
	for f in a b c; do
		run embcat -O tsv "$f"
		assert_success
		assert_output "$(printf '1\t2\n3\t4')"
	done
	# a response alone on one line is json (ordered by index); followed by
	# more lines, JSON Lines (in file order)
	printf '{"data":[{"index":1,"embedding":[3,4]},{"index":0,"embedding":[1,2]}]}\n' > r
	run embcat -O tsv r
	assert_output "$(printf '#emb keys\n0\t1\t2\n1\t3\t4')"
	cat r r > rr
	run embcat -O tsv rr
	assert_output "$(printf '#emb keys\n1\t3\t4\n0\t1\t2\n1\t3\t4\n0\t1\t2')"
	run embcat -I jsonl -O tsv r
	assert_output "$(printf '#emb keys\n1\t3\t4\n0\t1\t2')"
	# a row that happens to have a "data" member stays JSON Lines
	printf '{"id":"a","data":1,"embedding":[1,2]}\n' > d
	run embcat -O tsv d
	assert_output "$(printf 'a\t1\t2')"
}

@test "json: base64 of the wrong length, bad base64, bad indexes are errors naming the line and element" {
	e() { run -1 --separate-stderr embcat -O tsv "$@"; printf '%s\n' "$stderr"; }
	d() { printf '{"data":[\n{"index":0,"embedding":"AAAAAA=="},\n{%s}]}\n' "$1" > x.json; }
	d '"index":1,"embedding":"AAAAAAA="'
	assert_equal "$(e x.json)" 'embcat: x.json:3: data element 2: "embedding" holds 5 bytes of base64 data, not a whole number of float32 values'
	d '"index":1,"embedding":"AA*AAA=="'
	assert_equal "$(e x.json)" 'embcat: x.json:3: data element 2: "embedding" is a string but not base64 (invalid base64)'
	d '"index":1,"embedding":"AAAAAAAAAAA="'
	assert_equal "$(e x.json)" 'embcat: x.json:3: data element 2: "embedding" has 2 values, the first row 1'
	d '"index":3,"embedding":"AAAAAA=="'
	assert_equal "$(e x.json)" 'embcat: x.json: index 1 is missing (2 data elements; the indexes must be 0 to 1)'
	d '"index":0,"embedding":"AAAAAA=="'
	assert_equal "$(e x.json)" "embcat: x.json:3: data element 2: index 0 is also data element 1's"
	d '"embedding":"AAAAAA=="'
	assert_equal "$(e x.json)" 'embcat: x.json:3: data element 2: no "index" member'
	printf '{"id":1,"embedding":"AAAAAA=="}\n{"id":2,"embedding":"AAAA!A=="}\n' > y.jsonl
	assert_equal "$(e y.jsonl)" 'embcat: y.jsonl:2: "embedding" is a string but not base64 (invalid base64)'
	printf '{"id":1,"embedding":"AAAAAA=="}\n{"id":2,"embedding":"AAAAAAA="}\n' > y.jsonl
	assert_equal "$(e y.jsonl)" 'embcat: y.jsonl:2: "embedding" holds 5 bytes of base64 data, not a whole number of float32 values'
	# the bits of a base64 float are checked like decimal text: no nan or inf
	printf '{"id":1,"embedding":"AACAfw=="}\n' > y.jsonl
	assert_equal "$(e y.jsonl)" 'embcat: y.jsonl:1: "embedding" value 1 is infinite'
	printf '[\n[1,2],\n[3]\n]\n' > z.json
	assert_equal "$(e z.json)" 'embcat: z.json:3: row 2: the vector has 1 values, the first row 2'
	printf '[\n[1,2]\n]\n[[3,4]]\n' > z.json
	assert_equal "$(e z.json)" 'embcat: z.json:4: text after the JSON document'
	printf '{\n"error":{"message":"x"}}\n' > z.json
	assert_equal "$(e z.json)" 'embcat: z.json:1: no "data" array (not an embeddings response)'
	# write errors are errors
	run -1 --separate-stderr sh -c 'printf "[[1,2]]\n" | embcat -O json > /dev/full'
	assert_equal "$stderr" 'embcat: write error: No space left on device'
}

@test "OpenAI Batch API output: rows keyed by custom_id, failed requests counted, --strict" {
	oracle - <<'EOF'
import json, base64, numpy as np
rng = np.random.default_rng(5)
rows, keys, lines, failed = [], [], [], []
for r in range(40):
    cid = "req-%d" % r
    if r % 7 == 3:
        lines.append({"id": "b%d" % r, "custom_id": cid, "response": {"status_code": 500,
                      "request_id": "x", "body": {"error": {"message": "server error"}}},
                      "error": None})
        failed.append(cid)
        continue
    if r % 11 == 5:
        lines.append({"id": "b%d" % r, "custom_id": cid, "response": None,
                      "error": {"code": "batch_expired", "message": "expired"}})
        failed.append(cid)
        continue
    k = int(rng.integers(1, 4))
    x = rng.standard_normal((k, 16)).astype(np.float32)
    order = rng.permutation(k)
    body = {"object": "list", "model": "m", "data": [
        {"object": "embedding", "index": int(i),
         "embedding": base64.b64encode(x[i].tobytes()).decode()} for i in order]}
    for i in order:
        rows.append(x[i])
        keys.append(cid if k == 1 else "%s/%d" % (cid, i))
    lines.append({"id": "b%d" % r, "custom_id": cid,
                  "response": {"status_code": 200, "request_id": "x", "body": body},
                  "error": None})
with open("out.jsonl", "w") as f:
    f.write("".join(json.dumps(l) + "\n" for l in lines))
np.save("truth.npy", np.array(rows))
open("truth.keys", "w").write("".join(k + "\n" for k in keys))
open("failed", "w").write(", ".join(failed))
EOF
	embcat -O emb out.jsonl > x.emb 2> err
	assert_equal "$(cat err)" "embcat: out.jsonl: $(tr ', ' '\n\n' < failed | grep -c .) failed requests skipped (custom_ids $(cat failed)); --strict makes this an error"
	values x.emb
	assert_equal "$(embcat -O tsv x.emb | cut -f1)" "$(cat truth.keys)"
	run -1 --separate-stderr embcat --strict -O emb out.jsonl
	assert_equal "$stderr" 'embcat: out.jsonl:4: request req-3 failed (status 500: server error)'
	# --strict is embcat's: other programs count failures
	run -2 --separate-stderr embinfo --strict out.jsonl
	run --separate-stderr embinfo out.jsonl
	assert_success
	assert_equal "$stderr" "embinfo: out.jsonl: $(tr ', ' '\n\n' < failed | grep -c .) failed requests skipped (custom_ids $(cat failed)); --strict makes this an error"
}

@test "json: a long data array is read in time linear in its length" {
	oracle - <<'EOF'
import json
for n in (25000, 100000):
    with open("d%d.json" % n, "w") as f:
        json.dump({"object": "list", "data": [{"index": i, "embedding": [0.5, i % 7, -1.25]}
                                              for i in range(n)]}, f, indent=1)
EOF
	t() { local s; s=$(date +%s%N); embcat -O npy "$1" > /dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); }
	a=$(t d25000.json); b=$(t d100000.json)
	# 4x the rows: well under 16x the time (quadratic), with room for noise
	[ "$b" -lt $(( 10 * a + 200 )) ] || { echo "25k: $a ms, 100k: $b ms"; return 1; }
	run embinfo d100000.json
	assert_output --partial '"rows":	100000,'
}
