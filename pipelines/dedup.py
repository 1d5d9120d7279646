"""dedup: near-duplicate removal across snapshots with MinHash-LSH, as a Beam PTransform.

    res = docs | "dedup" >> Dedup.from_config(cfg.dedup)      # or Dedup(spec, policy, …)
    res.docs      # surviving Docs, doc.cluster_size / doc.cluster_id set
    res.stats     # ((snapshot, "dedup", outcome, reason), (docs, chars, bytes))
    res.details   # ((snapshot, "dedup", kind, name), (docs, chars, bytes))

The graph (no step gathers all documents, signatures, edges or one hot group on one worker;
docs/dedup.md, "Bounds", lists what each step holds):

1. ``prepare``: batches of documents → signatures (``dedup/``) → node id (the survivor policy
   as a sortable byte string, :mod:`jawebcorpus.dedup.cluster`) and one band entry
   ``(band_key, node)`` per band.  The documents themselves wait, keyed by node id, for step 6.
2. ``band_groups``: ``CombinePerKey`` per band key with a bounded accumulator (member count and
   the ``group_cap`` smallest node ids).  Combiner lifting means a band key shared by millions of
   documents costs one small accumulator per bundle.  Singletons vanish; a complete group (at
   most ``group_cap`` members) yields star edges member → minimum directly.
3. ``hot_bands``: a group over the cap is *hot*.  The hot keys become a side input
   (:mod:`.dedup_hot`: a Bloom filter sized from their number, exact levels for the largest)
   that routes only their entries into a join with the group minimum, split over
   ``hot_salts**l`` sub-keys so that each sub-key holds ≈ ``group_cap`` members whatever the
   group's size.
4. ``components``: label propagation over the (distinct) star edges for ``max_rounds`` rounds.
   A round joins labels to edges by child (a child has at most ``bands`` parents), then by
   parent — split the same way for parents whose in-degree exceeds ``group_cap`` — and every
   member of a parent's group takes the group's minimum label; the new label is a ``min``
   combiner.  Labels changed per round are counted (details kind ``rounds``); changes in the
   last round are reported as kind ``not_converged`` instead of passing silently.
5. Survivors: a node whose final label is itself; cluster sizes are a count combiner per label.
6. ``decide``: the documents are joined back to their decision by node id, with statistics.

The joins carry typed messages (:mod:`.dedup_messages`) with a compact coder.

Why this module is long: the six steps are one graph and read best in one place (≈ 650 lines);
the hot-key sets, the band index and the messages live in ``dedup_hot``, ``dedup_index`` and
``dedup_messages``.

Incremental mode: ``against_index`` reads band entries of already-published survivors (tier
``0x00`` node ids, which win every cluster they join: old output is never touched) and
``write_index`` writes this run's survivors (plus the old entries, when written elsewhere) as
a Parquet band index carrying the signature spec (:mod:`.dedup_index`).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Callable, NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam import typehints as th
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsSingleton, TaggedOutput
from apache_beam.transforms.window import GlobalWindows

from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stats import StatsAccumulator
from jawebcorpus.dedup.cluster import (
    HotKeys, KeepPolicy, child_messages, group_add, group_edges, group_merge, id_key64, initial_labels, is_published,
    parent_group_messages, published_id, size_bucket, snapshot_of, sub_key, sub_keys,
)
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.dedup.lsh import band_keys
from jawebcorpus.dedup.minhash import SignatureSpec, signatures

from . import storage
from .dedup_hot import HotKeySet
from .dedup_index import (
    INDEX_SCHEMA_VERSION, WriteIndex, check_index_spec, index_files, read_index_file, read_index_spec,
)
from .dedup_messages import (
    ChildLabel, ClusterSize, DocEntry, DropFor, GroupMin, Label, Member, Msg, NewLabel, OldLabel, ParentEdge,
)

__all__ = ["Dedup", "DedupResult", "Dropped", "STAGE", "read_index_spec", "check_index_spec", "index_files",
           "INDEX_SCHEMA_VERSION"]

STAGE = "dedup"
STATS = "stats"
DETAILS = "details"

#: Element types of the joins (Beam picks :class:`~.dedup_messages.MsgCoder` from them).
NodeMsg = th.Tuple[bytes, Msg]                 # keyed by node id
BandMsg = th.Tuple[th.Tuple[int, int], Msg]    # keyed by (band key, sub-key)
ParentMsg = th.Tuple[th.Tuple[bytes, int], Msg]  # keyed by (parent, sub-key)


class Dropped(NamedTuple):
    """A document dropped as a near-duplicate, why, and the snapshot of the copy kept."""

    doc: Doc
    reason: str  # near_duplicate | indexed_duplicate
    kept_copy_in: str  # snapshot of the kept copy ("published:<snapshot>" for an indexed one)


class DedupResult(NamedTuple):
    """The outputs of :class:`Dedup` (also reachable as ``res["docs"]``, ``res["stats"]`` …)."""

    docs: beam.PCollection
    stats: beam.PCollection
    details: beam.PCollection
    #: the documents dropped as duplicates (:class:`Dropped`), e.g. for samples
    dropped: beam.PCollection | None = None

    def __getitem__(self, key):
        if isinstance(key, str):
            return getattr(self, key)
        return tuple.__getitem__(self, key)


# -- helpers -------------------------------------------------------------------------------------
def _windowed(value):
    return GlobalWindows.windowed_value(value)


class _CountingFn(beam.DoFn):
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
            yield TaggedOutput(STATS, _windowed((key, vals)))
        for key, vals in self.details.drain():
            yield TaggedOutput(DETAILS, _windowed((key, vals)))


def _quality_of(doc: Doc, quality) -> float:
    if quality is None:
        v = doc.quality_score
    elif isinstance(quality, str):
        v = (doc.quality_measures or {}).get(quality)
    else:
        v = quality(doc)
    if v is None:
        return 0.0
    try:
        return float(v)
    except (TypeError, ValueError):
        return 0.0


def _same_place(a: str, b: str) -> bool:
    return storage.same_or_inside(a, b) and storage.same_or_inside(b, a)


# -- 1. prepare ----------------------------------------------------------------------------------
class _PrepareFn(beam.DoFn):
    """Batches of documents → node ids, band entries; documents keyed by node id."""

    BANDS = "bands"
    DOC_BANDS = "doc_bands"

    def __init__(self, spec: SignatureSpec, policy: KeepPolicy, quality, batch_size: int, keep_keys: bool,
                 carry_text: bool = True):
        self.spec = spec
        self.policy = policy
        self.quality = quality
        self.batch_size = batch_size
        self.keep_keys = keep_keys
        self.carry_text = carry_text

    def start_bundle(self):
        self.buffer = []

    def process(self, doc: Doc):
        text = doc.text if doc.text is not None else (doc.html or "")
        q = _quality_of(doc, self.quality) if self.policy.tie_break == "quality" else None
        node = self.policy.node_id(doc.snapshot, doc.url, doc.warc_record_id, len(text), q)
        self.buffer.append((node, doc, text))
        if len(self.buffer) >= self.batch_size:
            yield from self._flush(lambda v: v)

    def finish_bundle(self):
        yield from self._flush(_windowed)

    def _flush(self, wrap):
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        # band keys as signed 64-bit integers: Beam's coders encode those compactly (varint)
        keys = band_keys(signatures([t for _, _, t in batch], self.spec), self.spec).view(np.int64)
        for (node, doc, text), row in zip(batch, keys):
            raw = row.tobytes()
            if not self.carry_text:  # the decision join then shuffles no text (see Dedup)
                doc = dataclasses.replace(doc, text=None, html=None, body=None, text_chars=len(text))
            for k in row.tolist():
                yield TaggedOutput(self.BANDS, wrap((k, node)))
            yield TaggedOutput(self.DOC_BANDS, wrap((node, raw)))
            yield wrap((node, DocEntry(doc, raw if self.keep_keys else None)))


# -- 2. band groups ------------------------------------------------------------------------------
class _BandGroupFn(beam.CombineFn):
    """Member count and the ``cap`` smallest node ids of a band group (bounded accumulator)."""

    def __init__(self, cap: int):
        self.cap = cap

    def create_accumulator(self):
        return (0, [])

    def add_input(self, acc, node):
        return group_add(acc, node, self.cap)

    def merge_accumulators(self, accs):
        return group_merge(accs, self.cap)

    def extract_output(self, acc):
        return acc


class _GroupOutputsFn(_CountingFn):
    """Complete groups → star edges; groups over the cap → (band_key, (count, min)) for the hot path."""

    HOT = "hot"

    def __init__(self, cap: int):
        self.cap = cap

    def process(self, item):
        key, (count, ids) = item
        if count < 2 or len(ids) < 2 and count <= self.cap:
            pass  # a singleton band: no candidate pair
        elif count <= self.cap or len(ids) < self.cap:
            self.details.add(snapshot_of(ids[0]), STAGE, "band_groups", "shared", 1, 0, 0)
            yield from group_edges(ids)
        else:
            snap = snapshot_of(ids[0])
            self.details.add(snap, STAGE, "band_groups", "hot", 1, 0, 0)
            yield TaggedOutput(self.HOT, (key, (count, ids[0])))


# -- 3. hot band groups --------------------------------------------------------------------------
def _route_hot_entries(entry, hot: HotKeys, salts: int):
    """An index entry (band_key, node) whose key may be hot → its sub-key."""
    key, node = entry
    level = hot.level(key)
    if level:
        yield (key, sub_key(node, level, salts)), Member(node)


def _route_hot_doc(item, hot: HotKeys, salts: int):
    """A document's band keys (one element per document, checked vectorised) → the entries of
    its keys that may be hot, under their sub-keys."""
    node, raw = item
    keys = np.frombuffer(raw, dtype=np.int64)
    levels = hot.levels_many(keys)
    hit = levels > 0
    if hit.any():
        for k, level in zip(keys[hit].tolist(), levels[hit].tolist()):
            yield (k, sub_key(node, level, salts)), Member(node)


def _replicate_min(item, hot: HotKeys, salts: int):
    """A hot group's minimum → every sub-key of the group (the level the members use)."""
    key, (_count, m) = item
    for sub in sub_keys(max(hot.level(key), 1), salts):
        yield (key, sub), GroupMin(m)


