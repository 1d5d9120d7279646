"""dedup: near-duplicate removal across snapshots with MinHash-LSH, as a Beam PTransform.

    res = docs | "dedup" >> Dedup(spec=SignatureSpec(), policy=KeepPolicy("longer"))
    res.docs      # surviving Docs, doc.cluster_size / doc.cluster_id set
    res.stats     # ((snapshot, "dedup", outcome, reason), (docs, chars, bytes))
    res.details   # ((snapshot, "dedup", kind, name), (docs, chars, bytes))

The graph (no step gathers all documents, signatures or edges on one worker):

1. ``prepare``: batches of documents → signatures (``dedup/``) → node id (the survivor policy
   as a sortable byte string, :mod:`jawebcorpus.dedup.cluster`) and one band entry
   ``(band_key, node)`` per band.  The documents themselves wait, keyed by node id, for step 6.
2. ``band_groups``: ``CombinePerKey`` per band key with a bounded accumulator (member count and
   the ``group_cap`` smallest node ids).  Combiner lifting means a band key shared by millions of
   documents costs one small accumulator per bundle.  Singletons vanish; a complete group (at
   most ``group_cap`` members) yields star edges member → minimum directly.
3. ``hot_bands``: a group over the cap is *hot*.  A fixed-size Bloom filter of hot band keys
   (side input) routes only their entries, split over ``hot_salts`` sub-keys by a hash of the
   node, into a join with the group minimum replicated to every sub-key: each worker sees
   1/``hot_salts`` of a hot group.
4. ``components``: label propagation over the (distinct) star edges for ``max_rounds`` rounds.
   A round joins labels to edges by child (a child has at most ``bands`` parents), then by
   parent — salted the same way for parents whose in-degree exceeds ``group_cap`` (a second
   Bloom filter) — and every member of a parent's group takes the group's minimum label; the new
   label is a ``min`` combiner.  Labels changed per round are counted (details kind ``rounds``);
   changes in the last round are reported as kind ``not_converged`` instead of passing silently.
5. Survivors: a node whose final label is itself; cluster sizes are a count combiner per label.
6. ``decide``: the documents are joined back to their decision by node id (the only shuffle
   of text), with statistics.

Incremental mode: ``against_index`` reads band entries of already-published survivors (tier
``0x00`` node ids, which win every cluster they join: old output is never touched) and
``write_index`` writes this run's survivors (plus the old entries, when written elsewhere) as
a Parquet band index carrying the signature spec.
"""

from __future__ import annotations

import dataclasses

import glob
import io
import json
import os
import posixpath
import uuid
from typing import Callable, NamedTuple

import apache_beam as beam
import numpy as np
from apache_beam.metrics import Metrics
from apache_beam.pvalue import AsSingleton, TaggedOutput
from apache_beam.transforms.window import GlobalWindows

from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stats import StatsAccumulator
from jawebcorpus.dedup.cluster import (
    BloomFilter, KeepPolicy, child_messages, group_add, group_edges, group_merge, id_hash64, is_published,
    label_rounds, parent_group_messages, published_id, salt_of, size_bucket, snapshot_of,
)
from jawebcorpus.dedup.lsh import band_keys
from jawebcorpus.dedup.minhash import SignatureSpec, signatures

__all__ = ["Dedup", "DedupResult", "Dropped", "STAGE", "read_index_spec", "index_files", "INDEX_SCHEMA_VERSION"]

STAGE = "dedup"
STATS = "stats"
DETAILS = "details"
INDEX_SCHEMA_VERSION = "1"
_INDEX_META_SPEC = b"jawebcorpus.dedup.spec"
_INDEX_META_FP = b"jawebcorpus.dedup.fingerprint"
_INDEX_META_POLICY = b"jawebcorpus.dedup.policy"
_INDEX_META_VERSION = b"jawebcorpus.dedup.index_version"


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
            yield wrap((node, ("doc", (doc, raw if self.keep_keys else None))))


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
    """Complete groups → star edges; groups over the cap → (band_key, min) for the hot path."""

    HOT = "hot"

    def __init__(self, cap: int):
        self.cap = cap

    def process(self, item):
        key, (count, ids) = item
        kind = _group_kind(count, ids, self.cap)
        if kind is None:
            return  # a singleton band: no candidate pair
        self.details.add(snapshot_of(ids[0]), STAGE, "band_groups", kind, 1, 0, 0)
        if kind == "shared":
            yield from group_edges(ids)
        else:
            yield TaggedOutput(self.HOT, (key, ids[0]))


