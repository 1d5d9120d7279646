"""dedup: near-duplicate removal across snapshots with MinHash-LSH, as a Beam PTransform.

    res = docs | "dedup" >> Dedup(cfg.dedup)      # every setting from a DedupConfig
    res.docs      # surviving Docs, doc.cluster_size / doc.cluster_id set
    res.stats     # ((snapshot, "dedup", outcome, reason), (docs, chars, bytes))
    res.details   # ((snapshot, "dedup", kind, name), (docs, chars, bytes))

The graph (no step gathers all documents, signatures, edges or one hot group on one worker —
the exact finish gathers only what the rounds left, at most ``finish_max_nodes`` ids;
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
4. ``components`` (:mod:`.dedup_components`): the exact connected components of the (distinct)
   star edges.  Round 1 propagates labels over every group (joins by child and by parent, hub
   parents split the same way); rounds 2 … ``max_rounds`` take only the nodes whose label
   changed in the previous round (a frontier: nothing is shuffled once labels settle); what is
   still changing after them is finished exactly by union-find on one worker (at most
   ``finish_max_nodes`` ids).  Labels changed per round are counted (details kind ``rounds``),
   those the finish changed as kind ``exact_finish``.
5. Survivors: a node whose final label is itself; cluster sizes are a count combiner per label.
6. ``decide``: the documents are joined back to their decision by node id, with statistics.

The joins carry typed messages (:mod:`.dedup_messages`) with a compact coder.

The hot-key sets, the components, the band index and the messages live in ``dedup_hot``,
``dedup_components``, ``dedup_index`` and ``dedup_messages``.

Incremental mode: ``against_index`` reads band entries of already-published survivors (tier
``0x00`` node ids, which win every cluster they join: old output is never touched) and
``write_index`` writes this run's survivors (plus the old entries, when written elsewhere) as
a Parquet band index carrying the signature spec (:mod:`.dedup_index`).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.pvalue import AsSingleton, TaggedOutput

from jawebcorpus.corpus.record import Doc
from jawebcorpus.dedup.cluster import (
    HotKeys, KeepPolicy, group_add, group_edges, group_merge, is_published, published_id, size_bucket, snapshot_of,
    sub_key, sub_keys,
)
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.dedup.lsh import band_keys
from jawebcorpus.dedup.minhash import SignatureSpec, signatures

from . import storage
from .dedup_components import DETAILS, STAGE, STATS, BandMsg, CountingFn, NodeMsg, label_components, windowed
from .dedup_hot import HotKeySet
from .dedup_index import (
    INDEX_SCHEMA_VERSION, WriteIndex, check_index_spec, index_files, read_index_file, read_index_spec,
)
from .dedup_messages import ClusterSize, DocEntry, DropFor, GroupMin, Member

__all__ = ["Dedup", "DedupResult", "Dropped", "STAGE", "read_index_spec", "check_index_spec", "index_files",
           "INDEX_SCHEMA_VERSION"]


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
def _quality_of(doc: Doc, quality: str) -> float:
    v = doc.signals.get(quality)
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
        yield from self._flush(windowed)

    def _flush(self, wrap):
        if not self.buffer:
            return
        batch, self.buffer = self.buffer, []
        # band keys as signed 64-bit integers: Beam's coders encode those compactly (varint)
        keys = band_keys(signatures([t for _, _, t in batch], self.spec), self.spec).view(np.int64)
        for (node, doc, text), row in zip(batch, keys):
            raw = row.tobytes()
            if not self.carry_text:  # the decision join then shuffles no text nor signals (see Dedup)
                doc = dataclasses.replace(doc, text=None, html=None, body=None, text_chars=len(text), signals={})
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


class _GroupOutputsFn(CountingFn):
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


# -- 6. decisions --------------------------------------------------------------------------------
class _DecideFn(CountingFn):
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
      config: every ``dedup.*`` setting (:class:`~jawebcorpus.dedup.config.DedupConfig`, default
        its defaults; validated here): the signature spec, the survivor policy
        (``tie_break``), ``max_rounds`` (rounds after the labels settle cost nearly nothing, what
        still changes after the last one is finished exactly), ``finish_max_nodes`` (past it the
        run stops with a one-line :class:`~jawebcorpus.corpus.errors.LimitError`), the hot-group
        bounds (``group_cap``, ``hot_salts``, ``bloom_log2_bits``, ``bloom_max_log2_bits``),
        ``batch_size`` and the index file sizes (``index_shards``, ``index_rows_per_shard``).
      quality: for ``tie_break == "quality"``: the signal column (``doc.signals``) that ranks copies.
      against_index: a band index (directory of Parquet files) of already-published survivors.
      write_index: directory to write this run's band index to (survivors; plus the entries of
        ``against_index`` when it is another directory, so the result is the extended index).
      index_tag: part-file name tag (default: random, so appending to a directory never clashes).
      carry_text: False: the survivors come out without their text and signals (only
        ``doc.text_chars``), so the decision join shuffles no text; the caller joins the text back
        from where it is stored (the pipeline's per-file checkpoints).
      spread: False where there is one worker: the index files are not spread over workers.
      one_worker: True only on a runner with one worker that holds every collection in memory
        (Beam's local runner with one worker): the label-propagation rounds and the finish run in
        one step (``dedup_components._RoundsInOneStepFn``), with the same results, instead of
        unrolled joins; never on a distributed runner.
    """

    def __init__(self, config: DedupConfig | None = None, *, quality: str = "quality_score",
                 against_index: str | None = None, write_index: str | None = None, index_tag: str | None = None,
                 label: str | None = None, carry_text: bool = True, spread: bool = True, one_worker: bool = False):
        super().__init__(label)
        self.config = (config or DedupConfig()).validate()
        self.one_worker = one_worker
        self.carry_text = carry_text
        self.spread = spread  # False: one worker, no Reshuffle of the index files
        self.spec = self.config.spec()
        self.policy = self.config.policy()
        self.quality = quality
        self.against_index = against_index
        self.write_index = write_index
        self.index_tag = index_tag or uuid.uuid4().hex[:12]
        self.against_files: list[str] = []
        if against_index:
            # refuse a different spec before any work (the CLI checked every part already)
            check_index_spec(against_index, self.spec, every_part=False)
            self.against_files = index_files(against_index)

    def _hot_key_set(self, name: str):
        c = self.config
        return name >> HotKeySet(c.group_cap, c.hot_salts, c.bloom_log2_bits, c.bloom_max_log2_bits, self.one_worker)

    def expand(self, docs):
        c = self.config
        spec, cap, salts = self.spec, c.group_cap, c.hot_salts
        prep = docs | "prepare" >> beam.ParDo(
            _PrepareFn(spec, self.policy, self.quality, c.batch_size, bool(self.write_index), self.carry_text)
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

        # 4. connected components: frontier rounds, then the exact finish (dedup_components)
        labels, round_details = label_components(
            edges, cap=cap, salts=salts, max_rounds=c.max_rounds, key_set=self._hot_key_set,
            finish_max_nodes=c.finish_max_nodes, frontier_log2_bits=c.bloom_max_log2_bits,
            one_worker=self.one_worker)

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
                                                   c.index_shards, c.index_rows_per_shard)

        return DedupResult(decided.docs, decided[STATS], details, decided[_DecideFn.DROPPED])
