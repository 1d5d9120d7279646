#!/usr/bin/env python
"""What the corpus-hygiene modules of issue 20 cost, against the extraction of the same documents.

The documents: the Japanese documents of ``../shared/crawl`` that language ID keeps
(``jawebcorpus run --until langid``, run as a subprocess: 107), with, for each, its page as the
pipeline decodes it and its HTTP response headers as ``(name, value)`` pairs read from the WARC
record (every occurrence, as ``filters/optout.py`` wants them; the read stage keeps only the first
of each name today).  Timed side by side, the order alternated every repeat, CPU time
(``time.process_time``), medians [min–max] of the repeats, ratios taken per repeat:

* extraction: trafilatura on each page's decoded HTML (Swallow's options, in-process; the
  pipeline runs it in a child process, which costs more);
* ``optout``:  ``find_opt_out(headers, html)`` per page;
* ``license``: ``find_license(html)`` per page;
* ``decontam``: ``BenchmarkIndex.match(text)`` of the extracted text, with the 327 written items
  and with 10,000 synthetic ones (``bench/bench_decontam.py``);
* ``pii``: ``PiiScanner.scan(text)`` now, and the scanner as it was before issue 20 (the module
  of commit ``--base``, loaded under another name): the difference is issue 20's part;
* the stages as wired (``filters/hygiene.py``), set up from the ``default`` configuration as a
  worker sets them up: ``opt_out`` and ``license`` (``apply`` on each document with its decoded
  page and the opt-out headers the read stage keeps, ``parse_response(block).signal_headers``),
  ``decontaminate`` with an items file of 10,000 synthetic items (``--decontaminate``; the index
  built by the stage's ``setup``), the boilerplate stage's per-document work (line hashes for the
  host sample, then the removal against a frequent set), and what ``parse_response`` costs now that it keeps those
  headers (timed against the same parse without them is below the clock's noise; its whole
  cost is reported).

    python bench/bench_hygiene.py [--shared ../shared] [--repeats 7] [--base 20b752da]
"""

from __future__ import annotations

import argparse
import glob
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

from _common import (REPO_DIR, add_common_args, code_at, crawl_files, fmt_range, freeze_if_asked, summary, table,
                     wait_for_quiet, write_results)

sys.path.insert(0, os.fspath(REPO_DIR / "tests"))
from fixturegen.benchitems import items  # noqa: E402

from jawebcorpus.filters.decontam import BenchmarkIndex, BenchmarkItem  # noqa: E402
from jawebcorpus.filters.license import find_license  # noqa: E402
from jawebcorpus.filters.optout import find_opt_out  # noqa: E402
from jawebcorpus.filters.pii import PiiScanner  # noqa: E402
from jawebcorpus.corpus.http import parse_response  # noqa: E402

NAME = "bench_hygiene"


def header_pairs(block: bytes) -> list[tuple[str, str]]:
    """Every header of an HTTP response block as ``(name, value)``, in order, repeated names
    included (what the read stage would keep for the opt-out stage; bounded like corpus/http.py:
    the head is at most 64 KiB)."""
    end = block.find(b"\r\n\r\n", 0, 64 * 1024)
    if end < 0:
        end = block.find(b"\n\n", 0, 64 * 1024)
    if end < 0:
        return []
    out = []
    for line in block[:end].decode("latin-1").split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            out.append((name.strip(), value.strip()))
    return out


def documents(shared: str) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.warc import iter_records
    from _common import crawl_pages

    with tempfile.TemporaryDirectory(prefix="bench-hygiene-") as tmp:
        subprocess.run([sys.executable, "-m", "jawebcorpus", "run", "--quiet", "--input", os.path.join(shared, "crawl"),
                        "--output", tmp, "--until", "langid"], check=True, stdout=subprocess.DEVNULL)
        files = sorted(glob.glob(os.path.join(tmp, "data", "**", "*.parquet"), recursive=True))
        rows = pa.concat_tables([pq.read_table(f, columns=["warc_record_id", "text"]) for f in files]).to_pylist()
    texts = {r["warc_record_id"]: r["text"] or "" for r in rows}
    headers = {}
    for path in crawl_files(shared):
        with open(path, "rb") as fh:
            for rec in iter_records(fh):
                rid = rec.headers.get("warc-record-id", "")
                if rid in texts and rid not in headers:
                    headers[rid] = (header_pairs(rec.block), rec.block)
    docs = []
    for p in crawl_pages(shared):
        rid = p.warc_record_id
        if rid in texts and rid in headers and all(d["id"] != rid for d in docs):
            block = headers[rid][1]
            docs.append({"id": rid, "html": decode_html(p.body, p.http_charset).text, "text": texts[rid],
                         "headers": headers[rid][0], "block": block,
                         "signal_headers": parse_response(block, 8 << 20).signal_headers})
    return docs


