"""Pass rates and cost of the Japanese filter stages (quality → ngwords → hosts → clean).

On ../shared/crawl: every page goes through read → detect → decode → extract → langid as in the
pipeline (extraction timed per document, in-process trafilatura, to compare like with like);
the Japanese documents that come out then go through the four filter stages, each timed per
document.  Prints:

* pass rates per stage, and per quality rule (alone, and as the first failing rule), under
  the swallow-v1 and swallow-light rule sets;
* cost: documents per second per core of the four stages together, and their time as a share
  of the extraction time of the same documents (target < 20 %), median of repeats;
* NG words: morpheme mode vs naive mode on the same documents.

    python bench/bench_filters.py [--shared ../shared] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, crawl_pages, fmt, pct, summary, table, write_results  # noqa: E402

from jawebcorpus.pipelines.config import PipelineConfig  # noqa: E402
from jawebcorpus.corpus.extract import Extractor  # noqa: E402
from jawebcorpus.corpus.charset import DecodeStage  # noqa: E402
from jawebcorpus.corpus.extract import ExtractStage  # noqa: E402
from jawebcorpus.filters.clean import clean_text  # noqa: E402
from jawebcorpus.filters.hosts import HostFilter  # noqa: E402
from jawebcorpus.filters.ngwords import NgMatcher, NgWordsConfig  # noqa: E402
from jawebcorpus.filters.quality import RULES, SWALLOW_LIGHT, SWALLOW_V1, evaluate  # noqa: E402
from jawebcorpus.filters.jadetect import DetectStage  # noqa: E402
from jawebcorpus.filters.langid import LangIdStage  # noqa: E402
from _common import apply, stage  # noqa: E402
from jawebcorpus.corpus.record import host_of  # noqa: E402


def japanese_documents(shared: str):
    import dataclasses

    cfg = PipelineConfig()
    detect, decode, langid = stage(DetectStage, cfg), stage(DecodeStage, cfg), stage(LangIdStage, cfg)
    extract = stage(ExtractStage, dataclasses.replace(cfg, extract=dataclasses.replace(cfg.extract, isolation="none")))
    out = []
    for doc in crawl_pages(shared):
        if apply(detect, doc) is None or apply(decode, doc) is None:
            continue
        html = doc.html
        t = time.perf_counter()
        d = apply(extract, doc)
        seconds = time.perf_counter() - t
        if d is None or apply(langid, d) is None:
            continue
        out.append((d, seconds, html))
    return out


def run_filters(docs, matcher, hosts, cfg):
    """The four stages on every document; returns seconds and counts."""
    t0 = time.perf_counter()
    counts = Counter()
    for d, _, _ in docs:
        text = d.text
        q = evaluate(text, cfg.quality)
        if not q.passed:
            counts["quality"] += 1
            continue
        if matcher.scan(text).rejected:
            counts["ngwords"] += 1
            continue
        if hosts.check(host_of(d.url)) is not None:
            counts["hosts"] += 1
            continue
        r = clean_text(text, cfg.clean)
        counts["kept"] += 1
        counts["clean_removed_chars"] += len(text) - len(r.text)
    return time.perf_counter() - t0, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    docs = japanese_documents(args.shared)
    n = len(docs)
    extract_s = sum(s for _, s, _ in docs)
    # Extraction timed again side by side with the filters, per repeat, so both see the same load.
    ex = Extractor(isolation="none")
    cfg = PipelineConfig()
    matcher = NgMatcher(cfg.ngwords)
    naive = NgMatcher(NgWordsConfig(mode="naive"))
    hosts = HostFilter(cfg.hosts)
    ext_times, filt_times = [], []
    counts = Counter()
    for _ in range(args.repeats):
        t = time.perf_counter()
        for _, _, html in docs:
            ex.extract(html)
        ext_times.append(time.perf_counter() - t)
        s, counts = run_filters(docs, matcher, hosts, cfg)
        filt_times.append(s)
    ext, filt = summary(ext_times), summary(filt_times)
    share = summary([f / e for f, e in zip(filt_times, ext_times)])

    # per-rule bite under both rule sets
    rule_rows = []
    per_set = {}
    for name, qcfg in (("swallow-v1", SWALLOW_V1), ("swallow-light", SWALLOW_LIGHT)):
        alone, first, passed = Counter(), Counter(), 0
        for d, _, _ in docs:
            q = evaluate(d.text, qcfg)
            passed += q.passed
            for r in q.failed:
                alone[r] += 1
            if q.first_failed:
                first[q.first_failed] += 1
        per_set[name] = {"passed": passed, "alone": dict(alone), "first": dict(first)}
    for rule in RULES:
        v1, light = per_set["swallow-v1"], per_set["swallow-light"]
        rule_rows.append([rule, pct(v1["alone"].get(rule, 0), n), pct(v1["first"].get(rule, 0), n),
                          pct(light["first"].get(rule, 0), n)])

    # NG words: morpheme vs naive
    ng = {}
    for name, m in (("morpheme", matcher), ("naive", naive)):
        t = time.perf_counter()
        res = [m.scan(d.text) for d, _, _ in docs]
        ng[name] = {"seconds": time.perf_counter() - t, "rejected": sum(r.rejected for r in res),
                    "docs_with_hits": sum(bool(r.hits) for r in res)}

    print(f"Japanese documents from the crawl: {n}  (extraction when collected: {extract_s:.2f} s)\n")
    print(table(["", "seconds for all docs, median [min–max]", "docs/s per core"], [
        ["extraction (trafilatura, in-process)", f"{fmt(ext['median'], 3)} [{fmt(ext['min'], 3)}–{fmt(ext['max'], 3)}]",
         fmt(n / ext["median"], 0)],
        ["quality+ngwords+hosts+clean", f"{fmt(filt['median'], 3)} [{fmt(filt['min'], 3)}–{fmt(filt['max'], 3)}]",
         fmt(n / filt["median"], 0)],
    ]))
    print(f"\nfilters / extraction time: {100 * share['median']:.1f} % (median of {args.repeats}; target < 20 %)\n")
    print(table(["stage", "dropped", "share of its input"], [
        ["quality", counts["quality"], pct(counts["quality"], n)],
        ["ngwords", counts["ngwords"], pct(counts["ngwords"], n - counts["quality"])],
        ["hosts", counts["hosts"], pct(counts["hosts"], n - counts["quality"] - counts["ngwords"])],
        ["kept after clean", counts["kept"], pct(counts["kept"], n)],
    ]))
    print(f"\ncleaning removed {counts['clean_removed_chars']:,} characters from the kept documents\n")
    print(f"quality pass rate: swallow-v1 {pct(per_set['swallow-v1']['passed'], n)}, "
          f"swallow-light {pct(per_set['swallow-light']['passed'], n)}\n")
    print(table(["rule", "rejects alone (v1)", "first failing (v1)", "first failing (light)"], rule_rows))
    print()
    print(table(["NG mode", "rejected", "docs with a match", "ms/doc"], [
        [k, v["rejected"], v["docs_with_hits"], fmt(1000 * v["seconds"] / max(n, 1), 3)] for k, v in ng.items()
    ]))
    path = write_results("bench_filters", {
        "documents": n, "extraction_seconds": ext, "filter_seconds": filt, "filter_share_of_extraction": share,
        "stage_drops": dict(counts), "rules": per_set, "ngwords": ng,
    }, args.out)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
