"""The output folder of a run: where parts, checkpoints and statistics go, and how a file is committed.

::

    OUT/data/snapshot=<ID>/part-<warc name>-<hash>.parquet   the corpus (one part per WARC file)
    OUT/stats/{stages,details,files,run}.json                the statistics of the run
    OUT/samples/<stage>/<reason>.jsonl                       examples of dropped documents
    OUT/stats/files/<snapshot>-<kk>.jsonl                    one record per input file (16 shards per snapshot)
    OUT/_runs/<run fingerprint>.json                         the configurations that wrote here
    OUT/_checkpoints/<run fingerprint>/<xx>/<part>.json      a committed file: report, statistics, samples
    OUT/_checkpoints/<run fingerprint>/parts/<xx>/<part>.parquet  its documents before dedup (with dedup)

A WARC file is committed when its checkpoint exists: its part is written first, then the
checkpoint, each atomically; a rerun skips committed files.  Checkpoints and parts are spread
over 256 prefixes ``<xx>`` (a hash of the WARC file's name), so 1.6 M of them are listed as
256 listings in parallel, never as one.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import re

from jawebcorpus.corpus.process import FileResult
from jawebcorpus.corpus.record import Doc, WriteStage, docs_to_table, table_to_docs
from jawebcorpus.corpus.stage import Column
from jawebcorpus.corpus.stats import DETAIL_KEYS, StatsAccumulator, check_accounting, histogram_bins, script_ratios
from jawebcorpus.registry import signal_columns

from . import storage
from .config import PipelineConfig

__all__ = [
    "part_name", "snapshot_dir", "checkpoint_dir", "checkpoint_path", "checkpoint_name", "checkpoint_part_path",
    "parts_dir", "shard_of", "shard_patterns", "runs_dir", "file_records_dir", "file_record_shard", "file_record_shards",
    "write_part", "commit_file", "tie_break_columns", "signal_columns", "write_rejected", "rejected_dir",
    "checkpointed_docs", "match_stubs", "read_part", "RETRY_ERRORS", "sample_order", "safe_name",
]

#: File errors a rerun should try again (the network may be back).
RETRY_ERRORS = frozenset({"remote_error", "remote_too_slow"})
#: Prefixes checkpoints and parts are spread over (listed in parallel).
CHECKPOINT_SHARDS = 256
#: Shards of the per-file records of one snapshot (``OUT/stats/files/``): at least this many …
FILE_RECORD_SHARDS = 16
#: … and as many more as keep a shard (one GroupByKey value, ≈ 0.5 KB per record) at about this
#: many records: a snapshot of over 160,000 files gets ceil(files / 10,000) shards.
FILE_RECORDS_PER_SHARD = 10_000
_SAFE = re.compile(r"[^A-Za-z0-9_.+\-]")


def safe_name(value: str, limit: int = 120) -> str:
    """A file or folder name made from a value of the data: only ``[A-Za-z0-9_.+-]``, no leading
    dot, bounded length; values that had to change get a hash suffix so two never collide."""
    clean = _SAFE.sub("_", value)[:limit].lstrip(".") or "_"
    if clean != value:
        clean = f"{clean}-{hashlib.sha1(value.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return clean


def _digest(warc_file: str) -> str:
    return hashlib.sha1(warc_file.encode("utf-8", "surrogatepass")).hexdigest()


def shard_of(warc_file: str) -> str:
    """The checkpoint prefix of a WARC file: two hex digits of its name's hash."""
    return _digest(warc_file)[:2]


