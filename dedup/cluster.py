"""The pure logic of near-duplicate clustering that the Beam stage calls (no Beam here).

**Node ids are the survivor policy.**  Every document gets a node id, a short byte string whose
byte order *is* the keep order of :class:`KeepPolicy`: the smallest node id of a cluster is the
document that survives.  So "minimum of a band group", "minimum label of a component" and
"survivor" are one and the same comparison, which is what lets the Beam stage find survivors
with ``min`` combiners only.  Layout (big-endian, compared as bytes)::

    tier (1 byte)  0x00 published (from an index of an earlier run; always wins)
                   0x01 a Common Crawl snapshot CC-MAIN-YYYY-WW
                   0x02 any other snapshot name
    snapshot rank  tier 0x01: 2 bytes, 0xFFFF − ((YYYY − 1900) · 64 + WW): newest first
                   tier 0x02: the name's UTF-8 bytes complemented (255 − b), then 0xFF:
                              descending name order, after every CC snapshot
                   tier 0x00: followed by the published document's own node id
    tie-break      "longer": 4 bytes, 0xFFFFFFFF − len(text): longer first
                   "quality": 8 bytes, the float's order-preserving bits, complemented: higher first
                   "none": nothing
    stable id      8 bytes: sha1(snapshot "\\n" url "\\n" WARC-Record-ID)[:8]

Also here: the capped band-group accumulator (count + the K smallest ids), star edges, a Bloom
filter of hot keys, size buckets, and an in-memory union-find reference used by the tests.
"""

from __future__ import annotations

import hashlib
import heapq
import re
import struct
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from .shingle import _fmix64_int, fmix64

__all__ = [
    "KeepPolicy", "TIE_BREAKS", "stable_id", "snapshot_rank", "snapshot_of", "is_published",
    "published_id", "unpublished_id", "id_hash64", "salt_of", "group_add", "group_merge",
    "group_edges", "BloomFilter", "size_bucket", "SIZE_BUCKETS", "UnionFind", "reference_clusters",
    "propagate_labels", "initial_labels", "child_messages", "parent_group_messages", "label_rounds",
]

TIE_BREAKS = ("longer", "quality", "none")
CC_SNAPSHOT_RE = re.compile(r"^CC-MAIN-(\d{4})-(\d{2})$")
TIER_PUBLISHED = 0x00
TIER_CC = 0x01
TIER_OTHER = 0x02


def stable_id(snapshot: str, url: str, warc_record_id: str) -> bytes:
    return hashlib.sha1(f"{snapshot}\n{url}\n{warc_record_id}".encode("utf-8", "surrogatepass")).digest()[:8]


def snapshot_rank(snapshot: str) -> bytes:
    """Tier + rank bytes of a snapshot: smaller = newer (= preferred)."""
    m = CC_SNAPSHOT_RE.match(snapshot)
    if m and int(m.group(1)) >= 1900 and 1 <= int(m.group(2)) <= 63:
        v = (int(m.group(1)) - 1900) * 64 + int(m.group(2))
        if v <= 0xFFFF:
            return bytes([TIER_CC]) + struct.pack(">H", 0xFFFF - v)
    raw = snapshot.encode("utf-8", "surrogatepass").replace(b"\x00", b"\x01")
    return bytes([TIER_OTHER]) + bytes(255 - c for c in raw) + b"\xff"


def _decode_rank(node: bytes) -> tuple[str, int]:
    """(snapshot, index just after the rank bytes) of a tier-1/2 id."""
    tier = node[0]
    if tier == TIER_CC:
        v = 0xFFFF - struct.unpack(">H", node[1:3])[0]
        year, week = divmod(v, 64)
        return f"CC-MAIN-{year + 1900:04d}-{week:02d}", 3
    if tier == TIER_OTHER:
        end = node.index(b"\xff", 1)
        return bytes(255 - c for c in node[1:end]).decode("utf-8", "surrogatepass"), end + 1
    raise ValueError(f"not a tier-1/2 node id: {node.hex()}")


