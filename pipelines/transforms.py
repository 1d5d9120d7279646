"""Beam stages: thin DoFns over the plain functions of ``corpus/`` and ``filters/``.

Stage names are the same everywhere: the transform label, the Beam metrics namespace, the
``stage`` key of ``OUT/stats/stages.json`` and the headings of ``docs/stages.md``.
Each DoFn counts outcomes in a :class:`StatsAccumulator` and emits the partial counts at the
end of its bundle on the ``stats`` output (and into Beam counters for live monitoring).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import uuid

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.pvalue import TaggedOutput
from apache_beam.transforms.window import GlobalWindows

from jawebcorpus.corpus.config import PipelineConfig
from jawebcorpus.corpus.extract import Extractor
from jawebcorpus.corpus.inputs import InputFile, open_input
from jawebcorpus.corpus.record import Doc, docs_to_table
from jawebcorpus.corpus.stats import DETAIL_KEYS, STAGES, StatsAccumulator, histogram_bins, rows_in_order
from jawebcorpus.corpus.steps import FileReport, decode_doc, extract_doc, read_pages
from jawebcorpus.filters.hosts import HostFilter
from jawebcorpus.filters.langid import LanguageIdentifier
from jawebcorpus.filters.ngwords import NgMatcher
from jawebcorpus.filters.quality import measure_columns
from jawebcorpus.filters.steps import clean_doc, detect_doc, hosts_doc, langid_doc, ngwords_doc, quality_doc

from .progress import ProgressSink

STATS = "stats"
DETAILS = "details"
SAMPLES = "samples"
FILES = "files"
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


class _StageFn(beam.DoFn):
    stage = ""

    def __init__(self, cfg: PipelineConfig, progress: ProgressSink | None = None, samples: int = 0):
        self.cfg = cfg
        self.progress = progress or ProgressSink(None)
        self.samples = samples

    def emit(self, doc: Doc, out: Doc | None):
        """The kept document, or (with --samples-per-reason) a sample of the dropped one."""
        if out is not None:
            yield out
        elif self.samples and self.stats.last is not None:
            _snap, stage, outcome, reason = self.stats.last
            yield TaggedOutput(SAMPLES, ((stage, reason), sample_record(doc, stage, outcome, reason)))

    def start_bundle(self):
        self.stats = StatsAccumulator()
        self.details = StatsAccumulator()

    def finish_bundle(self):
        self.progress.flush()
        for key, vals in self.stats.drain():
            _snap, stage, outcome, reason = key
            for measure, v in zip(("docs", "chars", "bytes"), vals):
                if v:
                    Metrics.counter(stage, f"{outcome}.{reason}.{measure}").inc(v)
            yield TaggedOutput(STATS, GlobalWindows.windowed_value((key, vals)))
        for key, vals in self.details.drain():
            yield TaggedOutput(DETAILS, GlobalWindows.windowed_value((key, vals)))


class ReadWarcFn(_StageFn):
    """read: every record of a WARC file; HTML responses go on as documents."""

    stage = "read"

    def process(self, inp: InputFile):
        report = FileReport(inp.path, inp.rel, inp.snapshot)
        try:
            f = open_input(inp.path)
        except OSError as exc:
            report.status, report.error = "failed", "io_error"
            report.message = f"cannot open {inp.path}: {type(exc).__name__}: {exc}"
        else:
            with f:
                for doc in read_pages(f, inp, self.cfg.read, self.stats, report):
                    yield doc
        self.progress.add(flush=True, files=1, captures=report.responses, failed_files=int(report.status != "ok"))
        yield TaggedOutput(FILES, report.to_dict())


class DetectFn(_StageFn):
    """detect: rapid Japanese detection on the raw bytes."""

    stage = "detect"

    def setup(self):
        self.lid = LanguageIdentifier(self.cfg.langid.model_path) if self.cfg.detect.mode == "swallow" else None

    def process(self, doc: Doc):
        yield from self.emit(doc, detect_doc(doc, self.cfg.detect, self.stats, self.lid))


class DecodeFn(_StageFn):
    """decode: charset cascade to text."""

    stage = "decode"

    def process(self, doc: Doc):
        yield from self.emit(doc, decode_doc(doc, self.stats, self.details))


class ExtractFn(_StageFn):
    """extract: trafilatura main text, with a time limit per document."""

    stage = "extract"

    def setup(self):
        c = self.cfg.extract
        self.extractor = Extractor(c.timeout_s, c.isolation, c.fast, c.memory_limit_mb)

    def teardown(self):
        extractor = getattr(self, "extractor", None)
        if extractor is not None:
            extractor.close()

    def process(self, doc: Doc):
        yield from self.emit(doc, extract_doc(doc, self.extractor, self.stats))


class LangIdFn(_StageFn):
    """langid: fastText language ID (plus the kana check)."""

    stage = "langid"

    def setup(self):
        self.lid = LanguageIdentifier(self.cfg.langid.model_path)

    def process(self, doc: Doc):
        out = langid_doc(doc, self.lid, self.cfg.langid, self.stats)
        if out is not None:
            self.progress.add(japanese=1)
        yield from self.emit(doc, out)


class QualityFn(_StageFn):
    """quality: Swallow's 21 document rules."""

    stage = "quality"

    def process(self, doc: Doc):
        yield from self.emit(doc, quality_doc(doc, self.cfg.quality, self.stats, self.details, self.cfg.output.quality_measures))


