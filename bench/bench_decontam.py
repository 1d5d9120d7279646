#!/usr/bin/env python
"""Benchmark decontamination (``filters/decontam.py``): choosing n and the coverage share, the
index's memory and build time, and the matching cost.

(1) ``choice``   for n in {5, 8, 10, 13, 16, 20} and a coverage share θ in {any n-gram, 0.2 …
                 1.0}: false hits on documents that hold no item, and items found in pages that
                 hold one.  Items: the 319 benchmark-like items written for the project
                 (``tests/fixturegen/benchitems.py``: JCommonsenseQA-, JSQuAD-, JNLI-, JEMHopQA-,
                 JMMLU- and MGSM-ja-like).  Documents without an item: the Japanese documents of
                 ``../shared/crawl`` as the ``clean`` stage leaves them (``jawebcorpus run --until
                 clean``, run as a subprocess), the 20 ordinary pages on the topics of the items
                 (same facts, other words), 20 harder ones (encyclopedia-style paragraphs with the
                 passages' key phrases, quiz and drill pages in the items' styles, captions,
                 comparison trivia), pages of the 412 real Japanese sentences of
                 ``../shared/testdata/langid/lingua``, and the project's own Japanese articles.
                 Pages with an item: every item in each of 7 layouts and spellings (verbatim,
                 full-width, half-width katakana, choices labelled, line breaks and spaces at
                 random places, other punctuation, all at once) between ordinary paragraphs; and,
                 measured apart, copies that are not word for word (a field left out, two
                 characters changed).
(2) ``memory``   bytes per item and build time of the index, for the written items and for
                 10,000 / 100,000 items of 60–400 characters drawn from the characters of the
                 lingua sentences.
(3) ``cost``     matching time per 1,000 characters of the shared crawl's documents, per index size.

    python bench/bench_decontam.py [--shared ../shared] [--repeats 5]
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter, defaultdict

from _common import REPO_DIR, add_common_args, fmt, freeze_if_asked, summary, table, write_results

sys.path.insert(0, os.fspath(REPO_DIR / "tests"))
from fixturegen.benchitems import EDITED_VARIANTS, NEAR_PAGES, TOPIC_PAGES, VARIANTS, embed, items  # noqa: E402
from fixturegen.texts import JA_ARTICLES  # noqa: E402

from jawebcorpus.filters.decontam import (  # noqa: E402
    BenchmarkIndex, BenchmarkItem, DecontamConfig, DEFAULT_MIN_COVERAGE, DEFAULT_N, normalise,
)

NAME = "bench_decontam"
NS = (5, 8, 10, 12, 13, 14, 16, 18, 20)
THETAS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # 0.0: any n-gram of the item
MIN_THETA = 0.5
MARGIN = 0.2  # wanted between the highest coverage of a page without an item and θ
#: layouts that keep every field's text in order (spacing, widths, punctuation); the others put
#: labels between the fields, which an item whose every field is shorter than n cannot survive
SPELLINGS = ("verbatim", "full-width", "half-width-kana", "wrapped", "punctuation")


def shared_docs(shared: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="bench-decontam-") as tmp:
        subprocess.run([sys.executable, "-m", "jawebcorpus", "run", "--quiet", "--input", os.path.join(shared, "crawl"),
                        "--output", tmp, "--until", "clean"], check=True, stdout=subprocess.DEVNULL)
        files = sorted(glob.glob(os.path.join(tmp, "data", "**", "*.parquet"), recursive=True))
        t = pa.concat_tables([pq.read_table(f, columns=["text"]) for f in files])
    return [x for x in t.column("text").to_pylist() if x]


def lingua_pages(shared: str, per_page: int = 10) -> list[str]:
    path = os.path.join(shared, "testdata", "langid", "lingua", "sentences", "ja.txt")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as fh:
        sents = [x.strip() for x in fh if x.strip()]
    return ["\n".join(sents[i:i + per_page]) for i in range(0, len(sents), per_page)]


def own_articles() -> list[str]:
    return ["\n".join(["".join(p) for p in paras]) for _title, paras in JA_ARTICLES.values()]


def positives(all_items: list[dict], fillers: list[str], seed: int = 7) -> list[tuple[str, str, str, str]]:
    """(item id, benchmark, variant, page) for every item in every variant."""
    rng = random.Random(seed)
    out = []
    for it in all_items:
        for v in VARIANTS + EDITED_VARIANTS:
            before, after = rng.sample(fillers, 2)
            out.append((it["id"], it["benchmark"], v, embed(it["text"], v, rng, before[:600], after[:600])))
    return out


def same_passage(a: str, b: str) -> bool:
    """JSQuAD-like items that share their passage: a page with one holds most of the other."""
    return a.startswith("jsquad-like-") and b.startswith("jsquad-like-") and a.rsplit("-", 1)[0] == b.rsplit("-", 1)[0]


def choice(all_items, negatives: dict[str, list[str]], pos) -> dict:
    out = {}
    bench_items = [BenchmarkItem(x["benchmark"], x["id"], x["text"]) for x in all_items]
    for n in NS:
        idx = BenchmarkIndex.build(bench_items, DecontamConfig(n=n, min_coverage=1.0))
        neg_cov = {name: [max(idx.coverage(d).values(), default=0.0) for d in docs] for name, docs in negatives.items()}
        neg_top = {}
        for name, docs in negatives.items():
            worst = max(range(len(docs)), key=lambda i: neg_cov[name][i]) if docs else None
            if worst is not None:
                cov = idx.coverage(docs[worst])
                item = max(cov, key=cov.get) if cov else None
                neg_top[name] = {"coverage": neg_cov[name][worst], "item": item}
        own, other = [], []
        per_variant = defaultdict(list)
        for item_id, _bench, variant, page in pos:
            cov = idx.coverage(page)
            c = cov.get(item_id, 0.0)
            per_variant[variant].append(c)
            if variant in EDITED_VARIANTS:
                continue
            own.append(c)
            other.append(max((v for k, v in cov.items() if k != item_id and not same_passage(k, item_id)), default=0.0))
        rows = {}
        for th in THETAS:
            hit = (lambda c: c > 0) if th == 0.0 else (lambda c, th=th: c >= th)
            rows[str(th)] = {
                "false_hits": {name: sum(map(hit, covs)) for name, covs in neg_cov.items()},
                "recall": sum(map(hit, own)) / len(own),
                "recall_by_variant": {v: sum(map(hit, cs)) / len(cs) for v, cs in per_variant.items()},
                "recall_edited": {v: sum(map(hit, per_variant[v])) / len(per_variant[v]) for v in EDITED_VARIANTS},
                "pages_reporting_another_item": sum(map(hit, other)),
            }
        out[str(n)] = {
            "short_items": idx.stats.short, "indexed": idx.stats.indexed,
            "short_field_items": sum(1 for x in all_items if max(len(normalise(f)) for f in x["text"].split("\n")) < n),
            "negative_max_coverage": {k: max(v, default=0.0) for k, v in neg_cov.items()},
            "negative_worst": neg_top,
            "positive_min_coverage": min(own), "positive_p1_coverage": sorted(own)[len(own) // 100],
            "positive_min_by_variant": {v: min(cs) for v, cs in per_variant.items()},
            "another_item_max_coverage": max(other),
            "by_threshold": rows,
        }
    return out


def found_per_benchmark(all_items, pos) -> dict:
    idx = BenchmarkIndex.build([BenchmarkItem(x["benchmark"], x["id"], x["text"]) for x in all_items], DecontamConfig())
    total, found = Counter(), Counter()
    for item_id, bench, variant, page in pos:
        if variant in EDITED_VARIANTS:
            continue
        total[bench] += 1
        found[bench] += any(m.item_id == item_id and m.benchmark == bench for m in idx.match(page))
    return {b: {"pages": total[b], "found": found[b]} for b in sorted(total)}


def synthetic_items(count: int, sentences: list[str], seed: int = 3) -> list[BenchmarkItem]:
    """Items of 60–400 characters drawn one character at a time from the characters of real
    Japanese sentences: the size and character mix of real items, and no text that any page holds
    (the shared crawl's pages quote the same Leipzig sentences, so items made of whole sentences
    would match them)."""
    rng = random.Random(seed)
    pool = [c for s in sentences for c in s]
    out = []
    for i in range(count):
        text = "".join(rng.choices(pool, k=rng.randint(60, 400)))
        out.append(BenchmarkItem(f"synthetic-{i % 6}", f"s{i}", text))
    return out


def memory(all_items, sentences, repeats: int) -> dict:
    sets = {f"written ({len(all_items)})": [BenchmarkItem(x["benchmark"], x["id"], x["text"]) for x in all_items]}
    if sentences:
        for count in (10_000, 100_000):
            sets[f"synthetic {count:,}"] = synthetic_items(count, sentences)
    out = {}
    for name, its in sets.items():
        chars = sum(len(x.text) for x in its)
        times = []
        for _ in range(repeats if len(its) < 50_000 else 1):
            t0 = time.process_time()
            BenchmarkIndex.build(its)
            times.append(time.process_time() - t0)
        tracemalloc.start()
        idx = BenchmarkIndex.build(its)
        current, _peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out[name] = {"items": len(its), "chars": chars, "ngrams": idx.stats.ngrams, "array_bytes": idx.stats.nbytes,
                     "held_bytes": current, "bytes_per_item": current / len(its),
                     "bytes_per_ngram": current / max(1, idx.stats.ngrams),
                     "build_cpu_s": summary(times), "index": idx}
    return out


def cost(indexes: dict, docs: list[str], repeats: int) -> dict:
    chars = sum(len(d) for d in docs)
    out = {}
    for name, idx in indexes.items():
        idx.match(docs[0])
        per = []
        for _ in range(repeats):
            t0 = time.process_time()
            for d in docs:
                idx.match(d)
            per.append(time.process_time() - t0)
        out[name] = {"docs": len(docs), "chars": chars, "cpu_s": summary(per),
                     "us_per_1000_chars": summary([1e6 * p / (chars / 1000) for p in per]),
                     "us_per_doc": summary([1e6 * p / len(docs) for p in per])}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    freeze_if_asked(args)
    all_items = items()
    negatives = {"topic pages (20)": list(TOPIC_PAGES.values()), "near pages (20)": list(NEAR_PAGES.values()),
                 "own articles": own_articles()}
    crawl = os.path.join(args.shared, "crawl")
    if os.path.isdir(crawl):
        print("running the pipeline on ../shared/crawl to the clean stage …", flush=True)
        negatives["shared crawl, after clean"] = shared_docs(args.shared)
    lingua = lingua_pages(args.shared)
    if lingua:
        negatives["lingua ja sentences"] = lingua
    fillers = list(TOPIC_PAGES.values()) + (lingua or own_articles())
    pos = positives(all_items, fillers)
    print(f"{len(all_items)} items ({dict(Counter(x['benchmark'] for x in all_items))}); "
          f"{len(pos)} pages holding one; documents without: "
          + ", ".join(f"{k} {len(v)}" for k, v in negatives.items()) + "\n", flush=True)

    ch = choice(all_items, negatives, pos)
    rows = []
    for n, r in ch.items():
        for th, x in r["by_threshold"].items():
            rows.append([n, "any n-gram" if th == "0.0" else th, sum(x["false_hits"].values()),
                         ", ".join(f"{v}" for v in x["false_hits"].values()), f"{100 * x['recall']:.1f} %",
                         f"{100 * min(v for k, v in x['recall_by_variant'].items() if k in VARIANTS):.1f} %",
                         " / ".join(f"{100 * x['recall_edited'][v]:.1f} %" for v in EDITED_VARIANTS),
                         x["pages_reporting_another_item"]])
    print("## (1) false hits and items found, by n and coverage share θ\n")
    print(f"Per n: the smallest θ ≥ {MIN_THETA} (an item counts when most of it is on the page, so that quoting a "
          f"sentence of a long passage is not enough) with no false hit, every item found in every spelling "
          f"({', '.join(SPELLINGS)}) and at least {MARGIN} between θ and the highest coverage of a page without an "
          "item; chosen: the best mean of the other four columns\n")
    best, rows_best = None, []
    for n, r in ch.items():
        neg = max(r["negative_max_coverage"].values())
        ok = [(float(th), x) for th, x in r["by_threshold"].items()
              if float(th) >= MIN_THETA and not sum(x["false_hits"].values())
              and min(v for k, v in x["recall_by_variant"].items() if k in SPELLINGS) == 1.0 and float(th) - neg >= MARGIN - 1e-9]
        if not ok:
            rows_best.append([n, r["short_field_items"], fmt(neg, 3), "none", "–", "–", "–", "–"])
            continue
        th, x = min(ok, key=lambda t: t[0])
        others = [x["recall_by_variant"][v] for v in VARIANTS if v not in SPELLINGS] + [x["recall_edited"][v] for v in EDITED_VARIANTS]
        score = sum(others) / len(others)
        if best is None or score > best[2]:
            best = (int(n), th, score)
        rows_best.append([n, r["short_field_items"], fmt(neg, 3), th, fmt(th - neg, 3),
                          " / ".join(f"{100 * x['recall_by_variant'][v]:.1f} %" for v in VARIANTS if v not in SPELLINGS),
                          " / ".join(f"{100 * x['recall_edited'][v]:.1f} %" for v in EDITED_VARIANTS), f"{100 * score:.1f} %"])
    print(table(["n", "items with every field < n", "highest coverage without an item", "θ", "margin",
                 "found when " + " / ".join(v for v in VARIANTS if v not in SPELLINGS),
                 "found when " + " / ".join(EDITED_VARIANTS), "mean"], rows_best))
    if best:
        print(f"\nchosen: n = {best[0]}, θ = {best[1]}; the defaults are n = {DEFAULT_N}, θ = {DEFAULT_MIN_COVERAGE}"
              + ("" if (best[0], best[1]) == (DEFAULT_N, DEFAULT_MIN_COVERAGE) else "  ← DIFFERENT"))
    print("\nEvery (n, θ):\n")
    print(table(["n", "θ", "false hits", "per set (" + ", ".join(negatives) + ")", "items found",
                 "worst layout", "found when " + " / ".join(EDITED_VARIANTS), "pages naming another item too"], rows))
    print()
    print(table(["n", "short items", "highest coverage of a document without an item", "lowest coverage of an embedded item",
                 "1st percentile", "highest coverage of another item"],
                [[n, r["short_items"], fmt(max(r["negative_max_coverage"].values()), 3), fmt(r["positive_min_coverage"], 3),
                  fmt(r["positive_p1_coverage"], 3), fmt(r["another_item_max_coverage"], 3)] for n, r in ch.items()]))
    per_bench = found_per_benchmark(all_items, pos)
    print(f"\nWith the defaults (n = {DEFAULT_N}, θ = {DEFAULT_MIN_COVERAGE}): pages found per benchmark\n")
    print(table(["benchmark", "pages", "found"], [[b, v["pages"], v["found"]] for b, v in per_bench.items()]))

    print("\n## (2) the index: memory and build time\n", flush=True)
    mem = memory(all_items, [s for p in lingua for s in p.split("\n")], args.repeats)
    print(table(["items", "characters", "n-grams held", "bytes held", "bytes per item", "bytes per n-gram", "build CPU s"],
                [[f"{v['items']:,}", f"{v['chars']:,}", f"{v['ngrams']:,}", f"{v['held_bytes']:,}",
                  fmt(v["bytes_per_item"], 0), fmt(v["bytes_per_ngram"], 1), fmt(v["build_cpu_s"]["median"], 3)]
                 for v in mem.values()]))

    cst = {}
    if "shared crawl, after clean" in negatives:
        print("\n## (3) matching cost on the shared crawl's documents\n", flush=True)
        cst = cost({k: v["index"] for k, v in mem.items()}, negatives["shared crawl, after clean"], args.repeats)
        print(table(["index", "documents", "characters", "µs per 1,000 characters", "µs per document"],
                    [[k, v["docs"], f"{v['chars']:,}", fmt(v["us_per_1000_chars"]["median"], 1),
                      fmt(v["us_per_doc"]["median"], 1)] for k, v in cst.items()]))
    for v in mem.values():
        del v["index"]
    payload = {"items": len(all_items), "items_per_benchmark": dict(Counter(x["benchmark"] for x in all_items)),
               "positive_pages": len(pos), "negative_documents": {k: len(v) for k, v in negatives.items()},
               "choice": ch, "chosen": {"n": best[0], "min_coverage": best[1]} if best else None,
               "found_per_benchmark": per_bench, "memory": mem, "cost": cst,
               "defaults": {"n": DEFAULT_N, "min_coverage": DEFAULT_MIN_COVERAGE},
               "median_item_chars": statistics.median(len(x["text"]) for x in all_items)}
    print(f"\nwrote {write_results(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
