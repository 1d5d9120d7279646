"""The run's statistics at full size: 1.6 M file records (21 snapshots × ≈ 76,000 WARC files).

The part of ``Finalize`` after the checkpoints are read (``pipelines/finalize.py``
:class:`RunStatistics`: one checkpoint per file, the join with what the final write wrote per
file, the stage and detail sums, the per-file records sharded into ``stats/files/*.jsonl``,
``files_summary.json``) is driven with synthetic checkpoints of the real structure, made inside
the pipeline (no listing, no JSON parsing, no input files): per file a report (≈ 0.3 % failed
with a file error class, ≈ 0.1 % resynced, some retried), the stage rows of a real file
(≈ 32, from the stage registry's reason codes) and detail rows (≈ 16), and the
``(warc_file, (docs, chars, error))`` that the final write reports per file.

Every PCollection of the statistics gets a measuring branch (``bench_scale.py``'s: largest
element in approximate encoded bytes, most values under one key of a ``GroupByKey``), the
SDK worker is its own process (``--direct_running_mode=multi_processing
--direct_num_workers=1``), and its peak RSS and the runner's are sampled.  The outputs are
written to a temporary folder and checked against the synthetic input's totals (files,
records, failed files and error classes per snapshot; the read stage's documents; one jsonl
line per file).

``--old-shape`` adds, in the same run, the shape of before (every file record gathered into one
element and written as one JSON list ``files.json``), measured and labelled ``OLD SHAPE``.
Without it the size of that one element is still computed (the sum of the records' JSON).

    python bench/bench_files_scale.py --runs 160000:full,160000:lean:old,800000:lean

1.6 M files do not run on the local runner (``docs/scaling.md``): it sends a stage's input to a
worker in one message, which protobuf limits to 2 GiB (1.6 M lean checkpoints are 2.2 GB).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, sample_peak_rss, table, write_results  # noqa: E402
from bench_scale import instrument, measure_fn  # noqa: E402

#: 21 snapshots, as many as Swallow's corpus used.
SNAPSHOTS = tuple(f"CC-MAIN-{2013 + i // 2}-{(20 if i % 2 else 10) + i % 7:02d}" for i in range(21))
GEN_SHARDS = 64
FAILED_EVERY, RESYNCED_EVERY, RETRIED_EVERY, WRITE_ERROR_EVERY = 331, 997, 53, 4999
ERROR_CLASSES = ("io_error", "remote_error", "not_found", "truncated_gzip", "gzip_error", "truncated_record",
                 "malformed_record", "bad_content_length")

# (stage, outcome, reason, share of the file's captures) of a real file's stage rows
_READ_OTHER = (("read", "dropped", "http_status"), ("read", "dropped", "not_html"), ("read", "dropped", "empty_body"),
               ("read", "dropped", "revisit_record"), ("read", "kept", "html_truncated"))
_PAGE_ROWS = (
    ("detect", "kept", "kana_utf8", 0.060), ("detect", "kept", "html_lang", 0.010), ("detect", "kept", "kana_cp932", 0.002),
    ("detect", "kept", "kana_euc_jp", 0.001), ("detect", "dropped", "no_japanese_signal", 0.920),
    ("decode", "kept", "utf-8:header", 0.060), ("decode", "kept", "cp932:meta", 0.003), ("decode", "dropped", "empty_text", 0.001),
    ("extract", "kept", "extracted", 0.058), ("extract", "dropped", "extract_empty", 0.004), ("extract", "error", "extract_timeout", 0.0001),
    ("langid", "kept", "ja", 0.050), ("langid", "dropped", "below_threshold", 0.007), ("langid", "dropped", "too_few_kana", 0.002),
    ("quality", "kept", "passed", 0.030), ("quality", "dropped", "too_short", 0.008), ("quality", "dropped", "dup_line_frac", 0.003),
    ("quality", "dropped", "low_hiragana", 0.004), ("quality", "dropped", "top_2gram", 0.002), ("quality", "dropped", "dup_5gram", 0.001),
    ("quality", "dropped", "few_japanese_letters", 0.002),
    ("ngwords", "kept", "clean", 0.027), ("ngwords", "kept", "matched", 0.002), ("ngwords", "dropped", "ng_fraction", 0.001),
    ("hosts", "kept", "allowed", 0.028), ("hosts", "dropped", "ut1_adult", 0.001),
    ("clean", "kept", "unchanged", 0.020), ("clean", "kept", "punctuation", 0.006), ("clean", "kept", "footer", 0.002),
)
_DETAIL_ROWS = tuple(("langid", "hist:lang_score", f"{x / 100:.2f}") for x in range(50, 100, 5)) + (
    ("quality", "rule_fails", "too_short"), ("quality", "rule_fails", "low_hiragana"), ("quality", "rule_fails", "dup_line_frac"),
    ("ngwords", "term_matched", "t0001"), ("clean", "removed_chars", "footer"), ("decode", "replacement_chars", "any"),
)


def _mix(i: int, salt: int) -> int:
    x = (i * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 29)


def warc_file(i: int) -> str:
    snap = SNAPSHOTS[i % len(SNAPSHOTS)]
    n = i // len(SNAPSHOTS)
    seg = f"{1700000000000 + (n // 800) * 100:013d}.{n % 100:02d}"
    return f"crawl-data/{snap}/segments/{seg}/warc/{snap}-{20240101000000 + n:014d}-{n:05d}.warc.gz"


def file_report(i: int) -> dict:
    """The report of synthetic file ``i`` (what ``FileReport.to_dict`` writes)."""
    rel = warc_file(i)
    responses = 30_000 + _mix(i, 1) % 18_000
    status, error, message, stopped_at = "ok", None, None, None
    if i % FAILED_EVERY == 7:
        status, error = "failed", ERROR_CLASSES[(i // FAILED_EVERY) % len(ERROR_CLASSES)]
        message, responses = f"{error} at offset {_mix(i, 2) % 10**9}", responses // 3
        stopped_at = _mix(i, 2) % 10**9
    elif i % RESYNCED_EVERY == 11:
        status = "resynced"
    r = {"path": f"https://data.commoncrawl.org/{rel}", "warc_file": rel, "snapshot": SNAPSHOTS[i % len(SNAPSHOTS)],
         "status": status, "error": error, "message": message, "records": 3 * responses + 1, "responses": responses,
         "pages": responses * 9 // 10, "stopped_at": stopped_at, "retries": int(i % RETRIED_EVERY == 5)}
    if status == "resynced":
        r["resyncs"], r["skipped_bytes"] = 1, 1000 + _mix(i, 3) % 100_000
    return r


def written(i: int, report: dict):
    """What the final write reports for file ``i``: (docs, chars, error)."""
    docs = report["responses"] * 3 // 100
    err = "OSError" if i % WRITE_ERROR_EVERY == 13 else None
    return (0, 0, err) if err else (docs, docs * (1500 + _mix(i, 4) % 700), None)


def _row(snap, stage, outcome, reason, docs, chars, nbytes) -> dict:
    return {"snapshot": snap, "stage": stage, "outcome": outcome, "reason": reason, "docs": docs, "chars": chars,
            "bytes": nbytes}


def checkpoint(i: int, fingerprint: str = "0123456789abcdef", lean: bool = False) -> dict:
    """A synthetic checkpoint of the structure ``commit_file`` writes (no samples: ``--samples-per-reason 0``).
    ``lean``: three read rows and one detail row (a smaller checkpoint, the same report)."""
    rep = file_report(i)
    snap, resp, pages = rep["snapshot"], rep["responses"], rep["pages"]
    other = resp - pages
    if lean:  # three read rows (they still add up to the file's records), one detail row
        stats = [_row(snap, "read", "kept", "html", pages, 0, pages * 60_000),
                 _row(snap, "read", "dropped", "request_record", resp, 0, resp * 400),
                 _row(snap, "read", "dropped", "metadata_record", rep["records"] - pages - resp, 0, resp * 300)]
        other = 0
    else:
        stats = [_row(snap, "read", "kept", "html", pages - 1, 0, pages * 60_000),
                 _row(snap, "read", "dropped", "request_record", resp, 0, resp * 400),
                 _row(snap, "read", "dropped", "metadata_record", resp, 0, resp * 300),
                 _row(snap, "read", "dropped", "warcinfo_record", 1, 0, 500)]
    for k, (stage, outcome, reason) in enumerate(() if lean else _READ_OTHER):  # the rest of the responses, split
        n = other // len(_READ_OTHER) + (other % len(_READ_OTHER) if k == 0 else 0)
        stats.append(_row(snap, stage, outcome, reason, n + (1 if reason == "html_truncated" else 0), 0, n * 2000))
    for k, (stage, outcome, reason, share) in enumerate(() if lean else _PAGE_ROWS):
        n = int(pages * share) + _mix(i, 100 + k) % 3
        stats.append(_row(snap, stage, outcome, reason, n, n * 1800 if stage != "detect" else 0, n * 55_000))
    details = [{"snapshot": snap, "stage": stage, "kind": kind, "name": name, "docs": 1 + _mix(i, k) % 400,
                "chars": _mix(i, k + 50) % 800_000, "bytes": _mix(i, k + 90) % 3_000_000}
               for k, (stage, kind, name) in enumerate(_DETAIL_ROWS[:1] if lean else _DETAIL_ROWS)]
    return {"fingerprint": fingerprint, "warc_file": rep["warc_file"],
            "part": f"s3://bucket/out/_checkpoints/{fingerprint}/parts/{i % 256:02x}/part-{i:08d}.parquet",
            "report": rep, "stats": stats, "details": details, "samples": []}


def expected(n: int) -> dict:
    """The synthetic input's totals (from the reports alone) and the size of the old ``files.json``."""
    snaps: dict = {}
    errors: dict = {}
    old_bytes = 0
    failed = 0
    for i in range(n):
        r = file_report(i)
        d, c, err = written(i, r)
        s = snaps.setdefault(r["snapshot"], {"files": 0, "failed": 0, "records": 0, "responses": 0, "written_docs": 0})
        s["files"] += 1
        s["records"] += r["records"]
        s["responses"] += r["responses"]
        s["written_docs"] += d
        bad = r["status"] != "ok" or err is not None  # resynced files are listed as failed too
        s["failed"] += bad
        failed += bad
        for e in (r["error"], err):
            if e:
                errors[e] = errors.get(e, 0) + 1
        full = dict(r, written_docs=d, written_chars=c, **({"write_error": err} if err else {}))
        old_bytes += len(json.dumps(full, ensure_ascii=False)) + 2  # a list item: ", " between records
    return {"files": n, "failed": failed, "snapshots": snaps, "errors": errors, "old_files_json_bytes": old_bytes}


