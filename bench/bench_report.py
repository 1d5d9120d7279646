#!/usr/bin/env python
"""Speed of ``jawebcorpus report`` on a large statistics directory.

Generates a synthetic output directory shaped like a big run (``make_stats_dir``): by default
5,000 WARC files of ≈ 39,000 captures each over 21 snapshots, every stage with all its reason
codes (dedup included, with duplicate-cluster sizes), 400 NG terms, full histograms, 27 UT1
categories, some failed files, example documents under ``OUT/samples/`` and one Parquet part
per WARC file under ``OUT/data/`` (``snapshot``, ``warc_file``, ``num_chars``; text left null, it is
never read by the report).  The statistics satisfy the pipeline's accounting invariants.

Then it times, best of ``--repeats``: loading the directory (JSON + per-file Parquet counts),
building the report, the terminal text, the JSON and the HTML page, and the whole command
(``jawebcorpus report OUT --html FILE`` in a fresh process).

    python bench/bench_report.py [--files 5000] [--snapshots 21] [--terms 400] [--repeats 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import table, write_results  # noqa: E402

QUALITY = ("too_short", "dup_line_frac", "dup_sentence_frac", "dup_line_chars", "dup_sentence_chars",
           "top_2gram", "top_3gram", "top_4gram", "dup_5gram", "dup_6gram", "dup_7gram", "dup_8gram",
           "dup_9gram", "dup_10gram", "low_hiragana", "high_katakana", "low_japanese", "few_japanese_letters",
           "sentence_length", "long_sentence", "ellipsis_sentences")
UT1 = ("adult", "shopping", "cryptojacking", "games", "redirector", "strict_redirector", "vpn",
       "strong_redirector", "social_networks", "ddos", "gambling", "publicite", "bitcoin", "dating", "phishing",
       "filehosting", "agressif", "chat", "mixed_adult", "celebrity", "financial", "manga", "remote-control",
       "webmail", "malware", "doh", "warez")
SWALLOW_SNAPSHOTS = ("2020-40", "2020-45", "2020-50", "2021-04", "2021-10", "2021-17", "2021-21", "2021-25",
                     "2021-31", "2021-39", "2021-43", "2021-49", "2022-05", "2022-21", "2022-27", "2022-33",
                     "2022-40", "2022-49", "2023-06", "2023-14", "2023-23")
KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"


def _split(rng: random.Random, total: int, weights: dict) -> dict:
    """Split an integer total over keys in proportion to (noisy) weights, exactly."""
    keys = list(weights)
    w = [max(1e-9, weights[k] * rng.uniform(0.7, 1.3)) for k in keys]
    s = sum(w)
    raw = [total * x / s for x in w]
    out = [int(math.floor(x)) for x in raw]
    for i in sorted(range(len(keys)), key=lambda i: raw[i] - out[i], reverse=True)[: total - sum(out)]:
        out[i] += 1
    return dict(zip(keys, out))


def make_stats_dir(out: str, files: int = 5000, snapshots: int = 21, terms: int = 400, seed: int = 1,
                   with_data: bool = True, with_samples: bool = True, captures_per_file: int = 39_000) -> dict:
    """Write a synthetic ``OUT/stats`` (+ ``OUT/data``, ``OUT/samples``); returns the written totals."""
    from jawebcorpus.pipelines.config import get_preset
    from jawebcorpus.corpus.stats import LENGTH_EDGES, RATIO_BINS

    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "stats"), exist_ok=True)
    snaps = [f"CC-MAIN-{SWALLOW_SNAPSHOTS[i % len(SWALLOW_SNAPSHOTS)]}" + (f"-{i // 21}" if i >= 21 else "")
             for i in range(snapshots)]
    stages, details, file_rows = [], [], []
    per_file_written: dict = {}
    term_names = [f"NG語{i:03d}" if i % 3 else f"term{i:03d}" for i in range(terms)]
    totals = {}

    def add(snap, stage, outcome, reason, docs, chars=0, nbytes=0):
        if docs:
            stages.append({"snapshot": snap, "stage": stage, "outcome": outcome, "reason": reason,
                           "docs": int(docs), "chars": int(chars), "bytes": int(nbytes)})

    def det(snap, stage, kind, name, docs, chars=0, nbytes=0):
        if docs:
            details.append({"snapshot": snap, "stage": stage, "kind": kind, "name": name,
                            "docs": int(docs), "chars": int(chars), "bytes": int(nbytes)})

    for si, snap in enumerate(snaps):
        n_files = files // snapshots + (1 if si < files % snapshots else 0)
        caps = [max(1000, int(rng.gauss(captures_per_file, 900))) for _ in range(n_files)]
        frows = []
        for fi, c in enumerate(caps):
            seg = f"16{si:02d}{fi // 100:04d}.{fi % 100:02d}"
            rel = f"crawl-data/{snap}/segments/{seg}/warc/{snap}-{fi:05d}.warc.gz"
            failed = rng.random() < 0.002
            frows.append({"path": f"/nonexistent/cc/{rel}", "warc_file": rel, "snapshot": snap,
                          "status": "failed" if failed else "ok", "error": "truncated_gzip" if failed else None,
                          "message": "unexpected end of gzip member" if failed else None,
                          "records": 3 * c + 1, "responses": c, "pages": int(c * 0.93), "stopped_at": None})
        file_rows.extend(frows)
        C = sum(caps)
        # read
        nonhtml = _split(rng, int(C * 0.07), {"not_html": 60, "http_status": 30, "empty_body": 5, "binary_body": 2,
                                                "page_too_large": 0.5, "not_http": 0.1})
        html = C - sum(nonhtml.values())
        for f, pages in zip(frows, _split(rng, html, {i: f["responses"] for i, f in enumerate(frows)}).values()):
            f["pages"] = pages
        add(snap, "read", "kept", "html", int(html * 0.995), 0, html * 95_000)
        add(snap, "read", "kept", "html_truncated", html - int(html * 0.995), 0, html * 400)
        for r, d in nonhtml.items():
            add(snap, "read", "dropped", r, d, 0, d * 20_000)
        for r, d in (("warcinfo_record", n_files), ("request_record", C), ("metadata_record", C)):
            add(snap, "read", "dropped", r, d, 0, d * 500)
        # detect
        ja = int(html * rng.uniform(0.05, 0.07))
        for r, d in _split(rng, ja, {"kana_utf8": 85, "html_lang": 3, "kana_cp932": 7, "kana_euc_jp": 4,
                                      "kana_iso2022_jp": 0.2, "kana_utf16": 0.05}).items():
            add(snap, "detect", "kept", r, d, 0, d * 90_000)
        add(snap, "detect", "dropped", "no_japanese_signal", html - ja, 0, (html - ja) * 95_000)
        # decode
        dec_err, dec_empty = int(ja * 0.0002), int(ja * 0.001)
        dec = ja - dec_err - dec_empty
        for r, d in _split(rng, dec, {"utf-8:http": 50, "utf-8:meta": 25, "utf-8:detected": 5, "cp932:http": 5,
                                       "cp932:meta": 4, "cp932:detected": 2, "euc_jp:meta": 3, "euc_jp:http": 1,
                                       "utf-8:bom": 0.5, "cp932:http+overruled": 0.3, "utf-8:fallback": 0.1}).items():
            add(snap, "decode", "kept", r, d, d * 60_000, d * 90_000)
        add(snap, "decode", "dropped", "empty_text", dec_empty, 0, dec_empty * 100)
        add(snap, "decode", "error", "decode_error", dec_err, 0, dec_err * 50_000)
        det(snap, "decode", "replacement_chars", "utf-8", int(dec * 0.02), int(dec * 0.3))
        det(snap, "decode", "replacement_chars", "cp932", int(dec * 0.01), int(dec * 0.2))
        # extract
        ex_to, ex_err, ex_empty = int(dec * 0.0005), int(dec * 0.0002), int(dec * 0.08)
        ext = dec - ex_to - ex_err - ex_empty
        add(snap, "extract", "kept", "extracted", ext, ext * 3_000, ext * 90_000)
        add(snap, "extract", "dropped", "extract_empty", ex_empty, ex_empty * 40_000, ex_empty * 60_000)
        add(snap, "extract", "error", "extract_timeout", ex_to, ex_to * 900_000, ex_to * 1_000_000)
        add(snap, "extract", "error", "extract_error", ex_err, ex_err * 100_000, ex_err * 200_000)
        # langid
        below, fewkana = int(ext * 0.10), int(ext * 0.02)
        lid = ext - below - fewkana
        add(snap, "langid", "kept", "ja", lid, lid * 3_100, lid * 90_000)
        add(snap, "langid", "dropped", "below_threshold", below, below * 2_000, below * 90_000)
        add(snap, "langid", "dropped", "too_few_kana", fewkana, fewkana * 2_500, fewkana * 90_000)
        # quality: first failing rule, and each rule's bite alone (≥ first failing)
        passed = int(lid * rng.uniform(0.28, 0.34))
        qdrop = lid - passed
        weights = {r: (40 if r == "too_short" else 12 if r.startswith("dup_") else 6) * rng.uniform(0.5, 1.5)
                   for r in QUALITY}
        first = _split(rng, qdrop, weights)
        add(snap, "quality", "kept", "passed", passed, passed * 2_400, passed * 85_000)
        for r in QUALITY:
            add(snap, "quality", "dropped", r, first[r], first[r] * 1_500, first[r] * 80_000)
            alone = first[r] + int(qdrop * rng.uniform(0.0, 0.3))
            det(snap, "quality", "rule_fails", r, alone, alone * 1_700, alone * 80_000)
        # ngwords
        ngdrop = int(passed * 0.03)
        ngk = passed - ngdrop
        matched = int(ngk * 0.2)
        add(snap, "ngwords", "kept", "clean", ngk - matched, (ngk - matched) * 2_400, (ngk - matched) * 85_000)
        add(snap, "ngwords", "kept", "matched", matched, matched * 2_400, matched * 85_000)
        add(snap, "ngwords", "dropped", "ng_fraction", ngdrop, ngdrop * 2_000, ngdrop * 80_000)
        for i, t in enumerate(term_names):
            m = int((matched + ngdrop) * 0.5 / (i + 1) ** 0.9 * rng.uniform(0.5, 1.5))
            rm = min(m, int(ngdrop * 0.6 / (i + 1) ** 0.7 * rng.uniform(0.3, 1.7)))
            det(snap, "ngwords", "term_matched", t, m, m * 3)
            det(snap, "ngwords", "term_removed", t, rm, rm * 2_000)
        # hosts
        hs = int(ngk * 0.004)
        ut = _split(rng, int(ngk * 0.03), {f"ut1_{c}": rng.uniform(0.1, 3) for c in UT1})
        hk = ngk - hs - sum(ut.values())
        add(snap, "hosts", "kept", "allowed", hk, hk * 2_400, hk * 85_000)
        add(snap, "hosts", "dropped", "host_suffix", hs, hs * 2_400, hs * 85_000)
        for r, d in ut.items():
            add(snap, "hosts", "dropped", r, d, d * 2_400, d * 85_000)
        # clean
        ce = int(hk * 0.0005)
        ck = hk - ce
        for r, d in _split(rng, ck, {"unchanged": 70, "punctuation": 5, "footer": 22, "punctuation+footer": 3}).items():
            add(snap, "clean", "kept", r, d, d * 2_300, d * 85_000)
        add(snap, "clean", "dropped", "empty_after_clean", ce, ce * 50, ce * 85_000)
        det(snap, "clean", "removed_chars", "footer", int(ck * 0.25), int(ck * 0.25) * 120)
        det(snap, "clean", "replaced_chars", "punctuation", int(ck * 0.08), int(ck * 0.08) * 30)
        # dedup (cross-snapshot near-duplicates)
        dd = int(ck * rng.uniform(0.15, 0.3))
        wk = ck - dd
        # (stats and detail kinds as pipelines/dedup.py writes them: survivors and unique documents kept,
        # cluster_size = clusters per size bucket, cluster_docs = their documents, kept_copy_in = where
        # the surviving copy of a removed duplicate is)
        surv = min(wk, dd)
        add(snap, "dedup", "kept", "survivor", surv, surv * 2_300, surv * 85_000)
        add(snap, "dedup", "kept", "unique", wk - surv, (wk - surv) * 2_300, (wk - surv) * 85_000)
        add(snap, "dedup", "dropped", "near_duplicate", dd, dd * 2_300, dd * 85_000)
        det(snap, "dedup", "cluster_size", "1", wk - surv, (wk - surv) * 2_300)
        for b, share, size in (("2", 0.6, 2), ("3-4", 0.2, 3.5), ("5-8", 0.1, 6), ("9-16", 0.06, 12),
                               ("17-32", 0.03, 24), ("33-64", 0.01, 48)):
            det(snap, "dedup", "cluster_size", b, int(surv * share), int(surv * share) * 2_300)
            det(snap, "dedup", "cluster_docs", b, int(surv * share * size))
        for other, share in _split(rng, dd, {s_: 1 for s_ in snaps[max(0, si - 2): si + 1]}).items():
            det(snap, "dedup", "kept_copy_in", other, share, share * 2_300)
        # write, with the histograms of the written documents
        wchars = wk * 2_300
        add(snap, "write", "kept", "written", wk, wchars, wk * 85_000)
        for b, d in _split(rng, wk, {str(e): math.exp(-((i - 5.5) ** 2) / 3)
                                      for i, e in enumerate(LENGTH_EDGES)}).items():
            det(snap, "write", "hist:num_chars", b, d, d * max(1, int(b)) * 1.4)
        for kind, mu in (("hiragana", 0.38), ("katakana", 0.08), ("kanji", 0.25), ("ascii", 0.07), ("lang_score", 0.97)):
            for b, d in _split(rng, wk, {f"{i / RATIO_BINS:.2f}": math.exp(-((i / RATIO_BINS - mu) ** 2) / 0.006) + 1e-6
                                          for i in range(RATIO_BINS)}).items():
                det(snap, "write", f"hist:{kind}", b, d, d * 2_300)
        # per-file written counts (files are the sampling unit): noisy, exactly summing to the stats
        split = _split(rng, wk, {f["warc_file"]: f["responses"] * rng.lognormvariate(0, 0.25) for f in frows})
        csplit = {}
        left = wchars
        for i, (wf, d) in enumerate(split.items()):
            csplit[wf] = left if i == len(split) - 1 else d * 2_300
            left -= csplit[wf]
        for wf in split:
            per_file_written[(snap, wf)] = (split[wf], csplit[wf])
        totals[snap] = (wk, wchars)

    from jawebcorpus.corpus.stats import rows_in_order, DETAIL_KEYS

    order = ("read", "detect", "decode", "extract", "langid", "quality", "ngwords", "hosts", "clean", "dedup", "write")

    def dump(name, obj):
        with open(os.path.join(out, "stats", name), "w", encoding="utf-8") as fh:
            json.dump(obj, fh, ensure_ascii=False, indent=1)

    dump("stages.json", rows_in_order((((r["snapshot"], r["stage"], r["outcome"], r["reason"]),
                                         (r["docs"], r["chars"], r["bytes"])) for r in stages), order))
    dump("details.json", rows_in_order((((r["snapshot"], r["stage"], r["kind"], r["name"]),
                                         (r["docs"], r["chars"], r["bytes"])) for r in details), order, DETAIL_KEYS))
    dump("files.json", file_rows)
    cfg = get_preset("default")
    dump("run.json", {"command": ["jawebcorpus", "run", "(synthetic: bench/bench_report.py)"], "preset": cfg.preset,
                      "config": cfg.to_dict(), "fingerprint": cfg.fingerprint(), "until": "clean",
                      "stages": list(order), "inputs": len(file_rows), "runner": "synthetic",
                      "versions": {"jawebcorpus": "bench"}, "started": "2026-01-01T00:00:00Z", "seconds": 0})
    if with_samples:
        for st in stages:
            if st["outcome"] == "kept" or st["stage"] == "read":
                continue
            d = os.path.join(out, "samples", st["stage"])
            os.makedirs(d, exist_ok=True)
            path = os.path.join(d, f"{st['reason'].replace(':', '_')}.jsonl")
            if os.path.exists(path):
                continue
            with open(path, "w", encoding="utf-8") as fh:
                for k in range(5):
                    text = "".join(rng.choice(KANA) for _ in range(400)) + "。"
                    fh.write(json.dumps({"stage": st["stage"], "outcome": st["outcome"], "reason": st["reason"],
                                         "url": f"https://example{k}.jp/page", "snapshot": st["snapshot"],
                                         "warc_file": "crawl-data/x.warc.gz", "warc_offset": k * 1000,
                                         "warc_length": 1000, "text": text * 5}, ensure_ascii=False) + "\n")
    if with_data:
        import pyarrow as pa
        import pyarrow.parquet as pq

        for (snap, wf), (d, c) in per_file_written.items():
            if not d:
                continue
            ddir = os.path.join(out, "data", f"snapshot={snap}")
            os.makedirs(ddir, exist_ok=True)
            base = c // d
            chars = [base] * d
            chars[-1] += c - base * d
            t = pa.table({"text": pa.nulls(d, pa.large_string()), "snapshot": [snap] * d, "warc_file": [wf] * d,
                          "num_chars": pa.array(chars, pa.int64())})
            pq.write_table(t, os.path.join(ddir, f"part-{os.path.basename(wf)[:-8]}.parquet"), compression="zstd")
    return {"files": len(file_rows), "snapshots": len(snaps), "stage_rows": len(stages), "detail_rows": len(details),
            "written_docs": sum(v[0] for v in totals.values()), "written_chars": sum(v[1] for v in totals.values())}


def _best(fn, repeats: int):
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--snapshots", type=int, default=21)
    ap.add_argument("--terms", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-data", action="store_true", help="no OUT/data Parquet parts")
    ap.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (default: a temporary directory)")
    ap.add_argument("--out", default=None, help="result JSON path (default: bench/results/bench_report.json)")
    args = ap.parse_args(argv)

    from jawebcorpus.report import build_report, load_run, render_html, render_text, report_json

    tmp = args.keep or tempfile.mkdtemp(prefix="jawebcorpus-bench-report-")
    try:
        out = os.path.join(tmp, "out")
        if os.path.exists(out):
            shutil.rmtree(out)
        t0 = time.perf_counter()
        info = make_stats_dir(out, args.files, args.snapshots, args.terms, with_data=not args.no_data)
        gen_s = time.perf_counter() - t0
        sizes = {n: os.path.getsize(os.path.join(out, "stats", n)) for n in os.listdir(os.path.join(out, "stats"))}
        t_load, run = _best(lambda: load_run(out), args.repeats)
        t_build, rep = _best(lambda: build_report([run]), args.repeats)
        t_text, text = _best(lambda: render_text(rep), args.repeats)
        t_json, js = _best(lambda: report_json(rep), args.repeats)
        html_path = os.path.join(tmp, "report.html")
        t_html, page = _best(lambda: render_html(rep, html_path), args.repeats)
        with open(html_path, "w", encoding="utf-8") as fh:
            fh.write(page)
        # Two outputs side by side (the same directory twice).
        t_two, _ = _best(lambda: render_html(build_report([run, run]), html_path), 1)
        cli = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "jawebcorpus", "report", out, "--html", html_path],
                           check=True, stdout=subprocess.DEVNULL)
            cli.append(time.perf_counter() - t0)
        assert rep["runs"][0]["written"]["docs"] == info["written_docs"]
        ex = rep["runs"][0]["extrapolation"]["snapshots"][0]
        rows = [
            ["generate the directory (not timed below)", f"{gen_s:.2f}"],
            ["load (stats JSON + per-file Parquet counts)", f"{t_load:.3f}"],
            ["build the report", f"{t_build:.3f}"],
            ["terminal text", f"{t_text:.3f}"],
            ["JSON", f"{t_json:.3f}"],
            ["HTML page", f"{t_html:.3f}"],
            ["HTML, two outputs side by side (build + render)", f"{t_two:.3f}"],
            ["whole command in a fresh process (report OUT --html)", f"{min(cli):.2f}"],
        ]
        print(f"{info['files']:,} WARC files, {info['snapshots']} snapshots, {info['stage_rows']:,} stage rows, "
              f"{info['detail_rows']:,} detail rows, {args.terms} NG terms; stats "
              + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sorted(sizes.items())))
        print(table(["step", "seconds (best of %d)" % args.repeats], rows, "lr"))
        print(f"terminal report {len(text.splitlines())} lines, JSON {len(js) / 1e6:.1f} MB, "
              f"HTML {len(page) / 1e6:.2f} MB; first snapshot's sampling error: {ex['error_note']}")
        path = write_results("bench_report", {
            "dataset": {**info, "terms": args.terms, "stats_bytes": sizes, "with_data": not args.no_data},
            "seconds": {"generate": gen_s, "load": t_load, "build": t_build, "text": t_text, "json": t_json,
                        "html": t_html, "html_two_outputs": t_two, "cli": min(cli), "cli_all": cli},
            "output": {"text_lines": len(text.splitlines()), "json_bytes": len(js), "html_bytes": len(page)},
        }, args.out)
        print(f"results: {path}")
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
