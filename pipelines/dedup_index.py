"""The band index of published survivors (``--against`` / ``--write-index``): Parquet part files.

Each row is one band entry of a published survivor: ``band_key`` (int64: the 64 bits as a
signed integer), ``band`` (uint16), ``doc_id`` (binary: the survivor's node id), ``snapshot``.
The schema metadata of every part file carries the signature spec (JSON), its fingerprint,
the survivor policy and the index format version.

Paths go through :mod:`.storage` (Beam's ``FileSystems``: local, ``gs://``, ``s3://``); a part
file is streamed to a hidden temporary name and renamed, like :func:`.storage.atomic_write`.

Scale: the index of 10⁹ survivors has 4 × 10¹⁰ rows.  :class:`WriteIndex` counts the rows (a
combiner), makes ``ceil(rows / rows_per_shard)`` shards (at least a given number), and each shard's
writer streams its rows to Parquet in batches of :data:`BATCH_ROWS` — no shard is ever held in
memory, so a worker's memory does not depend on the index size.  Reading streams record
batches too, and each worker checks the spec and columns of the files it reads.

An index is data from outside: before the run starts the launcher reads the footer of *every*
part file (:func:`check_index_spec`; a few kB each, several at a time, never the rows) and
refuses the index unless each part opens as Parquet, carries a signature spec that is a JSON
object equal to this run's, has the four columns with their types, no null values (the
footer's statistics), band numbers below the spec's ``bands``, and column chunks that lie
inside the file.
"""

from __future__ import annotations

import json
import uuid

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.pvalue import AsSingleton

from jawebcorpus.dedup.cluster import KeepPolicy
from jawebcorpus.dedup.minhash import SignatureSpec

from . import storage

__all__ = [
    "INDEX_SCHEMA_VERSION", "index_files", "index_schema", "read_index_spec", "check_index_spec",
    "read_index_file", "index_shard_count", "WriteIndex", "BATCH_ROWS",
]

INDEX_SCHEMA_VERSION = "1"
_META_SPEC = b"jawebcorpus.dedup.spec"
_META_FP = b"jawebcorpus.dedup.fingerprint"
_META_POLICY = b"jawebcorpus.dedup.policy"
_META_VERSION = b"jawebcorpus.dedup.index_version"
#: Rows per record batch when reading and per row group when writing.
BATCH_ROWS = 65536


def index_files(path: str) -> list[str]:
    """The Parquet part files of a band index directory (or a single ``.parquet`` file), sorted;
    any file system Beam knows (local, ``gs://``, ``s3://``)."""
    if path.endswith(".parquet") and storage.exists(path):
        return [path]
    return storage.match(storage.join(path, "*.parquet"))


def index_schema(spec: SignatureSpec, policy: KeepPolicy):
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("band_key", pa.int64(), metadata={"doc": "the 64-bit band key, as a signed integer"}),
            pa.field("band", pa.uint16()),
            pa.field("doc_id", pa.binary(), metadata={"doc": "node id of the published survivor"}),
            pa.field("snapshot", pa.string()),
        ],
        metadata={
            _META_SPEC: spec.to_json().encode(),
            _META_FP: spec.fingerprint().encode(),
            _META_POLICY: json.dumps(policy.to_dict(), sort_keys=True).encode(),
            _META_VERSION: INDEX_SCHEMA_VERSION.encode(),
        },
    )


#: The columns of a part file and their types.
_COLUMNS = (("band_key", "int64"), ("band", "uint16"), ("doc_id", "binary"), ("snapshot", "string"))
#: A stored spec longer than this is not one (a real one is about 200 bytes).
_MAX_SPEC_BYTES = 1 << 16


