"""``--runner=DaskRunner``: the run's Beam graph as one dask task graph on a dask.distributed
cluster (a scheduler and workers started apart: by hand, by dask-jobqueue on Slurm/PBS, by
dask-kubernetes; or a LocalCluster when no ``--dask_client_address`` is given).

Beam's own DaskRunner (``apache_beam.runners.dask``, Beam 2.77/2.78) cannot run this pipeline:
it merges the outputs of a multi-output ``ParDo`` (a consumer of one tag gets every tag's
elements), computes only the last transform it visited (the other sinks, our statistics files
among them, never run), turns ``Reshuffle`` into a no-op (the files of a run stay in the
partition of their ``Create``: one task reads them all), recomputes a side input inside every
task that reads it, runs no combiner lifting, and its ``Flatten`` adds up partitions while
``GroupByKey`` keeps them, so the label-propagation rounds of dedup (each flattens the labels
with their own descendants) triple the partitions per round: 3¹⁰ after ten rounds, a task graph
that grew the launcher past 24 GB.  docs/runners.md ("Dask") has a few-line reproducer of each.

This module translates the same graph with Beam's own pieces for what runs *inside* a task
(``DoFnRunner``, side-input views, ``LiftedCombinePerKey``) and dask.bag for the data between
tasks, with these rules:

* a ``PCollection`` is a bag of plain values (global window only; anything else is refused);
* ``ParDo``: one task per partition runs the DoFn over the partition (a bundle) and returns its
  outputs per tag; each output ``PCollection`` is its own bag;
* side inputs: the side ``PCollection`` is gathered into one value by one task, a dependency of
  every task that reads it (computed once, complete before its consumers start);
* ``GroupByKey``: dask's task-based shuffle with a stable hash of the key's deterministic Beam
  encoding, on at most ``--dask_npartitions`` partitions; ``CombinePerKey``: combiner lifting
  (a partial combine per partition, then the grouped accumulators);
* ``Flatten``: the inputs' partitions, merged down to ``--dask_npartitions``;
  ``Reshuffle``: the input split or merged into ``--dask_npartitions`` partitions;
* every sink is computed (one final task depends on all of them); DoFn instances are set up
  once per worker process and reused across tasks; counters are summed per worker process and
  collected at the end (``result.metrics()``).

``--dask_npartitions`` (default: twice the worker threads of the cluster at submission, at
least 4) bounds the partitions of every step; a partition is held in a worker's memory as a
list, so it also sets the memory per task (docs/runners.md, "Dask", sizing).
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import uuid

import apache_beam as beam
from apache_beam.pipeline import PipelineVisitor, PTransformOverride
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState

__all__ = ["DaskRunner", "DaskPipelineResult", "NAMES", "DEFAULT_MIN_PARTITIONS"]

#: ``--runner`` values that select this runner (Beam's fully qualified name included: Beam's
#: translation cannot run the pipeline, see the module docstring).
NAMES = ("DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner")
DEFAULT_MIN_PARTITIONS = 4
#: Attempts of a failed task (as Dataflow retries a failed bundle); the writes are idempotent.
TASK_RETRIES = 3


# -- markers: the primitives the translation implements itself -----------------------------------
def _pipeline_of(pvalueish):
    if isinstance(pvalueish, (list, tuple)):
        return next((p.pipeline for p in pvalueish), None)
    if isinstance(pvalueish, dict):
        return next((p.pipeline for p in pvalueish.values()), None)
    return getattr(pvalueish, "pipeline", None)


class _Marker(beam.PTransform):
    def expand(self, pvalueish):
        return beam.pvalue.PCollection(_pipeline_of(pvalueish) or self.pipeline, is_bounded=True)

    def get_windowing(self, inputs):
        return beam.Windowing(beam.transforms.window.GlobalWindows())


class _DaskCreate(_Marker):
    def __init__(self, values):
        super().__init__()
        self.values = list(values)


class _DaskReshuffle(_Marker):
    pass


class _DaskGroupByKey(_Marker):
    pass


class _DaskFlatten(_Marker):
    pass


def _override(cls, make, extra=None) -> PTransformOverride:
    class _Override(PTransformOverride):
        def matches(self, applied):
            return applied.transform.__class__ == cls and (extra is None or extra(applied))

        def get_replacement_transform_for_applied_ptransform(self, applied):
            return make(applied.transform)

    return _Override()


def _lifted(transform):
    from apache_beam.transforms.combiners import LiftedCombinePerKey

    try:
        return LiftedCombinePerKey(transform.fn, transform.args, transform.kwargs)
    except NotImplementedError:  # ≥ 10 side inputs: grouped, then combined
        return transform


def _overrides() -> list[PTransformOverride]:
    # combiner lifting first: its GroupByKey is then replaced like every other
    return [
        _override(beam.Create, lambda t: _DaskCreate(t.values)),
        _override(beam.CombinePerKey, _lifted, lambda a: a.inputs[0].windowing.is_default()),
        _override(beam.Reshuffle, lambda t: _DaskReshuffle()),
        _override(beam.GroupByKey, lambda t: _DaskGroupByKey()),
        _override(beam.Flatten, lambda t: _DaskFlatten()),
    ]


# -- inside a task ---------------------------------------------------------------------------------
def _windowed(value):
    from apache_beam.transforms.window import GlobalWindows

    return GlobalWindows.windowed_value(value)


def _receiver():
    """A Beam ``Receiver`` that keeps the values of one output tag (global window only)."""
    from apache_beam.runners.common import Receiver

    class _Collect(Receiver):
        def __init__(self):
            self.values = []

        def receive(self, windowed_value):
            self.values.append(windowed_value.value)

    return _Collect


class _Outputs(dict):
    def __missing__(self, tag):
        self[tag] = _COLLECT[0]()
        return self[tag]


_COLLECT: list = []


_LOCK = threading.Lock()
_IDLE: dict[tuple[str, str], list] = {}  # (job, DoFn digest) → set-up DoFn payloads, free to reuse
_JOB = [None]  # the job whose DoFns this worker process holds
_METRICS: dict[str, dict[tuple[str, str, str], int]] = {}  # job → {(step, namespace, name): sum}


def _teardown(entries) -> None:
    for fn, *_ in entries:
        try:
            fn.teardown()
        except Exception:  # best effort, as in every runner
            pass


def _teardown_all() -> None:
    with _LOCK:
        entries = [e for idle in _IDLE.values() for e in idle]
        _IDLE.clear()
    _teardown(entries)


atexit.register(_teardown_all)


def _take(job: str, digest: str, payload: bytes):
    """A DoFn of this job ready to use: ``(entry, fresh)``; ``fresh`` means setup() is due."""
    from apache_beam.internal import pickler

    old = []
    with _LOCK:
        if _JOB[0] != job:  # a new job on a long-lived cluster: the last job's DoFns go
            old = [e for (j, _), idle in _IDLE.items() if j != job for e in idle]
            for k in [k for k in _IDLE if k[0] != job]:
                del _IDLE[k]
            _JOB[0] = job
        idle = _IDLE.get((job, digest))
        entry = idle.pop() if idle else None
    _teardown(old)
    if entry is not None:
        return entry, False
    return pickler.loads(payload), True


def _give_back(job: str, digest: str, entry) -> None:
    with _LOCK:
        if _JOB[0] == job:
            _IDLE.setdefault((job, digest), []).append(entry)
            return
    _teardown([entry])


def _add_metrics(job: str, counters) -> None:
    if not counters:
        return
    with _LOCK:
        sums = _METRICS.setdefault(job, {})
        for key, value in counters.items():
            k = (key.step, key.metric.namespace, key.metric.name)
            sums[k] = sums.get(k, 0) + value


def _pop_metrics(job: str) -> dict:
    """Run on every worker at the end of a job (``Client.run``): its summed counters."""
    with _LOCK:
        return _METRICS.pop(job, {})


def _run_pardo(partition, payload: bytes, digest: str, step: str, job: str, multi: bool, *sides):
    """One bundle: the DoFn over one partition → its outputs (a list, or ``{tag: list}``)."""
    from apache_beam.metrics.execution import MetricsContainer
    from apache_beam.runners.common import DoFnRunner
    from apache_beam.runners.worker import statesampler
    from apache_beam.transforms.sideinputs import SideInputMap
    from apache_beam.transforms.window import GlobalWindows
    from apache_beam.utils import counters

    if not _COLLECT:
        _COLLECT.append(_receiver())
    entry, fresh = _take(job, digest, payload)
    fn, args, kwargs, views = entry
    side_maps = [SideInputMap(cls, options, [_windowed(v) for v in values])
                 for (cls, options), values in zip(views, sides)]
    outputs = _Outputs()
    container = MetricsContainer(step)
    sampler = statesampler.StateSampler("", counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        with sampler.scoped_state(step, "process", metrics_container=container):
            runner = DoFnRunner(fn, args, kwargs, side_maps, beam.Windowing(GlobalWindows()),
                                tagged_receivers=outputs, step_name=step)
            if fresh:
                runner.setup()
            runner.start()
            for value in partition:
                runner.process(_windowed(value))
            runner.finish()
    except BaseException:
        _teardown([entry])  # a failed instance is not reused
        raise
    finally:
        statesampler.set_current_tracker(None)
    _give_back(job, digest, entry)
    _add_metrics(job, container.get_cumulative().counters)
    if not multi:
        return outputs[None].values
    return {tag: r.values for tag, r in outputs.items()}


def _pick(outputs: dict, tag) -> list:
    return outputs.get(tag, [])


def _gather(partitions) -> list:
    return [v for part in partitions for v in part]


def _key_hash(key) -> int:
    """A hash of a key that every worker process computes alike: Beam's deterministic encoding
    (a key without one, e.g. a set, is refused as Beam refuses it), then BLAKE2b."""
    return int.from_bytes(hashlib.blake2b(_KEY_CODER.encode(key), digest_size=8).digest(), "big")


class _LazyKeyCoder:
    coder = None

    def encode(self, key) -> bytes:
        if self.coder is None:
            from apache_beam.coders import coders

            self.coder = coders.FastPrimitivesCoder().as_deterministic_coder("GroupByKey on Dask")
        return self.coder.encode(key)


_KEY_CODER = _LazyKeyCoder()


def _key_of(kv):
    return kv[0]


def _grouped_values(groups) -> list:
    return [(k, [kv[1] for kv in items]) for k, items in groups]


def _count(partition) -> int:
    return len(partition)


def _finished(counts) -> int:
    return sum(counts)


# -- the translation ---------------------------------------------------------------------------------
class _Translator(PipelineVisitor):
    """Beam graph (after :func:`_overrides`) → dask bags, one per ``PCollection``."""

    def __init__(self, npartitions: int, partition_size: int | None, job: str):
        import dask

        self.dask = dask
        self.n = npartitions
        self.partition_size = partition_size
        self.job = job
        self.bags: dict = {}  # PCollection → Bag
        self.consumed: set = set()
        self.gathered: dict = {}  # PCollection → Delayed (the whole collection, for side inputs)

    def visit_transform(self, node) -> None:
        import dask.bag as db
        from apache_beam.transforms.window import GlobalWindows

        t = node.transform
        label = node.full_label
        inputs = [pc for pc in node.main_inputs.values() if isinstance(pc, beam.pvalue.PCollection)]
        self.consumed.update(inputs)
        self.consumed.update(si.pvalue for si in node.side_inputs)
        for pc in inputs:
            if not isinstance(pc.windowing.windowfn, GlobalWindows):
                raise NotImplementedError(f"{label}: only the global window is supported on Dask")
        bags = [self.bags[pc] for pc in inputs]
        if isinstance(t, _DaskCreate):
            out = self._create(t.values)
        elif isinstance(t, beam.Impulse):
            out = db.from_sequence([b""], npartitions=1)
        elif isinstance(t, _DaskReshuffle):
            out = bags[0].repartition(npartitions=self.n)
        elif isinstance(t, _DaskGroupByKey):
            out = self._group_by_key(bags[0])
        elif isinstance(t, _DaskFlatten):
            out = self._flatten(bags)
        elif isinstance(t, beam.ParDo):
            self._pardo(node, bags[0])
            return
        else:
            raise NotImplementedError(f"the Dask runner has no translation for {type(t).__name__} ({label}); "
                                      "see docs/runners.md, Dask")
        for pc in node.outputs.values():
            self.bags[pc] = out

    def _create(self, values):
        import dask.bag as db

        if self.partition_size:
            return db.from_sequence(values, partition_size=self.partition_size)
        return db.from_sequence(values, npartitions=max(1, min(len(values), self.n)))

    def _merged(self, bag):
        return bag.repartition(npartitions=self.n) if bag.npartitions > self.n else bag

    def _group_by_key(self, bag):
        from dask.bag.core import groupby_tasks

        grouped = groupby_tasks(self._merged(bag), _key_of, hash=_key_hash)
        return grouped.map_partitions(_grouped_values)

    def _flatten(self, bags):
        import dask.bag as db

        if not bags:
            return db.from_sequence([], npartitions=1)
        return self._merged(db.concat(bags) if len(bags) > 1 else bags[0])

    def _side(self, pcoll):
        if pcoll not in self.gathered:
            self.gathered[pcoll] = self.dask.delayed(_gather, pure=True)(
                self.bags[pcoll].to_delayed(optimize_graph=False))
        return self.gathered[pcoll]

    def _pardo(self, node, bag) -> None:
        from apache_beam.internal import pickler
        from apache_beam.runners.common import DoFnSignature
        from apache_beam.transforms.window import GlobalWindows

        t = node.transform
        label = node.full_label
        signature = DoFnSignature(t.fn)
        if signature.is_stateful_dofn() or signature.is_splittable_dofn():
            raise NotImplementedError(f"{label}: stateful and splittable DoFns are not supported on Dask "
                                      "(docs/runners.md, Dask)")
        if isinstance(t, beam.WindowInto) and not isinstance(t.windowing.windowfn, GlobalWindows):
            raise NotImplementedError(f"{label}: only the global window is supported on Dask")
        views = [(type(si), si._view_options()) for si in node.side_inputs]
        payload = pickler.dumps((t.fn, t.args, t.kwargs, views))
        digest = hashlib.sha256(payload).hexdigest()[:32]
        tags = list(node.outputs)
        multi = tags != [None]
        token = f"{_safe(label)}-{self.job[:8]}"
        out = bag.map_partitions(_run_pardo, self.dask.delayed(payload, pure=True), digest, label, self.job, multi,
                                 *[self._side(si.pvalue) for si in node.side_inputs], token=token)
        for tag, pc in node.outputs.items():
            self.bags[pc] = out.map_partitions(_pick, tag, token=f"{token}-{tag}") if multi else out

    def final(self):
        """One task that depends on every sink (a collection no transform reads)."""
        counts = [self.dask.delayed(_count, pure=True)(part)
                  for pc, bag in self.bags.items() if pc not in self.consumed
                  for part in bag.to_delayed(optimize_graph=False)]
        return self.dask.delayed(_finished, pure=True)(counts, dask_key_name=f"jawebcorpus-done-{self.job}")


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "_." else "_" for c in label)[-60:] or "step"


# -- the runner ------------------------------------------------------------------------------------
def _dask_options(options):
    from apache_beam.runners.dask.dask_runner import DaskOptions  # registers --dask_* options

    return options.view_as(DaskOptions)


def _client(options, timeout: int | None = None):
    import logging

    from dask.distributed import Client

    o = _dask_options(options)
    kwargs = {k: getattr(o, k) for k in ("address", "scheduler_file", "name") if getattr(o, k, None)}
    if isinstance(o.timeout, int):
        kwargs["timeout"] = o.timeout
    elif timeout:
        kwargs["timeout"] = timeout
    if o.connection_limit:
        kwargs["connection_limit"] = o.connection_limit
    if not o.address and not o.scheduler_file:  # a LocalCluster in this process: its INFO lines are noise
        logging.getLogger("distributed").setLevel(logging.WARNING)
    return Client(**kwargs), o


def _versions() -> dict:
    """What must agree between the launcher and every worker (they run the launcher's pickled code)."""
    import platform

    import jawebcorpus

    return {"python": ".".join(platform.python_version_tuple()[:2]), "apache_beam": beam.__version__,
            "jawebcorpus": jawebcorpus.__version__}


def check_cluster(options) -> str | None:
    """Before anything is written: dask is installed, the scheduler answers, and its workers run
    the launcher's Python minor version, Beam and jawebcorpus.  A one-line problem, or None.
    (Without ``--dask_client_address``/``--dask_scheduler_file`` a LocalCluster is started in
    this environment at run time: nothing to check.)"""
    try:
        import dask.distributed  # noqa: F401
        o = _dask_options(options)
    except ImportError:
        return "--runner DaskRunner needs dask and distributed: pip install 'jawebcorpus[dask]'"
    where = o.address or o.scheduler_file
    if not where:
        return None
    try:
        client, _ = _client(options, timeout=10)
    except (OSError, TimeoutError, ValueError) as exc:
        return f"cannot reach the Dask scheduler at {where}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    try:
        found = client.run(_versions)
    except Exception as exc:
        return (f"the Dask workers cannot run jawebcorpus ({type(exc).__name__}: {str(exc)[:200]}); install "
                "jawebcorpus and its dependencies where each worker runs (docs/runners.md, Dask)")
    finally:
        client.close()
    mine = _versions()
    for worker, theirs in sorted(found.items()):
        if theirs != mine:
            return (f"the Dask worker {worker} runs {theirs}, the launcher {mine}: install the same versions "
                    "on the workers (docs/runners.md, Dask)")
    return None


def default_partitions(client) -> int:
    threads = sum(client.nthreads().values())
    return max(DEFAULT_MIN_PARTITIONS, 2 * threads)


class DaskRunner(PipelineRunner):
    """Runs the pipeline on a dask.distributed cluster (see the module docstring)."""

    def __init__(self):
        super().__init__()
        # Beam's --dask_* options (address, timeouts, partitions) are declared with its runner:
        # importing it registers them before the options are read (needs dask: without it, the
        # CLI has refused the run already, and a dry run only builds the Beam graph)
        try:
            from apache_beam.runners.dask import dask_runner  # noqa: F401
        except ImportError:
            pass

    def run_pipeline(self, pipeline, options):
        import dask

        client, o = _client(options)
        try:
            job = uuid.uuid4().hex
            npartitions = o.npartitions or default_partitions(client)
            pipeline.replace_all(_overrides())
            translator = _Translator(npartitions, o.partition_size, job)
            pipeline.visit(translator)
            with dask.config.set({"optimization.fuse.active": True}):
                future = client.compute(translator.final(), retries=TASK_RETRIES)
        except BaseException:
            client.close()
            raise
        return DaskPipelineResult(client, future, job, npartitions)


class DaskPipelineResult(PipelineResult):
    def __init__(self, client, future, job: str, npartitions: int):
        super().__init__(PipelineState.RUNNING)
        self.client, self.future, self.job, self.npartitions = client, future, job, npartitions
        self._counters: dict[tuple[str, str, str], int] = {}

    def wait_until_finish(self, duration=None):
        if self._state != PipelineState.RUNNING:
            return self._state
        try:
            self.future.result(timeout=duration / 1000 if duration else None)
            self._state = PipelineState.DONE
        except BaseException:
            self._state = PipelineState.FAILED
            raise
        finally:
            if self._state != PipelineState.RUNNING:
                self._collect_and_close()
        return self._state

    def _collect_and_close(self) -> None:
        try:
            for sums in self.client.run(_pop_metrics, self.job).values():
                for k, v in sums.items():
                    self._counters[k] = self._counters.get(k, 0) + v
        except Exception:  # metrics are best effort (a lost worker loses its counts)
            pass
        finally:
            self.client.close()

    def cancel(self):
        self.future.cancel()
        self._state = PipelineState.CANCELLED
        self.client.close()
        return self._state

    def metrics(self):
        return _Metrics(self._counters)


class _Metrics:
    """Counters summed over the workers (attempted = committed: a recomputed task counts twice)."""

    def __init__(self, counters):
        self.counters = counters

    def query(self, filter=None):
        from apache_beam.metrics.execution import MetricKey, MetricResult
        from apache_beam.metrics.metric import MetricResults
        from apache_beam.metrics.metricbase import MetricName

        found = []
        for (step, namespace, name), value in sorted(self.counters.items()):
            key = MetricKey(step, MetricName(namespace, name))
            if MetricResults.matches(filter, key):
                found.append(MetricResult(key, value, value))
        return {"counters": found, "distributions": [], "gauges": []}
