"""Peak memory (RSS) of every process of a run: the launcher, the local runner's workers, and on
Dask the scheduler and each worker process; for the bundled sample and ``../shared/crawl``.

Every run is ``python -m jawebcorpus run … --quiet`` as a user runs it, the whole default
pipeline (dedup included), ``--samples-per-reason 2``, into a fresh output.  Configurations:

``local``        the default runner (in-process FnApiRunner, one worker)
``local-2proc``  ``--direct_num_workers=2 --direct_running_mode=multi_processing``
``dask``         ``--runner=DaskRunner`` against a cluster started apart for the run:
                 ``dask scheduler`` and ``dask worker --nworkers 2 --nthreads 1`` on loopback
                 (default partitions: 2 × 2 threads = 4)
``dask-p64``     the same with ``--dask_npartitions=64`` (the task graph grows with the partitions)

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
    "dask-p64": ["--runner=DaskRunner", "--dask_npartitions=64"],
}


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
        self.killed = False
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _rss(self, proc) -> int:
        try:
            return proc.memory_info().rss
        except self.psutil.Error:
            return 0

    def _tree(self, pid: int) -> tuple[int, int, int]:
        """(own RSS, tree RSS, largest child RSS)."""
        try:
            root = self.psutil.Process(pid)
            kids = root.children(recursive=True)
        except self.psutil.Error:
            return 0, 0, 0
        own = self._rss(root)
        rss = [self._rss(k) for k in kids]
        return own, own + sum(rss), max(rss, default=0)

    def _peak(self, role: str, value: int) -> None:
        self.peaks[role] = max(self.peaks.get(role, 0), value)

    def _run(self) -> None:
        while not self.stop.is_set():
            own, tree, child = self._tree(self.launcher.pid)
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
        sampler = Sampler(launcher, cluster, limit)
        rc = launcher.wait()
        seconds = time.monotonic() - t0
        peaks = sampler.finish()
    finally:
        if cluster:
            cluster.close()
    log = (tmp / f"{config}.log").read_text(errors="replace")
    return {"config": config, "returncode": rc, "seconds": round(seconds, 2), "killed_by_watchdog": sampler.killed,
            "peak_rss_mib": {k: round(v / MiB, 1) for k, v in sorted(peaks.items())},
            "idle_rss_mib": {k: round(v / MiB, 1) for k, v in sorted(idle.items())},
            "log_tail": log[-1500:] if rc else "", "digests": _digests(out) if rc == 0 else {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--inputs", default="sample,crawl")
    ap.add_argument("--limit-gb", type=float, default=8.0)
    args = ap.parse_args()
    freeze_if_asked(args)
    configs = [c for c in args.configs.split(",") if c]
    inputs = {"sample": ["--sample"], "crawl": ["--input", check_shared(args.shared, "crawl")]}
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-runner-memory-") as tmpdir:
        tmp = Path(tmpdir)
        for name in [n for n in args.inputs.split(",") if n]:
            for rep in range(args.repeats):
                order = configs if rep % 2 == 0 else configs[::-1]
                runs = {}
                for config in order:
                    r = run_one(tmp, inputs[name], config, int(args.limit_gb * 2**30))
                    r.update(input=name, repeat=rep)
                    runs[config] = r
                    print(f"{name} #{rep} {config}: rc={r['returncode']} {r['seconds']} s {r['peak_rss_mib']}",
                          flush=True)
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
    path = write_results("bench_runner_memory", {"configs": CONFIGS, "repeats": args.repeats, "runs": results},
                         args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
