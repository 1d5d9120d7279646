"""Build and run the corpus pipeline on a Beam runner; read back and check its statistics."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, TypeOptions
from apache_beam.runners.runner import PipelineState

from jawebcorpus.corpus.stats import final_outcomes
from jawebcorpus.registry import STAGE_NAMES

from . import storage
from .lock import OutputLock
from .output import checkpoint_dir, checkpoint_name, runs_dir
from .progress import ProgressMonitor, ProgressSink
from .spec import RunSpec, redact_args
from .finalize import Finalize
from .finish import FinishRun, leaf_pcollections, run_info
from .finish import versions as _versions  # noqa: F401 (run.json's versions, now built in finish.py)
from .transforms import DedupAndWrite, ListSnapshotFiles, ProcessFiles, SkipCommitted, done_signal

__all__ = ["RunResult", "run_pipeline", "local_runner", "is_local_runner", "prepare_output", "OutputError",
           "environment_error", "build_pipeline", "dry_run", "is_dry_run", "code_shipping", "submit"]

LOCAL_RUNNER_NAMES = (None, "DirectRunner", "direct", "FnApiRunner")
#: What ``--overwrite`` deletes in an output folder (nothing else is ever removed).
OUTPUT_SUBDIRS = ("data", "rejected", "stats", "samples", "_checkpoints", "_runs")


class OutputError(Exception):
    """The output folder cannot be used (another configuration's results, an input inside it,
    another run holding it); the message says what to do."""


def is_local_runner(options: PipelineOptions) -> bool:
    return options.view_as(StandardOptions).runner in LOCAL_RUNNER_NAMES


#: ``--runner`` names of Dask: both run through :mod:`.dask_runner` (Beam's own translation
#: cannot run this pipeline; docs/runners.md, Dask).
DASK_RUNNER_NAMES = ("DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner")


def is_dask_runner(options: PipelineOptions) -> bool:
    return options.view_as(StandardOptions).runner in DASK_RUNNER_NAMES


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
    rows: list[dict] = field(default_factory=list)  # OUT/stats/stages.json
    summary: dict = field(default_factory=dict)  # OUT/stats/files_summary.json
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    counters: dict[str, int] = field(default_factory=dict)  # Beam counters "<stage>/<name>"
    resumed_files: int = 0  # input files completed by an earlier, interrupted run

    @property
    def failed_files(self) -> int:
        return int(self.summary.get("failed_files", 0))


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


def _input_roots(spec: RunSpec) -> list[str]:
    roots = [inp.path for inp in spec.inputs]
    roots += [listing.cc_base for listing in spec.listings]
    if spec.input_list:
        roots.append(spec.input_list)  # --overwrite must not delete the list it reads (nor an input in it)
    if spec.against_index:
        roots.append(spec.against_index)
    return roots


#: Environments whose SDK workers run where the launcher's Python environment is (or one set up
#: by the user, like a worker pool started in it): the code is there.
_LOCAL_ENVIRONMENTS = ("LOOPBACK", "EXTERNAL", "PROCESS")


def code_shipping(options: PipelineOptions) -> str | None:
    """How the workers of a runner get this package: a description, or None when nothing ships
    it (the job would fail on its workers).  See docs/runners.md."""
    from apache_beam.options.pipeline_options import PortableOptions, SetupOptions, WorkerOptions

    if is_local_runner(options):
        return "the local runner runs in this Python environment"
    if is_dask_runner(options):
        return "the Dask workers' Python environment (jawebcorpus installed where each dask worker runs)"
    setup, portable = options.view_as(SetupOptions), options.view_as(PortableOptions)
    image = options.view_as(WorkerOptions).sdk_container_image
    env_type = (portable.environment_type or "").upper()
    if image:
        return f"the SDK container image {image} (--sdk_container_image)"
    if env_type == "DOCKER" and portable.environment_config:
        return f"the SDK container image {portable.environment_config} (--environment_config)"
    if env_type in _LOCAL_ENVIRONMENTS:
        return f"the {env_type} environment (workers run in an environment set up by you)"
    shipped = [f"--setup_file={setup.setup_file}"] if setup.setup_file else []
    shipped += [f"--extra_package={pkg}" for pkg in (setup.extra_packages or [])]
    if shipped:
        return "packages staged with the job (" + ", ".join(shipped) + "); workers install them and their dependencies"
    return None


def check_output_is_not_input(spec: RunSpec) -> None:
    """Refuse an output folder that is an input or holds one (a file, a crawl base, the band
    index read with ``--against``): a run, ``--overwrite`` above all, must never delete or mix
    with what it reads."""
    for root in _input_roots(spec):
        if storage.same_or_inside(root, spec.output):
            raise OutputError(f"--output {spec.output} is or contains the input {root}; choose an output "
                              "folder outside the input")


def _configurations(output: str) -> list[str]:
    """Run fingerprints whose results are in ``output``: the markers ``OUT/_runs/<fp>.json`` (a
    handful of small files, whatever the size of the run), or, for outputs written before the
    markers existed, the folders under ``OUT/_checkpoints``."""
    marked = [n[: -len(".json")] for n in storage.listdir(runs_dir(output)) if n.endswith(".json")]
    if marked:
        return marked
    return storage.listdir(storage.join(output, "_checkpoints")) if storage.is_local(output) else []


def prepare_output(spec: RunSpec) -> None:
    """Check the output folder and mark it as this configuration's.

    An output that holds an earlier run of the *same* configuration is resumed (the pipeline
    skips its committed files).  One that holds another configuration's results (or results
    without checkpoints) is refused unless ``--overwrite``: old partial results are never reused
    silently.  ``--overwrite`` deletes only the run's own sub-folders (``data``, ``stats``,
    ``samples``, ``_checkpoints``, ``_runs``).  Nothing here lists the checkpoints.
    """
    output, fingerprint = spec.output, spec.fingerprint
    check_output_is_not_input(spec)
    if storage.is_local(output) and os.path.exists(output) and not os.path.isdir(output):
        raise OutputError(f"--output {output} is a file, not a folder")
    if spec.overwrite:
        for d in OUTPUT_SUBDIRS:
            storage.remove_tree(storage.join(output, d))
    prints = _configurations(output)
    others = [f for f in prints if f != fingerprint]
    if others:
        raise OutputError(
            f"output directory {output} holds results of another configuration (fingerprint "
            f"{', '.join(others)}; this run's is {fingerprint}); choose another --output or pass "
            "--overwrite to replace them"
        )
    if not prints and storage.listdir(storage.join(output, "data")):
        raise OutputError(
            f"output directory {output} already holds data/ without checkpoints; choose another "
            "--output or pass --overwrite to replace it"
        )
    storage.makedirs(storage.join(output, "stats"))
    marker = storage.join(runs_dir(output), f"{fingerprint}.json")
    if not storage.exists(marker):
        storage.write_json(marker, {"run_fingerprint": fingerprint, "config_fingerprint": spec.config.fingerprint(),
                                    "preset": spec.config.preset, "until": spec.until,
                                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def environment_error(exc: BaseException) -> str | None:
    """One clear line for a failure of the environment (full disk, unwritable output, unknown
    runner), or None when ``exc`` is something else.  Beam re-raises a worker's exception with
    its traceback in the message, so the message is searched too."""
    import errno

    from jawebcorpus.corpus.errors import LimitError
    from jawebcorpus.corpus.inputs import InputError

    for e in _chain(exc):
        if isinstance(e, (InputError, LimitError)):  # a snapshot listing refused, a bound passed
            return str(e).split(" [while running")[0]
        limit = re.search(r"LimitError: ([^\n]*)", str(e))
        if limit:  # raised on a worker: Beam re-raises it with the traceback in the message
            return limit.group(1).split(" [while running")[0]
        code = getattr(e, "errno", None)
        text = str(e)
        if code == errno.ENOSPC or "No space left on device" in text or "[Errno 28]" in text:
            return ("no space left on device while writing the output; free some space and run the same "
                    "command again: committed files are kept and the run resumes")
        if code in (errno.EACCES, errno.EPERM, errno.EROFS) or "[Errno 13]" in text or "[Errno 30]" in text:
            name = getattr(e, "filename", None)
            return f"cannot write {name or 'the output'}: permission denied or read-only file system"
        if code == errno.ENOTDIR or "[Errno 20]" in text:
            return "a path of --output is a file where a folder is needed"
        if isinstance(e, ValueError) and text.startswith("Unexpected pipeline runner"):
            return f"unknown --runner: {text.split(':', 1)[1].split('.')[0].strip()}"
    for e in _chain(exc):
        if isinstance(e, OSError) and e.strerror and getattr(e, "filename", None):
            return f"cannot write {e.filename}: {e.strerror}"
    return None


def run_pipeline(spec: RunSpec, options: PipelineOptions, *, locked: bool = False,
                 lock: OutputLock | None = None) -> RunResult:
    """Process the input files not yet committed, then build the run's statistics from every
    checkpoint (one Beam pipeline).  Rerunning the same spec after a crash resumes.

    With listings (``--snapshot``) or an input list the pipeline lists the files itself, so the
    list never enters the job graph; committed files are skipped inside the pipeline too.  The
    output folder is locked for the run (:class:`~.lock.OutputLock`); a caller that holds the
    lock and ran :func:`prepare_output` itself passes ``locked=True`` (and the ``lock``, whose
    token the pipeline's last step releases).
    """
    FileSystems.set_options(options)  # s3:// / gs:// outputs: endpoints and credentials from the options
    if locked:
        return _run_locked(spec, options, lock)
    with OutputLock(spec.output, spec.fingerprint, job=_job_info(options)) as held:
        prepare_output(spec)
        return _run_locked(spec, options, held)


def _job_info(options: PipelineOptions) -> dict | None:
    """What an output lock records about a remote job (None: the local runner, whose run the
    launcher's heartbeat keeps)."""
    if is_local_runner(options):
        return None
    from .jobs import job_lock_info

    return job_lock_info(options)


def _nothing_committed(spec: RunSpec) -> bool:
    """The output provably holds no committed file of this configuration (a new output, or one
    ``--overwrite`` has just cleared): a local output without this run's checkpoint folder."""
    return storage.is_local(spec.output) and not os.path.exists(checkpoint_dir(spec.output, spec.fingerprint))


def _unique_by_checkpoint(inputs) -> list:
    """Input files, each checkpoint name once (first in input order), as SkipCommitted keeps them."""
    seen: set[str] = set()
    out = []
    for inp in inputs:
        name = checkpoint_name(inp.rel)
        if name not in seen:
            seen.add(name)
            out.append(inp)
    return out


def build_pipeline(spec: RunSpec, options: PipelineOptions, progress: ProgressSink | None = None,
                   started: float | None = None, lock_token: str | None = None) -> beam.Pipeline:
    """The run's Beam pipeline (nothing is read or written until it runs).  Its last step
    (:class:`~.finish.FinishRun`) writes run.json and releases the lock held by ``lock_token``."""
    started = time.time() if started is None else started
    info = run_info(spec, options, started)  # before the run: a portable runner rewrites the options
    local = is_local_runner(options)
    # One local worker: nothing to spread over, so no Reshuffle steps (they pass elements through).
    spread = not (local and options.view_as(DirectOptions).direct_num_workers == 1)
    if local:
        runner = local_runner(options)
        # Beam's construction-time type check costs ≈ 0.25 s CPU per run (its per-transform
        # signature inspection) and changes nothing in the output (the graph is the package's,
        # checked on every other runner and by the tests): off for local runs.
        options.view_as(TypeOptions).pipeline_type_check = False
    elif is_dask_runner(options):
        from .dask_runner import DaskRunner

        runner = DaskRunner()
    else:
        runner = None
    p = beam.Pipeline(runner=runner, options=options)
    resumed = listed = None
    if spec.listings or spec.input_list:
        if spec.listings:
            files = (p | "snapshots" >> beam.Create(list(spec.listings))
                     | "list_files" >> ListSnapshotFiles(spec.remote))
        else:
            from .input_list import ListInputFiles

            files = listed = p | "list_inputs" >> ListInputFiles(spec.input_list, spec.remote, spec.output)
        skip = SkipCommitted(spec.output, spec.fingerprint, spread)
        pending = files | "skip_committed" >> skip
        resumed = skip.resumed
    elif _nothing_committed(spec):  # nothing to skip: no listing of checkpoints
        pending = p | "input_files" >> beam.Create(_unique_by_checkpoint(spec.inputs), reshuffle=False)
    else:
        files = p | "input_files" >> beam.Create(list(spec.inputs), reshuffle=False)
        skip = SkipCommitted(spec.output, spec.fingerprint, spread)
        pending = files | "skip_committed" >> skip
        resumed = skip.resumed
    committed = pending | "process_files" >> ProcessFiles(spec, progress, spread=spread)
    done = done_signal(committed, "all_committed")  # dedup and the statistics start after it
    extra_stats = extra_details = written = samples = None
    if spec.dedup:
        extra_stats, extra_details, written, samples = p | "dedup_and_write" >> DedupAndWrite(
            spec, after=done, spread=spread)
    _ = p | "finalize" >> Finalize(spec, after=done, extra_stats=extra_stats, extra_details=extra_details,
                                   written_per_file=written, extra_samples=samples, spread=spread)
    # last: run.json, the accounting check and the lock, once every branch above is written
    _ = p | "finish_run" >> FinishRun(spec, info, started, lock_token, after=leaf_pcollections(p),
                                      resumed=resumed, listed=listed)
    return p


def is_dry_run(options: PipelineOptions) -> bool:
    """``--dry_run=true``: build (and, for Dataflow, translate) the job graph, submit nothing."""
    from apache_beam.options.pipeline_options import TestOptions

    value = options.view_as(TestOptions).dry_run
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def dry_run(spec: RunSpec, options: PipelineOptions) -> str:
    """Build the job graph and hand it to the runner in dry-run mode; read and write nothing.
    Returns a one-line description of what was built."""
    p = build_pipeline(spec, options)
    transforms = len(p.to_runner_api().components.transforms)
    runner = options.view_as(StandardOptions).runner or "the local runner"
    if runner not in ("DataflowRunner", "dataflow"):
        return f"dry run: the job graph has {transforms} transforms; nothing was run ({runner})"
    p.run()  # the DataflowRunner builds the job request and returns before submitting it
    return f"dry run: the Dataflow job for {transforms} transforms was built offline; nothing was submitted"


def _submitted(lock: OutputLock | None, beam_result) -> str | None:
    """The job is submitted: its id goes into the output lock (which now belongs to the job)."""
    from .jobs import job_id_of

    job_id = job_id_of(beam_result)
    if lock is not None and lock.job is not None:
        lock.record_job(job_id)
    return job_id


def submit(spec: RunSpec, options: PipelineOptions, lock: OutputLock) -> str | None:
    """``--detach``: build and submit the job, hand the output lock over to it and return its id
    without waiting (the job writes run.json and releases the lock as its last step)."""
    p = build_pipeline(spec, options, None, time.time(), lock.token)
    beam_result = p.run()
    job_id = _submitted(lock, beam_result)
    lock.hand_over()
    return job_id


def _job_ended(beam_result) -> bool:
    try:
        return PipelineState.is_terminal(beam_result.state)
    except Exception:
        return False


def _run_locked(spec: RunSpec, options: PipelineOptions, lock: OutputLock | None = None) -> RunResult:
    output = spec.output
    local = is_local_runner(options)
    progress_dir = tempfile.mkdtemp(prefix="jawebcorpus-progress-") if local and not spec.quiet else None
    started = time.time()
    counters: dict[str, int] = {}
    monitor = ProgressMonitor(progress_dir, len(spec.inputs) or None).start() if progress_dir else None
    beam_result = None
    try:
        p = build_pipeline(spec, options, ProgressSink(progress_dir), started,
                           lock.token if lock is not None else None)
        beam_result = p.run()
        _submitted(lock, beam_result)
        state = beam_result.wait_until_finish()
        if state not in (None, PipelineState.DONE):
            raise RuntimeError(f"pipeline ended in state {state}")
        counters = _counters(beam_result)
    except BaseException:
        # A remote job that may still run keeps its lock (it releases it as its last step).
        if lock is not None and lock.job is not None and beam_result is not None and not _job_ended(beam_result):
            lock.hand_over()
        raise
    finally:
        if monitor:
            monitor.stop()
        if progress_dir:
            shutil.rmtree(progress_dir, ignore_errors=True)
    result = RunResult(output=output, seconds=time.time() - started, counters=counters)
    info = storage.read_json(storage.join(output, "stats", "run.json"))  # written by the job's last step
    result.resumed_files = int(info.get("resumed_files", 0))
    result.rows = storage.read_json(storage.join(output, "stats", "stages.json"))
    result.summary = storage.read_json(storage.join(output, "stats", "files_summary.json"))
    result.problems = list(info.get("accounting_problems", []))
    return result


def summary_lines(result: RunResult) -> list[str]:
    lines = []
    finals = final_outcomes(result.rows, STAGE_NAMES)
    for snap, f in sorted(finals.items()):
        lines.append(
            f"{snap}: {f['read']:,} records read → {f['kept']:,} documents written, "
            f"{f['dropped']:,} dropped, {f['error']:,} errors"
        )
    if result.resumed_files:
        lines.append(f"{result.resumed_files:,} input files were committed by an earlier run: resumed")
    lines.append(f"output: {result.output}/data  statistics: {result.output}/stats  ({result.seconds:.1f}s)")
    return lines


def print_failures(result: RunResult, stream=None) -> None:
    stream = stream if stream is not None else sys.stderr
    examples = result.summary.get("failed_examples", [])
    for f in examples:
        what = f"{f.get('error')}: {f.get('message')}" if f.get("status") != "ok" else f"write_error: {f.get('write_error')}"
        stream.write(f"failed file: {f['path']}: {what}\n")
    if result.failed_files > len(examples):
        stream.write(f"… and {result.failed_files - len(examples):,} more failed files: see "
                     f"{result.output}/stats/files/ (status, error)\n")


__all__ += ["summary_lines", "print_failures", "redact_args"]