# -- one run ----------------------------------------------------------------------------------------
def _gen_checkpoints(shard: int, n: int, lean: bool):
    for i in range(shard, n, GEN_SHARDS):
        cp = checkpoint(i, lean=lean)
        yield cp["warc_file"], cp


def _gen_written(shard: int, n: int):
    for i in range(shard, n, GEN_SHARDS):
        yield warc_file(i), written(i, file_report(i))


def _write_old(records, path: str) -> int:
    data = json.dumps(sorted(records, key=lambda r: r["warc_file"]), ensure_ascii=False).encode()
    with open(path, "wb") as fh:
        fh.write(data)
    return len(data)


def run_one(n: int, old_shape: bool, lean: bool = False, workers: int = 1, measure: bool = True) -> dict:
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.pipeline import PipelineVisitor

    from jawebcorpus.pipelines.config import PipelineConfig
    from jawebcorpus.pipelines.finalize import RunStatistics
    from jawebcorpus.pipelines.run import local_runner
    from jawebcorpus.pipelines.spec import RunSpec

    peak, stop = sample_peak_rss()
    # the SDK worker process imports bench_scale's measuring DoFn by name
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.abspath(__file__))] + [x for x in [os.environ.get("PYTHONPATH")] if x])
    opts = PipelineOptions(["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"])
    tmp = tempfile.mkdtemp(prefix="jawebcorpus-bench-files-")
    spec = RunSpec(config=PipelineConfig(), output=tmp)
    p = beam.Pipeline(runner=local_runner(opts), options=opts)
    shards = p | "shards" >> beam.Create(list(range(GEN_SHARDS))) | "spread" >> beam.Reshuffle()
    keyed = shards | "synthetic_checkpoints" >> beam.FlatMap(_gen_checkpoints, n, lean)
    per_file = shards | "synthetic_written" >> beam.FlatMap(_gen_written, n)
    _ = keyed | "statistics" >> RunStatistics(spec, written_per_file=per_file)
    measured = instrument(p, prefix="statistics/") if measure else 0
    if old_shape:  # before: every file record in one element, one JSON list
        found = []

        class V(PipelineVisitor):
            def visit_transform(self, node):
                if node.full_label == "statistics/with_written":
                    found.extend(node.outputs.values())

        p.visit(V())
        gathered = found[0] | "OLD_SHAPE_gather_files" >> beam.combiners.ToList()
        _ = gathered | "OLD_SHAPE_measure" >> beam.ParDo(measure_fn("OLD SHAPE: every file record as one element", False))
        _ = gathered | "OLD_SHAPE_write_files_json" >> beam.Map(_write_old, os.path.join(tmp, "files.json"))
    t0 = time.perf_counter()
    result = p.run()
    result.wait_until_finish()
    seconds = time.perf_counter() - t0
    stop.set()  # peak: the runner's and the largest worker's RSS
    steps: dict = {}
    q = result.metrics().query(MetricsFilter().with_namespace("scale"))
    for d in q["distributions"]:
        label, what = d.key.metric.name.rsplit("|", 1)
        v = d.committed or d.attempted
        if v is not None and v.count:
            steps.setdefault(label, {})[f"max_{what}"] = v.max
    for c in q["counters"]:
        label, what = c.key.metric.name.rsplit("|", 1)
        steps.setdefault(label, {})[what] = c.committed if c.committed is not None else c.attempted
    out = {"files": n, "seconds": seconds, "peak_rss_runner_mib": peak["runner"] / 2**20,
           "peak_rss_worker_mib": peak["workers"] / 2**20, "measured_pcollections": measured, "old_shape": old_shape,
           "lean": lean, "workers": workers, "steps": steps, "outputs": inspect_outputs(tmp), "check": check_outputs(tmp, expected(n))}
    shutil.rmtree(tmp, ignore_errors=True)
    return out