def _group_kind(count: int, ids: list[bytes], cap: int) -> str | None:
    """A band group (its entries, its ``cap`` smallest distinct ids) → None (no pair), "shared"
    (complete: star edges directly) or "hot" (over the cap: the salted join)."""
    if count < 2 or len(ids) < 2 and count <= cap:
        return None
    if count <= cap or len(ids) < cap:
        return "shared"
    return "hot"


class _LocalGroupEdgesFn(_CountingFn):
    """(local runner) A whole band group → its star edges and the details :class:`_GroupOutputsFn`
    writes.  Every member goes to the group minimum, hot or not: the edges the capped combiner
    plus the hot path produce (the hot path joins every member of an over-cap group with its
    minimum), so only the way there differs."""

    def __init__(self, cap: int):
        self.cap = cap

    def process(self, item):
        _key, members = item
        members = list(members)
        distinct = sorted(set(members))
        kind = _group_kind(len(members), distinct[: self.cap], self.cap)
        if kind is None:
            return
        self.details.add(snapshot_of(distinct[0]), STAGE, "band_groups", kind, 1, 0, 0)
        yield from group_edges(distinct)


class _LocalComponentsFn(_CountingFn):
    """(local runner) Every distinct edge at once → the final label of every node, with the
    round details of :class:`_CountChangesFn`.  The rounds are :func:`label_rounds`: the
    stage's joins with the same keys (hub parents, found as ``in_degree`` → ``hot_parents`` →
    ``hot_parent_bloom`` find them, salted alike), so labels and counts are the unrolled
    rounds' own."""

    def __init__(self, max_rounds: int, cap: int, salts: int, bloom_log2_bits: int):
        self.max_rounds = max_rounds
        self.cap = cap
        self.salts = salts
        self.bloom_log2_bits = bloom_log2_bits

    def process(self, item):
        _none, edges = item
        edges = set(edges)
        in_degree: dict = {}
        for _c, p in edges:
            in_degree[p] = in_degree.get(p, 0) + 1
        bloom = BloomFilter(self.bloom_log2_bits)
        hubs = [id_hash64(p) for p, n in in_degree.items() if n > self.cap]
        if hubs:
            bloom.add(BloomFilter.as_u64(hubs))
        labels, changed = label_rounds(edges, self.max_rounds, self.salts, bloom)
        for r, nodes in enumerate(changed, 1):
            last = r == self.max_rounds
            for node in nodes:
                snap = snapshot_of(node)
                self.details.add(snap, STAGE, "rounds", f"round_{r:02d}", 1, 0, 0)
                Metrics.counter(STAGE, f"labels_changed.round_{r:02d}").inc()
                if last:
                    self.details.add(snap, STAGE, "not_converged", "label_changed_in_last_round", 1, 0, 0)
                    Metrics.counter(STAGE, "not_converged").inc()
        yield from labels.items()


class _BloomCombineFn(beam.CombineFn):
    """OR of Bloom filters over 64-bit keys (a fixed-size accumulator)."""

    def __init__(self, log2_bits: int):
        self.log2_bits = log2_bits

    def create_accumulator(self):
        return BloomFilter(self.log2_bits)

    def add_input(self, acc, key):
        return acc.add([key])

    def add_inputs(self, acc, keys):
        return acc.add(BloomFilter.as_u64(list(keys)))

    def merge_accumulators(self, accs):
        accs = iter(accs)
        first = next(accs)
        for a in accs:
            first.merge(a)
        return first

    def extract_output(self, acc):
        return acc


def _route_hot_entries(entry, bloom: BloomFilter, salts: int):
    """An index entry (band_key, node) whose key may be hot → its salted sub-key."""
    key, node = entry
    if key in bloom:
        yield (key, salt_of(node, salts)), ("n", node)


def _route_hot_doc(item, bloom: BloomFilter, salts: int):
    """A document's band keys (one element per document, checked vectorised) → the entries of
    its keys that may be hot, under their salted sub-keys."""
    node, raw = item
    keys = np.frombuffer(raw, dtype=np.int64)
    hit = bloom.contains_many(keys)
    if hit.any():
        s = salt_of(node, salts)
        for k in keys[hit].tolist():
            yield (k, s), ("n", node)


def _replicate_min(item, salts: int):
    key, m = item
    for s in range(salts):
        yield (key, s), ("m", m)


