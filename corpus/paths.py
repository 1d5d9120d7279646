"""What kind of path a string is: the one place that decides "is this remote?".

A path is *remote* when it starts with a URL scheme (``scheme://``) other than ``file``; the
rule is Beam's (``FileSystems.get_scheme``), so this module, :mod:`.remote` and the pipeline's
file systems (``pipelines/storage.py``) never disagree.  ``file://`` URLs and paths without a
scheme are local.  Which schemes can be *read as input* is a separate question: the backends
of :mod:`.fs`.

:func:`path_problem` says why a path given on the command line cannot be used at all (empty,
control characters, bytes that are not UTF-8), before anything is written.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

__all__ = ["scheme", "is_remote", "is_local", "local_path", "path_problem", "shown"]

_SCHEME_RE = re.compile(r"([a-zA-Z][-a-zA-Z0-9+.]*)://")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def scheme(path: str) -> str | None:
    """The URL scheme of ``path``, lower-cased (``"gs"``, ``"file"``), or None for a plain path."""
    m = _SCHEME_RE.match(path)
    return m.group(1).lower() if m else None


def is_remote(path: str) -> bool:
    """A path on another machine (object storage, HTTP …): a scheme other than ``file``."""
    return scheme(path) not in (None, "file")


def is_local(path: str) -> bool:
    return not is_remote(path)


def local_path(path: str) -> str:
    """A ``file://`` URL as a plain path; anything else unchanged."""
    if scheme(path) == "file":
        return urllib.request.url2pathname(urllib.parse.urlsplit(path).path)
    return path


def shown(text: str, limit: int = 200) -> str:
    """``text`` safe to print: bytes that were not UTF-8 as ``\\xNN``, control characters
    escaped, at most ``limit`` characters."""
    raw = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    out = _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", raw)
    return out if len(out) <= limit else out[:limit] + "…"


def path_problem(path: object) -> str | None:
    """Why ``path`` cannot name a file or folder (None: it can)."""
    if not isinstance(path, str):
        return "not a path"
    if not path.strip():
        return "an empty path"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "bytes that are not UTF-8 (paths must be UTF-8)"
    if _CONTROL_RE.search(path):
        return "a control character"
    return None