def _hot_edges(item):
    """One sub-key of a hot group: member → the group's minimum (two passes over the values,
    nothing held)."""
    _, values = item
    m = None
    for msg in values:
        if isinstance(msg, GroupMin):
            m = msg.node
            break
    if m is not None:
        for msg in values:
            if isinstance(msg, Member) and msg.node != m:
                yield msg.node, m


# -- 4. components -------------------------------------------------------------------------------
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
        for p, (c, lab) in child_messages(child, label, parents):
            yield (p, sub_key(c, hubs.level(id_key64(p)), self.salts)), ChildLabel(c, lab)


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


def _round_parent_side(item):
    """Join by parent: the group (parent + children) takes its minimum label."""
    (parent, _sub), values = item
    label = None
    for msg in values:
        if isinstance(msg, Label):
            label = msg.label
            break
    for node, m in parent_group_messages(parent, label, _ChildLabels(values)):
        yield node, NewLabel(m)


def _count_change(details: StatsAccumulator, node: bytes, round_no: int, last: bool) -> None:
    """A node whose label a round lowered: the round's detail row (and ``not_converged`` in the last)."""
    snap = snapshot_of(node)
    details.add(snap, STAGE, "rounds", f"round_{round_no:02d}", 1, 0, 0)
    Metrics.counter(STAGE, f"labels_changed.round_{round_no:02d}").inc()
    if last:
        details.add(snap, STAGE, "not_converged", "label_changed_in_last_round", 1, 0, 0)
        Metrics.counter(STAGE, "not_converged").inc()


