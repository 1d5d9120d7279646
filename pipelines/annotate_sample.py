"""The documents ``jawebcorpus annotate`` asks about: a reproducible, stratified sample of a run.

A run's documents (``OUT/data/snapshot=<ID>/*.parquet``, optionally narrowed by ``--where``) are
read in three streaming passes of ``pyarrow.dataset``; nothing holds the corpus in memory:

1. **count** the matching documents per snapshot (only the ``snapshot`` column and the columns
   ``--where`` names are read);
2. **select**: every document gets a key, a 64-bit keyed BLAKE2b hash of its identity
   (``warc_file``, ``warc_offset``, ``warc_record_id``) with the seed as the hash key, so the
   choice depends only on the seed and the documents, never on the order files are read in.
   Each snapshot receives a share of ``--sample`` proportional to its matching documents (largest
   remainders, ties by snapshot name); within a snapshot the documents with the smallest keys
   are taken, at most ``per_host`` of them from one host (the host's smallest keys).  This is a
   bottom-k selection under a cap: memory is O(sample), whatever the size of the corpus;
3. **read** the text (and URL) of the chosen documents only, file by file (files in the order of
   the smallest key they hold, so an interrupted annotation has already covered every snapshot).

A snapshot with fewer eligible documents than its share (few hosts and a tight cap) gives what
it has; the shortfall is reported, not moved to other snapshots.
"""

from __future__ import annotations

import bisect
import hashlib
import heapq
import math
import os
from dataclasses import dataclass, field
from typing import Iterator

__all__ = ["ID_COLUMNS", "SampleError", "RunData", "open_run", "count_per_snapshot", "allocate", "default_per_host",
           "select", "read_texts", "cut_text", "doc_id", "Chosen", "Selection"]

#: The columns a label line carries to name its document.
ID_COLUMNS = ("snapshot", "warc_file", "warc_offset", "warc_record_id", "url", "host")
_KEY_COLUMNS = ("snapshot", "host", "warc_file", "warc_offset", "warc_record_id")
#: Where a text is cut: after a sentence end (else a line break) …
_SENTENCE_END = "。．！？!?"
#: … and the closing brackets and quotes that belong to the sentence just ended.
_CLOSERS = "」』）)】〕〉》\"'”’"


class SampleError(ValueError):
    """The run cannot be sampled as asked (one line for the user)."""


@dataclass
class RunData:
    dataset: object
    filter: object
    where_columns: tuple


@dataclass(order=True)
class Chosen:
    rank: tuple  # (key, warc_file, warc_offset, warc_record_id): a total order that is the same in every read
    snapshot: str = field(compare=False)
    host: str = field(compare=False)
    fragment: int = field(compare=False)

    @property
    def key(self) -> int:
        return self.rank[0]

    @property
    def doc_id(self) -> str:
        return doc_id(self.rank[1], self.rank[2], self.rank[3])


@dataclass
class Selection:
    chosen: list          # Chosen, in rank order
    counts: dict          # snapshot → matching documents
    quotas: dict          # snapshot → its share of the sample
    per_host: dict        # snapshot → the cap used
    fragments: list       # fragment index → pyarrow fragment

    def taken(self) -> dict:
        out: dict = {}
        for c in self.chosen:
            out[c.snapshot] = out.get(c.snapshot, 0) + 1
        return out


def doc_id(warc_file: str, warc_offset: int, warc_record_id: str) -> str:
    """A document's stable name in label files: 20 hex digits of a SHA-256 of its identity."""
    ident = f"{warc_file}\n{warc_offset}\n{warc_record_id}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(ident).hexdigest()[:20]


def _key(seed: bytes, warc_file: str, warc_offset: int, warc_record_id: str) -> int:
    ident = f"{warc_file}\n{warc_offset}\n{warc_record_id}".encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(ident, digest_size=8, key=seed).digest(), "big")


