"""Benchmark decontamination: find documents that contain an evaluation item (pure Python + numpy).

Items and their file
--------------------
An item is a text an evaluation set asks a model about (a question with its choices, a passage
and its question, a premise and its hypothesis …).  :func:`read_items` reads a file of them: JSON
Lines with ``"text"`` (required), ``"benchmark"`` and ``"id"`` (optional), or plain text with one
item per line.  ``docs/filters.md`` says how to write the file from JGLUE, JEMHopQA, JMMLU,
MGSM-ja and llm-jp-eval.

Matching
--------
* **Normalised text** (:func:`normalise`): NFKC (full-width letters and digits become ASCII,
  half-width katakana full-width), case folded, and every character that is not a letter, a
  digit or a combining mark dropped (spaces of every width, punctuation, symbols, line
  breaks).  So ``富士山の標高は？　Ａ．３７７６ｍ`` and ``富士山の標高は? A.3776m`` are the same
  text: an item copied into a page with other spacing, other punctuation or other widths is
  still found.
* **Fields**: each line of an item is a field (a question, a choice, a passage) whose n-grams are
  taken on its own, never across two (:func:`item_ngrams`), so a page that lays the fields out
  differently (choices numbered, on one line, in another order) still holds every one of them.
* **Character n-grams**, n = :data:`DEFAULT_N`, hashed to 64 bits.
* **A document contains an item** when at least :data:`DEFAULT_MIN_COVERAGE` of the item's
  distinct n-grams occur in the document.  A share, not "any n-gram", because ordinary pages
  about the same topic share long phrases with an item (at n = 13, 7 of the 151 pages of the
  measurement without an item shared one); a share below 1, because a copy on the web often
  leaves out or changes a little (a choice, a character).  n and the share were chosen by
  ``bench/bench_decontam.py`` (``docs/filters.md`` has the table): with n = 16 and one half, no
  false hit on any page without an item (the highest coverage 0.25), every item found in every
  spelling, and copies with a field left out all found.
* **Short items**: an item whose fields are all shorter than n is taken as the run of its fields
  (found when a page copies it in order, in any spelling; not when numbers are put between its
  fields); one whose whole text is shorter than n has no n-gram and cannot be told from
  ordinary text (a one-word answer, ``はい``): it is not indexed, and it is counted
  (:attr:`IndexStats.short`, with the first ids in :attr:`IndexStats.short_ids`) so the report
  can say so.
* Two items with the same normalised text in different benchmarks both match: a document
  is reported for every benchmark it contaminates.

The index
---------
A sorted array of the (hash, item) pairs: 12 bytes per distinct n-gram of each item (an 8-byte
hash and a 4-byte item number), a Bloom filter of 16 bits an n-gram that turns away all but
≈ 1 % of a document's n-grams before they are searched, and a few bytes per item; measured
14–15 bytes an n-gram in all (≈ 13 bytes a character of item text: 10,000 items of 60–400
characters 28 MB, built in 0.7 s).  Built once per worker; bounded by
:attr:`DecontamConfig.max_index_ngrams` (refused with the count when passed, before anything is
held beyond the limit).

Cost per document: normalisation (NFKC only in the runs of characters it can change), one numpy
pass per n-gram position over the code points, two gathers in the Bloom filter, a sort and a
binary search of the few that pass; no Python loop over characters.  Linear in the document;
72–91 µs per 1,000 characters of text for 327 to 100,000 items.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO, Iterable, Iterator

import numpy as np

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.settings import check_settings, setting

__all__ = [
    "DecontamConfig", "BenchmarkItem", "Contamination", "IndexStats", "BenchmarkIndex", "normalise",
    "ngram_hashes", "item_ngrams", "read_items", "DEFAULT_N", "DEFAULT_MIN_COVERAGE", "ReadLimits", "nfkc",
]

#: n-gram length in normalised characters (bench/bench_decontam.py: no false hit with a margin of
#: at least 0.2, every spelling of every item found, the most edited copies found)
DEFAULT_N = 16
#: share of an item's distinct n-grams a document must contain
DEFAULT_MIN_COVERAGE = 0.5

_DROP = re.compile(r"[\W_]+")
_P = np.uint64(0x100000001B3)  # odd multiplier of the polynomial hash (mod 2**64)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_BENCHMARK_NAME = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]{1,100}")


@dataclass(frozen=True)
class DecontamConfig:
    #: n-gram length, in characters of the normalised text
    n: int = setting(DEFAULT_N, 4, 64)
    #: share of an item's n-grams a document must contain to contain the item
    min_coverage: float = setting(DEFAULT_MIN_COVERAGE, 0.05, 1.0)
    #: most (hash, item) pairs the index may hold (≈ 15 bytes each with the filter: 50 M ≈ 750 MB)
    max_index_ngrams: int = setting(50_000_000, 1, 2_000_000_000)
    #: the item files (``--decontaminate FILE``, repeatable; local or remote); none: the stage is off
    files: tuple[str, ...] = ()
    #: ``drop`` (reason contaminated) or ``flag`` (kept, with the ``contamination`` column)
    mode: str = "drop"

    def validate(self) -> "DecontamConfig":
        check_settings(self, "decontaminate")
        if self.mode not in ("drop", "flag"):
            raise ConfigError(f"decontaminate.mode must be drop or flag, not {self.mode!r}")
        if not isinstance(self.files, tuple) or not all(isinstance(f, str) and f.strip() for f in self.files):
            raise ConfigError("decontaminate.files must be file paths (--decontaminate FILE)")
        return self


@dataclass(frozen=True, slots=True)
class BenchmarkItem:
    benchmark: str
    item_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Contamination:
    benchmark: str
    item_id: str
    #: share of the item's distinct n-grams found in the document
    coverage: float


@dataclass
class IndexStats:
    items: int = 0  # read
    indexed: int = 0
    short: int = 0  # fewer normalised characters than n: not indexed
    short_ids: list[str] = field(default_factory=list)  # the first 20
    ngrams: int = 0  # (hash, item) pairs held
    nbytes: int = 0  # bytes of the arrays
    per_benchmark: dict[str, int] = field(default_factory=dict)  # indexed items per benchmark


#: Characters NFKC leaves as they are and never composes with a neighbour (ASCII, the common
#: kana, kanji and Japanese punctuation): text is normalised only in the runs of other characters,
#: each with the character before it (a base a combining mark may compose with).  The result is
#: exactly ``NFKC(text)`` (tests/test_decontam.py checks it on real text and on random strings),
#: at half the cost on Japanese pages, which are mostly made of these characters.
_STABLE = ("\x00-\x7f\u3001\u3002\u3005\u3006\u300c-\u300f\u3010\u3011\u3041-\u3096\u30a1-\u30fa"
           "\u30fb\u30fc\u3400-\u4dbf\u4e00-\u9fff")
_UNSTABLE_RUN = re.compile(f"[{_STABLE}]?[^{_STABLE}]+")


def _nfkc_run(m: re.Match) -> str:
    return unicodedata.normalize("NFKC", m.group())


def nfkc(text: str) -> str:
    """Exactly ``unicodedata.normalize("NFKC", text)``, at half the cost on Japanese text."""
    return _UNSTABLE_RUN.sub(_nfkc_run, text)


def normalise(text: str) -> str:
    """NFKC, case-folded, without anything that is not a letter, digit or combining mark."""
    return _DROP.sub("", nfkc(text).casefold())


def ngram_hashes(norm: str, n: int) -> np.ndarray:
    """64-bit hashes of every character n-gram of ``norm`` (``len(norm) - n + 1`` of them, in order)."""
    m = len(norm) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.uint64)
    cps = np.frombuffer(norm.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            h *= _P
            h += cps[j:j + m]
        h ^= h >> np.uint64(30)
        h *= _M1
        h ^= h >> np.uint64(27)
        h *= _M2
        h ^= h >> np.uint64(31)
    return h


def item_ngrams(text: str, n: int) -> np.ndarray | None:
    """The distinct n-gram hashes of an item (sorted), or None for a short item.

    Each line of the item is a field (a question, a choice, a passage) and is normalised on its
    own; n-grams are taken inside a field, never across two, so a page that lays the fields out
    differently (choices numbered, on one line, in another order) still holds every one of them.
    A field shorter than n adds nothing (a one-word choice says nothing about the page); an item
    whose fields are all shorter than n is taken whole, and is short when that is too."""
    fields = [normalise(f) for f in text.split("\n")]
    usable = [f for f in fields if len(f) >= n]
    if not usable:
        whole = "".join(fields)
        if len(whole) < n:
            return None
        usable = [whole]
    return np.unique(np.concatenate([ngram_hashes(f, n) for f in usable]))


class BenchmarkIndex:
    """The n-grams of every indexed item; :meth:`match` a document against them."""

    def __init__(self, keys: np.ndarray, items: np.ndarray, counts: np.ndarray, item_bench: np.ndarray,
                 benchmarks: list[str], ids: list[str], config: DecontamConfig, stats: IndexStats):
        self._keys = keys  # sorted uint64 hashes (a hash repeats once per item holding it)
        # a Bloom filter of the keys (16 bits a key, two probes: one from the hash's top bits, one
        # from its bottom bits): a document's n-grams are tested against it first (two gathers),
        # and only the ~1.4 % that pass are searched in the sorted keys (a binary search in a large
        # array is a cache miss a step)
        bits = max(16, min(37, int(keys.size * 16 - 1).bit_length()))
        self._shift = np.uint64(64 - bits)
        self._mask = np.uint64((1 << bits) - 1)
        self._bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
        if keys.size:
            for probe in (keys >> self._shift, keys & self._mask):
                np.bitwise_or.at(self._bitmap, (probe >> np.uint64(3)).astype(np.intp),
                                 np.left_shift(np.uint8(1), (probe & np.uint64(7)).astype(np.uint8)))
        stats.nbytes += int(self._bitmap.nbytes)
        self._items = items  # uint32 item number of each key
        self._counts = counts  # distinct n-grams per item
        self._item_bench = item_bench  # uint16 benchmark number per item
        self.benchmarks = benchmarks
        self.ids = ids
        self.config = config
        self.stats = stats

    @classmethod
    def build(cls, items: Iterable[BenchmarkItem], config: DecontamConfig = DecontamConfig()) -> "BenchmarkIndex":
        config.validate()
        n = config.n
        stats = IndexStats()
        bench_no: dict[str, int] = {}
        benchmarks: list[str] = []
        ids: list[str] = []
        item_bench: list[int] = []
        counts: list[int] = []
        chunks: list[np.ndarray] = []
        total = 0
        for it in items:
            stats.items += 1
            h = item_ngrams(it.text, n)
            if h is None:
                stats.short += 1
                if len(stats.short_ids) < 20:
                    stats.short_ids.append(it.item_id)
                continue
            total += h.size
            if total > config.max_index_ngrams:
                raise ConfigError(
                    f"decontamination index: the items hold more than decontaminate.max_index_ngrams = "
                    f"{config.max_index_ngrams:,} n-grams (passed at item {stats.items:,}); raise it "
                    f"(12 bytes each) or supply fewer items")
            b = bench_no.get(it.benchmark)
            if b is None:
                if len(benchmarks) >= 65_535:
                    raise ConfigError("decontamination index: more than 65,535 benchmark names")
                b = bench_no[it.benchmark] = len(benchmarks)
                benchmarks.append(it.benchmark)
            chunks.append(h)
            counts.append(h.size)
            ids.append(it.item_id)
            item_bench.append(b)
            stats.per_benchmark[it.benchmark] = stats.per_benchmark.get(it.benchmark, 0) + 1
        stats.indexed = len(ids)
        if chunks:
            keys = np.concatenate(chunks)
            owner = np.repeat(np.arange(len(chunks), dtype=np.uint32), np.asarray(counts, dtype=np.int64))
            order = np.argsort(keys, kind="stable")
            keys, owner = keys[order], owner[order]
        else:
            keys, owner = np.empty(0, np.uint64), np.empty(0, np.uint32)
        counts_a = np.asarray(counts, dtype=np.uint32)
        bench_a = np.asarray(item_bench, dtype=np.uint16)
        stats.ngrams = int(keys.size)
        stats.nbytes = int(keys.nbytes + owner.nbytes + counts_a.nbytes + bench_a.nbytes)
        return cls(keys, owner, counts_a, bench_a, benchmarks, ids, config, stats)

    def _maybe(self, h: np.ndarray) -> np.ndarray:
        """Which of the hashes ``h`` may be keys (no false negative; ~1.4 % false positives)."""
        bm = self._bitmap
        seven = np.uint64(7)
        three = np.uint64(3)
        a = h >> self._shift
        b = h & self._mask
        return ((bm[(a >> three).astype(np.intp)] >> (a & seven).astype(np.uint8))
                & (bm[(b >> three).astype(np.intp)] >> (b & seven).astype(np.uint8)) & 1).astype(bool)

    def __len__(self) -> int:
        return len(self.ids)

    def match(self, text: str, limit: int = 16) -> list[Contamination]:
        """The items ``text`` contains (coverage ≥ ``min_coverage``), best coverage first, at most
        ``limit`` (ties: benchmark, then id)."""
        if not len(self.ids) or not text:
            return []
        h = ngram_hashes(normalise(text), self.config.n)
        if not h.size:
            return []
        h = h[self._maybe(h)]
        if not h.size:
            return []
        d = np.unique(h)
        keys = self._keys
        pos = np.searchsorted(keys, d)
        inside = pos < keys.size
        hit = np.zeros(d.size, dtype=bool)
        hit[inside] = keys[pos[inside]] == d[inside]
        if not hit.any():
            return []
        lo = pos[hit]
        hi = np.searchsorted(keys, d[hit], side="right")
        width = hi - lo
        if int(width.max()) == 1:
            owners = self._items[lo]
        else:  # a hash held by several items: every one of them
            starts = np.repeat(lo - np.cumsum(np.concatenate(([0], width[:-1]))), width)
            owners = self._items[starts + np.arange(int(width.sum()))]
        uniq, got = np.unique(owners, return_counts=True)
        cov = got / self._counts[uniq]
        sel = cov >= self.config.min_coverage
        if not sel.any():
            return []
        out = [Contamination(self.benchmarks[self._item_bench[i]], self.ids[i], float(c))
               for i, c in zip(uniq[sel].tolist(), cov[sel].tolist())]
        out.sort(key=lambda c: (-c.coverage, c.benchmark, c.item_id))
        return out[:limit]

    def coverage(self, text: str) -> dict[str, float]:
        """Every item's coverage by ``text`` above 0 (``{item id: share}``; for measurement)."""
        if not len(self.ids) or not text:
            return {}
        d = np.unique(ngram_hashes(normalise(text), self.config.n))
        lo = np.searchsorted(self._keys, d, side="left")
        hi = np.searchsorted(self._keys, d, side="right")
        owners = np.concatenate([self._items[a:b] for a, b in zip(lo.tolist(), hi.tolist()) if b > a] or
                                [np.empty(0, np.uint32)])
        uniq, got = np.unique(owners, return_counts=True)
        return {self.ids[i]: float(g / self._counts[i]) for i, g in zip(uniq.tolist(), got.tolist())}