class _CountChangesFn(_CountingFn):
    def __init__(self, round_no: int, last: bool):
        self.round_no = round_no
        self.last = last

    def process(self, item):
        node, (best, old) = item
        if old is not None and best < old:
            _count_change(self.details, node, self.round_no, self.last)
        yield node, best


class _RoundsInOneStepFn(_CountingFn):
    """(one local worker) Every distinct edge → every node's label after ``max_rounds`` rounds,
    with the rounds' detail rows: the rounds of the distributed graph run in one process, on the
    same keys with the same functions (:func:`child_messages` and :func:`sub_key` of the child
    side, :func:`_round_parent_side` per parent group with the parent's :class:`Label`, the
    minimum of old label and messages), so labels and counts are those of the unrolled rounds.

    Only where one worker holds every collection in memory anyway (Beam's local runner with one
    worker buffers each step's whole input): there the edges gathered into one element cost no
    more memory than the runner's own buffer, and the graph is ≈ 270 transforms smaller."""

    def __init__(self, salts: int, max_rounds: int):
        self.salts = salts
        self.max_rounds = max_rounds

    def process(self, item, hubs: HotKeys):
        _none, edges = item
        parents_of: dict[bytes, list[bytes]] = {}
        for c, p in edges:
            parents_of.setdefault(c, []).append(p)
        label = initial_labels((c, p) for c, ps in parents_of.items() for p in ps)
        levels: dict[bytes, int] = {}
        for r in range(1, self.max_rounds + 1):
            groups: dict[tuple, list] = {}
            for c, ps in parents_of.items():
                for p, (child, lab) in child_messages(c, label[c], ps):
                    lv = levels.get(p)
                    if lv is None:
                        lv = levels[p] = hubs.level(id_key64(p))
                    groups.setdefault((p, sub_key(child, lv, self.salts)), []).append(ChildLabel(child, lab))
            best: dict[bytes, bytes] = {}
            for key, children in groups.items():
                for node, msg in _round_parent_side((key, [Label(label[key[0]]), *children])):
                    if node not in best or msg.label < best[node]:
                        best[node] = msg.label
            last = r == self.max_rounds
            for node, m in best.items():
                if m < label[node]:
                    label[node] = m
                    _count_change(self.details, node, r, last)
        yield from label.items()