def snapshot_of(node: bytes) -> str:
    """The snapshot a node id belongs to (for a published id: the published document's)."""
    if node[0] == TIER_PUBLISHED:
        node = node[1:]
    return _decode_rank(node)[0]


def is_published(node: bytes) -> bool:
    return node[0] == TIER_PUBLISHED


def published_id(node: bytes) -> bytes:
    """The id of an indexed (published) document: sorts before every document of this run."""
    return bytes([TIER_PUBLISHED]) + node


def unpublished_id(node: bytes) -> bytes:
    return node[1:] if node[0] == TIER_PUBLISHED else node


def id_hash64(node: bytes) -> int:
    """A uniform 64-bit value of a node id (its last 8 bytes are a SHA-1 prefix)."""
    return int.from_bytes(node[-8:], "big")


def salt_of(node: bytes, salts: int) -> int:
    return (id_hash64(node) >> 7) % salts


def _quality_bits(q: float) -> int:
    """Order-preserving 64-bit image of a float (NaN sorts lowest), complemented: higher first."""
    if q != q:
        q = float("-inf")
    (u,) = struct.unpack(">Q", struct.pack(">d", float(q)))
    u = u ^ 0xFFFFFFFFFFFFFFFF if u >> 63 else u | (1 << 63)
    return 0xFFFFFFFFFFFFFFFF - u


@dataclass(frozen=True)
class KeepPolicy:
    """Which copy of a cluster survives: the newest snapshot, then ``tie_break``
    (``longer`` text, higher ``quality``, or ``none``), then the stable id."""

    tie_break: str = "longer"

    def __post_init__(self):
        if self.tie_break not in TIE_BREAKS:
            raise ValueError(f"tie_break must be one of {', '.join(TIE_BREAKS)}, not {self.tie_break!r}")

    def node_id(self, snapshot: str, url: str, warc_record_id: str, text_length: int = 0,
                quality: float | None = None) -> bytes:
        """The document's node id: comparing ids compares documents by this policy."""
        key = snapshot_rank(snapshot)
        if self.tie_break == "longer":
            key += struct.pack(">I", 0xFFFFFFFF - min(max(int(text_length), 0), 0xFFFFFFFF))
        elif self.tie_break == "quality":
            key += struct.pack(">Q", _quality_bits(0.0 if quality is None else quality))
        return key + stable_id(snapshot, url, warc_record_id)

    def sort_key(self, snapshot: str, url: str, warc_record_id: str, text_length: int = 0,
                 quality: float | None = None) -> bytes:
        """Alias of :meth:`node_id`: smaller = kept first."""
        return self.node_id(snapshot, url, warc_record_id, text_length, quality)

    def to_dict(self) -> dict:
        return {"tie_break": self.tie_break}


# -- band groups: count + the K smallest ids (bounded accumulator for a hot-key-safe combiner) ----
def group_add(acc: tuple[int, list[bytes]], node: bytes, cap: int) -> tuple[int, list[bytes]]:
    count, ids = acc
    if len(ids) < cap:
        if node not in ids:
            ids.append(node)
            ids.sort()
    elif node < ids[-1] and node not in ids:
        ids[-1] = node
        ids.sort()
    return count + 1, ids


def group_merge(accs: Iterable[tuple[int, list[bytes]]], cap: int) -> tuple[int, list[bytes]]:
    count = 0
    lists = []
    for c, ids in accs:
        count += c
        if ids:
            lists.append(ids)
    if len(lists) <= 1:
        return count, (lists[0][:cap] if lists else [])
    if sum(len(x) for x in lists) <= cap:
        return count, sorted(set().union(*lists))
    merged: list[bytes] = []
    for node in heapq.merge(*lists):
        if not merged or merged[-1] != node:
            merged.append(node)
            if len(merged) >= cap:
                break
    return count, merged


