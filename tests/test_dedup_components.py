"""Exact connected components in the dedup stage: frontier rounds (rounds after the labels settle
have nothing to do) and the exact finish (union-find on one worker, bounded)."""

from __future__ import annotations

import pickle
import random

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.corpus.errors import ConfigError, LimitError
from jawebcorpus.dedup.cluster import UnionFind, initial_labels
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.dedup.components import (
    MAX_ROUNDS, ResidualUnionFind, frontier_group, frontier_reference, full_round, group_round, residual_pairs,
)
from jawebcorpus.pipelines.config import apply_overrides, get_preset
from jawebcorpus.pipelines.dedup import Dedup
from jawebcorpus.pipelines.run import environment_error, local_runner

from test_dedup_beam import long_chain


def random_graph(rng: random.Random, n: int, n_groups: int, group_size: int, n_sub: int):
    """Star edges of random band groups (member → the group's minimum), parents' children split
    over ``n_sub`` sub-keys as hubs are: ``(edges, {(parent, sub): (parent, children)})``."""
    nodes = sorted(bytes([1]) + rng.randbytes(5) for _ in range(n))
    edges = set()
    for _ in range(n_groups):
        g = sorted(rng.sample(nodes, rng.randint(2, group_size)))
        edges.update((c, g[0]) for c in g[1:])
    groups: dict = {}
    for c, p in sorted(edges):
        sub = c[-1] % n_sub
        groups.setdefault((p, sub), (p, []))[1].append(c)
    return edges, groups


def path_graph(rng: random.Random, n: int):
    nodes = [bytes([1]) + rng.randbytes(5) for _ in range(n)]  # random id order along the path
    edges = {(max(a, b), min(a, b)) for a, b in zip(nodes, nodes[1:])}
    groups: dict = {}
    for c, p in sorted(edges):
        groups.setdefault((p, 0), (p, []))[1].append(c)
    return edges, groups


@pytest.mark.parametrize("seed", range(60))
def test_frontier_rounds_change_what_full_rounds_change_and_the_finish_is_exact(seed):
    rng = random.Random(seed)
    if seed % 3 == 0:
        edges, groups = path_graph(rng, rng.randint(2, 60))
    else:
        edges, groups = random_graph(rng, rng.randint(8, 90), rng.randint(1, 70), rng.randint(2, 7), rng.randint(1, 3))
    max_rounds = rng.randint(1, 12)
    label = initial_labels(edges)
    per_round = []
    for _ in range(max_rounds):  # full rounds: every group, every time
        changes = full_round(groups, label)
        per_round.append(len(changes))
        label.update(changes)
    labels, frontier_rounds, finished = frontier_reference(groups, edges, max_rounds)
    assert frontier_rounds == per_round  # the same nodes change in the same rounds
    uf = UnionFind()
    for c, p in edges:
        uf.union(c, p)
    assert labels == {n: uf.find(n) for n in labels}  # and the finish gives the exact components
    assert finished == sum(1 for n in label if label[n] != uf.find(n))


def test_group_steps():
    a, b, c, d = (bytes([1, i]) for i in range(4))
    assert group_round(b, b, [(c, c), (d, a)]) == (a, [(b, a), (c, a)])
    assert group_round(b, b, []) == (None, [])
    # a frontier group: d changed to a (from b, the floor); the others sit at the floor b
    assert frontier_group(b, [c, d], {d: (a, b)}, b) == (a, [(b, a, b), (c, a, b)])
    assert frontier_group(b, [c, d], {d: (b, c)}, b) == (b, [])  # nothing below the floor
    assert residual_pairs({d: (a, c), c: (b, c)}, c) == [(a, b), (a, c)]


def test_residual_union_find_is_bounded_with_one_line():
    acc = ResidualUnionFind(max_nodes=4, max_rounds=3)
    acc.add(b"\x01c", b"\x01a").add(b"\x01d", b"\x01c")
    other = pickle.loads(pickle.dumps(ResidualUnionFind(4, 3).add(b"\x01e", b"\x01f")))
    with pytest.raises(LimitError) as exc:
        acc.merge(other)
    msg = str(exc.value)
    assert "\n" not in msg and "dedup.finish_max_nodes=4" in msg and "dedup.max_rounds=3" in msg
    ok = ResidualUnionFind(10).add(b"\x01c", b"\x01a").merge(ResidualUnionFind(10).add(b"\x01d", b"\x01c"))
    assert ok.mapping() == {b"\x01c": b"\x01a", b"\x01d": b"\x01a"}


def test_max_rounds_is_a_bounded_setting():
    with pytest.raises(ValueError):
        Dedup(DedupConfig(max_rounds=MAX_ROUNDS + 1))
    with pytest.raises(ValueError):
        Dedup(DedupConfig(max_rounds=0))
    with pytest.raises(ValueError):
        Dedup(DedupConfig(finish_max_nodes=0))
    for bad in ("max_rounds=0", f"max_rounds={MAX_ROUNDS + 1}", "max_rounds=1000000", "finish_max_nodes=0"):
        with pytest.raises(ConfigError, match="dedup"):
            apply_overrides(get_preset("default"), [f"dedup.{bad}"]).validate()
    cfg = apply_overrides(get_preset("default"), [f"dedup.max_rounds={MAX_ROUNDS}", "dedup.finish_max_nodes=7"])
    d = Dedup(cfg.validate().dedup)
    assert (d.config.max_rounds, d.config.finish_max_nodes) == (MAX_ROUNDS, 7)


