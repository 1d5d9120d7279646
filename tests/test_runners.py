"""The process layout of Flink and Spark with a Python worker pool, on this machine: a Beam job
service and an external SDK worker pool, each started as its own process, and
``jawebcorpus run --runner=PortableRunner --environment_type=EXTERNAL`` submitting to them.
The output and every statistics file must equal those of the in-process run."""

from __future__ import annotations

import hashlib
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
