"""Input, whatever its scheme: one interface to open, and ask about, WARC files, snapshot
listings, input lists and models.

* Local paths and ``file://``, ``http(s)://`` and ``s3://`` are this package's own backend
  (:mod:`.remote`): resumable, bounded streams that survive transient failures, with a
  deadline and a minimum rate per file, redirects only to the same host.
* Any other scheme (``gs://``, ``azfs://``, ``hdfs://`` …) is read through a backend registered
  with :func:`register`: the pipeline registers one that reads Apache Beam's file systems
  (``pipelines/storage.py``, in the launcher and in every worker before it reads input), so a
  scheme Beam serves needs no code here.  This package never imports Beam.

A backend is an object with ``serves(scheme) -> bool``, ``open(path, config)`` (a binary stream
with ``.read(n)``; ``.retries`` and ``.bytes_read`` when it counts them; failures to read raise
:class:`~.remote.RemoteError` with a file error class) and ``exists(path) -> bool | None``
(None: it cannot tell without reading).  Whether a path is remote at all is
:func:`.paths.is_remote`, the one rule.
"""

from __future__ import annotations

import os
import threading
from typing import Protocol

from . import paths, remote
from .remote import RemoteConfig, RemoteError

__all__ = ["Backend", "register", "unregister", "backend_for", "serves", "open_input", "read_bytes", "exists",
           "OWN_SCHEMES"]

#: Schemes the package's own backend (:mod:`.remote`) reads, besides local paths and ``file://``.
OWN_SCHEMES = ("http", "https", "s3")


class Backend(Protocol):
    def serves(self, scheme: str) -> bool: ...

    def open(self, path: str, config: RemoteConfig | None = None): ...

    def exists(self, path: str) -> bool | None: ...


class _Own:
    """Local files, ``http(s)://`` and ``s3://`` (:mod:`.remote`)."""

    def serves(self, scheme: str | None) -> bool:
        return scheme in (None, "file", *OWN_SCHEMES)

    def open(self, path: str, config: RemoteConfig | None = None):
        return remote.open_input(path, config)

    def exists(self, path: str) -> bool | None:
        if paths.is_local(path):
            return os.path.exists(paths.local_path(path))
        return None  # over the network: reading it tells


_OWN = _Own()
_registered: list[Backend] = []
_lock = threading.Lock()


def register(backend: Backend) -> None:
    """Serve the schemes ``backend`` serves (the package's own schemes stay its own); registering
    an equal backend again changes nothing."""
    with _lock:
        if backend not in _registered:
            _registered.append(backend)


def unregister(backend: Backend) -> None:
    with _lock:
        if backend in _registered:
            _registered.remove(backend)


def backend_for(path: str) -> Backend | None:
    """The backend that reads ``path`` (None: no backend serves its scheme)."""
    s = paths.scheme(path)
    if _OWN.serves(s):
        return _OWN
    for b in list(_registered):
        if b.serves(s):
            return b
    return None


def serves(path: str) -> bool:
    """A backend reads ``path``'s scheme."""
    return backend_for(path) is not None


def open_input(path: str, config: RemoteConfig | None = None):
    """Open an input for binary streaming reads (see the module docstring).  A scheme no backend
    serves raises :class:`~.remote.RemoteError` (``remote_error``)."""
    backend = backend_for(path)
    if backend is None:
        raise RemoteError("remote_error", path, f"no reader for {paths.scheme(path)}:// input is installed")
    return backend.open(path, config)


def read_bytes(path: str, config: RemoteConfig | None = None) -> bytes:
    """The whole content of a (small) input: a listing, a model, its training record."""
    with open_input(path, config) as f:
        chunks = []
        while True:
            data = f.read(1 << 20)
            if not data:
                return b"".join(chunks)
            chunks.append(data)


def exists(path: str) -> bool | None:
    """Whether ``path`` exists: True / False, or None when its backend cannot tell without
    reading it (HTTP, S3) or no backend serves it."""
    backend = backend_for(path)
    return backend.exists(path) if backend is not None else None