def open_run(run_dir: str, where: str | None) -> RunData:
    """The run's documents as a dataset, and ``--where`` bound to its columns."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    from .train_quality import WhereError, parse_where

    data = os.path.join(run_dir, "data")
    if not os.path.isdir(data):
        raise SampleError(f"--run {run_dir}: no data/ folder (the --output folder of jawebcorpus run)")
    try:
        dataset = ds.dataset(data, format="parquet", partitioning="hive", exclude_invalid_files=False)
    except (pa.ArrowException, OSError) as exc:
        raise SampleError(f"--run {run_dir}: its Parquet files cannot be read ({exc})") from None
    names = set(dataset.schema.names)
    missing = [c for c in ("text", *ID_COLUMNS) if c not in names]
    if missing:
        raise SampleError(f"--run {run_dir}: its documents have no {', '.join(missing)} column "
                          "(not the output of jawebcorpus run?)")
    expr, used = None, ()
    if where:
        try:
            expr = parse_where(where, names)
            used = tuple(sorted(parse_where.last_columns))
            dataset.scanner(columns=["snapshot"], filter=expr)  # binds it to the columns' types
        except WhereError as exc:
            raise SampleError(f"--where: {exc}") from None
        except (pa.ArrowException, OverflowError, TypeError) as exc:
            raise SampleError(f"--where {where!r} does not fit the columns of {run_dir}: {exc}") from None
    return RunData(dataset, expr, used)


def count_per_snapshot(run: RunData) -> dict:
    """Matching documents per snapshot (pass 1)."""
    import pyarrow.compute as pc

    counts: dict = {}
    for batch in run.dataset.scanner(columns=["snapshot"], filter=run.filter).to_batches():
        if batch.num_rows == 0:
            continue
        for item in pc.value_counts(batch.column(0)).to_pylist():
            snap = item["values"] if item["values"] is not None else ""
            counts[snap] = counts.get(snap, 0) + item["counts"]
    return counts


def allocate(counts: dict, n: int) -> dict:
    """``n`` shared among the snapshots in proportion to their documents (largest remainders)."""
    total = sum(counts.values())
    if n >= total:
        return dict(counts)
    exact = {s: n * c / total for s, c in counts.items()}
    quotas = {s: math.floor(v) for s, v in exact.items()}
    rest = n - sum(quotas.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - quotas[s]), s))[:rest]:
        quotas[s] += 1
    return quotas


def default_per_host(quota: int) -> int:
    """The default cap: one host gives at most 1 % of its snapshot's share (at least one document)."""
    return max(1, math.ceil(quota / 100))


class _Stratum:
    """The ``quota`` smallest ranks among the documents that are within their host's ``cap``
    smallest: a bounded max-heap plus, per host with documents in it, their sorted ranks.

    The selection's largest rank only goes down as documents arrive, and a document pushed past
    its host's cap stays past it, so what leaves the heap never has to come back."""

    def __init__(self, quota: int, cap: int):
        self.quota, self.cap = quota, cap
        self.heap: list = []  # (negated rank, Chosen)
        self.by_host: dict = {}
        self.gone: set = set()  # ranks removed from the heap lazily
        self.size = 0

    def _top(self):
        while self.heap and self.heap[0][1].rank in self.gone:
            self.gone.discard(heapq.heappop(self.heap)[1].rank)
        return self.heap[0][1] if self.heap else None

    def full_above(self, rank) -> bool:
        if self.size < self.quota:
            return False
        top = self._top()
        return top is not None and rank >= top.rank

    def offer(self, doc: Chosen) -> None:
        if self.quota <= 0 or self.full_above(doc.rank):
            return
        ranks = self.by_host.setdefault(doc.host, [])
        at = bisect.bisect_left(ranks, doc.rank)
        if at < len(ranks) and ranks[at] == doc.rank:
            return  # the same document twice
        ranks.insert(at, doc.rank)
        if len(ranks) > self.cap:
            worst = ranks.pop()
            if worst == doc.rank:
                return
            self.gone.add(worst)
            self.size -= 1
        heapq.heappush(self.heap, (_Neg(doc.rank), doc))
        self.size += 1
        if self.size > self.quota:
            top = self._top()
            heapq.heappop(self.heap)
            self.size -= 1
            ranks = self.by_host[top.host]
            ranks.pop(bisect.bisect_left(ranks, top.rank))
            if not ranks:
                del self.by_host[top.host]

    def result(self) -> list:
        return sorted(c for _, c in self.heap if c.rank not in self.gone)


