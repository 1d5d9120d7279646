#!/usr/bin/env python
"""Cost of the deadline and minimum-rate accounting (``corpus/remote_pace.py``) on the HTTP read path.

A server in a child process streams ``--mib`` MiB from memory over loopback (as fast as the
socket takes it); this process reads it with ``open_input(url).read(256 KiB)`` (the WARC
reader's read size) in two variants, side by side in alternating order every repeat:

* ``paced``: as shipped (every network read goes through the pace's clock);
* ``unpaced``: the same stream with the socket-level accounting switched off
  (``remote.paced`` replaced by a no-op), i.e. the read path before the change.

CPU time of this process (the server is another process) and wall time; the per-repeat ratio
paced/unpaced, its median, and the extra CPU per 1.1 GB Common Crawl file.  On a busy machine
that ratio is noisy, so the script also times the accounting alone, steadily: a million reads
through the paced reader of a raw stream that returns at once, against the raw stream itself
(ns per network read), and counts the network reads a 1.1 GB file takes over loopback.

    python bench/bench_remote_pace.py [--mib 512] [--repeats 9]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import table, write_results  # noqa: E402

SERVER = r"""
import socket, sys, threading
size = int(sys.argv[1])
block = bytes(range(256)) * 4096  # 1 MiB
srv = socket.create_server(("127.0.0.1", 0))
print(srv.getsockname()[1], flush=True)
def serve(conn):
    with conn:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % size)
        left = size
        while left:
            n = min(left, len(block))
            conn.sendall(block[:n])
            left -= n
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def read_once(url: str) -> tuple[float, float, int]:
    from jawebcorpus.corpus.remote import open_input

    cpu0, wall0 = time.process_time(), time.perf_counter()
    n = 0
    with open_input(url) as f:
        while True:
            data = f.read(1 << 18)
            if not data:
                break
            n += len(data)
    return time.process_time() - cpu0, time.perf_counter() - wall0, n


class _Instant(io.RawIOBase):
    """A raw stream whose every read returns at once (64 KiB)."""

    def readable(self):
        return True

    def readinto(self, b):
        return min(len(b), 1 << 16)


def per_read_ns(n: int = 1_000_000) -> tuple[float, float]:
    """ns per read: the raw stream alone, and through the paced reader."""
    from jawebcorpus.corpus.remote_pace import Pace, _PacedSocketIO

    buf = bytearray(1 << 16)
    out = []
    for raw in (_Instant(), _PacedSocketIO(_Instant(), Pace(1e9, 1, 1e9))):
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                raw.readinto(buf)
            best = min(best, time.perf_counter() - t0)
        out.append(best / n * 1e9)
    return out[0], out[1]


def count_reads(url: str) -> int:
    from jawebcorpus.corpus import remote_pace

    calls = [0]
    readinto = remote_pace._PacedSocketIO.readinto

    def counting(self, b):
        calls[0] += 1
        return readinto(self, b)

    remote_pace._PacedSocketIO.readinto = counting
    try:
        read_once(url)
    finally:
        remote_pace._PacedSocketIO.readinto = readinto
    return calls[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mib", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from jawebcorpus.corpus import remote

    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1"
    size = args.mib << 20
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(size)], stdout=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{server.stdout.readline().strip()}/blob"
        shipped = remote.paced

        def variant(name):
            remote.paced = shipped if name == "paced" else (lambda pace: contextlib.nullcontext())
            try:
                cpu, wall, n = read_once(url)
            finally:
                remote.paced = shipped
            assert n == size, (n, size)
            return cpu, wall

        for name in ("paced", "unpaced"):  # warm up
            variant(name)
        reads = count_reads(url)
        runs = {"paced": [], "unpaced": []}
        for rep in range(args.repeats):
            for name in (("paced", "unpaced") if rep % 2 == 0 else ("unpaced", "paced")):
                runs[name].append(variant(name))
    finally:
        server.kill()
        server.wait()
    cpu_ratio = [p[0] / u[0] for p, u in zip(runs["paced"], runs["unpaced"])]
    wall_ratio = [p[1] / u[1] for p, u in zip(runs["paced"], runs["unpaced"])]
    med = {k: (statistics.median(c for c, _ in v), statistics.median(w for _, w in v)) for k, v in runs.items()}
    per_file_ms = (med["paced"][0] - med["unpaced"][0]) * 1000 * (1.1e9 / size)
    rows = [[k, f"{med[k][0]:.3f}", f"{med[k][1]:.3f}", f"{size / med[k][1] / 1e6:,.0f}"] for k in runs]
    print(table(["variant", "CPU s (median)", "wall s (median)", "MB/s"], rows))
    print(f"paced/unpaced CPU ratio: median {statistics.median(cpu_ratio):.3f} "
          f"[{min(cpu_ratio):.3f}–{max(cpu_ratio):.3f}]; wall ratio median {statistics.median(wall_ratio):.3f}")
    print(f"extra CPU per 1.1 GB file (medians' difference): {per_file_ms:+.0f} ms "
          f"(the file's processing: ≈ 85–110 core-s, docs/scaling.md)")
    raw_ns, paced_ns = per_read_ns()
    reads_per_file = reads * 1.1e9 / size
    print(f"a network read: {raw_ns:.0f} ns raw, {paced_ns:.0f} ns paced (+{paced_ns - raw_ns:.0f} ns); "
          f"{reads:,} reads for {args.mib} MiB over loopback, so ≈ {reads_per_file:,.0f} for 1.1 GB: "
          f"+{(paced_ns - raw_ns) * reads_per_file / 1e6:.1f} ms of CPU per file")
    path = write_results("bench_remote_pace", {
        "ns_per_read_raw": raw_ns, "ns_per_read_paced": paced_ns, "reads": reads,
        "accounting_ms_per_1_1_gb": (paced_ns - raw_ns) * reads_per_file / 1e6,
        "mib": args.mib, "repeats": args.repeats, "runs": runs, "cpu_ratio": cpu_ratio, "wall_ratio": wall_ratio,
        "median_cpu_ratio": statistics.median(cpu_ratio), "median_wall_ratio": statistics.median(wall_ratio),
        "extra_cpu_ms_per_1_1_gb": per_file_ms}, args.out)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
