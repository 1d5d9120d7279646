#!/usr/bin/env python
"""Throughput on the test crawl: bare WARC reading vs our stages vs the real Beam pipeline.

Variants, run side by side in one process, order alternated every repeat (forward, reverse):

(a) ``warcio``        bare warcio loop: ``ArchiveIterator`` + ``rec.content_stream().read()``
(b) ``reader``        our reader ``jawebcorpus.corpus.warc.iter_records``, every record's block
(c) ``stages``        plain Python loop read_pages → the detect, decode, extract and langid stage
                      objects (``Extractor(isolation="process")``); model load and extractor start-up are outside the timer
(s) ``sample``        ``jawebcorpus run --sample --until langid`` (the pipeline's fixed cost:
                      interpreter, imports, Beam graph, model load, extractor start, on the 32-capture sample)
(d) ``pipeline``      ``jawebcorpus run --input CRAWL --until langid --quiet --overwrite``,
                      default runner, 1 worker, as a subprocess
(e) ``pipeline_fast`` (d) with ``--set extract.fast=true``

Captures = WARC ``response`` records (1,616 in ../shared/crawl).  Rates: captures per wall
second and per CPU second (user + system of the process and of every child it waited for,
i.e. ``RUSAGE_CHILDREN`` deltas measured around the pipeline in a tiny wrapper process; for
(c) the loop's own process time plus the extractor child's, read with psutil).  Ratios to (a)
are taken per repeat (paired), then the median over repeats is reported with min–max.
Peak memory of a pipeline run: ``ru_maxrss`` of its process tree (largest single process),
and the largest sum of RSS over the tree seen by psutil polling every 50 ms.

    python bench/bench_throughput.py [--shared ../shared] [--repeats 5]
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

from _common import (add_common_args, crawl_files, fmt_range, freeze_if_asked, summary, table,
                     wait_for_quiet, write_results)

NAME = "bench_throughput"

WRAPPER = r"""
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
with open(out + ".stderr", "wb") as err:
    rc = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=err)
wall = time.perf_counter() - t0
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as fh:
    json.dump({"rc": rc, "wall_s": wall,
               "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime,
               "maxrss_kib": r1.ru_maxrss}, fh)