# -- the Beam graph ------------------------------------------------------------------------------
def _count_round_elements(p, first_round: int) -> None:
    """A counting branch on every grouped or scanned collection of rounds ≥ ``first_round`` and the finish."""
    from apache_beam.metrics import Metrics
    from apache_beam.pipeline import PipelineVisitor

    found = []

    def step(node) -> str:
        parts = node.full_label.split("/")
        if len(parts) < 2 or parts[0] != "dedup":
            return ""
        name, words = parts[1], parts[1].split("_")
        later = name.startswith("round_") and int(words[1]) >= first_round or name.startswith("finish_")
        return name if later else ""

    class V(PipelineVisitor):
        def visit_transform(self, node):
            name = step(node)
            if name.endswith(("_group_member", "_group_active")) and isinstance(node.transform, beam.GroupByKey) \
                    or name.endswith("_scan") and node.full_label.count("/") == 2:
                for tag, pc in node.outputs.items():
                    if tag in (None, "want", "records"):
                        found.append((f"{name}[{tag}]", pc))

        def enter_composite_transform(self, node):
            name = step(node)
            if name.endswith("_update") and node.full_label.count("/") == 1:
                found.append((name, node.outputs[None]))  # the combiner's output (its GBK is lifted)
            super().enter_composite_transform(node)

    p.visit(V())
    for i, (name, pc) in enumerate(found):
        _ = pc | f"count_{i}" >> beam.Map(lambda _x, n=name: Metrics.counter("elements", n).inc())
    return found


def test_rounds_after_the_labels_settle_operate_on_empty_collections():
    """The chain settles in round 4: round 5 finds nothing to change, and rounds 6 … 10 and the
    finish group, scan and update nothing (every element count 0)."""
    docs = long_chain()
    opts = PipelineOptions([])
    p = beam.Pipeline(runner=local_runner(opts), options=opts)
    res = p | beam.Create(docs, reshuffle=False) | "dedup" >> Dedup(DedupConfig(max_rounds=10))
    _ = res.docs | "kept" >> beam.Map(lambda d: beam.metrics.Metrics.counter("elements", "kept").inc())
    found = _count_round_elements(p, 2)
    result = p.run()
    result.wait_until_finish()
    counts = {c.key.metric.name: c.committed for c in
              result.metrics().query(MetricsFilter().with_namespace("elements"))["counters"]}
    assert counts.pop("kept") == 1
    names = {n for n, _ in found}
    assert len(names) >= 8 * 3  # rounds 2 … 10 and the finish, several steps each
    busy = {n: v for n, v in counts.items() if v}
    # rounds 2 … 4 change labels; round 5 looks at the groups of the one label round 4 changed and
    # changes nothing; rounds 6 … 10 and the finish have nothing at all to do
    assert busy and all(n.startswith(("round_02", "round_03", "round_04", "round_05")) for n in busy), busy
    assert busy["round_04_update"] == 1 and "round_05_update" not in busy, busy


def test_finish_over_its_bound_stops_the_run_with_one_line(tmp_path):
    """Past dedup.finish_max_nodes the run stops — never a silent wrong answer — and the command
    line shows one line naming the settings."""
    docs = long_chain()
    opts = PipelineOptions([])
    p = beam.Pipeline(runner=local_runner(opts), options=opts)
    _ = p | beam.Create(docs, reshuffle=False) | "dedup" >> Dedup(DedupConfig(max_rounds=1, finish_max_nodes=2))
    with pytest.raises(Exception) as exc:
        p.run().wait_until_finish()
    line = environment_error(exc.value)
    assert line is not None and "\n" not in line
    assert "dedup.finish_max_nodes=2" in line and "dedup.max_rounds=1" in line, line


def test_a_limit_passed_on_a_remote_worker_is_one_line_too():
    """A worker's exception comes back inside the runner's error text (with its traceback)."""
    msg = "dedup: more than 2 node ids (3 so far) are still changing … (dedup.finish_max_nodes=2); raise it"
    text = ("Error processing bundle\nTraceback (most recent call last):\n  File \"x.py\", line 1, in add\n"
            f"jawebcorpus.corpus.errors.LimitError: {msg} [while running 'dedup/finish_union_find']\n")
    assert environment_error(RuntimeError(text)) == msg


def test_frontier_filter_is_sparse_while_small_and_has_no_false_negatives():
    import numpy as np

    from jawebcorpus.dedup.cluster import id_key64
    from jawebcorpus.dedup.components import FrontierFilter

    rng = random.Random(5)
    nodes = [bytes([1]) + rng.randbytes(14) for _ in range(3000)]
    keys = np.array([id_key64(n) for n in nodes], dtype=np.int64)
    for log2, dense in ((30, False), (12, True)):
        a, b = FrontierFilter(log2), FrontierFilter(log2)
        for n in nodes[:1000]:
            a.add(n)
        for n in nodes[1000:]:
            b.add(n)
        merged = pickle.loads(pickle.dumps(a)).merge(pickle.loads(pickle.dumps(b)))
        assert merged.contains_many(keys).all() and not merged.empty
        assert (merged.words is not None) == dense
        assert merged.nbytes <= (1 << log2) // 8 or not dense
    small = FrontierFilter(30).add(nodes[0]).compact()
    assert small.nbytes == 3 * 8  # three set bits, not 128 MiB
    others = np.array([id_key64(bytes([1]) + rng.randbytes(14)) for _ in range(10000)], dtype=np.int64)
    assert not small.contains_many(others).any() and FrontierFilter(30).empty
