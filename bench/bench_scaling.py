#!/usr/bin/env python
"""Core-seconds per WARC file for the whole pipeline, scaled to real Common Crawl files, and the
speed-up of two local worker processes over one.

Every run is ``jawebcorpus run --input DIR --output TMP --quiet --overwrite [...]`` as a
subprocess (default runner, in-process FnApiRunner).  Its CPU time is the delta of
``resource.getrusage(RUSAGE_CHILDREN)`` around it (user + system of the run and of every
descendant it waited for: the extraction child, the worker processes), cross-checked by psutil
sampling of the process tree every 50 ms.  Variants, run side by side, order reversed every
other repeat, median of ``--repeats`` (3):

``full_x1``      the whole pipeline (read … clean, write) on ``../shared/crawl`` (4 files)
``full_xK``      the same on K symlinked copies of those files (4·K files, distinct names)
``detect_x1/xK`` ``--until detect``: reading and rapid detection of every capture, nothing after
``w2_x1/xK``     ``full`` with ``--direct_num_workers=2 --direct_running_mode=multi_processing``

From the two input sizes: the fixed cost of a run (interpreter, imports, Beam graph, model load,
extraction child start) and the marginal cost per capture; from ``detect``: which part of the
marginal cost every capture pays (read, detect) and which part only the pages that go on pay
(decode, extract, langid, quality … write, ≈ proportional to the Japanese share).  A real file
(≈ 39,000 captures, ≈ 1.1 GB) is then ``39,000 × (per-capture part + downstream part × 4.7 % /
Japanese share here)``.  Wall-time speed-up of 2 workers over 1: paired per repeat.

    python bench/bench_scaling.py [--shared ../shared] [--repeats 3] [--copies 4] [--preset swallow-v1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

from _common import add_common_args, crawl_files, fmt, fmt_range, summary, table, wait_for_quiet, write_results

NAME = "bench_scaling"

# -- scale facts (../shared/docs/anchors.md, swallow-reference.md) --------------------------------
REAL_CAPTURES_PER_FILE = 39_000  # ≈ 39,000 captures (one CC-MAIN-2023-23 file: 39,135)
REAL_BYTES_PER_FILE = 1.1e9  # ≈ 1.1 GB compressed
REAL_JA_SHARE = 0.047  # Japanese share of CC pages (CC's CLD2 statistics, 21 snapshots)
FILES_PER_SNAPSHOT = 90_000
SWALLOW_PAGES = 63_352_266_406  # the 21 snapshots' official page counts
SWALLOW_FILES = round(SWALLOW_PAGES / REAL_CAPTURES_PER_FILE)  # ≈ 1.62 M files (≈ 77 k per snapshot)

#: $/vCPU-hour.  ASSUMPTIONS (list prices as remembered, not checked against today's price lists).
PRICES = {
    "general-purpose VM, on-demand (e.g. AWS m6i / GCP n2-standard, ≈ $0.19/h for 4 vCPU)": 0.048,
    "general-purpose VM, spot / preemptible (≈ 70 % off)": 0.015,
    "Dataflow batch worker (vCPU $0.056 + 4 GB × $0.0036 memory)": 0.070,
}

#: What the anchors report (../shared/docs/anchors.md).
ANCHORS = {
    "NeMo Curator: one snapshot downloaded + extracted (30 CPU nodes × 36 h)": 100_000,
    "C4: one English dump (≈ 341 CPU-days)": 341 * 24,
}


def jawebcorpus_cmd() -> list[str]:
    exe = shutil.which("jawebcorpus")
    return [exe] if exe else [sys.executable, "-m", "jawebcorpus"]


def replicate(files: list[str], crawl: str, copies: int, dest: str) -> str:
    """``copies`` symlinked copies of every WARC file under ``dest`` with distinct names."""
    for f in files:
        rel = os.path.relpath(f, crawl)
        d, name = os.path.split(rel)
        stem = name[: -len(".warc.gz")]
        os.makedirs(os.path.join(dest, d), exist_ok=True)
        for k in range(copies):
            os.symlink(f, os.path.join(dest, d, f"{stem}-c{k}.warc.gz"))
    return dest


def run_once(input_dir: str, extra: list[str], workdir: str, tag: str, poll_s: float = 0.05) -> dict:
    out_dir = os.path.join(workdir, f"out-{tag}")
    cmd = [*jawebcorpus_cmd(), "run", "--input", input_dir, "--output", out_dir, "--quiet", "--overwrite", *extra]
    load = [round(x, 2) for x in os.getloadavg()]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(os.path.join(workdir, f"{tag}.stderr"), "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    ps = psutil.Process(proc.pid)
    last_cpu: dict[int, float] = {}
    nprocs = 0
    while proc.poll() is None:
        try:
            procs = [ps, *ps.children(recursive=True)]
        except psutil.Error:
            procs = []
        for p in procs:
            try:
                t = p.cpu_times()
                last_cpu[p.pid] = t.user + t.system  # own time only (children_* would count twice)
            except psutil.Error:
                pass
        nprocs = max(nprocs, len(procs))
        time.sleep(poll_s)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        with open(os.path.join(workdir, f"{tag}.stderr"), encoding="utf-8", errors="replace") as fh:
            sys.stderr.write(fh.read()[-4000:])
        raise RuntimeError(f"run failed (exit {proc.returncode}): {' '.join(cmd)}")
    with open(os.path.join(out_dir, "stats", "stages.json"), encoding="utf-8") as fh:
        rows = json.load(fh)
    from jawebcorpus.corpus.stats import read_file_records

    files = read_file_records(os.path.join(out_dir, "stats"))
    shutil.rmtree(out_dir, ignore_errors=True)

    def docs(stage, outcome):
        return sum(r["docs"] for r in rows if r["stage"] == stage and r["outcome"] == outcome)

    return {
        "wall_s": wall,
        "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),
        "user_s": r1.ru_utime - r0.ru_utime,
        "sys_s": r1.ru_stime - r0.ru_stime,
        "psutil_cpu_s": sum(last_cpu.values()),
        "max_processes": nprocs,
        "loadavg_before": load,
        "files": len(files),
        "failed_files": sum(f["status"] != "ok" for f in files),
        "captures": sum(f.get("responses", 0) for f in files),
        "pages": docs("read", "kept"),
        "detect_kept": docs("detect", "kept"),
        "japanese": docs("langid", "kept"),
        "written": docs("write", "kept"),
    }


def paired(a: list[dict], b: list[dict], fn) -> dict:
    return summary([fn(x, y) for x, y in zip(a, b)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats of each variant (default 3)")
    ap.add_argument("--copies", type=int, default=4, help="K: copies of the crawl for the larger input (default 4)")
    ap.add_argument("--max-busy", type=float, default=0.5,
                    help="before each repeat, wait until the CPUs are at most this busy (default 0.5)")
    ap.add_argument("--wait", type=float, default=60.0, help="... for at most this many seconds (default 60)")
    ap.add_argument("--skip", default="", help="comma-separated variants to skip (full,detect,w2)")
    ap.add_argument("--preset", default=None, help="run every variant with --preset NAME (default: the default preset)")
    args = ap.parse_args()
    if args.repeats < 1 or args.copies < 2:
        ap.error("--repeats >= 1 and --copies >= 2")
    shared = os.path.abspath(args.shared)
    files = crawl_files(shared)
    crawl = os.path.join(shared, "crawl")
    workdir = tempfile.mkdtemp(prefix="jawebcorpus-scaling-")
    big = replicate(files, crawl, args.copies, os.path.join(workdir, f"crawl-x{args.copies}"))
    k = args.copies
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    w2 = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    variants = {
        "full_x1": (crawl, []), f"full_x{k}": (big, []),
        "w2_x1": (crawl, w2), f"w2_x{k}": (big, w2),
        "detect_x1": (crawl, ["--until", "detect"]), f"detect_x{k}": (big, ["--until", "detect"]),
    }
    variants = {n: v for n, v in variants.items() if n.split("_")[0] not in skip}
    if args.preset:
        variants = {n: (inp, [*extra, "--preset", args.preset]) for n, (inp, extra) in variants.items()}
    size = sum(map(os.path.getsize, files))
    print(f"crawl: {crawl} ({len(files)} files, {size / 2**20:.1f} MiB); larger input: {k} copies ({len(files) * k} files)")
    print("warm-up (untimed): full_x1")
    run_once(crawl, ["--preset", args.preset] if args.preset else [], workdir, "warmup")

    raw: dict[str, list[dict]] = {n: [] for n in variants}
    order = list(variants)
    for rep in range(args.repeats):
        busy = wait_for_quiet(args.max_busy, args.wait)
        for name in (order if rep % 2 == 0 else order[::-1]):
            inp, extra = variants[name]
            res = run_once(inp, extra, workdir, f"{name}-{rep}")
            res.update(repeat=rep, busy_before_repeat=busy)
            raw[name].append(res)
            print(f"  repeat {rep} {name:10s} wall {res['wall_s']:6.1f} s  cpu {res['cpu_s']:6.1f} s "
                  f"(psutil {res['psutil_cpu_s']:5.1f})  load {res['loadavg_before'][0]:.2f}")
    shutil.rmtree(workdir, ignore_errors=True)

    d: dict = {}
    for name, runs in raw.items():
        d[name] = {m: summary([r[m] for r in runs]) for m in ("wall_s", "cpu_s", "psutil_cpu_s")}
        d[name]["captures"] = runs[0]["captures"]
        d[name]["files"] = runs[0]["files"]
    x1, xk = raw["full_x1"], raw[f"full_x{k}"]
    cap1, capk = x1[0]["captures"], xk[0]["captures"]
    ja_share = x1[0]["japanese"] / cap1
    detect_share = x1[0]["detect_kept"] / cap1
    derived = {
        "captures_x1": cap1, "captures_xk": capk, "files_x1": x1[0]["files"],
        "compressed_bytes_per_capture_here": size / cap1,
        "compressed_bytes_per_capture_real": REAL_BYTES_PER_FILE / REAL_CAPTURES_PER_FILE,
        "japanese_share_here": ja_share, "detect_pass_share_here": detect_share,
        "naive_core_s_per_capture": summary([r["cpu_s"] / r["captures"] for r in x1]),
        "naive_core_s_per_file_here": summary([r["cpu_s"] / r["files"] for r in x1]),
        "marginal_core_s_per_capture": paired(x1, xk, lambda a, b: (b["cpu_s"] - a["cpu_s"]) / (capk - cap1)),
        "fixed_core_s_per_run": paired(x1, xk, lambda a, b: a["cpu_s"] - cap1 * (b["cpu_s"] - a["cpu_s"]) / (capk - cap1)),
    }
    slope = derived["marginal_core_s_per_capture"]["median"]
    per_capture_part = None
    if f"detect_x{k}" in raw:
        dslope = paired(raw["detect_x1"], raw[f"detect_x{k}"],
                        lambda a, b: (b["cpu_s"] - a["cpu_s"]) / (capk - cap1))
        derived["marginal_core_s_per_capture_until_detect"] = dslope
        per_capture_part = dslope["median"]
    down = slope - per_capture_part if per_capture_part is not None else None
    derived["downstream_core_s_per_capture"] = down
    derived["downstream_core_s_per_japanese_doc"] = down / ja_share if down is not None else None
    # real file: every capture pays read+detect; the rest scales with the Japanese share
    per_file = {
        "linear_in_captures": slope * REAL_CAPTURES_PER_FILE,
        "japanese_share_adjusted": (per_capture_part + down * REAL_JA_SHARE / ja_share) * REAL_CAPTURES_PER_FILE
        if down is not None else None,
        "naive_including_fixed_cost": derived["naive_core_s_per_capture"]["median"] * REAL_CAPTURES_PER_FILE,
    }
    derived["real_file_core_s"] = per_file
    # the fixed cost is paid once per worker process, not per file: the range is adjusted … linear
    best = per_file["japanese_share_adjusted"] or per_file["linear_in_captures"]
    hi = max(per_file["linear_in_captures"], best)
    estimates = {}
    for label, nfiles in (("one snapshot (90,000 files)", FILES_PER_SNAPSHOT),
                          (f"Swallow's 21 snapshots ({SWALLOW_FILES:,} files = 63.4 B pages / 39,000)", SWALLOW_FILES)):
        ch, ch_hi = best * nfiles / 3600, hi * nfiles / 3600
        estimates[label] = {"files": nfiles, "core_hours": ch, "core_hours_high": ch_hi,
                            "cost_usd": {p: ch * v for p, v in PRICES.items()},
                            "cost_usd_high": {p: ch_hi * v for p, v in PRICES.items()}}
    derived["estimates"] = estimates
    if f"w2_x{k}" in raw:
        derived["speedup_2_workers_x1"] = paired(x1, raw["w2_x1"], lambda a, b: a["wall_s"] / b["wall_s"])
        derived[f"speedup_2_workers_x{k}"] = paired(xk, raw[f"w2_x{k}"], lambda a, b: a["wall_s"] / b["wall_s"])
        derived["cpu_ratio_2_workers_x1"] = paired(x1, raw["w2_x1"], lambda a, b: b["cpu_s"] / a["cpu_s"])
        derived[f"cpu_ratio_2_workers_x{k}"] = paired(xk, raw[f"w2_x{k}"], lambda a, b: b["cpu_s"] / a["cpu_s"])
    loads = [r["loadavg_before"][0] for runs in raw.values() for r in runs]
    derived["loadavg_1min_before_runs"] = summary(loads)

    # -- report ----------------------------------------------------------------------------------
    rows = [[n, v["files"], v["captures"], fmt_range(v["wall_s"]), fmt_range(v["cpu_s"]), fmt_range(v["psutil_cpu_s"])]
            for n, v in d.items() if n in raw]
    print()
    print(table(["variant", "files", "captures", "wall s", "CPU s (rusage)", "CPU s (psutil)"], rows, "lrrrrr"))
    print()
    print(f"Japanese share here {100 * ja_share:.1f} % of captures (detect passes {100 * detect_share:.1f} %); "
          f"real CC {100 * REAL_JA_SHARE:.1f} %")
    print(f"fixed cost per run {fmt_range(derived['fixed_core_s_per_run'], 2)} core-s; marginal "
          f"{fmt_range(derived['marginal_core_s_per_capture'], 2, 1000)} core-ms per capture"
          + (f", of which read+detect {1000 * per_capture_part:.2f}" if per_capture_part is not None else ""))
    print("real file (39,000 captures): " + ", ".join(f"{k_}: {fmt(v, 0)} core-s" for k_, v in per_file.items() if v))
    for label, e in estimates.items():
        print(f"{label}: {fmt(e['core_hours'], 0)} core-hours (up to {fmt(e['core_hours_high'], 0)})")
        for p, c in e["cost_usd"].items():
            print(f"    ${c:,.0f} (up to ${e['cost_usd_high'][p]:,.0f})  at ${PRICES[p]}/vCPU-h  {p}")
    for a, v in ANCHORS.items():
        print(f"anchor: {a}: {v:,} CPU-hours")
    if f"w2_x{k}" in raw:
        print(f"speed-up, 2 workers over 1 (wall): x1 {fmt_range(derived['speedup_2_workers_x1'], 2)}, "
              f"x{k} {fmt_range(derived[f'speedup_2_workers_x{k}'], 2)}")
    print(f"load average (1 min) before runs: {fmt_range(derived['loadavg_1min_before_runs'], 2)}")

    path = write_results(NAME, {
        "params": {"shared": shared, "repeats": args.repeats, "copies": k, "preset": args.preset or "default", "files": [os.path.relpath(f, shared) for f in files],
                   "cmd": jawebcorpus_cmd(), "real_captures_per_file": REAL_CAPTURES_PER_FILE,
                   "real_bytes_per_file": REAL_BYTES_PER_FILE, "real_japanese_share": REAL_JA_SHARE,
                   "files_per_snapshot": FILES_PER_SNAPSHOT, "swallow_files": SWALLOW_FILES,
                   "prices_usd_per_vcpu_hour_ASSUMED": PRICES, "anchors_cpu_hours": ANCHORS},
        "summary": d, "derived": derived, "raw": raw,
    }, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
