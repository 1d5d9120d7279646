"""Peak memory (RSS) of every process of a run: the launcher, the local runner's workers, and on
Dask the scheduler and each worker process; for the bundled sample and ``../shared/crawl``.

Every run is ``python -m jawebcorpus run … --quiet`` as a user runs it, the whole default
pipeline (dedup included), ``--samples-per-reason 2``, into a fresh output.  Configurations:

``local``        the default runner (in-process FnApiRunner, one worker)
``local-2proc``  ``--direct_num_workers=2 --direct_running_mode=multi_processing``
``dask``         ``--runner=DaskRunner`` against a cluster started apart for the run:
                 ``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` on loopback
                 (default partitions: 2 × 2 threads = 4)
``dask-p16``     the same with ``--dask_npartitions=16``
``dask-p64``     the same with ``--dask_npartitions=64`` (the task graph grows with the partitions)

Two more measurements, in this process: the size of the run's dask task graph (tasks, pickled
bytes, seconds to build) for ``--dask_npartitions`` 4 … 1024 (``pipelines.dask_runner.translate``
on the pipeline ``jawebcorpus run`` builds), and the memory a partition holds per document in the
dedup stage's largest steps (tracemalloc; the documents of the ``local`` run's checkpoint parts):
the documents as read (with their text), their 40 band entries, the documents keyed without text.

A sampler thread reads, every 0.1 s, the RSS of each process (psutil): the launcher process and
its tree (the extraction child, the local runner's SDK workers), the scheduler, each dask worker
process and its tree (its extraction child); peaks are kept per role.  Each Dask run gets a
freshly started cluster (idle RSS recorded before the run), so that a run's peaks are its own.
Every output is compared file by file with the ``local`` run (every file but ``run.json``, the
run markers and the checkpoints, as ``tests/test_runners.py`` does).  A watchdog kills a run
whose processes together exceed ``--limit-gb`` (default 8).

    python bench/bench_runner_memory.py --repeats 2
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, check_shared, fmt, freeze_if_asked, table, write_results  # noqa: E402

MiB = 2**20
CONFIGS = {
    "local": [],
    "local-2proc": ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
    "dask": ["--runner=DaskRunner"],
    "dask-p16": ["--runner=DaskRunner", "--dask_npartitions=16"],
    "dask-p64": ["--runner=DaskRunner", "--dask_npartitions=64"],
}
GRAPH_PARTITIONS = (4, 16, 64, 256, 1024)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True, cwd=cwd)


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 20)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Cluster:
    """A scheduler and ``dask worker --nworkers 2`` on loopback, each its own process group."""

    def __init__(self, tmp: Path):
        from dask.distributed import Client

        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = _start(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                 "--no-dashboard"], tmp / "scheduler.log", tmp)
        self.workers = None
        deadline = time.monotonic() + 90
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    break
            if time.monotonic() > deadline or self.scheduler.poll() is not None:
                self.close()
                sys.exit(f"the dask scheduler did not start: {(tmp / 'scheduler.log').read_text()[-1000:]}")
            time.sleep(0.3)
        self.workers = _start(["dask", "worker", self.address, "--nworkers", "2", "--nthreads", "1",
                               "--memory-limit", "3GB", "--no-dashboard", "--local-directory", str(tmp / "scratch")],
                              tmp / "workers.log", tmp)
        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(2, timeout=90)
        time.sleep(1.0)

    def worker_processes(self):
        """The worker processes (children of the ``dask worker`` command that run a worker)."""
        import psutil

        try:
            kids = psutil.Process(self.workers.pid).children()
        except psutil.Error:
            return []
        return [k for k in kids if "spawn_main" in " ".join(k.cmdline())]

    def close(self) -> None:
        _stop(self.workers)
        _stop(self.scheduler)


class Sampler:
    """Peak RSS per role, sampled every ``interval`` s; kills the run above ``limit`` bytes."""

    def __init__(self, launcher: subprocess.Popen, cluster: Cluster | None, limit: int, interval: float = 0.1):
        import psutil

        self.psutil = psutil
        self.launcher, self.cluster, self.limit, self.interval = launcher, cluster, limit, interval
        self.peaks: dict[str, int] = {}
        self.children: set[str] = set()
        self.killed = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _rss(self, proc) -> int:
        try:
            return proc.memory_info().rss
        except self.psutil.Error:
            return 0

    def _tree(self, pid: int, names: set | None = None) -> tuple[int, int, int]:
        """(own RSS, tree RSS, largest child RSS); the children's command lines go to ``names``."""
        try:
            root = self.psutil.Process(pid)
            kids = root.children(recursive=True)
        except self.psutil.Error:
            return 0, 0, 0
        own = self._rss(root)
        rss = [self._rss(k) for k in kids]
        if names is not None:
            for k in kids:
                try:
                    names.add(" ".join(k.cmdline())[:120])
                except self.psutil.Error:
                    pass
        return own, own + sum(rss), max(rss, default=0)

    def _peak(self, role: str, value: int) -> None:
        self.peaks[role] = max(self.peaks.get(role, 0), value)

    def _run(self) -> None:
        while not self.stop.is_set():
            own, tree, child = self._tree(self.launcher.pid, self.children)
            self._peak("launcher", own)
            self._peak("launcher_tree", tree)
            self._peak("launcher_largest_child", child)
            total = tree
            if self.cluster is not None:
                s_own, s_tree, _ = self._tree(self.cluster.scheduler.pid)
                self._peak("scheduler", s_own)
                total += s_tree
                for i, w in enumerate(sorted(self.cluster.worker_processes(), key=lambda p: p.pid)):
                    w_own, w_tree, _ = self._tree(w.pid)
                    self._peak(f"worker_{i}", w_own)
                    self._peak(f"worker_{i}_tree", w_tree)
                    total += w_tree
                _, cli_tree, _ = self._tree(self.cluster.workers.pid)
                self._peak("workers_all", cli_tree)
            self._peak("all", total)
            if total > self.limit and not self.killed:
                self.killed = True
                os.killpg(self.launcher.pid, signal.SIGKILL)
            time.sleep(self.interval)

    def finish(self) -> dict[str, int]:
        self.stop.set()
        self.thread.join()
        return self.peaks


