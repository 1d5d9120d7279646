#!/usr/bin/env python
"""Read + rapid detection in one process on ``../shared/crawl``, against the bare warcio loop.

Side by side, order alternated per repeat, CPU time, ratios to the warcio loop paired per
repeat, median [min–max]:

``warcio``          ``ArchiveIterator`` + ``rec.content_stream().read()`` per record
``read``            the read stage's reading (``corpus.read.read_pages``): every record, the HTML
                    responses as documents
``read+detect``     the same, each document's body through ``filters.jadetect.detect_japanese``
                    with the byte scans in use (C when ``filters/_jascan.c`` was built)
``read+detect(py)`` the same with the Python scans (the regular expressions and the UTF-8
                    decoder the C scans stand in for); skipped when the C module was not built

Both detection variants must give the same result for every page (checked on every repeat).
This is the in-process view of ``bench_throughput.py``'s ``run --until detect`` (which adds
Beam, statistics and the fixed cost of a run).

    python bench/bench_read_detect.py [--shared ../shared] [--repeats 7]
"""

from __future__ import annotations

import argparse
import time

from _common import add_common_args, crawl_files, fmt_range, freeze_if_asked, summary, table, write_results

NAME = "bench_read_detect"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    freeze_if_asked(args)

    from warcio.archiveiterator import ArchiveIterator

    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.corpus.read import FileReport, ReadConfig, ReadStage, read_pages
    from jawebcorpus.corpus.stage import Count
    from jawebcorpus.filters import jadetect as J

    files = crawl_files(args.shared)
    inputs = resolve_paths(files)
    python_scans = {"_html_open": J._py_html_open, "_utf8_kana_pairs": J._py_utf8_kana,
                    "_sjis_kana": J._py_sjis_kana, "_euc_kana": J._py_euc_kana, "_utf8_error": J._py_utf8_error}
    in_use = {name: getattr(J, name) for name in python_scans}

    def warcio_loop():
        for path in files:
            with open(path, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    rec.content_stream().read()

    def read(detect=None):
        count = Count(ReadStage)
        results = []
        for inp in inputs:
            with open(inp.path, "rb") as fh:
                for doc in read_pages(fh, inp, ReadConfig(), count, FileReport(inp.path, inp.rel, inp.snapshot)):
                    if detect:
                        results.append(detect(doc.body))
        return results

    def with_scans(scans):
        def run():
            for name, fn in scans.items():
                setattr(J, name, fn)
            try:
                return read(J.detect_japanese)
            finally:
                for name, fn in in_use.items():
                    setattr(J, name, fn)
        return run

    variants = {"warcio": warcio_loop, "read": read, "read+detect": with_scans(in_use)}
    if J.SCANS == "c":
        variants["read+detect(py)"] = with_scans(python_scans)
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    pages = japanese = 0
    for rep in range(args.repeats):
        outcome = {}
        for name in (list(variants) if rep % 2 == 0 else list(reversed(variants))):
            t0 = time.process_time()
            outcome[name] = variants[name]()
            cpu[name].append(time.process_time() - t0)
        if "read+detect(py)" in outcome:
            assert outcome["read+detect"] == outcome["read+detect(py)"], "the C and Python scans disagree"
        pages, japanese = len(outcome["read+detect"]), sum(d.japanese for d in outcome["read+detect"])
    base = cpu["warcio"]
    derived = {k: {"cpu_s": summary(v), "ratio": summary(a / b for a, b in zip(v, base))} for k, v in cpu.items()}
    print(f"{len(files)} files, {pages} pages, {japanese} Japanese; scans in use: {J.SCANS}; "
          f"CPU s, median [min–max] of {args.repeats}")
    print(table(["variant", "CPU s", "× warcio"],
                [[k, fmt_range(d["cpu_s"], 3), fmt_range(d["ratio"], 3)] for k, d in derived.items()]))
    write_results(NAME, {"repeats": args.repeats, "scans": J.SCANS, "pages": pages, "japanese": japanese,
                         "cpu_s": cpu, "derived": derived}, args.out)


if __name__ == "__main__":
    main()
