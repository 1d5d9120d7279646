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


def _receiver_class():
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
        if not _COLLECT:
            _COLLECT.append(_receiver_class())
        self[tag] = _COLLECT[0]()
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


def _run_dofn(values, payload: bytes, digest: str, label: str, job: str, sides: list) -> dict:
    """One bundle: a DoFn over ``values`` → ``{tag: [outputs]}``."""
    from apache_beam.metrics.execution import MetricsContainer
    from apache_beam.runners.common import DoFnRunner
    from apache_beam.runners.worker import statesampler
    from apache_beam.transforms.sideinputs import SideInputMap
    from apache_beam.transforms.window import GlobalWindows
    from apache_beam.utils import counters

    entry, fresh = _take(job, digest, payload)
    fn, args, kwargs, views = entry
    side_maps = [SideInputMap(cls, options, [_windowed(v) for v in side])
                 for (cls, options), side in zip(views, sides)]
    outputs = _Outputs()
    container = MetricsContainer(label)
    sampler = statesampler.StateSampler("", counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        with sampler.scoped_state(label, "process", metrics_container=container):
            runner = DoFnRunner(fn, args, kwargs, side_maps, beam.Windowing(GlobalWindows()),
                                tagged_receivers=outputs, step_name=label)
            if fresh:
                runner.setup()
            runner.start()
            for value in values:
                runner.process(_windowed(value))
            runner.finish()
    except BaseException:
        _teardown([entry])  # a failed instance is not reused
        raise
    finally:
        statesampler.set_current_tracker(None)
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
    values = _concat(inputs, sels.value)
    outputs: dict = {}
    for n, (digest, label, side_index) in enumerate(steps):
        outputs = _run_dofn(values, payloads[n], digest, label, job, [sides[i] for i in side_index])
        values = outputs.get(None, [])
    if count_only:
        return sum(len(v) for v in outputs.values())
    if tags == (None,):
        return values
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
