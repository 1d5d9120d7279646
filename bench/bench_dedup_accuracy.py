"""Near-duplicate detection accuracy on the Japanese texts of ``../shared/crawl``.

1. The Japanese documents of the crawl (the pipeline run ``--until langid``; distinct texts).
2. Controlled edits of each text give pairs of known Jaccard similarity (exact, on the 5-gram
   sets): substituted character runs, deleted/inserted sentences, a changed header/footer.
3. A pair is *merged* when its two signatures share a band key (what the Beam stage merges,
   transitively).  Reported: merge rate per similarity bin next to the theory
   1 − (1 − s^r)^b averaged over the bin's pairs; pairs at J ≥ 0.9 (target ≥ 98 %) and below
   0.7 (target ≤ 1 %).
4. The real thing: the Beam Dedup over the crawl's documents kept by ``clean`` (both
   snapshots): every pair at J ≥ 0.9 (re-crawls and mirrors) must end in one cluster whose
   survivor is from the newer snapshot.

    python bench/bench_dedup_accuracy.py [--pairs-per-text 60]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, check_shared, table, write_results  # noqa: E402


def crawl_docs(shared: str, until: str) -> list[dict]:
    import pyarrow.dataset as ds

    from jawebcorpus.pipelines.cli import main as cli

    import shutil

    tmp = tempfile.mkdtemp(prefix="jawebcorpus-dedup-acc-")
    try:
        out = os.path.join(tmp, "out")
        rc = cli(["run", "--quiet", "--input", check_shared(shared, "crawl"), "--until", until, "--output", out])
        if rc != 0:
            raise SystemExit(f"pipeline run failed ({rc})")
        return ds.dataset(os.path.join(out, "data"), format="parquet", partitioning="hive").to_table().to_pylist()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def edit_pair(rng: random.Random, text: str, alphabet: str) -> str:
    kind = rng.randrange(3)
    if kind == 0:  # substituted runs of 1–6 characters
        rate = rng.uniform(0.0, 0.22)
        chars = list(text)
        i = 0
        while i < len(chars):
            if rng.random() < rate / 3.5:
                k = rng.randint(1, 6)
                for j in range(i, min(i + k, len(chars))):
                    chars[j] = rng.choice(alphabet)
                i += k
            else:
                i += 1
        return "".join(chars)
    sents = [s for s in text.replace("。", "。\n").split("\n") if s]
    if kind == 1 and len(sents) > 3:  # delete and insert sentences
        rate = rng.uniform(0.0, 0.35)
        out = []
        for s in sents:
            r = rng.random()
            if r < rate / 2:
                continue
            out.append(s)
            if r > 1 - rate / 2:
                out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(10, 40))) + "。")
        return "".join(out)
    # a header and footer of varying size (a template change around the same article)
    n = int(len(text) * rng.uniform(0.0, 0.4))
    head = "".join(rng.choice(alphabet) for _ in range(n // 2))
    tail = "".join(rng.choice(alphabet) for _ in range(n - n // 2))
    return head + text + tail


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = p + z * z / (2 * n)
    m = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, (c - m) / d), min(1.0, (c + m) / d))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--pairs-per-text", type=int, default=60)
    ap.add_argument("--seed", type=int, default=20240501)
    ap.add_argument("--spec-seeds", default="1,2",
                    help="other SignatureSpec seeds to repeat the curve with (the pairs share base texts, so "
                         "their outcomes are correlated: this shows the real spread)")
    args = ap.parse_args(argv)

    from jawebcorpus.dedup.lsh import band_keys, detection_probability
    from jawebcorpus.dedup.minhash import SignatureSpec, exact_jaccard, signatures

    spec = SignatureSpec()
    t0 = time.perf_counter()
    rows = crawl_docs(args.shared, "langid")
    texts = sorted({r["text"] for r in rows if r["text"] and len(r["text"]) >= 200})
    print(f"{len(rows)} Japanese documents in the crawl, {len(texts)} distinct texts of ≥ 200 characters "
          f"({time.perf_counter() - t0:.0f} s)")
    alphabet = "".join(sorted(set("".join(texts)) - set("\n\r\t ")))
    rng = random.Random(args.seed)
    a_list, b_list, js = [], [], []
    for t in texts:
        for _ in range(args.pairs_per_text):
            e = edit_pair(rng, t, alphabet)
            a_list.append(t)
            b_list.append(e)
            js.append(exact_jaccard(t, e))
    js = np.asarray(js)
    ka = band_keys(signatures(a_list, spec), spec)
    kb = band_keys(signatures(b_list, spec), spec)
    merged = (ka == kb).any(axis=1)
    theory = detection_probability(js, spec.bands, spec.rows)

    others = {}
    for sd in [int(x) for x in args.spec_seeds.split(",") if x.strip()]:
        sp = SignatureSpec(seed=sd)
        others[sd] = (band_keys(signatures(a_list, sp), sp) == band_keys(signatures(b_list, sp), sp)).any(axis=1)

    edges = np.round(np.arange(0.3, 1.0001, 0.05), 2)
    bins = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (js >= lo) & ((js < hi) if hi < 1.0 else (js <= 1.0))
        n = int(sel.sum())
        k = int(merged[sel].sum())
        lo_ci, hi_ci = wilson(k, n)
        bins.append({"lo": float(lo), "hi": float(hi), "pairs": n, "merged": k,
                     "rate": k / n if n else None, "ci95": [lo_ci, hi_ci],
                     "theory": float(theory[sel].mean()) if n else None,
                     "rate_other_seeds": {str(sd): (float(m[sel].mean()) if n else None) for sd, m in others.items()}})
    hi_sel = js >= 0.9
    lo_sel = js < 0.7
    summary_ = {
        "pairs": int(len(js)),
        "j_ge_0.9": {"pairs": int(hi_sel.sum()), "merged": int(merged[hi_sel].sum()),
                     "rate": float(merged[hi_sel].mean()), "theory": float(theory[hi_sel].mean()), "target": ">= 0.98"},
        "j_lt_0.7": {"pairs": int(lo_sel.sum()), "merged": int(merged[lo_sel].sum()),
                     "rate": float(merged[lo_sel].mean()), "theory": float(theory[lo_sel].mean()), "target": "<= 0.01"},
        "j_0.7_0.9": {"pairs": int((~hi_sel & ~lo_sel).sum()), "rate": float(merged[~hi_sel & ~lo_sel].mean()),
                      "theory": float(theory[~hi_sel & ~lo_sel].mean())},
        "max_abs_dev_from_theory_per_bin": max(abs(b["rate"] - b["theory"]) for b in bins if b["pairs"] >= 50),
        "other_seeds": {str(sd): {"j_ge_0.9": float(m[hi_sel].mean()), "j_lt_0.7": float(m[lo_sel].mean())}
                        for sd, m in others.items()},
    }
    print(table(["Jaccard", "pairs", "merged", "rate", "95 % CI", "theory 1−(1−s²⁰)⁴⁰"]
                + [f"seed {sd}" for sd in others],
                [[f"{b['lo']:.2f}–{b['hi']:.2f}", b["pairs"], b["merged"],
                  "–" if b["rate"] is None else f"{100 * b['rate']:.1f} %",
                  f"{100 * b['ci95'][0]:.1f}–{100 * b['ci95'][1]:.1f} %",
                  "–" if b["theory"] is None else f"{100 * b['theory']:.1f} %"]
                 + ["–" if v is None else f"{100 * v:.1f} %" for v in b["rate_other_seeds"].values()]
                 for b in bins]))
    for k in ("j_ge_0.9", "j_lt_0.7"):
        s = summary_[k]
        print(f"{k}: {s['merged']:,}/{s['pairs']:,} merged = {100 * s['rate']:.2f} % "
              f"(theory {100 * s['theory']:.2f} %, target {s['target']})")

    crawl = cross_snapshot_check(args.shared)
    print(f"crawl, kept by clean: {crawl['docs']} documents, {crawl['dup_pairs']} pairs at J ≥ 0.9 "
          f"({crawl['cross_snapshot_pairs']} across snapshots); found {crawl['pairs_found']}; "
          f"clusters {crawl['clusters']}, survivor from the newest snapshot in the cluster: "
          f"{crawl['newest_kept']}/{crawl['clusters']}")
    path = write_results("bench_dedup_accuracy", {
        "spec": spec.to_dict(), "fingerprint": spec.fingerprint(), "texts": len(texts),
        "pairs_per_text": args.pairs_per_text, "bins": bins, "summary": summary_, "crawl": crawl,
    }, args.out)
    print(f"wrote {path}")


def cross_snapshot_check(shared: str) -> dict:
    """The Beam Dedup on the crawl's clean output against the exact-Jaccard truth."""
    import itertools

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.corpus.record import Doc
    from jawebcorpus.dedup.cluster import UnionFind
    from jawebcorpus.dedup.minhash import exact_jaccard
    from jawebcorpus.pipelines.dedup import Dedup
    from jawebcorpus.pipelines.run import local_runner

    rows = crawl_docs(shared, "clean")
    docs = [Doc(snapshot=r["snapshot"], warc_file=r["warc_file"], warc_offset=r["warc_offset"],
                warc_length=r["warc_length"], warc_record_id=r["warc_record_id"], warc_date=r["warc_date"],
                url=r["url"], text=r["text"]) for r in rows]
    uf = UnionFind()
    pairs = cross = 0
    for i, j in itertools.combinations(range(len(docs)), 2):
        uf.find(i)
        uf.find(j)
        if exact_jaccard(docs[i].text, docs[j].text) >= 0.9:
            uf.union(i, j)
            pairs += 1
            cross += docs[i].snapshot != docs[j].snapshot
    truth = [g for g in uf.groups().values() if len(g) > 1]
    out = tempfile.mkdtemp(prefix="jawebcorpus-dedup-crawl-")
    opts = PipelineOptions([])
    with beam.Pipeline(runner=local_runner(opts), options=opts) as p:
        res = p | beam.Create(docs) | Dedup()
        (res.docs | beam.Map(lambda d: f"{d.snapshot}\t{d.url}\t{d.warc_record_id}")
         | beam.io.WriteToText(os.path.join(out, "kept")))
    kept = set()
    for f in os.listdir(out):
        with open(os.path.join(out, f), encoding="utf-8") as fh:
            kept |= {tuple(line.rstrip("\n").split("\t")) for line in fh}
    import shutil

    shutil.rmtree(out, ignore_errors=True)
    key = lambda d: (d.snapshot, d.url, d.warc_record_id)  # noqa: E731
    one_survivor = newest = found = 0
    for g in truth:
        survivors = [i for i in g if key(docs[i]) in kept]
        one_survivor += len(survivors) == 1
        newest_snap = max(docs[i].snapshot for i in g)
        newest += len(survivors) == 1 and docs[survivors[0]].snapshot == newest_snap
        found += len(g) * (len(g) - 1) // 2 if len(survivors) == 1 else 0
    return {"docs": len(docs), "dup_pairs": pairs, "cross_snapshot_pairs": cross, "pairs_found": found,
            "clusters": len(truth), "clusters_with_one_survivor": one_survivor, "newest_kept": newest,
            "kept": len(kept)}


if __name__ == "__main__":
    main()
