"""Input resolution: WARC paths, globs, Common-Crawl-shaped directories, snapshot listings.

Everything here is deterministic: the same arguments list the same files in the same order.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import re
from dataclasses import dataclass

__all__ = [
    "InputFile", "InputError", "resolve_paths", "resolve_snapshots", "snapshot_from_path",
    "open_input", "SNAPSHOT_RE", "sample_per_snapshot",
]

SNAPSHOT_RE = re.compile(r"^CC-MAIN-\d{4}-\d{2}$")
_SNAPSHOT_IN_PATH = re.compile(r"(?:^|/)crawl-data/(CC-MAIN-\d{4}-\d{2})/")
_WARC_SUFFIXES = (".warc.gz", ".warc")
UNKNOWN_SNAPSHOT = "unknown"


class InputError(ValueError):
    """An input argument that cannot be used; the message names it."""


@dataclass(frozen=True, order=True, slots=True)
class InputFile:
    snapshot: str  # CC-MAIN-YYYY-WW, or "unknown" until the warcinfo record says
    rel: str  # what goes in the warc_file column: path relative to the crawl root when known
    path: str  # what to open (local path; URLs come with remote input)


def snapshot_from_path(path: str) -> str | None:
    m = _SNAPSHOT_IN_PATH.search(path.replace(os.sep, "/"))
    return m.group(1) if m else None


def _rel_to_crawl_root(path: str) -> str:
    norm = path.replace(os.sep, "/")
    i = norm.find("crawl-data/")
    return norm[i:] if i >= 0 else norm


def _input_file(path: str) -> InputFile:
    return InputFile(snapshot_from_path(path) or UNKNOWN_SNAPSHOT, _rel_to_crawl_root(path), path)


def _walk_warcs(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in filenames:
            if name.endswith(_WARC_SUFFIXES) and not name.startswith("."):
                found.append(os.path.join(dirpath, name))
    return found


def resolve_paths(args: list[str]) -> list[InputFile]:
    """Files, globs and directories → WARC files (directories are searched recursively)."""
    files: list[str] = []
    for arg in args:
        if any(ch in arg for ch in "*?["):
            matched = sorted(glob.glob(arg, recursive=True))
            if not matched:
                raise InputError(f"input pattern matches no file: {arg}")
            for m in matched:
                files.extend(_walk_warcs(m) if os.path.isdir(m) else [m])
        elif os.path.isdir(arg):
            found = _walk_warcs(arg)
            if not found:
                raise InputError(f"input directory holds no .warc or .warc.gz file: {arg}")
            files.extend(found)
        elif os.path.exists(arg):
            if not os.access(arg, os.R_OK):
                raise InputError(f"input file is not readable: {arg}")
            files.append(arg)
        else:
            raise InputError(f"input path does not exist: {arg}")
    unique = sorted({os.path.abspath(f) for f in files})
    return sorted(_input_file(f) for f in unique)


def _sample(paths: list[str], max_files: int | None) -> list[str]:
    """A deterministic subset spread over the whole listing (by a hash of each path)."""
    if max_files is None or max_files >= len(paths):
        return paths
    chosen = sorted(paths, key=lambda p: hashlib.sha1(p.encode()).hexdigest())[:max_files]
    return sorted(chosen)


def sample_per_snapshot(files: list[InputFile], max_files: int) -> list[InputFile]:
    """At most ``max_files`` files of each snapshot, chosen as for ``--snapshot``."""
    by_snap: dict[str, list[InputFile]] = {}
    for f in files:
        by_snap.setdefault(f.snapshot, []).append(f)
    out = []
    for group in by_snap.values():
        keep = set(_sample([f.rel for f in group], max_files))
        out.extend(f for f in group if f.rel in keep)
    return sorted(out)


def resolve_snapshots(snapshots: list[str], cc_base: str, max_files: int | None = None) -> list[InputFile]:
    """Each snapshot's ``crawl-data/<ID>/warc.paths.gz`` under ``cc_base`` lists its files."""
    out: list[InputFile] = []
    for snap in snapshots:
        if not SNAPSHOT_RE.match(snap):
            raise InputError(f"not a Common Crawl snapshot id (CC-MAIN-YYYY-WW): {snap}")
        listing = os.path.join(cc_base, "crawl-data", snap, "warc.paths.gz")
        if not os.path.exists(listing):
            raise InputError(f"snapshot listing not found: {listing}")
        try:
            with gzip.open(listing, "rt", encoding="utf-8") as fh:
                rels = [line.strip() for line in fh if line.strip()]
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read snapshot listing {listing}: {exc}") from None
        for rel in _sample(rels, max_files):
            out.append(InputFile(snap, rel, os.path.join(cc_base, rel)))
    return sorted(out)


def open_input(path: str):
    """Open an input file for binary streaming reads."""
    return open(path, "rb")
