#!/usr/bin/env python
"""Inflate and the WARC reader on ``../shared/crawl``: zlib, ISA-L (``isal``) and zlib-ng
(``zlib-ng``, when installed), and ``corpus.warc.iter_records`` with each inflate, against the
bare warcio loop; side by side in one process, order alternated per repeat, CPU time, median.

The inflate loop is the reader's: 256 KiB of compressed input at a time, one ``decompressobj(31)``
per gzip member, ``decompress(data, 256 KiB)``; every variant must give the same bytes.

    python bench/bench_inflate.py [--shared ../shared] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
import zlib

from _common import add_common_args, crawl_files, table, write_results

NAME = "bench_inflate"
CHUNK = 1 << 18


def inflate_all(mod, data: bytes) -> int:
    out_bytes, pos, pending, dec = 0, 0, b"", None
    while True:
        if not pending:
            if pos >= len(data):
                return out_bytes
            pending, pos = data[pos:pos + CHUNK], pos + CHUNK
        if dec is None:
            dec = mod.decompressobj(31)
        out_bytes += len(dec.decompress(pending, CHUNK))
        if dec.eof:
            pending, dec = dec.unused_data, None
        else:
            pending = dec.unconsumed_tail


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import jawebcorpus.corpus.warc as warc
    from warcio.archiveiterator import ArchiveIterator

    files = crawl_files(args.shared)
    data = [open(f, "rb").read() for f in files]
    modules = {"zlib": zlib}
    try:
        from isal import isal_zlib
        modules["isal"] = isal_zlib
    except ImportError:
        pass
    try:
        from zlib_ng import zlib_ng
        modules["zlib-ng"] = zlib_ng
    except ImportError:
        pass

    def warcio_loop():
        for f in files:
            with open(f, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    rec.content_stream().read()

    def reader(mod):
        def run():
            saved, warc._inflate = warc._inflate, mod
            try:
                for f in files:
                    with open(f, "rb") as fh:
                        for _ in warc.iter_records(fh):
                            pass
            finally:
                warc._inflate = saved
        return run

    variants = {"warcio loop": warcio_loop}
    sizes = set()
    for name, mod in modules.items():
        variants[f"inflate {name}"] = (lambda m: lambda: sizes.add(sum(inflate_all(m, d) for d in data)))(mod)
        variants[f"reader with {name}"] = reader(mod)
    times: dict[str, list[float]] = {k: [] for k in variants}
    for rep in range(args.repeats):
        for name in (list(variants) if rep % 2 == 0 else list(reversed(variants))):
            t0 = time.process_time()
            variants[name]()
            times[name].append(time.process_time() - t0)
    assert len(sizes) == 1, "the inflate variants disagree"
    base = statistics.median(times["warcio loop"])
    rows = [[k, f"{statistics.median(v):.3f}", f"{min(v):.3f}–{max(v):.3f}", f"{statistics.median(v) / base:.2f}"]
            for k, v in times.items()]
    print(f"{len(files)} files, {sum(map(len, data)) / 2**20:.1f} MiB compressed, {sizes.pop() / 2**20:.0f} MiB "
          f"inflated; CPU s, median of {args.repeats}")
    print(table(["variant", "CPU s", "min–max", "× warcio"], rows))
    write_results(NAME, {"repeats": args.repeats, "cpu_s": times}, args.out)


if __name__ == "__main__":
    main()
