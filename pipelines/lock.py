"""A lock on an output folder, so two runs never write into one ``--output`` at the same time.

``OUT/_lock.json`` names its holder: a random token, the launching host and process, the
configuration fingerprint, the start time, a heartbeat time, and who holds it:

* ``holder: "launcher"`` (the local, in-process runner): the launcher refreshes the heartbeat
  every ``heartbeat_s``; the lock is stale (its run crashed or was killed) once the heartbeat
  is more than ``ttl_s`` away from now, in the past or in the future (a clock that is wrong, or
  a forged lock, cannot make it immortal), or at once when its process, on this machine, has
  exited (also when it is a zombie: exited, not yet reaped) or its pid now names another
  process.  A stale lock is taken over; nothing has to be cleaned up by hand after a crash.
* ``holder: "job"`` (any other runner): the lock belongs to the job, not to the launcher.  Until
  the job is submitted the launcher's heartbeat keeps it, as above; once submitted it records the
  job's id (and the portable job service's endpoint) and is never stale by time: the pipeline's
  last step releases it (``pipelines/finish.py``), however long the job takes, whether or not
  its launcher still lives.  A job that ended without reaching that step is detected where the
  runner can be asked (a portable job service: ``GetState`` gives a terminal state); otherwise
  a person who knows the job is dead breaks the lock with ``jawebcorpus unlock OUT``.

Local folders take the lock with an exclusive create (atomic).  Object stores reached through
Beam's ``FileSystems`` have no exclusive create: the lock is written, then read back after a
short settling delay, and whoever's token is there holds it (two runs starting within the same
moment cannot both see their own token); the heartbeat re-checks the token.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from . import storage

__all__ = ["OutputLock", "OutputLocked", "LOCK_NAME", "Verdict", "assess", "read_lock", "release_lock",
           "describe", "unlock_hint", "machine_id", "pid_alive"]

LOCK_NAME = "_lock.json"
#: Job states a portable job service reports for a job that no longer runs.
TERMINAL_JOB_STATES = frozenset({"DONE", "FAILED", "CANCELLED", "UPDATED", "DRAINED"})


class OutputLocked(Exception):
    """Another run holds the output folder."""


# -- processes of this machine ---------------------------------------------------------------------
def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read(4096).decode("ascii", "replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 1:].split()


def _start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks after boot: field 22 of ``/proc/<pid>/stat``)."""
    fields = _proc_stat(pid)
    try:
        return int(fields[19]) if fields else None
    except (IndexError, ValueError):
        return None


def pid_alive(pid: int, start_ticks: int | None = None) -> bool:
    """The process exists and has not exited: a zombie (exited, not reaped: state ``Z``/``X``
    in ``/proc/<pid>/stat``) is dead, and so is a pid that now names a process started at
    another time than ``start_ticks`` (the pid was reused).  Without ``/proc``: ``kill(pid, 0)``."""
    if pid <= 0:
        return False
    fields = _proc_stat(pid)
    if fields is not None:
        if not fields or fields[0] in ("Z", "X", "x"):
            return False
        if start_ticks is not None and len(fields) > 19 and fields[19] != str(start_ticks):
            return False
        return True
    if os.path.isdir("/proc/self"):  # /proc works here and has no such process
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def machine_id() -> str:
    """This machine and pid namespace: a pid means the same process only where this is equal
    (two containers may share a host name, never a boot id and pid namespace)."""
    parts = [socket.gethostname()]
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            parts.append(fh.read(64).strip())
        parts.append(os.readlink("/proc/self/ns/pid"))
    except OSError:
        pass
    return "/".join(parts)


# -- reading and judging a lock --------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    stale: bool
    why: str  # what is true about the holder, for messages
    stale_at: float | None = None  # when it becomes stale without a new heartbeat (launcher locks)
    alive: bool = False  # the holder is provably alive (a process of this machine, a job reported running)


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(t))


def _float(value) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if f == f and abs(f) < 1e12 else None  # not NaN, not absurd


#: An unreadable local lock younger than this is being written by another run, not stale.
WRITING_GRACE_S = 30.0


