"""The job graph of a run with many listed input files: ``--input URL …`` against ``--input-list FILE``.

For each number of input files (default 1 and 90,000, a whole snapshot) and each way of naming
them, the command line is parsed, the run spec built (``pipelines/cli.build_spec``) and the job
graph built for a remote runner (``pipelines/run.build_pipeline``, Reshuffles included) and turned
into its runner-API proto, as a runner is handed it; reported: the time for all that (median
over the repeats, [min–max]), the proto's size (``p.to_runner_api().SerializeToString()``) and
the size of the command line itself (what the operating system would have to pass: Linux refuses
more than ≈ 2 MiB of arguments).  Nothing is run; the URLs are synthetic Common Crawl paths.

    python bench/bench_graph_size.py                    # 1 and 90,000 files, 3 repeats (≈ 5 min)
    python bench/bench_graph_size.py --files 1 1000 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

from _common import add_common_args, freeze_if_asked, machine_info, table, write_results

NAME = "bench_graph_size"
REMOTE = ["--runner=PortableRunner", "--job_endpoint=localhost:8099", "--environment_type=EXTERNAL",
          "--environment_config=localhost:50000"]


def urls(n: int) -> list[str]:
    """``n`` URLs shaped like one snapshot's: 100 segments, capture times that vary (as real
    names do: compressed, the graph's pickles would otherwise look smaller than they are)."""
    rng = random.Random(0)
    segments = [f"16852{rng.randrange(10**8):08d}.{rng.randrange(100):02d}" for _ in range(100)]
    out = []
    for i in range(n):
        t = 20230527000000 + rng.randrange(10**6)
        out.append(f"https://data.commoncrawl.org/crawl-data/CC-MAIN-2023-23/segments/{rng.choice(segments)}/warc/"
                   f"CC-MAIN-{t}-{t + rng.randrange(30000)}-{i:05d}.warc.gz")
    return out


def build(argv: list[str]) -> tuple[float, int, int]:
    """Seconds to parse, build the spec and the graph and serialize it; the proto's bytes."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.pipelines.cli import build_parser, build_spec
    from jawebcorpus.pipelines.run import build_pipeline

    t0 = time.perf_counter()
    args, extra = build_parser().parse_known_args(argv)
    spec = build_spec(args, ["jawebcorpus", *argv])
    p = build_pipeline(spec, PipelineOptions(extra))
    proto = p.to_runner_api()
    size = len(proto.SerializeToString())
    return time.perf_counter() - t0, size, len(proto.components.transforms)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--files", type=int, nargs="+", default=[1, 90_000], help="numbers of input files")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    freeze_if_asked(args)
    tmp = tempfile.mkdtemp(prefix="bench-graph-")
    out = os.path.join(tmp, "out")
    rows, results = [], []
    for n in args.files:
        listed = urls(n)
        list_file = os.path.join(tmp, f"list-{n}.txt")
        with open(list_file, "w", encoding="utf-8") as fh:
            fh.write("\n".join(listed) + "\n")
        variants = {
            "--input": ["run", "--input", *listed, "--output", out, "--quiet", *REMOTE],
            "--input-list": ["run", "--input-list", list_file, "--output", out, "--quiet", *REMOTE],
        }
        times: dict[str, list[float]] = {k: [] for k in variants}
        sizes: dict[str, int] = {}
        transforms: dict[str, int] = {}
        for r in range(args.repeats):
            order = list(variants) if r % 2 == 0 else list(reversed(variants))  # alternate: load drifts
            for name in order:
                seconds, size, count = build(variants[name])
                times[name].append(seconds)
                sizes[name], transforms[name] = size, count
        for name, argv in variants.items():
            cmdline = sum(len(a.encode()) + 1 for a in ["jawebcorpus", *argv])
            med = statistics.median(times[name])
            rows.append([f"{n:,}", name, f"{med:.2f} [{min(times[name]):.2f}–{max(times[name]):.2f}]",
                         f"{sizes[name] / 1e6:.3f}", f"{transforms[name]:,}", f"{cmdline / 1024:,.1f}"])
            results.append({"files": n, "variant": name, "seconds": times[name], "median_s": med,
                            "graph_bytes": sizes[name], "transforms": transforms[name], "command_line_bytes": cmdline})
        print(table(["files", "named by", "build s (median [min–max])", "graph MB", "transforms", "command line KiB"],
                    rows[-2:]), flush=True)
    print()
    print(table(["files", "named by", "build s (median [min–max])", "graph MB", "transforms", "command line KiB"], rows))
    write_results(NAME, {"repeats": args.repeats, "results": results, "machine": machine_info()}, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
