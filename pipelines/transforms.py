"""Beam transforms of a run: the per-file stages, dedup across files, the run's statistics.

A run is one Beam pipeline in parts (see ``pipelines/run.py``):

1. :class:`ProcessFiles`: each pending WARC file runs, in one :class:`ProcessFileFn` call,
   through the read stage and the chain of document stages declared in the registry
   (``corpus/stages.py``; the stage objects follow ``corpus/stage.py``'s protocol), then is
   committed (Parquet part, then checkpoint; ``pipelines/output.py``).  A crash loses only
   uncommitted files.
2. :class:`DedupAndWrite` (with the dedup stage), once every file is committed: every
   checkpointed document → near-duplicate clusters across snapshots → the final parts.
3. :class:`Finalize`, once every file is committed: every checkpoint (this run's and earlier
   ones') plus the dedup/write counts → ``OUT/stats/*.json`` (and ``OUT/samples``), summed
   with combiners, so a resumed run reports exactly what an uninterrupted one would.

Each stage also increments Beam counters ``<stage>/<outcome>.<reason>.<measure>``.
"""

from __future__ import annotations

import importlib
import json
import logging
from typing import Callable

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from jawebcorpus.corpus.inputs import InputFile, list_snapshot
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.remote import RemoteConfig, display_path
from jawebcorpus.corpus.stage import FileResult, LocalResources, Stage, process_file, sample_record
from jawebcorpus.corpus.stages import stage as registry_stage
from jawebcorpus.corpus.stats import DETAIL_KEYS, StatsAccumulator, rows_in_order
from jawebcorpus.corpus.steps import FileReport, ReadStage

from . import storage
from .config import PipelineConfig
from .output import (
    RETRY_ERRORS, checkpoint_dir, checkpoint_name, checkpointed_docs, commit_file, file_record_shard,
    file_records_dir, match_stubs, part_name, parts_dir, read_part, safe_name, sample_order, shard_patterns,
    snapshot_dir, write_part,
)
from .progress import ProgressSink
from .spec import RunSpec

__all__ = ["ProcessFiles", "ProcessFileFn", "ListSnapshotFiles", "SkipCommitted", "FilesAfter", "DedupAndWrite",
           "Finalize", "FilesSummaryFn", "stage_class", "done_signal"]


_log = logging.getLogger(__name__)


def _count(stats_items) -> None:
    for (_snap, stage, outcome, reason), vals in stats_items:
        for measure, v in zip(("docs", "chars", "bytes"), vals):
            if v:
                Metrics.counter(stage, f"{outcome}.{reason}.{measure}").inc(v)


def _spread(pcoll, label: str, spread: bool = True):
    """``pcoll | label >> Reshuffle()`` (spread elements over workers, break fusion), or
    ``pcoll`` itself where there is one worker to spread over (a Reshuffle passes every element
    through unchanged: leaving it out changes nothing but the size of the graph)."""
    return pcoll | label >> beam.Reshuffle() if spread else pcoll


def stage_class(name: str) -> type[Stage]:
    """The class that implements a stage, as the registry names it (``module:Class``)."""
    impl = registry_stage(name).impl
    if impl is None:
        raise ValueError(f"stage {name} is implemented by the Beam graph, not by a stage object")
    module, _, cls = impl.partition(":")
    found = getattr(importlib.import_module(module), cls)
    if getattr(found, "name", None) != name:
        raise TypeError(f"{impl} is not the stage {name!r}")
    return found


class PipelineResources(LocalResources):
    """The stages' resources in a Beam worker: assets on any file system Beam knows (``gs://``,
    ``s3://`` …) are looked up once per process and copied once per machine (:func:`storage.local_copy`)."""

    def local_path(self, path: str) -> str:
        return self.get(("local_copy", path), lambda: storage.local_copy(path))

    def local_dir(self, path: str, names: list[str]) -> str:
        return self.get(("local_dir_copy", path, tuple(names)), lambda: storage.local_dir_copy(path, names))


class _ResourceBox:
    """What Beam's :class:`Shared` keeps once per worker process: the stages' heavy objects."""

    def __init__(self):
        self.resources = PipelineResources()


