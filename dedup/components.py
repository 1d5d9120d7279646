"""Connected components of the dedup graph, exactly: label-propagation rounds whose work shrinks
to the nodes still changing (a *frontier*), then an exact finish with union-find (no Beam here).

The graph is a set of star *groups*: a parent node and its children (the star edges child →
parent of :mod:`.cluster`, a hub parent's children split over sub-keys, each sub-key its own
group that also contains the parent).  One round: every group takes the minimum label of its
members and gives it to every member whose label is larger; a node keeps the smallest label it
receives.  Labels only decrease, and only to node ids of the same component.

**Why a frontier is exact.**  After round 1 (every group evaluated) this holds after every round
``r``: in each group, the members whose label did *not* change in round ``r`` all have one label,
the group's *floor* ``c``, and the members whose label changed have labels ≤ ``c``.  (Round 1
leaves every member ≤ the group's minimum ``m``, and an unchanged member was ≥ ``m`` before it;
a group with no changed member stays so; an evaluated group's new floor is its ``m``.)  So a group
without a member that changed in the previous round is settled: evaluating it would change
nothing.  A round needs only the groups holding a changed node (the *active* groups), the labels
of those changed members, and the floor: the group's ``m`` of the previous round when it was
evaluated there (carried forward as a small state), its ``m`` of round 1 in round 2 (stored with
the group's record), and otherwise the label the changed members had before their change (they
were all at the floor).  The new minimum is the smallest changed member's label; if it is below
the floor, every member gets it.  Labels, and the nodes changed per round, are exactly those of
full rounds (``tests/test_dedup_components.py`` checks that on random graphs).

**The exact finish.**  After the last allowed round, every settled group has one label; an active
group ties the labels of its members: its floor and its changed members' labels.  Union-find over
those label pairs (few: the components still changing) gives every label its component's minimum
(:class:`ResidualUnionFind`, bounded by ``max_nodes``: past it a :class:`~jawebcorpus.corpus.errors.LimitError`
names the settings, never a silent wrong answer); a node's final label is the finish's answer for
its label, or its label.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from jawebcorpus.corpus.errors import LimitError

from .cluster import BloomFilter, UnionFind, id_key64, initial_labels

__all__ = [
    "MAX_ROUNDS", "FINISH_MAX_NODES", "group_round", "frontier_group", "residual_pairs", "ResidualUnionFind",
    "finish_limit_message", "FrontierFilter", "full_round", "frontier_reference",
]

#: The most label-propagation rounds a run may ask for (``dedup.max_rounds``): each is a few
#: steps of the job graph; what is still changing after them is finished exactly.
MAX_ROUNDS = 30
#: Default of ``dedup.finish_max_nodes``: node ids the exact finish may gather on one worker.
FINISH_MAX_NODES = 1_000_000


def group_round(parent: bytes, label: bytes | None, children: Iterable[tuple[bytes, bytes]]):
    """A group in a full round (every member's label known): ``(m, lowered)`` where ``m`` is the
    minimum label of the parent (``label``) and its children ``(child, label)``, and ``lowered``
    the ``(node, m)`` of every member whose label that lowers; ``(None, [])`` without children.
    ``children`` is read twice (a re-iterable: a list, or Beam's grouped values)."""
    m = parent if label is None else label
    seen = False
    for _, cl in children:
        seen = True
        if cl < m:
            m = cl
    if not seen:
        return None, []
    out = []
    if label is None or m < label:
        out.append((parent, m))
    for c, cl in children:
        if m < cl:
            out.append((c, m))
    return m, out


def frontier_group(parent: bytes, children: Iterable[bytes], changed: dict, floor: bytes):
    """An active group in a frontier round: ``(m, lowered)``.

    ``changed``: ``{node: (label, old label)}`` of the members whose label changed in the previous
    round; ``floor``: the label of every other member.  ``m`` is the group's new minimum;
    ``lowered`` holds ``(node, m, old label)`` for every member ``m`` lowers."""
    m = min(lab for lab, _ in changed.values())
    if not m < floor:
        return m, []
    out = []
    for node in (parent, *children):
        cur = changed.get(node)
        if cur is None:
            out.append((node, m, floor))
        elif m < cur[0]:
            out.append((node, m, cur[0]))
    return m, out


def residual_pairs(changed: dict, floor: bytes) -> list[tuple[bytes, bytes]]:
    """The label pairs an active group leaves to the exact finish: its smallest label with each
    other distinct label among its floor and its changed members' labels."""
    labels = {floor, *(lab for lab, _ in changed.values())}
    lo = min(labels)
    return [(lo, other) for other in sorted(labels) if other != lo]


def finish_limit_message(nodes: int, max_nodes: int, max_rounds: int | None = None) -> str:
    rounds = f"dedup.max_rounds={max_rounds} rounds" if max_rounds else "the label-propagation rounds"
    return (f"dedup: more than {max_nodes:,} node ids ({nodes:,} so far) are still changing after {rounds}, "
            f"more than the exact finish gathers on one worker (dedup.finish_max_nodes={max_nodes:,}); "
            f"raise dedup.max_rounds (at most {MAX_ROUNDS}) or dedup.finish_max_nodes")


class ResidualUnionFind:
    """Union-find over the label pairs of the exact finish, as a combiner accumulator: ``add``
    pairs, ``merge`` another accumulator, ``mapping()`` = ``{label: its component's minimum}`` for
    the labels that change.  It holds at most ``max_nodes`` node ids; one more raises
    :class:`LimitError` (one line naming the settings)."""

    __slots__ = ("uf", "max_nodes", "max_rounds")

    def __init__(self, max_nodes: int = FINISH_MAX_NODES, max_rounds: int | None = None):
        self.uf = UnionFind()
        self.max_nodes = max_nodes
        self.max_rounds = max_rounds

    def _check(self) -> None:
        if len(self.uf.parent) > self.max_nodes:
            raise LimitError(finish_limit_message(len(self.uf.parent), self.max_nodes, self.max_rounds))

    def add(self, a: bytes, b: bytes) -> "ResidualUnionFind":
        self.uf.union(a, b)
        self._check()
        return self

    def merge(self, other: "ResidualUnionFind") -> "ResidualUnionFind":
        for x, p in other.uf.parent.items():
            self.uf.union(x, p)
            self._check()
        return self

    def __len__(self) -> int:
        return len(self.uf.parent)

    def mapping(self) -> dict[bytes, bytes]:
        out = {}
        for x in self.uf.parent:
            r = self.uf.find(x)
            if r != x:
                out[x] = r
        return out

    def __reduce__(self):
        return (_rebuild_uf, (self.max_nodes, self.max_rounds, self.uf.parent))


def _rebuild_uf(max_nodes, max_rounds, parent):
    acc = ResidualUnionFind(max_nodes, max_rounds)
    acc.uf.parent = parent
    return acc


class FrontierFilter:
    """The node ids whose label changed in a round, as a Bloom filter of ``2**log2_bits`` bits with
    3 probes (the hashing of :class:`~.cluster.BloomFilter`), kept *sparse* — the sorted set bits —
    while that is smaller than the bits themselves, so a frontier of a few nodes is a few bytes
    and the largest is ``2**log2_bits / 8`` bytes.  Built by one combiner (``add`` buffers node
    keys, ``merge`` unions); no false negatives; a false positive only makes a group look at a
    node that did not change."""

    __slots__ = ("log2_bits", "positions", "words", "pending")

    K = 3
    _FLUSH = 1 << 16

    def __init__(self, log2_bits: int = 30, positions: np.ndarray | None = None, words: np.ndarray | None = None):
        self.log2_bits = log2_bits
        self.positions = positions if positions is not None else np.zeros(0, dtype=np.uint64)
        self.words = words  # dense uint64 words once the sparse set would be larger
        self.pending: list[int] = []

    def add(self, node: bytes) -> "FrontierFilter":
        self.pending.append(id_key64(node))
        if len(self.pending) >= self._FLUSH:
            self._flush()
        return self

    def _flush(self) -> None:
        if self.pending:
            pos = BloomFilter.positions_for(self.pending, self.log2_bits, self.K).ravel()
            self.pending = []
            self._set(np.unique(pos))

    def _set(self, pos: np.ndarray) -> None:
        if self.words is None:
            self.positions = np.union1d(self.positions, pos)
            if self.positions.size > 1 << max(0, self.log2_bits - 6):  # 8 bytes a bit: the dense words are smaller
                pos, self.positions = self.positions, np.zeros(0, dtype=np.uint64)
                self.words = np.zeros(1 << max(0, self.log2_bits - 6), dtype=np.uint64)
        if self.words is not None and pos.size:
            np.bitwise_or.at(self.words, (pos >> np.uint64(6)).astype(np.int64),
                             np.left_shift(np.uint64(1), pos & np.uint64(63)))

    def merge(self, other: "FrontierFilter") -> "FrontierFilter":
        self._flush()
        other._flush()
        if other.words is not None:
            if self.words is None:
                self.words = np.zeros_like(other.words)
                self._set(self.positions)
                self.positions = np.zeros(0, dtype=np.uint64)
            self.words |= other.words
        else:
            self._set(other.positions)
        return self

    def compact(self) -> "FrontierFilter":
        self._flush()
        return self

    @property
    def empty(self) -> bool:
        return not self.pending and not self.positions.size and (self.words is None or not self.words.any())

    @property
    def nbytes(self) -> int:
        return int(self.positions.nbytes + (self.words.nbytes if self.words is not None else 0))

    def contains_many(self, keys: np.ndarray) -> np.ndarray:
        """Membership of 64-bit node keys (``id_key64``; int64 array)."""
        pos = BloomFilter.positions_for(keys, self.log2_bits, self.K)
        if self.words is not None:
            w = self.words[(pos >> np.uint64(6)).astype(np.int64)]
            return np.all((w >> (pos & np.uint64(63))) & np.uint64(1), axis=-1)
        if not self.positions.size:
            return np.zeros(pos.shape[0], dtype=bool)
        i = np.minimum(np.searchsorted(self.positions, pos), self.positions.size - 1)
        return np.all(self.positions[i] == pos, axis=-1)

    def __reduce__(self):
        self._flush()
        return (FrontierFilter, (self.log2_bits, self.positions, self.words))


# -- in-memory references (tests; the one-worker step uses group_round too) ------------------------
def full_round(groups: dict, label: dict) -> dict:
    """One full round over ``groups`` (``{key: (parent, [children])}``): ``{node: new label}`` of
    the nodes whose label it lowers."""
    best: dict = {}
    for parent, children in groups.values():
        _m, lowered = group_round(parent, label[parent], [(c, label[c]) for c in children])
        for node, m in lowered:
            if node not in best or m < best[node]:
                best[node] = m
    return {n: m for n, m in best.items() if m < label[n]}


def frontier_reference(groups: dict, edges: Iterable[tuple[bytes, bytes]], max_rounds: int,
                       max_nodes: int = FINISH_MAX_NODES):
    """The stage's components in memory, as the Beam graph computes them: round 1 full, then
    frontier rounds (only active groups), then the exact finish.  Returns ``(labels, changed per
    round, changed by the finish)``."""
    label = initial_labels(edges)
    member_of: dict = {}
    for key, (parent, children) in groups.items():
        for node in (parent, *children):
            member_of.setdefault(node, []).append(key)
    changes = full_round(groups, label)
    floors = {key: group_round(p, label[p], [(c, label[c]) for c in ch])[0] for key, (p, ch) in groups.items()}
    per_round = [len(changes)]
    frontier = {n: (m, label[n]) for n, m in changes.items()}
    label.update(changes)
    state: dict = {}

    def active_groups(frontier):
        for key in sorted({k for n in frontier for k in member_of.get(n, ())}):
            parent, children = groups[key]
            changed = {n: frontier[n] for n in (parent, *children) if n in frontier}
            if key in state:
                floor = state[key]
            elif round_no == 2:
                floor = floors[key]
            else:
                floor = next(iter(changed.values()))[1]
            yield key, parent, children, changed, floor

    round_no = 1
    for round_no in range(2, max_rounds + 1):
        best: dict = {}
        new_state = {}
        for key, parent, children, changed, floor in active_groups(frontier):
            m, lowered = frontier_group(parent, children, changed, floor)
            if m < floor:
                new_state[key] = m
            for node, lab, old in lowered:
                if node not in best or lab < best[node][0]:
                    best[node] = (lab, old)
        state = new_state
        frontier = {n: v for n, v in best.items() if v[0] < v[1]}
        per_round.append(len(frontier))
        label.update({n: v[0] for n, v in frontier.items()})
    round_no = max_rounds + 1
    acc = ResidualUnionFind(max_nodes)
    for _key, _parent, _children, changed, floor in active_groups(frontier):
        for a, b in residual_pairs(changed, floor):
            acc.add(a, b)
    mapping = acc.mapping()
    finished = 0
    for n, lab in label.items():
        if lab in mapping:
            label[n] = mapping[lab]
            finished += 1
    return label, per_round, finished
