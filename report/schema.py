"""The report document: what :func:`~jawebcorpus.report.build_report` returns and ``--json`` prints.

Plain JSON data (dicts and lists, so ``--json`` is ``json.dumps`` of it and stays byte for byte
what it was), declared here as ``TypedDict`` so that the analysis that builds it and the two
renderers that read it agree on every key.  Keys appear in ``--json`` in the order declared.
"""

from __future__ import annotations

from typing import Any, TypedDict

from .estimates import Estimate

__all__ = [
    "ReasonEntry", "KeptReason", "StageEntry", "Funnel", "FilesSummary", "WrittenSummary", "RuleEntry",
    "QualityReport", "TermEntry", "NgWordsReport", "Histogram", "DedupSnapshot", "DedupReport", "DetailSum",
    "OutcomeEntry", "PiiKindEntry", "PiiReport", "QualityModelReport",
    "SampleEntry", "SamplesSummary", "SnapshotExtrapolation", "Extrapolation", "RunReport", "Report",
]


class ReasonEntry(TypedDict):
    """A drop or error reason of a stage (``share``: of the documents entering the stage)."""

    outcome: str
    reason: str
    docs: int
    chars: int
    bytes: int
    share: float | None


class KeptReason(TypedDict):
    reason: str
    docs: int
    chars: int
    bytes: int


class StageEntry(TypedDict):
    """One stage of a funnel (all snapshots, or one)."""

    stage: str
    in_docs: int
    in_bytes: int
    kept_docs: int
    kept_chars: int
    kept_bytes: int
    dropped_docs: int
    dropped_chars: int
    error_docs: int
    error_chars: int
    in_chars: int  # what the stage before kept (its own rows' characters for the first stage)
    kept_share: float | None
    chars_share: float | None  # None where the character unit changes (read … extract)
    reasons: list[ReasonEntry]  # largest first
    top_reasons: list[ReasonEntry]  # the first ``top`` of them
    kept_reasons: list[KeptReason]


class Funnel(TypedDict):
    total: list[StageEntry]
    snapshots: dict[str, list[StageEntry]]


class FilesSummary(TypedDict):
    total: int
    ok: int
    failed: int
    records: int
    captures: int
    pages: int
    failed_list: list[dict]  # path, snapshot, error, message, records (the first 200)


class WrittenSummary(TypedDict):
    docs: int
    chars: int
    share_of_captures: float | None
    per_snapshot: dict[str, dict]  # snapshot → {"docs", "chars"}


class RuleEntry(TypedDict):
    rule: str
    number: int | None  # 1 … 21 in the reference's order; None for a rule it does not know
    disabled: bool
    alone_docs: int
    alone_chars: int
    alone_share: float | None
    first_docs: int
    first_chars: int
    first_share: float | None


class QualityReport(TypedDict):
    in_docs: int
    in_chars: int
    kept_docs: int
    dropped_docs: int
    rules: list[RuleEntry]
    has_rule_fails: bool


class TermEntry(TypedDict):
    term: str
    matched_docs: int
    matched_chars: int
    removed_docs: int
    removed_chars: int
    removed_share: float | None
    matched_share: float | None


class NgWordsReport(TypedDict):
    in_docs: int
    dropped_docs: int
    dropped_chars: int
    terms: list[TermEntry]
    terms_removing: int
    mode: Any


class Histogram(TypedDict):
    bins: list[str]  # lower bin edges
    docs: list[int]
    chars: list[int]
    total: int


class DedupSnapshot(TypedDict):
    snapshot: str
    in_docs: int
    removed_docs: int
    removed_chars: int
    kept_docs: int
    removed_share: float | None
    reasons: list[ReasonEntry]


class DedupReport(TypedDict):
    snapshots: list[DedupSnapshot]
    cluster_sizes: dict | None  # bins, clusters, documents (None without cluster_docs rows)
    kept_copy_in: dict | None  # removed_in, kept_in, docs ("<removed in>\t<kept in>" → documents)
    other_details: list[dict]  # snapshot, kind, name, docs, chars


class OutcomeEntry(TypedDict):
    """A reason the stage class declares (``jawebcorpus/registry.py``) (or one it wrote without declaring)."""

    outcome: str
    reason: str
    meaning: str
    docs: int
    chars: int


