"""The run's statistics driven with synthetic checkpoints (``pipelines/finalize.py``
:class:`RunStatistics`, as ``bench/bench_files_scale.py`` drives it at 1.6 M files): the
summary and the per-file records add up to the input, a retried file counts once."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.pipelines.config import PipelineConfig
from jawebcorpus.pipelines.finalize import RunStatistics
from jawebcorpus.pipelines.run import local_runner
from jawebcorpus.pipelines.spec import RunSpec

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _bench():
    sys.path.insert(0, str(BENCH))  # bench_files_scale imports bench_scale and _common
    try:
        spec = importlib.util.spec_from_file_location("bench_files_scale", BENCH / "bench_files_scale.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(BENCH))


def test_run_statistics_adds_up_to_synthetic_checkpoints_and_counts_a_retried_file_once(tmp_path):
    b = _bench()
    n = 700  # two failed files (every 331st), files of all 21 snapshots
    cps = [b.checkpoint(i) for i in range(n)]
    retried = dict(cps[3], report=dict(cps[3]["report"], status="failed", error="remote_error", records=0,
                                       responses=0, pages=0))
    keyed = [(cp["warc_file"], cp) for cp in [retried, *cps]]  # the transient failure's checkpoint too
    written = [(b.warc_file(i), b.written(i, b.file_report(i))) for i in range(n)]
    spec = RunSpec(config=PipelineConfig(), output=str(tmp_path))
    opts = PipelineOptions()
    with beam.Pipeline(runner=local_runner(opts), options=opts) as p:
        per_file = p | "written" >> beam.Create(written)
        _ = p | beam.Create(keyed) | RunStatistics(spec, written_per_file=per_file)
    exp = b.expected(n)
    assert exp["failed"] >= 2 and len(exp["snapshots"]) == 21
    check = b.check_outputs(str(tmp_path), exp)  # raises on any difference
    assert check["ok"]
    shards = list((tmp_path / "stats" / "files").iterdir())
    assert 21 < len(shards) <= 21 * 16
    records = [json.loads(line) for f in shards for line in f.read_text().splitlines()]
    assert [r["status"] for r in records if r["warc_file"] == retried["warc_file"]] == ["ok"]  # the completed one
    # a different input does not pass the check
    with pytest.raises(AssertionError):
        b.check_outputs(str(tmp_path), b.expected(n + 1))


@pytest.mark.slow
def test_bench_files_scale_runs_measures_and_reproduces_the_old_shape():
    b = _bench()
    r = b.run_one(400, old_shape=True)
    assert r["check"]["ok"] and r["outputs"]["jsonl_records"] == 400
    steps = r["steps"]
    old = steps["OLD SHAPE: every file record as one element"]["max_size"]
    group = steps["group_file_records"]
    assert group["max_values"] < 400 / 21  # one shard of one snapshot's records
    assert old > 20 * group["max_size"]
    # the old files.json is what the bench computes from the records alone
    assert r["outputs"]["OLD files.json"] == r["check"]["old_files_json_bytes_computed"]
    assert steps["join_written/CoGroupByKeyImpl/GroupByKey"]["max_values"] == 2
