"""Beam stages: thin DoFns over the plain functions of ``corpus/`` and ``filters/``.

Stage names are the same everywhere: the transform label, the Beam metrics namespace, the
``stage`` key of ``OUT/stats/stages.json`` and the headings of ``docs/stages.md``.

A run is one Beam pipeline in parts (see ``pipelines/run.py``):

1. :class:`ProcessFiles`: each pending WARC file flows through the fused stages, followed by
   its :class:`FileEnd` marker that collects the file's statistics; the file is then
   committed (Parquet part, then checkpoint).  A crash loses only uncommitted files.
2. :class:`DedupAndWrite` (with the dedup stage), once every file is committed: every
   checkpointed document → near-duplicate clusters across snapshots → the final parts.
3. :class:`Finalize`, once every file is committed: every checkpoint (this run's and earlier
   ones') plus the dedup/write counts → ``OUT/stats/*.json`` (and ``OUT/samples``), summed
   with combiners, so a resumed run reports exactly what an uninterrupted one would.

Each stage also increments Beam counters ``<stage>/<outcome>.<reason>.<measure>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import uuid
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from .config import PipelineConfig
from jawebcorpus.corpus.extract import Extractor
from jawebcorpus.corpus.inputs import InputFile, list_snapshot, open_input
from jawebcorpus.corpus.remote import RemoteConfig, RemoteError
from jawebcorpus.corpus.record import Doc, docs_to_table, table_to_docs
from jawebcorpus.corpus.stats import DETAIL_KEYS, StatsAccumulator, check_accounting, histogram_bins, rows_in_order
from jawebcorpus.corpus.steps import FileReport, decode_doc, extract_doc, read_pages
from jawebcorpus.filters.hosts import HostFilter
from jawebcorpus.filters.langid import LanguageIdentifier
from jawebcorpus.filters.ngwords import NgMatcher
from jawebcorpus.filters.quality import measure_columns
from jawebcorpus.filters.steps import clean_doc, detect_doc, hosts_doc, langid_doc, ngwords_doc, quality_doc

from .progress import ProgressSink

SAMPLE_TEXT_CHARS = 20_000


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
class FileEnd:
    """Travels through every stage right after the last document of its WARC file.

    Each stage adds its statistics for the file; the write stage, which by then has received
    every document of the file that survived (the stages are fused, so a file's documents and
    its end marker reach it in order, in one bundle), commits the file: its Parquet part and
    its checkpoint.  The write stage checks the file's accounting, which would catch documents
    arriving out of order.
    """

    inp: InputFile
    report: dict
    stats: StatsAccumulator = field(default_factory=StatsAccumulator)
    details: StatsAccumulator = field(default_factory=StatsAccumulator)
    samples: list = field(default_factory=list)


def _count(stats_items) -> None:
    for (_snap, stage, outcome, reason), vals in stats_items:
        for measure, v in zip(("docs", "chars", "bytes"), vals):
            if v:
                Metrics.counter(stage, f"{outcome}.{reason}.{measure}").inc(v)


class _StageFn(beam.DoFn):
    """A document stage: ``step`` (a plain function of corpus/ or filters/) on each document,
    statistics per WARC file handed to the file's :class:`FileEnd`."""

    stage = ""

    def __init__(self, cfg: PipelineConfig, progress: ProgressSink | None = None, samples: int = 0):
        self.cfg = cfg
        self.progress = progress or ProgressSink(None)
        self.samples = samples

    def step(self, doc: Doc, stats: StatsAccumulator, details: StatsAccumulator) -> Doc | None:
        raise NotImplementedError

    def start_bundle(self):
        self._files: dict[str, tuple[StatsAccumulator, StatsAccumulator, list, dict]] = {}

    def process(self, el):
        if isinstance(el, FileEnd):
            acc = self._files.pop(el.inp.rel, None)
            if acc is not None:
                stats, details, samples, _ = acc
                _count(stats.items())
                el.stats.merge(stats)
                el.details.merge(details)
                el.samples.extend(samples)
            yield el
            return
        acc = self._files.get(el.warc_file)
        if acc is None:
            acc = self._files[el.warc_file] = (StatsAccumulator(), StatsAccumulator(), [], {})
        stats, details, samples, taken = acc
        out = self.step(el, stats, details)
        if out is not None:
            yield out
        elif self.samples and stats.last is not None:
            _snap, stage, outcome, reason = stats.last
            if taken.get(reason, 0) < self.samples:  # the first N of the file, in record order
                taken[reason] = taken.get(reason, 0) + 1
                samples.append(sample_record(el, stage, outcome, reason))

    def finish_bundle(self):
        self.progress.flush()
        if self._files:
            raise RuntimeError(
                f"stage {self.stage}: documents of {sorted(self._files)[:3]} arrived without their file's end "
                "marker in the same bundle; this runner does not keep a file's elements together"
            )