# -- 6. decisions --------------------------------------------------------------------------------
class _DecideFn(_CountingFn):
    """Documents joined with their decision: survivors go on; statistics for every document."""

    INDEX = "index"
    DROPPED = "dropped"

    def __init__(self, spec: SignatureSpec, write_index: bool):
        self.spec = spec
        self.write_index = write_index

    def process(self, item):
        node, values = item
        docs = []
        dropped_for = None
        size = None
        for msg in values:  # the copies of one record (normally one), a decision, a size
            if isinstance(msg, DocEntry):
                docs.append(msg)
            elif isinstance(msg, DropFor):
                dropped_for = msg.survivor if dropped_for is None else min(dropped_for, msg.survivor)
            elif isinstance(msg, ClusterSize):
                size = msg.size
        # no document: a published (indexed) node, or a label without a document here
        docs.sort(key=lambda entry: entry.doc.sort_key)
        for i, (doc, keys) in enumerate(docs):
            if doc.text is None and doc.text_chars is not None:
                chars = doc.text_chars
            else:
                chars = len(doc.text if doc.text is not None else (doc.html or ""))
            nbytes = doc.payload_bytes
            snap = doc.snapshot
            if dropped_for is not None or i > 0:
                target = dropped_for if dropped_for is not None else node
                reason = "indexed_duplicate" if is_published(target) else "near_duplicate"
                self.stats.add(snap, STAGE, "dropped", reason, 1, chars, nbytes)
                where = ("published:" if is_published(target) else "") + snapshot_of(target)
                self.details.add(snap, STAGE, "kept_copy_in", where, 1, chars, nbytes)
                yield TaggedOutput(self.DROPPED, Dropped(doc, reason, where))
                continue
            n = (size if size is not None else 1) + len(docs) - 1
            reason = "survivor" if n > 1 else "unique"
            self.stats.add(snap, STAGE, "kept", reason, 1, chars, nbytes)
            bucket = size_bucket(n)
            self.details.add(snap, STAGE, "cluster_size", bucket, 1, chars, nbytes)
            self.details.add(snap, STAGE, "cluster_docs", bucket, n, 0, 0)
            doc.cluster_size = n
            doc.cluster_id = node.hex()
            if self.write_index and keys is not None:
                row = np.frombuffer(keys, dtype=np.int64)
                for band, k in enumerate(row.tolist()):
                    yield TaggedOutput(self.INDEX, (k, band, node, snap))
            yield doc