class ProcessFileFn(beam.DoFn):
    """One WARC file → the per-file stages → its commit (part, then checkpoint).

    Every stage object is set up once per DoFn instance; heavy objects (the language-ID model,
    the NG-word matcher, host lists) once per worker process, through ``shared``.
    ``after_commit`` (tests) is called with each committed file's name.
    """

    def __init__(self, spec: RunSpec, shared: Shared, progress: ProgressSink | None = None,
                 after_commit: Callable[[str], None] | None = None):
        self.spec = spec
        self.shared = shared
        self.progress = progress or ProgressSink(None)
        self.after_commit = after_commit

    def setup(self):
        resources = self.shared.acquire(_ResourceBox).resources
        cfg = self.spec.config
        self.reader = ReadStage()
        self.reader.setup(cfg, resources)
        self.stages: list[Stage] = []
        for name in self.spec.file_stages[1:]:
            st = stage_class(name)()
            st.setup(cfg, resources)
            self.stages.append(st)

    def teardown(self):
        for st in getattr(self, "stages", []):
            st.teardown()

    def process(self, inp: InputFile):
        spec = self.spec
        shown = display_path(inp.path)  # a presigned URL's signature is never recorded
        report = FileReport(shown, display_path(inp.rel), inp.snapshot)
        result = FileResult(report, rejected=[] if spec.config.output.rejected else None)
        process_file(lambda count: self.reader.read(inp, count, report, spec.remote), self.stages, result,
                     samples_per_reason=spec.samples_per_reason, progress=self.progress.add, reject_after="langid")
        if report.message and shown != inp.path:
            report.message = report.message.replace(inp.path, shown)
        if report.retries:
            Metrics.counter("read", "remote.retries").inc(report.retries)
        self.progress.add(flush=True, files=1, captures=report.responses, failed_files=int(report.status != "ok"))
        stats = commit_file(spec.config, spec.output, spec.fingerprint, spec.commit_stages, result,
                            final=not spec.dedup)
        _count(stats.items())
        if self.after_commit is not None:
            self.after_commit(inp.rel)
        yield inp.rel

    def finish_bundle(self):
        self.progress.flush()


class ProcessFiles(beam.PTransform):
    """Input files → the stages up to ``spec.until`` → per-file Parquet parts and checkpoints."""

    def __init__(self, spec: RunSpec, progress: ProgressSink | None = None,
                 after_commit: Callable[[str], None] | None = None, spread: bool = True):
        super().__init__()
        self.spec = spec
        self.progress = progress
        self.after_commit = after_commit
        self.spread = spread  # False: one worker (nothing to spread over)

    def expand(self, files):
        # Spread files over workers (break fusion after listing); each file is then processed
        # and committed by one call.
        return (
            _spread(files, "spread_files", self.spread)
            | "process_files" >> beam.ParDo(ProcessFileFn(self.spec, Shared(), self.progress, self.after_commit))
        )


class ListSnapshotFiles(beam.PTransform):
    """Snapshots → their WARC files (from ``warc.paths.gz``, one snapshot per element)."""

    def __init__(self, remote: RemoteConfig | None = None):
        super().__init__()
        self.remote = remote

    def expand(self, listings):
        remote = self.remote
        return listings | "list_snapshot" >> beam.FlatMap(
            lambda s: list_snapshot(s.snapshot, s.cc_base, s.max_files, remote))


def _committed_names(pattern: str):
    for path in storage.match(pattern):
        name = storage.split(path)[1]
        if not name.endswith(".retry.json"):  # a transient failure: a rerun tries the file again
            yield name


def _pending(item):
    _name, joined = item
    if joined["done"]:
        Metrics.counter("read", "files_resumed").inc(len(joined["file"]))
        return
    yield from joined["file"][:1]  # a path listed twice is processed once


class SkipCommitted(beam.PTransform):
    """Input files minus those this configuration already committed: the checkpoints are listed
    per prefix in parallel and joined with the inputs by name (no step sees every file)."""

    def __init__(self, output_dir: str, fingerprint: str, spread: bool = True):
        super().__init__()
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.spread = spread

    def expand(self, files):
        patterns = shard_patterns(checkpoint_dir(self.output_dir, self.fingerprint), ".json")
        prefixes = files.pipeline | "checkpoint_prefixes" >> beam.Create(patterns, reshuffle=False)
        done = (
            _spread(prefixes, "spread_prefixes", self.spread)
            | "list_committed" >> beam.FlatMap(_committed_names)
            | "done_by_name" >> beam.Map(lambda name: (name, True))
        )
        return (
            {"file": files | "file_by_name" >> beam.Map(lambda inp: (checkpoint_name(inp.rel), inp)), "done": done}
            | "join_committed" >> beam.CoGroupByKey()
            | "pending" >> beam.FlatMap(_pending)
        )