def _digests(out: Path) -> dict[str, str]:
    found = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_file() and rel.parts[0] not in ("_checkpoints", "_runs") and p.name != "run.json":
            found[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


def run_one(tmp: Path, inputs: list[str], config: str, limit: int) -> dict:
    out = tmp / f"out-{config}"
    shutil.rmtree(out, ignore_errors=True)
    cluster = Cluster(tmp) if config.startswith("dask") else None
    idle = {}
    try:
        extra = list(CONFIGS[config]) + ([f"--dask_client_address={cluster.address}"] if cluster else [])
        if cluster:
            import psutil

            idle = {"scheduler": psutil.Process(cluster.scheduler.pid).memory_info().rss,
                    **{f"worker_{i}": w.memory_info().rss
                       for i, w in enumerate(sorted(cluster.worker_processes(), key=lambda p: p.pid))}}
        cmd = [sys.executable, "-m", "jawebcorpus", "run", *inputs, "--output", str(out), "--quiet",
               "--samples-per-reason", "2", *extra]
        t0 = time.monotonic()
        launcher = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(tmp / f"{config}.log", "wb"),
                                    start_new_session=True)
        try:
            sampler = Sampler(launcher, cluster, limit)
            rc = launcher.wait()
            seconds = time.monotonic() - t0
            peaks = sampler.finish()
        finally:
            _stop(launcher)  # a stopped benchmark leaves no run behind
    finally:
        if cluster:
            cluster.close()
    log = (tmp / f"{config}.log").read_text(errors="replace")
    return {"config": config, "returncode": rc, "seconds": round(seconds, 2), "killed_by_watchdog": sampler.killed,
            "peak_rss_mib": {k: round(v / MiB, 1) for k, v in sorted(peaks.items())},
            "idle_rss_mib": {k: round(v / MiB, 1) for k, v in sorted(idle.items())},
            "launcher_children": sorted(sampler.children),
            "log_tail": log[-1500:] if rc else "", "digests": _digests(out) if rc == 0 else {}}


def graph_sizes(inputs: list[str], tmp: Path) -> list[dict]:
    """The task graph of ``jawebcorpus run INPUTS --runner=DaskRunner`` per ``--dask_npartitions``."""
    import pickle

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.pipelines.cli import build_parser, build_spec
    from jawebcorpus.pipelines.dask_runner import translate
    from jawebcorpus.pipelines.run import build_pipeline

    argv = ["run", *inputs, "--output", str(tmp / "graph-out"), "--quiet"]
    args, _ = build_parser().parse_known_args(argv)
    spec = build_spec(args, ["jawebcorpus", *argv])
    out = []
    for n in GRAPH_PARTITIONS:
        opts = PipelineOptions(["--runner=DaskRunner"])
        p = build_pipeline(spec, opts)
        transforms = len(p.to_runner_api().components.transforms)
        p = beam.Pipeline.from_runner_api(p.to_runner_api(use_fake_coders=True), p.runner, opts)  # as p.run() does
        t0 = time.perf_counter()
        graph, _ = translate(p, n)
        seconds = time.perf_counter() - t0
        size = len(pickle.dumps(graph, protocol=5))
        out.append({"npartitions": n, "beam_transforms": transforms, "tasks": len(graph),
                    "pickled_bytes": size, "build_seconds": round(seconds, 2)})
        print(f"graph, --dask_npartitions={n}: {len(graph):,} tasks, {size / MiB:.1f} MiB pickled, {seconds:.1f} s",
              flush=True)
        del graph
    return out