class ReadWarcFn(_StageFn):
    """read: every record of a WARC file; HTML responses go on as documents, then the file's end."""

    stage = "read"

    def __init__(self, cfg: PipelineConfig, progress: ProgressSink | None = None, samples: int = 0,
                 remote: RemoteConfig | None = None):
        super().__init__(cfg, progress, samples)
        self.remote = remote

    def process(self, inp: InputFile):
        report = FileReport(inp.path, inp.rel, inp.snapshot)
        stats = StatsAccumulator()
        try:
            f = open_input(inp.path, self.remote)
        except RemoteError as exc:
            report.status, report.error, report.message = "failed", exc.code, str(exc)
        except OSError as exc:
            report.status, report.error = "failed", "io_error"
            report.message = f"cannot open {inp.path}: {type(exc).__name__}: {exc}"
        else:
            with f:
                for doc in read_pages(f, inp, self.cfg.read, stats, report):
                    yield doc
                report.retries = getattr(f, "retries", 0)
        if report.retries:
            Metrics.counter("read", "remote.retries").inc(report.retries)
        _count(stats.items())
        self.progress.add(flush=True, files=1, captures=report.responses, failed_files=int(report.status != "ok"))
        yield FileEnd(inp, report.to_dict(), stats)


class DetectFn(_StageFn):
    """detect: rapid Japanese detection on the raw bytes."""

    stage = "detect"

    def setup(self):
        self.lid = LanguageIdentifier(self.cfg.langid.model_path) if self.cfg.detect.mode == "swallow" else None

    def step(self, doc, stats, details):
        return detect_doc(doc, self.cfg.detect, stats, self.lid)


class DecodeFn(_StageFn):
    """decode: charset cascade to text."""

    stage = "decode"

    def step(self, doc, stats, details):
        return decode_doc(doc, stats, details)


class ExtractFn(_StageFn):
    """extract: trafilatura main text, with a time limit per document."""

    stage = "extract"

    def setup(self):
        c = self.cfg.extract
        self.extractor = Extractor(c.timeout_s, c.isolation, c.fast, c.memory_limit_mb, c.fast_above_chars)

    def teardown(self):
        extractor = getattr(self, "extractor", None)
        if extractor is not None:
            extractor.close()

    def step(self, doc, stats, details):
        return extract_doc(doc, self.extractor, stats)


class LangIdFn(_StageFn):
    """langid: fastText language ID (plus the kana check)."""

    stage = "langid"

    def setup(self):
        self.lid = LanguageIdentifier(self.cfg.langid.model_path)

    def step(self, doc, stats, details):
        out = langid_doc(doc, self.lid, self.cfg.langid, stats, details)
        if out is not None:
            self.progress.add(japanese=1)
        return out


class QualityFn(_StageFn):
    """quality: Swallow's 21 document rules."""

    stage = "quality"

    def step(self, doc, stats, details):
        return quality_doc(doc, self.cfg.quality, stats, details, self.cfg.output.quality_measures)


