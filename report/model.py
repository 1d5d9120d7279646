"""The typed model of one output directory: what a run wrote, loaded into frozen dataclasses.

:func:`load_run` reads ``OUT/stats/stages.json`` (:class:`StageRow`: one row per snapshot,
stage, outcome and reason), ``details.json`` (:class:`DetailRow`), the per-file records
(:class:`FileEntry`: ``OUT/stats/files/*.jsonl``, or ``files.json`` of older outputs),
``run.json`` (:class:`RunInfo`), the example documents under ``OUT/samples/``
(:class:`SampleFile`) and the documents and characters written per WARC file (:class:`Written`,
from the per-file records or the Parquet output) into one :class:`RunStats`.

Loading normalises what the report reads: counts are ``int`` (missing or null → 0), names and
reasons are ``str``, a missing snapshot is ``"?"``.  Values the report only passes through to
``--json`` (the configuration, versions, command, timings) keep their JSON types.  A file that
is not a list of objects, or a stage row without a stage, is a :class:`ReportError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple

from jawebcorpus.corpus.redact import display_path, redact_args, redact_text, redact_value
from jawebcorpus.corpus.stages import STAGE_NAMES
from jawebcorpus.corpus.stats import iter_file_records

__all__ = [
    "ReportError", "StageRow", "DetailRow", "FileEntry", "RunInfo", "SampleFile", "Written", "RunStats",
    "load_run",
]

#: A value as JSON holds it (the configuration, versions …), passed through to ``--json``.
JSON = Any


class ReportError(Exception):
    """An output directory cannot be reported on (no statistics, unreadable JSON)."""


def _int(v: Any) -> int:
    return int(v or 0)


def _str(v: Any, missing: str = "") -> str:
    return missing if v is None else str(v)


def _snapshot(v: Any) -> str:
    return str(v) if v else "?"


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
            raise ValueError("a row without a stage")
        return cls(_snapshot(r.get("snapshot")), str(r["stage"]), _str(r.get("outcome")), _str(r.get("reason")),
                   _int(r.get("docs")), _int(r.get("chars")), _int(r.get("bytes")))

    def as_json(self) -> dict:
        """The row as ``stages.json`` holds it (what :func:`corpus.stats.check_accounting` reads)."""
        return {"snapshot": self.snapshot, "stage": self.stage, "outcome": self.outcome, "reason": self.reason,
                "docs": self.docs, "chars": self.chars, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class DetailRow:
    """One row of ``details.json``: a count of one ``kind`` (histogram bin, rule, term …) at a stage."""

    snapshot: str
    stage: str
    kind: str  # declared per stage in corpus/stages.py (``hist:<name>``, ``rule_fails`` …)
    name: str
    docs: int
    chars: int
    bytes: int

    @classmethod
    def from_json(cls, r: Mapping) -> DetailRow:
        return cls(_snapshot(r.get("snapshot")), _str(r.get("stage")), _str(r.get("kind")), _str(r.get("name")),
                   _int(r.get("docs")), _int(r.get("chars")), _int(r.get("bytes")))

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
            v = f.get(k)
            return None if v is None else redact(str(v)) if redact else str(v)

        return cls(opt("path", display_path), opt("warc_file"), _snapshot(f.get("snapshot")), opt("status"),
                   opt("error"), opt("message", redact_text), _int(f.get("records")), _int(f.get("responses")),
                   _int(f.get("pages")))


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
        cfg = run.get("config") or {}
        if not isinstance(cfg, dict):
            cfg = {}
        cfg = redact_value(cfg)
        preset = str(run.get("preset") or cfg.get("preset") or "?")
        return cls(preset=preset, fingerprint=run.get("fingerprint"), until=run.get("until"),
                   runner=redact_value(run.get("runner")), seconds=run.get("seconds"), started=run.get("started"),
                   versions=run.get("versions") or {}, command=_redacted_command(run.get("command")), config=cfg,
                   stages=tuple(s for s in (run.get("stages") or []) if isinstance(s, str)))

    def setting(self, section: str, key: str, default: Any = None) -> Any:
        """``config[section][key]``, or ``default`` when either is missing."""
        return (self.config.get(section) or {}).get(key, default)


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

    @property
    def preset(self) -> str:
        return self.info.preset

    @property
    def label(self) -> str:
        return f"{self.name} ({self.preset})"

    def has_stage(self, name: str) -> bool:
        return any(r.stage == name for r in self.stages)


# ------------------------------------------------------------------------------------------------
def _read_json(path: str, default=None, required: bool = False):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        if required:
            raise ReportError(f"{path} not found: is this the --output directory of a jawebcorpus run?") from None
        return default
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None


def _rows(path: str, data, cls):
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ReportError(f"{path} is not a list of rows")
    try:
        return tuple(cls.from_json(r) for r in data)
    except (TypeError, ValueError) as exc:
        raise ReportError(f"{path}: {exc}") from None


def _scan_samples(out: str) -> tuple[str | None, tuple[SampleFile, ...]]:
    """``OUT/samples/<stage>/<reason>.jsonl``, in pipeline order of the stage, then by reason."""
    root = os.path.join(out, "samples")
    if not os.path.isdir(root):
        return None, ()
    found: dict[tuple[str, str], SampleFile] = {}
    for stage in sorted(os.listdir(root)):
        sdir = os.path.join(root, stage)
        if not os.path.isdir(sdir):
            continue
        for name in sorted(os.listdir(sdir)):
            if not name.endswith(".jsonl") or name.startswith("."):
                continue
            path = os.path.join(sdir, name)
            reason = name[: -len(".jsonl")]
            count = 0
            try:
                with open(path, "rb") as fh:
                    for line in fh:
                        if line.strip():
                            if count == 0:
                                try:  # the file name may be a sanitised form of the reason
                                    first = json.loads(line)
                                    if isinstance(first, dict) and first.get("reason"):
                                        reason = str(first["reason"])
                                except ValueError:
                                    pass
                            count += 1
            except OSError:
                continue
            found[(stage, reason)] = SampleFile(stage, reason, path, count)

    def order(s: SampleFile):
        return (STAGE_NAMES.index(s.stage) if s.stage in STAGE_NAMES else 99, s.reason)

    return root, tuple(sorted(found.values(), key=order))


def _file_records(stats: str) -> tuple[list, str, str]:
    """The per-file records, where they came from, and its name in messages.

    ``OUT/stats/files/*.jsonl`` (sharded; in snapshot, file, path order, the order of the
    ``files.json`` that older outputs wrote, which is read as it is).
    """
    if os.path.isdir(os.path.join(stats, "files")):
        try:
            recs = list(iter_file_records(stats))
        except (OSError, ValueError) as exc:
            raise ReportError(f"cannot read {stats}/files/: {exc}") from None
        if all(isinstance(r, dict) for r in recs):
            recs.sort(key=lambda r: tuple(str(r.get(k) or "") for k in ("snapshot", "warc_file", "path")))
        return recs, f"{stats}/files/", "OUT/stats/files"
    return _read_json(os.path.join(stats, "files.json"), default=[]) or [], f"{stats}/files.json", "files.json"


def _written_from_files(files: list[dict]) -> dict[tuple[str, str], Written] | None:
    """Per-file written documents/characters, when the per-file records carry them."""
    for kd, kc in (("written_docs", "written_chars"), ("written", "written_chars"), ("kept_docs", "kept_chars")):
        if files and all(kd in f and kc in f for f in files):
            return {(f["snapshot"], f["warc_file"]): Written(int(f[kd] or 0), int(f[kc] or 0)) for f in files}
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


def _written_from_parquet(out: str) -> dict[tuple[str, str], Written] | None:
    """Per-file written documents/characters from the Parquet output (``warc_file``, ``num_chars``).

    A part file holds one WARC file's documents: its ``snapshot`` and ``warc_file`` are read from
    the row-group statistics and only ``num_chars`` is read; other files are grouped in full.
    """
    data = os.path.join(out, "data")
    if not os.path.isdir(data):
        return None
    try:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the package
        return None
    result: dict[tuple[str, str], list[int]] = {}
    try:
        for root, dirs, names in os.walk(data):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for n in sorted(names):
                if not n.endswith(".parquet") or n.startswith("."):
                    continue
                pf = pq.ParquetFile(os.path.join(root, n))
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
    except Exception:  # a foreign or damaged file: no per-file figures rather than no report
        return None
    return {k: Written(d, c) for k, (d, c) in result.items()}


def load_run(out: str, read_data: bool = True) -> RunStats:
    """Read an output directory of ``jawebcorpus run`` (``read_data``: the Parquet output too, when
    the per-file records do not give the documents written per file)."""
    out = os.path.normpath(out)
    stats = os.path.join(out, "stats")
    if not os.path.isdir(stats):
        raise ReportError(f"{out}: no stats/ directory: is this the --output directory of a jawebcorpus run?")
    stages = _read_json(os.path.join(stats, "stages.json"), required=True)
    details = _read_json(os.path.join(stats, "details.json"), default=[]) or []
    files, files_path, files_source = _file_records(stats)
    run = _read_json(os.path.join(stats, "run.json"), default={}) or {}
    if not isinstance(stages, list):
        raise ReportError(f"{stats}/stages.json is not a list of rows")
    if not isinstance(run, dict):
        raise ReportError(f"{stats}/run.json is not an object")
    samples_dir, samples = _scan_samples(out)
    file_rows = _rows(files_path, files, FileEntry)
    written, source = _written_from_files(files), files_source
    if written is None and read_data:
        written, source = _written_from_parquet(out), "OUT/data (Parquet)"
    return RunStats(
        path=out, name=os.path.basename(os.path.abspath(out)) or out, info=RunInfo.from_json(run),
        stages=_rows(f"{stats}/stages.json", stages, StageRow),
        details=_rows(f"{stats}/details.json", details, DetailRow), files=file_rows,
        samples=samples, samples_dir=samples_dir,
        written_per_file=written, written_source=source if written is not None else "",
        files_source=files_source)
