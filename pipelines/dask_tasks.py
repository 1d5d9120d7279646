"""What runs inside a dask task of a run on Dask (see :mod:`.dask_runner`, which builds the
task graph): fused chains of DoFns over a partition, the shuffle's split and group steps, side
inputs gathered into one value.  Plain functions referenced by the graph; DoFn instances are set
up once per worker process and reused, counters summed per worker process."""

from __future__ import annotations

import atexit
import hashlib
import threading

import apache_beam as beam

class _Opaque:
    """A value the task graph passes as it is (never read as a key or a task)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _windowed(value):
    from apache_beam.transforms.window import GlobalWindows

    return GlobalWindows.windowed_value(value)


def _receiver_classes():
    """Beam ``Receiver``s: one that keeps the values of an output tag (global window only), one
    that hands each value to the next DoFn of a fused chain."""
    from apache_beam.runners.common import Receiver

    class _Collect(Receiver):
        def __init__(self):
            self.values = []

        def receive(self, windowed_value):
            self.values.append(windowed_value.value)

    class _Forward(Receiver):
        def __init__(self, runner):
            self.runner = runner

        def receive(self, windowed_value):
            self.runner.process(windowed_value)

    return _Collect, _Forward


def _classes():
    if not _COLLECT:
        _COLLECT.extend(_receiver_classes())
    return _COLLECT


class _Outputs(dict):
    """The outputs of a chain's last DoFn, per tag."""

    def __missing__(self, tag):
        self[tag] = _classes()[0]()
        return self[tag]


_COLLECT: list = []
_LOCK = threading.Lock()
_IDLE: dict[tuple[str, str], list] = {}  # (job, DoFn digest) → set-up DoFns, free to reuse
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


def _chain(values, steps, payloads: list, sides: list, job: str) -> dict:
    """A fused chain of DoFns over one partition (one bundle each): every element goes through
    the chain as it is produced (nothing between two steps is kept), the last step's outputs are
    collected: ``{tag: [values]}``."""
    from apache_beam.metrics.execution import MetricsContainer
    from apache_beam.runners.common import DoFnRunner
    from apache_beam.runners.worker import statesampler
    from apache_beam.transforms.sideinputs import SideInputMap
    from apache_beam.transforms.window import GlobalWindows
    from apache_beam.utils import counters

    label = steps[-1][1] if len(steps) == 1 else f"{steps[0][1]}+{len(steps) - 1}"
    outputs, taken, runners = _Outputs(), [], []
    container = MetricsContainer(label)  # the counters of the fused chain
    sampler = statesampler.StateSampler("", counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        with sampler.scoped_state(label, "process", metrics_container=container):
            for n in reversed(range(len(steps))):
                digest, step, side_index = steps[n]
                entry, fresh = _take(job, digest, payloads[n])
                taken.append((digest, entry))
                fn, args, kwargs, views = entry
                side_maps = [SideInputMap(cls, options, [_windowed(v) for v in sides[i]])
                             for (cls, options), i in zip(views, side_index)]
                receivers = outputs if not runners else {None: _classes()[1](runners[0])}
                runner = DoFnRunner(fn, args, kwargs, side_maps, beam.Windowing(GlobalWindows()),
                                    tagged_receivers=receivers, step_name=step)
                if fresh:
                    runner.setup()
                runners.insert(0, runner)
            for runner in runners:
                runner.start()
            first = runners[0]
            for value in values:
                first.process(_windowed(value))
            for runner in runners:  # upstream first: a finish_bundle may still emit downstream
                runner.finish()
    except BaseException:
        _teardown([entry for _, entry in taken])  # failed instances are not reused
        raise
    finally:
        statesampler.set_current_tracker(None)
    for digest, entry in taken:
        _give_back(job, digest, entry)
    _add_metrics(job, container.get_cumulative().counters)
    return {tag: r.values for tag, r in outputs.items()}


def _concat(values: list, sels: tuple) -> list:
    """A partition: the inputs of a task, each a list or (a multi-output step's) ``{tag: list}``."""
    if len(values) == 1 and not isinstance(values[0], dict):
        return values[0]
    out = []
    for v, sel in zip(values, sels):
        out.extend(v.get(sel, []) if isinstance(v, dict) else v)
    return out


def _run_stage(spec: _Opaque, sels: _Opaque, inputs: list, payloads: list, sides: list):
    """A fused chain of DoFns over one partition (a bundle for each).  Returns the last step's
    main output (a list), its consumed outputs (``{tag: list}``), or, for a sink, a count."""
    job, steps, tags, count_only = spec.value
    outputs = _chain(_concat(inputs, sels.value), steps, payloads, sides, job)
    if count_only:
        return sum(len(v) for v in outputs.values())
    if tags == (None,):
        return outputs.get(None, [])
    return {t: outputs[t] for t in tags if t in outputs}


def _unwrap(chunk: _Opaque):
    return chunk.value


def _gather(inputs: list, sels: _Opaque) -> list:
    return _concat(inputs, sels.value)


def _count(inputs: list, sels: _Opaque) -> int:
    return len(_concat(inputs, sels.value))


def _finished(counts: list) -> int:
    return sum(counts)


def _key_hash(key) -> int:
    """A hash of a key that every worker process computes alike: Beam's deterministic encoding
    (a key without one, e.g. a set, is refused as Beam refuses it), then BLAKE2b."""
    if not _KEY_CODER:
        from apache_beam.coders import coders

        _KEY_CODER.append(coders.FastPrimitivesCoder().as_deterministic_coder("GroupByKey on Dask"))
    return int.from_bytes(hashlib.blake2b(_KEY_CODER[0].encode(key), digest_size=8).digest(), "big")


_KEY_CODER: list = []


def _split_by_digit(inputs: list, sels: _Opaque, plan: _Opaque) -> list[list]:
    """First and middle shuffle stages: the pairs of a partition by one base-``k`` digit of
    their target partition (``hash(key) % k**stages``) → ``k`` lists."""
    k, total, digit = plan.value
    out: list[list] = [[] for _ in range(k)]
    div = k**digit
    for kv in _concat(inputs, sels.value):
        out[_key_hash(kv[0]) % total // div % k].append(kv)
    return out


def _piece(buckets: list, i: int) -> list:
    return buckets[i]


def _join_split(pieces: list, plan: _Opaque) -> list[list]:
    """A middle shuffle stage: the pieces sent to this partition, split by the next digit."""
    return _split_by_digit(pieces, _Opaque((None,) * len(pieces)), plan)


def _group(pieces: list) -> list:
    """The last shuffle stage: every pair of this partition's keys → ``(key, [values])``."""
    groups: dict = {}
    for piece in pieces:
        for k, v in piece:
            groups.setdefault(k, []).append(v)
    return list(groups.items())


def _split_evenly(inputs: list, sels: _Opaque, q: int) -> list[list]:
    values = _concat(inputs, sels.value)
    size = -(-len(values) // q) if values else 0
    return [values[i * size:(i + 1) * size] for i in range(q)]