# -- dedup across every file of the run, then the final write -------------------------------------
def _read_part(readable_file, cfg: PipelineConfig) -> list[Doc]:
    with readable_file.open() as fh:
        return read_part(fh, cfg)


class FilesAfter(beam.PTransform):
    """The files matching ``patterns`` (one listing each, in parallel), listed only once the
    PCollection ``after`` is complete (a side input is computed before its consumer runs),
    spread over workers, opened."""

    def __init__(self, patterns: list[str], after=None, spread: bool = True):
        super().__init__()
        self.patterns = patterns
        self.after = after  # a PCollection, or the side input of one (:func:`done_signal`)
        self.spread = spread

    def expand(self, pbegin):
        from apache_beam.io import fileio

        patterns = _spread(pbegin | "patterns" >> beam.Create(self.patterns, reshuffle=False), "spread_patterns",
                           self.spread)
        if self.after is not None:
            done = self.after if isinstance(self.after, beam.pvalue.AsSideInput) else done_signal(self.after)
            patterns = patterns | "after" >> beam.Map(lambda pat, _n: pat, done)
        matched = patterns | "match" >> fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
        return _spread(matched, "spread", self.spread) | "open" >> fileio.ReadMatches()


def done_signal(pcoll, label: str = "count_after"):
    """A side input that is ready once ``pcoll`` is complete (its element count; 0 when empty):
    a step that takes it runs only after every element of ``pcoll`` exists."""
    count = pcoll | label >> beam.CombineGlobally(beam.combiners.CountCombineFn()).without_defaults()
    return beam.pvalue.AsSingleton(count, default_value=0)


class WriteFinalFn(beam.DoFn):
    """write (after dedup): one Parquet part per input WARC file with its surviving documents.

    The survivors arrive without their text; it is read back from the file's checkpoint part,
    so dedup never shuffles text."""

    def __init__(self, cfg: PipelineConfig, output_dir: str, fingerprint: str):
        self.cfg = cfg
        self.output_dir = output_dir
        self.fingerprint = fingerprint

    def process(self, item):
        (snapshot, rel), survivors = item
        survivors = list(survivors)
        details = StatsAccumulator()
        try:
            stored = checkpointed_docs(self.output_dir, self.fingerprint, rel, self.cfg)
            pairs, unmatched = match_stubs(stored, survivors)
            if unmatched:
                raise LookupError(f"{unmatched} surviving documents are not in the file's checkpoint")
            docs = []
            for d, stub in pairs:
                d.cluster_size, d.cluster_id = stub.cluster_size, stub.cluster_id
                docs.append(d)
            path = storage.join(snapshot_dir(self.output_dir, snapshot), part_name(rel))
            written = write_part(self.cfg, path, docs, details)
        except Exception as exc:  # one file's final part fails, not the run (a rerun tries again)
            _log.warning("the final part of %s could not be written: %s", rel, type(exc).__name__)
            failed = StatsAccumulator()
            for d in survivors:
                failed.add(d.snapshot, "write", "error", "write_failed", 1, d.text_chars or 0, d.payload_bytes)
            _count(failed.items())
            yield beam.pvalue.TaggedOutput("per_file", (rel, (0, 0, type(exc).__name__)))
            for key, vals in failed.items():
                yield beam.pvalue.TaggedOutput("stats", (key, vals))
            return
        _count(written.items())
        yield beam.pvalue.TaggedOutput("per_file", (rel, (len(docs), sum(len(d.text or "") for d in docs), None)))
        for key, vals in written.items():
            yield beam.pvalue.TaggedOutput("stats", (key, vals))
        for key, vals in details.items():
            yield beam.pvalue.TaggedOutput("details", (key, vals))


def _dedup_samples(item, output_dir: str, fingerprint: str):
    """Sample records of dropped duplicates, their text read back from the checkpoint parts."""
    (stage, reason), drops = item
    by_file: dict[str, list] = {}
    for drop in drops:
        by_file.setdefault(drop.doc.warc_file, []).append(drop)
    for rel, drops in sorted(by_file.items()):
        try:
            pairs, _ = match_stubs(checkpointed_docs(output_dir, fingerprint, rel), drops)
        except Exception as exc:  # samples are for auditing: a file that cannot be read has none
            _log.warning("samples of %s could not be read back: %s", rel, type(exc).__name__)
            continue
        for doc, drop in pairs:
            rec = sample_record(doc, stage, "dropped", reason)
            rec["kept_copy_in"] = drop.kept_copy_in
            yield (stage, reason), rec