def partition_bytes(out_dir: Path) -> dict:
    """Python memory per document of what a dedup partition holds (tracemalloc): the documents as
    read back (text included), their band entries ``(band key, node id)``, and the documents keyed by
    node id without their text (the decision join's input); the last two as a worker holds them
    after a transfer (a pickle round trip of the list)."""
    import dataclasses
    import gc
    import pickle
    import tracemalloc

    from jawebcorpus.dedup.cluster import KeepPolicy
    from jawebcorpus.dedup.lsh import band_keys
    from jawebcorpus.dedup.minhash import SignatureSpec, signatures
    from jawebcorpus.pipelines.output import read_part

    paths = sorted(out_dir.glob("_checkpoints/*/parts/*/*.parquet"))
    spec, policy = SignatureSpec(), KeepPolicy()

    def measured(make):
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        kept = make()
        used = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        return kept, used

    [d for path in paths for d in read_part(str(path))]  # warm-up (pyarrow allocates on first use)
    docs, doc_bytes = measured(lambda: [d for path in paths for d in read_part(str(path))])
    texts = [d.text or "" for d in docs]
    nodes = [policy.node_id(d.snapshot, d.url, d.warc_record_id, len(t), None) for d, t in zip(docs, texts)]
    keys = band_keys(signatures(texts, spec), spec).view("int64")
    entries = [(k, node) for row, node in zip(keys, nodes) for k in row.tolist()]
    keyed = [(node, dataclasses.replace(d, text=None, html=None, body=None)) for d, node in zip(docs, nodes)]
    _, band_bytes = measured(lambda: pickle.loads(pickle.dumps(entries)))
    _, keyed_bytes = measured(lambda: pickle.loads(pickle.dumps(keyed)))
    n = max(1, len(docs))
    return {"documents": len(docs), "text_chars_mean": round(sum(map(len, texts)) / n, 1),
            "bands": int(keys.shape[1]) if len(docs) else 0,
            "bytes_per_document": {"documents_with_text": round(doc_bytes / n), "band_entries": round(band_bytes / n),
                                   "keyed_without_text": round(keyed_bytes / n)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--inputs", default="sample,crawl")
    ap.add_argument("--limit-gb", type=float, default=8.0)
    ap.add_argument("--once", default="dask-p64", help="configurations run in the first repeat only")
    args = ap.parse_args()
    freeze_if_asked(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the clusters and the run on kill
    configs = [c for c in args.configs.split(",") if c]
    inputs = {"sample": ["--sample"], "crawl": ["--input", check_shared(args.shared, "crawl")]}
    once = set(args.once.split(","))
    results, graphs, per_doc = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="bench-runner-memory-") as tmpdir:
        tmp = Path(tmpdir)
        for name in [n for n in args.inputs.split(",") if n]:
            graphs[name] = graph_sizes(inputs[name], tmp)
            for rep in range(args.repeats):
                order = [c for c in configs if rep == 0 or c not in once]
                order = order if rep % 2 == 0 else order[::-1]
                runs = {}
                for config in order:
                    r = run_one(tmp, inputs[name], config, int(args.limit_gb * 2**30))
                    r.update(input=name, repeat=rep)
                    runs[config] = r
                    print(f"{name} #{rep} {config}: rc={r['returncode']} {r['seconds']} s {r['peak_rss_mib']}",
                          flush=True)
                    if config == "local" and rep == 0 and r["returncode"] == 0:
                        per_doc[name] = partition_bytes(tmp / "out-local")
                        print(f"{name}: partition memory per document {per_doc[name]}", flush=True)
                ref = runs.get("local", {}).get("digests")
                for r in runs.values():
                    d = r.pop("digests")
                    r["files"] = len(d)
                    r["equal_to_local"] = None if not ref or r["config"] == "local" else (d == ref)
                    results.append(r)
    rows = []
    roles = ("launcher", "launcher_largest_child", "scheduler", "worker_0_tree", "worker_1_tree", "all")
    for name in [n for n in args.inputs.split(",") if n]:
        for config in configs:
            rs = [r for r in results if r["input"] == name and r["config"] == config]
            peak = {k: max(r["peak_rss_mib"].get(k, 0) for r in rs) for k in roles}
            rows.append([name, config, fmt(max(r["seconds"] for r in rs)),
                         *[fmt(peak[k], 0) if peak[k] else "–" for k in roles],
                         "–" if config == "local" else str(all(r["equal_to_local"] for r in rs))])
    print(table(["input", "config", "wall s (max)", "launcher", "its largest child", "scheduler",
                 "worker 0 (tree)", "worker 1 (tree)", "all", "= local"], rows))
    print("(peak RSS, MiB, the largest over the repeats)")
    for name, sizes in graphs.items():
        print(f"\n{name}: the task graph per --dask_npartitions")
        print(table(["partitions", "tasks", "pickled MiB", "build s"],
                    [[g["npartitions"], f"{g['tasks']:,}", fmt(g["pickled_bytes"] / MiB), fmt(g["build_seconds"])]
                     for g in sizes]))
    path = write_results("bench_runner_memory", {"configs": CONFIGS, "repeats": args.repeats, "once": sorted(once),
                                                 "runs": results, "graphs": graphs,
                                                 "partition_bytes_per_document": per_doc}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