class NgWordsFn(_StageFn):
    """ngwords: share of NG-word characters among Japanese letters."""

    stage = "ngwords"

    def setup(self):
        self.matcher = NgMatcher(self.cfg.ngwords)

    def process(self, doc: Doc):
        yield from self.emit(doc, ngwords_doc(doc, self.matcher, self.stats, self.details))


class HostsFn(_StageFn):
    """hosts: built-in suffixes and the UT1 blocklist."""

    stage = "hosts"

    def setup(self):
        self.hosts = HostFilter(self.cfg.hosts)

    def process(self, doc: Doc):
        yield from self.emit(doc, hosts_doc(doc, self.hosts, self.stats))


class CleanFn(_StageFn):
    """clean: punctuation normalisation and footer trimming."""

    stage = "clean"

    def process(self, doc: Doc):
        yield from self.emit(doc, clean_doc(doc, self.cfg.clean, self.stats, self.details))


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


class WriteParquetFn(_StageFn):
    """write: one zstd Parquet part file per input WARC file, rows in record order."""

    stage = "write"

    def __init__(self, cfg: PipelineConfig, output_dir: str):
        super().__init__(cfg)
        self.output_dir = output_dir

    def process(self, item):
        (snapshot, warc_file), docs = item
        import pyarrow.parquet as pq

        docs = sorted(docs, key=lambda d: d.sort_key)
        table = docs_to_table(docs, measure_columns() if self.cfg.output.quality_measures else ())
        buf = io.BytesIO()
        comp = self.cfg.output.compression
        pq.write_table(table, buf, compression=None if comp == "none" else comp,
                       row_group_size=self.cfg.output.row_group_rows)
        path = FileSystems.join(self.output_dir, "data", f"snapshot={snapshot}", part_name(warc_file))
        atomic_write(path, buf.getvalue())
        for d, n, text in zip(docs, table.column("num_chars").to_pylist(), table.column("text").to_pylist()):
            self.stats.add(snapshot, "write", "kept", "written", 1, n, d.payload_bytes)
            for kind, bin_ in histogram_bins(text or "", d.lang_score if d.lang else None):
                self.details.add(snapshot, "write", kind, bin_, 1, n, d.payload_bytes)
        yield path


# -- statistics sinks ----------------------------------------------------------------------------
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


def write_stats_json(items, path: str, stages=STAGES, names=None) -> None:
    rows = rows_in_order(items, stages, names) if names else rows_in_order(items, stages)
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


class CorpusPipeline(beam.PTransform):
    """Input files → the stages up to ``until`` → Parquet, plus statistics under ``OUT/stats``."""

    def __init__(self, cfg: PipelineConfig, output_dir: str, until: str = "clean",
                 progress: ProgressSink | None = None, samples_per_reason: int = 0):
        super().__init__()
        self.samples_per_reason = samples_per_reason
        if until not in STAGE_FNS:
            raise ValueError(f"--until must be one of {', '.join(STAGE_FNS)}")
        self.cfg = cfg
        self.output_dir = output_dir
        self.until = until
        self.progress = progress or ProgressSink(None)

    def expand(self, files):
        # Spread files over workers (break fusion after listing).
        files = files | "spread_files" >> beam.Reshuffle()
        stats = []
        details = []
        samples = []
        read = files | "read" >> beam.ParDo(ReadWarcFn(self.cfg, self.progress)).with_outputs(STATS, FILES, main="docs")
        docs = read.docs
        stats.append(read[STATS])
        for stage in list(STAGE_FNS)[1 : list(STAGE_FNS).index(self.until) + 1]:
            fn = STAGE_FNS[stage](self.cfg, self.progress, self.samples_per_reason)
            res = docs | stage >> beam.ParDo(fn).with_outputs(STATS, DETAILS, SAMPLES, main="docs")
            docs = res.docs
            stats.append(res[STATS])
            details.append(res[DETAILS])
            samples.append(res[SAMPLES])
        written = (
            docs
            | "key_by_file" >> beam.Map(lambda d: ((d.snapshot, d.warc_file), d))
            | "group_by_file" >> beam.GroupByKey()
            | "write" >> beam.ParDo(WriteParquetFn(self.cfg, self.output_dir)).with_outputs(STATS, DETAILS, main="paths")
        )
        stats.append(written[STATS])
        details.append(written[DETAILS])
        stats_dir = FileSystems.join(self.output_dir, "stats")
        (
            stats
            | "flatten_stats" >> beam.Flatten()
            | "sum_stats" >> beam.CombinePerKey(_SumCounts())
            | "gather_stats" >> beam.combiners.ToList()
            | "write_stats" >> beam.Map(write_stats_json, FileSystems.join(stats_dir, "stages.json"))
        )
        (
            details
            | "flatten_details" >> beam.Flatten()
            | "sum_details" >> beam.CombinePerKey(_SumCounts())
            | "gather_details" >> beam.combiners.ToList()
            | "write_details" >> beam.Map(write_stats_json, FileSystems.join(stats_dir, "details.json"),
                                          STAGES, DETAIL_KEYS)
        )
        if self.samples_per_reason:
            samples_dir = FileSystems.join(self.output_dir, "samples")
            (
                samples
                | "flatten_samples" >> beam.Flatten()
                | "pick_samples" >> beam.combiners.Top.PerKey(
                    self.samples_per_reason, key=_sample_order, reverse=True)
                | "write_samples" >> beam.Map(write_samples_jsonl, samples_dir)
            )
        (
            read[FILES]
            | "gather_files" >> beam.combiners.ToList()
            | "write_files" >> beam.Map(write_files_json, FileSystems.join(stats_dir, "files.json"))
        )
        return written.paths