class DedupAndWrite(beam.PTransform):
    """Once every file is committed: all checkpointed documents (this run's and earlier ones')
    → near-duplicate removal across snapshots → the final Parquet parts.  Text is read from the
    checkpoints twice (signatures, then the final parts) and never shuffled.  Returns the dedup
    and write statistics (``stats``, ``details``) and ``(warc_file, (documents, characters))``
    written per file."""

    def __init__(self, spec: RunSpec, after=None, spread: bool = True):
        super().__init__()
        self.spread = spread  # False: one worker (no Reshuffle steps)
        self.samples_per_reason = spec.samples_per_reason
        self.cfg = spec.config
        self.output_dir = spec.output
        self.fingerprint = spec.fingerprint
        self.after = after
        self.against_index = spec.against_index
        self.write_index = spec.write_index

    def expand(self, pbegin):
        from .dedup import Dedup

        c = self.cfg.dedup
        patterns = shard_patterns(parts_dir(self.output_dir, self.fingerprint), ".parquet")
        docs = (
            pbegin
            | "checkpointed_parts" >> FilesAfter(patterns, self.after, self.spread)
            | "read_parts" >> beam.FlatMap(_read_part, self.cfg)
        )
        res = docs | "dedup" >> Dedup.from_config(
            c, against_index=self.against_index, write_index=self.write_index, carry_text=False, spread=self.spread,
            one_worker=not self.spread,  # one local worker: the rounds in one step (same results)
        )
        written = (
            res.docs
            | "key_by_file" >> beam.Map(lambda d: ((d.snapshot, d.warc_file), d))
            | "group_by_file" >> beam.GroupByKey()
            | "write" >> beam.ParDo(WriteFinalFn(self.cfg, self.output_dir, self.fingerprint)).with_outputs(
                "stats", "details", "per_file")
        )
        stats = (res.stats, written.stats) | "dedup_write_stats" >> beam.Flatten()
        details = (res.details, written.details) | "dedup_write_details" >> beam.Flatten()
        samples = None
        if self.samples_per_reason:
            out, fp = self.output_dir, self.fingerprint
            samples = (
                res.dropped
                | "sample_key" >> beam.Map(lambda drop: (("dedup", drop.reason), drop))
                | "pick_dedup_samples" >> beam.combiners.Top.PerKey(
                    self.samples_per_reason, key=lambda drop: drop.doc.sort_key, reverse=True)
                | "dedup_sample_texts" >> beam.FlatMap(_dedup_samples, out, fp)
            )
        return stats, details, written.per_file, samples


# -- statistics of the whole run -----------------------------------------------------------------
class _SumCounts(beam.CombineFn):
    def create_accumulator(self):
        return (0, 0, 0)

    def add_input(self, acc, v):
        return (acc[0] + v[0], acc[1] + v[1], acc[2] + v[2])

    def merge_accumulators(self, accs):
        d = c = b = 0
        for a in accs:
            d, c, b = d + a[0], c + a[1], b + a[2]
        return (d, c, b)

    def extract_output(self, acc):
        return acc


def _rows_to_items(rows: list[dict], names: tuple[str, ...]):
    for r in rows:
        yield tuple(r[n] for n in names), (r["docs"], r["chars"], r["bytes"])


def write_rows_json(items, path: str, stages, names) -> None:
    storage.write_json(path, rows_in_order(items, stages, names))


def _file_order(r: dict) -> tuple:
    return (r["snapshot"], r["warc_file"], r["path"])


def write_file_records(item, files_dir: str) -> None:
    """``OUT/stats/files/<snapshot>-<kk>.jsonl``: the records of one shard, one per line, in order."""
    (snapshot, shard), records = item
    data = b"".join(storage.json_bytes(r, indent=None) + b"\n" for r in sorted(records, key=_file_order))
    storage.atomic_write(storage.join(files_dir, f"{safe_name(snapshot)}-{shard:02d}.jsonl"), data)


#: Failed files the summary names (the file records list all of them).
FAILED_EXAMPLES = 100
_SUMMED = ("records", "responses", "pages", "retries", "written_docs", "written_chars")