def wired_stages(docs: list[dict], synthetic: list) -> tuple[dict, tempfile.TemporaryDirectory]:
    """The issue-20 stages as a worker runs them, on the benchmark's documents."""
    import dataclasses
    import json

    from jawebcorpus.corpus.record import Doc
    from jawebcorpus.corpus.stage import Count, LocalResources
    from jawebcorpus.filters.hygiene import DecontamStage, LicenseStage, OptOutStage
    from jawebcorpus.pipelines.config import PipelineConfig

    tmp = tempfile.TemporaryDirectory(prefix="bench-hygiene-items-")
    path = os.path.join(tmp.name, "items.jsonl")
    with open(path, "w", encoding="utf-8") as out:
        for it in synthetic or [BenchmarkItem(x["benchmark"], x["id"], x["text"]) for x in items()]:
            out.write(json.dumps({"text": it.text, "benchmark": it.benchmark, "id": it.item_id}, ensure_ascii=False) + "\n")
    cfg = PipelineConfig()
    cfg = dataclasses.replace(cfg, decontaminate=dataclasses.replace(cfg.decontaminate, files=(path,)))
    res = LocalResources()
    opt, lic, dec = OptOutStage(), LicenseStage(), DecontamStage()
    for st in (opt, lic, dec):
        st.setup(cfg, res)
    pages = [Doc("s", "f", 0, 0, d["id"], "", "https://x.example.jp/", html=d["html"],
                 http_signals=d["signal_headers"]) for d in docs]
    texts = [Doc("s", "f", 0, 0, d["id"], "", "https://x.example.jp/", text=d["text"]) for d in docs]
    counts = {st.name: Count(type(st)) for st in (opt, lic, dec)}

    def run(stage, dd):
        c = counts[stage.name]
        for d in dd:
            stage.apply(d, c.bind("s", 0))

    from jawebcorpus.filters.boilerplate import BoilerplateConfig, doc_line_hashes, remove_lines, url_key

    bp = BoilerplateConfig()
    # each page's lines hashed for its host's sample, then removed against a frequent set holding
    # three of its own lines (so the removal path runs on every page, as on a host with boilerplate)
    frequent = [frozenset(sorted(doc_line_hashes(d["text"], bp))[:3]) for d in docs]

    def bp_hashes():
        for d in docs:
            url_key("https://x.example.jp/" + d["id"])
            doc_line_hashes(d["text"], bp)

    def bp_remove():
        for d, f in zip(docs, frequent):
            remove_lines(d["text"], f, bp)

    return {
        "boilerplate line hashes (every page)": bp_hashes,
        "boilerplate removal (a page of a host with boilerplate)": bp_remove,
        "opt_out stage": lambda: run(opt, pages),
        "license stage": lambda: run(lic, pages),
        "decontaminate stage (10,000 items)": lambda: run(dec, texts),
        "parse_response (read)": lambda: [parse_response(d["block"], 8 << 20) for d in docs],
    }, tmp


