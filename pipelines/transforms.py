"""Beam transforms of a run: the per-file stages, dedup across files, the run's statistics.

A run is one Beam pipeline in parts (see ``pipelines/run.py``):

1. :class:`ProcessFiles`: each pending WARC file runs, in one :class:`ProcessFileFn` call,
   through the read stage and the chain of document stages of the registry
   (``jawebcorpus/registry.py``: the stage classes of ``corpus/stage.py``), then is
   committed (Parquet part, then checkpoint; ``pipelines/output.py``).  A crash loses only
   uncommitted files.
2. :class:`DedupAndWrite` (with the dedup stage), once every file is committed: every
   checkpointed document → near-duplicate clusters across snapshots → the final parts.
3. :class:`~jawebcorpus.pipelines.finalize.Finalize` (``pipelines/finalize.py``), once every file is committed: every checkpoint (this run's and earlier
   ones') plus the dedup/write counts → ``OUT/stats/*.json`` (and ``OUT/samples``), summed
   with combiners, so a resumed run reports exactly what an uninterrupted one would.

Each stage also increments Beam counters ``<stage>/<outcome>.<reason>.<measure>``.
"""

from __future__ import annotations

import logging

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from jawebcorpus import registry
from jawebcorpus.corpus.inputs import InputFile, list_snapshot
from jawebcorpus.corpus.process import FileResult, process_file, sample_record
from jawebcorpus.corpus.read import FileReport, ReadStage
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.remote import RemoteConfig, display_path
from jawebcorpus.corpus.stage import LocalResources, Stage
from jawebcorpus.corpus.stats import StatsAccumulator

from . import storage
from .config import PipelineConfig
from .output import (
    checkpoint_dir, checkpoint_name, checkpointed_docs, commit_file, match_stubs, part_name, parts_dir, read_part,
    shard_patterns, snapshot_dir, write_part,
)
from .progress import ProgressSink
from .spec import RunSpec

__all__ = ["ProcessFiles", "ProcessFileFn", "ListSnapshotFiles", "SkipCommitted", "FilesAfter", "DedupAndWrite",
           "done_signal"]


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


class PipelineResources(LocalResources):
    """The stages' resources in a Beam worker: assets on any file system Beam knows (``gs://``,
    ``s3://`` …) are copied once per machine into a local cache (:func:`storage.local_copy`),
    and looked up on the store once per worker process (not once per DoFn instance)."""

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
    """

    def __init__(self, spec: RunSpec, shared: Shared, progress: ProgressSink | None = None):
        self.spec = spec
        self.shared = shared
        self.progress = progress or ProgressSink(None)

    def setup(self):
        storage.serve_input()  # input on Beam's file systems (gs:// …)
        resources = self.shared.acquire(_ResourceBox).resources
        cfg = self.spec.config
        self.reader = ReadStage()
        self.reader.setup(cfg, resources)
        self.stages: list[Stage] = []
        for name in self.spec.file_stages[1:]:
            st = registry.stage(name)()
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
        yield inp.rel

    def finish_bundle(self):
        self.progress.flush()


class ProcessFiles(beam.PTransform):
    """Input files → the stages up to ``spec.until`` → per-file Parquet parts and checkpoints."""

    def __init__(self, spec: RunSpec, progress: ProgressSink | None = None, spread: bool = True):
        super().__init__()
        self.spec = spec
        self.progress = progress
        self.spread = spread  # False: one worker (nothing to spread over)

    def expand(self, files):
        # Spread files over workers (break fusion after listing); each file is then processed
        # and committed by one call.
        return (
            _spread(files, "spread_files", self.spread)
            | "process_files" >> beam.ParDo(ProcessFileFn(self.spec, Shared(), self.progress))
        )


class _ListSnapshotFn(beam.DoFn):
    def __init__(self, remote: RemoteConfig | None):
        self.remote = remote

    def setup(self):
        storage.serve_input()  # a crawl base on Beam's file systems (gs:// …)

    def process(self, s):
        yield from list_snapshot(s.snapshot, s.cc_base, s.max_files, self.remote)


class ListSnapshotFiles(beam.PTransform):
    """Snapshots → their WARC files (from ``warc.paths.gz``, one snapshot per element)."""

    def __init__(self, remote: RemoteConfig | None = None):
        super().__init__()
        self.remote = remote

    def expand(self, listings):
        return listings | "list_snapshot" >> beam.ParDo(_ListSnapshotFn(self.remote))


def _committed_names(pattern: str):
    for path in storage.match(pattern):
        name = storage.split(path)[1]
        if not name.endswith(".retry.json"):  # a transient failure: a rerun tries the file again
            yield name


def _pending(item):
    _name, joined = item
    if joined["done"]:
        resumed = len(joined["file"])
        Metrics.counter("read", "files_resumed").inc(resumed)
        if resumed:
            yield beam.pvalue.TaggedOutput(SkipCommitted.RESUMED, resumed)
        return
    yield from joined["file"][:1]  # a path listed twice is processed once


class SkipCommitted(beam.PTransform):
    """Input files minus those this configuration already committed: the checkpoints are listed
    per prefix in parallel and joined with the inputs by name (no step sees every file).  After
    it is applied, ``.resumed`` holds the counts of input files found committed (run.json's
    ``resumed_files``)."""

    RESUMED = "resumed"

    def __init__(self, output_dir: str, fingerprint: str, spread: bool = True):
        super().__init__()
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.spread = spread

    def expand(self, files):
        patterns = shard_patterns(checkpoint_dir(self.output_dir, self.fingerprint), ".json", self.spread)
        prefixes = files.pipeline | "checkpoint_prefixes" >> beam.Create(patterns, reshuffle=False)
        done = (
            _spread(prefixes, "spread_prefixes", self.spread)
            | "list_committed" >> beam.FlatMap(_committed_names)
            | "done_by_name" >> beam.Map(lambda name: (name, True))
        )
        split = (
            {"file": files | "file_by_name" >> beam.Map(lambda inp: (checkpoint_name(inp.rel), inp)), "done": done}
            | "join_committed" >> beam.CoGroupByKey()
            | "pending" >> beam.FlatMap(_pending).with_outputs(self.RESUMED, main="pending")
        )
        self.resumed = split[self.RESUMED]
        return split.pending


# -- dedup across every file of the run, then the final write -------------------------------------
def _read_part(readable_file, checkpoints: str) -> list[Doc]:
    """A committed file's documents.  A part whose file has no checkpoint under ``checkpoints``
    (a run that stopped between writing the two: a rerun with the same inputs redoes that file,
    one with other inputs does not) is not this run's: it is skipped, as Finalize skips it."""
    path = readable_file.metadata.path
    folder, name = storage.split(path)
    shard, stem = storage.split(folder)[1], name[: -len(".parquet")]
    if not any(storage.exists(storage.join(checkpoints, shard, stem + ext)) for ext in (".json", ".retry.json")):
        _log.warning("skipping %s: no checkpoint (a run stopped between the part and its checkpoint)", name)
        return []
    with readable_file.open() as fh:
        return read_part(fh)


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

    def process(self, item, boilerplate=None):
        """``boilerplate``: each host's frequent lines (the boilerplate stage's side input), removed
        from the text read back, as they were from the text dedup saw."""
        (snapshot, rel), survivors = item
        survivors = list(survivors)
        details = StatsAccumulator()
        try:
            stored = _cleaned(checkpointed_docs(self.output_dir, self.fingerprint, rel), boilerplate, self.cfg)
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


