"""The stage protocol: what a stage is, how it counts, and how a WARC file runs through stages.

A stage is a small object::

    class LangIdStage(Stage):
        name = "langid"                      # its entry in the registry (corpus/stages.py)

        def setup(self, config, resources):  # once per worker: settings, heavy objects
            self.cfg = config.langid
            self.lid = resources.get(("langid_model", path), lambda: LanguageIdentifier(path))

        def apply(self, doc, count):         # once per document: exactly one outcome
            ...
            count.dropped("too_few_kana", chars=n)
            return None                      # or the document, to keep it

``count`` is bound to the stage and the document (its snapshot and bytes): ``count.kept``,
``count.dropped`` and ``count.error`` record the document's one outcome with a reason declared
in the registry (an undeclared reason raises), ``count.detail`` adds a detail row.

:func:`process_file` runs one WARC file through the read stage and a chain of document stages
in record order and returns everything the file's commit needs (surviving documents,
statistics, the file report, sample records).  It is plain Python: the Beam pipeline calls it
once per file (``pipelines/transforms.py``), and so do the benchmarks and tests.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Iterable

from .paths import is_remote, local_path
from .record import Doc
from .stages import reason_outcome
from .stats import StatsAccumulator

__all__ = ["Count", "Stage", "Resources", "LocalResources", "FileResult", "process_file", "sample_record",
           "SAMPLE_TEXT_CHARS"]

SAMPLE_TEXT_CHARS = 20_000
_log = logging.getLogger(__name__)


class Count:
    """Outcome and detail counter of one stage, bound to the current document with :meth:`bind`."""

    __slots__ = ("stats", "details", "stage", "snapshot", "nbytes", "outcome", "reason", "chars", "_checked",
                 "sampler")

    def __init__(self, stage: str, stats: StatsAccumulator | None = None, details: StatsAccumulator | None = None):
        self.stage = stage
        self.stats = stats if stats is not None else StatsAccumulator()
        self.details = details if details is not None else StatsAccumulator()
        self.snapshot = ""
        self.nbytes = 0
        self.outcome: str | None = None
        self.reason: str | None = None
        self.chars = 0
        self._checked: set[tuple[str, str]] = set()
        #: set by process_file when samples are kept: (stage, name, make_record) → None
        self.sampler: Callable[[str, str, Callable[[], dict]], None] | None = None

    def bind(self, snapshot: str, nbytes: int) -> "Count":
        """The next outcome belongs to a document of ``snapshot`` with ``nbytes`` bytes."""
        self.snapshot = snapshot
        self.nbytes = nbytes
        self.outcome = self.reason = None
        return self

    def _add(self, outcome: str, reason: str, chars: int) -> None:
        key = (outcome, reason)
        if key not in self._checked:
            declared = reason_outcome(self.stage, reason)
            if declared != outcome:
                raise ValueError(f"stage {self.stage}: reason {reason!r} is not declared as {outcome} "
                                 f"in corpus/stages.py (declared: {declared})")
            self._checked.add(key)
        self.outcome, self.reason, self.chars = outcome, reason, chars
        self.stats.add(self.snapshot, self.stage, outcome, reason, 1, chars, self.nbytes)

    def retract(self) -> None:
        """Take back the outcome recorded for the current document (its stage then failed)."""
        if self.outcome is not None:
            self.stats.add(self.snapshot, self.stage, self.outcome, self.reason, -1, -self.chars, -self.nbytes)
            self.outcome = self.reason = None

    def kept(self, reason: str, chars: int = 0) -> None:
        self._add("kept", reason, chars)

    def dropped(self, reason: str, chars: int = 0) -> None:
        self._add("dropped", reason, chars)

    def error(self, reason: str, chars: int = 0) -> None:
        self._add("error", reason, chars)

    def detail(self, kind: str, name: str, chars: int = 0, nbytes: int = 0, docs: int = 1) -> None:
        self.details.add(self.snapshot, self.stage, kind, name, docs, chars, nbytes)

    def sample(self, name: str, make_record: Callable[[], dict]) -> None:
        """Offer an audit example (e.g. a masked span with its context) under ``name``; it is
        kept, like drop samples, for the first ``--samples-per-reason`` of each name per file.
        ``make_record`` is called only when the example is kept."""
        if self.sampler is not None:
            self.sampler(self.stage, name, make_record)


class Resources:
    """What a worker process gives its stages: heavy objects shared by every stage (a
    language-ID model is loaded once even when two stages use it), and assets (models, lists)
    that may live on object storage, as local paths.

    ``get`` builds a shared object on first use.  ``local_path`` / ``local_dir`` return a local
    copy of a file / of the named files of a folder; here only local paths are accepted, the
    Beam pipeline's resources also fetch ``gs://``, ``s3://`` and other file systems of Beam.
    """

    def get(self, key: tuple, factory: Callable[[], Any]) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def local_path(self, path: str) -> str:
        if is_remote(path):
            raise ValueError(f"{path}: assets on remote storage are fetched by the pipeline's file systems")
        return local_path(path)

    def local_dir(self, path: str, names: list[str]) -> str:
        """A local folder holding ``names`` (relative paths) of the folder ``path``; names that
        do not exist there are absent."""
        return self.local_path(path)


class LocalResources(Resources):
    """A dictionary of shared objects, safe to use from several threads."""

    def __init__(self) -> None:
        self._objects: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._objects:
                self._objects[key] = factory()
            return self._objects[key]


class Stage:
    """A document stage: ``setup`` once, then ``apply`` to each document (see the module docstring)."""

    #: the stage's name in the registry (corpus/stages.py)
    name: ClassVar[str] = ""
    #: a progress counter increased for every document the stage keeps (e.g. "japanese")
    progress_on_kept: ClassVar[str | None] = None

    def setup(self, config: Any, resources: Resources) -> None:
        """Read the stage's settings from the pipeline configuration; load heavy objects."""

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        """Record exactly one outcome for ``doc`` on ``count``; return it to keep it."""
        raise NotImplementedError

    def teardown(self) -> None:
        """Release what ``setup`` acquired (child processes, files)."""


