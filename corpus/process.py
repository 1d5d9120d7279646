"""How one WARC file runs through the stages: :func:`process_file`.

:func:`process_file` runs one WARC file through the read stage and a chain of document stages
(:mod:`.stage`) in record order and returns everything the file's commit needs (surviving
documents, statistics, the file report, sample records).  It is plain Python: the Beam pipeline
calls it once per file (``pipelines/transforms.py``), and so do the benchmarks and tests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from .read import ReadStage
from .record import Doc
from .stage import Count, Stage
from .stats import StatsAccumulator

__all__ = ["FileResult", "process_file", "sample_record", "SAMPLE_TEXT_CHARS"]

SAMPLE_TEXT_CHARS = 20_000
_log = logging.getLogger(__name__)


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

    report: Any  # corpus.read.FileReport
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
    read_count = Count(ReadStage, result.stats, result.details)
    counts = [Count(type(s), result.stats, result.details) for s in stages]
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
