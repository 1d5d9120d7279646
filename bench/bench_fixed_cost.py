#!/usr/bin/env python
"""Fixed cost of a default run: ``jawebcorpus run --sample --output OUT`` (the bundled sample,
32 captures), CPU time = user + system of the command and of every child it waited for (the
extraction child included), wall time too; median [min–max] over repeats.

With ``--baseline PYTHON`` (another installation's interpreter, e.g. a virtualenv of the main
branch) both run side by side in every repeat, order alternating, and the ratio is taken per
repeat.  ``--args`` runs another command line instead of the default one (e.g. ``--preset
swallow-v1``); ``--also-args`` adds this installation with more arguments as a third variant.  ``--importtime`` also prints the largest cumulative imports of one run
(``python -X importtime``).

    python bench/bench_fixed_cost.py [--repeats 7] [--baseline PY] [--args="--preset swallow-v1"]
                                     [--also-args="--set extract.mode=swallow"]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

from _common import add_common_args, fmt_range, summary, table, write_results

NAME = "bench_fixed_cost"


def run_once(python: str, extra: list[str], workdir: str) -> dict:
    out = tempfile.mkdtemp(prefix="out-", dir=workdir)
    shutil.rmtree(out)
    cmd = [python, "-m", "jawebcorpus", "run", "--sample", "--quiet", "--output", out, *extra]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed (rc {proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    return {"cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
            "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime, "wall_s": wall}


def importtime(python: str, extra: list[str], workdir: str, top: int = 25) -> list[tuple[float, str]]:
    out = os.path.join(workdir, "out-importtime")
    cmd = [python, "-X", "importtime", "-m", "jawebcorpus", "run", "--sample", "--quiet", "--output", out, *extra]
    err = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=workdir).stderr.decode()
    shutil.rmtree(out, ignore_errors=True)
    rows = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(3)) <= 3:  # top-level imports only (two levels of nesting at most)
            rows.append((int(m.group(2)) / 1e6, m.group(3) + m.group(4)))
    return sorted(rows, reverse=True)[:top]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats (default 7)")
    ap.add_argument("--baseline", metavar="PYTHON", help="another installation's python, run side by side")
    ap.add_argument("--args", default="", help="extra arguments for jawebcorpus run (one shell-quoted string)")
    ap.add_argument("--also-args", default=None,
                    help="run this installation a second time with these extra arguments too (side by side)")
    ap.add_argument("--importtime", action="store_true", help="print the largest imports of one run")
    args = ap.parse_args()
    extra = shlex.split(args.args)
    variants = {"this": (sys.executable, extra)}
    if args.baseline:
        variants["baseline"] = (args.baseline, extra)
    if args.also_args is not None:
        variants["this " + args.also_args] = (sys.executable, extra + shlex.split(args.also_args))
    workdir = tempfile.mkdtemp(prefix="bench-fixed-")  # not the repository: the child must import the installed package
    try:
        for python, argv in variants.values():  # warm the page cache and the bytecode caches
            run_once(python, argv, workdir)
        runs: dict[str, list[dict]] = {k: [] for k in variants}
        order = list(variants)
        for i in range(args.repeats):
            for name in (order if i % 2 == 0 else order[::-1]):
                runs[name].append(run_once(*variants[name], workdir))
            print(f"repeat {i + 1}: " + ", ".join(f"{k} {v[-1]['cpu_s']:.2f} s CPU" for k, v in runs.items()),
                  file=sys.stderr)
        result = {"args": extra, "repeats": args.repeats, "variants": {k: [p, *a] for k, (p, a) in variants.items()}, "runs": runs,
                  "cpu_s": {k: summary([r["cpu_s"] for r in v]) for k, v in runs.items()},
                  "wall_s": {k: summary([r["wall_s"] for r in v]) for k, v in runs.items()}}
        rows = [[k, fmt_range(result["cpu_s"][k], 2), fmt_range(summary([r["user_s"] for r in runs[k]]), 2),
                 fmt_range(summary([r["sys_s"] for r in runs[k]]), 2), fmt_range(result["wall_s"][k], 2)]
                for k in variants]
        print(table(["variant", "CPU s (user+sys, children incl.)", "user s", "sys s", "wall s"], rows))
        for name in variants:
            if name != "this":
                ratios = [a["cpu_s"] / b["cpu_s"] for a, b in zip(runs[name], runs["this"])]
                result.setdefault("ratio_to_this", {})[name] = summary(ratios)
                print(f"{name} / this, CPU (paired per repeat): {fmt_range(summary(ratios), 2)}")
        if args.importtime:
            result["importtime"] = importtime(sys.executable, extra, workdir)
            print(table(["cumulative s", "module"], [[f"{s:.3f}", m] for s, m in result["importtime"]]))
        print("wrote", write_results(NAME, result, args.out))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
