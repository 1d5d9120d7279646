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
filter and the split levels of hot keys (:class:`HotKeys`), size buckets, and an in-memory union-find
(the exact finish of :mod:`.components`; the tests' reference).
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
    "published_id", "unpublished_id", "id_hash64", "id_key64", "salt_of", "group_add", "group_merge",
    "group_edges", "BloomFilter", "size_bucket", "SIZE_BUCKETS", "UnionFind", "reference_clusters",
    "propagate_labels", "initial_labels", "child_messages", "parent_group_messages", "hot_level",
    "split_of", "sub_keys", "sub_key", "bloom_log2_for", "HotKeys", "MAX_SPLIT", "BLOOM_BITS_PER_KEY",
    "BLOOM_SHARD_LOG2",
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


def id_key64(node: bytes) -> int:
    """The same 64 bits as a *signed* integer: the key of a node in a :class:`HotKeys` set (Beam
    encodes a signed 64-bit integer as a varint; a larger one it would pickle)."""
    return int.from_bytes(node[-8:], "big", signed=True)


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
    """Merge accumulators one at a time (a stream: the accumulators of a band key shared by
    millions of documents, one per bundle, are never held together), keeping the ``cap``
    smallest distinct ids."""
    count = 0
    merged: list[bytes] = []
    for c, ids in accs:
        count += c
        if not ids:
            continue
        if not merged:
            merged = list(ids[:cap])
            continue
        if ids[0] >= merged[-1] and len(merged) >= cap:
            continue  # nothing in ids can enter the cap smallest
        out: list[bytes] = []
        for node in heapq.merge(merged, ids):
            if not out or out[-1] != node:
                out.append(node)
                if len(out) >= cap:
                    break
        merged = out
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
                          children: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[bytes, bytes]]:
    """Join by parent: the group (parent + its children, with their labels) takes its minimum
    label; yields (node, new label) for every member whose label that lowers.

    ``children`` is read twice (a ``GroupByKey`` value iterable may be re-read; nothing of
    the group is held in memory), so it must be re-iterable: a list, or Beam's iterable."""
    m = parent if label is None else label
    seen = False
    for _, cl in children:
        seen = True
        if cl < m:
            m = cl
    if not seen:
        return
    if label is None or m < label:
        yield parent, m
    for c, cl in children:
        if m < cl:
            yield c, m


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
            keys = np.atleast_1d(keys).tolist()
        elif isinstance(keys, (int, np.integer)):
            keys = [keys]
        # Python ints one by one: a list mixing values over 2**63 with smaller ones would become
        # a float64 array in NumPy (and lose the low bits).
        return np.fromiter((int(k) & 0xFFFFFFFFFFFFFFFF for k in keys), dtype=np.uint64)

    @classmethod
    def positions_for(cls, keys, log2_bits: int, k: int = 3) -> np.ndarray:
        """Bit positions ``(len(keys), k)`` of ``keys`` in a filter of ``2**log2_bits`` bits
        (without allocating one)."""
        h = fmix64(cls.as_u64(keys))
        h1 = h & np.uint64(0xFFFFFFFF)
        h2 = (h >> np.uint64(32)) | np.uint64(1)
        mask = np.uint64((1 << log2_bits) - 1)
        return np.stack([(h1 + np.uint64(i) * h2) & mask for i in range(k)], axis=-1)

    def _positions(self, keys: np.ndarray) -> np.ndarray:
        return self.positions_for(keys, self.log2_bits, self.k)

    def add(self, keys) -> "BloomFilter":
        keys = self.as_u64(keys)
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

    @classmethod
    def from_shards(cls, log2_bits: int, shards: dict, shard_log2: int, k: int = 3) -> "BloomFilter":
        """A filter assembled from shards ``{index: uint64 words of 2**shard_log2 bits}`` (missing
        shards are empty)."""
        bf = cls(log2_bits, k)
        step = 1 << max(0, min(shard_log2, log2_bits) - 6)
        for idx, words in shards.items():
            bf.words[idx * step: (idx + 1) * step] |= words
        return bf

    def merge(self, other: "BloomFilter") -> "BloomFilter":
        if (other.log2_bits, other.k) != (self.log2_bits, self.k):
            raise ValueError("cannot merge Bloom filters of different shapes")
        self.words |= other.words
        return self

    def fill_ratio(self) -> float:
        return float(np.unpackbits(self.words.view(np.uint8)).mean())

    def __reduce__(self):
        return (BloomFilter, (self.log2_bits, self.k, self.words))


# -- hot keys: which groups are too big for one worker, and how far to split them ---------------
#: No group is split over more sub-keys than this.
MAX_SPLIT = 1 << 24
#: Bits per level-1 hot key of a Bloom filter sized from the input (rounded up to a power of
#: two: 16–32 bits, a false-positive rate of 0.5 % or less with 3 probes).
BLOOM_BITS_PER_KEY = 16
#: Bloom filters are built in shards of this many bits (1 MiB), one combiner key each.
BLOOM_SHARD_LOG2 = 23


