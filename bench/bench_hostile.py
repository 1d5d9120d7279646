#!/usr/bin/env python
"""Crafted hostile inputs: CPU time and memory of each scanner of untrusted bytes (issue 9).

Every case calls a public function (the same ones before and after the fixes, so the script
measures either version of the package) on an input built here, in a forked child with a
time cap (``--cap``, default 20 s of wall time) and an address-space cap (2 GiB above the
child's size): a case that hangs or blows up is reported as such instead of stopping the run.
Reported per case: the child's CPU seconds (median of ``--repeats``) and its peak RSS growth.

    python bench/bench_hostile.py [--repeats 3] [--cap 20]
"""

from __future__ import annotations

import argparse
import gzip
import io
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time

from _common import table, write_results

NAME = "bench_hostile"
KB, MB = 1024, 1024 * 1024


class _Lid:  # a stand-in for fastText: the title test only needs .predict(text).label
    class _R:
        label = "ja"

    def predict(self, text):
        return self._R()


def _listing_bomb(inflated: int) -> str:
    import zlib

    root = tempfile.mkdtemp(prefix="bench-hostile-")
    d = os.path.join(root, "crawl-data", "CC-MAIN-2024-10")
    os.makedirs(d)
    line = b"crawl-data/CC-MAIN-2024-10/segments/1/warc/a.warc.gz\n"
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    chunk = line * (MB // len(line))
    with open(os.path.join(d, "warc.paths.gz"), "wb") as fh:
        for _ in range(inflated // MB):
            fh.write(comp.compress(chunk))
        fh.write(comp.flush())
    return root


def _blank_run_file(size: int) -> bytes:
    rec = b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: 1\r\n\r\nx\r\n\r\n"
    return gzip.compress(rec + b"\r\n" * (size // 2), mtime=0) + gzip.compress(rec, mtime=0)


def cases() -> dict:
    """name → (description, builder of the call's arguments, function)."""
    from jawebcorpus.corpus import charset, http, inputs, warc
    from jawebcorpus.filters import jadetect

    try:
        from jawebcorpus.filters.jadetect import swallow_title_japanese
    except ImportError:  # before the stage protocol it lived in filters/steps.py
        from jawebcorpus.filters.steps import swallow_title_japanese

    def read_all(data):
        return sum(1 for _ in warc.iter_records(io.BytesIO(data)))

    def listing(root):
        try:
            return len(inputs.list_snapshot("CC-MAIN-2024-10", root))
        except inputs.InputError:
            return -1

    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n-5\r\nxx\r\n0\r\n\r\n"
    return {
        "detect: 64 KiB of <html": (lambda: (b"<html" * (64 * KB // 5),), jadetect.detect_japanese),
        "detect: lang= and 64 KiB of spaces": (lambda: (b"<html lang=" + b" " * (64 * KB) + b"x",),
                                               jadetect.detect_japanese),
        "swallow title: 256 KiB of <title>": (lambda: (b"<title>" * (256 * KB // 7), _Lid()),
                                              swallow_title_japanese),
        "meta charset: 16 KiB of <meta": (lambda: (b"<meta " * (16 * KB // 6),), charset.meta_charset),
        "Content-Type charset= and 16 KiB of spaces": (lambda: ("text/html; charset=" + " " * (16 * KB) + "!",),
                                                       http.header_charset),
        "HTML sniff: 140 empty comments": (lambda: (None, b"<!---->" * 140 + b"x"), http.is_html_like),
        "chunked size -5": (lambda: (chunked, MB), http.parse_response),
        "64 MiB of blank lines in a gzip member": (lambda: (_blank_run_file(64 * MB),), read_all),
        "warc.paths.gz inflating to 256 MiB": (lambda: (_listing_bomb(256 * MB),), listing),
    }


def _child(conn, args, fn):
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        size = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (size + 2048 * MB, hard))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.process_time()
    try:
        fn(*args)
        status = "ok"
    except MemoryError:
        status = "memory"
    conn.send((status, time.process_time() - t0, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024))


def run_case(args, fn, cap: float):
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_child, args=(child, args, fn))
    proc.start()
    if not parent.poll(cap):
        proc.kill()
        proc.join()
        return ("killed", None, None)
    out = parent.recv()
    proc.join()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cap", type=float, default=20.0, help="wall seconds before a case is killed")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    rows, raw = [], {}
    for name, (build, fn) in cases().items():
        call_args = build()
        runs = [run_case(call_args, fn, args.cap) for _ in range(args.repeats)]
        if any(r[0] != "ok" for r in runs):
            bad = next(r[0] for r in runs if r[0] != "ok")
            cell = f"> {args.cap:g} s (killed)" if bad == "killed" else "over 2 GiB"
            rows.append([name, cell, "—"])
            raw[name] = {"status": bad}
        else:
            cpu = statistics.median(r[1] for r in runs)
            mem = max(r[2] for r in runs)
            rows.append([name, f"{cpu:.3f} s", f"{mem / MB:.0f} MiB"])
            raw[name] = {"status": "ok", "cpu_s": [r[1] for r in runs], "rss_growth_bytes": [r[2] for r in runs]}
    print(table(["case", "CPU (median)", "peak RSS growth"], rows))
    write_results(NAME, {"cap_s": args.cap, "cases": raw}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