def _file_spec(path: str, schema_metadata) -> SignatureSpec:
    meta = schema_metadata or {}
    raw = meta.get(_META_SPEC)
    if raw is None:
        raise ValueError(f"band index {path}: no signature spec in the Parquet metadata; not a jawebcorpus band index")
    try:
        if len(raw) > _MAX_SPEC_BYTES:
            raise ValueError(f"{len(raw):,} bytes")
        s = SignatureSpec.from_json(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ValueError(f"band index {path}: its stored signature spec is not valid ({exc})") from None
    if meta.get(_META_FP, b"").decode("utf-8", "replace") != s.fingerprint():
        raise ValueError(f"band index {path}: the stored fingerprint does not match the stored spec")
    return s


def _read_schema(path: str):
    import pyarrow.parquet as pq

    with FileSystems.open(path) as fh:
        return pq.ParquetFile(fh).schema_arrow


def read_index_spec(path: str, all_files: bool = True) -> SignatureSpec:
    """The signature spec of a band index.  ``all_files``: check that every part file carries the
    same one (reads every footer); otherwise read the first file only (the workers check
    each file they read, see :func:`read_index_file`)."""
    files = index_files(path)
    if not files:
        raise ValueError(f"band index {path}: no Parquet files found")
    spec = None
    for f in files if all_files else files[:1]:
        s = _file_spec(f, _read_schema(f).metadata)
        if spec is None:
            spec = s
        elif s != spec:
            raise ValueError(f"band index {path}: part files carry different specs ({_describe(spec.differences(s))})")
    return spec


def _describe(diff: dict) -> str:
    return "; ".join(f"{k}: {a!r} vs {b!r}" for k, (a, b) in sorted(diff.items()))


def _mismatch(path: str, stored: SignatureSpec, spec: SignatureSpec) -> ValueError:
    return ValueError(
        f"band index {path} was built with a different signature spec "
        f"(fingerprint {stored.fingerprint()}, this run {spec.fingerprint()}); differing fields — "
        f"index vs this run: {_describe(stored.differences(spec))}.  Rebuild the index with this "
        f"spec or run with the index's spec."
    )


def _check_columns(path: str, schema) -> None:
    for name, type_name in _COLUMNS:
        i = schema.get_field_index(name)
        if i < 0:
            raise ValueError(f"band index part {path}: no {name} column; not a jawebcorpus band index")
        if str(schema.field(i).type) != type_name:
            raise ValueError(f"band index part {path}: column {name} is {schema.field(i).type}, not {type_name}")


def _check_part(path: str, spec: SignatureSpec) -> None:
    """One part file's footer: spec, columns, null counts, band range, chunk offsets."""
    import pyarrow.parquet as pq

    try:
        with FileSystems.open(path) as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(0)
            pf = pq.ParquetFile(fh)
            schema, meta = pf.schema_arrow, pf.metadata
    except Exception as exc:  # pyarrow's and the file system's errors, whatever their type
        raise ValueError(f"band index part {path} cannot be read as Parquet ({type(exc).__name__}: "
                         f"{str(exc)[:200]})") from None
    stored = _file_spec(path, schema.metadata)
    if stored != spec:
        raise _mismatch(path, stored, spec)
    _check_columns(path, schema)
    wanted = dict(_COLUMNS)
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for j in range(group.num_columns):
            col = group.column(j)
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            if start is None or start < 0 or start + col.total_compressed_size > size:
                raise ValueError(f"band index part {path}: row group {g} lies outside the file (damaged)")
            name, st = col.path_in_schema, col.statistics
            if name not in wanted or st is None:
                continue
            if st.has_null_count and st.null_count > 0:
                raise ValueError(f"band index part {path}: column {name} has {st.null_count:,} null values")
            if name == "band" and st.has_min_max and st.max >= spec.bands:
                raise ValueError(f"band index part {path}: band {st.max} is not below the spec's {spec.bands} bands")


def check_index_spec(path: str, spec: SignatureSpec, every_part: bool = True) -> None:
    """Refuse an index that is not a band index of ``spec``.  ``every_part``: check the footer of
    every part file (module docstring; several at a time); else only the first file's spec (the
    workers check each file they read)."""
    if not every_part:
        stored = read_index_spec(path, all_files=False)
        if stored != spec:
            raise _mismatch(path, stored, spec)
        return
    from concurrent.futures import ThreadPoolExecutor

    files = index_files(path)
    if not files:
        raise ValueError(f"band index {path}: no Parquet files found")
    with ThreadPoolExecutor(max_workers=min(8, len(files))) as pool:
        for _ in pool.map(lambda f: _check_part(f, spec), files):
            pass


def read_index_file(path: str, spec: SignatureSpec | None = None):
    """The rows ``(band_key, band, doc_id, snapshot)`` of one part file, a record batch at a time;
    with ``spec``, first check that the file was built with it."""
    import pyarrow.parquet as pq

    with FileSystems.open(path) as fh:
        pf = pq.ParquetFile(fh)
        if spec is not None:
            stored = _file_spec(path, pf.schema_arrow.metadata)
            if stored != spec:
                raise _mismatch(path, stored, spec)
        _check_columns(path, pf.schema_arrow)
        for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=["band_key", "band", "doc_id", "snapshot"]):
            if any(batch.column(i).null_count for i in range(4)):
                raise ValueError(f"band index part {path}: null values")
            yield from zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(),
                           batch.column(2).to_pylist(), batch.column(3).to_pylist())