def inspect_outputs(tmp: str) -> dict:
    stats = os.path.join(tmp, "stats")
    files_dir = os.path.join(stats, "files")
    shards = sorted(os.listdir(files_dir)) if os.path.isdir(files_dir) else []
    sizes = [os.path.getsize(os.path.join(files_dir, f)) for f in shards]
    lines = [sum(1 for _ in open(os.path.join(files_dir, f), "rb")) for f in shards]
    out = {"jsonl_shards": len(shards), "jsonl_records": sum(lines), "jsonl_bytes": sum(sizes),
           "largest_shard_bytes": max(sizes, default=0), "largest_shard_records": max(lines, default=0)}
    for name in ("files_summary.json", "stages.json", "details.json"):
        path = os.path.join(stats, name)
        out[name] = os.path.getsize(path) if os.path.exists(path) else None
    if os.path.exists(os.path.join(tmp, "files.json")):
        out["OLD files.json"] = os.path.getsize(os.path.join(tmp, "files.json"))
    return out


def check_outputs(tmp: str, exp: dict) -> dict:
    """The outputs against the synthetic input's totals; raises on a mismatch."""
    stats = os.path.join(tmp, "stats")
    summary = json.load(open(os.path.join(stats, "files_summary.json")))
    problems = []
    if summary["files"] != exp["files"]:
        problems.append(f"files {summary['files']} != {exp['files']}")
    if summary["failed_files"] != exp["failed"]:
        problems.append(f"failed files {summary['failed_files']} != {exp['failed']}")
    if summary["errors"] != dict(sorted(exp["errors"].items())):
        problems.append("error classes differ")
    if len(summary["failed_examples"]) != min(100, exp["failed"]):
        problems.append("failed examples")
    read_docs: dict = {}
    for row in json.load(open(os.path.join(stats, "stages.json"))):
        if row["stage"] == "read":
            read_docs[row["snapshot"]] = read_docs.get(row["snapshot"], 0) + row["docs"]
    for snap, e in exp["snapshots"].items():
        s = summary["snapshots"].get(snap, {})
        for k in ("files", "failed", "records", "responses", "written_docs"):
            if s.get(k) != e[k]:
                problems.append(f"{snap} {k}: {s.get(k)} != {e[k]}")
        if read_docs.get(snap) != e["records"]:  # every record of a file has one read outcome
            problems.append(f"{snap} read docs {read_docs.get(snap)} != records {e['records']}")
    records = 0
    files_dir = os.path.join(stats, "files")
    seen = set()
    for f in sorted(os.listdir(files_dir)):
        for line in open(os.path.join(files_dir, f), "rb"):
            seen.add(json.loads(line)["warc_file"])
            records += 1
    if records != exp["files"] or len(seen) != exp["files"]:
        problems.append(f"jsonl records {records} ({len(seen)} distinct) != {exp['files']}")
    if problems:
        raise AssertionError("; ".join(problems[:10]))
    return {"ok": True, "files": exp["files"], "failed": exp["failed"], "errors": exp["errors"],
            "old_files_json_bytes_computed": exp["old_files_json_bytes"]}


