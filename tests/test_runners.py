"""The process layout of Flink and Spark with a Python worker pool, on this machine: a Beam job
service and an external SDK worker pool, each started as its own process, and
``jawebcorpus run --runner=PortableRunner --environment_type=EXTERNAL`` submitting to them.
The output and every statistics file must equal those of the in-process run."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUN_TIMEOUT_S = 1200
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("localhost", port)) == 0


def _start(args: list[str], log: Path) -> subprocess.Popen:
    fh = open(log, "wb")
    # The worker pool starts each SDK worker as `python -c …`, found on PATH: this interpreter's
    # directory comes first, or the workers would import another installation of the package.
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    # a process group of its own, so that the service and the workers it started end together
    return subprocess.Popen([sys.executable, "-m", *args], stdout=fh, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)


def _jawebcorpus(args: list[str], log: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("jawebcorpus", path=os.path.dirname(sys.executable)) or "jawebcorpus"
    with open(log, "wb") as fh:
        return subprocess.run([exe, *args], stdout=fh, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S)


def _digests(out: Path) -> dict[str, str]:
    """Every file of an output except run.json (which records the runner, times, the command),
    the run markers (``_runs/``: when the output was started) and the checkpoints (their names
    and records are the same, but they hold absolute paths)."""
    found = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_file() and rel.parts[0] not in ("_checkpoints", "_runs") and p.name != "run.json":
            found[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return found


@pytest.fixture
def services(tmp_path):
    """A job service and an external worker pool on free ports; skipped only if they cannot start."""
    job_port, pool_port = _free_port(), _free_port()
    job = _start(["apache_beam.runners.portability.local_job_service_main", "--port", str(job_port),
                  "--staging_dir", str(tmp_path / "staging")],
                 tmp_path / "job_service.log")
    pool = _start(["apache_beam.runners.worker.worker_pool_main", "--service_port", str(pool_port)],
                  tmp_path / "worker_pool.log")
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (_listening(job_port) and _listening(pool_port)):
            dead = [name for name, proc in (("job service", job), ("worker pool", pool)) if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "".join((tmp_path / n).read_text(errors="replace")[-1500:]
                               for n in ("job_service.log", "worker_pool.log"))
                pytest.skip(f"Beam's {' and '.join(dead) or 'services'} did not start within "
                            f"{START_TIMEOUT_S} s: {logs}")
            time.sleep(0.5)
        yield job_port, pool_port
    finally:
        _stop(job)
        _stop(pool)


@pytest.mark.slow
def test_sample_through_a_job_service_and_an_external_worker_pool_equals_the_in_process_run(tmp_path, services):
    job_port, pool_port = services
    local, portable = tmp_path / "local", tmp_path / "portable"
    a = _jawebcorpus(["run", "--sample", "--output", str(local), "--quiet", "--samples-per-reason", "2"],
                     tmp_path / "local.log")
    assert a.returncode == 0, (tmp_path / "local.log").read_text(errors="replace")[-3000:]
    t0 = time.monotonic()
    b = _jawebcorpus(["run", "--sample", "--output", str(portable), "--quiet", "--samples-per-reason", "2",
                      "--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}",
                      "--environment_type=EXTERNAL", f"--environment_config=localhost:{pool_port}"],
                     tmp_path / "portable.log")
    seconds = time.monotonic() - t0
    log = (tmp_path / "portable.log").read_text(errors="replace")
    assert b.returncode == 0, log[-3000:]
    mine, theirs = _digests(local), _digests(portable)
    assert any(k.startswith("data/") for k in mine) and "stats/stages.json" in mine
    assert any(k.startswith("stats/files") for k in mine)  # the per-file records
    assert any(k.startswith("samples/") for k in mine)
    assert sorted(theirs) == sorted(mine)
    assert [k for k in mine if mine[k] != theirs[k]] == []
    print(f"portable run through the job service and worker pool: {seconds:.1f} s")


# -- detached jobs: the job, not its launcher, finishes the run (issue 17, item 3) ---------------
class _GatedFiles:
    """The sample crawl over HTTP on loopback, each response held until :meth:`open` (so a job
    that reads it is provably still running while the test looks at it)."""

    def __init__(self):
        import threading
        from functools import partial
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        from jawebcorpus.sample import CRAWL_ROOT, warc_paths

        gate = self.gate = threading.Event()

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self):
                gate.wait(RUN_TIMEOUT_S)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(CRAWL_ROOT)))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.urls = [base + p.relative_to(CRAWL_ROOT).as_posix() for p in warc_paths()]

    def open(self):
        self.gate.set()

    def close(self):
        self.gate.set()
        self.server.shutdown()


@pytest.fixture
def gated():
    files = _GatedFiles()
    yield files
    files.close()


def _lock(out: Path) -> dict | None:
    try:
        return json.loads((out / "_lock.json").read_text())
    except (OSError, ValueError):
        return None


def _wait_for_the_job(out: Path) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while (out / "_lock.json").exists() or not (out / "stats" / "run.json").exists():
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(1)


def _common(urls: list[str]) -> list[str]:
    return ["run", "--input", *urls, "--quiet", "--samples-per-reason", "2", "--remote-timeout", str(RUN_TIMEOUT_S)]


def _portable(job_port: int, pool_port: int) -> list[str]:
    return ["--runner=PortableRunner", f"--job_endpoint=localhost:{job_port}", "--environment_type=EXTERNAL",
            f"--environment_config=localhost:{pool_port}"]


@pytest.mark.slow
def test_a_detached_job_holds_its_output_finishes_alone_and_equals_the_in_process_run(tmp_path, services, gated):
    job_port, pool_port = services
    local, detached = tmp_path / "local", tmp_path / "detached"
    gated.open()
    a = _jawebcorpus([*_common(gated.urls), "--output", str(local)], tmp_path / "local.log")
    assert a.returncode == 0, (tmp_path / "local.log").read_text(errors="replace")[-3000:]
    gated.gate.clear()  # from here the job cannot finish until the test opens the gate
    t0 = time.monotonic()
    b = _jawebcorpus([*_common(gated.urls), "--output", str(detached), "--detach", *_portable(job_port, pool_port)],
                     tmp_path / "detached.log")
    returned = time.monotonic() - t0
    log = (tmp_path / "detached.log").read_text(errors="replace")
    assert b.returncode == 0, log[-3000:]
    line = [x for x in log.splitlines() if "detached" in x]
    lock = _lock(detached)
    assert len(line) == 1 and lock and lock["job_id"] in line[0] and "jawebcorpus status" in line[0]
    assert lock["holder"] == "job" and lock["job_endpoint"] == f"localhost:{job_port}"
    assert not (detached / "stats" / "run.json").exists()
    # while the job runs, another run into its output is refused, whoever launches it
    c = _jawebcorpus([*_common(gated.urls), "--output", str(detached)], tmp_path / "second.log")
    second = (tmp_path / "second.log").read_text(errors="replace")
    assert c.returncode == 2 and f"the job {lock['job_id']}" in second and "RUNNING" in second, second[-2000:]
    assert f"jawebcorpus unlock {detached}" in second
    s = _jawebcorpus(["status", str(detached)], tmp_path / "status.log")
    assert s.returncode == 0 and "RUNNING" in (tmp_path / "status.log").read_text(errors="replace")
    gated.open()
    _wait_for_the_job(detached)
    mine, theirs = _digests(local), _digests(detached)
    assert any(k.startswith("data/") for k in mine) and any(k.startswith("samples/") for k in mine)
    assert theirs == mine
    run = json.loads((detached / "stats" / "run.json").read_text())
    assert run["runner"] == "PortableRunner" and run["accounting_problems"] == [] and run["inputs"] == len(gated.urls)
    # a lock naming a job its job service reports ended is taken over at once
    (detached / "_lock.json").write_text(json.dumps({**lock, "heartbeat": time.time()}))
    d = _jawebcorpus([*_common(gated.urls), "--output", str(detached)], tmp_path / "after.log")
    assert d.returncode == 0, (tmp_path / "after.log").read_text(errors="replace")[-2000:]
    assert json.loads((detached / "stats" / "run.json").read_text())["resumed_files"] == len(gated.urls)
    assert _digests(detached) == mine
    print(f"the detaching launcher returned after {returned:.1f} s")


@pytest.mark.slow
def test_a_job_whose_launcher_is_killed_finishes_the_run(tmp_path, services, gated):
    job_port, pool_port = services
    local, orphan = tmp_path / "local", tmp_path / "orphan"
    gated.open()
    a = _jawebcorpus([*_common(gated.urls), "--output", str(local)], tmp_path / "local.log")
    assert a.returncode == 0, (tmp_path / "local.log").read_text(errors="replace")[-3000:]
    gated.gate.clear()
    exe = shutil.which("jawebcorpus", path=os.path.dirname(sys.executable)) or "jawebcorpus"
    with open(tmp_path / "launcher.log", "wb") as fh:
        launcher = subprocess.Popen([exe, *_common(gated.urls), "--output", str(orphan), *_portable(job_port, pool_port)],
                                    stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S * 2
        while not (_lock(orphan) or {}).get("job_id"):  # submitted
            assert launcher.poll() is None and time.monotonic() < deadline, \
                (tmp_path / "launcher.log").read_text(errors="replace")[-3000:]
            time.sleep(0.2)
    finally:
        launcher.kill()
        launcher.wait()
    lock = _lock(orphan)
    assert lock["holder"] == "job" and lock["job_id"]
    c = _jawebcorpus([*_common(gated.urls), "--output", str(orphan)], tmp_path / "second.log")
    assert c.returncode == 2 and "RUNNING" in (tmp_path / "second.log").read_text(errors="replace")
    gated.open()
    _wait_for_the_job(orphan)
    assert _digests(orphan) == _digests(local)
    assert json.loads((orphan / "stats" / "run.json").read_text())["accounting_problems"] == []
