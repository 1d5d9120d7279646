"""The pipeline on a real dask.distributed cluster (``--runner=DaskRunner``, pipelines/dask_runner.py).

Fast tests: small Beam pipelines on a two-process LocalCluster, each one a case Beam's own
DaskRunner gets wrong (docs/runners.md, "Dask"): tagged outputs, every sink, side inputs
computed once, partitions bounded over unrolled rounds, Reshuffle spreading, combiner lifting,
counters.  Slow tests: a scheduler and ``dask worker --nworkers 2`` started apart as their own
processes, and ``jawebcorpus run --runner=DaskRunner`` on the bundled sample (and ../shared/crawl)
compared file by file with the in-process run.  Skipped when dask is not installed (the ``test``
extra installs it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("dask.distributed")

import apache_beam as beam  # noqa: E402
from apache_beam.options.pipeline_options import PipelineOptions  # noqa: E402

from jawebcorpus.pipelines.dask_runner import DaskRunner, translate  # noqa: E402
from test_runners import _digests, _free_port, _jawebcorpus, _listening, _start, _stop  # noqa: E402

START_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two worker processes (one thread each), for the small pipelines."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


def _run(address: str, build, *extra: str):
    opts = PipelineOptions([f"--dask_client_address={address}", *extra])
    p = beam.Pipeline(runner=DaskRunner(), options=opts)
    build(p)
    result = p.run()
    assert result.wait_until_finish() == "DONE"
    return result


class _Record(beam.DoFn):
    """Writes one file per element (the workers are other processes): ``<dir>/<label>/<uuid>``."""

    def __init__(self, folder: str, label: str):
        self.folder, self.label = folder, label

    def process(self, value):
        path = Path(self.folder, self.label)
        path.mkdir(parents=True, exist_ok=True)
        (path / uuid.uuid4().hex).write_text(repr(value))
        yield value


def _recorded(folder: Path, label: str) -> list:
    from ast import literal_eval

    path = folder / label
    return sorted(literal_eval(f.read_text()) for f in path.iterdir()) if path.is_dir() else []


def test_each_output_tag_reaches_only_its_own_consumers(cluster, tmp_path):
    def build(p):
        out = (p | beam.Create(list(range(10)))
               | beam.FlatMap(lambda x: [x, beam.pvalue.TaggedOutput("odd", x)] if x % 2 else [x]).with_outputs(
                   "odd", main="all"))
        _ = out.odd | "odd" >> beam.ParDo(_Record(str(tmp_path), "odd"))
        _ = out.all | "all" >> beam.ParDo(_Record(str(tmp_path), "all"))

    _run(cluster, build)
    assert _recorded(tmp_path, "odd") == [1, 3, 5, 7, 9]
    assert _recorded(tmp_path, "all") == list(range(10))


def test_every_sink_runs_not_only_the_last(cluster, tmp_path):
    def build(p):
        xs = p | beam.Create([1, 2, 3])
        _ = xs | "a" >> beam.ParDo(_Record(str(tmp_path), "a"))
        _ = xs | "b" >> beam.ParDo(_Record(str(tmp_path), "b"))

    _run(cluster, build)
    assert _recorded(tmp_path, "a") == _recorded(tmp_path, "b") == [1, 2, 3]


def test_a_side_input_is_computed_once_and_before_its_readers(cluster, tmp_path):
    def build(p):
        side = p | "side" >> beam.Create([5]) | "side_effect" >> beam.ParDo(_Record(str(tmp_path), "side"))
        _ = (p | "main" >> beam.Create(list(range(40)))
             | beam.Reshuffle()  # several partitions, several tasks read the side input
             | beam.Map(lambda x, s: x + s, beam.pvalue.AsSingleton(side))
             | "out" >> beam.ParDo(_Record(str(tmp_path), "out")))

    _run(cluster, build, "--dask_npartitions=8")
    assert _recorded(tmp_path, "side") == [5]  # one computation, however many tasks read it
    assert _recorded(tmp_path, "out") == [x + 5 for x in range(40)]


def _min_label(kv):
    node, joined = kv
    label = min(joined["label"])
    return [(node, label)] + [(other, label) for other in joined["edge"]]


def _propagation(p, rounds: int, n: int = 12):
    """Min-label propagation along a chain 0-1-…-n, ``rounds`` unrolled rounds, each flattening
    the labels with two of their own descendants (the shape of dedup's rounds)."""
    edges = p | "edges" >> beam.Create([(i, i + 1) for i in range(n)])
    labels = p | "labels" >> beam.Create([(i, i) for i in range(n + 1)])
    for r in range(rounds):
        up = ({"edge": edges | f"up_{r}" >> beam.Map(lambda e: (e[1], e[0])), "label": labels}
              | f"join_up_{r}" >> beam.CoGroupByKey() | f"offer_up_{r}" >> beam.FlatMap(_min_label))
        down = ({"edge": edges | f"down_{r}" >> beam.Map(lambda e: e), "label": labels}
                | f"join_down_{r}" >> beam.CoGroupByKey() | f"offer_down_{r}" >> beam.FlatMap(_min_label))
        labels = (labels, up, down) | f"flatten_{r}" >> beam.Flatten() | f"min_{r}" >> beam.CombinePerKey(min)
    return labels


def test_partitions_stay_bounded_over_unrolled_rounds(cluster, tmp_path):
    # Beam's translation triples the partitions per round here (3**10 after 10 rounds); ours
    # stays at --dask_npartitions, and the task graph grows linearly with the rounds
    sizes = {}
    for rounds in (5, 10):
        p = beam.Pipeline(options=PipelineOptions())
        _propagation(p, rounds)
        graph, _ = translate(p, 4)
        assert max(key[1] for key in graph if len(key) == 2 and isinstance(key[1], int)) < 4
        sizes[rounds] = len(graph)
    assert sizes[10] < 2.2 * sizes[5]

    _run(cluster, lambda p: _propagation(p, 12) | beam.ParDo(_Record(str(tmp_path), "labels")),
         "--dask_npartitions=4")
    assert _recorded(tmp_path, "labels") == [(i, 0) for i in range(13)]


def test_reshuffle_spreads_one_partition_over_4_npartitions(cluster, tmp_path):
    p = beam.Pipeline(options=PipelineOptions())
    _ = (p | beam.Create(list(range(8))) | "one" >> beam.Map(lambda x: x) | beam.Reshuffle()
         | "two" >> beam.Map(lambda x: x))
    graph, _ = translate(p, 2, partition_size=8)  # the Create makes one partition of 8
    assert sum(1 for key in graph if "-one-" in key[0]) == 1
    assert sum(1 for key in graph if "-two-" in key[0]) == 8  # spread over 4 × 2 tasks after the Reshuffle

    def build(p):
        _ = (p | beam.Create(list(range(8))) | beam.Reshuffle()
             | beam.Map(lambda x: (os.getpid(), x)) | beam.ParDo(_Record(str(tmp_path), "pids")))

    _run(cluster, build, "--dask_npartitions=4")
    assert sorted(x for _, x in _recorded(tmp_path, "pids")) == list(range(8))


class _CountParts(beam.CombineFn):
    """(sum, partial accumulators merged): > 1 only when the runner combines before grouping."""

    def create_accumulator(self):
        return (0, 1)

    def add_input(self, acc, v):
        return (acc[0] + v, acc[1])

    def merge_accumulators(self, accs):
        accs = list(accs)
        return (sum(a[0] for a in accs), sum(a[1] for a in accs))

    def extract_output(self, acc):
        return acc


def test_combine_per_key_is_lifted_and_counters_are_collected(cluster, tmp_path):
    def build(p):
        _ = (p | beam.Create([("hot", i) for i in range(1000)])
             | beam.Reshuffle()
             | beam.Map(lambda kv: beam.metrics.Metrics.counter("t", "seen").inc() or kv)
             | beam.CombinePerKey(_CountParts())
             | beam.ParDo(_Record(str(tmp_path), "sum")))

    result = _run(cluster, build, "--dask_npartitions=4")
    [(key, (total, parts))] = _recorded(tmp_path, "sum")
    assert (key, total) == ("hot", sum(range(1000)))
    assert parts >= 4  # one partial accumulator per partition (plus the final one's own)
    counters = result.metrics().query()["counters"]
    assert sum(c.committed for c in counters if c.key.metric.name == "seen") == 1000


def test_stateful_dofns_are_refused_at_translation(cluster):
    from apache_beam.transforms.userstate import BagStateSpec

    class Stateful(beam.DoFn):
        STATE = BagStateSpec("s", beam.coders.VarIntCoder())

        def process(self, kv, state=beam.DoFn.StateParam(STATE)):
            yield kv

    with pytest.raises(NotImplementedError, match="stateful"):
        _run(cluster, lambda p: p | beam.Create([(1, 1)]) | beam.ParDo(Stateful()))


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path, capsys):
    from jawebcorpus.pipelines.cli import main

    out = tmp_path / "out"
    rc = main(["run", "--sample", "--output", str(out), "--runner=DaskRunner",
               f"--dask_client_address=tcp://127.0.0.1:{_free_port()}", "--dask_connection_timeout=2"])
    err = capsys.readouterr().err
    assert rc == 2, err[-2000:]
    errors = [line for line in err.splitlines() if line.startswith("jawebcorpus: error:")]
    assert len(errors) == 1 and "cannot reach the Dask scheduler" in errors[0], err
    assert not out.exists()


