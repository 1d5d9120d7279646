#!/usr/bin/env python
"""Recall of rapid Japanese detection against the slow path, on the test crawl.

Slow path (the reference): every HTML page the read stage passes on is decoded
(``corpus.charset.decode_html``), extracted (trafilatura with Swallow's options, default mode,
``corpus.extract``) and language-identified (``filters.langid``: ``ja_score >= 0.5`` and
``kana_ratio >= 0.05``); the pages it keeps are "the Japanese documents".

Detectors, each on the raw bytes of every HTML page:

* ``kana`` — ``filters.jadetect.detect_japanese`` (kana in any Japanese encoding, or
  ``<html lang="ja">``) with ``min_kana`` 10 (the default), 3 and 30; also 10 without the
  ``lang`` test;
* ``swallow`` — the detect stage (``filters.jadetect.DetectStage``) with ``DetectConfig(mode="swallow")``
  (``<html lang="ja">``, or a ``<title>`` that fastText calls Japanese);
* ``html-lang`` — the ``<html lang="ja…">`` test alone.

For each: recall (share of the slow path's Japanese documents it passes; target ≥ 99 % for the
kana scan), share of the other HTML pages it passes (target ≤ 5 %), CPU time per page (mean over
all pages, median of repeats), and the URLs of the Japanese documents it misses.

    python bench/bench_detect.py [--shared ../shared] [--repeats 5] [--no-cache]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time

from _common import (add_common_args, crawl_pages, fmt, fmt_range, freeze_if_asked, pct, slow_path,
                     summary, table, wait_for_quiet, write_results)

NAME = "bench_detect"


def make_detectors(lid):
    import dataclasses

    from _common import apply, stage

    from jawebcorpus.corpus.stage import LocalResources
    from jawebcorpus.filters.jadetect import HTML_LANG_RE, DetectConfig, DetectStage, detect_japanese
    from jawebcorpus.pipelines.config import PipelineConfig

    res = LocalResources()
    res.get(("langid_model", lid.model_path), lambda: lid)  # the script's model, shared
    swallow_stage = DetectStage()
    swallow_stage.setup(dataclasses.replace(PipelineConfig(), detect=DetectConfig(mode="swallow")), res)

    def kana(min_kana, use_lang=True):
        return lambda doc: detect_japanese(doc.body, min_kana, use_lang).japanese

    def swallow(doc):
        return apply(swallow_stage, doc) is not None

    def html_lang(doc):
        return HTML_LANG_RE.search(doc.body, 0, 64 * 1024) is not None

    return {
        "kana (min_kana=10, default)": kana(10),
        "kana (min_kana=3)": kana(3),
        "kana (min_kana=30)": kana(30),
        "kana only (min_kana=10, no html lang)": kana(10, False),
        "swallow (html lang or title langid)": swallow,
        "html lang only": html_lang,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5, at least 3)")
    ap.add_argument("--no-cache", action="store_true", help="recompute the slow path")
    args = ap.parse_args()
    freeze_if_asked(args)
    if args.repeats < 3:
        ap.error("--repeats must be at least 3")

    from jawebcorpus.filters.langid import LanguageIdentifier

    ref = slow_path(args.shared, use_cache=not args.no_cache)
    docs = crawl_pages(args.shared)
    key = lambda x: (x["warc_file"], x["warc_offset"]) if isinstance(x, dict) else (x.warc_file, x.warc_offset)
    by_key = {key(r): r for r in ref}
    if len(by_key) != len(docs) or any(key(d) not in by_key for d in docs):
        sys.exit("the slow-path cache does not match the crawl's pages; rerun with --no-cache")
    is_ja = [by_key[key(d)]["japanese"] for d in docs]
    n_ja = sum(is_ja)
    n_other = len(docs) - n_ja
    timeouts = sum(r["extract_outcome"] == "extract_timeout" for r in ref)
    print(f"{len(docs)} HTML pages; slow path: {n_ja} Japanese documents, {n_other} other pages "
          f"({timeouts} extraction timeouts)")

    lid = LanguageIdentifier()
    detectors = make_detectors(lid)
    names = list(detectors)
    # Outcomes (deterministic) and per-page times, repeats order-alternated.
    passed: dict[str, list[bool]] = {}
    per_page_times: dict[str, list[list[float]]] = {n: [] for n in names}
    totals: dict[str, list[float]] = {n: [] for n in names}
    totals_cpu: dict[str, list[float]] = {n: [] for n in names}
    pc = time.perf_counter
    busy_before = []
    for i in range(args.repeats):
        busy_before.append(wait_for_quiet())
        for name in (names if i % 2 == 0 else names[::-1]):
            fn = detectors[name]
            out, times = [], []
            t_all, c_all = pc(), time.process_time()
            for d in docs:
                t0 = pc()
                ok = fn(d)
                times.append(pc() - t0)
                out.append(ok)
            totals[name].append(pc() - t_all)
            totals_cpu[name].append(time.process_time() - c_all)
            per_page_times[name].append(times)
            if name in passed and passed[name] != out:
                print(f"NOTE: {name} gave different answers in repeat {i + 1}")
            passed[name] = out
        print(f"repeat {i + 1}/{args.repeats} done", flush=True)

    results = {}
    rows = []
    for name in names:
        out = passed[name]
        tp = sum(o and j for o, j in zip(out, is_ja))
        fp = sum(o and not j for o, j in zip(out, is_ja))
        missed = [f"{docs[k].url} ({docs[k].snapshot})" for k in range(len(docs)) if is_ja[k] and not out[k]]
        extra = [{"url": docs[k].url, "snapshot": docs[k].snapshot, "slow_path_lang": by_key[key(docs[k])]["lang"],
                  "ja_score": round(by_key[key(docs[k])]["ja_score"], 3),
                  "kana_ratio": round(by_key[key(docs[k])]["kana_ratio"], 3),
                  "extract_outcome": by_key[key(docs[k])]["extract_outcome"]}
                 for k in range(len(docs)) if out[k] and not is_ja[k]]
        per_page_us = summary(t / len(docs) * 1e6 for t in totals[name])
        per_page_cpu_us = summary(t / len(docs) * 1e6 for t in totals_cpu[name])
        med_page = [statistics.median(ts) * 1e6 for ts in zip(*per_page_times[name])]
        med_page.sort()
        results[name] = {
            "passed": sum(out), "true_positive": tp, "false_positive": fp,
            "recall": tp / n_ja if n_ja else None, "other_pass_rate": fp / n_other if n_other else None,
            "us_per_page": per_page_us, "cpu_us_per_page": per_page_cpu_us,
            "per_page_us_p50": med_page[len(med_page) // 2], "per_page_us_p99": med_page[int(len(med_page) * 0.99)],
            "per_page_us_max": med_page[-1],
            "missed_urls": missed, "other_pages_passed": extra,
        }
        rows.append([name, f"{tp}/{n_ja}", pct(tp, n_ja), f"{fp}/{n_other}", pct(fp, n_other, 2),
                     fmt_range(per_page_cpu_us, 1), fmt(per_page_us["median"], 1),
                     fmt(results[name]["per_page_us_p50"], 1),
                     fmt(results[name]["per_page_us_max"], 0)])

    # Secondary check: the labelled pages of testdata/encoding/chardet (Japanese and CJK confusers).
    from jawebcorpus.corpus.record import Doc

    chardet_root = os.path.join(args.shared, "testdata", "encoding", "chardet")
    chardet: dict[str, dict[str, list[str]]] = {}
    if os.path.exists(os.path.join(chardet_root, "labels.tsv")):
        with open(os.path.join(chardet_root, "labels.tsv"), encoding="utf-8") as fh:
            labelled = list(csv.DictReader(fh, delimiter="\t"))
        for name in names:
            per = chardet.setdefault(name, {})
            for row in labelled:
                with open(os.path.join(chardet_root, row["path"]), "rb") as f:
                    body = f.read()
                d = Doc("s", "f", 0, 0, "", "", "", body=body)
                lab = row["encoding_label"]
                per.setdefault(lab, [0, 0])
                per[lab][1] += 1
                per[lab][0] += bool(detectors[name](d))
    slow_s = [sum(r["seconds"].values()) for r in ref]
    slow_summary = {"mean_ms_per_page": 1e3 * sum(slow_s) / len(slow_s),
                    "median_ms_per_page": 1e3 * statistics.median(slow_s),
                    "total_s": sum(slow_s), "note": "one cached run (decode + extract + langid), not repeated"}

    print()
    print(f"recall against the slow path ({n_ja} Japanese documents of {len(docs)} HTML pages); "
          f"time per page: mean over all pages, CPU time of this process, median [min–max] of {args.repeats} "
          f"repeats; wall: median; p50/max: per-page wall times (median over repeats)")
    print(table(["detector", "passed Japanese", "recall", "other pages passed", "share of other",
                 "CPU µs/page", "wall µs/page", "p50 µs", "max µs"], rows))
    print(f"\nslow path for comparison: {slow_summary['mean_ms_per_page']:.1f} ms/page mean, "
          f"{slow_summary['median_ms_per_page']:.1f} ms median ({slow_summary['total_s']:.1f} s for all pages, one run)")
    k10 = results["kana (min_kana=10, default)"]
    print(f"targets: kana recall ≥ 99 %: {100 * k10['recall']:.1f} % "
          f"({'met' if k10['recall'] >= 0.99 else 'NOT met'}); other pages passed ≤ 5 %: "
          f"{100 * k10['other_pass_rate']:.2f} % ({'met' if k10['other_pass_rate'] <= 0.05 else 'NOT met'})")
    for name in names:
        if results[name]["missed_urls"]:
            print(f"\nmissed by {name} ({len(results[name]['missed_urls'])}):")
            for u in results[name]["missed_urls"]:
                r = by_key[key(next(d for d in docs if f"{d.url} ({d.snapshot})" == u))]
                print(f"  {u}  [{r['payload_bytes']:,} B, {r['codec']}/{r['charset_source']}, "
                      f"{r['text_chars']:,} chars extracted, ja_score {r['ja_score']:.2f}]")
    if chardet:
        labels = sorted(next(iter(chardet.values())))
        ja_labels = [lab for lab in labels if lab.upper() in ("SHIFT_JIS", "EUC-JP", "CP932", "ISO-2022-JP")]
        other_labels = [lab for lab in labels if lab not in ja_labels]
        crow = []
        for name in names:
            per = chardet[name]
            jp = sum(per[lab][0] for lab in ja_labels), sum(per[lab][1] for lab in ja_labels)
            crow.append([name, f"{jp[0]}/{jp[1]}"] + [f"{per[lab][0]}/{per[lab][1]}" for lab in other_labels])
        print("\ntestdata/encoding/chardet (labelled files, no HTTP header): passed / files")
        print(table(["detector", "Japanese (" + ", ".join(ja_labels) + ")"] + other_labels, crow))
    print(f"\nother pages passed by the default kana detector ({len(k10['other_pages_passed'])}):")
    for e in k10["other_pages_passed"]:
        print(f"  {e['url']} ({e['snapshot']})  [slow path: lang {e['slow_path_lang'] or '-'}, ja_score {e['ja_score']}, "
              f"kana_ratio {e['kana_ratio']}, {e['extract_outcome']}]")

    path = write_results(NAME, {
        "params": {"shared": args.shared, "repeats": args.repeats, "busy_before_repeat": busy_before,
                   "slow_path": {
            "decode": "jawebcorpus.corpus.charset.decode_html(body, http_charset)",
            "extract": "trafilatura_extract (include_comments=False, include_tables=False, fast=False), "
                       "process isolation, 120 s limit",
            "langid": "LanguageIdentifier ja_score >= 0.5 and kana_ratio >= 0.05"}},
        "pages": len(docs), "japanese": n_ja, "other": n_other, "extract_timeouts": timeouts,
        "slow_path_time": slow_summary,
        "detectors": results,
        "chardet_passed_per_label": chardet,
        "slow_path_japanese_urls": [d.url for d, j in zip(docs, is_ja) if j],
    }, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