class _Neg:
    """Reverses the order of a rank, for a max-heap on :mod:`heapq`."""

    __slots__ = ("rank",)

    def __init__(self, rank):
        self.rank = rank

    def __lt__(self, other):
        return self.rank > other.rank

    def __eq__(self, other):
        return self.rank == other.rank


def select(run: RunData, n: int, seed: int, per_host: int | None = None, counts: dict | None = None) -> Selection:
    """The sample (passes 1 and 2)."""
    counts = count_per_snapshot(run) if counts is None else counts
    quotas = allocate(counts, n)
    caps = {s: (per_host or default_per_host(q)) for s, q in quotas.items()}
    strata = {s: _Stratum(q, caps[s]) for s, q in quotas.items()}
    seed_bytes = seed.to_bytes(8, "big")
    fragments: list = []
    columns = list(_KEY_COLUMNS)
    scanner = run.dataset.scanner(columns=columns, filter=run.filter)
    for tagged in scanner.scan_batches():
        batch = tagged.record_batch
        if batch.num_rows == 0:
            continue
        frag = len(fragments)
        fragments.append(tagged.fragment)
        snaps, hosts, files, offsets, rids = (batch.column(i).to_pylist() for i in range(len(columns)))
        for i, wf in enumerate(files):
            snap = snaps[i] if snaps[i] is not None else ""
            stratum = strata.get(snap)
            if stratum is None:
                continue
            wf = wf if wf is not None else ""
            off = offsets[i] if offsets[i] is not None else -1
            rid = rids[i] if rids[i] is not None else ""
            rank = (_key(seed_bytes, wf, off, rid), wf, off, rid)
            if stratum.full_above(rank):
                continue
            stratum.offer(Chosen(rank, snap, hosts[i] if hosts[i] is not None else "", frag))
    chosen = sorted(c for s in strata.values() for c in s.result())
    return Selection(chosen, counts, quotas, caps, fragments)


def cut_text(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut to at most ``max_chars`` characters: after the last sentence end (。．！？!?
    with the closing brackets that follow it) in the second half of the limit, else after the
    last line break there, else a hard cut.  Returns the text and whether it was cut."""
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    for marks in (_SENTENCE_END, "\n"):  # a sentence end, else a line break, in the second half
        end = max(head.rfind(c) for c in marks) + 1
        if end >= max_chars // 2:
            while end < len(head) and head[end] in _CLOSERS:
                end += 1
            return head[:end].rstrip(), True
    return head, True


def read_texts(selection: Selection, skip=frozenset()) -> Iterator[tuple[Chosen, dict]]:
    """``(chosen, row)`` with the row's ``text`` and ``url`` for every chosen document whose
    :attr:`Chosen.doc_id` is not in ``skip`` (pass 3), file by file."""
    import pyarrow.compute as pc

    by_fragment: dict = {}
    for c in selection.chosen:
        if c.doc_id not in skip:
            by_fragment.setdefault(c.fragment, []).append(c)
    # fragments in the order of the smallest key they hold: every snapshot early on
    for frag in sorted(by_fragment, key=lambda f: by_fragment[f][0].rank):
        wanted = {(c.rank[1], c.rank[2], c.rank[3]): c for c in by_fragment[frag]}
        offsets = sorted({k[1] for k in wanted})
        where = pc.field("warc_offset").isin(offsets)
        if -1 in offsets:  # a document without an offset was keyed with -1
            where = where | pc.field("warc_offset").is_null()
        table = selection.fragments[frag].to_table(
            columns=["warc_file", "warc_offset", "warc_record_id", "url", "text"], filter=where)
        found = []
        for row in table.to_pylist():
            k = (row["warc_file"] or "", row["warc_offset"] if row["warc_offset"] is not None else -1,
                 row["warc_record_id"] or "")
            c = wanted.pop(k, None)
            if c is not None:
                found.append((c, row))
        for c, row in sorted(found, key=lambda cr: cr[0].rank):
            yield c, row