def read_lock(output: str) -> tuple[str, dict | None]:
    """``("absent", None)``, ``("bad", None)`` (unreadable or not a JSON object: a half-written
    lock of a crashed run) or ``("ok", record)``."""
    path = storage.join(output, LOCK_NAME)
    try:
        data = storage.read_bytes(path)
    except Exception:
        return ("bad", None) if storage.exists(path) else ("absent", None)
    try:
        rec = json.loads(data[: 1 << 20].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "bad", None
    return ("ok", rec) if isinstance(rec, dict) else ("bad", None)


def _job_state(rec: dict) -> str | None:
    endpoint, job_id = rec.get("job_endpoint"), rec.get("job_id")
    if not (isinstance(endpoint, str) and isinstance(job_id, str) and endpoint and job_id):
        return None
    from .jobs import portable_job_state

    return portable_job_state(endpoint, job_id)


def assess(rec: dict | None, ttl_s: float = 600.0, now: float | None = None) -> Verdict:
    """Whether a lock record is stale, and what is known about its holder."""
    now = time.time() if now is None else now
    if not isinstance(rec, dict):
        return Verdict(True, "the lock file is unreadable")
    if rec.get("holder") == "job" and rec.get("job_id"):
        state = _job_state(rec)
        if state in TERMINAL_JOB_STATES:
            return Verdict(True, f"its job {rec['job_id']} has ended (state {state})")
        if state is None or state == "NOT_FOUND":
            endpoint = rec.get("job_endpoint")
            where = (f"the job service {endpoint} does not know the job (a restarted service forgets its jobs, "
                     "which may still run on the cluster)" if state else f"the job service {endpoint} did not answer"
                     if endpoint else f"{rec.get('runner') or 'its runner'} cannot be asked from here")
            return Verdict(False, f"the job's state is unknown ({where}); the job releases the lock as its last step")
        return Verdict(False, f"the job's state is {state}; the job releases the lock as its last step", alive=True)
    beat = _float(rec.get("heartbeat"))
    if beat is None:
        return Verdict(True, "the lock has no valid heartbeat")
    age = now - beat
    if age > ttl_s:
        return Verdict(True, f"its last heartbeat is {age:.0f} s old (over {ttl_s:.0f} s)")
    if age < -ttl_s:
        return Verdict(True, f"its heartbeat lies {-age:.0f} s in the future (a wrong clock or a forged lock)")
    pid = rec.get("pid")
    same_machine = rec.get("machine") == machine_id() if rec.get("machine") else rec.get("host") == socket.gethostname()
    alive = False
    if same_machine and isinstance(pid, int) and not isinstance(pid, bool):
        ticks = rec.get("pid_start") if isinstance(rec.get("pid_start"), int) else None
        if not pid_alive(pid, ticks):
            return Verdict(True, f"its process {pid} on this machine has exited")
        alive = True
    when = f"{age:.0f} s ago" if age >= 0 else f"{-age:.0f} s in the future (clocks differ)"
    return Verdict(False, f"last heartbeat {when}", stale_at=beat + ttl_s, alive=alive)


def describe(rec: dict) -> str:
    """Who holds a lock, in one clause."""
    started = _float(rec.get("started"))
    since = _utc(started) if started is not None else "an unknown time"
    fp = rec.get("fingerprint") or "?"
    if rec.get("holder") == "job" and rec.get("job_id"):
        where = f" at {rec['job_endpoint']}" if rec.get("job_endpoint") else ""
        return (f"the job {rec['job_id']} on {rec.get('runner') or 'a remote runner'}{where} (configuration {fp}, "
                f"submitted from process {rec.get('pid')} on {rec.get('host')} at {since})")
    what = "the launcher (submitting a job)" if rec.get("holder") == "job" else "the run"
    return f"{what} of process {rec.get('pid')} on {rec.get('host')} (configuration {fp}, started {since})"


def unlock_hint(output: str) -> str:
    return f"if you know that run is dead: jawebcorpus unlock {output}"


def release_lock(output: str, token: str) -> bool:
    """Remove the lock if ``token`` holds it (the job's last step; a launcher at its end)."""
    status, rec = read_lock(output)
    if status == "ok" and rec.get("token") == token:
        try:
            storage.remove_tree(storage.join(output, LOCK_NAME))
        except OSError:
            return False
        return True
    return False


# -- taking and holding it -------------------------------------------------------------------------
class OutputLock:
    """``with OutputLock(OUT, fingerprint): …`` holds OUT for a run.  ``job``: the lock will
    belong to a job on a remote runner (``{"runner": …, "job_endpoint": …}``): after
    :meth:`record_job` the heartbeat stops and the job's last step releases it; :meth:`hand_over`
    leaves it to the job when the launcher goes (``--detach``, an interrupted wait)."""

    def __init__(self, output: str, fingerprint: str = "", ttl_s: float = 600.0, heartbeat_s: float = 30.0,
                 settle_s: float = 1.0, job: dict | None = None):
        self.output = output
        self.path = storage.join(output, LOCK_NAME)
        self.fingerprint = fingerprint
        self.ttl_s = ttl_s
        self.heartbeat_s = heartbeat_s
        self.settle_s = settle_s
        self.token = uuid.uuid4().hex
        self.job = dict(job) if job is not None else None
        self.job_id: str | None = None
        self._kept = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._write_lock = threading.Lock()

    # -- the lock file ----------------------------------------------------------------------------
    def _record(self) -> dict:
        now = time.time()
        rec = {"token": self.token, "host": socket.gethostname(), "machine": machine_id(), "pid": os.getpid(),
               "pid_start": _start_ticks(os.getpid()), "fingerprint": self.fingerprint,
               "started": getattr(self, "_started", now), "heartbeat": now,
               "holder": "job" if self.job is not None else "launcher"}
        if self.job is not None:
            rec.update({"runner": self.job.get("runner"), "job_endpoint": self.job.get("job_endpoint"),
                        "job_id": self.job_id})
        return rec

    def _write(self) -> None:
        with self._write_lock:
            storage.atomic_write(self.path, json.dumps(self._record()).encode())

    def _read(self) -> dict | None:
        status, rec = read_lock(self.output)
        return rec if status == "ok" else None

    def _stale(self, rec: dict | None) -> bool:
        return assess(rec, self.ttl_s).stale

    def _refuse(self, rec: dict | None) -> None:
        if not rec:
            raise OutputLocked(f"output folder {self.output} is being locked by another run at this moment; "
                               f"try again in a moment ({unlock_hint(self.output)})")
        verdict = assess(rec, self.ttl_s)
        until = (f"; the lock becomes stale at {_utc(verdict.stale_at)} ({int(self.ttl_s)} s after that heartbeat) "
                 "if its run stops without releasing it") if verdict.stale_at is not None else ""
        raise OutputLocked(f"output folder {self.output} is in use by another run: {describe(rec)}; "
                           f"{verdict.why}{until}; {unlock_hint(self.output)}")

    def _acquire_local(self) -> None:
        os.makedirs(self.output, exist_ok=True)
        for _ in range(3):
            try:
                self._create_local()
            except FileExistsError:
                rec = self._read()
                if rec is None and self._young():  # another run is writing it this instant
                    self._refuse(None)
                if not self._stale(rec):
                    self._refuse(rec)
                try:
                    os.remove(self.path)  # a stale lock: take it over
                except FileNotFoundError:
                    pass
                continue
            return
        raise OutputLocked(f"could not take the lock {self.path} (other runs keep taking it)")

    def _create_local(self) -> None:
        """Create the lock file whole or not at all: the record is written to a file of this run's
        own, then hard-linked to the lock's name, which fails when the name exists (FileExistsError).
        Where hard links are not supported, an exclusive create and then the write: a run that
        finds the lock in between sees an unreadable lock younger than :data:`WRITING_GRACE_S`,
        which it leaves alone (:meth:`_young`)."""
        data = json.dumps(self._record()).encode()
        tmp = f"{self.path}.{self.token}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        try:
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                raise
            except OSError:  # no hard links on this file system
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
        finally:
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass

    def _young(self) -> bool:
        """The lock file was changed less than :data:`WRITING_GRACE_S` ago (an unreadable one is
        then being written, not left by a crash)."""
        try:
            return time.time() - os.stat(self.path).st_mtime < WRITING_GRACE_S
        except OSError:
            return False

    def _acquire_remote(self) -> None:
        status, rec = read_lock(self.output)
        if status != "absent" and not self._stale(rec):
            self._refuse(rec)
        self._write()
        time.sleep(self.settle_s)
        rec = self._read()
        if not rec or rec.get("token") != self.token:
            self._refuse(rec)

    # -- the job ----------------------------------------------------------------------------------
    def record_job(self, job_id: str | None, job_endpoint: str | None = None) -> None:
        """The job is submitted: the lock now names it, and the launcher stops its heartbeat
        (the job's last step releases the lock)."""
        if self.job is None:
            return
        self._stop_heartbeat()
        self.job_id = str(job_id) if job_id else "unknown"
        if job_endpoint:
            self.job["job_endpoint"] = job_endpoint
        status, rec = read_lock(self.output)
        if status == "ok" and rec.get("token") == self.token:
            self._write()

    def hand_over(self) -> None:
        """Leave the lock to the job on exit (it releases it as its last step)."""
        self._kept = True

    # -- context manager --------------------------------------------------------------------------
    def __enter__(self) -> "OutputLock":
        self._started = time.time()
        if storage.is_local(self.output):
            self._acquire_local()
        else:
            self._acquire_remote()
        self._thread = threading.Thread(target=self._beat, name="jawebcorpus-lock", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            status, rec = read_lock(self.output)
            if status == "absent" or (status == "ok" and rec.get("token") != self.token):
                return  # released by the job's last step, or taken over (we were presumed dead)
            try:
                if not self._stop.is_set():
                    self._write()
            except Exception:  # a heartbeat is best effort; the run goes on
                pass

    def _stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __exit__(self, *exc) -> None:
        self._stop_heartbeat()
        if not self._kept:
            release_lock(self.output, self.token)
