#!/usr/bin/env python
"""Cost of the 21 Swallow quality measures (``filters/quality.py``), and which rules bite.

(1) ``size``      per-document time of ``measure()`` on documents of 500 … 32,000 characters
                  built from the lingua Japanese sentences (``../shared/testdata``), next to a
                  direct implementation (one ``Counter`` over every n-gram slice for n = 2 … 10,
                  the obvious way), best of ``--repeats`` runs; checks that both agree.
(2) ``parts``     the same 2,000-character documents, time of each part of ``measure()``.
(3) ``worst``     texts where every n-gram repeats (one character 2,000 times), and one 1 MB line.
(4) ``crawl``     (``--crawl``) the Japanese pages of ``../shared/crawl``: trafilatura text
                  (Swallow's options, in-process), fastText ``ja`` ≥ 0.5 and kana ratio ≥ 0.05;
                  time per document, and per rule the pages it rejects under swallow-v1 (any /
                  first) and under swallow-light.  Extraction takes about a minute.

    python bench/bench_quality_cost.py [--shared ../shared] [--repeats 5] [--crawl]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter

from _common import add_common_args, check_shared, fmt, table, write_results

from jawebcorpus.filters import quality as q

NAME = "bench_quality_cost"
SIZES = (500, 2000, 8000, 32000)


def direct_ngrams(text: str, out: dict) -> None:
    """Rules 6–14 the obvious way: a Counter over every slice, for every n."""
    L = len(text)
    for n in range(2, 11):
        c = Counter([text[i:i + n] for i in range(L - n + 1)])
        if n <= 4:
            out[f"top_{n}gram_frac"] = max(c.values()) / (L - n + 1) if c else 0.0
        else:
            out[f"dup_{n}gram_frac"] = sum(1 for v in c.values() if v > 1) / len(c) if c else 0.0


def direct_measure(text: str) -> dict:
    out = q.measure(text)  # everything but the n-grams is shared; replace the n-gram part
    direct_ngrams(text, out)
    return out


def documents(sentences: list[str], size: int, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(count):
        parts, n = [], 0
        while n < size:
            s = rng.choice(sentences) + rng.choice(["", "", "\n"])
            parts.append(s)
            n += len(s)
        docs.append("".join(parts)[:size])
    return docs


def best_per_doc(fn, docs, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for d in docs:
            fn(d)
        best = min(best, (time.perf_counter() - t0) / len(docs))
    return best


def parts_per_doc(docs, repeats: int) -> dict[str, float]:
    def lines(d):
        Counter(d.split("\n"))

    def sentences(d):
        s = q._SENTENCE_RE.findall(d)
        Counter(s)
        [x.strip().endswith(q._ELLIPSIS) for x in s]

    def ngrams(d):
        q._ngram_measures(d, {})

    def classes(d):
        d.translate(q._CLASS_TABLE)

    parts = {"lines": lines, "sentences": sentences, "ngrams": ngrams, "classes": classes,
             "measure": q.measure, "evaluate": q.evaluate}
    return {k: best_per_doc(f, docs, repeats) for k, f in parts.items()}


def crawl_texts(shared: str, log=print) -> list[str]:
    import trafilatura

    from _common import crawl_pages
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.filters.langid import LanguageIdentifier, kana_ratio

    lid = LanguageIdentifier()
    texts = []
    t0 = time.perf_counter()
    for d in crawl_pages(shared):
        html = decode_html(d.body, d.http_charset).text
        try:
            text = trafilatura.extract(html, include_comments=False, include_tables=False) or ""
        except Exception:  # noqa: BLE001 - a benchmark, not the pipeline
            continue
        if text and kana_ratio(text) >= 0.05 and lid.predict(text).ja_score >= 0.5:
            texts.append(text)
    log(f"crawl: {len(texts)} Japanese texts in {time.perf_counter() - t0:.0f} s")
    return texts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--docs", type=int, default=100, help="documents per size (default 100)")
    ap.add_argument("--crawl", action="store_true", help="also run on the Japanese pages of ../shared/crawl")
    args = ap.parse_args()

    path = check_shared(args.shared, "testdata", "langid", "lingua", "sentences", "ja.txt")
    with open(path, encoding="utf-8") as fh:
        sentences = [s.strip() for s in fh if s.strip()]
    result: dict = {"repeats": args.repeats, "docs_per_size": args.docs}

    # (1) size
    rows, size_res = [], {}
    for size in SIZES:
        count = max(5, args.docs * 2000 // size)
        docs = documents(sentences, size, count, seed=size)
        for d in docs[:10]:
            assert q.measure(d) == direct_measure(d), "measure() and the direct implementation disagree"
        ours = best_per_doc(q.measure, docs, args.repeats)
        direct = best_per_doc(direct_measure, docs, args.repeats)
        size_res[size] = {"docs": count, "measure_s": ours, "direct_s": direct}
        rows.append([f"{size:,}", count, fmt(ours * 1e6, 0), fmt(direct * 1e6, 0), fmt(direct / ours, 2),
                     fmt(ours / size * 1e9, 0)])
    result["size"] = size_res
    print("measure() per document (best of repeats), lingua sentences")
    print(table(["characters", "docs", "measure µs", "direct µs", "speed-up", "ns / char"], rows))

    # (2) parts
    docs = documents(sentences, 2000, args.docs, seed=2000)
    parts = parts_per_doc(docs, args.repeats)
    result["parts_2000"] = parts
    print("\nparts of measure(), 2,000-character documents")
    print(table(["part", "µs / doc"], [[k, fmt(v * 1e6, 0)] for k, v in parts.items()]))

    # (3) worst cases
    rng = random.Random(1)
    big = "".join(rng.choice(sentences).rstrip("。") for _ in range(30000))[:1_000_000]
    worst = {"one char ×2,000": "あ" * 2000, "sentence ×50 (2,000)": (sentences[0] * 50)[:2000],
             "1 MB line, lingua": big, "1 MB line, one char": "あ" * 1_000_000}
    rows, worst_res = [], {}
    for name, text in worst.items():
        reps = 1 if len(text) > 100_000 else args.repeats
        t = best_per_doc(q.measure, [text], reps)
        worst_res[name] = {"chars": len(text), "measure_s": t, "first_failed": q.evaluate(text).first_failed}
        rows.append([name, f"{len(text):,}", fmt(t * 1e3, 2), worst_res[name]["first_failed"]])
    result["worst"] = worst_res
    print("\nworst cases")
    print(table(["text", "characters", "ms", "first failed (v1)"], rows, align="lrrl"))

    # (4) crawl
    if args.crawl:
        texts = crawl_texts(args.shared)
        if texts:
            per_doc = [best_per_doc(q.measure, [t], 3) for t in texts]
            chars = [len(t) for t in texts]
            v1 = [q.evaluate(t, q.SWALLOW_V1) for t in texts]
            light = [q.evaluate(t, q.SWALLOW_LIGHT) for t in texts]
            any_v1 = Counter(r for res in v1 for r in res.failed)
            first_v1 = Counter(res.first_failed for res in v1 if res.first_failed)
            any_light = Counter(r for res in light for r in res.failed)
            result["crawl"] = {
                "docs": len(texts), "chars_median": statistics.median(chars),
                "measure_s_median": statistics.median(per_doc), "measure_s_total": sum(per_doc),
                "us_per_1000_chars": sum(per_doc) / sum(chars) * 1e9,
                "passed_v1": sum(r.passed for r in v1), "passed_light": sum(r.passed for r in light),
                "rejects_v1_any": dict(any_v1), "rejects_v1_first": dict(first_v1),
                "rejects_light_any": dict(any_light),
            }
            c = result["crawl"]
            print(f"\ncrawl: {len(texts)} Japanese texts, median {c['chars_median']:,.0f} characters, "
                  f"median {c['measure_s_median'] * 1e6:,.0f} µs per text, "
                  f"{c['us_per_1000_chars']:,.0f} µs per 1,000 characters")
            print(f"passed: swallow-v1 {c['passed_v1']}, swallow-light {c['passed_light']}")
            rows = [[i, r, any_v1.get(r, 0), first_v1.get(r, 0),
                     "off" if r in q.SWALLOW_LIGHT.disabled else any_light.get(r, 0)]
                    for i, r in enumerate(q.RULES, 1)]
            print(table(["#", "rule", "v1 rejects", "v1 first", "light rejects"], rows, align="rlrrr"))

    print("\nresults:", write_results(NAME, result, args.out))


if __name__ == "__main__":
    sys.exit(main())
