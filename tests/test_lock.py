"""The output lock tells the truth (issue 16, item 8; issue 17, item 3): a heartbeat in the future
does not make a lock immortal, an exited process (a zombie too) is dead, a reused pid is not its
holder, the refusal says who holds the lock, how old its heartbeat is, when it goes stale and how
to break it; a job's lock is not stale by time; ``jawebcorpus unlock`` breaks a dead holder's lock
and refuses a live one's."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from jawebcorpus.pipelines.cli import main
from jawebcorpus.pipelines.lock import OutputLock, OutputLocked, assess, machine_id, pid_alive


def _write(out, **fields) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rec = {"token": "x", "host": "elsewhere", "pid": 1, "started": time.time() - 60, "heartbeat": time.time(),
           "fingerprint": "f00d", **fields}
    (out / "_lock.json").write_text(json.dumps(rec))


def _takes(out, **kw) -> bool:
    try:
        with OutputLock(str(out), "beef", **kw):
            return True
    except OutputLocked:
        return False


def test_a_heartbeat_far_in_the_future_does_not_make_a_lock_immortal(tmp_path):
    out = tmp_path / "out"
    _write(out, heartbeat=time.time() + 10 ** 9)
    assert _takes(out)
    _write(out, heartbeat=time.time() + 3 * 3600)  # more than the time to live ahead: a wrong clock
    assert _takes(out, ttl_s=600)


def test_a_heartbeat_a_little_in_the_future_expires_one_time_to_live_after_it(tmp_path):
    out = tmp_path / "out"
    beat = time.time() + 120  # another machine's clock two minutes ahead
    _write(out, heartbeat=beat)
    with pytest.raises(OutputLocked) as refused:
        with OutputLock(str(out), "beef", ttl_s=600):
            pass
    msg = str(refused.value)
    assert "in the future" in msg
    stale_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(beat + 600))
    assert f"becomes stale at {stale_at}" in msg
    assert not assess(json.loads((out / "_lock.json").read_text()), 600, now=beat + 599).stale
    assert assess(json.loads((out / "_lock.json").read_text()), 600, now=beat + 601).stale


def test_the_refusal_names_the_holder_its_heartbeat_when_it_goes_stale_and_how_to_break_it(tmp_path, capsys):
    out = tmp_path / "out"
    beat = time.time() - 42
    _write(out, host="builder-7", pid=4242, heartbeat=beat, fingerprint="abcd1234")
    assert main(["run", "--sample", "--quiet", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "process 4242 on builder-7" in err and "configuration abcd1234" in err
    age = int(re.search(r"last heartbeat (\d+) s ago", err).group(1))
    assert 40 <= age <= 120
    stale_at = time.strftime("%Y-%m-%d %H:%M", time.gmtime(beat + 600))
    assert f"becomes stale at {stale_at}" in err
    assert f"jawebcorpus unlock {out}" in err
    assert not (out / "data").exists()


def test_a_zombie_process_counts_as_dead(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(200):  # exited, not reaped: a zombie
            with open(f"/proc/{child.pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the child did not become a zombie")
        os.kill(child.pid, 0)  # the old check: "alive"
        assert not pid_alive(child.pid)
        out = tmp_path / "out"
        _write(out, host=socket.gethostname(), machine=machine_id(), pid=child.pid)
        assert _takes(out)
    finally:
        child.wait()


def test_a_reused_pid_is_not_the_holder(tmp_path):
    out = tmp_path / "out"
    # this very process, but started at another time than the lock says: the holder's pid was reused
    _write(out, host=socket.gethostname(), machine=machine_id(), pid=os.getpid(), pid_start=1)
    assert _takes(out)
    _write(out, host=socket.gethostname(), machine=machine_id(), pid=os.getpid())
    assert not _takes(out)


def test_a_submitted_jobs_lock_is_not_stale_by_time(tmp_path, capsys):
    out = tmp_path / "out"
    _write(out, holder="job", job_id="2026-01-01_00_00_00-123", runner="DataflowRunner",
           heartbeat=time.time() - 30 * 86400, started=time.time() - 30 * 86400)
    assert not _takes(out)
    assert main(["run", "--sample", "--quiet", "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "the job 2026-01-01_00_00_00-123 on DataflowRunner" in err and "last step" in err
    assert f"jawebcorpus unlock {out}" in err
    # before its job id is recorded, the lock is the launcher's: stale once its heartbeat stops
    _write(out, holder="job", heartbeat=time.time() - 3600)
    assert _takes(out)


def test_a_jobs_lock_whose_job_service_does_not_answer_is_kept(tmp_path, monkeypatch):
    from jawebcorpus.pipelines import jobs

    monkeypatch.setattr(jobs, "JOB_STATE_TIMEOUT_S", 1.0)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    _write(out, holder="job", job_id="job-1", runner="PortableRunner", job_endpoint=f"127.0.0.1:{port}")
    with pytest.raises(OutputLocked, match="did not answer"):
        with OutputLock(str(out)):
            pass


def test_unlock_breaks_a_dead_holders_lock_and_refuses_a_live_ones(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["unlock", str(out)]) == 0  # nothing to break
    _write(out, host=socket.gethostname(), machine=machine_id(), pid=os.getpid())  # alive: this process
    assert main(["unlock", str(out)]) == 2
    assert "alive" in capsys.readouterr().err
    assert (out / "_lock.json").exists()
    assert main(["unlock", str(out), "--force"]) == 0
    assert not (out / "_lock.json").exists()
    _write(out, holder="job", job_id="job-9", runner="DataflowRunner")  # a job nobody can ask about
    assert main(["status", str(out)]) == 0
    assert "job-9" in capsys.readouterr().out
    assert main(["unlock", str(out)]) == 0
    assert "removed the lock of the job job-9" in capsys.readouterr().err
    assert not (out / "_lock.json").exists()
    assert _takes(out)


def test_the_heartbeat_stops_once_the_lock_is_released_by_the_job(tmp_path):
    """The pipeline's last step removes the lock; the launcher's heartbeat must not write it back."""
    from jawebcorpus.pipelines.lock import release_lock

    out = tmp_path / "out"
    with OutputLock(str(out), "beef", heartbeat_s=0.5) as lock:  # first beat at 0.5 s
        assert not release_lock(str(out), "someone else")
        assert release_lock(str(out), lock.token)
        time.sleep(1.3)  # two beats later
        assert not (out / "_lock.json").exists()


def test_a_lock_being_written_is_not_taken_for_a_crashed_one(tmp_path):
    """Two runs started together: the lock file one run has just created must never look stale to
    the other (an empty or half-written lock is only stale once it is old); the file appears whole
    (written aside, then linked to its name), and no run's private file is left behind."""
    out = tmp_path / "out"
    out.mkdir()
    lock = out / "_lock.json"
    for partial in (b"", b'{"token": "a1b2", "host": "vm", "pi'):
        lock.write_bytes(partial)  # what a run that is writing its lock leaves at this instant
        with pytest.raises(OutputLocked, match="being locked by another run at this moment"):
            with OutputLock(str(out), "beef"):
                pass
        assert lock.read_bytes() == partial  # left alone
        old = time.time() - 3600
        os.utime(lock, (old, old))  # the same file an hour later: a run that crashed while writing it
        assert _takes(out)
        assert not lock.exists()
    with OutputLock(str(out), "beef") as held:
        assert json.loads(lock.read_text())["token"] == held.token
        assert sorted(p.name for p in out.iterdir()) == ["_lock.json"]


def test_of_many_runs_starting_at_once_exactly_one_takes_the_lock(tmp_path):
    import threading

    out = tmp_path / "out"
    for _ in range(20):
        got, start = [], threading.Barrier(6)

        def take():
            start.wait()
            try:
                lk = OutputLock(str(out), "beef")
                lk.__enter__()
                got.append(lk)
            except OutputLocked:
                pass

        threads = [threading.Thread(target=take) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 1
        got[0].__exit__(None, None, None)
        assert not (out / "_lock.json").exists()