class NgWordsFn(_StageFn):
    """ngwords: share of NG-word characters among Japanese letters."""

    stage = "ngwords"

    def setup(self):
        self.matcher = NgMatcher(self.cfg.ngwords)

    def step(self, doc, stats, details):
        return ngwords_doc(doc, self.matcher, stats, details)


class HostsFn(_StageFn):
    """hosts: built-in suffixes and the UT1 blocklist."""

    stage = "hosts"

    def setup(self):
        self.hosts = HostFilter(self.cfg.hosts)

    def step(self, doc, stats, details):
        return hosts_doc(doc, self.hosts, stats)


class CleanFn(_StageFn):
    """clean: punctuation normalisation and footer trimming."""

    stage = "clean"

    def step(self, doc, stats, details):
        return clean_doc(doc, self.cfg.clean, stats, details)


STAGE_FNS = {
    "read": ReadWarcFn, "detect": DetectFn, "decode": DecodeFn, "extract": ExtractFn, "langid": LangIdFn,
    "quality": QualityFn, "ngwords": NgWordsFn, "hosts": HostsFn, "clean": CleanFn,
}


# -- output --------------------------------------------------------------------------------------
def part_name(warc_file: str) -> str:
    base = posixpath.basename(warc_file.replace("\\", "/"))
    for suffix in (".warc.gz", ".warc"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    digest = hashlib.sha1(warc_file.encode()).hexdigest()[:8]
    return f"part-{base}-{digest}.parquet"


def atomic_write(path: str, data: bytes) -> None:
    """Write under a hidden temporary name, then rename: readers never see a partial file."""
    directory, name = posixpath.split(path) if "://" in path else os.path.split(path)
    tmp = FileSystems.join(directory, f".{name}.tmp-{uuid.uuid4().hex}")
    with FileSystems.create(tmp) as fh:
        fh.write(data)
    FileSystems.rename([tmp], [path])



def checkpoint_dir(output_dir: str, fingerprint: str) -> str:
    return FileSystems.join(output_dir, "_checkpoints", fingerprint)


def checkpoint_path(output_dir: str, fingerprint: str, warc_file: str, retry: bool = False) -> str:
    """``<stem>.json`` marks a completed file; ``<stem>.retry.json`` a file that failed on a
    transient remote error: it is counted, and a rerun tries it again."""
    suffix = ".retry.json" if retry else ".json"
    return FileSystems.join(checkpoint_dir(output_dir, fingerprint), part_name(warc_file)[: -len(".parquet")] + suffix)


#: File errors a rerun should try again (the network may be back).
RETRY_ERRORS = frozenset({"remote_error"})


def write_part(cfg: PipelineConfig, path: str, docs: list[Doc], details: StatsAccumulator | None):
    """One Parquet part (atomically); with ``details``, count the documents as written."""
    import pyarrow.parquet as pq

    table = docs_to_table(docs, measure_columns() if cfg.output.quality_measures else ())
    buf = io.BytesIO()
    comp = cfg.output.compression
    pq.write_table(table, buf, compression=None if comp == "none" else comp, row_group_size=cfg.output.row_group_rows)
    atomic_write(path, buf.getvalue())
    written = StatsAccumulator()
    if details is not None:
        for d, n, text in zip(docs, table.column("num_chars").to_pylist(), table.column("text").to_pylist()):
            written.add(d.snapshot, "write", "kept", "written", 1, n, d.payload_bytes)
            for kind, bin_ in histogram_bins(text or "", d.lang_score if d.lang else None):
                details.add(d.snapshot, "write", kind, bin_, 1, n, d.payload_bytes)
    return written


class CommitFileFn(beam.DoFn):
    """write: one zstd Parquet part per input WARC file (rows in record order), then the file's
    checkpoint (its report, statistics and samples), each written atomically.  A file whose
    checkpoint exists is complete: a rerun skips it."""

    stage = "write"

    def __init__(self, cfg: PipelineConfig, output_dir: str, fingerprint: str, stages: list[str],
                 final: bool = True):
        self.cfg = cfg
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.stages = stages
        # final: the part goes to OUT/data and the file's documents are "written"; otherwise
        # (a dedup stage follows) the part is the checkpoint the dedup stage reads.
        self.final = final

    def start_bundle(self):
        self._docs: dict[str, list[Doc]] = {}

    def process(self, el):
        if not isinstance(el, FileEnd):
            self._docs.setdefault(el.warc_file, []).append(el)
            return
        rel = el.inp.rel
        docs = sorted(self._docs.pop(rel, []), key=lambda d: d.sort_key)
        snapshot = el.report["snapshot"]
        part = None
        if docs:
            if self.final:
                part = FileSystems.join(self.output_dir, "data", f"snapshot={snapshot}", part_name(rel))
                written = write_part(self.cfg, part, docs, el.details)
                _count(written.items())
                el.stats.merge(written)
            else:
                part = FileSystems.join(checkpoint_dir(self.output_dir, self.fingerprint), "parts", part_name(rel))
                write_part(self.cfg, part, docs, None)
        if self.final:
            el.report["written_docs"] = len(docs)
            el.report["written_chars"] = sum(len(d.text or d.html or "") for d in docs)
        rows = el.stats.rows(self.stages)
        problems = check_accounting(rows, self.stages)
        if problems:
            raise RuntimeError(f"accounting error in {rel}: {'; '.join(problems)}")
        checkpoint = {
            "fingerprint": self.fingerprint,
            "warc_file": rel,
            "part": part,
            "report": el.report,
            "stats": rows,
            "details": el.details.rows(self.stages, DETAIL_KEYS),
            "samples": sorted(el.samples, key=_sample_order),
        }
        retry = el.report.get("error") in RETRY_ERRORS
        atomic_write(checkpoint_path(self.output_dir, self.fingerprint, rel, retry),
                     json.dumps(checkpoint, ensure_ascii=False).encode())
        stale = checkpoint_path(self.output_dir, self.fingerprint, rel, retry=True)
        if not retry and FileSystems.exists(stale):
            FileSystems.delete([stale])
        _maybe_crash_for_tests()
        yield rel

    def finish_bundle(self):
        if self._docs:
            raise RuntimeError(f"documents of {sorted(self._docs)[:3]} reached write without their file's end marker")


_COMMITS = 0


def _maybe_crash_for_tests() -> None:
    """Fault injection for the resume test: JAWEBCORPUS_CRASH_AFTER_COMMITS=N kills the process
    (no clean-up, like a machine failure) after its N-th committed file."""
    global _COMMITS
    limit = os.environ.get("JAWEBCORPUS_CRASH_AFTER_COMMITS")
    if limit:
        _COMMITS += 1
        if _COMMITS >= int(limit):
            os._exit(17)


@dataclass(frozen=True)
class SnapshotListing:
    """One snapshot to list inside the pipeline (the file listing never enters the job graph)."""

    snapshot: str
    cc_base: str
    max_files: int | None


class ListSnapshotFiles(beam.PTransform):
    """Snapshots → their WARC files (from ``warc.paths.gz``), minus files already committed."""

    def __init__(self, output_dir: str, fingerprint: str, remote: RemoteConfig | None = None):
        super().__init__()
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.remote = remote

    def expand(self, listings):
        output_dir, fingerprint, remote = self.output_dir, self.fingerprint, self.remote

        def pending(inp: InputFile) -> bool:
            return not FileSystems.exists(checkpoint_path(output_dir, fingerprint, inp.rel))

        return (
            listings
            | "list_snapshot" >> beam.FlatMap(lambda s: list_snapshot(s.snapshot, s.cc_base, s.max_files, remote))
            | "skip_completed" >> beam.Filter(pending)
        )


class ProcessFiles(beam.PTransform):
    """Input files → the stages up to ``until`` → per-file Parquet parts and checkpoints."""

    def __init__(self, cfg: PipelineConfig, output_dir: str, fingerprint: str, until: str = "clean",
                 progress: ProgressSink | None = None, samples_per_reason: int = 0,
                 remote: RemoteConfig | None = None):
        super().__init__()
        self.remote = remote
        if until not in STAGE_FNS and until != "dedup":
            raise ValueError(f"--until must be one of {', '.join([*STAGE_FNS, 'dedup'])}")
        self.cfg = cfg
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.until = until
        self.progress = progress or ProgressSink(None)
        self.samples_per_reason = samples_per_reason

    @property
    def dedup(self) -> bool:
        return self.until == "dedup"

    def stages(self) -> list[str]:
        """Every stage of the run, in order."""
        names = list(STAGE_FNS)
        if self.dedup:
            return names + ["dedup", "write"]
        return names[: names.index(self.until) + 1] + ["write"]

    def file_stages(self) -> list[str]:
        """The stages each file goes through before its commit."""
        return self.stages()[:-2] if self.dedup else self.stages()

    def expand(self, files):
        # Spread files over workers (break fusion after listing); then every stage is fused
        # with the next, so each file flows through all of them in one worker.
        docs = files | "spread_files" >> beam.Reshuffle()
        stages = self.file_stages()
        for stage in (stages[:-1] if not self.dedup else stages):
            fn = STAGE_FNS[stage](self.cfg, self.progress, self.samples_per_reason)
            if stage == "read":
                fn.remote = self.remote
            docs = docs | stage >> beam.ParDo(fn)
        commit = CommitFileFn(self.cfg, self.output_dir, self.fingerprint,
                              stages if self.dedup else self.stages(), final=not self.dedup)
        return docs | ("commit" if self.dedup else "write") >> beam.ParDo(commit)


# -- dedup across every file of the run, then the final write -------------------------------------
def _read_part(readable_file) -> list[Doc]:
    import pyarrow.parquet as pq

    with readable_file.open() as fh:
        return table_to_docs(pq.read_table(fh))


class FilesAfter(beam.PTransform):
    """The files matching ``pattern``, listed only once the PCollection ``after`` is complete
    (a side input is computed before its consumer runs), spread over workers, opened."""

    def __init__(self, pattern: str, after=None):
        super().__init__()
        self.pattern = pattern
        self.after = after

    def expand(self, pbegin):
        from apache_beam.io import fileio

        patterns = pbegin | "pattern" >> beam.Create([self.pattern])
        if self.after is not None:
            done = beam.pvalue.AsSingleton(self.after | "count_after" >> beam.combiners.Count.Globally())
            patterns = patterns | "after" >> beam.Map(lambda pat, _n: pat, done)
        return (
            patterns
            | "match" >> fileio.MatchAll(empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
            | "spread" >> beam.Reshuffle()
            | "open" >> fileio.ReadMatches()
        )


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
        decided = {d.sort_key: d for d in survivors}
        stored = checkpointed_docs(self.output_dir, self.fingerprint, rel)
        docs = []
        for key in sorted(stored):
            d = stored[key]
            stub = decided.pop(d.sort_key, None)
            if stub is not None:
                d.cluster_size, d.cluster_id = stub.cluster_size, stub.cluster_id
                docs.append(d)
        if decided:
            raise RuntimeError(f"{len(decided)} surviving documents of {rel} are not in its checkpoint")
        details = StatsAccumulator()
        path = FileSystems.join(self.output_dir, "data", f"snapshot={snapshot}", part_name(rel))
        written = write_part(self.cfg, path, docs, details)
        _count(written.items())
        yield beam.pvalue.TaggedOutput("per_file", (rel, (len(docs), sum(len(d.text or "") for d in docs))))
        for key, vals in written.items():
            yield beam.pvalue.TaggedOutput("stats", (key, vals))
        for key, vals in details.items():
            yield beam.pvalue.TaggedOutput("details", (key, vals))


def checkpointed_docs(output_dir: str, fingerprint: str, rel: str) -> dict[tuple, Doc]:
    """The documents of one WARC file as committed before dedup, by their sort key."""
    import pyarrow.parquet as pq

    source = FileSystems.join(checkpoint_dir(output_dir, fingerprint), "parts", part_name(rel))
    with FileSystems.open(source) as fh:
        return {d.sort_key: d for d in table_to_docs(pq.read_table(fh))}


def _dedup_samples(item, output_dir: str, fingerprint: str):
    """Sample records of dropped duplicates, their text read back from the checkpoint parts."""
    (stage, reason), drops = item
    by_file: dict[str, list] = {}
    for drop in drops:
        by_file.setdefault(drop.doc.warc_file, []).append(drop)
    for rel, docs in sorted(by_file.items()):
        stored = checkpointed_docs(output_dir, fingerprint, rel)
        for drop in docs:
            doc = stored.get(drop.doc.sort_key)
            if doc is not None:
                rec = sample_record(doc, stage, "dropped", reason)
                rec["kept_copy_in"] = drop.kept_copy_in
                yield (stage, reason), rec


class DedupAndWrite(beam.PTransform):
    """Once every file is committed: all checkpointed documents (this run's and earlier ones')
    → near-duplicate removal across snapshots → the final Parquet parts.  Text is read from the
    checkpoints twice (signatures, then the final parts) and never shuffled.  Returns the dedup
    and write statistics (``stats``, ``details``) and ``(warc_file, (documents, characters))``
    written per file."""

    def __init__(self, cfg: PipelineConfig, output_dir: str, fingerprint: str, after=None,
                 against_index: str | None = None, write_index: str | None = None, samples_per_reason: int = 0):
        super().__init__()
        self.samples_per_reason = samples_per_reason
        self.cfg = cfg
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.after = after
        self.against_index = against_index
        self.write_index = write_index

    def expand(self, pbegin):
        from jawebcorpus.dedup.cluster import KeepPolicy

        from .dedup import Dedup

        c = self.cfg.dedup
        pattern = FileSystems.join(checkpoint_dir(self.output_dir, self.fingerprint), "parts", "*.parquet")
        docs = (
            pbegin
            | "checkpointed_parts" >> FilesAfter(pattern, self.after)
            | "read_parts" >> beam.FlatMap(_read_part)
        )
        res = docs | "dedup" >> Dedup(
            c.spec(), KeepPolicy(c.tie_break), max_rounds=c.max_rounds,
            against_index=self.against_index, write_index=self.write_index, carry_text=False,
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
    rows = rows_in_order(items, stages, names)
    atomic_write(path, (json.dumps(rows, ensure_ascii=False, indent=1) + "\n").encode())


def write_files_json(reports, path: str) -> None:
    reports = sorted(reports, key=lambda r: (r["snapshot"], r["warc_file"], r["path"]))
    atomic_write(path, (json.dumps(reports, ensure_ascii=False, indent=1) + "\n").encode())


def _sample_order(rec: dict) -> tuple:
    return (rec["warc_file"], rec["warc_offset"], rec["warc_record_id"])


def write_samples_jsonl(item, samples_dir: str) -> None:
    """``OUT/samples/<stage>/<reason>.jsonl``: the first N dropped documents in record order."""
    (stage, reason), records = item
    records = sorted(records, key=_sample_order)
    safe = "".join(c if c.isalnum() or c in "_-.+" else "_" for c in reason)
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    atomic_write(FileSystems.join(samples_dir, stage, f"{safe}.jsonl"), data)


def _with_written(item) -> dict:
    _rel, joined = item
    report = dict(joined["report"][0])
    docs = chars = 0
    for d, c in joined["written"]:
        docs, chars = docs + d, chars + c
    report["written_docs"], report["written_chars"] = docs, chars
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

    def __init__(self, output_dir: str, fingerprint: str, stages: list[str], samples_per_reason: int = 0,
                 after=None, extra_stats=None, extra_details=None, written_per_file=None, extra_samples=None):
        super().__init__()
        self.after = after  # a PCollection (the committed files) that must be complete first
        # statistics computed after the per-file commits (dedup, final write)
        self.extra_stats = extra_stats
        self.extra_details = extra_details
        self.written_per_file = written_per_file  # (warc_file, (docs, chars)) written after dedup
        self.extra_samples = extra_samples  # ((stage, reason), record) from after the commits
        self.output_dir = output_dir
        self.fingerprint = fingerprint
        self.stages = stages
        self.samples_per_reason = samples_per_reason

    def expand(self, pbegin):
        pattern = FileSystems.join(checkpoint_dir(self.output_dir, self.fingerprint), "*.json")
        cps = (
            pbegin
            | "checkpoints" >> FilesAfter(pattern, self.after)  # every file of this run committed first
            | "load_checkpoints" >> beam.Map(_load_checkpoint)
            # a file retried after a transient failure may briefly have both checkpoints
            | "key_checkpoints" >> beam.Map(lambda cp: (cp["warc_file"], cp))
            | "one_per_file" >> beam.CombinePerKey(_prefer_completed)
            | "checkpoint_values" >> beam.Values()
        )
        stats_dir = FileSystems.join(self.output_dir, "stats")
        stages, names = self.stages, ("snapshot", "stage", "outcome", "reason")
        stat_items = cps | "stats_rows" >> beam.FlatMap(lambda cp: _rows_to_items(cp["stats"], names))
        detail_items = cps | "detail_rows" >> beam.FlatMap(lambda cp: _rows_to_items(cp["details"], DETAIL_KEYS))
        if self.extra_stats is not None:
            stat_items = (stat_items, self.extra_stats) | "with_extra_stats" >> beam.Flatten()
        if self.extra_details is not None:
            detail_items = (detail_items, self.extra_details) | "with_extra_details" >> beam.Flatten()
        (
            stat_items
            | "sum_stats" >> beam.CombinePerKey(_SumCounts())
            | "gather_stats" >> beam.combiners.ToList()
            | "write_stats" >> beam.Map(write_rows_json, FileSystems.join(stats_dir, "stages.json"), stages, names)
        )
        (
            detail_items
            | "sum_details" >> beam.CombinePerKey(_SumCounts())
            | "gather_details" >> beam.combiners.ToList()
            | "write_details" >> beam.Map(write_rows_json, FileSystems.join(stats_dir, "details.json"),
                                          stages, DETAIL_KEYS)
        )
        reports = cps | "file_reports" >> beam.Map(lambda cp: cp["report"])
        if self.written_per_file is not None:
            reports = (
                {"report": reports | "report_by_file" >> beam.Map(lambda r: (r["warc_file"], r)),
                 "written": self.written_per_file}
                | "join_written" >> beam.CoGroupByKey()
                | "with_written" >> beam.Map(_with_written)
            )
        (
            reports
            | "gather_files" >> beam.combiners.ToList()
            | "write_files" >> beam.Map(write_files_json, FileSystems.join(stats_dir, "files.json"))
        )
        if self.samples_per_reason:
            records = cps | "sample_records" >> beam.FlatMap(lambda cp: (((s["stage"], s["reason"]), s) for s in cp["samples"]))
            if self.extra_samples is not None:
                records = (records, self.extra_samples) | "with_extra_samples" >> beam.Flatten()
            (
                records
                | "pick_samples" >> beam.combiners.Top.PerKey(self.samples_per_reason, key=_sample_order, reverse=True)
                | "write_samples" >> beam.Map(write_samples_jsonl, FileSystems.join(self.output_dir, "samples"))
            )
        return cps
