"""Throughput and overhead of ``jawebcorpus annotate`` against a loopback chat server.

The server (``tests/_chat_server.py``) runs in its own process and answers every request after a
simulated latency; the client is the command itself (``annotate.main``, in this process), on a
run-shaped folder of synthetic Japanese documents written by this script.  Measured, median of
``--repeats``:

* requests per second at concurrency 1, 8 and 32 with 200 ms latency (``--latency``), next to
  the ideal concurrency / latency; each measurement asks ``20 × concurrency`` documents (about
  4 s of server time) and includes the command's sampling and reading of the run;
* the overhead per item: a server without latency, concurrency 1: wall time and the client's
  CPU time per document (sampling, reading, prompt, HTTP, parsing, writing the line);
* sampling alone: ``select`` over 300,000 documents (rows per second of the selection pass).

    python bench/bench_annotate.py [--repeats 3] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import fmt, summary, write_results  # noqa: E402

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from jawebcorpus.pipelines import annotate  # noqa: E402
from jawebcorpus.pipelines.annotate_sample import open_run, select  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SENTENCES = ["川沿いの道を歩くと、季節ごとに違う花が咲いているのに気づきます。",
             "この地域の歴史は古く、江戸時代には宿場町として栄えました。",
             "実験では、水の温度を少しずつ上げながら、溶ける量の変化を記録しました。",
             "図書館では毎月、子ども向けの読み聞かせの会を開いています。"]


def write_run(root: Path, docs: int, chars: int = 1500) -> None:
    snapshots = ("CC-MAIN-2024-10", "CC-MAIN-2024-18", "CC-MAIN-2024-22")
    for k, snap in enumerate(snapshots):
        rows = []
        for i in range(k, docs, len(snapshots)):
            text, j = [], i
            while sum(map(len, text)) < chars:
                text.append(SENTENCES[j % len(SENTENCES)])
                j += 1
            host = f"site{i % 997}.example.jp"
            rows.append({"text": f"文書{i}。" + "".join(text), "url": f"https://{host}/p/{i}", "host": host,
                         "warc_file": f"crawl-data/{snap}/w-{i % 7}.warc.gz", "warc_offset": i * 4096,
                         "warc_record_id": f"<urn:uuid:{snap}-{i}>"})
        folder = root / "data" / f"snapshot={snap}"
        folder.mkdir(parents=True)
        for p in range(4):
            pq.write_table(pa.Table.from_pylist(rows[p::4]), folder / f"part-{p}.parquet")


class Server:
    def __init__(self, latency: float):
        self.proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "_chat_server.py"), str(latency)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.url = self.proc.stdout.readline().strip()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def one(run: Path, url: str, out: Path, n: int, concurrency: int, seed: int) -> tuple[float, float]:
    if out.exists():
        out.unlink()
    argv = ["--run", str(run), "--endpoint", url, "--model", "bench", "--output", str(out), "--sample", str(n),
            "--concurrency", str(concurrency), "--seed", str(seed), "--quiet"]
    w0, c0 = time.perf_counter(), time.process_time()
    rc = annotate.main(argv)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert rc == 0, rc
    got = sum(1 for line in out.read_text(encoding="utf-8").splitlines() if '"status":"ok"' in line)
    assert got == n, (got, n)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    os.environ.pop("OPENAI_API_KEY", None)
    tmp = Path(tempfile.mkdtemp(prefix="bench-annotate-"))
    run = tmp / "run"
    write_run(run, 3000)
    results: dict = {"latency_s": args.latency, "repeats": args.repeats, "throughput": {}, "overhead": {}}
    server = Server(args.latency)
    try:
        for c in (1, 8, 32):
            n = 20 * c
            walls = [one(run, server.url, tmp / "l.jsonl", n, c, seed)[0] for seed in range(args.repeats)]
            rates = [n / w for w in walls]
            results["throughput"][str(c)] = {"documents": n, "requests_per_s": summary(rates),
                                             "ideal_requests_per_s": c / args.latency}
            s = results["throughput"][str(c)]["requests_per_s"]
            print(f"concurrency {c:>2}: {fmt(s['median'], 2)} requests/s [{fmt(s['min'], 2)}–{fmt(s['max'], 2)}] "
                  f"(ideal {c / args.latency:.0f}), {n} documents", flush=True)
    finally:
        server.close()
    server = Server(0.0)
    try:
        n = 300
        walls, cpus = [], []
        for seed in range(args.repeats):
            w, c = one(run, server.url, tmp / "l.jsonl", n, 1, seed)
            walls.append(1000 * w / n)
            cpus.append(1000 * c / n)
        results["overhead"] = {"documents": n, "wall_ms_per_item": summary(walls), "client_cpu_ms_per_item": summary(cpus)}
        print(f"overhead per item (no latency, concurrency 1, {n} documents): wall {fmt(summary(walls)['median'], 2)} ms, "
              f"client CPU {fmt(summary(cpus)['median'], 2)} ms", flush=True)
    finally:
        server.close()
    big = tmp / "big"
    write_run(big, 300_000, chars=20)
    rates = []
    for seed in range(args.repeats):
        t0 = time.perf_counter()
        sel = select(open_run(str(big), None), 10_000, seed)
        rates.append(300_000 / (time.perf_counter() - t0))
        assert len(sel.chosen) == 10_000
    results["sampling"] = {"documents": 300_000, "sample": 10_000, "rows_per_s": summary(rates)}
    print(f"sampling 10,000 of 300,000 documents: {fmt(summary(rates)['median'], 0)} rows/s", flush=True)
    print("results:", write_results("bench_annotate", results, args.out))


if __name__ == "__main__":
    main()
