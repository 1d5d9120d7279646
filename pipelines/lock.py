"""A lock on an output folder, so two runs never write into one ``--output`` at the same time.

``OUT/_lock.json`` names its holder (a random token, host, process, configuration fingerprint,
start time) and a heartbeat time the holder refreshes while it runs.  A lock whose heartbeat is
older than ``ttl_s`` is stale (its run crashed or was killed) and is taken over; so is one held
by a process of this machine that no longer exists.  Nothing has to be cleaned up by hand
after a crash.

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

from . import storage

__all__ = ["OutputLock", "OutputLocked", "LOCK_NAME"]

LOCK_NAME = "_lock.json"


class OutputLocked(Exception):
    """Another run holds the output folder."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class OutputLock:
    def __init__(self, output: str, fingerprint: str = "", ttl_s: float = 600.0, heartbeat_s: float = 30.0,
                 settle_s: float = 1.0):
        self.output = output
        self.path = storage.join(output, LOCK_NAME)
        self.fingerprint = fingerprint
        self.ttl_s = ttl_s
        self.heartbeat_s = heartbeat_s
        self.settle_s = settle_s
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the lock file ----------------------------------------------------------------------------
    def _record(self) -> dict:
        now = time.time()
        return {"token": self.token, "host": socket.gethostname(), "pid": os.getpid(),
                "fingerprint": self.fingerprint, "started": getattr(self, "_started", now), "heartbeat": now}

    def _read(self) -> dict | None:
        try:
            return json.loads(storage.read_bytes(self.path).decode("utf-8"))
        except Exception:  # absent, or half-written by a crashed run: no valid holder
            return None

    def _stale(self, rec: dict | None) -> bool:
        if not rec or not isinstance(rec, dict):
            return True
        try:
            age = time.time() - float(rec.get("heartbeat", 0))
        except (TypeError, ValueError):
            return True
        if age > self.ttl_s:
            return True
        if rec.get("host") == socket.gethostname() and isinstance(rec.get("pid"), int):
            return not _pid_alive(rec["pid"])
        return False

    def _describe(self, rec: dict) -> str:
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(float(rec.get("started", 0) or 0)))
        return (f"process {rec.get('pid')} on {rec.get('host')} (configuration {rec.get('fingerprint') or '?'}, "
                f"started {started})")

    def _refuse(self, rec: dict) -> None:
        raise OutputLocked(
            f"output folder {self.output} is in use by another run: {self._describe(rec)}; wait for it to "
            f"finish (a crashed run's lock expires {int(self.ttl_s)} s after its last heartbeat)")

    def _acquire_local(self) -> None:
        os.makedirs(self.output, exist_ok=True)
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                rec = self._read()
                if not self._stale(rec):
                    self._refuse(rec)
                try:
                    os.remove(self.path)  # a stale lock: take it over
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as fh:
                json.dump(self._record(), fh)
            return
        raise OutputLocked(f"could not take the lock {self.path} (other runs keep taking it)")

    def _acquire_remote(self) -> None:
        rec = self._read()
        if rec is not None and not self._stale(rec):
            self._refuse(rec)
        storage.atomic_write(self.path, json.dumps(self._record()).encode())
        time.sleep(self.settle_s)
        rec = self._read()
        if not rec or rec.get("token") != self.token:
            self._refuse(rec or {})

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
            rec = self._read()
            if rec is not None and rec.get("token") != self.token:
                return  # taken over (we were presumed dead): nothing more to refresh
            try:
                storage.atomic_write(self.path, json.dumps(self._record()).encode())
            except Exception:  # a heartbeat is best effort; the run goes on
                pass

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        rec = self._read()
        if rec is not None and rec.get("token") == self.token:
            try:
                storage.remove_tree(self.path)
            except OSError:
                pass