def hot_level(count: int, cap: int, salts: int) -> int:
    """How far a group of ``count`` members is split: 0 (not at all) up to ``cap`` members, else
    the smallest level ``l`` ≥ 1 with ``count ≤ cap · salts**l`` — a group at level ``l`` is
    spread over ``salts**l`` sub-keys, ≈ ``cap`` members each, whatever its size (up to
    :data:`MAX_SPLIT` sub-keys)."""
    if count <= cap:
        return 0
    if salts < 2:
        return 1
    level, split = 1, salts
    while count > cap * split and split * salts <= MAX_SPLIT:
        level += 1
        split *= salts
    return level


def split_of(level: int, salts: int) -> int:
    """Sub-keys of a group at ``level``."""
    return salts ** level if level > 0 else 1


def sub_keys(level: int, salts: int) -> range | list[int]:
    """Every sub-key of a group at ``level`` (the level in bits 32 and up, the salt below)."""
    if level <= 0:
        return [0]
    base = level << 32
    return range(base, base + split_of(level, salts))


def sub_key(node: bytes, level: int, salts: int) -> int:
    """The sub-key a member ``node`` of a group at ``level`` goes to (one of :func:`sub_keys`)."""
    if level <= 0:
        return 0
    return (level << 32) | ((id_hash64(node) >> 7) % split_of(level, salts))


def bloom_log2_for(n: int, max_log2: int, bits_per_key: int = BLOOM_BITS_PER_KEY, min_log2: int = 10) -> int:
    """The size (log2 of bits) of a Bloom filter for ``n`` keys: ``bits_per_key`` per key, rounded
    up to a power of two, between ``2**min_log2`` and ``2**max_log2`` bits."""
    need = max(int(n), 1) * bits_per_key
    return max(min_log2, min(max_log2, (need - 1).bit_length()))


class HotKeys:
    """The hot keys of one kind (band keys, or parents with many children) as a side input.

    Level-1 keys (groups of ``cap`` to ``cap · salts`` members: nearly all hot keys) are in a
    Bloom filter sized from their number; keys of level 2 and up (groups over ``cap · salts``
    members: at most 1/(``cap · salts``) of the entries) are in an exact sorted array with their
    level.  :meth:`level` is a pure function of this object, so both sides of a salted join,
    asking it about the same key, always agree; a Bloom false positive makes a key that is not
    hot level 1 (a little extra work, never a wrong result).
    """

    __slots__ = ("bloom", "high_keys", "high_levels")

    def __init__(self, bloom: "BloomFilter | None" = None, high_keys: np.ndarray | None = None,
                 high_levels: np.ndarray | None = None):
        self.bloom = bloom if bloom is not None else BloomFilter(6)
        self.high_keys = high_keys if high_keys is not None else np.zeros(0, dtype=np.uint64)
        self.high_levels = high_levels if high_levels is not None else np.zeros(0, dtype=np.uint8)

    @classmethod
    def build(cls, bloom: "BloomFilter", high: Iterable[tuple[int, int]]) -> "HotKeys":
        pairs = sorted({int(k) & 0xFFFFFFFFFFFFFFFF: int(lv) for k, lv in high}.items())
        keys = np.array([k for k, _ in pairs], dtype=np.uint64)
        levels = np.array([lv for _, lv in pairs], dtype=np.uint8)
        return cls(bloom, keys, levels)

    def level(self, key: int) -> int:
        """0 (not hot), 1, or the exact level of a key of level 2 and up."""
        if self.high_keys.size:
            u = np.uint64(int(key) & 0xFFFFFFFFFFFFFFFF)
            i = int(np.searchsorted(self.high_keys, u))
            if i < self.high_keys.size and self.high_keys[i] == u:
                return int(self.high_levels[i])
        return 1 if key in self.bloom else 0

    def levels_many(self, keys) -> np.ndarray:
        """:meth:`level` of many keys at once (int64 array)."""
        u = BloomFilter.as_u64(keys)
        out = self.bloom.contains_many(u).astype(np.int64)
        if self.high_keys.size and u.size:
            i = np.minimum(np.searchsorted(self.high_keys, u), self.high_keys.size - 1)
            hit = self.high_keys[i] == u
            out[hit] = self.high_levels[i[hit]]
        return out

    @property
    def nbytes(self) -> int:
        return int(self.bloom.words.nbytes + self.high_keys.nbytes + self.high_levels.nbytes)

    def __reduce__(self):
        return (HotKeys, (self.bloom, self.high_keys, self.high_levels))


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
    edges = set(edges)
    label = initial_labels(edges)
    parents_of: dict = {}
    for c, p in edges:
        parents_of.setdefault(c, []).append(p)
    changed = []
    for _ in range(max_rounds):
        groups: dict = {}
        for c, ps in parents_of.items():
            for p, msg in child_messages(c, label[c], ps):
                groups.setdefault(p, []).append(msg)
        new = dict(label)
        for p, children in groups.items():
            for node, m in parent_group_messages(p, label[p], children):
                if m < new[node]:
                    new[node] = m
        changed.append(sum(1 for x in label if new[x] != label[x]))
        label = new
    return label, changed
