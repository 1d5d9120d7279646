"""The run's last step is inside the pipeline (issue 17, item 3): run.json, the accounting check
and the release of the output lock happen in the job, after everything else it writes, so a job
whose launcher is gone leaves the same output as one whose launcher waited."""

from __future__ import annotations

import json

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.pipelines.cli import build_parser, build_spec
from jawebcorpus.pipelines.finish import leaf_pcollections
from jawebcorpus.pipelines.lock import OutputLock
from jawebcorpus.pipelines.run import build_pipeline, prepare_output

RUN_JSON_KEYS = ["command", "preset", "config", "fingerprint", "run_fingerprint", "until", "stages", "inputs",
                 "resumed_files", "runner", "direct_num_workers", "versions", "started", "seconds",
                 "accounting_problems"]


def _spec(out, *extra):
    argv = ["run", "--sample", "--quiet", "--output", str(out), *extra]
    args, beam_args = build_parser().parse_known_args(argv)
    return build_spec(args, ["jawebcorpus", *argv]), PipelineOptions(beam_args)


def test_the_pipeline_alone_writes_run_json_checks_the_accounting_and_releases_the_lock(tmp_path):
    out = tmp_path / "out"
    spec, options = _spec(out)
    with OutputLock(str(out), spec.fingerprint, heartbeat_s=3600) as lock:
        prepare_output(spec)
        p = build_pipeline(spec, options, lock_token=lock.token)
        assert p.run().wait_until_finish() == "DONE"  # no launcher code after the pipeline
        assert not (out / "_lock.json").exists()  # released by the job's last step
    run = json.loads((out / "stats" / "run.json").read_text())
    assert list(run) == RUN_JSON_KEYS
    assert run["accounting_problems"] == [] and run["inputs"] == 2 and run["resumed_files"] == 0
    assert run["runner"] == "FnApiRunner (local)" and run["seconds"] > 0
    stages = json.loads((out / "stats" / "stages.json").read_text())
    assert stages and (out / "stats" / "files_summary.json").exists()


def test_the_last_step_waits_for_every_branch_of_the_graph(tmp_path):
    spec, options = _spec(tmp_path / "out", "--samples-per-reason", "2", "--write-index", str(tmp_path / "index"))
    p = build_pipeline(spec, options)
    leaves = leaf_pcollections(p)
    # everything ends in the last step: it is the graph's only end
    assert len(leaves) == 1 and leaves[0].producer.full_label == "finish_run/write_run_json"
    transforms = p.to_runner_api().components.transforms.values()
    by_name = {t.unique_name: t for t in transforms}
    waited = {pc for t in transforms if t.unique_name.startswith("finish_run/wait_") and "/" not in
              t.unique_name[len("finish_run/"):] for pc in t.inputs.values()}
    for branch in ("finalize/statistics/write_statistics", "finalize/statistics/write_file_records",
                   "finalize/statistics/write_samples", "dedup_and_write/dedup/write_index/write_shards"):
        assert set(by_name[branch].outputs.values()) & waited, branch


def test_a_failed_job_keeps_no_lock_of_a_local_run(tmp_path, monkeypatch):
    """An attached local run that fails releases its lock (the launcher is the job)."""
    from jawebcorpus.pipelines import transforms
    from jawebcorpus.pipelines.run import run_pipeline

    out = tmp_path / "out"
    spec, options = _spec(out)

    def crash(*args, **kwargs):  # the local runner calls the DoFn in this process
        raise RuntimeError("stop")

    monkeypatch.setattr(transforms, "commit_file", crash)
    with pytest.raises(Exception, match="stop"):
        run_pipeline(spec, options)
    assert (out / "_runs").is_dir() and not (out / "_lock.json").exists()


@pytest.mark.parametrize("runner_args, says", [
    ([], "the local runner runs it here"),
    (["--runner=PortableRunner", "--job_endpoint=embed"], "--job_endpoint=embed"),
    (["--runner=PortableRunner", "--job_endpoint=localhost:1", "--environment_type=LOOPBACK"], "LOOPBACK"),
])
def test_detach_is_refused_where_the_job_would_run_in_the_launcher(tmp_path, capsys, runner_args, says):
    from jawebcorpus.pipelines.cli import main

    out = tmp_path / "out"
    assert main(["run", "--sample", "--output", str(out), "--detach", *runner_args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0]
    assert not out.exists()


def test_a_local_run_builds_its_graph_without_beams_type_check(tmp_path):
    """The local runner skips Beam's construction-time type check (≈ 0.25 s of a run's fixed
    cost, docs/performance.md); building the graph for another runner keeps it."""
    from apache_beam.options.pipeline_options import TypeOptions

    spec, options = _spec(tmp_path / "out")
    assert options.view_as(TypeOptions).pipeline_type_check
    build_pipeline(spec, options)
    assert options.view_as(TypeOptions).pipeline_type_check is False
    spec, other = _spec(tmp_path / "out", "--runner=PortableRunner", "--job_endpoint=localhost:1")
    build_pipeline(spec, other)
    assert other.view_as(TypeOptions).pipeline_type_check is True