def sample_record(doc: Doc, stage: str, outcome: str, reason: str) -> dict:
    """What a person auditing a drop reason needs: provenance and the text as the stage saw it."""
    if doc.text is not None:
        text = doc.text
    elif doc.html is not None:
        text = doc.html
    else:
        text = (doc.body or b"")[: SAMPLE_TEXT_CHARS * 4].decode("utf-8", "replace")
    return {
        "stage": stage, "outcome": outcome, "reason": reason, "url": doc.url, "snapshot": doc.snapshot,
        "warc_file": doc.warc_file, "warc_offset": doc.warc_offset, "warc_length": doc.warc_length,
        "warc_record_id": doc.warc_record_id, "warc_date": doc.warc_date, "charset": doc.charset or None,
        "lang_score": doc.lang_score if doc.lang else None, "text": text[:SAMPLE_TEXT_CHARS],
    }


@dataclass
class FileResult:
    """One WARC file after the per-file stages: what its commit writes."""

    report: Any  # corpus.steps.FileReport
    docs: list[Doc] = field(default_factory=list)  # the survivors, in record order
    stats: StatsAccumulator = field(default_factory=StatsAccumulator)
    details: StatsAccumulator = field(default_factory=StatsAccumulator)
    samples: list[dict] = field(default_factory=list)
    #: (document, stage, reason) of documents dropped after ``reject_after`` (None: not kept)
    rejected: list[tuple[Doc, str, str]] | None = None


def process_file(read: Callable[[Count], Iterable[Doc]], stages: list[Stage], result: FileResult, *,
                 samples_per_reason: int = 0, progress: Callable[..., None] | None = None,
                 reject_after: str | None = None) -> FileResult:
    """Run one WARC file: ``read(count)`` yields its documents (counting every record on the
    read stage's ``count``), each goes through ``stages`` in order; survivors, statistics and
    samples go to ``result``.

    A stage that raises on a document costs that document (error ``stage_exception``, the
    exception class logged without any content), not the file.  Samples: for every stage after
    read and every drop or error reason (and every audit name a stage offers with
    :meth:`Count.sample`), the first ``samples_per_reason`` documents of the file in record
    order.  With ``reject_after`` (a stage name) and ``result.rejected`` set, documents dropped
    by a later stage are also kept there with their stage and reason.
    """
    read_count = Count("read", result.stats, result.details)
    counts = [Count(s.name, result.stats, result.details) for s in stages]
    taken: dict[tuple[str, str], int] = {}
    if samples_per_reason:
        def sampler(stage_name: str, name: str, make_record: Callable[[], dict]) -> None:
            key = (stage_name, name)
            if taken.get(key, 0) < samples_per_reason:
                taken[key] = taken.get(key, 0) + 1
                result.samples.append({"stage": stage_name, "outcome": "kept", "reason": name, **make_record()})

        for c in counts:
            c.sampler = sampler
    names = [s.name for s in stages]
    rejecting = names.index(reject_after) + 1 if result.rejected is not None and reject_after in names else None
    for doc in read(read_count):
        for stage, count in zip(stages, counts):
            count.bind(doc.snapshot, doc.payload_bytes)
            try:
                out = stage.apply(doc, count)
            except Exception as exc:  # one bad document costs one document
                _log.warning("stage %s raised %s on %s at offset %s", stage.name, type(exc).__name__,
                             doc.warc_file, doc.warc_offset)
                count.retract()
                count.error("stage_exception")
                out = None
            if count.outcome is None:
                raise RuntimeError(f"stage {stage.name} recorded no outcome for a document")
            if out is None:
                if samples_per_reason:
                    key = (stage.name, count.reason)
                    if taken.get(key, 0) < samples_per_reason:
                        taken[key] = taken.get(key, 0) + 1
                        result.samples.append(sample_record(doc, stage.name, count.outcome, count.reason))
                if rejecting is not None and count.outcome == "dropped" and names.index(stage.name) >= rejecting:
                    result.rejected.append((doc, stage.name, count.reason))
                break
            if stage.progress_on_kept and progress is not None:
                progress(**{stage.progress_on_kept: 1})
            doc = out
        else:
            result.docs.append(doc)
    return result