class PiiKindEntry(TypedDict):
    """One kind of personal data (``filters/pii.py`` KINDS order, then kinds it does not know)."""

    kind: str
    mode: str | None  # mask | drop | off, from run.json's config; None when not recorded
    placeholder: str | None
    matches: int  # pii_matches
    docs: int  # pii_docs: documents with a match
    chars: int  # pii_docs: characters matched
    docs_share: float | None  # of the documents entering the stage
    matches_per_million_chars: float | None  # of the characters entering the stage
    chars_per_million_chars: float | None
    samples: dict | None  # file, count: OUT/samples/pii/found_<kind>.jsonl


class PiiReport(TypedDict):
    stage: str
    in_docs: int
    in_chars: int
    kept_docs: int  # unchanged + masked
    dropped_docs: int  # reason pii (a kind in drop mode matched)
    dropped_chars: int
    outcomes: list[OutcomeEntry]  # unchanged, masked, pii …
    matches: int
    chars_matched: int
    kinds: list[PiiKindEntry]
    modes_known: bool  # run.json has the pii configuration


class _QualityModelNames(TypedDict, total=False):
    name: str | None  # a named model's name (None: the unnamed model)
    column: str  # quality_score or quality_<name>
    reads: str | None  # "expected grade 0–3" / "probability of __label__hq" (named models)
    models: list["QualityModelReport"]  # every model of the run, the first one first (the section only)


class QualityModelReport(_QualityModelNames):
    stage: str
    hist_kind: str  # hist:quality_score
    model: Any  # quality_model.path (redacted)
    label: Any
    threshold: float | None
    threshold_position: float | None  # on the histogram's x axis, in bins
    in_docs: int
    kept_docs: int
    dropped_docs: int  # quality_model_below
    dropped_chars: int
    dropped_share: float | None
    outcomes: list[OutcomeEntry]
    histogram: Histogram  # every document scored (bins of 0.05)
    below_threshold_bins_docs: int | None  # documents in the bins wholly below the threshold


class DetailSum(TypedDict):
    stage: str
    kind: str
    name: str
    docs: int
    chars: int
    bytes: int


class SampleEntry(TypedDict):
    stage: str
    reason: str
    file: str
    count: int


class SamplesSummary(TypedDict):
    dir: str | None
    reasons: list[SampleEntry]
    documents: int


class _SnapshotExtrapolation(TypedDict):
    snapshot: str
    files_read: int
    files_failed: int
    files_in_snapshot: int
    files_source: str  # listing | assumed | --files-per-snapshot
    listing: str | None
    method: str  # per file | per capture | complete | none
    captures_read: int
    docs_written: int
    chars_written: int
    input_pages: Estimate
    docs: Estimate
    chars: Estimate
    error_note: str
    notes: list[str]


class SnapshotExtrapolation(_SnapshotExtrapolation):
    """One snapshot (a snapshot without per-file records has ``notes`` before ``error_note``)."""


class Extrapolation(TypedDict):
    snapshots: list[SnapshotExtrapolation]
    sampled: dict  # snapshots, input_pages, docs, chars (Estimate)
    projected: dict  # snapshots, factor, input_pages, docs, chars (Estimate)
    captures_per_file: int
    snapshots_total: int
    per_file_source: str | None
    deduplicated: bool
    notes: list[str]


class RunReport(TypedDict):
    """One output directory."""

    dir: str
    name: str
    label: str
    preset: str
    fingerprint: str | None
    until: Any
    runner: Any
    seconds: Any
    started: Any
    versions: dict
    command: Any
    config: dict
    stages: list[str]
    snapshot_ids: list[str]
    files: FilesSummary
    written: WrittenSummary
    funnel: Funnel
    quality: QualityReport | None
    ngwords: NgWordsReport | None
    histograms: dict[str, Histogram]
    dedup: DedupReport | None
    pii: PiiReport | None  # None: the run had no pii stage
    quality_model: QualityModelReport | None  # None: the run had no quality model
    hygiene: dict | None  # opt-outs, licences, contamination (report/hygiene.py); None: no such stage
    other_details: list[DetailSum]
    samples: SamplesSummary
    extrapolation: Extrapolation
    accounting_problems: list[str]
    stats_warnings: list[str]
    skipped: list[str]  # parts of the folder not read (not regular files inside it, too large, damaged)
    key: str  # A, B, … (added last)


class Report(TypedDict):
    report: str
    generated: str  # UTC time of the build
    runs: list[RunReport]
    config_differences: list[dict]  # setting, values (one per run)
    swallow: dict
    options: dict  # top, files_per_snapshot, captures_per_file, snapshots_total
