"""The Beam dedup stage on 50k, 100k, 200k synthetic documents (in-process FnApiRunner):
time per document and peak memory (RSS, psutil), each size in its own process.

Documents are generated inside the pipeline (from a seed), so the measurement is the stage and
not the pickling of a huge ``beam.Create``: ~1,500-character Japanese texts made of sentences
from ``../shared/testdata/langid/lingua/sentences/ja.txt`` (a synthetic vocabulary when absent),
spread over three snapshots: in every 20 documents, one original with 3 near copies (1 % of
characters edited) and 1 exact copy, a 3-document chain (windows shifted by 100 characters) and
12 unique ones; every 200th document is one boilerplate text with a short unique tail (a hot
cluster: 0.5 % of all documents).

    python bench/bench_dedup_scale.py                 # 50k, 100k, 200k
    python bench/bench_dedup_scale.py --sizes 20000   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, fmt, table, write_results  # noqa: E402

SNAPSHOTS = ("CC-MAIN-2023-06", "CC-MAIN-2023-14", "CC-MAIN-2023-23")


def _sentences(shared: str) -> list[str]:
    path = os.path.join(shared, "testdata", "langid", "lingua", "sentences", "ja.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return [s.strip() for s in fh if s.strip()]
    import random

    rng = random.Random(0)
    kana = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    return ["".join(rng.choice(kana) for _ in range(rng.randint(15, 60))) + "。" for _ in range(400)]


def generate(shard: int, n_shards: int, total: int, sentences: list[str], chars: int = 1500):
    """The documents of one shard (deterministic)."""
    import random

    from jawebcorpus.corpus.record import Doc

    def base(j: int, n: int = chars) -> str:
        r = random.Random(j)
        return "".join(r.choice(sentences) for _ in range(60))[:n]

    boiler = base(-1)

    for i in range(shard, total, n_shards):
        rng = random.Random(i)
        kind = i % 20  # 0 original, 1-3 near copies of it, 4 exact copy, 5-7 a chain, 8-19 unique
        if i % 200 == 19:  # boilerplate page: the same text with a short unique tail
            text = boiler[: chars - 30] + base(i, 30)
        elif kind <= 4:
            text = base(i - kind)
            if 1 <= kind <= 3:  # edit about 1 % of the characters
                t = list(text)
                for _ in range(chars // 100):
                    t[rng.randrange(len(t))] = rng.choice("あいうえおかきくけこ")
                text = "".join(t)
        elif kind <= 7:  # chain: windows of one long text, shifted by 100 characters
            k = kind - 5
            text = base(i - k, chars + 300)[100 * k: 100 * k + chars]
        else:
            text = base(i)
        snap = SNAPSHOTS[rng.randrange(3)]
        yield Doc(snapshot=snap, warc_file=f"crawl-data/{snap}/f{i % 97}.warc.gz", warc_offset=i,
                  warc_length=1000, warc_record_id=f"<urn:uuid:{i:012d}>", warc_date="2023-01-01T00:00:00Z",
                  url=f"https://h{i % 5000}.example.jp/{i}.html", text=text, payload_bytes=3 * len(text))


def run_one(n: int, shared: str, max_rounds: int, gc_mode: str = "tuned") -> dict:
    import gc

    import apache_beam as beam
    import psutil
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.dedup.config import DedupConfig
    from jawebcorpus.pipelines.dedup import Dedup
    from jawebcorpus.pipelines.run import local_runner

    proc = psutil.Process()
    peak = [proc.memory_info().rss]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    if gc_mode == "tuned":
        # The in-process runner keeps every PCollection of the run in this one process, so
        # CPython's cyclic GC rescans millions of live objects: ~40 % of the time at 60k docs.
        # A distributed worker holds one bundle at a time; this setting approximates that.
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
    sentences = _sentences(shared)
    n_shards = 64
    out_dir = f"/tmp/jawebcorpus-bench-dedup-{os.getpid()}"
    opts = PipelineOptions([])
    rss0 = proc.memory_info().rss
    t0 = time.perf_counter()
    with beam.Pipeline(runner=local_runner(opts), options=opts) as p:
        docs = (
            p
            | beam.Create(list(range(n_shards)))
            | beam.Reshuffle()
            | beam.FlatMap(generate, n_shards, n, sentences)
        )
        res = docs | Dedup(DedupConfig(max_rounds=max_rounds))
        (res.docs | "count" >> beam.combiners.Count.Globally()
         | "w1" >> beam.Map(lambda c: open(out_dir + ".kept", "w").write(str(c))))
        (res.stats | "gs" >> beam.combiners.ToList()
         | "w2" >> beam.Map(lambda s: open(out_dir + ".stats", "w").write(json.dumps(s))))
        (res.details | "gd" >> beam.combiners.ToList()
         | "w3" >> beam.Map(lambda s: open(out_dir + ".details", "w").write(json.dumps(s))))
    seconds = time.perf_counter() - t0
    stop.set()
    peak[0] = max(peak[0], proc.memory_info().rss)
    import resource

    kept = int(open(out_dir + ".kept").read())
    stats = json.load(open(out_dir + ".stats"))
    details = json.load(open(out_dir + ".details"))
    for ext in (".kept", ".stats", ".details"):
        os.remove(out_dir + ext)
    agg: dict = {}
    for (snap, stage, kind, name), v in [(tuple(k), v) for k, v in details]:
        agg.setdefault(f"{kind}:{name}", 0)
        agg[f"{kind}:{name}"] += v[0]
    dropped = sum(v[0] for k, v in stats if k[2] == "dropped")
    return {
        "docs": n, "kept": kept, "dropped": dropped, "seconds": seconds, "us_per_doc": seconds / n * 1e6,
        "peak_rss_mib": peak[0] / 2**20, "rss_before_mib": rss0 / 2**20,
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "details": agg, "gc": gc_mode,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--sizes", default="50000,100000,200000")
    ap.add_argument("--max-rounds", type=int, default=10)
    ap.add_argument("--name", default="bench_dedup_scale", help="result name (bench/results/<name>.json)")
    ap.add_argument("--gc", choices=("tuned", "default"), default="tuned",
                    help="tuned: gc.freeze() + gc.set_threshold(100000, 50, 100) in the run (default)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.shared, args.max_rounds, args.gc)))
        return
    results = []
    for n in [int(x) for x in args.sizes.split(",")]:
        print(f"dedup on {n:,} synthetic documents …", flush=True)
        cp = subprocess.run([sys.executable, __file__, "--one", str(n), "--shared", args.shared,
                             "--max-rounds", str(args.max_rounds), "--gc", args.gc], capture_output=True, text=True)
        if cp.returncode != 0:
            print(cp.stderr[-3000:])
            raise SystemExit(f"size {n} failed")
        r = json.loads(cp.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"  {r['seconds']:.1f} s, {r['us_per_doc']:.0f} µs/doc, peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)
    rows = [[f"{r['docs']:,}", f"{r['kept']:,}", f"{r['dropped']:,}", fmt(r["seconds"]), fmt(r["us_per_doc"], 0),
             fmt(r["docs"] / r["seconds"], 0), fmt(r["peak_rss_mib"], 0)] for r in results]
    print(table(["documents", "kept", "dropped", "seconds", "µs/doc", "docs/s", "peak RSS MiB"], rows))
    path = write_results(args.name, {"max_rounds": args.max_rounds, "runner": "FnApiRunner in-process", "gc": args.gc,
                                               "results": results}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