def part_name(warc_file: str) -> str:
    base = posixpath.basename(warc_file.replace("\\", "/"))
    for suffix in (".warc.gz", ".warc"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return f"part-{_SAFE.sub('_', base)[:120]}-{_digest(warc_file)[:8]}.parquet"


def snapshot_dir(output_dir: str, snapshot: str) -> str:
    return storage.join(output_dir, "data", f"snapshot={safe_name(snapshot)}")


def checkpoint_dir(output_dir: str, fingerprint: str) -> str:
    return storage.join(output_dir, "_checkpoints", fingerprint)


def parts_dir(output_dir: str, fingerprint: str) -> str:
    return storage.join(checkpoint_dir(output_dir, fingerprint), "parts")


def checkpoint_name(warc_file: str, retry: bool = False) -> str:
    """``<stem>.json`` marks a completed file; ``<stem>.retry.json`` a file that failed on a
    transient remote error: it is counted, and a rerun tries it again."""
    return part_name(warc_file)[: -len(".parquet")] + (".retry.json" if retry else ".json")


def checkpoint_path(output_dir: str, fingerprint: str, warc_file: str, retry: bool = False) -> str:
    return storage.join(checkpoint_dir(output_dir, fingerprint), shard_of(warc_file), checkpoint_name(warc_file, retry))


def checkpoint_part_path(output_dir: str, fingerprint: str, warc_file: str) -> str:
    """The Parquet part of a file's documents before dedup (read back by dedup and the final write)."""
    return storage.join(parts_dir(output_dir, fingerprint), shard_of(warc_file), part_name(warc_file))


def shard_patterns(directory: str, suffix: str, sharded: bool = True) -> list[str]:
    """One glob per checkpoint prefix under ``directory`` (``<xx>/*<suffix>``): listings that
    workers run in parallel.  ``sharded=False`` (one worker, which would list the prefixes one
    after another): one glob for them all (``*/*<suffix>``, the same files), which object
    storage answers with one paginated listing instead of 256 requests."""
    if not sharded:
        return [storage.join(directory, "*", f"*{suffix}")]
    return [storage.join(directory, f"{i:02x}", f"*{suffix}") for i in range(CHECKPOINT_SHARDS)]


def runs_dir(output_dir: str) -> str:
    return storage.join(output_dir, "_runs")


def file_records_dir(output_dir: str) -> str:
    return storage.join(output_dir, "stats", "files")


def file_record_shards(files: int) -> int:
    """Shards of the file records of a snapshot of ``files`` files."""
    return max(FILE_RECORD_SHARDS, -(-int(files) // FILE_RECORDS_PER_SHARD))


def file_record_shard(record: dict, files: int = 0) -> tuple[str, int]:
    """``(snapshot, shard)`` of a file record, its snapshot having ``files`` files."""
    return record["snapshot"], int(_digest(record["warc_file"])[:8], 16) % file_record_shards(files)


def write_part(cfg: PipelineConfig, path: str, docs: list[Doc], details: StatsAccumulator | None,
               extra: tuple[Column, ...] = ()) -> StatsAccumulator:
    """One Parquet part (atomically); with ``details``, count the documents as written."""
    import pyarrow.parquet as pq

    columns = signal_columns(cfg)
    ratios = None
    if columns:  # the write stage's columns: the script shares of the written text
        ratios = [script_ratios(d.text if d.text is not None else (d.html or "")) for d in docs]
        for d, r in zip(docs, ratios):
            d.signals.update(WriteStage.script_signals(r))
    table = docs_to_table(docs, columns + extra)
    buf = io.BytesIO()
    comp = cfg.output.compression
    pq.write_table(table, buf, compression=None if comp == "none" else comp, row_group_size=cfg.output.row_group_rows)
    storage.atomic_write(path, buf.getvalue())
    written = StatsAccumulator()
    if details is not None:
        texts = table.column("text").to_pylist()
        for i, (d, n, text) in enumerate(zip(docs, table.column("num_chars").to_pylist(), texts)):
            written.add(d.snapshot, "write", "kept", "written", 1, n, d.payload_bytes)
            for kind, bin_ in histogram_bins(text or "", d.lang_score if d.lang else None, ratios and ratios[i]):
                details.add(d.snapshot, "write", kind, bin_, 1, n, d.payload_bytes)
            lic = d.signals.get("license")
            if lic:
                details.add(d.snapshot, "write", "license", lic, 1, n, d.payload_bytes)
    return written


def tie_break_columns(cfg: PipelineConfig) -> tuple[Column, ...]:
    """The score ``dedup.tie_break=quality[:NAME]`` ranks copies by, as a column of the checkpoint
    parts the dedup stage reads, when the signal columns do not already carry it
    (``output.signals=false``): the ranking must not depend on what the output shows."""
    tb = cfg.dedup.tie_break
    if not cfg.dedup.enabled or not tb.startswith("quality"):
        return ()
    col = cfg.quality_model.column_for(tb)
    if any(c.name == col for c in signal_columns(cfg)):
        return ()
    return (Column(col, "float32", "the quality score dedup.tie_break ranks copies by"),)


def rejected_dir(output_dir: str, snapshot: str) -> str:
    return storage.join(output_dir, "rejected", f"snapshot={safe_name(snapshot)}")


_REJECTED_COLUMNS = (
    Column("rejected_stage", "string", "the stage that dropped the document"),
    Column("rejected_reason", "string", "its reason code"),
)


def write_rejected(cfg: PipelineConfig, output_dir: str, rel: str, rejected) -> None:
    """``OUT/rejected/snapshot=<ID>/<part>``: the Japanese documents dropped after language ID,
    with the output's columns plus ``rejected_stage`` and ``rejected_reason``."""
    by_snapshot: dict[str, list[Doc]] = {}
    for doc, stage_name, reason in rejected:
        doc.signals.update(rejected_stage=stage_name, rejected_reason=reason)
        by_snapshot.setdefault(doc.snapshot, []).append(doc)
    for snapshot, docs in sorted(by_snapshot.items()):
        docs.sort(key=lambda d: d.sort_key)
        write_part(cfg, storage.join(rejected_dir(output_dir, snapshot), part_name(rel)), docs, None, _REJECTED_COLUMNS)


def sample_order(rec: dict) -> tuple:
    return (rec["warc_file"], rec["warc_offset"], rec["warc_record_id"])


def commit_file(cfg: PipelineConfig, output_dir: str, fingerprint: str, stages, result: FileResult,
                final: bool) -> StatsAccumulator:
    """Commit one WARC file: its Parquet part, then its checkpoint (report, statistics, samples).

    ``final``: the part goes to ``OUT/data`` and the documents count as written; otherwise (a
    dedup stage follows) the part is the checkpoint part the dedup stage reads.  Returns the
    file's complete statistics.  Raises when the file's accounting does not add up.
    """
    report = result.report.to_dict() if hasattr(result.report, "to_dict") else dict(result.report)
    rel = report["warc_file"]
    docs = sorted(result.docs, key=lambda d: d.sort_key)
    stats = StatsAccumulator()
    stats.merge(result.stats)
    part = None
    if docs:
        if final:
            part = storage.join(snapshot_dir(output_dir, report["snapshot"]), part_name(rel))
            stats.merge(write_part(cfg, part, docs, result.details))
        else:
            part = checkpoint_part_path(output_dir, fingerprint, rel)
            write_part(cfg, part, docs, None, tie_break_columns(cfg))
    if result.rejected:
        write_rejected(cfg, output_dir, rel, result.rejected)
    if final:
        report["written_docs"] = len(docs)
        report["written_chars"] = sum(len(d.text or d.html or "") for d in docs)
    rows = stats.rows(stages)
    problems = check_accounting(rows, stages)
    if problems:
        raise RuntimeError(f"accounting error in {rel}: {'; '.join(problems)}")
    checkpoint = {
        "fingerprint": fingerprint,
        "warc_file": rel,
        "part": part,
        "report": report,
        "stats": rows,
        "details": result.details.rows(stages, DETAIL_KEYS),
        "samples": sorted(result.samples, key=sample_order),
    }
    retry = report.get("error") in RETRY_ERRORS
    storage.atomic_write(checkpoint_path(output_dir, fingerprint, rel, retry),
                         storage.json_bytes(checkpoint, indent=None))
    stale = checkpoint_path(output_dir, fingerprint, rel, retry=True)
    if not retry and storage.exists(stale):
        storage.remove_tree(stale)
    return stats


def read_part(path_or_file) -> list[Doc]:
    """The documents of a Parquet part, with their signals (the columns beyond the fixed ones)."""
    import pyarrow.parquet as pq

    return table_to_docs(pq.read_table(path_or_file))


def checkpointed_docs(output_dir: str, fingerprint: str, rel: str) -> list[Doc]:
    """The documents of one WARC file as committed before dedup, in record order."""
    with storage.open_read(checkpoint_part_path(output_dir, fingerprint, rel)) as fh:
        return read_part(fh)


def _identity(doc: Doc, text_chars: int) -> tuple:
    # Two records of one gzip member share an offset, and may share (or lack) a record id: the
    # URL and the text length tell them apart; fully identical ones are interchangeable.
    return (doc.sort_key, doc.url, text_chars)


def match_stubs(stored: list[Doc], stubs) -> tuple[list[tuple[Doc, object]], int]:
    """Pair each stub (a document that travelled without its text: ``stub.doc`` or the stub
    itself) with its stored document.  Returns the pairs in record order and the number of
    stubs that matched nothing."""
    want: dict[tuple, list] = {}
    n = 0
    for stub in stubs:
        d = getattr(stub, "doc", stub)
        want.setdefault(_identity(d, d.text_chars if d.text_chars is not None else len(d.text or "")), []).append(stub)
        n += 1
    pairs = []
    for doc in stored:
        waiting = want.get(_identity(doc, len(doc.text or "")))
        if waiting:
            pairs.append((doc, waiting.pop()))
    return pairs, n - len(pairs)
