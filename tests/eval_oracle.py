"""Reference implementations of embeval's measures, written from their
sources' definitions (not from embeval's code), for tests/embeval.bats.

trec_eval (usnistgov/trec_eval 9.0.8: m_map.c, m_recip_rank.c, m_P.c,
m_recall.c, m_ndcg_cut.c, m_success.c, form_res_rels.c); ann-benchmarks
(plotting/metrics.py: knn_threshold, epsilon_threshold, get_recall_values);
big-ann-benchmarks (plotting/metrics.py: compute_recall_with_distance_ties);
FAISS 1-recall@R.  pytrec_eval and ir_measures are not in Debian, so this
file is the reference.

  eval_oracle.py qrels QRELS RUN [-m MEASURE]... [-c]
  eval_oracle.py recall TRUTH RUN [-k K] [--at R] [--ties T] [--epsilon E]
                 [--sim S] [--db DB.tsv --queries Q.tsv] [--ivecs]
  eval_oracle.py compare A.json B.json TOL
  eval_oracle.py gen-qrels SEED DIR      (random qrels.txt and run files)

Each evaluation prints the JSON embeval --json -q prints.
"""
import json
import math
import sys

import numpy as np


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if line.strip() == "":
                continue
            fields = line.split("\t") if "\t" in line else line.split()
            yield n, fields


def read_run(path):
    """{qid: [(doc, score, rank, line)]}, queries in order of appearance."""
    run = {}
    for n, f in read_lines(path):
        if len(f) == 6:
            q, doc, rank, score = f[0], f[2], f[3], f[4]
        else:
            q, doc, score, rank = f[0], f[1], f[2], f[3]
        run.setdefault(q, []).append((doc, float(score), int(rank), n))
    return run


# ---------------------------------------------------------------- trec_eval

DEFAULT_CUTS = [5, 10, 15, 20, 30, 100, 200, 500, 1000]
ORDER = ["map", "recip_rank", "P", "recall", "ndcg_cut", "success"]


def parse_measures(specs):
    out = []
    for s in specs or ["map", "recip_rank", "P.10", "recall.100", "ndcg_cut.10"]:
        name, _, cuts = s.partition(".")
        if name in ("map", "recip_rank"):
            out.append((name, None))
            continue
        if cuts:
            cs = [int(c) for c in cuts.split(",")]
        else:
            cs = [1, 5, 10] if name == "success" else DEFAULT_CUTS
        out += [(name, c) for c in cs]
    out = sorted(set(out), key=lambda m: (ORDER.index(m[0]), m[1] or 0))
    return out


def mname(m):
    return m[0] if m[1] is None else "%s_%d" % m


def trec_query(judg, docs, m):
    """judg: {doc: rel}; docs: [(doc, score)]; measure m."""
    # trec_eval: score descending, ties by docno descending
    ranked = sorted(docs, key=lambda d: d[0], reverse=True)
    ranked = sorted(ranked, key=lambda d: -d[1])
    rels = [judg.get(d, -1) for d, _ in ranked]
    nrel = sum(1 for r in judg.values() if r >= 1)
    name, k = m
    if name == "map":
        hits, s = 0, 0.0
        for i, r in enumerate(rels):
            if r >= 1:
                hits += 1
                s += hits / (i + 1)
        return s / nrel if hits else 0.0
    if name == "recip_rank":
        for i, r in enumerate(rels):
            if r >= 1:
                return 1.0 / (i + 1)
        return 0.0
    top = rels[:k]
    hits = sum(1 for r in top if r >= 1)
    if name == "P":
        return hits / k
    if name == "recall":
        return hits / nrel if nrel else 0.0
    if name == "success":
        return 1.0 if hits else 0.0
    if name == "ndcg_cut":
        dcg = sum(r / math.log2(i + 2) for i, r in enumerate(top) if r > 0)
        ideal = sorted((r for r in judg.values() if r > 0), reverse=True)[:k]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        return dcg / idcg if idcg > 0 else 0.0
    raise ValueError(name)


def eval_qrels(qrels_path, run_path, specs, complete):
    qrels = {}
    for _, f in read_lines(qrels_path):
        qrels.setdefault(f[0], {})[f[2]] = int(f[3])
    run = read_run(run_path)
    ms = parse_measures(specs)
    per, n = {}, 0
    sums = [0.0] * len(ms)
    for q in sorted(qrels):
        if q not in run and not complete:
            continue
        docs = [(d, s) for d, s, _, _ in run.get(q, [])]
        per[q] = {}
        for i, m in enumerate(ms):
            v = trec_query(qrels[q], docs, m)
            per[q][mname(m)] = v
            sums[i] += v
        n += 1
    return {"num_q": n, "all": {mname(m): sums[i] / n for i, m in enumerate(ms)},
            "queries": per}