# -- slow: a scheduler and two worker processes started apart ----------------------------------------
@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and ``dask worker --nworkers 2`` on loopback (free ports), each its own
    process group, torn down whatever happens."""
    from dask.distributed import Client

    tmp = tmp_path_factory.mktemp("dask-cluster")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                       tmp / "scheduler.log")
    workers = None
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(port):
            if scheduler.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"dask scheduler did not start: {(tmp / 'scheduler.log').read_text()[-1500:]}")
            time.sleep(0.5)
        workers = _start(["dask", "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard",
                          "--memory-limit", "3GB", "--local-directory", str(tmp / "scratch")], tmp / "workers.log")
        with Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for proc in (workers, scheduler):
            if proc is not None:
                _stop(proc)


def _compare(tmp_path: Path, address: str, runner: str, inputs: list[str]) -> None:
    local, dask = tmp_path / "local", tmp_path / "dask"
    common = [*inputs, "--quiet", "--samples-per-reason", "2"]
    a = _jawebcorpus(["run", *common, "--output", str(local)], tmp_path / "local.log")
    assert a.returncode == 0, (tmp_path / "local.log").read_text(errors="replace")[-3000:]
    t0 = time.monotonic()
    b = _jawebcorpus(["run", *common, "--output", str(dask), f"--runner={runner}",
                      f"--dask_client_address={address}"], tmp_path / "dask.log")
    seconds = time.monotonic() - t0
    assert b.returncode == 0, (tmp_path / "dask.log").read_text(errors="replace")[-3000:]
    mine, theirs = _digests(local), _digests(dask)
    assert any(k.startswith("data/") for k in mine) and "stats/stages.json" in mine
    assert any(k.startswith("stats/files/") for k in mine) and any(k.startswith("samples/") for k in mine)
    assert sorted(theirs) == sorted(mine)
    assert [k for k in mine if mine[k] != theirs[k]] == []
    print(f"{inputs}: the run on Dask took {seconds:.1f} s")


@pytest.mark.slow
def test_sample_on_a_dask_cluster_started_apart_equals_the_in_process_run(tmp_path, dask_cluster):
    _compare(tmp_path, dask_cluster, "DaskRunner", ["--sample"])


@pytest.mark.slow
@pytest.mark.shared
def test_shared_crawl_on_dask_equals_the_in_process_run(tmp_path, dask_cluster, shared_dir):
    _compare(tmp_path, dask_cluster, "apache_beam.runners.dask.dask_runner.DaskRunner",
             ["--input", str(shared_dir / "crawl")])


def test_without_dask_the_run_is_refused_in_one_line(tmp_path, capsys, monkeypatch):
    from jawebcorpus.pipelines.cli import main

    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if dask were not installed
    out = tmp_path / "out"
    rc = main(["run", "--sample", "--output", str(out), "--runner=DaskRunner"])
    err = capsys.readouterr().err
    assert rc == 2, err[-2000:]
    assert err.strip().splitlines()[-1] == ("jawebcorpus: error: --runner DaskRunner needs dask and distributed: "
                                            "pip install 'jawebcorpus[dask]'")
    assert not out.exists()


@pytest.mark.slow
def test_a_worker_with_another_jawebcorpus_is_refused_before_anything_is_written(tmp_path, capsys):
    """A worker whose environment has another jawebcorpus (here: version 0.0.0 first on its
    PYTHONPATH) is found by the launcher's check: one line naming both versions, exit 2, no output."""
    from jawebcorpus.pipelines.cli import main

    fake = tmp_path / "other" / "jawebcorpus"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text('__version__ = "0.0.0"\n')
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(fake.parent))
    logs = [open(tmp_path / name, "wb") for name in ("scheduler.log", "worker.log")]
    scheduler = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                                  str(port), "--no-dashboard"], stdout=logs[0], stderr=subprocess.STDOUT,
                                 start_new_session=True)
    worker = subprocess.Popen([sys.executable, "-m", "dask", "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                               "--no-dashboard", "--local-directory", str(tmp_path / "scratch")], env=env,
                              stdout=logs[1], stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path)
    try:
        from dask.distributed import Client

        deadline = time.monotonic() + START_TIMEOUT_S
        while not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.5)
        with Client(f"tcp://127.0.0.1:{port}", timeout=30) as client:
            client.wait_for_workers(1, timeout=START_TIMEOUT_S)
        out = tmp_path / "out"
        rc = main(["run", "--sample", "--output", str(out), "--quiet", "--runner=DaskRunner",
                   f"--dask_client_address=tcp://127.0.0.1:{port}"])
        err = capsys.readouterr().err
        assert rc == 2, err[-2000:]
        errors = [line for line in err.splitlines() if line.startswith("jawebcorpus: error:")]
        assert len(errors) == 1 and "jawebcorpus 0.0.0; the launcher" in errors[0], err
        assert "install the same versions on the workers" in errors[0]
        assert not out.exists()
    finally:
        for proc in (worker, scheduler):
            _stop(proc)