def index_shard_count(rows: int, fixed: int, rows_per_shard: int) -> int:
    """Part files for ``rows`` rows: ``ceil(rows / rows_per_shard)``, at least ``fixed`` and 1 — so a
    file holds at most ``rows_per_shard`` rows on average, whatever ``fixed`` says."""
    return max(1, fixed, -(-int(rows) // rows_per_shard))


class _WriteShardFn(beam.DoFn):
    """One shard's rows → ``part-<tag>-<shard>-of-<n>.parquet``, streamed in row groups of
    :data:`BATCH_ROWS` to a hidden temporary name, then renamed."""

    def __init__(self, directory: str, tag: str, spec: SignatureSpec, policy: KeepPolicy):
        self.directory = directory
        self.tag = tag
        self.spec = spec
        self.policy = policy

    def process(self, item, n_shards: int):
        import pyarrow as pa
        import pyarrow.parquet as pq

        shard, rows = item
        schema = index_schema(self.spec, self.policy)
        name = f"part-{self.tag}-{shard:05d}-of-{n_shards:05d}.parquet"
        path = storage.join(self.directory, name)
        tmp = storage.join(self.directory, f".{name}.tmp-{uuid.uuid4().hex}")
        cols: tuple[list, list, list, list] = ([], [], [], [])

        def flush(writer):
            writer.write_table(pa.table({
                "band_key": pa.array(cols[0], pa.int64()), "band": pa.array(cols[1], pa.uint16()),
                "doc_id": pa.array(cols[2], pa.binary()), "snapshot": pa.array(cols[3], pa.string()),
            }, schema=schema))
            for c in cols:
                c.clear()

        with FileSystems.create(tmp) as fh:
            writer = pq.ParquetWriter(fh, schema, compression="zstd")
            for r in rows:
                if r is None:  # the marker that makes every shard exist, empty or not
                    continue
                for c, v in zip(cols, r):
                    c.append(v)
                if len(cols[0]) >= BATCH_ROWS:
                    flush(writer)
            if cols[0]:
                flush(writer)
            writer.close()
        FileSystems.rename([tmp], [path])
        yield path


class WriteIndex(beam.PTransform):
    """Rows ``(band_key, band, doc_id, snapshot)`` → the part files of a band index in ``directory``.

    The number of files ``n`` is ``max(shards, ceil(rows / rows_per_shard))`` from a count of the
    rows (a combiner).  Rows go to shard ``band_key mod n``: band keys are uniform 64-bit hashes and
    a band key appears once among the survivors of a run (two survivors sharing a band would be
    one cluster), so a shard — the one ``GroupByKey`` value of the write — holds ≈ ``rows / n`` ≤
    ``rows_per_shard`` rows (100,000 by default), more only by the hash's spread (a few hundred);
    every shard is written, empty or not.  Returns the written paths.
    """

    def __init__(self, directory: str, tag: str, spec: SignatureSpec, policy: KeepPolicy,
                 shards: int = 0, rows_per_shard: int = 100_000):
        super().__init__()
        self.directory = directory
        self.tag = tag
        self.spec = spec
        self.policy = policy
        self.shards = shards
        self.rows_per_shard = rows_per_shard

    def expand(self, rows):
        fixed, per = self.shards, self.rows_per_shard
        n_shards = (
            rows
            | "count_rows" >> beam.combiners.Count.Globally()
            | "shard_count" >> beam.Map(index_shard_count, fixed, per)
        )
        every = n_shards | "every_shard" >> beam.FlatMap(lambda n: [(s, None) for s in range(n)])
        keyed = rows | "to_shard" >> beam.Map(lambda r, n: (r[0] % n, r), AsSingleton(n_shards))
        return (
            (keyed, every)
            | "flatten_shards" >> beam.Flatten()
            | "group_shards" >> beam.GroupByKey()
            | "write_shards" >> beam.ParDo(_WriteShardFn(self.directory, self.tag, self.spec, self.policy),
                                           AsSingleton(n_shards))
        )