def _cleaned(docs: list[Doc], boilerplate, cfg: PipelineConfig) -> list[Doc]:
    """Stored documents as dedup saw them: without their hosts' boilerplate lines (the
    boilerplate stage's side input; None or empty: unchanged)."""
    if boilerplate:
        from .boilerplate import clean_text

        for d in docs:
            d.text = clean_text(d, boilerplate, cfg.boilerplate)[0]
    return docs


def _dedup_samples(item, output_dir: str, fingerprint: str, cfg: PipelineConfig, boilerplate=None):
    """Sample records of dropped duplicates, their text read back from the checkpoint parts."""
    (stage, reason), drops = item
    by_file: dict[str, list] = {}
    for drop in drops:
        by_file.setdefault(drop.doc.warc_file, []).append(drop)
    for rel, drops in sorted(by_file.items()):
        try:
            pairs, _ = match_stubs(_cleaned(checkpointed_docs(output_dir, fingerprint, rel), boilerplate, cfg), drops)
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
        patterns = shard_patterns(parts_dir(self.output_dir, self.fingerprint), ".parquet", self.spread)
        docs = (
            pbegin
            | "checkpointed_parts" >> FilesAfter(patterns, self.after, self.spread)
            | "read_parts" >> beam.FlatMap(_read_part, checkpoint_dir(self.output_dir, self.fingerprint))
        )
        quality = self.cfg.quality_model.column_for(c.tie_break) if c.tie_break.startswith("quality") else "quality_score"
        bp_stats = bp_details = frequent = None
        if self.cfg.boilerplate.enabled:
            from .boilerplate import Boilerplate

            docs, bp_stats, bp_details, frequent = docs | "boilerplate" >> Boilerplate(self.cfg.boilerplate)
        res = docs | "dedup" >> Dedup(
            c, quality=quality, against_index=self.against_index, write_index=self.write_index, carry_text=False, spread=self.spread,
            one_worker=not self.spread,  # one local worker: the rounds in one step (same results)
        )
        written = (
            res.docs
            | "key_by_file" >> beam.Map(lambda d: ((d.snapshot, d.warc_file), d))
            | "group_by_file" >> beam.GroupByKey()
            | "write" >> beam.ParDo(WriteFinalFn(self.cfg, self.output_dir, self.fingerprint),
                                   *((frequent,) if frequent is not None else ())).with_outputs(
                "stats", "details", "per_file")
        )
        stats = (res.stats, written.stats, *((bp_stats,) if bp_stats is not None else ())) \
            | "dedup_write_stats" >> beam.Flatten()
        details = (res.details, written.details, *((bp_details,) if bp_details is not None else ())) \
            | "dedup_write_details" >> beam.Flatten()
        samples = None
        if self.samples_per_reason:
            out, fp = self.output_dir, self.fingerprint
            samples = (
                res.dropped
                | "sample_key" >> beam.Map(lambda drop: (("dedup", drop.reason), drop))
                | "pick_dedup_samples" >> beam.combiners.Top.PerKey(
                    self.samples_per_reason, key=lambda drop: drop.doc.sort_key, reverse=True)
                | "dedup_sample_texts" >> beam.FlatMap(_dedup_samples, out, fp, self.cfg,
                                                       *((frequent,) if frequent is not None else ()))
            )
        return stats, details, written.per_file, samples
