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

This module translates the same graph into one dask task graph, built directly (a dict of
tasks; ``dask.bag`` collections cost time and memory quadratic in the graph on the launcher),
with Beam's own pieces for what runs inside a task (``DoFnRunner``, side-input views,
``LiftedCombinePerKey``; :mod:`.dask_tasks`):

* a ``PCollection`` is a list of partitions (Python lists in worker memory; global window only);
* ``ParDo``: chains of ParDos whose output has one reader are fused (Beam's fusion); one task
  per partition runs the chain, each DoFn over the whole partition (a bundle), and keeps the
  outputs that something reads, per tag; ``Flatten`` and tag selection cost no task;
* side inputs: one task gathers the side ``PCollection``; every task that reads it depends on
  it (computed once, complete before its readers start);
* ``GroupByKey``: a k-ary tree shuffle (as dask.bag's) on a stable hash of the key's
  deterministic Beam encoding; ``CombinePerKey`` is lifted (a partial combine per partition);
* ``Reshuffle`` splits (or merges) its input into 4 × ``--dask_npartitions`` partitions (it
  spreads files over workers; the next ``GroupByKey`` joins partitions back without a task);
* one final task depends on every sink; DoFn instances are set up once per worker process and
  reused; counters are summed per worker process and collected at the end.

``--dask_npartitions`` N (default: twice the worker threads of the cluster at submission, at
least 4) is the number of partitions of every ``GroupByKey``'s output (4 N after a
``Reshuffle``): it sets the parallelism, the memory of a task (a partition is held as a list)
and the size of the task graph (≈ N·(k·s + s + 1) tasks per ``GroupByKey``, ``k**s ≥ N``, ``k ≤ 32``); see
docs/runners.md, "Dask".
"""

from __future__ import annotations

import hashlib
import math
import uuid

import apache_beam as beam
from apache_beam.pipeline import PipelineVisitor, PTransformOverride
from apache_beam.runners.runner import PipelineResult, PipelineRunner, PipelineState

from .dask_tasks import (
    _count, _finished, _gather, _group, _join_split, _Opaque, _piece, _pop_metrics, _run_stage, _split_by_digit,
    _split_evenly, _unwrap,
)

__all__ = ["DaskRunner", "DaskPipelineResult", "NAMES", "DEFAULT_MIN_PARTITIONS", "translate", "check_cluster"]

#: ``--runner`` values that select this runner (Beam's fully qualified name included: Beam's
#: translation cannot run the pipeline, see the module docstring).
NAMES = ("DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner")
DEFAULT_MIN_PARTITIONS = 4
#: Attempts of a failed task (as Dataflow retries a failed bundle); the writes are idempotent.
TASK_RETRIES = 3
#: A ``Reshuffle`` spreads its input over this many times ``--dask_npartitions`` partitions: it
#: spreads the WARC files (and the parts dedup reads) over the workers, where parallelism and load
#: balance count and nothing is shuffled; the next ``GroupByKey`` joins them back to N (no task).
SPREAD_FACTOR = 4


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


# -- the translation ---------------------------------------------------------------------------------
class _Stage:
    """ParDos fused into one task per partition (Beam's fusion): the input partitions, the steps."""

    def __init__(self, parts: list, label: str):
        self.parts = parts  # [tuple of (key, selector)] per partition
        self.label = label
        self.steps: list = []  # (digest, label, side indices)
        self.payloads: list = []  # payload keys, one per step
        self.sides: list = []  # side-input keys


class _Consumers(PipelineVisitor):
    """Who reads each PCollection (main inputs), and which are side inputs."""

    def __init__(self):
        self.main: dict = {}
        self.side: set = set()

    def visit_transform(self, node) -> None:
        for pc in node.main_inputs.values():
            if isinstance(pc, beam.pvalue.PCollection):
                self.main.setdefault(pc, []).append(node)
        self.side.update(si.pvalue for si in node.side_inputs)


class _Translator(PipelineVisitor):
    """Beam graph (after :func:`_overrides`) → one dask task graph (a dict of legacy tuple tasks).

    A materialized PCollection is a list of partitions, each a tuple of ``(task key, selector)``
    (selector: the output tag of a multi-output step; several refs are concatenated), so
    ``Flatten``, tag selection and merging partitions cost no task."""

    def __init__(self, npartitions: int, partition_size: int | None, job: str, consumers: _Consumers):
        self.n = max(1, npartitions)
        self.partition_size = partition_size
        self.job = job
        self.consumers = consumers
        self.graph: dict = {}
        self.parts: dict = {}  # PCollection → partitions
        self.pending: dict = {}  # PCollection → _Stage, not yet tasks (its one consumer is a ParDo)
        self.gathered: dict = {}  # PCollection → key of the task that gathers it (side inputs)
        self.sinks: list = []  # keys of tasks whose results are counts
        self.count = 0

    def _name(self, label: str) -> str:
        self.count += 1
        safe = "".join(c if c.isalnum() or c in "_." else "_" for c in label)[-60:]
        return f"jw{self.count:05d}-{safe}-{self.job[:8]}"

    def _read(self, pc) -> list:
        return self.parts[pc] if pc in self.parts else self._materialize_pending(pc)

    def visit_transform(self, node) -> None:
        from apache_beam.transforms.window import GlobalWindows

        t, label = node.transform, node.full_label
        inputs = [pc for pc in node.main_inputs.values() if isinstance(pc, beam.pvalue.PCollection)]
        for pc in inputs:
            if not isinstance(pc.windowing.windowfn, GlobalWindows):
                raise NotImplementedError(f"{label}: only the global window is supported on Dask")
        if isinstance(t, beam.ParDo):
            return self._pardo(node, inputs[0])
        if isinstance(t, _DaskCreate):
            out = self._create(t.values, label)
        elif isinstance(t, beam.Impulse):
            out = self._create([b""], label)
        elif isinstance(t, _DaskReshuffle):
            out = self._reshuffle(self._read(inputs[0]), label)
        elif isinstance(t, _DaskGroupByKey):
            out = self._group_by_key(self._read(inputs[0]), label)
        elif isinstance(t, _DaskFlatten):
            out = self._merged([p for pc in inputs for p in self._read(pc)])
        else:
            raise NotImplementedError(f"the Dask runner has no translation for {type(t).__name__} ({label}); "
                                      "see docs/runners.md, Dask")
        for pc in node.outputs.values():
            self.parts[pc] = out

    # -- ParDo: fused stages
    def _pardo(self, node, pc) -> None:
        from apache_beam.internal import pickler
        from apache_beam.runners.common import DoFnSignature
        from apache_beam.transforms.window import GlobalWindows

        t, label = node.transform, node.full_label
        signature = DoFnSignature(t.fn)
        if signature.is_stateful_dofn() or signature.is_splittable_dofn():
            raise NotImplementedError(f"{label}: stateful and splittable DoFns are not supported on Dask "
                                      "(docs/runners.md, Dask)")
        if isinstance(t, beam.WindowInto) and not isinstance(t.windowing.windowfn, GlobalWindows):
            raise NotImplementedError(f"{label}: only the global window is supported on Dask")
        stage = self.pending.pop(pc, None) or _Stage(self._read(pc), label)
        views = [(type(si), si._view_options()) for si in node.side_inputs]
        payload = pickler.dumps((t.fn, t.args, t.kwargs, views))
        digest = hashlib.sha256(payload).hexdigest()[:32]
        payload_key = (f"jw-payload-{self.job[:8]}", digest)
        self.graph.setdefault(payload_key, payload)
        side_index = []
        for si in node.side_inputs:
            key = self._side(si.pvalue)
            if key not in stage.sides:
                stage.sides.append(key)
            side_index.append(stage.sides.index(key))
        stage.steps.append((digest, label, tuple(side_index)))
        stage.payloads.append(payload_key)
        outputs = node.outputs
        if list(outputs) == [None]:
            (out,) = outputs.values()
            readers = self.consumers.main.get(out, [])
            if len(readers) == 1 and out not in self.consumers.side and isinstance(readers[0].transform, beam.ParDo):
                self.pending[out] = stage  # fused into its one reader
                return
        self._materialize(stage, outputs)

    def _materialize(self, stage: _Stage, outputs: dict) -> None:
        used = tuple(tag for tag, pc in outputs.items() if self.consumers.main.get(pc) or pc in self.consumers.side)
        spec = _Opaque((self.job, tuple(stage.steps), used, not used))
        name = self._name(stage.label)
        for i, part in enumerate(stage.parts):
            self.graph[(name, i)] = (_run_stage, spec, _Opaque(tuple(s for _, s in part)), [k for k, _ in part],
                                     list(stage.payloads), list(stage.sides))
        if not used:
            self.sinks.extend((name, i) for i in range(len(stage.parts)))
        single = used == (None,)
        for tag, pc in outputs.items():  # an output no one reads has no partitions (nothing kept)
            self.parts[pc] = [(((name, i), None if single else tag),) for i in range(len(stage.parts))] \
                if tag in used else []

    def _materialize_pending(self, pc) -> list:
        stage = self.pending.pop(pc)
        self._materialize(stage, {None: pc})
        return self.parts[pc]

    def _side(self, pc):
        if pc not in self.gathered:
            refs = [r for part in self._read(pc) for r in part]
            key = (self._name("side"), 0)
            self.graph[key] = (_gather, [k for k, _ in refs], _Opaque(tuple(s for _, s in refs)))
            self.gathered[pc] = key
        return self.gathered[pc]

    # -- the other primitives
    def _create(self, values, label: str) -> list:
        values = list(values)
        if self.partition_size:
            n = max(1, -(-len(values) // self.partition_size))
        else:
            n = max(1, min(len(values), self.n))
        size = -(-len(values) // n) if values else 0
        name = self._name(label)
        for i in range(n):
            self.graph[(name, i)] = (_unwrap, _Opaque(values[i * size:(i + 1) * size]))
        return [(((name, i), None),) for i in range(n)]

    def _merged(self, parts: list, n: int | None = None) -> list:
        """At most ``n`` partitions (default ``--dask_npartitions``): neighbours are joined (no task)."""
        n = n or self.n
        if len(parts) <= n:
            return parts or [()]
        per = -(-len(parts) // n)
        return [tuple(r for p in parts[i:i + per] for r in p) for i in range(0, len(parts), per)]

    def _reshuffle(self, parts: list, label: str) -> list:
        spread = self.n * SPREAD_FACTOR
        if len(parts) >= spread:
            return self._merged(parts, spread)
        q = -(-spread // len(parts))
        name = self._name(label)
        out = []
        for i, part in enumerate(parts):
            self.graph[(name, i)] = (_split_evenly, [k for k, _ in part], _Opaque(tuple(s for _, s in part)), q)
            for j in range(q):
                self.graph[(name + "-p", i, j)] = (_piece, (name, i), j)
                out.append((((name + "-p", i, j), None),))
        return out

    def _group_by_key(self, parts: list, label: str) -> list:
        """A k-ary tree shuffle (as dask.bag's task shuffle): ``stages`` rounds of splitting by
        one base-``k`` digit of the target partition, ``k**stages ≥ --dask_npartitions``
        partitions; tasks per GroupByKey ≈ ``N·(stages + 1) + N·k·stages``."""
        stages = 1 if self.n <= 32 else math.ceil(math.log(self.n) / math.log(32))
        k = max(1, math.ceil(self.n ** (1 / stages)))
        while k**stages < self.n:
            k += 1
        total = k**stages
        parts = self._merged(parts, total)
        parts = parts + [()] * (total - len(parts))
        name = self._name(label)
        split = {}
        for i, part in enumerate(parts):
            split[i] = (name + "-s0", i)
            self.graph[split[i]] = (_split_by_digit, [k_ for k_, _ in part], _Opaque(tuple(s for _, s in part)),
                                    _Opaque((k, total, 0)))
        for d in range(stages):
            joined = {}
            for i in range(total):
                base = i - (i // k**d % k) * k**d
                pieces = []
                for j in range(k):
                    src = base + j * k**d
                    key = (name + f"-p{d}", src, i // k**d % k)
                    self.graph.setdefault(key, (_piece, split[src], i // k**d % k))
                    pieces.append(key)
                if d + 1 < stages:
                    joined[i] = (name + f"-s{d + 1}", i)
                    self.graph[joined[i]] = (_join_split, pieces, _Opaque((k, total, d + 1)))
                else:
                    self.graph[(name, i)] = (_group, pieces)
            split = joined
        return [(((name, i), None),) for i in range(total)]

    def final_key(self):
        """One task that depends on every sink (a collection no transform reads)."""
        for pc, parts in list(self.parts.items()):
            if not self.consumers.main.get(pc) and pc not in self.consumers.side and any(parts):
                if all(k in self.sinks for part in parts for k, _ in part):
                    continue
                refs = [r for part in parts for r in part]
                key = (self._name("sink"), 0)
                self.graph[key] = (_count, [k for k, _ in refs], _Opaque(tuple(s for _, s in refs)))
                self.sinks.append(key)
        key = (f"jw-done-{self.job}",)
        self.graph[key] = (_finished, list(dict.fromkeys(self.sinks)))
        return key


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

    def shown(v: dict) -> str:
        return ", ".join(f"{k} {v.get(k)}" for k in ("python", "apache_beam", "jawebcorpus"))

    for worker, theirs in sorted(found.items()):
        if theirs != mine:
            return (f"the Dask worker {worker} runs {shown(theirs)}; the launcher {shown(mine)}: install the same "
                    "versions on the workers (docs/runners.md, Dask)")
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
        client, o = _client(options)
        try:
            job = uuid.uuid4().hex
            npartitions = o.npartitions or default_partitions(client)
            graph, key = translate(pipeline, npartitions, o.partition_size, job)
            future = client.get(graph, key, sync=False, retries=TASK_RETRIES)
        except BaseException:
            client.close()
            raise
        return DaskPipelineResult(client, future, job, npartitions, len(graph))


def translate(pipeline, npartitions: int, partition_size: int | None = None, job: str = "job"):
    """The pipeline as one dask task graph: ``(graph, key of its last task)``."""
    pipeline.replace_all(_overrides())
    consumers = _Consumers()
    pipeline.visit(consumers)
    translator = _Translator(npartitions, partition_size, job, consumers)
    pipeline.visit(translator)
    key = translator.final_key()
    return translator.graph, key


class DaskPipelineResult(PipelineResult):
    def __init__(self, client, future, job: str, npartitions: int, tasks: int):
        super().__init__(PipelineState.RUNNING)
        self.client, self.future, self.job, self.npartitions = client, future, job, npartitions
        self.tasks = tasks
        self._counters: dict[tuple[str, str, str], int] = {}

    def wait_until_finish(self, duration=None):
        if self._state != PipelineState.RUNNING:
            return self._state
        try:
            self.future.result(timeout=duration / 1000 if duration else None)
            self._state = PipelineState.DONE
        except TimeoutError:
            if duration and not self.future.done():  # still running after ``duration`` ms
                return self._state
            self._state = PipelineState.FAILED
            raise
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
