"""The run's statistics (part 3 of a run, see ``pipelines/transforms.py``): :class:`Finalize`
reads every checkpoint once every file is committed (this run's and earlier ones'), adds the
dedup and write counts, and writes ``OUT/stats/*.json``, ``OUT/stats/files/*.jsonl`` and
``OUT/samples``, summed with combiners (no worker holds every file's record), so a resumed run
reports exactly what an uninterrupted one would."""

from __future__ import annotations

import json

import apache_beam as beam

from jawebcorpus.corpus.stats import DETAIL_KEYS, rows_in_order

from . import storage
from .output import RETRY_ERRORS, checkpoint_dir, file_record_shard, file_records_dir, safe_name, sample_order, shard_patterns
from .spec import RunSpec
from .transforms import FilesAfter

__all__ = ["Finalize", "RunStatistics", "FilesSummaryFn", "write_rows_json"]


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
        self.spec = spec
        self.output_dir = spec.output
        self.fingerprint = spec.fingerprint

    def expand(self, pbegin):
        patterns = shard_patterns(checkpoint_dir(self.output_dir, self.fingerprint), ".json", self.spread)
        keyed = (
            pbegin
            | "checkpoints" >> FilesAfter(patterns, self.after, self.spread)  # every file of this run committed first
            | "load_checkpoints" >> beam.Map(_load_checkpoint)
            | "key_checkpoints" >> beam.Map(lambda cp: (cp["warc_file"], cp))
        )
        return keyed | "statistics" >> RunStatistics(
            self.spec, extra_stats=self.extra_stats, extra_details=self.extra_details,
            written_per_file=self.written_per_file, extra_samples=self.extra_samples)


class RunStatistics(beam.PTransform):
    """``(warc_file, checkpoint)`` pairs (every checkpoint of the run, as :func:`_load_checkpoint`
    reads them) → ``OUT/stats`` and ``OUT/samples``; returns the checkpoints, one per file.

    The part of :class:`Finalize` after the checkpoints are read, apart so that it can be driven
    with synthetic checkpoints at full size (``bench/bench_files_scale.py``)."""

    def __init__(self, spec: RunSpec, extra_stats=None, extra_details=None, written_per_file=None,
                 extra_samples=None):
        super().__init__()
        self.extra_stats = extra_stats
        self.extra_details = extra_details
        self.written_per_file = written_per_file
        self.extra_samples = extra_samples
        self.output_dir = spec.output
        self.stages = spec.stages
        self.samples_per_reason = spec.samples_per_reason

    def expand(self, keyed):
        cps = (
            keyed
            # a file retried after a transient failure may briefly have both checkpoints
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
        files_per_snapshot = beam.pvalue.AsDict(
            reports
            | "file_snapshot" >> beam.Map(lambda r: (r["snapshot"], 1))
            | "files_per_snapshot" >> beam.CombinePerKey(sum))
        (
            reports
            | "file_record_shard" >> beam.Map(lambda r, n: (file_record_shard(r, n[r["snapshot"]]), r), files_per_snapshot)
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