def group_edges(ids: Sequence[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Star edges (member, min) of a complete group given sorted, distinct ids."""
    if len(ids) > 1:
        m = ids[0]
        for node in ids[1:]:
            yield node, m


# -- one label-propagation round, in two joins (the Beam stage calls these) -------------------
def child_messages(child: bytes, label: bytes | None, parents: Iterable[bytes]) -> list[tuple[bytes, tuple]]:
    """Join by child: each edge (child → parent) carries the child's label to the parent."""
    lab = child if label is None else label
    return [(p, (child, lab)) for p in parents]


def parent_group_messages(parent: bytes, label: bytes | None,
                          children: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Join by parent: the group (parent + its children, with their labels) takes its minimum
    label; returns (node, new label) for every member whose label that lowers."""
    if not children:
        return []
    m = parent if label is None else label
    for _, cl in children:
        if cl < m:
            m = cl
    out = []
    if label is None or m < label:
        out.append((parent, m))
    out.extend((c, m) for c, cl in children if m < cl)
    return out


def initial_labels(edges: Iterable[tuple[bytes, bytes]]) -> dict:
    """min(node, its parents) for every node of the edges (child → parent, parent < child)."""
    label: dict = {}
    for c, p in edges:
        label[c] = min(label.get(c, c), p)
        label.setdefault(p, p)
    return label


# -- Bloom filter (fixed size: a bounded side input) ----------------------------------------------
class BloomFilter:
    """A Bloom filter over 64-bit keys (signed or unsigned: the same 64 bits are the same key):
    ``2**log2_bits`` bits, ``k`` probes (double hashing of ``fmix64(key)``).  No false negatives; false positives only cost extra work in the stage."""

    __slots__ = ("log2_bits", "k", "words")

    def __init__(self, log2_bits: int = 24, k: int = 3, words: np.ndarray | None = None):
        if not 6 <= log2_bits <= 34:
            raise ValueError("log2_bits must be in [6, 34]")
        self.log2_bits = log2_bits
        self.k = k
        self.words = words if words is not None else np.zeros(1 << (log2_bits - 6), dtype=np.uint64)

    @staticmethod
    def as_u64(keys) -> np.ndarray:
        """64-bit keys as uint64: accepts uint64/int64 arrays and Python ints (signed or not)."""
        if isinstance(keys, np.ndarray):
            if keys.dtype == np.uint64:
                return keys
            if keys.dtype == np.int64:
                return keys.view(np.uint64)
        return np.fromiter((int(k) & 0xFFFFFFFFFFFFFFFF for k in np.atleast_1d(keys).tolist()), dtype=np.uint64)

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        h = fmix64(self.as_u64(keys))
        h1 = h & np.uint64(0xFFFFFFFF)
        h2 = (h >> np.uint64(32)) | np.uint64(1)
        mask = np.uint64((1 << self.log2_bits) - 1)
        return np.stack([(h1 + np.uint64(i) * h2) & mask for i in range(self.k)], axis=-1)

    def add(self, keys) -> "BloomFilter":
        keys = self.as_u64(np.atleast_1d(keys) if not isinstance(keys, np.ndarray) else keys)
        if keys.size:
            pos = self._positions(keys).ravel()
            np.bitwise_or.at(self.words, (pos >> np.uint64(6)).astype(np.int64),
                             np.left_shift(np.uint64(1), pos & np.uint64(63)))
        return self

    def __contains__(self, key: int) -> bool:
        # Plain-integer path (the same positions as _positions): fast for one key at a time.
        words = self.words
        h = _fmix64_int(int(key))
        h1, h2 = h & 0xFFFFFFFF, (h >> 32) | 1
        mask = (1 << self.log2_bits) - 1
        for i in range(self.k):
            pos = (h1 + i * h2) & mask
            if not (int(words[pos >> 6]) >> (pos & 63)) & 1:
                return False
        return True

    def contains_many(self, keys) -> np.ndarray:
        keys = self.as_u64(keys)
        pos = self._positions(keys)
        w = self.words[(pos >> np.uint64(6)).astype(np.int64)]
        return np.all((w >> (pos & np.uint64(63))) & np.uint64(1), axis=-1)

    def merge(self, other: "BloomFilter") -> "BloomFilter":
        if (other.log2_bits, other.k) != (self.log2_bits, self.k):
            raise ValueError("cannot merge Bloom filters of different shapes")
        self.words |= other.words
        return self

    def fill_ratio(self) -> float:
        return float(np.unpackbits(self.words.view(np.uint8)).mean())

    def __reduce__(self):
        return (BloomFilter, (self.log2_bits, self.k, self.words))


# -- statistics helpers --------------------------------------------------------------------------
SIZE_BUCKETS = ("1", "2", "3-4", "5-8", "9-16", "17-32", "33-64", "65-128", "129-256", "257-1024",
                "1025-4096", "4097-16384", "16385+")


def size_bucket(n: int) -> str:
    """Cluster-size bucket label (documents in the cluster)."""
    if n <= 1:
        return "1"
    if n == 2:
        return "2"
    for label in SIZE_BUCKETS[2:-1]:
        lo, hi = (int(x) for x in label.split("-"))
        if lo <= n <= hi:
            return label
    return SIZE_BUCKETS[-1]


# -- references (tests) ----------------------------------------------------------------------------
class UnionFind:
    """In-memory union-find with path halving; the component root is its smallest element."""

    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        p = self.parent.setdefault(x, x)
        while p != x:
            gp = self.parent[p]
            self.parent[x] = gp
            x, p = p, gp
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            self.parent[rb] = ra
        return ra

    def groups(self) -> dict:
        out: dict = {}
        for x in list(self.parent):
            out.setdefault(self.find(x), []).append(x)
        return out


def reference_clusters(nodes: Sequence[bytes], keys: Sequence[Iterable[int]]) -> dict[bytes, bytes]:
    """Node → component minimum (= survivor), joining nodes that share any band key."""
    uf = UnionFind()
    first: dict[int, bytes] = {}
    for node, ks in zip(nodes, keys):
        uf.find(node)
        for k in ks:
            k = int(k)
            if k in first:
                uf.union(first[k], node)
            else:
                first[k] = node
    return {n: uf.find(n) for n in nodes}


def propagate_labels(edges: Iterable[tuple[bytes, bytes]], max_rounds: int) -> tuple[dict, list[int]]:
    """The label propagation the Beam stage runs, in memory: (labels, changed per round).

    Uses the same step functions as the stage (:func:`initial_labels`,
    :func:`child_messages`, :func:`parent_group_messages`, then a ``min``).
    """
    label, changed = label_rounds(edges, max_rounds)
    return label, [len(c) for c in changed]


def label_rounds(edges: Iterable[tuple[bytes, bytes]], max_rounds: int, salts: int = 1,
                 hub_bloom: "BloomFilter | None" = None) -> tuple[dict, list[list[bytes]]]:
    """The Beam stage's label propagation, round by round, in one process: (final labels, the
    nodes whose label changed in each round).

    The same joins as the stage's rounds with the same keys: a child's messages go to the group
    ``(parent, salt_of(child))`` when the parent is in ``hub_bloom`` (a Bloom filter of
    ``id_hash64`` of the parents with more children than the group cap, false positives
    included), else to ``(parent, 0)``; the parent's label goes to each of its groups; each group
    takes its minimum (:func:`parent_group_messages`); a node's new label is the ``min`` of its
    old label and its messages.  So labels after every round, and the nodes changed per round,
    are the stage's (used on the local runner, where every collection is in one process anyway).
    """
    edges = set(edges)
    label = initial_labels(edges)
    parents_of: dict = {}
    for c, p in edges:
        parents_of.setdefault(c, []).append(p)
    hub = {}
    if hub_bloom is not None:
        for ps in parents_of.values():
            for p in ps:
                if p not in hub:
                    hub[p] = id_hash64(p) in hub_bloom
    changed: list[list[bytes]] = []
    for _ in range(max_rounds):
        groups: dict = {}
        for c, ps in parents_of.items():
            s = salt_of(c, salts) if hub else 0
            for p, msg in child_messages(c, label[c], ps):
                groups.setdefault((p, s if hub.get(p) else 0), []).append(msg)
        new = dict(label)
        for (p, _s), children in groups.items():
            for node, m in parent_group_messages(p, label[p], children):
                if m < new[node]:
                    new[node] = m
        changed.append([x for x in label if new[x] != label[x]])
        label = new
    return label, changed