sys.exit(rc)
"""


# -- (a) and (b) -------------------------------------------------------------------------------
def run_warcio(files: list[str]) -> dict:
    from warcio.archiveiterator import ArchiveIterator

    records = captures = nbytes = 0
    for path in files:
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f):
                records += 1
                nbytes += len(rec.content_stream().read())
                if rec.rec_type == "response":
                    captures += 1
    return {"records": records, "captures": captures, "content_bytes": nbytes}


def run_reader(files: list[str]) -> dict:
    from jawebcorpus.corpus.warc import iter_records

    records = captures = nbytes = 0
    for path in files:
        with open(path, "rb") as f:
            for rec in iter_records(f):
                records += 1
                nbytes += len(rec.block)
                if rec.rec_type == "response":
                    captures += 1
    return {"records": records, "captures": captures, "content_bytes": nbytes}


# -- (c) ---------------------------------------------------------------------------------------
class StageLoop:
    """The plain pure-Python stage loop; set up once (model, extractor child), run many times."""

    def __init__(self, shared: str):
        import dataclasses

        from _common import stage

        from jawebcorpus.corpus.inputs import resolve_paths
        from jawebcorpus.corpus.steps import DecodeStage, ExtractStage, ReadConfig
        from jawebcorpus.filters.jadetect import DetectStage
        from jawebcorpus.filters.langid import LangIdStage
        from jawebcorpus.pipelines.config import PipelineConfig

        t0 = time.perf_counter()
        self.inputs = resolve_paths([os.path.join(shared, "crawl")])
        self.read_cfg = ReadConfig()
        cfg = PipelineConfig()
        # as the bench always measured it: default trafilatura mode for every page
        plain = dataclasses.replace(cfg, extract=dataclasses.replace(cfg.extract, fast_above_chars=0))
        self.detect, self.decode, self.langid = stage(DetectStage, cfg), stage(DecodeStage, cfg), stage(LangIdStage, cfg)
        self.extract = stage(ExtractStage, plain)
        self.extractor = self.extract.extractor
        self.extractor.extract("<html><body><p>warm-up</p></body></html>")  # start the child
        self.setup_s = time.perf_counter() - t0

    def _child_cpu(self) -> float:
        proc = getattr(self.extractor, "_proc", None)  # private, bench only
        if proc is None or proc.poll() is not None:
            return 0.0
        try:
            t = psutil.Process(proc.pid).cpu_times()
            return t.user + t.system
        except psutil.Error:
            return 0.0

    def run(self) -> dict:
        from _common import apply

        from jawebcorpus.corpus.stage import Count
        from jawebcorpus.corpus.steps import FileReport, read_pages

        pc = time.perf_counter
        count = Count("read")
        t = {"read": 0.0, "detect": 0.0, "decode": 0.0, "extract": 0.0, "langid": 0.0}
        captures = pages = kept = 0
        per_doc: list[tuple[float, str]] = []
        restarts0 = self.extractor.restarts
        child0 = self._child_cpu()
        cpu0 = time.process_time()
        for inp in self.inputs:
            report = FileReport(inp.path, inp.rel, inp.snapshot)
            with open(inp.path, "rb") as f:
                it = read_pages(f, inp, self.read_cfg, count, report)
                while True:
                    t0 = pc()
                    doc = next(it, None)
                    t1 = pc()
                    t["read"] += t1 - t0
                    if doc is None:
                        break
                    pages += 1
                    doc = apply(self.detect, doc)
                    t2 = pc()
                    t["detect"] += t2 - t1
                    if doc is None:
                        continue
                    doc = apply(self.decode, doc)
                    t3 = pc()
                    t["decode"] += t3 - t2
                    if doc is None:
                        continue
                    url = doc.url
                    doc = apply(self.extract, doc)
                    t4 = pc()
                    t["extract"] += t4 - t3
                    per_doc.append((t4 - t3, url))
                    if doc is None:
                        continue
                    doc = apply(self.langid, doc)
                    t["langid"] += pc() - t4
                    if doc is not None:
                        kept += 1
            captures += report.responses
        self_cpu = time.process_time() - cpu0
        child_cpu = self._child_cpu() - child0
        if self.extractor.restarts != restarts0:
            child_cpu = float("nan")  # the child was replaced: its CPU time is unknown
        per_doc.sort(reverse=True)
        return {"captures": captures, "pages": pages, "japanese_docs": kept, "stage_wall_s": t,
                "extracted_docs": len(per_doc), "slowest_extractions": per_doc[:5],
                "cpu_self_s": self_cpu, "cpu_extract_child_s": child_cpu}

    def close(self) -> None:
        self.extractor.close()


# -- (d), (e) and the sample -------------------------------------------------------------------
def jawebcorpus_cmd() -> list[str]:
    exe = shutil.which("jawebcorpus")
    return [exe] if exe else [sys.executable, "-m", "jawebcorpus"]


def run_pipeline(args: list[str], workdir: str, tag: str, poll_s: float = 0.05) -> dict:
    """Run the CLI under the wrapper; returns wall/CPU/memory and the run's own statistics."""
    out_dir = os.path.join(workdir, f"out-{tag}")
    res_path = os.path.join(workdir, f"res-{tag}.json")
    cmd = [sys.executable, "-c", WRAPPER, res_path, *jawebcorpus_cmd(), "run", *args,
           "--output", out_dir, "--quiet", "--overwrite"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    ps = psutil.Process(proc.pid)
    peak_tree = peak_main = peak_child = 0
    last_cpu: dict[int, float] = {}
    nprocs = 0
    while proc.poll() is None:
        try:
            kids = ps.children(recursive=True)
        except psutil.Error:
            kids = []
        tree_rss = 0
        for k in kids:
            try:
                with k.oneshot():
                    rss = k.memory_info().rss
                    ct = k.cpu_times()
                    parent = k.ppid()
            except psutil.Error:
                continue
            tree_rss += rss
            last_cpu[k.pid] = ct.user + ct.system
            if parent == proc.pid:
                peak_main = max(peak_main, rss)
            else:
                peak_child = max(peak_child, rss)
        nprocs = max(nprocs, len(kids))
        peak_tree = max(peak_tree, tree_rss)
        time.sleep(poll_s)
    outer_wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        with open(res_path + ".stderr", encoding="utf-8", errors="replace") as fh:
            sys.stderr.write(fh.read()[-4000:])
        raise RuntimeError(f"pipeline run failed (exit {proc.returncode}): {' '.join(cmd[3:])}")
    with open(res_path, encoding="utf-8") as fh:
        inner = json.load(fh)
    with open(os.path.join(out_dir, "stats", "stages.json"), encoding="utf-8") as fh:
        rows = json.load(fh)
    from jawebcorpus.corpus.stats import read_file_records

    files = read_file_records(os.path.join(out_dir, "stats"))
    shutil.rmtree(out_dir, ignore_errors=True)
    return {
        "wall_s": inner["wall_s"],
        "cpu_s": inner["user_s"] + inner["sys_s"],
        "user_s": inner["user_s"], "sys_s": inner["sys_s"],
        "maxrss_mib": inner["maxrss_kib"] / 1024,  # largest single process of the run's tree
        "outer_wall_s": outer_wall,
        "outer_cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime),  # + the wrapper
        "psutil_cpu_s": sum(last_cpu.values()),  # last sample per process (misses the last 50 ms)
        "psutil_peak_tree_rss_mib": peak_tree / 2**20,
        "psutil_peak_main_rss_mib": peak_main / 2**20,
        "psutil_peak_child_rss_mib": peak_child / 2**20,
        "max_processes": nprocs,
        "captures": sum(f.get("responses", 0) for f in files),
        "written": sum(r["docs"] for r in rows if r["stage"] == "write" and r["outcome"] == "kept"),
    }


# -- driver ------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5, at least 3)")
    ap.add_argument("--max-busy", type=float, default=0.25,
                    help="before each repeat, wait until the CPUs are at most this busy (default 0.25)")
    ap.add_argument("--wait", type=float, default=90.0, help="... for at most this many seconds (default 90)")
    ap.add_argument("--skip", default="", help="comma-separated variants to skip (a,b,c,s,d,e)")
    args = ap.parse_args()
    freeze_if_asked(args)
    if args.repeats < 3:
        ap.error("--repeats must be at least 3")
    shared = os.path.abspath(args.shared)
    files = crawl_files(shared)
    crawl = os.path.join(shared, "crawl")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    workdir = tempfile.mkdtemp(prefix="jawebcorpus-bench-")

    print(f"crawl: {crawl} ({len(files)} files, {sum(map(os.path.getsize, files)) / 2**20:.1f} MiB)")
    print("setting up (c): language-ID model, extraction child …")
    loop = StageLoop(shared) if "c" not in skip else None

    def timed(fn):
        w0, c0 = time.perf_counter(), time.process_time()
        info = fn()
        return {**info, "wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}

    def v_c():
        w0 = time.perf_counter()
        info = loop.run()
        wall = time.perf_counter() - w0
        return {**info, "wall_s": wall, "cpu_s": info["cpu_self_s"] + info["cpu_extract_child_s"]}

    variants = {
        "a": ("warcio", lambda: timed(lambda: run_warcio(files))),
        "b": ("reader", lambda: timed(lambda: run_reader(files))),
        "c": ("stages", v_c),
        "s": ("sample", lambda: run_pipeline(["--sample", "--until", "langid"], workdir, "s")),
        "d": ("pipeline", lambda: run_pipeline(["--input", crawl, "--until", "langid"], workdir, "d")),
        "e": ("pipeline_fast", lambda: run_pipeline(["--input", crawl, "--until", "langid",
                                                     "--set", "extract.fast=true"], workdir, "e")),
    }
    order = [k for k in variants if k not in skip]
    print("warm-up (untimed): " + ", ".join(variants[k][0] for k in order))
    for k in order:
        variants[k][1]()

    raw: dict[str, list[dict]] = {variants[k][0]: [] for k in order}
    busy_before: list[float | None] = []
    for i in range(args.repeats):
        seq = order if i % 2 == 0 else order[::-1]
        busy_before.append(wait_for_quiet(args.max_busy, args.wait))
        for k in seq:
            name, fn = variants[k]
            r = fn()
            r["repeat"] = i
            r["busy_before_repeat"] = busy_before[-1]
            raw[name].append(r)
        line = "  ".join(f"{variants[k][0]} {raw[variants[k][0]][-1]['wall_s']:.2f}s" for k in order)
        b = busy_before[-1]
        print(f"repeat {i + 1}/{args.repeats} ({''.join(seq)}; other load before "
              f"{'?' if b is None else f'{100 * b:.0f} %'}): {line}", flush=True)
    if loop:
        loop.close()
    shutil.rmtree(workdir, ignore_errors=True)

    # -- derived numbers --
    ref = raw.get("warcio")
    captures = (ref or raw[variants[order[0]][0]])[0]["captures"]
    derived: dict[str, dict] = {}
    for name, runs in raw.items():
        if name == "sample":
            continue
        d: dict[str, dict] = {}
        d["wall_s"] = summary(r["wall_s"] for r in runs)
        d["cpu_s"] = summary(r["cpu_s"] for r in runs)
        d["captures_per_wall_s"] = summary(r["captures"] / r["wall_s"] for r in runs)
        d["captures_per_cpu_s"] = summary(r["captures"] / r["cpu_s"] for r in runs)
        if ref:
            d["ratio_wall_to_a"] = summary((r["captures"] / r["wall_s"]) / (a["captures"] / a["wall_s"])
                                           for r, a in zip(runs, ref))
            d["ratio_cpu_to_a"] = summary((r["captures"] / r["cpu_s"]) / (a["captures"] / a["cpu_s"])
                                          for r, a in zip(runs, ref))
        if name.startswith("pipeline") and "sample" in raw:
            sm = raw["sample"]
            net_wall = [r["wall_s"] - s["wall_s"] for r, s in zip(runs, sm)]
            net_cpu = [r["cpu_s"] - s["cpu_s"] for r, s in zip(runs, sm)]
            d["net_wall_s"] = summary(net_wall)
            d["net_cpu_s"] = summary(net_cpu)
            d["net_captures_per_wall_s"] = summary(r["captures"] / w for r, w in zip(runs, net_wall))
            d["net_captures_per_cpu_s"] = summary(r["captures"] / c for r, c in zip(runs, net_cpu))
            if ref:
                d["net_ratio_wall_to_a"] = summary((r["captures"] / w) / (a["captures"] / a["wall_s"])
                                                   for r, w, a in zip(runs, net_wall, ref))
                d["net_ratio_cpu_to_a"] = summary((r["captures"] / c) / (a["captures"] / a["cpu_s"])
                                                  for r, c, a in zip(runs, net_cpu, ref))
        if name.startswith("pipeline"):
            for m in ("maxrss_mib", "psutil_peak_tree_rss_mib", "psutil_peak_main_rss_mib",
                      "psutil_peak_child_rss_mib", "psutil_cpu_s"):
                d[m] = summary(r[m] for r in runs)
        derived[name] = d
    if "sample" in raw:
        sm = raw["sample"]
        derived["sample"] = {k: summary(r[k] for r in sm) for k in
                             ("wall_s", "cpu_s", "maxrss_mib", "psutil_peak_tree_rss_mib", "psutil_peak_main_rss_mib",
                              "psutil_peak_child_rss_mib", "psutil_cpu_s")}
    if "stages" in raw:
        derived["stages"]["stage_wall_s"] = {
            st: summary(r["stage_wall_s"][st] for r in raw["stages"]) for st in raw["stages"][0]["stage_wall_s"]}

    # -- checks --
    notes = []
    caps = {name: {r["captures"] for r in runs} for name, runs in raw.items() if name != "sample"}
    if len({c for s in caps.values() for c in s}) != 1:
        notes.append(f"capture counts differ between variants: {caps}")
    jd = {r["japanese_docs"] for r in raw.get("stages", [])} | {r["written"] for n in ("pipeline",) for r in raw.get(n, [])}
    if len(jd) > 1:
        notes.append(f"Japanese documents differ between the stage loop and the pipeline: {sorted(jd)}")
    for n in ("pipeline", "pipeline_fast", "sample"):
        for r in raw.get(n, []):
            if r["psutil_cpu_s"] > r["cpu_s"] * 1.05 + 0.2:
                notes.append(f"{n} repeat {r['repeat']}: psutil saw {r['psutil_cpu_s']:.2f} CPU s but rusage "
                             f"{r['cpu_s']:.2f} s (a child not waited for?)")

    # -- print --
    labels = {"warcio": "(a) warcio bare loop", "reader": "(b) our reader iter_records",
              "stages": "(c) plain stage loop", "pipeline": "(d) Beam pipeline",
              "pipeline_fast": "(e) Beam pipeline, extract.fast"}
    rows = []
    for name in ("warcio", "reader", "stages", "pipeline", "pipeline_fast"):
        if name not in derived:
            continue
        d = derived[name]
        rows.append([labels[name], fmt_range(d["wall_s"], 2), fmt_range(d["captures_per_wall_s"], 0),
                     fmt_range(d.get("ratio_wall_to_a", {}), 1, 100), fmt_range(d["cpu_s"], 2),
                     fmt_range(d["captures_per_cpu_s"], 0), fmt_range(d.get("ratio_cpu_to_a", {}), 1, 100)])
        if "net_wall_s" in d:
            rows.append(["    minus fixed cost (sample run)", fmt_range(d["net_wall_s"], 2),
                         fmt_range(d["net_captures_per_wall_s"], 0),
                         fmt_range(d.get("net_ratio_wall_to_a", {}), 1, 100), fmt_range(d["net_cpu_s"], 2),
                         fmt_range(d["net_captures_per_cpu_s"], 0),
                         fmt_range(d.get("net_ratio_cpu_to_a", {}), 1, 100)])
    print()
    print(f"{captures:,} captures, {args.repeats} repeats; median [min–max]; ratios paired per repeat")
    print(table(["variant", "wall s", "captures/s (wall)", "% of (a), wall", "CPU s",
                 "captures/CPU-s (per core)", "% of (a), CPU"], rows))
    if "sample" in derived:
        s = derived["sample"]
        print(f"\nfixed cost = `jawebcorpus run --sample` (32 captures): wall {fmt_range(s['wall_s'], 2)} s, "
              f"CPU {fmt_range(s['cpu_s'], 2)} s, max RSS {fmt_range(s['maxrss_mib'], 0)} MiB")
    mem_rows = []
    for name in ("sample", "pipeline", "pipeline_fast"):
        if name in derived:
            d = derived[name]
            mem_rows.append([name, fmt_range(d["maxrss_mib"], 0), fmt_range(d["psutil_peak_tree_rss_mib"], 0),
                             fmt_range(d.get("psutil_peak_main_rss_mib", {}), 0),
                             fmt_range(d.get("psutil_peak_child_rss_mib", {}), 0)])
    if mem_rows:
        print("\npeak memory, MiB")
        print(table(["run", "ru_maxrss (largest process)", "tree RSS sum (psutil)", "pipeline process",
                     "its children"], mem_rows))
    if "stages" in derived:
        sw = derived["stages"]["stage_wall_s"]
        tot = sum(v["median"] for v in sw.values())
        print("\n(c) time by stage (wall, median): " + ", ".join(
            f"{k} {v['median']:.2f}s ({100 * v['median'] / tot:.0f} %)" for k, v in sw.items()))
        st = raw["stages"][0]
        slow = st["slowest_extractions"]
        print(f"(c) extraction of {st['extracted_docs']} pages took {sw['extract']['median']:.2f}s; slowest "
              f"(repeat 1): " + ", ".join(f"{sec:.2f}s {url}" for sec, url in slow[:3]))
        print(f"(c) {st['pages']} HTML pages → {st['japanese_docs']} Japanese documents; "
              f"set-up (model + extractor child) {loop.setup_s:.2f} s, not timed")
    if "pipeline" in raw:
        print(f"(d) wrote {raw['pipeline'][0]['written']} documents; "
              f"(e) wrote {raw['pipeline_fast'][0]['written'] if 'pipeline_fast' in raw else '–'}")
    if "pipeline" in derived and "ratio_wall_to_a" in derived["pipeline"]:
        d = derived["pipeline"]
        print(f"\ntarget (d) ≥ 35 % of (a): raw wall {100 * d['ratio_wall_to_a']['median']:.1f} %, "
              f"raw CPU {100 * d['ratio_cpu_to_a']['median']:.1f} %, "
              f"net wall {100 * d['net_ratio_wall_to_a']['median']:.1f} %, "
              f"net CPU {100 * d['net_ratio_cpu_to_a']['median']:.1f} %" if "net_ratio_wall_to_a" in d else "")
    for n in notes:
        print("NOTE:", n)

    path = write_results(NAME, {
        "params": {"shared": shared, "repeats": args.repeats, "files": [os.path.relpath(f, shared) for f in files],
                   "captures": captures, "pipeline_cmd": jawebcorpus_cmd(),
                   "stage_loop_setup_s": loop.setup_s if loop else None,
                   "busy_before_repeat": busy_before},
        "derived": derived, "raw": raw, "notes": notes,
    }, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