# ---------------------------------------------------------------- recall

def load_tsv(path):
    keys, rows = [], []
    with open(path) as f:
        for line in f:
            p = line.split()
            try:
                float(p[0])
                has_key = False
            except ValueError:
                has_key = True
            keys.append(p[0] if has_key else str(len(keys) + 1))
            rows.append([float(x) for x in (p[1:] if has_key else p)])
    return keys, np.array(rows, dtype=np.float32).astype(np.float64)


def to_dist(sim, s):
    return 1 - s if sim == "cos" else -s


def vec_score(sim, a, b):
    if sim == "cos":
        return float(a @ b / math.sqrt((a @ a) * (b @ b)))
    if sim == "dot":
        return float(a @ b)
    if sim == "euclidean":
        return -float(np.sqrt(((a - b) ** 2).sum()))
    return -float(np.abs(a - b).sum())


def eval_recall(a):
    sim = a.get("sim", "cos")
    vec = None
    if a.get("db"):
        dk, dx = load_tsv(a["db"])
        qk, qx = load_tsv(a["queries"])
        vec = ({k: i for i, k in enumerate(dk)}, dx, {k: i for i, k in enumerate(qk)}, qx)
    file_dist = None
    if a.get("ivecs") or a.get("ibin") or a.get("hdf5"):
        if a.get("ivecs"):
            raw = np.fromfile(a["truth"], dtype="<i4")
            d = raw[0]
            ids = raw.reshape(-1, d + 1)[:, 1:]
        elif a.get("ibin"):
            raw = np.fromfile(a["truth"], dtype="<i4")
            ids = raw[2:].reshape(raw[0], raw[1])
        else:
            import h5py
            with h5py.File(a["truth"], "r") as f:
                ids = f["neighbors"][:]
                if "distances" in f:
                    file_dist = f["distances"][:].astype(np.float64)
        truth = {}
        for i, r in enumerate(ids):
            q = qk[i] if vec else str(i + 1)
            truth[q] = [((dk[j] if vec else str(j + 1)),
                         float("nan") if file_dist is None else file_dist[i][n], n + 1, 0)
                        for n, j in enumerate(r)]
    else:
        truth = read_run(a["truth"])
    run = read_run(a["run"])
    k, at = a.get("k"), a.get("at")
    ties, eps = a.get("ties", "distance"), a.get("epsilon")

    def dists(q, items, is_truth=False):
        if is_truth and file_dist is not None and not vec:
            return [s for _, s, _, _ in items]  # the file's own distances
        if vec:
            qi = vec[3][vec[2][q]]
            return [to_dist(sim, vec_score(sim, qi, vec[1][vec[0][d]])) for d, _, _, _ in items]
        return [to_dist(sim, s) for _, s, _, _ in items]

    def hits(kk, look, tl, rl):
        td = dists(q, tl, True)
        tids = [d for d, _, _, _ in tl]
        rids = [d for d, _, _, _ in rl][:look]
        if ties == "distance":
            rd = dists(q, rl[:look])
            thr = td[kk - 1] * (1 + eps) if eps is not None else td[kk - 1] + 1e-3
            return sum(1 for x in rd if x <= thr)
        if ties == "none":
            return len(set(tids[:kk]) & set(rids))
        # big-ann-benchmarks: the tie group anchored at position kk-1
        end = len(td)
        for i in range(kk, len(td)):
            if not abs(td[kk - 1] - td[i]) < 1e-6:
                end = i
                break
        if len(td) == kk:
            end = kk
        return len(set(tids[:end]) & set(rids))

    names = []
    if k:
        names.append("recall_%d" % k)
    if at:
        names.append("1-recall_%d" % at)
    per = {}
    sums = dict.fromkeys(names, 0.0)
    for q, tl in truth.items():
        tl = sorted(tl, key=lambda x: (x[2], x[3]))
        rl = sorted(run.get(q, []), key=lambda x: (x[2], x[3]))
        per[q] = {}
        for nm in names:
            if q not in run:
                v = 0.0
            elif nm.startswith("recall"):
                v = hits(k, k, tl, rl) / k
            else:
                v = 1.0 if hits(1, at, tl, rl) > 0 else 0.0
            per[q][nm] = v
            sums[nm] += v
    n = len(truth)
    return {"num_q": n, "all": {nm: sums[nm] / n for nm in names}, "queries": per}


# ---------------------------------------------------------------- helpers

def compare(a, b, tol):
    return compare_values(json.load(open(a)), json.load(open(b)), tol)