# -- reading item files ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReadLimits:
    max_bytes: int = 4 << 30  # a file
    max_line_bytes: int = 1 << 20
    max_items: int = 10_000_000
    max_text_chars: int = 200_000


def _default_name(source: str) -> str:
    base = os.path.basename(source.rstrip("/")) or "benchmark"
    for ext in (".gz", ".jsonl", ".json", ".txt", ".tsv"):
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
    return base or "benchmark"


def read_items(fh: BinaryIO, source: str, benchmark: str | None = None,
               limits: ReadLimits = ReadLimits()) -> Iterator[BenchmarkItem]:
    """The items of one file, streamed: JSON Lines (``{"text": …, "benchmark": …, "id": …}``,
    detected by a first non-blank line starting with ``{``) or one text per line.

    ``source`` names the file in messages and ids; ``benchmark`` is the name of items without
    their own (default: the file's name without extension).  Bounded: the file's size, each
    line's length, the number of items and each text's length (:class:`ReadLimits`).  A line that
    cannot be used raises :class:`ConfigError` with its number, never its content.
    """
    default = benchmark or _default_name(source)
    if not _BENCHMARK_NAME.fullmatch(default):
        raise ConfigError(f"{source}: a benchmark name must be 1 to 100 printable characters")
    stem = _default_name(source)
    fmt = None
    read = 0
    count = 0
    reader = io.BufferedReader(fh) if not hasattr(fh, "peek") else fh
    for lineno in itertools.count(1):
        raw = reader.readline(limits.max_line_bytes + 1)
        if not raw:
            return
        read += len(raw)
        if read > limits.max_bytes:
            raise ConfigError(f"{source}: more than {limits.max_bytes:,} bytes")
        if len(raw) > limits.max_line_bytes and not raw.endswith(b"\n"):
            raise ConfigError(f"{source}: line {lineno} is longer than {limits.max_line_bytes:,} bytes")
        if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise ConfigError(f"{source}: line {lineno} is not UTF-8") from None
        if not line.strip():
            continue
        if fmt is None:
            fmt = "jsonl" if line.lstrip().startswith("{") else "text"
        if fmt == "jsonl":
            item = _json_item(line, source, lineno, default, stem, limits)
        else:
            text = line.strip()
            if len(text) > limits.max_text_chars:
                raise ConfigError(f"{source}: line {lineno}: a text longer than {limits.max_text_chars:,} characters")
            item = BenchmarkItem(default, f"{stem}:{lineno}", text)
        count += 1
        if count > limits.max_items:
            raise ConfigError(f"{source}: more than {limits.max_items:,} items")
        yield item


