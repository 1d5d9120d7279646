"""Paths and files of a run, local or on object storage, through Beam's ``FileSystems``.

Every place that reads or writes the output (parts, checkpoints, statistics, samples, the band
index) and every asset a worker loads (language-ID model, UT1 lists, NG lists, band index)
goes through this module, so ``s3://``, ``gs://`` and local paths behave the same.  Input
(WARC files, snapshot listings, input lists) is read through ``corpus/fs.py``; for the schemes
it does not read itself, :func:`serve_input` registers :class:`BeamInput`, which reads them
here (the launcher and every worker call it before they read input).
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import posixpath
import shutil
import tempfile
import uuid

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from jawebcorpus.corpus import fs, paths
from jawebcorpus.corpus.remote import RemoteError

_RAW = CompressionTypes.UNCOMPRESSED  # bytes as stored: never (de)compressed by file name

__all__ = [
    "is_local", "join", "split", "exists", "listdir", "match", "remove_tree", "atomic_write", "read_bytes",
    "open_read", "read_json", "write_json", "json_bytes", "makedirs", "local_copy", "local_dir_copy", "same_or_inside",
    "has_file_system", "BeamInput", "serve_input",
]


def is_local(path: str) -> bool:
    """A path on this machine's file system (no scheme, or ``file://``): :func:`corpus.paths.is_local`,
    the project's one rule (Beam's ``FileSystems.get_scheme`` reads schemes the same way)."""
    return paths.is_local(path)


def join(base: str, *parts: str) -> str:
    return FileSystems.join(base, *parts)


def split(path: str) -> tuple[str, str]:
    """``(directory, name)`` of a path."""
    return os.path.split(path) if is_local(path) else posixpath.split(path)


def exists(path: str) -> bool:
    return FileSystems.exists(path)


def match(pattern: str, limit: int | None = None) -> list[str]:
    """Paths matching a glob pattern (none is not an error), at most ``limit`` of them."""
    found = FileSystems.match([pattern], limits=[limit] if limit else None)[0].metadata_list
    return sorted(m.path for m in found)


def listdir(path: str) -> list[str]:
    """Names of the immediate children (files and folders) of a directory; [] when absent."""
    if is_local(path):
        return sorted(os.listdir(path)) if os.path.isdir(path) else []
    prefix = path.rstrip("/") + "/"
    return sorted({p[len(prefix):].split("/")[0] for p in match(prefix + "*") if p.startswith(prefix)})


#: Objects listed, then deleted, per round of :func:`remove_tree` on object storage.
DELETE_BATCH = 1000


def remove_tree(path: str) -> None:
    """Delete a directory and everything under it, or a file (nothing when absent).

    On object storage (``s3://``, ``gs://``: one code path through Beam's ``FileSystems``) a
    folder is a key prefix, not an object: the object ``path`` itself (when it is a file) is
    deleted, then every object listed under ``path + "/"`` (the slash: ``out`` never takes
    ``out-2`` with it), :data:`DELETE_BATCH` at a time, each checked to lie under that prefix
    before it is deleted.  Bounded: a round that deletes nothing new stops with an error."""
    if is_local(path):
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
        return
    if FileSystems.exists(path):
        FileSystems.delete([path])
    prefix = path.rstrip("/") + "/"
    previous: list[str] = []
    while True:
        batch = [p for p in match(prefix + "**", limit=DELETE_BATCH) if p.startswith(prefix) and p != prefix]
        if not batch:
            return
        if batch == previous:  # the store still lists what was deleted: never loop on it
            raise OSError(f"objects under {prefix} are still listed after being deleted ({batch[0]} …)")
        FileSystems.delete(batch)
        previous = batch


def makedirs(path: str) -> None:
    """Create a local directory (object stores have no directories: nothing to do)."""
    if is_local(path):
        os.makedirs(path, exist_ok=True)


def atomic_write(path: str, data: bytes) -> None:
    """Write under a hidden temporary name, then rename: readers never see a partial file."""
    directory, name = split(path)
    tmp = join(directory, f".{name}.tmp-{uuid.uuid4().hex}")
    with FileSystems.create(tmp, compression_type=_RAW) as fh:
        fh.write(data)
    FileSystems.rename([tmp], [path])


def read_bytes(path: str) -> bytes:
    with open_read(path) as fh:
        return fh.read()


def open_read(path: str):
    """A binary stream of the file's bytes as stored."""
    return FileSystems.open(path, compression_type=_RAW)


def read_json(path: str):
    return json.loads(read_bytes(path).decode("utf-8"))


def json_bytes(value, indent: int | None = 1) -> bytes:
    """UTF-8 JSON; a lone surrogate that reached a string (it never should: decoding removes
    them) becomes ``?`` instead of failing the write."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return (text + "\n").encode("utf-8", "replace") if indent is not None else text.encode("utf-8", "replace")


def write_json(path: str, value, indent: int | None = 1) -> None:
    atomic_write(path, json_bytes(value, indent))


def _remote_versions(paths: list[str]) -> dict[str, str]:
    """``size:mtime`` of each remote file of ``paths`` that exists (absent ones are left out):
    part of an asset's cache key, so an object replaced on the store is downloaded again
    instead of served stale."""
    found = {}
    for path in paths:
        try:
            meta = FileSystems.get_filesystem(path).metadata(path)
        except Exception:  # BeamIOError: absent (or the store cannot say: reading it will tell)
            continue
        found[path] = f"{meta.size_in_bytes}:{meta.last_updated_in_seconds}"
    return found


def _cache_dir(cache_dir: str | None) -> str:
    return cache_dir or os.path.join(tempfile.gettempdir(), "jawebcorpus-assets")


def _download(src: str, dst: str) -> None:
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = f"{dst}.tmp-{uuid.uuid4().hex}"
    with open_read(src) as fh, open(tmp, "wb") as out:
        shutil.copyfileobj(fh, out, 1 << 20)
    os.replace(tmp, dst)


def local_copy(path: str, cache_dir: str | None = None) -> str:
    """A local path for an asset (a model, a list): the path itself when local, else a copy in a
    per-machine cache, downloaded once (the name is a hash of the remote path and its version)."""
    if is_local(path):
        return paths.local_path(path)
    version = _remote_versions([path]).get(path, "")  # absent: reading it below raises the store's error
    key = hashlib.sha256(f"{path}\n{version}".encode()).hexdigest()[:24]
    local = os.path.join(_cache_dir(cache_dir), key + "-" + split(path)[1][-80:])
    if not os.path.exists(local):
        _download(path, local)
    return local


def local_dir_copy(path: str, names: list[str], cache_dir: str | None = None) -> str:
    """A local folder with the files ``names`` (relative paths) of the folder ``path``: the
    folder itself when local, else a per-machine cached copy of the names that exist (one
    folder per remote path and versions of its files: a changed file gives a new copy)."""
    if is_local(path):
        return paths.local_path(path)
    wanted = {}
    for name in names:
        parts = tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", ".", ".."))
        if parts:
            wanted[join(path, *parts)] = parts
    versions = _remote_versions(list(wanted))
    found = {parts: versions[remote] for remote, parts in wanted.items() if remote in versions}
    blob = "\n".join([path, *(f"{'/'.join(p)}\t{v}" for p, v in sorted(found.items()))])
    local = os.path.join(_cache_dir(cache_dir), hashlib.sha256(blob.encode()).hexdigest()[:24])
    for parts in found:
        dst = os.path.join(local, *parts)
        if not os.path.exists(dst):
            _download(join(path, *parts), dst)
    os.makedirs(local, exist_ok=True)
    return local


def same_or_inside(path: str, base: str) -> bool:
    """``path`` is ``base`` or lies under it (local paths resolved, remote ones compared as text)."""
    if is_local(path) != is_local(base):
        return False
    if is_local(path):
        p, b = os.path.realpath(path), os.path.realpath(base)
        return p == b or p.startswith(b.rstrip(os.sep) + os.sep)
    p, b = path.rstrip("/"), base.rstrip("/")
    return p == b or p.startswith(b + "/")


# -- input on Beam's file systems ------------------------------------------------------------------
def has_file_system(path: str) -> bool:
    """A file system for ``path``'s scheme is installed (Beam registers its GCS file system even
    without the client library it needs, so ``gs://`` also needs ``google.cloud.storage``)."""
    return _has_file_system(paths.scheme(path))


_SERVED: set[str | None] = set()  # schemes found served (a file system, once there, stays)


def _has_file_system(scheme: str | None) -> bool:
    if scheme in _SERVED:
        return True
    try:
        FileSystems.get_filesystem(f"{scheme}://bucket/x" if scheme else "x")
        if scheme == "gs" and importlib.util.find_spec("google.cloud.storage") is None:
            return False
    except (ValueError, ImportError):  # no file system for the scheme, or its library is absent
        return False
    _SERVED.add(scheme)
    return True


class BeamInputStream(io.RawIOBase):
    """A file on one of Beam's file systems as an input stream (``corpus/fs.py``): opened on the
    first read; a failure to open or read is a :class:`RemoteError` (``not_found`` when the file
    does not exist, else ``remote_error``, which a rerun tries again).  Retries are the file
    system's own (the GCS client retries transient errors itself)."""

    retries = 0

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.bytes_read = 0
        self._fh = None

    def readable(self) -> bool:
        return True

    def _failed(self, exc: BaseException) -> RemoteError:
        try:
            code = "remote_error" if FileSystems.exists(self.path) else "not_found"
        except Exception:  # the store cannot say
            code = "remote_error"
        return RemoteError(code, self.path, type(exc).__name__, 0, self.bytes_read)

    def read(self, size: int = -1) -> bytes:
        if self.closed:
            raise ValueError("read from a closed stream")
        try:
            if self._fh is None:
                self._fh = open_read(self.path)
            data = self._fh.read(size)
        except Exception as exc:  # the file system's own error, whatever its type
            raise self._failed(exc) from None
        self.bytes_read += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if self._fh is not None:
            try:
                self._fh.close()
            except Exception:
                pass
            self._fh = None
        super().close()


class BeamInput:
    """The ``corpus/fs.py`` backend of every scheme one of Beam's installed file systems serves
    and ``corpus/remote.py`` does not (``gs://``, ``azfs://`` …).  All instances are equal: it
    is registered once."""

    def __eq__(self, other) -> bool:
        return isinstance(other, BeamInput)

    def __hash__(self) -> int:
        return hash(BeamInput)

    def serves(self, scheme: str | None) -> bool:
        return scheme not in (None, "file") and _has_file_system(scheme)

    def open(self, path: str, config=None) -> BeamInputStream:
        return BeamInputStream(path)

    def exists(self, path: str) -> bool | None:
        try:
            return FileSystems.exists(path)
        except Exception:  # the store cannot say: reading it will tell
            return None


def serve_input() -> None:
    """Input on Beam's file systems through ``corpus/fs.py`` (the launcher and every worker call
    this before they read input; calling it again changes nothing)."""
    fs.register(BeamInput())