def print_table(results: list[dict]) -> None:
    labels = sorted(set().union(*(r["steps"] for r in results)))
    rows = []
    for label in labels:
        row = [label]
        for r in results:
            v = r["steps"].get(label)
            row.append("–" if v is None else f"{v.get('max_size', 0):,}" + (
                f" / {v.get('max_values', 0):,}" if "max_values" in v else "") + f" ({v.get('count', 0):,})")
        rows.append(row)
    print(table(["step: largest element bytes / values per key (elements)"] + [run_label(r) for r in results], rows))


def run_label(r: dict) -> str:
    w = r.get("workers", 1)
    return f"{r['files']:,} {'lean' if r.get('lean') else 'full'}{' +old' if r['old_shape'] else ''}{f' {w}w' if w > 1 else ''}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--runs", default="160000:full,160000:lean:old,800000:lean",
                    help="runs, comma-separated: FILES:full|lean[:old][:wN] (lean: three read rows and one detail "
                         "row per checkpoint; old: add the old shape, every file record in one element; wN: N SDK "
                         "worker processes, default 1)")
    ap.add_argument("--merge", nargs="+", metavar="JSON", help="combine the results of earlier invocations")
    ap.add_argument("--note", default="", help="a note stored with the results (e.g. runs that did not finish)")
    ap.add_argument("--name", default="bench_files_scale", help="result name (bench/results/<name>.json)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        n, kind, *more = args.one.split(":")
        workers = int(next((m[1:] for m in more if m.startswith("w")), 1))
        print("RESULT " + json.dumps(run_one(int(n), "old" in more, kind == "lean", workers)))
        return
    results = []
    if args.merge:
        for path in args.merge:
            results.extend(json.load(open(path))["results"])
    else:
        for run in args.runs.split(","):
            print(f"{run} …", flush=True)
            cp = subprocess.run([sys.executable, __file__, "--one", run], capture_output=True, text=True)
            lines = [x for x in cp.stdout.splitlines() if x.startswith("RESULT ")]
            if cp.returncode != 0 or not lines:
                print(cp.stderr[-4000:])
                raise SystemExit(f"{run} failed")
            r = json.loads(lines[-1][len("RESULT "):])
            results.append(r)
            print(f"  {r['seconds']:.0f} s, worker peak RSS {r['peak_rss_worker_mib']:.0f} MiB, runner "
                  f"{r['peak_rss_runner_mib']:.0f} MiB; outputs {r['outputs']}", flush=True)
    print_table(results)
    path = write_results(args.name, {"runner": "FnApiRunner multi_processing, 1 worker", "snapshots": len(SNAPSHOTS),
                                     "note": args.note, "results": results}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