def _hot_edges(item):
    _, values = item
    m = None
    nodes = []
    for tag, v in values:
        if tag == "m":
            m = v
        else:
            nodes.append(v)
    if m is not None:
        for node in nodes:
            if node != m:
                yield node, m


class _LabelUpdateFn(beam.CombineFn):
    """Per node: (new label = min(old, messages), old label)."""

    def create_accumulator(self):
        return (None, None)

    def add_input(self, acc, value):
        tag, label = value
        best, old = acc
        if best is None or label < best:
            best = label
        if tag == "o":
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
    (salted when the parent may be a hub)."""

    def __init__(self, salts: int):
        self.salts = salts

    def process(self, item, bloom: BloomFilter):
        child, values = item
        label = None
        parents = []
        for tag, v in values:
            if tag == "l":
                label = v
            else:
                parents.append(v)
        s = salt_of(child, self.salts)
        for p, msg in child_messages(child, label, parents):
            yield (p, s if id_hash64(p) in bloom else 0), ("c", msg)


def _route_labels(item, bloom: BloomFilter, salts: int):
    node, label = item
    if id_hash64(node) in bloom:
        for s in range(salts):
            yield (node, s), ("l", label)
    else:
        yield (node, 0), ("l", label)


def _round_parent_side(item):
    """Join by parent: the group (parent + children) takes its minimum label."""
    (parent, _s), values = item
    label = None
    children = []
    for tag, v in values:
        if tag == "l":
            label = v
        else:
            children.append(v)
    return [(node, ("m", m)) for node, m in parent_group_messages(parent, label, children)]


class _CountChangesFn(_CountingFn):
    def __init__(self, round_no: int, last: bool):
        self.round_no = round_no
        self.last = last

    def process(self, item):
        node, (best, old) = item
        if old is not None and best < old:
            snap = snapshot_of(node)
            self.details.add(snap, STAGE, "rounds", f"round_{self.round_no:02d}", 1, 0, 0)
            Metrics.counter(STAGE, f"labels_changed.round_{self.round_no:02d}").inc()
            if self.last:
                self.details.add(snap, STAGE, "not_converged", "label_changed_in_last_round", 1, 0, 0)
                Metrics.counter(STAGE, "not_converged").inc()
        yield node, best


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
        for tag, v in values:
            if tag == "doc":
                docs.append(v)
            elif tag == "d":
                dropped_for = v if dropped_for is None else min(dropped_for, v)
            elif tag == "s":
                size = v
        # no document: a published (indexed) node, or a label without a document here
        docs.sort(key=lambda dk: dk[0].sort_key)
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


# -- the band index ------------------------------------------------------------------------------
def index_files(path: str) -> list[str]:
    """The Parquet part files of a band index directory (or a single file)."""
    if os.path.isfile(path):
        return [path]
    return sorted(glob.glob(os.path.join(path, "*.parquet")))


def _index_schema(spec: SignatureSpec, policy: KeepPolicy):
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("band_key", pa.int64(), metadata={"doc": "the 64-bit band key, as a signed integer"}),
            pa.field("band", pa.uint16()),
            pa.field("doc_id", pa.binary(), metadata={"doc": "node id of the published survivor"}),
            pa.field("snapshot", pa.string()),
        ],
        metadata={
            _INDEX_META_SPEC: spec.to_json().encode(),
            _INDEX_META_FP: spec.fingerprint().encode(),
            _INDEX_META_POLICY: json.dumps(policy.to_dict(), sort_keys=True).encode(),
            _INDEX_META_VERSION: INDEX_SCHEMA_VERSION.encode(),
        },
    )


def read_index_spec(path: str) -> SignatureSpec:
    """The signature spec of a band index (every part file must carry the same one)."""
    import pyarrow.parquet as pq

    files = index_files(path)
    if not files:
        raise ValueError(f"band index {path}: no Parquet files found")
    spec = None
    for f in files:
        meta = pq.read_schema(f).metadata or {}
        raw = meta.get(_INDEX_META_SPEC)
        if raw is None:
            raise ValueError(f"band index {f}: no signature spec in the Parquet metadata; not a jawebcorpus band index")
        s = SignatureSpec.from_json(raw)
        if meta.get(_INDEX_META_FP, b"").decode() != s.fingerprint():
            raise ValueError(f"band index {f}: the stored fingerprint does not match the stored spec")
        if spec is None:
            spec = s
        elif s != spec:
            raise ValueError(f"band index {path}: part files carry different specs ({_describe(spec.differences(s))})")
    return spec


def _describe(diff: dict) -> str:
    return "; ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in sorted(diff.items()))


def check_index_spec(path: str, spec: SignatureSpec) -> None:
    stored = read_index_spec(path)
    if stored != spec:
        raise ValueError(
            f"band index {path} was built with a different signature spec "
            f"(fingerprint {stored.fingerprint()}, this run {spec.fingerprint()}); differing fields — "
            f"index vs this run: {_describe(stored.differences(spec))}.  Rebuild the index with this "
            f"spec or run with the index's spec."
        )


def _read_index_file(path: str):
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=65536, columns=["band_key", "band", "doc_id", "snapshot"]):
        keys = batch.column(0).to_pylist()
        bands = batch.column(1).to_pylist()
        ids = batch.column(2).to_pylist()
        snaps = batch.column(3).to_pylist()
        yield from zip(keys, bands, ids, snaps)


class _WriteIndexShardFn(beam.DoFn):
    def __init__(self, directory: str, tag: str, spec: SignatureSpec, policy: KeepPolicy):
        self.directory = directory
        self.tag = tag
        self.spec = spec
        self.policy = policy

    def process(self, item):
        import pyarrow as pa
        import pyarrow.parquet as pq

        from .storage import atomic_write

        shard, rows = item
        rows = sorted(r for r in rows if r is not None)  # every shard is written, empty or not
        schema = _index_schema(self.spec, self.policy)
        table = pa.table(
            {
                "band_key": pa.array([r[0] for r in rows], pa.int64()),
                "band": pa.array([r[1] for r in rows], pa.uint16()),
                "doc_id": pa.array([r[2] for r in rows], pa.binary()),
                "snapshot": pa.array([r[3] for r in rows], pa.string()),
            },
            schema=schema,
        )
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="zstd")
        join = posixpath.join if "://" in self.directory else os.path.join
        path = join(self.directory, f"part-{self.tag}-{shard:05d}.parquet")
        atomic_write(path, buf.getvalue())
        yield path


# -- the transform ------------------------------------------------------------------------------
class Dedup(beam.PTransform):
    """Near-duplicate removal across snapshots (see the module docstring).

    Args:
      spec: the signature specification (default: 5-gram shingles, 800 permutations, 40 × 20).
      policy: which copy survives (default: newest snapshot, then longer text, then stable id).
      quality: for ``policy.tie_break == "quality"``: a callable ``Doc -> float``, or the name of a
        quality measure (``doc.quality_measures``); default ``doc.quality_score``.
      max_rounds: label-propagation rounds (the bound; a run that needs more says so in details).
      group_cap: band groups (and parents) with more members than this take the hot path.
      hot_salts: sub-keys a hot group is split over.
      bloom_log2_bits: size of the hot-key Bloom filters (2**n bits).
      batch_size: documents per signature batch.
      against_index: a band index (directory of Parquet files) of already-published survivors.
      write_index: directory to write this run's band index to (survivors; plus the entries of
        ``against_index`` when it is another directory, so the result is the extended index).
      index_shards: Parquet files the index is written as.
      index_tag: part-file name tag (default: random, so appending to a directory never clashes).
      carry_text: False: the survivors come out without their text (see below).
      local: the local runner (every collection lives in one process there): whole band groups
        and the rounds in one step (:func:`~jawebcorpus.dedup.cluster.label_rounds`), the same
        results as the distributed graph; never on a distributed runner.
    """

    def __init__(self, spec: SignatureSpec | None = None, policy: KeepPolicy | None = None, *,
                 quality: Callable[[Doc], float] | str | None = None, max_rounds: int = 10,
                 group_cap: int = 64, hot_salts: int = 64, bloom_log2_bits: int = 22,
                 batch_size: int = 256, against_index: str | None = None, write_index: str | None = None,
                 index_shards: int = 16, index_tag: str | None = None, label: str | None = None,
                 carry_text: bool = True, local: bool = False):
        super().__init__(label)
        # local=True (the local runner only): band groups and the label-propagation rounds are
        # computed whole, in one step each, instead of the hot path and max_rounds unrolled
        # joins: the same edges, labels and details with a graph a fraction of the size.
        self.local = local
        # carry_text=False: the surviving documents come out without their text (only
        # doc.text_chars), so the decision join shuffles no text; the caller joins the
        # text back from where it is stored (the pipeline's per-file checkpoints).
        self.carry_text = carry_text
        self.spec = spec or SignatureSpec()
        self.policy = policy or KeepPolicy()
        if not isinstance(self.spec, SignatureSpec):
            raise TypeError("spec must be a SignatureSpec")
        if not isinstance(self.policy, KeepPolicy):
            raise TypeError("policy must be a KeepPolicy")
        if max_rounds < 1 or group_cap < 2 or hot_salts < 1 or batch_size < 1 or index_shards < 1:
            raise ValueError("max_rounds ≥ 1, group_cap ≥ 2, hot_salts ≥ 1, batch_size ≥ 1, index_shards ≥ 1")
        self.quality = quality
        self.max_rounds = max_rounds
        self.group_cap = group_cap
        self.hot_salts = hot_salts
        self.bloom_log2_bits = bloom_log2_bits
        self.batch_size = batch_size
        self.against_index = against_index
        self.write_index = write_index
        self.index_shards = index_shards
        self.index_tag = index_tag or uuid.uuid4().hex[:12]
        self.against_files: list[str] = []
        if against_index:
            check_index_spec(against_index, self.spec)  # refuse a different spec before any work
            self.against_files = index_files(against_index)

    def expand(self, docs):
        spec, cap, salts = self.spec, self.group_cap, self.hot_salts
        prep = docs | "prepare" >> beam.ParDo(
            _PrepareFn(spec, self.policy, self.quality, self.batch_size, bool(self.write_index), self.carry_text)
        ).with_outputs(_PrepareFn.BANDS, _PrepareFn.DOC_BANDS, main="keyed")
        keyed, bands, doc_bands = prep.keyed, prep[_PrepareFn.BANDS], prep[_PrepareFn.DOC_BANDS]

        p = docs.pipeline
        old_rows = None
        if self.against_files:
            old_rows = (
                p
                | "index_files" >> beam.Create(self.against_files)
                | "spread_index_files" >> beam.Reshuffle()
                | "read_index" >> beam.FlatMap(_read_index_file)
            )
            indexed = old_rows | "published_entries" >> beam.Map(lambda r: (r[0], published_id(r[2])))
            bands = (bands, indexed) | "with_index" >> beam.Flatten()
        else:
            indexed = None

        if self.local:
            # The local runner holds every collection in one process: whole band groups, and the
            # rounds over every edge at once (same edges, labels and details; see the Fns).
            local_edges = (
                bands
                | "band_members" >> beam.GroupByKey()
                | "group_edges" >> beam.ParDo(_LocalGroupEdgesFn(cap)).with_outputs(DETAILS, main="edges")
            )
            components = (
                local_edges.edges
                | "key_edges" >> beam.Map(lambda e: (None, e))
                | "gather_edges" >> beam.GroupByKey()
                | "components" >> beam.ParDo(_LocalComponentsFn(
                    self.max_rounds, cap, salts, self.bloom_log2_bits)).with_outputs(DETAILS, main="labels")
            )
            labels = components.labels
            group_details = local_edges[DETAILS]
            round_details = [components[DETAILS]]
        else:
            # 2. band groups (combiner: hot keys are cheap), small groups → star edges
            groups = (
                bands
                | "band_groups" >> beam.CombinePerKey(_BandGroupFn(cap))
                | "group_edges" >> beam.ParDo(_GroupOutputsFn(cap)).with_outputs(_GroupOutputsFn.HOT, DETAILS, main="edges")
            )
            hot = groups[_GroupOutputsFn.HOT]
            # 3. hot groups: salted join of their members with the replicated minimum
            hot_bloom = (
                hot
                | "hot_band_keys" >> beam.Keys()
                | "hot_band_bloom" >> beam.CombineGlobally(_BloomCombineFn(self.bloom_log2_bits))
            )
            hot_members = doc_bands | "route_hot_members" >> beam.FlatMap(_route_hot_doc, AsSingleton(hot_bloom), salts)
            if indexed is not None:
                hot_indexed = indexed | "route_hot_indexed" >> beam.FlatMap(_route_hot_entries, AsSingleton(hot_bloom), salts)
                hot_members = (hot_members, hot_indexed) | "hot_members" >> beam.Flatten()
            hot_mins = hot | "replicate_hot_min" >> beam.FlatMap(_replicate_min, salts)
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
            hot_nodes = (
                edges
                | "in_degree" >> beam.Map(lambda e: (e[1], 1))
                | "sum_in_degree" >> beam.CombinePerKey(sum)
                | "hot_parents" >> beam.FlatMap(lambda kv: [id_hash64(kv[0])] if kv[1] > cap else [])
                | "hot_parent_bloom" >> beam.CombineGlobally(_BloomCombineFn(self.bloom_log2_bits))
            )
            node_bloom = AsSingleton(hot_nodes)
            edges_by_child = edges | "edges_by_child" >> beam.Map(lambda e: (e[0], ("p", e[1])))
            labels = (
                (edges | "child_candidates" >> beam.Map(lambda e: (e[0], e[1])),
                 edges | "parent_candidates" >> beam.Map(lambda e: (e[1], e[1])))
                | "flatten_initial" >> beam.Flatten()
                | "initial_labels" >> beam.CombinePerKey(min)
            )
            round_details = []
            for r in range(1, self.max_rounds + 1):
                tag = f"round_{r:02d}"
                child_side = (
                    (edges_by_child, labels | f"{tag}_tag_labels" >> beam.Map(lambda kv: (kv[0], ("l", kv[1]))))
                    | f"{tag}_flatten_child" >> beam.Flatten()
                    | f"{tag}_group_child" >> beam.GroupByKey()
                    | f"{tag}_child_side" >> beam.ParDo(_RoundChildSideFn(salts), node_bloom)
                )
                parent_labels = labels | f"{tag}_route_labels" >> beam.FlatMap(_route_labels, node_bloom, salts)
                messages = (
                    (child_side, parent_labels)
                    | f"{tag}_flatten_parent" >> beam.Flatten()
                    | f"{tag}_group_parent" >> beam.GroupByKey()
                    | f"{tag}_parent_side" >> beam.FlatMap(_round_parent_side)
                )
                updated = (
                    (labels | f"{tag}_old" >> beam.Map(lambda kv: (kv[0], ("o", kv[1]))), messages)
                    | f"{tag}_flatten_update" >> beam.Flatten()
                    | f"{tag}_update" >> beam.CombinePerKey(_LabelUpdateFn())
                    | f"{tag}_count" >> beam.ParDo(_CountChangesFn(r, r == self.max_rounds)).with_outputs(DETAILS, main="labels")
                )
                labels = updated.labels
                round_details.append(updated[DETAILS])
            group_details = groups[DETAILS]

        # 5. survivors and cluster sizes
        sizes = (
            labels
            | "label_members" >> beam.Map(lambda kv: (kv[1], 1))
            | "cluster_sizes" >> beam.CombinePerKey(sum)
            | "tag_sizes" >> beam.Map(lambda kv: (kv[0], ("s", kv[1])))
        )
        drops = labels | "drops" >> beam.FlatMap(lambda kv: [(kv[0], ("d", kv[1]))] if kv[1] != kv[0] else [])

        # 6. decisions joined back to the documents by node id
        decided = (
            (keyed, sizes, drops)
            | "flatten_decisions" >> beam.Flatten()
            | "join_decisions" >> beam.GroupByKey()
            | "decide" >> beam.ParDo(_DecideFn(spec, bool(self.write_index))).with_outputs(
                STATS, DETAILS, _DecideFn.INDEX, _DecideFn.DROPPED, main="docs")
        )
        details = (
            [group_details, decided[DETAILS]] + round_details
        ) | "flatten_details" >> beam.Flatten()

        if self.write_index:
            rows = decided[_DecideFn.INDEX]
            same = self.against_index and os.path.abspath(self.against_index) == os.path.abspath(self.write_index)
            if old_rows is not None and not same:
                rows = (rows, old_rows | "old_rows" >> beam.Map(lambda r: (r[0], r[1], r[2], r[3]))) \
                    | "extend_index" >> beam.Flatten()
            shards = self.index_shards
            every_shard = p | "index_shards" >> beam.Create([(s, None) for s in range(shards)])
            _ = (
                (rows | "index_shard" >> beam.Map(lambda r: (r[0] % shards, r)), every_shard)
                | "flatten_index" >> beam.Flatten()
                | "group_index_shard" >> beam.GroupByKey()
                | "write_index" >> beam.ParDo(_WriteIndexShardFn(self.write_index, self.index_tag, spec, self.policy))
            )
            if "://" not in self.write_index:
                os.makedirs(self.write_index, exist_ok=True)

        return DedupResult(decided.docs, decided[STATS], details, decided[_DecideFn.DROPPED])