def _json_item(line: str, source: str, lineno: int, default: str, stem: str, limits: ReadLimits) -> BenchmarkItem:
    where = f"{source}: line {lineno}"
    try:
        obj = json.loads(line)
    except (ValueError, RecursionError):
        raise ConfigError(f"{where} is not a JSON object (the file is read as JSON Lines: its first line starts with '{{')") from None
    if not isinstance(obj, dict):
        raise ConfigError(f"{where} is not a JSON object")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"{where} has no \"text\" string")
    if len(text) > limits.max_text_chars:
        raise ConfigError(f"{where}: a text longer than {limits.max_text_chars:,} characters")
    bench = obj.get("benchmark", default)
    if not isinstance(bench, str) or not _BENCHMARK_NAME.fullmatch(bench):
        raise ConfigError(f"{where}: \"benchmark\" must be 1 to 100 printable characters")
    item_id = obj.get("id")
    if item_id is None:
        item_id = f"{stem}:{lineno}"
    elif isinstance(item_id, bool) or not isinstance(item_id, (str, int)) or not _BENCHMARK_NAME.fullmatch(str(item_id)):
        raise ConfigError(f"{where}: \"id\" must be a string or an integer (1 to 100 printable characters)")
    return BenchmarkItem(bench, str(item_id), text)