# -- the transform ------------------------------------------------------------------------------
class Dedup(beam.PTransform):
    """Near-duplicate removal across snapshots (see the module docstring).

    Args:
      spec: the signature specification (default: 5-gram shingles, 800 permutations, 40 × 20).
      policy: which copy survives (default: newest snapshot, then longer text, then stable id).
      quality: for ``policy.tie_break == "quality"``: a callable ``Doc -> float``, or the name of a
        quality measure (``doc.quality_measures``); default ``doc.quality_score``.
      max_rounds: label-propagation rounds (the bound; a run that needs more says so in details).
      group_cap: band groups (and parents) with more members than this are hot (split).
      hot_salts: a hot group is split over ``hot_salts**l`` sub-keys (``l`` from its size).
      bloom_log2_bits: size of the hot-key Bloom filters (2**n bits); 0: from the number of hot
        keys, at most ``2**bloom_max_log2_bits``.
      batch_size: documents per signature batch.
      against_index: a band index (directory of Parquet files) of already-published survivors.
      write_index: directory to write this run's band index to (survivors; plus the entries of
        ``against_index`` when it is another directory, so the result is the extended index).
      index_shards: Parquet files the index is written as; 0: ``ceil(rows / index_rows_per_shard)``.
      index_tag: part-file name tag (default: random, so appending to a directory never clashes).
      carry_text: False: the survivors come out without their text (only ``doc.text_chars``), so
        the decision join shuffles no text; the caller joins the text back from where it is
        stored (the pipeline's per-file checkpoints).
      spread: False where there is one worker: the index files are not spread over workers.
      one_worker: True only on a runner with one worker that holds every collection in memory
        (Beam's local runner with one worker): the label-propagation rounds run in one step
        (:class:`_RoundsInOneStepFn`), with the same results, instead of ``max_rounds`` unrolled
        joins; never on a distributed runner.

    ``Dedup.from_config(cfg.dedup, …)`` takes every setting from a :class:`DedupConfig`.
    """

    def __init__(self, spec: SignatureSpec | None = None, policy: KeepPolicy | None = None, *,
                 quality: Callable[[Doc], float] | str | None = None, max_rounds: int = 10,
                 group_cap: int = 64, hot_salts: int = 64, bloom_log2_bits: int = 0, bloom_max_log2_bits: int = 30,
                 batch_size: int = 256, against_index: str | None = None, write_index: str | None = None,
                 index_shards: int = 0, index_rows_per_shard: int = 4_000_000, index_tag: str | None = None,
                 label: str | None = None, carry_text: bool = True, spread: bool = True,
                 one_worker: bool = False):
        super().__init__(label)
        self.one_worker = one_worker
        self.carry_text = carry_text
        self.spread = spread  # False: one worker, no Reshuffle of the index files
        self.spec = spec or SignatureSpec()
        self.policy = policy or KeepPolicy()
        if not isinstance(self.spec, SignatureSpec):
            raise TypeError("spec must be a SignatureSpec")
        if not isinstance(self.policy, KeepPolicy):
            raise TypeError("policy must be a KeepPolicy")
        if (max_rounds < 1 or group_cap < 2 or hot_salts < 1 or batch_size < 1 or index_shards < 0
                or index_rows_per_shard < 1):
            raise ValueError("max_rounds ≥ 1, group_cap ≥ 2, hot_salts ≥ 1, batch_size ≥ 1, index_shards ≥ 0, "
                             "index_rows_per_shard ≥ 1")
        if bloom_log2_bits and not 10 <= bloom_log2_bits <= 34 or not 10 <= bloom_max_log2_bits <= 34:
            raise ValueError("bloom_log2_bits is 0 or in [10, 34]; bloom_max_log2_bits in [10, 34]")
        self.quality = quality
        self.max_rounds = max_rounds
        self.group_cap = group_cap
        self.hot_salts = hot_salts
        self.bloom_log2_bits = bloom_log2_bits
        self.bloom_max_log2_bits = bloom_max_log2_bits
        self.batch_size = batch_size
        self.against_index = against_index
        self.write_index = write_index
        self.index_shards = index_shards
        self.index_rows_per_shard = index_rows_per_shard
        self.index_tag = index_tag or uuid.uuid4().hex[:12]
        self.against_files: list[str] = []
        if against_index:
            # refuse a different spec before any work (the CLI checked every part already)
            check_index_spec(against_index, self.spec, every_part=False)
            self.against_files = index_files(against_index)

    @classmethod
    def from_config(cls, cfg: DedupConfig, **kwargs) -> "Dedup":
        """The stage with every ``dedup.*`` setting of ``cfg``; ``kwargs`` adds the rest
        (``against_index``, ``write_index``, ``carry_text``, ``quality``, ``index_tag``, ``label``)."""
        return cls(**cfg.transform_args(), **kwargs)

    def _hot_key_set(self, name: str):
        return name >> HotKeySet(self.group_cap, self.hot_salts, self.bloom_log2_bits, self.bloom_max_log2_bits,
                                 self.one_worker)

    def expand(self, docs):
        spec, cap, salts = self.spec, self.group_cap, self.hot_salts
        prep = docs | "prepare" >> beam.ParDo(
            _PrepareFn(spec, self.policy, self.quality, self.batch_size, bool(self.write_index), self.carry_text)
        ).with_output_types(NodeMsg).with_outputs(_PrepareFn.BANDS, _PrepareFn.DOC_BANDS, main="keyed")
        keyed, bands, doc_bands = prep.keyed, prep[_PrepareFn.BANDS], prep[_PrepareFn.DOC_BANDS]

        p = docs.pipeline
        old_rows = indexed = None
        if self.against_files:
            old_rows = (
                p
                | "index_files" >> beam.Create(self.against_files, reshuffle=self.spread)
                | "read_index" >> beam.FlatMap(read_index_file, spec)
            )
            indexed = old_rows | "published_entries" >> beam.Map(lambda r: (r[0], published_id(r[2])))
            bands = (bands, indexed) | "with_index" >> beam.Flatten()

        # 2. band groups (combiner: hot keys are cheap), small groups → star edges
        groups = (
            bands
            | "band_groups" >> beam.CombinePerKey(_BandGroupFn(cap))
            | "group_edges" >> beam.ParDo(_GroupOutputsFn(cap)).with_outputs(_GroupOutputsFn.HOT, DETAILS, main="edges")
        )
        hot = groups[_GroupOutputsFn.HOT]
        # 3. hot groups: their members joined with the replicated minimum, split by size
        hot_keys = AsSingleton(
            hot | "hot_band_counts" >> beam.Map(lambda kv: (kv[0], kv[1][0])) | self._hot_key_set("hot_band_keys"))
        hot_members = doc_bands | "route_hot_members" >> beam.FlatMap(
            _route_hot_doc, hot_keys, salts).with_output_types(BandMsg)
        if indexed is not None:
            hot_indexed = indexed | "route_hot_indexed" >> beam.FlatMap(
                _route_hot_entries, hot_keys, salts).with_output_types(BandMsg)
            hot_members = (hot_members, hot_indexed) | "hot_members" >> beam.Flatten()
        hot_mins = hot | "replicate_hot_min" >> beam.FlatMap(_replicate_min, hot_keys, salts).with_output_types(BandMsg)
        hot_edges = (
            (hot_members, hot_mins)
            | "flatten_hot" >> beam.Flatten()
            | "group_hot" >> beam.GroupByKey()
            | "hot_edges" >> beam.FlatMap(_hot_edges)
        )
        edges = (
            (groups.edges, hot_edges)
            | "all_edges" >> beam.Flatten()
            | "distinct_edges" >> beam.Distinct()
        )

        # 4. connected components: bounded label propagation
        node_state = (
            edges
            | "edge_ends" >> beam.FlatMap(lambda e: [(e[0], (e[1], 0)), (e[1], (e[1], 1))])
            | "initial_labels" >> beam.CombinePerKey(_InitialStateFn())
        )
        hubs = AsSingleton(
            node_state
            | "hub_degrees" >> beam.FlatMap(lambda kv: [(id_key64(kv[0]), kv[1][1])] if kv[1][1] > cap else [])
            | self._hot_key_set("hub_keys"))
        if self.one_worker:  # the rounds in one step (see _RoundsInOneStepFn): the same labels and counts
            rounds = (
                edges
                | "key_edges" >> beam.Map(lambda e: (None, e))
                | "gather_edges" >> beam.GroupByKey()
                | "rounds" >> beam.ParDo(_RoundsInOneStepFn(salts, self.max_rounds), hubs).with_outputs(
                    DETAILS, main="labels")
            )
            labels = rounds.labels
            round_details = [rounds[DETAILS]]
        else:
            labels = node_state | "labels_0" >> beam.Map(lambda kv: (kv[0], kv[1][0]))
            edges_by_child = edges | "edges_by_child" >> beam.Map(
                lambda e: (e[0], ParentEdge(e[1]))).with_output_types(NodeMsg)
            round_details = []
            for r in range(1, self.max_rounds + 1):
                tag = f"round_{r:02d}"
                child_side = (
                    (edges_by_child,
                     labels | f"{tag}_tag_labels" >> beam.Map(lambda kv: (kv[0], Label(kv[1]))).with_output_types(NodeMsg))
                    | f"{tag}_flatten_child" >> beam.Flatten()
                    | f"{tag}_group_child" >> beam.GroupByKey()
                    | f"{tag}_child_side" >> beam.ParDo(_RoundChildSideFn(salts), hubs).with_output_types(ParentMsg)
                )
                parent_labels = labels | f"{tag}_route_labels" >> beam.FlatMap(
                    _route_labels, hubs, salts).with_output_types(ParentMsg)
                messages = (
                    (child_side, parent_labels)
                    | f"{tag}_flatten_parent" >> beam.Flatten()
                    | f"{tag}_group_parent" >> beam.GroupByKey()
                    | f"{tag}_parent_side" >> beam.FlatMap(_round_parent_side).with_output_types(NodeMsg)
                )
                updated = (
                    (labels | f"{tag}_old" >> beam.Map(lambda kv: (kv[0], OldLabel(kv[1]))).with_output_types(NodeMsg),
                     messages)
                    | f"{tag}_flatten_update" >> beam.Flatten()
                    | f"{tag}_update" >> beam.CombinePerKey(_LabelUpdateFn())
                    | f"{tag}_count" >> beam.ParDo(_CountChangesFn(r, r == self.max_rounds)).with_outputs(DETAILS, main="labels")
                )
                labels = updated.labels
                round_details.append(updated[DETAILS])

        # 5. survivors and cluster sizes
        sizes = (
            labels
            | "label_members" >> beam.Map(lambda kv: (kv[1], 1))
            | "cluster_sizes" >> beam.CombinePerKey(sum)
            | "tag_sizes" >> beam.Map(lambda kv: (kv[0], ClusterSize(kv[1]))).with_output_types(NodeMsg)
        )
        drops = labels | "drops" >> beam.FlatMap(
            lambda kv: [(kv[0], DropFor(kv[1]))] if kv[1] != kv[0] else []).with_output_types(NodeMsg)

        # 6. decisions joined back to the documents by node id
        decided = (
            (keyed, sizes, drops)
            | "flatten_decisions" >> beam.Flatten()
            | "join_decisions" >> beam.GroupByKey()
            | "decide" >> beam.ParDo(_DecideFn(spec, bool(self.write_index))).with_outputs(
                STATS, DETAILS, _DecideFn.INDEX, _DecideFn.DROPPED, main="docs")
        )
        details = (
            [groups[DETAILS], decided[DETAILS]] + round_details
        ) | "flatten_details" >> beam.Flatten()

        if self.write_index:
            rows = decided[_DecideFn.INDEX]
            same = self.against_index and _same_place(self.against_index, self.write_index)
            if old_rows is not None and not same:
                rows = (rows, old_rows | "old_rows" >> beam.Map(lambda r: (r[0], r[1], r[2], r[3]))) \
                    | "extend_index" >> beam.Flatten()
            _ = rows | "write_index" >> WriteIndex(self.write_index, self.index_tag, spec, self.policy,
                                                   self.index_shards, self.index_rows_per_shard)

        return DedupResult(decided.docs, decided[STATS], details, decided[_DecideFn.DROPPED])