class FilesSummaryFn(beam.CombineFn):
    """Every input file → ``OUT/stats/files_summary.json``: counts per snapshot and status,
    error classes, and the first failed files (a small accumulator, whatever the number of files)."""

    def create_accumulator(self):
        return {"files": 0, "snapshots": {}, "errors": {}, "failed": []}

    def add_input(self, acc, r):
        acc["files"] += 1
        snap = acc["snapshots"].setdefault(r["snapshot"], {"files": 0, "failed": 0, "resynced": 0,
                                                             **{k: 0 for k in _SUMMED}})
        snap["files"] += 1
        for k in _SUMMED:
            snap[k] += int(r.get(k) or 0)
        errors = [e for e in (r.get("error"), r.get("write_error")) if e]
        if r.get("status") == "resynced":  # read to its end after skipping damaged stretches
            snap["resynced"] += 1
        if r.get("status") != "ok" or r.get("write_error"):  # resynced files lost records: listed too
            snap["failed"] += 1
            acc["failed"] = sorted([*acc["failed"], r], key=_file_order)[:FAILED_EXAMPLES]
        for e in errors:
            acc["errors"][e] = acc["errors"].get(e, 0) + 1
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for a in accs:
            out["files"] += a["files"]
            for s, v in a["snapshots"].items():
                t = out["snapshots"].setdefault(s, {k: 0 for k in v})
                for k, n in v.items():
                    t[k] = t.get(k, 0) + n
            for e, n in a["errors"].items():
                out["errors"][e] = out["errors"].get(e, 0) + n
            out["failed"] = sorted([*out["failed"], *a["failed"]], key=_file_order)[:FAILED_EXAMPLES]
        return out

    def extract_output(self, acc):
        return {
            "files": acc["files"],
            "snapshots": {s: acc["snapshots"][s] for s in sorted(acc["snapshots"])},
            "errors": {e: acc["errors"][e] for e in sorted(acc["errors"])},
            "failed_files": sum(v["failed"] for v in acc["snapshots"].values()),
            "resynced_files": sum(v.get("resynced", 0) for v in acc["snapshots"].values()),
            "failed_examples": acc["failed"],
        }


class _RunStatisticsFn(beam.CombineFn):
    """Tagged inputs → (stage rows, detail rows, the files summary): ``("stats", (key, counts))``
    and ``("details", …)`` are gathered into lists, ``("report", record)`` goes to
    :class:`FilesSummaryFn`."""

    def __init__(self):
        self.files = FilesSummaryFn()

    def create_accumulator(self):
        return [], [], self.files.create_accumulator()

    def add_input(self, acc, tagged):
        tag, value = tagged
        if tag == "stats":
            acc[0].append(value)
        elif tag == "details":
            acc[1].append(value)
        else:
            acc = (acc[0], acc[1], self.files.add_input(acc[2], value))
        return acc

    def merge_accumulators(self, accs):
        stats, details, files = [], [], []
        for s, d, f in accs:
            stats.extend(s)
            details.extend(d)
            files.append(f)
        return stats, details, self.files.merge_accumulators(files)

    def extract_output(self, acc):
        return acc[0], acc[1], self.files.extract_output(acc[2])


def write_run_statistics(gathered, stats_dir: str, stages, names) -> None:
    """``OUT/stats/stages.json``, ``details.json`` and ``files_summary.json``."""
    stats, details, summary = gathered
    write_rows_json(stats, storage.join(stats_dir, "stages.json"), stages, names)
    write_rows_json(details, storage.join(stats_dir, "details.json"), stages, DETAIL_KEYS)
    storage.write_json(storage.join(stats_dir, "files_summary.json"), summary)


def write_samples_jsonl(item, samples_dir: str) -> None:
    """``OUT/samples/<stage>/<reason>.jsonl``: the first N dropped documents in record order."""
    (stage, reason), records = item
    records = sorted(records, key=sample_order)
    data = b"".join(storage.json_bytes(r, indent=None) + b"\n" for r in records)
    storage.atomic_write(storage.join(samples_dir, safe_name(stage), f"{safe_name(reason)}.jsonl"), data)


def _with_written(item) -> dict:
    _rel, joined = item
    report = dict(joined["report"][0])
    docs = chars = 0
    errors = []
    for d, c, err in joined["written"]:
        docs, chars = docs + d, chars + c
        if err:
            errors.append(err)
    report["written_docs"], report["written_chars"] = docs, chars
    if errors:
        report["write_error"] = errors[0]
    return report


def _prefer_completed(cps) -> dict:
    cps = list(cps)
    done = [cp for cp in cps if cp["report"].get("error") not in RETRY_ERRORS]
    return (done or cps)[0]


