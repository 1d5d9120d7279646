"""The typed model of one output directory: what a run wrote, loaded into frozen dataclasses.

:func:`load_run` reads ``OUT/stats/stages.json`` (:class:`StageRow`: one row per snapshot,
stage, outcome and reason), ``details.json`` (:class:`DetailRow`), the per-file records
(:class:`FileEntry`: ``OUT/stats/files/*.jsonl``, or ``files.json`` of older outputs),
``run.json`` (:class:`RunInfo`), the example documents under ``OUT/samples/``
(:class:`SampleFile`) and the documents and characters written per WARC file (:class:`Written`,
from the per-file records or the Parquet output) into one :class:`RunStats`.

The folder is read as untrusted (:mod:`.folder`): regular files inside it only, within size
and nesting bounds.  Loading checks and normalises what the report reads: counts are integers
from 0 to 2⁶³ − 1 (missing or null → 0), names and reasons are text (with control characters
replaced), a missing snapshot is ``"?"``; values the report only passes through to ``--json``
(the configuration, versions, command, timings) keep their JSON types, within bounds.  Statistics
it cannot trust (``stats/``: a file that is not a regular file inside the folder, too large, not
JSON, a list that is not a list of objects, a row without a stage, a value of the wrong type or
out of range) are a :class:`ReportError` (one line, exit status 2); example documents and
Parquet files it cannot trust are skipped and listed in :attr:`RunStats.skipped`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from jawebcorpus.corpus.redact import display_path, redact_args, redact_text, redact_value
from jawebcorpus.registry import STAGE_NAMES

from .folder import LIMITS, Folder, Refused, ReportError, count, parse_json, plain, sample_lines, text_of

__all__ = [
    "ReportError", "StageRow", "DetailRow", "FileEntry", "RunInfo", "SampleFile", "Written", "RunStats",
    "load_run",
]

#: A value as JSON holds it (the configuration, versions …), passed through to ``--json``.
JSON = Any


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _int(r: Mapping, key: str) -> int:
    return count(r.get(key), key)


def _str(r: Mapping, key: str, missing: str | None = "") -> str | None:
    return text_of(r.get(key), key, missing)


def _snapshot(r: Mapping) -> str:
    return _str(r, "snapshot") or "?"


@dataclass(frozen=True, slots=True)
class StageRow:
    """One row of ``stages.json``: the documents of a snapshot with one outcome at one stage."""

    snapshot: str
    stage: str
    outcome: str  # kept | dropped | error (anything else counts as an error)
    reason: str
    docs: int
    chars: int
    bytes: int

    @classmethod
    def from_json(cls, r: Mapping) -> StageRow:
        if r.get("stage") is None:
            raise Refused("a row without a stage")
        return cls(_snapshot(r), _str(r, "stage"), _str(r, "outcome"), _str(r, "reason"),
                   _int(r, "docs"), _int(r, "chars"), _int(r, "bytes"))

    def as_json(self) -> dict:
        """The row as ``stages.json`` holds it (what :func:`corpus.stats.check_accounting` reads)."""
        return {"snapshot": self.snapshot, "stage": self.stage, "outcome": self.outcome, "reason": self.reason,
                "docs": self.docs, "chars": self.chars, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One row of ``details.json``: a count of one ``kind`` (histogram bin, rule, term …) at a stage."""

    snapshot: str
    stage: str
    kind: str  # declared by each stage class (jawebcorpus/registry.py) (``hist:<name>``, ``rule_fails`` …)
    name: str
    docs: int
    chars: int
    bytes: int

    @classmethod
    def from_json(cls, r: Mapping) -> DetailRow:
        return cls(_snapshot(r), _str(r, "stage"), _str(r, "kind"), _str(r, "name"),
                   _int(r, "docs"), _int(r, "chars"), _int(r, "bytes"))

    def as_json(self) -> dict:
        return {"snapshot": self.snapshot, "stage": self.stage, "kind": self.kind, "name": self.name,
                "docs": self.docs, "chars": self.chars, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One input WARC file's record (``OUT/stats/files/``): the sampling unit of the extrapolation."""

    path: str | None
    warc_file: str | None  # the path below the input root (``crawl-data/<ID>/segments/…``)
    snapshot: str
    status: str | None  # ``ok`` or ``failed``
    error: str | None
    message: str | None
    records: int
    responses: int  # captures
    pages: int  # HTML pages

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def from_json(cls, f: Mapping) -> FileEntry:
        def opt(k, redact=None):
            v = _str(f, k, None)
            return None if v is None else redact(v) if redact else v

        return cls(opt("path", display_path), opt("warc_file"), _snapshot(f), opt("status"),
                   opt("error"), opt("message", redact_text), _int(f, "records"), _int(f, "responses"),
                   _int(f, "pages"))


@dataclass(frozen=True, slots=True)
class RunInfo:
    """``run.json``: what was run, with which configuration (empty when the file is missing)."""

    preset: str
    fingerprint: str | None = None
    until: JSON = None
    runner: JSON = None
    seconds: JSON = None
    started: JSON = None
    versions: dict = field(default_factory=dict)
    command: JSON = None
    config: dict = field(default_factory=dict)  # the configuration, section → settings
    stages: tuple[str, ...] = ()  # the stages of the run in order

    @classmethod
    def from_json(cls, run: Mapping) -> RunInfo:
        """``run.json`` as the report may show it: the command line and the configuration pass
        through the pipeline's redaction again (``corpus/redact.py``), since an output written by
        an older version may hold a secret (``--s3_secret_access_key=…``, a presigned URL)."""
        run = plain(run, "run.json")  # bounded nesting, finite numbers, text shown safely
        cfg = run.get("config") or {}
        if not isinstance(cfg, dict):
            cfg = {}
        cfg = redact_value(cfg)
        versions = run.get("versions") or {}
        if not isinstance(versions, dict):
            raise Refused(f"versions is {type(versions).__name__} where an object belongs")
        stages = run.get("stages") or []
        preset = _str(run, "preset", None) or text_of(cfg.get("preset"), "config.preset", None) or "?"
        return cls(preset=preset, fingerprint=_str(run, "fingerprint", None), until=run.get("until"),
                   runner=redact_value(run.get("runner")), seconds=run.get("seconds"), started=run.get("started"),
                   versions=versions, command=_redacted_command(run.get("command")), config=cfg,
                   stages=tuple(s for s in (stages if isinstance(stages, list) else []) if isinstance(s, str)))

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        """``config[section][key]``, or ``default`` when either is missing (or not an object)."""
        sec = self.config.get(section)
        return sec.get(key, default) if isinstance(sec, dict) else default


def _redacted_command(command: JSON) -> JSON:
    """A recorded command line without secrets: a list through :func:`redact_args`, a string
    split at white space first; anything else as :func:`redact_value` leaves it."""
    if isinstance(command, str):
        return " ".join(redact_text(a) for a in redact_args(command.split()))
    if isinstance(command, (list, tuple)) and all(isinstance(a, str) for a in command):
        return [redact_text(a) for a in redact_args(command)]
    return redact_value(command)


@dataclass(frozen=True, slots=True)
class SampleFile:
    """``OUT/samples/<stage>/<reason>.jsonl``: example documents of one drop reason."""

    stage: str
    reason: str
    file: str
    count: int


class Written(NamedTuple):
    """Documents and characters written from one WARC file."""

    docs: int
    chars: int


@dataclass(frozen=True, slots=True)
class RunStats:
    """What one output directory holds (statistics, samples, per-file written counts)."""

    path: str
    name: str
    info: RunInfo
    stages: tuple[StageRow, ...]
    details: tuple[DetailRow, ...]
    files: tuple[FileEntry, ...]
    #: in pipeline order of their stage, then by reason
    samples: tuple[SampleFile, ...] = ()
    samples_dir: str | None = None
    #: (snapshot, warc_file) → documents and characters written; None when neither the per-file
    #: records nor the Parquet output give them
    written_per_file: Mapping[tuple[str, str], Written] | None = None
    written_source: str = ""  # where written_per_file came from
    files_source: str = "files.json"  # where the per-file records came from (``OUT/stats/files``)
    #: parts of the folder not read (example documents, Parquet files it cannot trust), one line each
    skipped: tuple[str, ...] = ()

    @property
    def preset(self) -> str:
        return self.info.preset

    @property
    def label(self) -> str:
        return f"{self.name} ({self.preset})"

    def has_stage(self, name: str) -> bool:
        return any(r.stage == name for r in self.stages)


# ------------------------------------------------------------------------------------------------
def _where(folder: Folder, rel: str) -> str:
    return os.path.join(folder.path, *rel.split("/"))


def _stats_json(folder: Folder, rel: str, limit: int = LIMITS["stats_json"], default=None, required: bool = False):
    """A statistics file, or ``default`` when it is missing; anything it cannot trust: :class:`ReportError`."""
    if folder.kind(rel) == "missing":
        if required:
            raise ReportError(f"{_where(folder, rel)} not found: is this the --output directory of a jawebcorpus run?")
        return default
    try:
        return folder.read_json(rel, limit)
    except Refused as why:
        raise ReportError(f"{_where(folder, rel)}: {why}") from None


def _checked(path: str, data) -> list:
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ReportError(f"{path} is not a list of rows")
    return data


def _rows(path: str, data, cls):
    out = []
    for i, r in enumerate(_checked(path, data)):
        try:
            out.append(cls.from_json(r))
        except Refused as why:
            raise ReportError(f"{path}: row {i + 1}: {why}") from None
    return tuple(out)


def _sample_file(folder: Folder, rel: str, reason: str) -> tuple[str, int]:
    """The reason an example file holds (its first line's, when the name is a sanitised form of
    it) and its non-blank lines."""
    fh, size = folder.open(rel, LIMITS["sample_file"])
    folder.charge(size)
    n = 0
    with fh:
        for line in sample_lines(fh, LIMITS["sample_line"]):
            if n == 0 and line is not None:
                try:
                    first = parse_json(line)
                except Refused:
                    first = None
                if isinstance(first, dict) and isinstance(first.get("reason"), str) and first["reason"]:
                    reason = text_of(first["reason"], "reason")
            n += 1
    return reason, n


def _scan_samples(folder: Folder, skipped: list[str]) -> tuple[str | None, tuple[SampleFile, ...]]:
    """``OUT/samples/<stage>/<reason>.jsonl``, in pipeline order of the stage, then by reason."""
    root = _where(folder, "samples")
    kind = folder.kind("samples")
    if kind != "dir":
        if kind not in ("missing", "file"):
            skipped.append(f"{root}: {kind}")
        return None, ()
    found: dict[tuple[str, str], SampleFile] = {}
    try:
        for stage_dir in folder.listdir("samples"):
            kind = folder.kind(f"samples/{stage_dir}")
            if kind != "dir":
                if kind not in ("missing", "file"):
                    skipped.append(f"{os.path.join(root, stage_dir)}: {kind}")
                continue
            stage = text_of(stage_dir, "stage")
            for name in folder.listdir(f"samples/{stage_dir}"):
                if not name.endswith(".jsonl") or name.startswith("."):
                    continue
                rel = f"samples/{stage_dir}/{name}"
                try:
                    reason, n = _sample_file(folder, rel, text_of(name[: -len(".jsonl")], "reason"))
                except Refused as why:
                    skipped.append(f"{_where(folder, rel)}: {why}")
                    if folder.read_total > LIMITS["total"]:
                        raise
                    continue
                found[(stage, reason)] = SampleFile(stage, reason, _where(folder, rel), n)
    except Refused as why:
        skipped.append(f"{root}: not all read: {why}")

    def order(s: SampleFile):
        return (STAGE_NAMES.index(s.stage) if s.stage in STAGE_NAMES else 99, s.reason)

    return root, tuple(sorted(found.values(), key=order))


def _file_records(folder: Folder) -> tuple[list, str, str]:
    """The per-file records, where they came from, and its name in messages.

    ``OUT/stats/files/*.jsonl`` (sharded; in snapshot, file, path order, the order of the
    ``files.json`` that older outputs wrote, which is read as it is).
    """
    stats = _where(folder, "stats")
    kind = folder.kind("stats/files")
    if kind == "dir":
        recs = []
        try:
            names = folder.listdir("stats/files")
        except Refused as why:
            raise ReportError(f"{stats}/files/: {why}") from None
        for name in names:
            if not name.endswith(".jsonl"):
                continue
            try:
                data = folder.read(f"stats/files/{name}", LIMITS["stats_json"])
                for n, line in enumerate(data.split(b"\n"), 1):
                    if line.strip():
                        try:
                            recs.append(parse_json(line))
                        except Refused as why:
                            raise Refused(f"line {n}: {why}") from None
            except Refused as why:
                raise ReportError(f"{stats}/files/{name}: {why}") from None
        keyed = []
        for i, r in enumerate(_checked(f"{stats}/files/", recs)):
            try:
                keyed.append((tuple(_str(r, k) or "" for k in ("snapshot", "warc_file", "path")), i, r))
            except Refused as why:
                raise ReportError(f"{stats}/files/: record {i + 1}: {why}") from None
        return [r for _k, _i, r in sorted(keyed, key=lambda t: t[:2])], f"{stats}/files/", "OUT/stats/files"
    if kind != "missing":
        raise ReportError(f"{stats}/files: {kind}")
    legacy = _stats_json(folder, "stats/files.json", LIMITS["files_json"])
    return [] if legacy is None else legacy, f"{stats}/files.json", "files.json"


def _written_from_files(path: str, files: list[dict]) -> dict[tuple[str, str], Written] | None:
    """Per-file written documents/characters, when the per-file records carry them."""
    for kd, kc in (("written_docs", "written_chars"), ("written", "written_chars"), ("kept_docs", "kept_chars")):
        if files and all(kd in f and kc in f for f in files):
            out = {}
            for i, f in enumerate(files):
                try:
                    out[(_snapshot(f), _str(f, "warc_file", None))] = Written(_int(f, kd), _int(f, kc))
                except Refused as why:
                    raise ReportError(f"{path}: record {i + 1}: {why}") from None
            return out
    return None


def _constant_column(md, schema, name: str):
    """The single value of a column according to the row-group statistics, or None."""
    idx = schema.get_field_index(name)
    if idx < 0:
        return None
    value = None
    for i in range(md.num_row_groups):
        st = md.row_group(i).column(idx).statistics
        if st is None or not st.has_min_max or st.min != st.max or (value is not None and st.min != value):
            return None
        if st.null_count:
            return None
        value = st.min
    return value


def _parquet_files(folder: Folder, skipped: list[str], max_depth: int = 8):
    """The ``*.parquet`` files under ``OUT/data`` (folders and names in order, hidden ones left out)
    that are regular files inside the folder; the others are listed in ``skipped``."""
    stack = [("data", 0)]
    while stack:
        rel, depth = stack.pop()
        subdirs = []
        for n, kind, real in folder.scan(rel):
            if n.startswith("."):
                continue
            sub = f"{rel}/{n}"
            if kind == "dir":
                if depth < max_depth:
                    subdirs.append((sub, depth + 1))
            elif n.endswith(".parquet"):
                if kind == "file":
                    yield sub, real
                else:
                    skipped.append(f"{_where(folder, sub)}: {kind}")
        stack.extend(reversed(subdirs))


_PROC_FD = os.path.isdir("/proc/self/fd")


def _open_parquet(real: str):
    """A Parquet file (found regular by the folder's scan) whose metadata is within bounds,
    opened for pyarrow → (descriptor, ParquetFile).  Its data is read column by column, never whole."""
    import pyarrow.parquet as pq

    fd, size = Folder.open_fd(real)
    try:
        tail = os.pread(fd, 8, size - 8) if size >= 12 else b""
        footer = int.from_bytes(tail[:4], "little")
        if tail[4:] != b"PAR1" or footer > size - 12:
            raise Refused("not a Parquet file")
        if footer > LIMITS["parquet_footer"]:
            raise Refused(f"metadata of {footer:,} bytes, over the limit of {LIMITS['parquet_footer']:,}")
        # pyarrow reads a path natively (a Python file object costs more): on Linux the
        # descriptor's own path, so that it opens the very file checked here
        pf = pq.ParquetFile(f"/proc/self/fd/{fd}" if _PROC_FD else os.fdopen(os.dup(fd), "rb"))
        md, schema = pf.metadata, pf.schema_arrow
        columns = [i for i in (schema.get_field_index(n) for n in ("snapshot", "warc_file", "num_chars")) if i >= 0]
        for i in range(md.num_row_groups):
            rg = md.row_group(i)
            for j in columns:
                chunk = rg.column(j).total_uncompressed_size
                if chunk > LIMITS["stats_json"]:
                    raise Refused(f"a column chunk of {chunk:,} bytes, over the limit of {LIMITS['stats_json']:,}")
        return fd, pf
    except BaseException:
        os.close(fd)
        raise


def _written_from_parquet(folder: Folder, skipped: list[str]) -> dict[tuple[str, str], Written] | None:
    """Per-file written documents/characters from the Parquet output (``warc_file``, ``num_chars``).

    A part file holds one WARC file's documents: its ``snapshot`` and ``warc_file`` are read from
    the row-group statistics and only ``num_chars`` is read; other files are grouped in full.
    """
    kind = folder.kind("data")
    if kind != "dir":
        if kind not in ("missing", "file"):
            skipped.append(f"{_where(folder, 'data')}: {kind}")
        return None
    try:
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the package
        return None
    result: dict[tuple[str, str], list[int]] = {}
    try:
        for rel, real in _parquet_files(folder, skipped):
            try:
                fd, pf = _open_parquet(real)
            except Refused as why:
                skipped.append(f"{_where(folder, rel)}: {why}")
                continue
            try:
                md, schema = pf.metadata, pf.schema_arrow
                if md.num_rows == 0:
                    continue
                snap, wf = _constant_column(md, schema, "snapshot"), _constant_column(md, schema, "warc_file")
                if snap is not None and wf is not None:
                    col = pf.read(columns=["num_chars"], use_threads=False).column(0)
                    v = result.setdefault((snap, wf), [0, 0])
                    v[0] += md.num_rows
                    v[1] += int(pc.sum(col).as_py() or 0)
                    continue
                t = pf.read(columns=["snapshot", "warc_file", "num_chars"])
                agg = t.group_by(["snapshot", "warc_file"]).aggregate([("num_chars", "count"), ("num_chars", "sum")])
                for s_, w_, c_, n_ in zip(agg.column("snapshot").to_pylist(), agg.column("warc_file").to_pylist(),
                                          agg.column("num_chars_count").to_pylist(),
                                          agg.column("num_chars_sum").to_pylist()):
                    v = result.setdefault((s_, w_), [0, 0])
                    v[0] += int(c_ or 0)
                    v[1] += int(n_ or 0)
            finally:
                os.close(fd)
    except Exception as exc:  # a foreign or damaged file: no per-file figures rather than no report
        skipped.append(f"{_where(folder, 'data')}: not used for per-file figures ({type(exc).__name__})")
        return None
    return {k: Written(d, c) for k, (d, c) in result.items()}


def load_run(out: str, read_data: bool = True) -> RunStats:
    """Read an output directory of ``jawebcorpus run`` (``read_data``: the Parquet output too, when
    the per-file records do not give the documents written per file), as untrusted (:mod:`.folder`)."""
    if _URL.match(out):
        raise ReportError(f"{out}: the report reads a local folder; copy the output's stats/ (and samples/) "
                          f"to one first, e.g. with gsutil -m cp -r or aws s3 cp --recursive")
    out = os.path.normpath(out)
    stats = os.path.join(out, "stats")
    folder = Folder(out)
    kind = folder.kind("stats") if os.path.isdir(out) else "missing"
    if kind in ("missing", "file"):
        raise ReportError(f"{out}: no stats/ directory: is this the --output directory of a jawebcorpus run?")
    if kind != "dir":
        raise ReportError(f"{stats}: {kind}")
    stages = _stats_json(folder, "stats/stages.json", required=True)
    details = _stats_json(folder, "stats/details.json")
    files, files_path, files_source = _file_records(folder)
    run = _stats_json(folder, "stats/run.json", LIMITS["run_json"])
    details = [] if details is None else details  # missing (or null): none
    run = {} if run is None else run
    if not isinstance(stages, list):
        raise ReportError(f"{stats}/stages.json is not a list of rows")
    if not isinstance(run, dict):
        raise ReportError(f"{stats}/run.json is not an object")
    try:
        info = RunInfo.from_json(run)
    except Refused as why:
        raise ReportError(f"{stats}/run.json: {why}") from None
    skipped: list[str] = []
    samples_dir, samples = _scan_samples(folder, skipped)
    file_rows = _rows(files_path, files, FileEntry)
    written, source = _written_from_files(files_path, files), files_source
    if written is None and read_data:
        written, source = _written_from_parquet(folder, skipped), "OUT/data (Parquet)"
    return RunStats(
        path=out, name=os.path.basename(os.path.abspath(out)) or out, info=info,
        stages=_rows(f"{stats}/stages.json", stages, StageRow),
        details=_rows(f"{stats}/details.json", details, DetailRow), files=file_rows,
        samples=samples, samples_dir=samples_dir,
        written_per_file=written, written_source=source if written is not None else "",
        files_source=files_source, skipped=tuple(skipped))