def old_pii_scanner(base: str):
    """The PII scanner of commit ``base``, loaded as a separate module."""
    path = os.path.join(code_at(base), "jawebcorpus", "filters", "pii.py")
    spec = importlib.util.spec_from_file_location("jawebcorpus_pii_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod.PiiScanner()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--base", default="20b752da", help="the commit before issue 20 (the PII scanner's baseline)")
    args = ap.parse_args()
    freeze_if_asked(args)
    from jawebcorpus.corpus.extract import trafilatura_extract

    from bench_decontam import lingua_pages, synthetic_items

    print("reading the documents (pipeline to langid, pages and headers) …", flush=True)
    docs = documents(args.shared)
    html_chars = sum(len(d["html"]) for d in docs)
    text_chars = sum(len(d["text"]) for d in docs)
    print(f"{len(docs)} documents, {html_chars:,} characters of HTML, {text_chars:,} of text; "
          f"{sum(len(d['headers']) for d in docs):,} headers\n", flush=True)
    written = BenchmarkIndex.build(BenchmarkItem(x["benchmark"], x["id"], x["text"]) for x in items())
    sentences = [s for p in lingua_pages(args.shared) for s in p.split("\n")]
    synthetic = BenchmarkIndex.build(synthetic_items(10_000, sentences)) if sentences else written
    pii_now, pii_before = PiiScanner(), old_pii_scanner(args.base)
    stage_work, tmpdir = wired_stages(docs, synthetic_items(10_000, sentences) if sentences else [])

    def run_extract():
        for d in docs:
            trafilatura_extract(d["html"])

    work = {
        "optout": lambda: [find_opt_out(d["headers"], d["html"]) for d in docs],
        "license": lambda: [find_license(d["html"]) for d in docs],
        "decontam (327 items)": lambda: [written.match(d["text"]) for d in docs],
        "decontam (10,000 items)": lambda: [synthetic.match(d["text"]) for d in docs],
        "pii now": lambda: [pii_now.scan(d["text"]) for d in docs],
        "pii before": lambda: [pii_before.scan(d["text"]) for d in docs],
        **stage_work,
    }
    inner = 5  # the scanners are short: several passes a repeat, per-pass time reported
    for fn in work.values():
        fn()
    run_extract()
    times = {k: [] for k in ["extract", *work]}
    busy = []
    for rep in range(max(3, args.repeats)):
        busy.append(wait_for_quiet())
        names = list(work)
        if rep % 2:
            names.reverse()
        t0 = time.process_time()
        run_extract()
        times["extract"].append(time.process_time() - t0)
        for name in names:
            t0 = time.process_time()
            for _ in range(inner):
                work[name]()
            times[name].append((time.process_time() - t0) / inner)
        print(f"  repeat {rep + 1}: extract {times['extract'][-1]:.3f} s, "
              + ", ".join(f"{k} {1e3 * v[-1]:.2f} ms" for k, v in times.items() if k != "extract"), flush=True)

    n = len(times["extract"])
    ratio = {k: summary([times[k][i] / times["extract"][i] for i in range(n)]) for k in work}
    added = summary([(times["optout"][i] + times["license"][i] + times["decontam (10,000 items)"][i]
                      + times["pii now"][i] - times["pii before"][i]) / times["extract"][i] for i in range(n)])
    wired = summary([(times["opt_out stage"][i] + times["license stage"][i] + times["decontaminate stage (10,000 items)"][i]
                      + times["pii now"][i] - times["pii before"][i])
                     / times["extract"][i] for i in range(n)])
    with_bp = summary([(times["opt_out stage"][i] + times["license stage"][i]
                        + times["decontaminate stage (10,000 items)"][i] + times["pii now"][i] - times["pii before"][i]
                        + times["boilerplate line hashes (every page)"][i]
                        + 2 * times["boilerplate removal (a page of a host with boilerplate)"][i])
                       / times["extract"][i] for i in range(n)])
    per = {"optout": html_chars, "license": html_chars, "opt_out stage": html_chars, "license stage": html_chars}
    rows = [["extraction (trafilatura, in-process)", fmt_range(summary(times["extract"]), 1, 1e3),
             fmt_range(summary([1e6 * t / len(docs) for t in times["extract"]]), 0), "–", "100 %"]]
    for k in work:
        chars = per.get(k, text_chars)
        rows.append([k, fmt_range(summary(times[k]), 2, 1e3), fmt_range(summary([1e6 * t / len(docs) for t in times[k]]), 1),
                     fmt_range(summary([1e6 * t / (chars / 1000) for t in times[k]]), 2)
                     + (" (HTML)" if k in per else " (text)"), fmt_range(ratio[k], 2, 100) + " %"])
    print()
    print(table(["work on the same documents", "CPU ms", "µs per document", "µs per 1,000 characters", "of extraction"], rows))
    print(f"\nissue 20 in all (opt-out + licence + decontamination with 10,000 items + what PII scanning "
          f"costs more than before): {fmt_range(added, 2, 100)} % of the extraction time (target ≤ 10 %)")
    print(f"issue 20 as wired (the opt_out, license and decontaminate stages' apply with 10,000 items + what PII "
          f"scanning costs more than before): {fmt_range(wired, 2, 100)} % of the extraction time (target ≤ 10 %)")
    print(f"… and with the boilerplate stage on, at worst (every page's host has boilerplate: line hashes, then the "
          f"removal before dedup and again in the final write): {fmt_range(with_bp, 2, 100)} %")
    tmpdir.cleanup()
    payload = {"issue20_wired_over_extraction": wired, "issue20_wired_with_boilerplate_worst": with_bp, "documents": len(docs), "html_chars": html_chars, "text_chars": text_chars, "inner_passes": inner,
               "cpu_s": {k: summary(v) for k, v in times.items()}, "over_extraction": ratio,
               "issue20_over_extraction": added, "busy_before_repeat": busy, "base": args.base}
    print(f"\nwrote {write_results(NAME, payload, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
