#!/usr/bin/env python
"""Throughput on the test crawl: the pipeline's marginal and fixed cost against a bare warcio loop.

Everything is measured side by side in one process, in alternating order every repeat (forward,
reverse, …), after waiting for a quiet machine; CPU time is user + system of the process and of
every child it waited for.  Ratios to the bare warcio loop are taken per repeat (paired), then the
median over repeats is reported with min–max.

In-process, one pass over ``../shared/crawl`` each:

``warcio``     bare warcio loop: ``ArchiveIterator`` + ``rec.content_stream().read()`` per record
``fastwarc``   bare FastWARC loop (``fastwarc.warc.ArchiveIterator(parse_http=False)``,
               ``rec.reader.read()`` per record; skipped when FastWARC is not installed:
               ``pip install -e '.[bench]'``)
``reader``     our reader ``jawebcorpus.corpus.warc.iter_records``, every record's block

The command line, as subprocesses (default runner, 1 worker), each on the crawl (×1) and on a
temporary crawl holding every file three times under distinct names (×3):

``detect``     ``jawebcorpus run --until detect``
``langid``     ``jawebcorpus run --until langid``
``full``       ``jawebcorpus run`` (the whole default pipeline, dedup included)

Marginal cost per pass = (CPU(×3) − CPU(×1)) / 2; fixed cost = CPU(×1) − marginal.  Also
``jawebcorpus run --sample`` (wall and CPU).  With ``--baseline PYTHON`` every command-line
variant runs a second time with another installation's interpreter (``PYTHON -m jawebcorpus``,
e.g. a virtualenv of the main branch): before and after in the same run.

Per-stage breakdown (``stages``): the crawl through ``corpus.stage.process_file`` with every
per-file stage of the default run wrapped in a timer (CPU time of ``apply``; for extract plus the
extraction child's CPU time, read with psutil), the read stage timed around the record iterator,
and each file's commit (Parquet part and checkpoint, ``pipelines.output.commit_file``) timed too.

Peak memory of a command-line run: ``ru_maxrss`` (largest single process of its tree) and the
largest sum of RSS over the tree seen by psutil every 50 ms.

    python bench/bench_throughput.py [--shared ../shared] [--repeats 3] [--baseline PY] [--frozen]
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

MODES = {"detect": ["--until", "detect"], "langid": ["--until", "langid"], "full": []}


# -- bare loops ------------------------------------------------------------------------------------
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


def run_fastwarc(files: list[str]) -> dict:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    records = captures = nbytes = 0
    for path in files:
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f, parse_http=False):
                records += 1
                nbytes += len(rec.reader.read())
                if rec.record_type == WarcRecordType.response:
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


def have_fastwarc() -> bool:
    try:
        import fastwarc.warc  # noqa: F401
    except ImportError:
        return False
    return True


# -- per-stage breakdown ---------------------------------------------------------------------------
class StageBreakdown:
    """The crawl through ``process_file`` with every per-file stage of the default run timed.

    Set up once (stage objects, the language-ID model, the extraction child); :meth:`run` is one
    pass.  The wrappers only add a timer around ``apply``: the documents and statistics are the
    pipeline's own (checked against the ``langid`` run's written count by the caller)."""

    def __init__(self, shared: str, workdir: str):
        from jawebcorpus.corpus.inputs import resolve_paths
        from jawebcorpus.corpus.stage import LocalResources, Stage
        from jawebcorpus.corpus.read import ReadStage
        from jawebcorpus.pipelines.config import PipelineConfig
        from jawebcorpus.pipelines.spec import RunSpec
        from jawebcorpus.registry import stage as stage_class

        self.inputs = resolve_paths([os.path.join(shared, "crawl")])
        self.workdir = workdir
        self.spec = RunSpec(config=PipelineConfig(), output=os.path.join(workdir, "stages-out"),
                            inputs=tuple(self.inputs))
        cfg, res = self.spec.config, LocalResources()
        t0 = time.perf_counter()
        self.reader = ReadStage()
        self.reader.setup(cfg, res)

        def timed(inner: Stage) -> Stage:
            """``inner`` with a timer around ``apply``; a subclass of its class, so that the
            outcome counter checks its declared reasons."""

            class Timed(type(inner)):
                def __init__(self):
                    self.inner, self.cpu = inner, 0.0

                def apply(self, doc, count):
                    c0 = time.process_time()
                    try:
                        return self.inner.apply(doc, count)
                    finally:
                        self.cpu += time.process_time() - c0

            return Timed()

        self.stages = []
        for name in self.spec.file_stages[1:]:
            st = stage_class(name)()
            st.setup(cfg, res)
            self.stages.append(timed(st))
        self.setup_s = time.perf_counter() - t0
        self.extractor = next((s.inner.extractor for s in self.stages if s.name == "extract"), None)

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
        from jawebcorpus.corpus.process import FileResult, process_file
        from jawebcorpus.corpus.read import FileReport
        from jawebcorpus.pipelines.output import commit_file

        spec = self.spec
        shutil.rmtree(spec.output, ignore_errors=True)
        for st in self.stages:
            st.cpu = 0.0
        read_cpu = commit_cpu = 0.0
        captures = kept = 0
        starts0 = self.extractor.starts if self.extractor else 0
        child0 = self._child_cpu()
        cpu0 = time.process_time()
        for inp in self.inputs:
            report = FileReport(inp.path, inp.rel, inp.snapshot)

            def read(count, inp=inp, report=report):
                nonlocal read_cpu
                it = self.reader.read(inp, count, report)
                while True:
                    c0 = time.process_time()
                    doc = next(it, None)
                    read_cpu += time.process_time() - c0
                    if doc is None:
                        return
                    yield doc

            result = process_file(read, self.stages, FileResult(report))
            c0 = time.process_time()
            commit_file(spec.config, spec.output, spec.fingerprint, spec.commit_stages, result, final=False)
            commit_cpu += time.process_time() - c0
            captures += report.responses
            kept += len(result.docs)
        total_self = time.process_time() - cpu0
        child = self._child_cpu() - child0
        if self.extractor and self.extractor.starts != starts0:
            child = float("nan")  # the child was replaced: its CPU time is unknown
        cpu = {"read": read_cpu}
        for st in self.stages:
            cpu[st.name] = st.cpu
        cpu["extract_child"] = child
        cpu["commit"] = commit_cpu
        cpu["other"] = total_self - read_cpu - commit_cpu - sum(st.cpu for st in self.stages)
        return {"captures": captures, "kept_before_dedup": kept, "stage_cpu_s": cpu,
                "cpu_s": total_self + (child if child == child else 0.0)}

    def close(self) -> None:
        for st in self.stages:
            st.inner.teardown()


# -- the command line --------------------------------------------------------------------------------
def make_copies(files: list[str], shared: str, dest: str, copies: int) -> str:
    """A crawl laid out like ``../shared/crawl`` holding every file ``copies`` times (distinct names)."""
    root = os.path.join(dest, "crawl")
    for path in files:
        rel = os.path.relpath(path, os.path.join(shared, "crawl"))
        stem = os.path.basename(rel)[: -len(".warc.gz")]
        folder = os.path.join(root, os.path.dirname(rel))
        os.makedirs(folder, exist_ok=True)
        for i in range(copies):
            shutil.copyfile(path, os.path.join(folder, f"{stem}{'' if i == 0 else f'-copy{i}'}.warc.gz"))
    return root


def run_cli(python: str, env: dict, cwd: str, args: list[str], workdir: str, tag: str,
            poll_s: float = 0.05) -> dict:
    """Run the CLI under the wrapper; wall/CPU/memory and what it wrote."""
    out_dir = os.path.join(workdir, f"out-{tag}")
    res_path = os.path.join(workdir, f"res-{tag}.json")
    cmd = [sys.executable, "-c", WRAPPER, res_path, python, "-m", "jawebcorpus", "run", *args,
           "--output", out_dir, "--quiet", "--overwrite"]
    proc = subprocess.Popen(cmd, env=env, cwd=cwd)
    ps = psutil.Process(proc.pid)
    peak_tree = 0
    while proc.poll() is None:
        try:
            kids = ps.children(recursive=True)
        except psutil.Error:
            kids = []
        tree = 0
        for k in kids:
            try:
                tree += k.memory_info().rss
            except psutil.Error:
                continue
        peak_tree = max(peak_tree, tree)
        time.sleep(poll_s)
    if proc.returncode != 0:
        with open(res_path + ".stderr", encoding="utf-8", errors="replace") as fh:
            sys.stderr.write(fh.read()[-4000:])
        raise RuntimeError(f"run failed (exit {proc.returncode}): {' '.join(cmd[3:])}")
    with open(res_path, encoding="utf-8") as fh:
        inner = json.load(fh)
    with open(os.path.join(out_dir, "stats", "stages.json"), encoding="utf-8") as fh:
        rows = json.load(fh)
    shutil.rmtree(out_dir, ignore_errors=True)
    return {
        "wall_s": inner["wall_s"], "cpu_s": inner["user_s"] + inner["sys_s"],
        "maxrss_mib": inner["maxrss_kib"] / 1024, "peak_tree_rss_mib": peak_tree / 2**20,
        "records": sum(r["docs"] for r in rows if r["stage"] == "read"),
        "written": sum(r["docs"] for r in rows if r["stage"] == "write" and r["outcome"] == "kept"),
    }


# -- driver ----------------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3, at least 3)")
    ap.add_argument("--max-busy", type=float, default=0.25,
                    help="before each repeat, wait until the CPUs are at most this busy (default 0.25)")
    ap.add_argument("--wait", type=float, default=60.0, help="... for at most this many seconds (default 60)")
    ap.add_argument("--modes", default="detect,langid,full", help="command-line modes (detect, langid, full)")
    ap.add_argument("--skip", default="", help="comma-separated variants to skip: warcio, fastwarc, reader, "
                                               "stages, sample")
    ap.add_argument("--copies", type=int, default=3, help="copies of the crawl for the marginal cost (default 3)")
    ap.add_argument("--baseline", metavar="PYTHON",
                    help="also run every command-line variant with this interpreter's jawebcorpus (before/after)")
    args = ap.parse_args()
    freeze_if_asked(args)
    if args.repeats < 3:
        ap.error("--repeats must be at least 3")
    if args.copies < 2:
        ap.error("--copies must be at least 2")
    shared = os.path.abspath(args.shared)
    files = crawl_files(shared)
    crawl = os.path.join(shared, "crawl")
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if not have_fastwarc():
        print("FastWARC is not installed (pip install -e '.[bench]'): skipping it")
        skip.add("fastwarc")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    workdir = tempfile.mkdtemp(prefix="jawebcorpus-bench-")
    crawl_n = make_copies(files, shared, workdir, args.copies)
    print(f"crawl: {crawl} ({len(files)} files, {sum(map(os.path.getsize, files)) / 2**20:.1f} MiB); "
          f"×{args.copies} copy in {crawl_n}")

    versions = {"after": (sys.executable, dict(os.environ), os.getcwd())}
    if args.baseline:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "JAWEBCORPUS_BENCH_FROZEN")}
        versions = {"before": (args.baseline, env, workdir), **versions}

    breakdown = None
    if "stages" not in skip:
        print("setting up the per-stage breakdown (stage objects, model, extraction child) …")
        breakdown = StageBreakdown(shared, workdir)

    def timed(fn):
        c0, w0 = time.process_time(), time.perf_counter()
        info = fn()
        return {**info, "wall_s": time.perf_counter() - w0, "cpu_s": time.process_time() - c0}

    variants: dict[str, object] = {}
    for name, fn in (("warcio", run_warcio), ("fastwarc", run_fastwarc), ("reader", run_reader)):
        if name not in skip:
            variants[name] = (lambda fn=fn: timed(lambda: fn(files)))
    if breakdown:
        variants["stages"] = breakdown.run
    for vname, (py, env, cwd) in versions.items():
        if "sample" not in skip:
            variants[f"{vname}:sample"] = (lambda py=py, env=env, cwd=cwd, v=vname:
                                           run_cli(py, env, cwd, ["--sample"], workdir, f"{v}-sample"))
        for mode in modes:
            for n, path in ((1, crawl), (args.copies, crawl_n)):
                variants[f"{vname}:{mode}:x{n}"] = (
                    lambda py=py, env=env, cwd=cwd, a=MODES[mode] + ["--input", path], t=f"{vname}-{mode}-{n}":
                    run_cli(py, env, cwd, a, workdir, t))
    order = list(variants)
    print("warm-up (untimed): " + ", ".join(order))
    for k in order:
        variants[k]()

    raw: dict[str, list[dict]] = {k: [] for k in order}
    busy_before: list[float | None] = []
    for i in range(args.repeats):
        seq = order if i % 2 == 0 else order[::-1]
        busy_before.append(wait_for_quiet(args.max_busy, args.wait))
        load = os.getloadavg()[0]
        for k in seq:
            r = variants[k]()
            r["repeat"], r["busy_before_repeat"], r["loadavg_1min"] = i, busy_before[-1], load
            raw[k].append(r)
        b = busy_before[-1]
        print(f"repeat {i + 1}/{args.repeats} ({'forward' if i % 2 == 0 else 'reverse'}; other load before "
              f"{'?' if b is None else f'{100 * b:.0f} %'}, load average {load:.1f}): "
              + "  ".join(f"{k} {raw[k][-1]['cpu_s']:.2f}s" for k in order), flush=True)
    if breakdown:
        breakdown.close()
    shutil.rmtree(workdir, ignore_errors=True)

    # -- derived numbers --
    ref = raw.get("warcio")
    derived: dict[str, dict] = {}
    for name in ("warcio", "fastwarc", "reader"):
        if name in raw:
            runs = raw[name]
            d = {"cpu_s": summary(r["cpu_s"] for r in runs), "wall_s": summary(r["wall_s"] for r in runs)}
            if ref:
                d["ratio_cpu"] = summary(r["cpu_s"] / a["cpu_s"] for r, a in zip(runs, ref))
            derived[name] = d
    for vname in versions:
        for mode in modes:
            one, many = raw[f"{vname}:{mode}:x1"], raw[f"{vname}:{mode}:x{args.copies}"]
            marg = [(m["cpu_s"] - o["cpu_s"]) / (args.copies - 1) for o, m in zip(one, many)]
            marg_wall = [(m["wall_s"] - o["wall_s"]) / (args.copies - 1) for o, m in zip(one, many)]
            d = {
                "cpu_x1_s": summary(r["cpu_s"] for r in one), "cpu_xn_s": summary(r["cpu_s"] for r in many),
                "wall_x1_s": summary(r["wall_s"] for r in one),
                "marginal_cpu_s": summary(marg), "marginal_wall_s": summary(marg_wall),
                "fixed_cpu_s": summary(o["cpu_s"] - m for o, m in zip(one, marg)),
                "fixed_wall_s": summary(o["wall_s"] - m for o, m in zip(one, marg_wall)),
                "maxrss_x1_mib": summary(r["maxrss_mib"] for r in one),
                "peak_tree_rss_x1_mib": summary(r["peak_tree_rss_mib"] for r in one),
                "maxrss_xn_mib": summary(r["maxrss_mib"] for r in many),
                "peak_tree_rss_xn_mib": summary(r["peak_tree_rss_mib"] for r in many),
                "written_x1": sorted({r["written"] for r in one}),
                "written_xn": sorted({r["written"] for r in many}),
            }
            if ref:
                d["marginal_ratio_cpu"] = summary(m / a["cpu_s"] for m, a in zip(marg, ref))
            derived[f"{vname}:{mode}"] = d
        if f"{vname}:sample" in raw:
            sm = raw[f"{vname}:sample"]
            derived[f"{vname}:sample"] = {k: summary(r[k] for r in sm)
                                          for k in ("wall_s", "cpu_s", "maxrss_mib", "peak_tree_rss_mib")}
    if "stages" in raw:
        st = raw["stages"]
        derived["stages"] = {
            "cpu_s": summary(r["cpu_s"] for r in st),
            "stage_cpu_s": {k: summary(r["stage_cpu_s"][k] for r in st) for k in st[0]["stage_cpu_s"]},
        }
        if ref:
            derived["stages"]["stage_ratio_cpu"] = {
                k: summary(r["stage_cpu_s"][k] / a["cpu_s"] for r, a in zip(st, ref)) for k in st[0]["stage_cpu_s"]}

    # -- checks --
    notes = []
    for vname in versions:
        for mode in modes:
            d = derived[f"{vname}:{mode}"]
            if len(d["written_x1"]) != 1 or len(d["written_xn"]) != 1:
                notes.append(f"{vname} {mode}: written documents differ between repeats: {d['written_x1']} {d['written_xn']}")
    for mode in modes:
        w = {v: derived[f"{v}:{mode}"]["written_x1"] for v in versions}
        if len({tuple(x) for x in w.values()}) > 1:
            notes.append(f"{mode}: before and after write different numbers of documents: {w}")
    if "stages" in raw and "langid" in modes:
        kept = {r["kept_before_dedup"] for r in raw["stages"]}
        notes.append(f"per-stage loop kept {sorted(kept)} documents before dedup "
                     f"(--until langid writes {derived['after:langid']['written_x1']})")

    # -- print --
    print()
    caps = ref[0]["captures"] if ref else None
    print(f"{caps or '?'} captures per pass, {args.repeats} repeats; CPU seconds, median [min–max]; "
          "ratios to the bare warcio loop paired per repeat")
    rows = []
    for name, label in (("warcio", "bare warcio loop"), ("fastwarc", "bare FastWARC loop"),
                        ("reader", "our reader (iter_records)")):
        if name in derived:
            d = derived[name]
            rows.append([label, "", fmt_range(d["cpu_s"], 2), fmt_range(d.get("ratio_cpu", {}), 2), "–"])
    for vname in versions:
        for mode in modes:
            d = derived[f"{vname}:{mode}"]
            rows.append([f"run {mode}", vname, fmt_range(d["marginal_cpu_s"], 2),
                         fmt_range(d.get("marginal_ratio_cpu", {}), 2), fmt_range(d["fixed_cpu_s"], 2)])
    print(table(["variant", "version", "CPU s per pass (marginal)", "× warcio", "fixed CPU s"], rows))
    rows = []
    for vname in versions:
        if f"{vname}:sample" in derived:
            d = derived[f"{vname}:sample"]
            rows.append([vname, fmt_range(d["wall_s"], 2), fmt_range(d["cpu_s"], 2), fmt_range(d["maxrss_mib"], 0),
                         fmt_range(d["peak_tree_rss_mib"], 0)])
    if rows:
        print("\n`jawebcorpus run --sample`")
        print(table(["version", "wall s", "CPU s", "max RSS MiB", "tree RSS MiB"], rows))
    rows = []
    for vname in versions:
        for mode in modes:
            d = derived[f"{vname}:{mode}"]
            rows.append([f"{mode} ({vname})", fmt_range(d["maxrss_x1_mib"], 0), fmt_range(d["peak_tree_rss_x1_mib"], 0),
                         fmt_range(d["maxrss_xn_mib"], 0), fmt_range(d["peak_tree_rss_xn_mib"], 0)])
    print("\npeak memory, MiB (largest process / sum over the process tree)")
    print(table(["run", "×1 largest", "×1 tree", f"×{args.copies} largest", f"×{args.copies} tree"], rows))
    if "stages" in derived:
        sc = derived["stages"]["stage_cpu_s"]
        sr = derived["stages"].get("stage_ratio_cpu", {})
        total = derived["stages"]["cpu_s"]["median"]
        print(f"\nper-stage CPU, one pass (process_file, default per-file stages; total {total:.2f} s)")
        print(table(["stage", "CPU s", "× warcio", "share"],
                    [[k, fmt_range(v, 3), fmt_range(sr.get(k, {}), 3),
                      f"{100 * v['median'] / total:.1f} %" if total and v["median"] == v["median"] else "–"]
                     for k, v in sc.items()]))
    for n in notes:
        print("NOTE:", n)

    path = write_results(NAME, {
        "params": {"shared": shared, "repeats": args.repeats, "copies": args.copies, "modes": modes,
                   "files": [os.path.relpath(f, shared) for f in files], "captures_per_pass": caps,
                   "versions": {k: v[0] for k, v in versions.items()},
                   "busy_before_repeat": busy_before,
                   "stage_setup_s": breakdown.setup_s if breakdown else None},
        "derived": derived, "raw": raw, "notes": notes,
    }, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