def _load_checkpoint(readable_file) -> dict:
    return json.loads(readable_file.read_utf8())


class Finalize(beam.PTransform):
    """Every checkpoint of the run (this invocation's and earlier ones') → ``OUT/stats`` and
    ``OUT/samples``, combined in parallel (no worker reads all checkpoints)."""

    def __init__(self, spec: RunSpec, after=None, extra_stats=None, extra_details=None, written_per_file=None,
                 extra_samples=None, spread: bool = True):
        super().__init__()
        self.spread = spread
        self.after = after  # a PCollection (the committed files) that must be complete first
        # statistics computed after the per-file commits (dedup, final write)
        self.extra_stats = extra_stats
        self.extra_details = extra_details
        self.written_per_file = written_per_file  # (warc_file, (docs, chars)) written after dedup
        self.extra_samples = extra_samples  # ((stage, reason), record) from after the commits
        self.output_dir = spec.output
        self.fingerprint = spec.fingerprint
        self.stages = spec.stages
        self.samples_per_reason = spec.samples_per_reason

    def expand(self, pbegin):
        patterns = shard_patterns(checkpoint_dir(self.output_dir, self.fingerprint), ".json")
        cps = (
            pbegin
            | "checkpoints" >> FilesAfter(patterns, self.after, self.spread)  # every file of this run committed first
            | "load_checkpoints" >> beam.Map(_load_checkpoint)
            # a file retried after a transient failure may briefly have both checkpoints
            | "key_checkpoints" >> beam.Map(lambda cp: (cp["warc_file"], cp))
            | "one_per_file" >> beam.CombinePerKey(_prefer_completed)
            | "checkpoint_values" >> beam.Values()
        )
        stats_dir = storage.join(self.output_dir, "stats")
        stages, names = self.stages, ("snapshot", "stage", "outcome", "reason")
        stat_items = cps | "stats_rows" >> beam.FlatMap(lambda cp: _rows_to_items(cp["stats"], names))
        detail_items = cps | "detail_rows" >> beam.FlatMap(lambda cp: _rows_to_items(cp["details"], DETAIL_KEYS))
        if self.extra_stats is not None:
            stat_items = (stat_items, self.extra_stats) | "with_extra_stats" >> beam.Flatten()
        if self.extra_details is not None:
            detail_items = (detail_items, self.extra_details) | "with_extra_details" >> beam.Flatten()
        summed_stats = (
            stat_items
            | "sum_stats" >> beam.CombinePerKey(_SumCounts())
            | "tag_stats" >> beam.Map(lambda kv: ("stats", kv))
        )
        summed_details = (
            detail_items
            | "sum_details" >> beam.CombinePerKey(_SumCounts())
            | "tag_details" >> beam.Map(lambda kv: ("details", kv))
        )
        reports = cps | "file_reports" >> beam.Map(lambda cp: cp["report"])
        if self.written_per_file is not None:
            reports = (
                {"report": reports | "report_by_file" >> beam.Map(lambda r: (r["warc_file"], r)),
                 "written": self.written_per_file}
                | "join_written" >> beam.CoGroupByKey()
                | "with_written" >> beam.Map(_with_written)
            )
        files_dir = file_records_dir(self.output_dir)
        (
            reports
            | "file_record_shard" >> beam.Map(lambda r: (file_record_shard(r), r))
            | "group_file_records" >> beam.GroupByKey()
            | "write_file_records" >> beam.Map(write_file_records, files_dir)
        )
        # stages.json, details.json and files_summary.json from one global combine (their rows
        # are summed per key first; the file summary's accumulator is bounded)
        (
            (summed_stats, summed_details, reports | "tag_reports" >> beam.Map(lambda r: ("report", r)))
            | "run_statistics" >> beam.Flatten()
            | "gather_statistics" >> beam.CombineGlobally(_RunStatisticsFn())
            | "write_statistics" >> beam.Map(write_run_statistics, stats_dir, stages, names)
        )
        if self.samples_per_reason:
            records = cps | "sample_records" >> beam.FlatMap(lambda cp: (((s["stage"], s["reason"]), s) for s in cp["samples"]))
            if self.extra_samples is not None:
                records = (records, self.extra_samples) | "with_extra_samples" >> beam.Flatten()
            (
                records
                | "pick_samples" >> beam.combiners.Top.PerKey(self.samples_per_reason, key=sample_order, reverse=True)
                | "write_samples" >> beam.Map(write_samples_jsonl, storage.join(self.output_dir, "samples"))
            )
        return cps
