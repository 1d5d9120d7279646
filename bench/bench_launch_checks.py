#!/usr/bin/env python
"""What the launcher's checks of options, settings and assets cost (issue 16), next to a run.

Each check runs once per run, on the launching machine, before the pipeline starts: the
fastText model walked, loaded and asked for a test prediction (the default lid.176.ftz, and
``--langid-model`` when given), the unknown-option check, the configuration's ranges, and the
footers of every part of a band index (here one of ``--index-parts`` parts written in code).
CPU seconds of the process (all its threads), median of ``--repeats``: on a machine shared with
other work, wall time would measure the others too.  With ``--input DIR`` the script also runs ``jawebcorpus run``
over DIR once and reports the checks as a share of that run's CPU time (the process and its
children: Beam's workers, the extraction children).

    python bench/bench_launch_checks.py [--repeats 9] [--input ../shared/crawl] [--langid-model lid.176.bin]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import table, write_results

NAME = "bench_launch_checks"


def _median(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def _index(root: str, parts: int) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from jawebcorpus.dedup.cluster import KeepPolicy
    from jawebcorpus.dedup.minhash import SignatureSpec
    from jawebcorpus.pipelines.dedup_index import index_schema

    schema = index_schema(SignatureSpec(), KeepPolicy("longer"))
    rows = 100_000
    for i in range(parts):
        table = pa.table({"band_key": pa.array(range(i * rows, (i + 1) * rows), pa.int64()),
                          "band": pa.array([j % 40 for j in range(rows)], pa.uint16()),
                          "doc_id": pa.array([b"%016d" % j for j in range(rows)], pa.binary()),
                          "snapshot": pa.array(["CC-MAIN-2024-10"] * rows, pa.string())}, schema=schema)
        pq.write_table(table, os.path.join(root, f"part-{i:05d}.parquet"), row_group_size=65536)
    return root


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--index-parts", type=int, default=16)
    ap.add_argument("--langid-model", help="another fastText model to check (e.g. lid.176.bin)")
    ap.add_argument("--input", help="run jawebcorpus over this input once and compare")
    args = ap.parse_args()

    from jawebcorpus.dedup.minhash import SignatureSpec
    from jawebcorpus.filters.fasttext_check import check_model
    from jawebcorpus.filters.langid import default_model_path
    from jawebcorpus.pipelines.checks import check_assets, unknown_options
    from jawebcorpus.pipelines.config import get_preset
    from jawebcorpus.pipelines.dedup_index import check_index_spec

    cfg = get_preset("default")
    beam_line = ["--runner=DirectRunner", "--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-checks-") as tmp:
        index = _index(tmp, args.index_parts)
        cases = [
            ("configuration ranges (default preset)", lambda: cfg.validate()),
            ("unknown-option check (3 Beam options)", lambda: unknown_options(beam_line, ["--output"])),
            ("assets of the default preset (lid.176.ftz walk + load + test prediction)", lambda: check_assets(cfg)),
            ("lid.176.ftz walk only", lambda: check_model.__globals__["_walk"](default_model_path(), "m")),
            (f"band index, footers of {args.index_parts} parts of 100,000 rows",
             lambda: check_index_spec(index, SignatureSpec())),
        ]
        if args.langid_model:
            cases.append((f"--langid-model {os.path.basename(args.langid_model)} "
                          f"({os.path.getsize(args.langid_model) / 1e6:.0f} MB)",
                          lambda: check_model(args.langid_model, "m", "__label__ja")))
        for name, fn in cases:
            fn()  # imports and caches warm, as on a launcher that has imported the pipeline
            rows.append({"check": name, "seconds": round(_median(fn, args.repeats), 4)})
        per_run = sum(r["seconds"] for r in rows[:3])
        result = {"checks": rows, "launcher_seconds_default_run": round(per_run, 4)}
        if args.input:
            out = os.path.join(tmp, "out")
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            exe = shutil.which("jawebcorpus", path=os.path.dirname(sys.executable)) or "jawebcorpus"
            subprocess.run([exe, "run", "--input", args.input, "--output", out, "--quiet"], check=True)
            wall = time.perf_counter() - t0
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            result.update(run_cpu_seconds=round(cpu, 2), run_wall_seconds=round(wall, 2),
                          checks_share_of_run_cpu=round(per_run / cpu, 5))
    print(table(["check", "seconds"], [[r["check"], r["seconds"]] for r in rows]))
    for k, v in result.items():
        if k != "checks":
            print(f"{k}: {v}")
    write_results(NAME, result)


if __name__ == "__main__":
    main()
