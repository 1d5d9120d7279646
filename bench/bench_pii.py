#!/usr/bin/env python
"""PII detection (``filters/pii.py``): precision and recall, masked spans on the crawl, cost.

(1) ``cases``    the written cases ``tests/fixtures/pii/cases.jsonl`` (dense with look-alikes and
                 with PII in many notations): precision and recall per kind, exact spans
                 (a match of the right kind whose span differs counts as one false positive and
                 one false negative).
(2) ``shared``   the Japanese documents of ``../shared/crawl`` (skipped when it is absent):
                 ``jawebcorpus run --until langid`` (107 documents, every Japanese document) and
                 ``--until clean`` (what the pii stage receives in the default preset), run as
                 subprocesses.  Precision and recall per kind against the hand labels
                 ``bench/pii_shared_labels.json`` (how they were made is written in it), matched
                 by record, kind and a hash of the surface; masked spans per million characters;
                 every masked span listed (URL, offset, kind, the notation with digits as ``9``,
                 and its context with the span replaced by the placeholder).
(3) ``cost``     on the same documents: trafilatura extraction of each page's decoded HTML
                 (Swallow's options, in-process) vs ``PiiScanner.scan`` of its extracted text;
                 CPU time (``time.process_time``), the two side by side in alternating order every
                 repeat, the ratio taken per repeat, medians [min–max].
(4) ``adversarial`` CPU time of one scan of 1 MB inputs built to stress the patterns.

    python bench/bench_pii.py [--shared ../shared] [--repeats 5] [--frozen]
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from _common import (REPO_DIR, add_common_args, fmt, fmt_range, freeze_if_asked, summary, table,
                     wait_for_quiet, write_results)

from jawebcorpus.filters.pii import KINDS, PLACEHOLDERS, PiiScanner

NAME = "bench_pii"
CASES = REPO_DIR / "tests" / "fixtures" / "pii" / "cases.jsonl"
LABELS = Path(__file__).resolve().parent / "pii_shared_labels.json"


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r}


def pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f} %"


def shape(s: str) -> str:
    """The notation without the value: digits become 9, letters a / A."""
    s = re.sub(r"[0-9]", "9", s)
    s = re.sub(r"[０-９]", "９", s)
    s = re.sub(r"[a-z]", "a", s)
    return re.sub(r"[A-Z]", "A", s)


# -- (1) written cases -------------------------------------------------------------------------
def eval_cases(scanner: PiiScanner) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    errors = []
    cases = [json.loads(x) for x in CASES.read_text(encoding="utf-8").splitlines() if x.strip()]
    for c in cases:
        got = {(m.kind, m.start, m.end) for m in scanner.find(c["text"])}
        want = {tuple(s) for s in c["spans"]}
        for k, *_ in got & want:
            tp[k] += 1
        for k, s, e in got - want:
            fp[k] += 1
            errors.append({"id": c["id"], "error": "false positive", "kind": k, "surface": c["text"][s:e]})
        for k, s, e in want - got:
            fn[k] += 1
            errors.append({"id": c["id"], "error": "missed", "kind": k, "surface": c["text"][s:e]})
    per_kind = {k: prf(tp[k], fp[k], fn[k]) for k in KINDS}
    per_kind["all"] = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    negatives = sum(1 for c in cases if not c["spans"])
    return {"cases": len(cases), "cases_without_pii": negatives,
            "true_spans": sum(len(c["spans"]) for c in cases), "per_kind": per_kind, "errors": errors}


# -- (2) the shared crawl ----------------------------------------------------------------------
def cli() -> list[str]:
    return [sys.executable, "-m", "jawebcorpus"]


def run_until(shared: str, until: str, out: str) -> list[dict]:
    cmd = cli() + ["run", "--quiet", "--overwrite", "--input", os.path.join(shared, "crawl"),
                   "--output", out, "--until", until]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted(glob.glob(os.path.join(out, "data", "**", "*.parquet"), recursive=True))
    t = pa.concat_tables([pq.read_table(f, columns=["url", "warc_record_id", "warc_file", "warc_offset", "text"])
                          for f in files])
    return t.to_pylist()


def eval_shared(scanner: PiiScanner, docs: list[dict], labels: list[dict]) -> dict:
    want = Counter((x["warc_record_id"], x["kind"], x["surface_sha256_16"]) for x in labels)
    got = Counter()
    spans = []
    chars = 0
    for d in docs:
        text = d["text"] or ""
        chars += len(text)
        for m in scanner.find(text):
            s = text[m.start:m.end]
            got[(d["warc_record_id"], m.kind, hashlib.sha256(s.encode()).hexdigest()[:16])] += 1
            spans.append({
                "url": d["url"], "warc_record_id": d["warc_record_id"], "offset": m.start, "kind": m.kind,
                "notation": shape(s),
                "context": (text[max(0, m.start - 25):m.start] + PLACEHOLDERS[m.kind] + text[m.end:m.end + 25]),
            })
    per_kind = {}
    for k in KINDS:
        tp = sum(min(n, want[key]) for key, n in got.items() if key[1] == k)
        fp = sum(n for key, n in got.items() if key[1] == k) - tp
        fn = sum(n for key, n in want.items() if key[1] == k) - tp
        per_kind[k] = prf(tp, fp, fn)
    tot = [sum(v[x] for v in per_kind.values()) for x in ("tp", "fp", "fn")]
    per_kind["all"] = prf(*tot)
    by_kind = Counter(s["kind"] for s in spans)
    return {"documents": len(docs), "characters": chars, "masked_spans": len(spans),
            "spans_per_million_chars": 1e6 * len(spans) / chars if chars else None,
            "spans_by_kind": dict(by_kind), "per_kind": per_kind, "spans": spans}


# -- (3) cost ----------------------------------------------------------------------------------
def cost(shared: str, docs: list[dict], scanner: PiiScanner, repeats: int) -> dict:
    from _common import crawl_pages

    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import trafilatura_extract

    want = {d["warc_record_id"] for d in docs}
    html = {}
    for p in crawl_pages(shared):
        if p.warc_record_id in want and p.warc_record_id not in html:
            html[p.warc_record_id] = decode_html(p.body, p.http_charset).text
    ids = [d["warc_record_id"] for d in docs if d["warc_record_id"] in html]
    texts = {d["warc_record_id"]: d["text"] or "" for d in docs}
    pages = [html[i] for i in ids]
    page_texts = [texts[i] for i in ids]
    trafilatura_extract(pages[0])  # imports and warm-up outside the timer
    scanner.scan(page_texts[0])

    def t_extract():
        t0 = time.process_time()
        for h in pages:
            trafilatura_extract(h)
        return time.process_time() - t0

    def t_scan():
        t0 = time.process_time()
        for _ in range(10):  # ten passes: the scan is short; per-pass time is reported
            for x in page_texts:
                scanner.scan(x)
        return (time.process_time() - t0) / 10

    ext, scn, ratio, busy = [], [], [], []
    for rep in range(repeats):
        busy.append(wait_for_quiet())
        order = (t_extract, t_scan) if rep % 2 == 0 else (t_scan, t_extract)
        res = {}
        for fn in order:
            res[fn.__name__] = fn()
        ext.append(res["t_extract"])
        scn.append(res["t_scan"])
        ratio.append(res["t_scan"] / res["t_extract"])
        print(f"  repeat {rep + 1}: extract {res['t_extract']:.3f} s, pii scan {res['t_scan'] * 1000:.2f} ms, "
              f"ratio {100 * ratio[-1]:.2f} %", flush=True)
    return {"documents": len(ids), "html_chars": sum(map(len, pages)), "text_chars": sum(map(len, page_texts)),
            "extract_cpu_s": summary(ext), "scan_cpu_s": summary(scn), "scan_over_extract": summary(ratio),
            "scan_us_per_doc": summary([1e6 * s / len(ids) for s in scn]),
            "scan_ms_per_million_chars": summary([1e3 * s / (sum(map(len, page_texts)) / 1e6) for s in scn]),
            "busy_before_repeat": busy}


# -- (4) adversarial ---------------------------------------------------------------------------
ADVERSARIAL = {
    "digits and separators, random": None,
    "'0-' repeated": "0-", "'1234 ' repeated": "1234 ", "'4111 1111 1111 1111 ' repeated": "4111 1111 1111 1111 ",
    "'(0' repeated": "(0", "'+81-' repeated": "+81-", "'255.' repeated": "255.", "'a:' repeated": "a:",
    "'ab::' repeated": "ab::", "'a@' repeated": "a@", "'a.' repeated": "a.", "'a(at)' repeated": "a(at)",
    "'a' * 1M then '@b.jp'": "LONG_LOCAL",
    # the obfuscated spellings (issue 20.5)
    "'a あっと ' repeated": "a あっと ", "'a[at]b[dot]' repeated": "a[at]b[dot]", "'電話〇三-' repeated": "電話〇三-",
    "'x★を@' repeated": "x★を@", "'0・' repeated": "0・", "'0/' repeated": "0/", "'ﾄﾞ' repeated": "ﾄﾞ",
    "'\\u200b0' repeated": "\u200b0",
}


def adversarial(scanner: PiiScanner) -> dict:
    import random

    rng = random.Random(5)
    out = {}
    for name, unit in ADVERSARIAL.items():
        if unit is None:
            text = "".join(rng.choice("0123456789０１２３４５６７８９-－ー ()（）+.:@") for _ in range(1_000_000))
        elif unit == "LONG_LOCAL":
            text = "a" * 1_000_000 + "@b.jp"
        else:
            text = unit * (1_000_000 // len(unit))
        t0 = time.process_time()
        r = scanner.scan(text)
        out[name] = {"chars": len(text), "cpu_s": time.process_time() - t0, "matches": len(r.matches)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    freeze_if_asked(args)
    args.repeats = max(3, args.repeats)
    scanner = PiiScanner()
    payload: dict = {}

    print("\n## (1) written cases (tests/fixtures/pii/cases.jsonl)\n")
    c = eval_cases(scanner)
    payload["cases"] = c
    print(f"{c['cases']} cases ({c['cases_without_pii']} with no PII), {c['true_spans']} true spans\n")
    print(table(["kind", "true spans", "TP", "FP", "FN", "precision", "recall"],
                [[k, v["tp"] + v["fn"], v["tp"], v["fp"], v["fn"], pct(v["precision"]), pct(v["recall"])]
                 for k, v in c["per_kind"].items()]))
    for e in c["errors"]:
        print(f"  {e['id']}: {e['error']} {e['kind']} {e['surface']!r}")

    shared = args.shared
    if not os.path.isdir(os.path.join(shared, "crawl")):
        print(f"\n{shared}/crawl not found: the shared-crawl part is skipped")
        payload["shared"] = {"skipped": "no ../shared/crawl"}
    else:
        labels = json.loads(LABELS.read_text(encoding="utf-8"))
        with tempfile.TemporaryDirectory(prefix="bench-pii-") as tmp:
            print("\n## (2) ../shared/crawl: running the pipeline to langid and to clean …", flush=True)
            sets = {"langid": run_until(shared, "langid", os.path.join(tmp, "langid")),
                    "clean": run_until(shared, "clean", os.path.join(tmp, "clean"))}
        payload["shared"] = {"labels": {"file": os.path.relpath(LABELS, REPO_DIR), "about": labels["about"],
                                        "positives": len(labels["positives"])}}
        rows = []
        for name, docs in sets.items():
            r = eval_shared(scanner, docs, labels["positives"])
            payload["shared"][name] = r
            if name == "langid":
                print("\nPrecision / recall against the hand labels (documents kept by language ID):\n")
                print(table(["kind", "labelled", "TP", "FP", "FN", "precision", "recall"],
                            [[k, v["tp"] + v["fn"], v["tp"], v["fp"], v["fn"], pct(v["precision"]), pct(v["recall"])]
                             for k, v in r["per_kind"].items()]))
            rows.append([name, r["documents"], f"{r['characters']:,}", r["masked_spans"],
                         fmt(r["spans_per_million_chars"], 1),
                         ", ".join(f"{k} {n}" for k, n in sorted(r["spans_by_kind"].items())) or "–"])
        print("\nMasked spans:\n")
        print(table(["documents after", "docs", "characters", "masked spans", "per million chars", "by kind"], rows))
        print("\nEvery masked span (documents kept by language ID):")
        for s in payload["shared"]["langid"]["spans"]:
            print(f"  {s['kind']:<8} {s['notation']:<16} {s['url']} @{s['offset']}: {s['context']!r}")

        print(f"\n## (3) cost vs trafilatura extraction, {args.repeats} repeats (CPU time)\n", flush=True)
        cst = cost(shared, sets["langid"], scanner, args.repeats)
        payload["cost"] = cst
        print()
        print(table(["what", "median [min–max]"], [
            ["documents", cst["documents"]],
            ["trafilatura extraction, CPU s", fmt_range(cst["extract_cpu_s"], 3)],
            ["pii scan, CPU ms", fmt_range(cst["scan_cpu_s"], 2, 1000)],
            ["pii scan / extraction", fmt_range(cst["scan_over_extract"], 2, 100) + " %"],
            ["pii scan, µs per document", fmt_range(cst["scan_us_per_doc"], 1)],
            ["pii scan, ms per million characters", fmt_range(cst["scan_ms_per_million_chars"], 1)],
        ]))

    print("\n## (4) adversarial inputs, one scan each\n", flush=True)
    adv = adversarial(scanner)
    payload["adversarial"] = adv
    print(table(["input", "chars", "CPU s", "matches"],
                [[k, f"{v['chars']:,}", f"{v['cpu_s']:.2f}", v["matches"]] for k, v in adv.items()]))
    path = write_results(NAME, payload, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
