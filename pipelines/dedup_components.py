"""Step 4 of the dedup stage: the connected components of the star edges, exactly, in Beam.

    labels, details = label_components(edges, cap=…, salts=…, max_rounds=…, …)

``edges`` are the distinct star edges ``(child, parent)`` (parent < child); ``labels`` every
node's ``(node, component minimum)``; ``details`` the ``rounds`` / ``exact_finish`` detail rows.
The logic and why it is exact: :mod:`jawebcorpus.dedup.components`.  The graph:

* **round 1, full**: a node's initial label is ``min(node, its parents)`` (a combiner).  Labels
  are joined to edges by child (at most ``bands`` parents each), sent to the parent's group —
  split over sub-keys for a parent with more than ``cap`` children (a hub, :class:`HotKeys`) —,
  and every member of a group takes its minimum; the new label is a ``min`` combiner.  The
  parent side also writes each group down once, as a *record* (its children and its minimum),
  in chunks with the members' 64-bit keys for vectorised look-ups.
* **rounds 2 … max_rounds, frontier**: only the nodes whose label changed in the previous round
  take part.  Their keys become a Bloom-filter side input (:class:`FrontierFilter`, one
  combiner: the set bits, sparse while they are few, at most ``2**bloom_max_log2_bits`` bits);
  the records are scanned with it (no shuffle: the chunks are read, nothing is sent unless a
  member is in the filter); an active group's record and its
  changed members' labels (a join by child: ≤ ``bands`` requests and one label) meet in a join by
  group, which lowers its members' labels or, once labels settle, sends nothing.  A round after
  convergence operates on empty collections.
* **exact finish**: the groups still active after the last round send their label pairs to one
  union-find (a combiner whose accumulator holds at most ``finish_max_nodes`` ids, else a
  one-line :class:`LimitError`); its answer (labels → component minimum) is a side input that
  relabels the nodes.

With one local worker (``one_worker``: Beam's local runner, which holds every collection anyway),
the rounds and the finish run in one step (:class:`_RoundsInOneStepFn`) with the same labels and
detail rows.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam import typehints as th
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsSingleton, TaggedOutput
from apache_beam.transforms.window import GlobalWindows

from jawebcorpus.corpus.stats import StatsAccumulator
from jawebcorpus.dedup.cluster import HotKeys, UnionFind, id_key64, initial_labels, snapshot_of, sub_key, sub_keys
from jawebcorpus.dedup.components import (
    FINISH_MAX_NODES, FrontierFilter, ResidualUnionFind, frontier_group, full_round, group_round, residual_pairs,
)

from .dedup_messages import (
    Changed, ChildLabel, GroupLabel, GroupRecord, Label, Lower, MemberLabel, Msg, NewLabel, OldLabel, ParentEdge,
    Want,
)

__all__ = ["label_components", "CountingFn", "windowed", "STAGE", "STATS", "DETAILS", "NodeMsg", "BandMsg",
           "ParentMsg"]

STAGE = "dedup"
STATS = "stats"
DETAILS = "details"

#: Element types of the joins (Beam picks :class:`~.dedup_messages.MsgCoder` from them).
NodeMsg = th.Tuple[bytes, Msg]                 # keyed by node id
BandMsg = th.Tuple[th.Tuple[int, int], Msg]    # keyed by (band key, sub-key)
ParentMsg = th.Tuple[th.Tuple[bytes, int], Msg]  # keyed by (parent, sub-key)
NodeLabel = th.Tuple[bytes, bytes]             # (node, label)

#: Group records per chunk of the round-1 output (one element the later rounds scan).
RECORDS_PER_CHUNK = 256


def windowed(value):
    return GlobalWindows.windowed_value(value)


class CountingFn(beam.DoFn):
    """Counts (snapshot, stage, kind/outcome, name) rows per bundle; emits them at its end."""

    def start_bundle(self):
        self.stats = StatsAccumulator()
        self.details = StatsAccumulator()

    def finish_bundle(self):
        for key, vals in self.stats.drain():
            _snap, stage, outcome, reason = key
            for measure, v in zip(("docs", "chars", "bytes"), vals):
                if v:
                    Metrics.counter(stage, f"{outcome}.{reason}.{measure}").inc(v)
            yield TaggedOutput(STATS, windowed((key, vals)))
        for key, vals in self.details.drain():
            yield TaggedOutput(DETAILS, windowed((key, vals)))


def _count_change(details: StatsAccumulator, node: bytes, round_no: int) -> None:
    """A node whose label round ``round_no`` (0: the exact finish) lowered: its detail row and counter."""
    name = f"round_{round_no:02d}" if round_no else "exact_finish"
    kind = "rounds" if round_no else "exact_finish"
    details.add(snapshot_of(node), STAGE, kind, name if round_no else "labels_changed", 1, 0, 0)
    Metrics.counter(STAGE, f"labels_changed.{name}").inc()


# -- initial labels -------------------------------------------------------------------------------
class _InitialStateFn(beam.CombineFn):
    """Per node: (initial label = min(node, its parents), in-degree) from the edge ends."""

    def create_accumulator(self):
        return (None, 0)

    def add_input(self, acc, value):
        label, incoming = value
        best, degree = acc
        return (label if best is None or label < best else best, degree + incoming)

    def merge_accumulators(self, accs):
        best, degree = None, 0
        for b, d in accs:
            if b is not None and (best is None or b < best):
                best = b
            degree += d
        return (best, degree)

    def extract_output(self, acc):
        return acc


# -- round 1: every group ---------------------------------------------------------------------------
class _RoundChildSideFn(beam.DoFn):
    """Join by child: each edge (child → parent) takes the child's label to the parent's group
    (to the child's sub-key when the parent is a hub)."""

    def __init__(self, salts: int):
        self.salts = salts

    def process(self, item, hubs: HotKeys):
        child, values = item
        label = None
        parents = []
        for msg in values:  # at most ``bands`` parents and one label
            if isinstance(msg, Label):
                label = msg.label
            else:
                parents.append(msg.parent)
        lab = child if label is None else label
        for p in parents:
            yield (p, sub_key(child, hubs.level(id_key64(p)), self.salts)), ChildLabel(child, lab)


def _route_labels(item, hubs: HotKeys, salts: int):
    """A node's label → its group as a parent (every sub-key of it, for a hub)."""
    node, label = item
    msg = Label(label)
    for sub in sub_keys(hubs.level(id_key64(node)), salts):
        yield (node, sub), msg


class _ChildLabels:
    """The (child, label) pairs among a parent group's messages; re-iterable, holds nothing."""

    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values

    def __iter__(self):
        for msg in self.values:
            if isinstance(msg, ChildLabel):
                yield msg


class _RoundOneParentFn(beam.DoFn):
    """Join by (parent, sub-key): the group (parent + children) takes its minimum label; each
    group is also written down once as a record ``((parent, sub), children, minimum)``, in chunks
    of :data:`RECORDS_PER_CHUNK` with the members' keys (parent first) for the frontier scans."""

    RECORDS = "records"

    def start_bundle(self):
        self.chunk: list = []

    def process(self, item):
        key, values = item
        label = None
        for msg in values:
            if isinstance(msg, Label):
                label = msg.label
                break
        m, lowered = group_round(key[0], label, _ChildLabels(values))
        for node, new in lowered:
            yield node, NewLabel(new)
        if m is not None:
            self.chunk.append((key, tuple(msg.child for msg in _ChildLabels(values)), m))  # ≤ the group's size
            if len(self.chunk) >= RECORDS_PER_CHUNK:
                yield TaggedOutput(self.RECORDS, self._flush())

    def finish_bundle(self):
        if self.chunk:
            yield TaggedOutput(self.RECORDS, windowed(self._flush()))

    def _flush(self):
        entries, self.chunk = tuple(self.chunk), []
        starts, keys = [], []
        for (parent, _sub), children, _m in entries:
            starts.append(len(keys))
            keys.append(id_key64(parent))
            keys.extend(id_key64(c) for c in children)
        return np.asarray(keys, dtype=np.int64), np.asarray(starts, dtype=np.int64), entries


class _LabelUpdateFn(beam.CombineFn):
    """Per node: (new label = min(old, messages), old label)."""

    def create_accumulator(self):
        return (None, None)

    def add_input(self, acc, msg):
        best, old = acc
        label = msg.label
        if best is None or label < best:
            best = label
        if isinstance(msg, OldLabel):
            old = label
        return (best, old)

    def merge_accumulators(self, accs):
        best = old = None
        for b, o in accs:
            if b is not None and (best is None or b < best):
                best = b
            if o is not None:
                old = o
        return (best, old)

    def extract_output(self, acc):
        return acc


class _ChangesFn(CountingFn):
    """A round's new labels → the next round's frontier: for each node whose label changed, its
    detail row, ``(node, (label, old))`` (tag ``changed``: the frontier filter), its label for the
    join by child (tag ``members``) and for its own group(s) as a parent (tag ``own``: every
    sub-key of a hub); the main output is ``(node, label)`` — every node's after round 1, the
    changed ones' after the later rounds."""

    CHANGED = "changed"
    MEMBERS = "members"
    OWN = "own"

    def __init__(self, round_no: int, salts: int):
        self.round_no = round_no
        self.salts = salts

    def process(self, item, hubs: HotKeys):
        node, (best, old) = item
        if old is not None and best < old:
            _count_change(self.details, node, self.round_no)
            yield TaggedOutput(self.CHANGED, (node, (best, old)))
            yield TaggedOutput(self.MEMBERS, (node, Changed(best, old)))
            msg = MemberLabel(node, best, old)
            for sub in sub_keys(hubs.level(id_key64(node)), self.salts):
                yield TaggedOutput(self.OWN, ((node, sub), msg))
            yield node, best
        elif self.round_no == 1:
            yield node, best


# -- rounds 2 …: the frontier ---------------------------------------------------------------------
class _ScanRecordsFn(beam.DoFn):
    """A chunk of group records → the records with a member in the frontier filter (``(key,
    GroupRecord)``) and, per such child, a request for its label (tag ``want``); the chunk itself
    goes on to the next round's scan (tag ``rest``: a chain, each round reading the records once,
    rather than every round reading one collection — Beam's local runner deadlocks on that shape).
    Nothing else when the filter is empty."""

    WANT = "want"
    REST = "rest"

    def setup(self):
        self._filter = None

    def process(self, chunk, frontier: FrontierFilter):
        if self._filter is None or self._filter[0] is not frontier:
            self._filter = (frontier, frontier.empty)
        if self._filter[1]:
            return [TaggedOutput(self.REST, chunk)]
        return [TaggedOutput(self.REST, chunk), *self._scan(chunk, frontier)]

    def _scan(self, chunk, frontier: FrontierFilter):
        keys, starts, entries = chunk
        hit = frontier.contains_many(keys)
        if not hit.any():
            return
        for i in np.flatnonzero(np.logical_or.reduceat(hit, starts)).tolist():
            key, children, m = entries[i]
            yield key, GroupRecord(children, m)
            base = int(starts[i]) + 1
            for j, child in enumerate(children):
                if hit[base + j]:
                    yield TaggedOutput(self.WANT, (child, Want(key[0], key[1])))


def _reply_labels(item):
    """Join by child: a changed child's label → every active group that asked for it."""
    node, values = item
    changed = None
    for msg in values:  # one Changed, at most ``bands`` requests
        if isinstance(msg, Changed):
            changed = msg
            break
    if changed is not None:  # else a Bloom false positive: the child did not change
        for msg in values:
            if isinstance(msg, Want):
                yield (msg.parent, msg.sub), MemberLabel(node, changed.label, changed.old)


class _FrontierGroupFn(beam.DoFn):
    """Join by (parent, sub-key): an active group's record, its changed members' labels and its
    state of the previous round → lowered labels (``Lower``) and the new state (tag ``state``);
    in the finish, the group's label pairs instead (tag ``pairs``)."""

    STATE = "state"
    PAIRS = "pairs"

    def __init__(self, round_no: int, finish: bool):
        self.round_no = round_no
        self.finish = finish

    def process(self, item):
        key, values = item
        record = state = None
        changed: dict = {}
        for msg in values:  # ≈ the group's members at most
            if isinstance(msg, MemberLabel):
                changed[msg.node] = (msg.label, msg.old)
            elif isinstance(msg, GroupRecord):
                record = msg
            elif isinstance(msg, GroupLabel):
                state = msg.label
        if record is None or not changed:  # not a group, or a Bloom false positive
            pass
        else:
            if state is not None:
                floor = state
            elif self.round_no == 2:
                floor = record.label
            else:
                floor = next(iter(changed.values()))[1]
            if self.finish:
                for pair in residual_pairs(changed, floor):
                    yield TaggedOutput(self.PAIRS, pair)
            else:
                m, lowered = frontier_group(key[0], record.children, changed, floor)
                if m < floor:
                    yield TaggedOutput(self.STATE, (key, GroupLabel(m)))
                for node, label, old in lowered:
                    yield node, Lower(label, old)


class _LowerFn(beam.CombineFn):
    """Per node: (the lowest label received, its label before the round)."""

    def create_accumulator(self):
        return (None, None)

    def add_input(self, acc, msg):
        best, old = acc
        return (msg.label if best is None or msg.label < best else best,
                msg.old if old is None or msg.old > old else old)

    def merge_accumulators(self, accs):
        best = old = None
        for b, o in accs:
            if b is not None and (best is None or b < best):
                best = b
            if o is not None and (old is None or o > old):
                old = o
        return (best, old)

    def extract_output(self, acc):
        return acc


class _FrontierSetFn(beam.CombineFn):
    """The nodes changed in a round → one :class:`FrontierFilter` (sparse while small)."""

    def __init__(self, log2_bits: int):
        self.log2_bits = log2_bits

    def create_accumulator(self):
        return FrontierFilter(self.log2_bits)

    def add_input(self, acc, item):
        return acc.add(item[0])

    def merge_accumulators(self, accs):
        out = None
        for acc in accs:  # one at a time
            out = acc if out is None else out.merge(acc)
        return out if out is not None else self.create_accumulator()

    def compact(self, acc):
        return acc.compact()

    def extract_output(self, acc):
        return acc.compact()


# -- the exact finish -------------------------------------------------------------------------------
class _ResidualUnionFindFn(beam.CombineFn):
    """The label pairs still open → ``{label: component minimum}`` (bounded, see ResidualUnionFind)."""

    def __init__(self, max_nodes: int, max_rounds: int):
        self.max_nodes = max_nodes
        self.max_rounds = max_rounds

    def create_accumulator(self):
        return ResidualUnionFind(self.max_nodes, self.max_rounds)

    def add_input(self, acc, pair):
        return acc.add(pair[0], pair[1])

    def merge_accumulators(self, accs):
        out = None
        for acc in accs:  # one at a time
            out = acc if out is None else out.merge(acc)
        return out if out is not None else self.create_accumulator()

    def extract_output(self, acc):
        return acc.mapping()


class _RelabelFn(CountingFn):
    def process(self, item, mapping: dict):
        node, label = item
        final = mapping.get(label)
        if final is not None and final < label:
            _count_change(self.details, node, 0)
            yield node, final
        else:
            yield item


# -- one local worker -------------------------------------------------------------------------------
class _RoundsInOneStepFn(CountingFn):
    """(one local worker) Every distinct edge → every node's component minimum, with the detail
    rows of the distributed graph: the same groups (parents split by :func:`sub_key` at the hub
    levels), full rounds with :func:`group_round` until no label changes or ``max_rounds``, then
    the exact finish (union-find over the edges) — the labels and counts of the frontier rounds,
    which change exactly what full rounds change.

    Only where one worker holds every collection in memory anyway (Beam's local runner with one
    worker buffers each step's whole input): there the edges gathered into one element cost no
    more memory than the runner's own buffer, and the graph is much smaller."""

    def __init__(self, salts: int, max_rounds: int):
        self.salts = salts
        self.max_rounds = max_rounds

    def process(self, item, hubs: HotKeys):
        _none, edges = item
        edges = list(edges)
        label = initial_labels(edges)
        levels: dict[bytes, int] = {}
        groups: dict[tuple, tuple] = {}
        for c, p in edges:
            lv = levels.get(p)
            if lv is None:
                lv = levels[p] = hubs.level(id_key64(p))
            groups.setdefault((p, sub_key(c, lv, self.salts)), (p, []))[1].append(c)
        for r in range(1, self.max_rounds + 1):
            changes = full_round(groups, label)
            if not changes:
                break
            for node, m in changes.items():
                label[node] = m
                _count_change(self.details, node, r)
        uf = UnionFind()
        for c, p in edges:
            uf.union(c, p)
        for node, lab in label.items():
            root = uf.find(node)
            if root < lab:
                label[node] = root
                _count_change(self.details, node, 0)
        yield from label.items()


# -- the graph ------------------------------------------------------------------------------------------
def label_components(edges, *, cap: int, salts: int, max_rounds: int, key_set, finish_max_nodes: int = FINISH_MAX_NODES,
                     frontier_log2_bits: int = 30, one_worker: bool = False):
    """Star edges → ``(labels, [detail collections])`` (see the module docstring).

    ``key_set(name)`` makes the transform that turns ``(64-bit key, member count)`` into a
    :class:`HotKeys` side input (the stage's :class:`~.dedup_hot.HotKeySet`: the hub parents);
    ``frontier_log2_bits`` sizes the frontier filters (the stage's ``bloom_max_log2_bits``: at most
    ``2**n / 8`` bytes, less while the frontier is small).  Transforms are applied under the
    caller's labels."""
    node_state = (
        edges
        | "edge_ends" >> beam.FlatMap(lambda e: [(e[0], (e[1], 0)), (e[1], (e[1], 1))])
        | "initial_labels" >> beam.CombinePerKey(_InitialStateFn())
    )
    hubs = AsSingleton(
        node_state
        | "hub_degrees" >> beam.FlatMap(lambda kv: [(id_key64(kv[0]), kv[1][1])] if kv[1][1] > cap else [])
        | key_set("hub_keys"))
    if one_worker:  # the rounds in one step (see _RoundsInOneStepFn): the same labels and counts
        rounds = (
            edges
            | "key_edges" >> beam.Map(lambda e: (None, e))
            | "gather_edges" >> beam.GroupByKey()
            | "rounds" >> beam.ParDo(_RoundsInOneStepFn(salts, max_rounds), hubs).with_output_types(
                NodeLabel).with_outputs(DETAILS, main="labels")
        )
        return rounds.labels, [rounds[DETAILS]]

    # round 1: every group
    labels = node_state | "labels_0" >> beam.Map(lambda kv: (kv[0], kv[1][0]))
    edges_by_child = edges | "edges_by_child" >> beam.Map(lambda e: (e[0], ParentEdge(e[1]))).with_output_types(NodeMsg)
    tag = "round_01"
    child_side = (
        (edges_by_child,
         labels | f"{tag}_tag_labels" >> beam.Map(lambda kv: (kv[0], Label(kv[1]))).with_output_types(NodeMsg))
        | f"{tag}_flatten_child" >> beam.Flatten()
        | f"{tag}_group_child" >> beam.GroupByKey()
        | f"{tag}_child_side" >> beam.ParDo(_RoundChildSideFn(salts), hubs).with_output_types(ParentMsg)
    )
    parent_labels = labels | f"{tag}_route_labels" >> beam.FlatMap(_route_labels, hubs, salts).with_output_types(
        ParentMsg)
    parent_side = (
        (child_side, parent_labels)
        | f"{tag}_flatten_parent" >> beam.Flatten()
        | f"{tag}_group_parent" >> beam.GroupByKey()
        | f"{tag}_parent_side" >> beam.ParDo(_RoundOneParentFn()).with_output_types(NodeMsg).with_outputs(
            _RoundOneParentFn.RECORDS, main="messages")
    )
    records = parent_side[_RoundOneParentFn.RECORDS]
    updated = (
        (labels | f"{tag}_old" >> beam.Map(lambda kv: (kv[0], OldLabel(kv[1]))).with_output_types(NodeMsg),
         parent_side.messages)
        | f"{tag}_flatten_update" >> beam.Flatten()
        | f"{tag}_update" >> beam.CombinePerKey(_LabelUpdateFn())
        | f"{tag}_count" >> beam.ParDo(_ChangesFn(1, salts), hubs).with_output_types(NodeLabel).with_outputs(
            _ChangesFn.CHANGED, _ChangesFn.MEMBERS, _ChangesFn.OWN, DETAILS, main="labels")
    )
    details, candidates, state = [updated[DETAILS]], [updated.labels], None

    # rounds 2 … max_rounds on the frontier, then the finish on what is still active
    for r in range(2, max_rounds + 2):
        finish = r > max_rounds
        tag = "finish" if finish else f"round_{r:02d}"
        frontier = AsSingleton(updated[_ChangesFn.CHANGED] | f"{tag}_frontier_set" >> beam.CombineGlobally(
            _FrontierSetFn(frontier_log2_bits)).without_defaults(), default_value=FrontierFilter(frontier_log2_bits))
        scanned = records | f"{tag}_scan" >> beam.ParDo(_ScanRecordsFn(), frontier).with_output_types(
            ParentMsg).with_outputs(_ScanRecordsFn.WANT, _ScanRecordsFn.REST, main="records")
        records = scanned[_ScanRecordsFn.REST]
        replies = (
            (scanned[_ScanRecordsFn.WANT], updated[_ChangesFn.MEMBERS])
            | f"{tag}_flatten_member" >> beam.Flatten().with_output_types(NodeMsg)
            | f"{tag}_group_member" >> beam.GroupByKey()
            | f"{tag}_replies" >> beam.FlatMap(_reply_labels).with_output_types(ParentMsg)
        )
        parts = [scanned.records, replies, updated[_ChangesFn.OWN]] + ([state] if state is not None else [])
        evaluated = (
            parts
            | f"{tag}_flatten_group" >> beam.Flatten().with_output_types(ParentMsg)
            | f"{tag}_group_active" >> beam.GroupByKey()
            | f"{tag}_evaluate" >> beam.ParDo(_FrontierGroupFn(r, finish)).with_output_types(NodeMsg).with_outputs(
                _FrontierGroupFn.STATE, _FrontierGroupFn.PAIRS, main="lowered")
        )
        if finish:
            pairs = evaluated[_FrontierGroupFn.PAIRS]
            break
        updated = (
            evaluated.lowered
            | f"{tag}_update" >> beam.CombinePerKey(_LowerFn())
            | f"{tag}_count" >> beam.ParDo(_ChangesFn(r, salts), hubs).with_output_types(NodeLabel).with_outputs(
                _ChangesFn.CHANGED, _ChangesFn.MEMBERS, _ChangesFn.OWN, DETAILS, main="labels")
        )
        details.append(updated[DETAILS])
        candidates.append(updated.labels)
        state = evaluated[_FrontierGroupFn.STATE]

    mapping = AsSingleton(pairs | "finish_union_find" >> beam.CombineGlobally(
        _ResidualUnionFindFn(finish_max_nodes, max_rounds)).without_defaults(), default_value={})
    final = (
        candidates
        | "flatten_labels" >> beam.Flatten()
        | "final_labels" >> beam.CombinePerKey(min)
        | "finish_relabel" >> beam.ParDo(_RelabelFn(), mapping).with_output_types(NodeLabel).with_outputs(
            DETAILS, main="labels")
    )
    details.append(final[DETAILS])
    return final.labels, details
