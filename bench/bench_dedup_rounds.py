"""Label propagation before and after issue 17 (frontier rounds, exact finish) on the shared crawl:
the rounds that change labels, the grouping steps that carry data, and the elements and bytes
going into them — side by side, in one run.

    python bench/bench_dedup_rounds.py --before b809f27     # bench/results/bench_dedup_rounds.json

The documents are those of ``../shared/crawl`` after ``clean`` (the pipeline's checkpoint parts:
one ``jawebcorpus run`` with the current code first), deduplicated as the pipeline does
(``carry_text=False``) with the stage's *distributed* graph — the one a cluster runs, not the
one-step shortcut of the local runner with one worker — on the local runner
(``multi_processing``, one SDK worker).  Every grouping step's input is counted
(:func:`bench_scale.instrument_groupings`: elements and approximate encoded bytes, before any
combiner lifting).  ``--before COMMIT`` runs the stage as it was at that commit (``git archive``)
next to the current one, the order alternating per repeat; survivors and statistics must agree.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, check_shared, code_at, table, write_results  # noqa: E402


def run_one(parts_dir: str, max_rounds: int) -> dict:
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.pipelines.config import get_preset
    from jawebcorpus.pipelines.dedup import Dedup
    from jawebcorpus.pipelines.output import read_part
    from jawebcorpus.pipelines.run import local_runner

    from bench_scale import grouping_summary, instrument_groupings

    cfg = get_preset("default")
    docs = [d for path in sorted(glob.glob(os.path.join(parts_dir, "**", "*.parquet"), recursive=True))
            for d in read_part(path)]
    opts = PipelineOptions(["--direct_running_mode=multi_processing", "--direct_num_workers=1"])
    p = beam.Pipeline(runner=local_runner(opts), options=opts)
    res = p | "docs" >> beam.Create(docs, reshuffle=False) | "dedup" >> Dedup(
        dataclasses.replace(cfg.dedup, max_rounds=max_rounds), carry_text=False, index_tag="bench")
    out = tempfile.mkdtemp(prefix="jawebcorpus-bench-rounds-")
    _ = (res.docs | "kept" >> beam.Map(lambda d: f"{d.snapshot}|{d.url}|{d.cluster_size}|{d.cluster_id}")
         | "write_kept" >> beam.io.WriteToText(os.path.join(out, "kept")))
    _ = (res.stats | "stats" >> beam.CombinePerKey(lambda vs: tuple(map(sum, zip(*vs))))
         | "stats_str" >> beam.Map(lambda kv: json.dumps([list(kv[0]), list(kv[1])]))
         | "write_stats" >> beam.io.WriteToText(os.path.join(out, "stats")))
    steps = instrument_groupings(p)
    t0 = time.perf_counter()
    result = p.run()
    result.wait_until_finish()
    seconds = time.perf_counter() - t0
    groupings: dict = {k: {} for k in steps}
    for c in result.metrics().query(MetricsFilter().with_namespace("grouping"))["counters"]:
        label, what = c.key.metric.name.rsplit("|", 1)
        groupings.setdefault(label, {})[what] = c.committed if c.committed is not None else c.attempted
    counters = {c.key.metric.name: c.committed if c.committed is not None else c.attempted
                for c in result.metrics().query(MetricsFilter().with_namespace("dedup"))["counters"]
                if c.key.metric.name.startswith(("labels_changed.", "not_converged"))}

    def lines(prefix):
        return sorted(x for f in glob.glob(os.path.join(out, prefix + "*")) for x in open(f).read().splitlines())

    return {"docs": len(docs), "kept": lines("kept"), "stats": lines("stats"), "seconds": seconds,
            "groupings": groupings, "grouping_totals": grouping_summary(groupings), "dedup_counters": counters}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--before", metavar="COMMIT", help="also run the stage as it was at COMMIT")
    ap.add_argument("--max-rounds", type=int, default=10, help="dedup.max_rounds (default 10, the default setting)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--name", default="bench_dedup_rounds")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        print("RESULT " + json.dumps(run_one(args.one, args.max_rounds)))
        return
    crawl = check_shared(args.shared, "crawl")
    work = tempfile.mkdtemp(prefix="jawebcorpus-bench-rounds-")
    subprocess.run([sys.executable, "-m", "jawebcorpus", "run", "--input", crawl, "--output", work, "--quiet"],
                   check=True)
    parts = glob.glob(os.path.join(work, "_checkpoints", "*", "parts"))
    assert len(parts) == 1, parts
    here = os.path.dirname(os.path.abspath(__file__))  # the SDK worker imports bench_scale's counting DoFn
    variants = {"after": dict(os.environ, PYTHONPATH=here)}
    if args.before:
        variants["before"] = dict(os.environ, PYTHONPATH=os.pathsep.join([code_at(args.before), here]))
    runs: dict = {v: [] for v in variants}
    for i in range(args.repeats):
        for variant in (list(variants) if i % 2 == 0 else list(variants)[::-1]):
            cp = subprocess.run([sys.executable, __file__, "--one", parts[0], "--max-rounds", str(args.max_rounds)],
                                capture_output=True, text=True, env=variants[variant])
            got = [x for x in cp.stdout.splitlines() if x.startswith("RESULT ")]
            if cp.returncode or not got:
                sys.exit(cp.stderr[-4000:])
            runs[variant].append(json.loads(got[-1][len("RESULT "):]))
            print(f"repeat {i + 1}, {variant}: {runs[variant][-1]['seconds']:.1f} s", flush=True)
    rows, summary = [], {}
    for variant, rs in runs.items():
        r = rs[0]
        assert all(x["groupings"] == r["groupings"] and x["kept"] == r["kept"] for x in rs), "runs differ"
        c, t, comp = r["dedup_counters"], r["grouping_totals"]["all"], r["grouping_totals"]["components"]
        changed = sorted(k for k in c if k.startswith("labels_changed.round_") and c[k])
        summary[variant] = {"docs": r["docs"], "kept": len(r["kept"]), "rounds_that_changed_labels": changed,
                            "not_converged": c.get("not_converged", 0),
                            "exact_finish": c.get("labels_changed.exact_finish", 0),
                            "grouping_totals": r["grouping_totals"],
                            "seconds_median": statistics.median(x["seconds"] for x in rs),
                            "seconds": [x["seconds"] for x in rs]}
        rows.append([variant, r["docs"], len(r["kept"]), ", ".join(k[-2:] for k in changed) or "none",
                     f"{comp['steps']} ({comp['steps_with_data']})", f"{comp['elements']:,}",
                     f"{comp['bytes']:,}", f"{t['steps']} ({t['steps_with_data']})", f"{t['elements']:,}",
                     f"{t['bytes']:,}", f"{summary[variant]['seconds_median']:.1f}"])
    print(table(["code", "documents", "kept", "rounds that changed labels", "label-propagation groupings (with data)",
                 "their elements", "their bytes", "all groupings (with data)", "elements", "bytes",
                 f"seconds (median of {args.repeats})"], rows))
    if args.before:
        a, b = runs["after"][0], runs["before"][0]
        same = a["kept"] == b["kept"] and a["stats"] == b["stats"]
        print("survivors, cluster sizes and ids, statistics: " + ("identical" if same else "DIFFERENT"))
        summary["identical_survivors_and_statistics"] = same
    path = write_results(args.name, {"input": "../shared/crawl after clean", "max_rounds": args.max_rounds,
                                     "before": args.before, "runner": "FnApiRunner multi_processing, 1 worker",
                                     "graph": "distributed (spread)", "summary": summary,
                                     "groupings": {v: rs[0]["groupings"] for v, rs in runs.items()}}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
