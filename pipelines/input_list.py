"""Input lists: ``jawebcorpus run --input-list FILE`` (the list is read inside the pipeline, so the
job graph does not grow with it) and ``jawebcorpus failed-files OUT`` (the failed files of a run,
written as such a list)."""

from __future__ import annotations

import json
import os
import sys

import apache_beam as beam

from jawebcorpus.corpus import fs, remote
from jawebcorpus.corpus.inputs import InputError, iter_lines, list_entry_files, parse_input_list
from jawebcorpus.corpus.remote import RemoteConfig

from . import storage
from .output import file_records_dir

__all__ = ["ListInputFiles", "read_input_list", "check_input_list", "failed_file_paths", "cmd_failed_files"]

_CHUNK = 1 << 16


def read_input_list(path: str, config: RemoteConfig | None = None, output: str | None = None):
    """The input files an input list names, in list order (a worker's part of the pipeline).
    Entries are checked as ``--input`` arguments are; none may lie inside ``output``."""
    base = os.path.dirname(os.path.abspath(remote.local_path(path))) if storage.is_local(path) else None
    name = remote.display_path(path)  # in messages: never a presigned URL's signature
    try:
        with fs.open_input(path, config) as fh:
            chunks = iter(lambda: fh.read(_CHUNK), b"")
            for line_no, entry in parse_input_list(chunks, name):
                for f in list_entry_files(entry, line_no, name, base):
                    if output and storage.same_or_inside(f.path, output):
                        raise InputError(f"input list {name}, line {line_no}: the input {remote.display_path(f.path)} "
                                         f"lies inside --output {output}")
                    yield f
    except InputError:
        raise
    except remote.RemoteError as exc:
        raise InputError(f"cannot read input list {name}: {exc}") from None
    except Exception as exc:  # absent, unreadable: the file systems' own errors
        raise InputError(f"cannot read input list {name}: {type(exc).__name__}") from None


def check_input_list(path: str) -> None:
    """At launch: the list exists where that can be asked without reading it (local files,
    object storage); an http(s) list is found or not when the pipeline reads it."""
    if remote.is_remote(path) and not path.lower().startswith("s3://"):
        return
    if storage.is_local(path):
        local = remote.local_path(path)
        if not os.path.isfile(local):
            raise InputError(f"input list not found: {path}")
        if not os.access(local, os.R_OK):
            raise InputError(f"input list is not readable: {path}")
        return
    try:
        found = storage.exists(path)
    except Exception:
        found = True  # the store cannot say: reading it in the pipeline will
    if not found:
        raise InputError(f"input list not found: {path}")


class ListInputFiles(beam.PTransform):
    """The input list's path → its input files (read by one worker, streamed; the files are
    spread over workers afterwards, as a snapshot listing's are)."""

    def __init__(self, path: str, config: RemoteConfig | None = None, output: str | None = None):
        super().__init__()
        self.path = path
        self.config = config
        self.output = output

    def expand(self, pbegin):
        return (
            pbegin
            | "input_list" >> beam.Create([self.path], reshuffle=False)
            | "read_input_list" >> beam.ParDo(_ReadInputListFn(self.config, self.output))
        )


class _ReadInputListFn(beam.DoFn):
    def __init__(self, config: RemoteConfig | None, output: str | None):
        self.config = config
        self.output = output

    def setup(self):
        storage.serve_input()  # a list, or files in it, on Beam's file systems (gs:// …)

    def process(self, path: str):
        yield from read_input_list(path, self.config, self.output)


# -- jawebcorpus failed-files ----------------------------------------------------------------------
#: A file record is a small JSON object; a longer line is not one of ours.
MAX_RECORD_BYTES = 1 << 20


def failed_file_paths(output: str, errors: set[str] | None = None):
    """The ``path`` of every failed file of a run (status not ``ok``, or a write error: the files
    ``files_summary.json`` counts as failed), read streaming from ``OUT/stats/files/*.jsonl`` in
    their order; ``errors``: only these error classes.  Yields ``(path, None)``, or
    ``(None, why)`` for a line that is not a file record (skipped)."""
    folder = file_records_dir(output)
    for name in storage.listdir(folder):
        if not name.endswith(".jsonl") or name.startswith("."):
            continue
        with storage.open_read(storage.join(folder, name)) as fh:
            try:
                for line_no, line in iter_lines(iter(lambda: fh.read(_CHUNK), b""), MAX_RECORD_BYTES):
                    if not line.strip():
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        rec = None
                    if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
                        yield None, f"{name} line {line_no} is not a file record"
                        continue
                    failed = rec.get("status") != "ok" or rec.get("write_error")
                    kinds = {rec.get("error"), rec.get("write_error")} - {None}
                    if failed and (errors is None or kinds & errors):
                        path = rec["path"]
                        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
                            yield None, f"{name} line {line_no} names a path with a control character"
                            continue
                        yield path, None
            except ValueError as exc:
                yield None, f"{name}: {exc}; the rest of it skipped"


def cmd_failed_files(args) -> int:
    if not storage.listdir(file_records_dir(args.output)):
        print(f"jawebcorpus: error: {args.output} has no file records (stats/files/): not the output of a "
              "finished run", file=sys.stderr)
        return 2
    n = skipped = 0
    for path, why in failed_file_paths(args.output, set(args.error) if args.error else None):
        if path is None:
            skipped += 1
            if skipped <= 5:
                print(f"jawebcorpus: warning: {why}", file=sys.stderr)
            continue
        sys.stdout.write(path + "\n")
        n += 1
    print(f"[jawebcorpus] {n:,} failed files" + (f" ({skipped} lines skipped)" if skipped else ""), file=sys.stderr)
    return 0