def compare_values(x, y, tol):
    ok = x["num_q"] == y["num_q"] and list(x["all"]) == list(y["all"])
    bad = []
    for part in ("all", "queries"):
        if part == "all":
            pairs = [("all", x["all"], y["all"])]
        else:
            if list(x.get("queries", {})) != list(y.get("queries", {})):
                ok = False
                bad.append("query lists differ: %s vs %s" % (list(x.get("queries", {}))[:10],
                                                            list(y.get("queries", {}))[:10]))
                continue
            pairs = [(q, x["queries"][q], y["queries"][q]) for q in x.get("queries", {})]
        for q, u, v in pairs:
            if list(u) != list(v):
                ok = False
                bad.append("%s: measures %s vs %s" % (q, list(u), list(v)))
                continue
            for m in u:
                if not abs(u[m] - v[m]) <= tol:
                    ok = False
                    bad.append("%s %s: %r vs %r" % (q, m, u[m], v[m]))
    if not ok:
        print("differ:", x["num_q"], y["num_q"], *bad[:20], sep="\n  ", file=sys.stderr)
    return ok


def gen_qrels(seed, d):
    """Graded qrels (0..3, a few negative), queries with no relevant
    document, scores rounded so that ties are common, queries missing from
    the run and run queries missing from the qrels; a TREC run and a topk
    run of the same rankings."""
    rng = np.random.default_rng(seed)
    nq = int(rng.integers(3, 12))
    ndoc = int(rng.integers(5, 40))
    with open(d + "/qrels.txt", "w") as f:
        for q in range(nq):
            docs = rng.choice(ndoc, size=int(rng.integers(1, ndoc)), replace=False)
            none = rng.random() < 0.2
            for doc in docs:
                r = 0 if none else int(rng.choice([0, 0, 1, 2, 3, -1], p=[.3, .2, .2, .15, .1, .05]))
                f.write("q%d 0 d%d %d\n" % (q, doc, r))
    with open(d + "/run.trec", "w") as ft, open(d + "/run.tsv", "w") as fk:
        for q in list(range(nq)) + [nq, nq + 1]:
            if rng.random() < 0.15:
                continue
            n = int(rng.integers(1, ndoc))
            docs = rng.choice(ndoc, size=n, replace=False)
            scores = np.round(rng.random(n), int(rng.integers(1, 3)))
            order = np.argsort(-scores, kind="stable")
            for rank, i in enumerate(order, 1):
                ft.write("q%d Q0 d%d %d %s run\n" % (q, docs[i], rank, repr(float(scores[i]))))
                fk.write("q%d\td%d\t%s\t%d\n" % (q, docs[i], repr(float(scores[i])), rank))


def batch(path, tol):
    """Each line of PATH: ORACLE-ARGS... TAB EMBEVAL-JSON-FILE (args
    separated by single spaces, as the shell split them).  One process
    checks them all: starting Python once per case cost most of the
    tests' time.  Exit 1 after naming every case that differs."""
    ok = True
    for line in open(path):
        args, got = line.rstrip("\n").split("\t")
        want = evaluate(["eval_oracle"] + args.split(" "))
        if not compare_values(json.load(open(got)), want, tol):
            print("case: %s" % args, file=sys.stderr)
            ok = False
    return ok


def main(argv):
    cmd = argv[1]
    if cmd == "compare":
        sys.exit(0 if compare(argv[2], argv[3], float(argv[4])) else 1)
    if cmd == "batch":
        sys.exit(0 if batch(argv[2], float(argv[3])) else 1)
    if cmd == "gen-qrels":
        gen_qrels(int(argv[2]), argv[3])
        return
    json.dump(evaluate(argv), sys.stdout)


def evaluate(argv):
    """The measures of one command line: argv[1] is qrels or recall."""
    cmd = argv[1]
    args, ms, pos, i = {}, [], [], 2
    argv = argv[:2] + [p for a in argv[2:] for p in (a.split("=", 1) if a.startswith("--") and "=" in a else [a])]
    while i < len(argv):
        o = argv[i]
        if o == "-m":
            ms.append(argv[i + 1])
            i += 2
        elif o == "-c":
            args["complete"] = True
            i += 1
        elif o in ("--ivecs", "--ibin", "--hdf5"):
            args[o[2:]] = True
            i += 1
        elif o in ("-k", "--at"):
            args[o.lstrip("-")] = int(argv[i + 1])
            i += 2
        elif o == "--epsilon":
            args["epsilon"] = float(argv[i + 1])
            i += 2
        elif o.startswith("--"):
            args[o[2:]] = argv[i + 1]
            i += 2
        else:
            pos.append(o)
            i += 1
    if cmd == "qrels":
        return eval_qrels(pos[0], pos[1], ms, args.get("complete", False))
    args["truth"], args["run"] = pos
    return eval_recall(args)


if __name__ == "__main__":
    main(sys.argv)
