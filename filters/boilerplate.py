"""Boilerplate lines learned from the crawl: lines that repeat across a host's pages (pure Python).

Extraction keeps some of a site's furniture: menus, "ページの先頭へ", copyright and cookie lines.
They are the same on every page of the host, so they can be learned from the crawl itself
(CCNet removes paragraphs that repeat within a shard by their hashes).  This module is the plain
core of that stage and its declaration (:class:`BoilerplateStage`); the counting is distributed
by the pipeline (``pipelines/boilerplate.py``: line hashes, not texts, travel to it).

* :func:`normalise_line` / :func:`line_hash`: a line is compared after NFKC, case folding,
  whitespace collapsed and every run of digits made ``0`` (``© 2019 …`` and ``© 2024 …``, ``2023年5月27日
  更新`` and ``2024年1月3日 更新`` are the same line), hashed to 64 bits (BLAKE2b: the same on
  every worker).  Lines shorter than :attr:`BoilerplateConfig.min_line_chars` or longer than
  :attr:`BoilerplateConfig.max_line_chars` after normalisation are never boilerplate (a long line
  is content, however often it is quoted).
* :class:`HostSample`: the accumulator of one host, a **bottom-k sample of its pages by URL
  hash**: the ``sample_docs`` pages with the smallest hashes of their URL, each with the set of
  its (at most ``max_lines_per_doc``) line hashes.  Two captures of one URL (a page re-crawled in
  the next snapshot) are one page, so a page cannot make its own lines frequent.  :meth:`merge`
  is a combiner's merge: the result does not depend on the order or grouping of merges (the
  bottom-k of a union is the bottom-k of the union of bottom-k's, and the line sets of one URL
  are united), so runs are reproducible.  Memory per host is bounded by ``sample_docs ×
  max_lines_per_doc`` hashes (256 × 512 × 8 bytes = 1 MiB at most; pages average far fewer lines).
* :meth:`HostSample.frequent`: the hashes of lines found in at least ``min_docs`` sampled pages
  **and** at least ``min_share`` of them.
* :func:`remove_lines`: a text without its frequent lines, with the number of lines and
  characters removed.

Cost: one normalisation and one BLAKE2b per line, linear in the text.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import DetailKind, Reason, Stage

from .decontam import nfkc

__all__ = ["BoilerplateConfig", "HostSample", "normalise_line", "line_hash", "url_key", "doc_line_hashes",
           "remove_lines", "removed_lines", "normalised_lines", "BoilerplateStage"]

_SPACE = re.compile(r"\s+")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class BoilerplateConfig:
    #: run the stage (after every file is committed, before dedup; needs dedup.enabled)
    enabled: bool = False
    #: pages of a host kept in its sample (the smallest URL hashes)
    sample_docs: int = setting(256, 8, 100_000)
    #: distinct lines of a page kept in the sample
    max_lines_per_doc: int = setting(512, 16, 100_000)
    #: a line is boilerplate when it is in at least this many sampled pages of its host …
    min_docs: int = setting(4, 2, 1_000_000)
    #: … and in at least this share of them
    min_share: float = setting(0.3, 0.0, 1.0)
    #: lines shorter or longer than these (normalised characters) are never boilerplate
    min_line_chars: int = setting(2, 1, 10_000)
    max_line_chars: int = setting(200, 2, 100_000)
    #: the most removed lines reported per snapshot (details kind removed_line)
    top_lines: int = setting(50, 1, 10_000)

    def validate(self) -> "BoilerplateConfig":
        check_settings(self, "boilerplate")
        return self


def normalise_line(line: str) -> str:
    """NFKC, case-folded, whitespace collapsed and trimmed, every run of digits ``0``."""
    return _DIGITS.sub("0", _SPACE.sub(" ", unicodedata.normalize("NFKC", line).casefold()).strip())



def normalised_lines(text: str) -> list[str]:
    """``[normalise_line(line) for line in text.split("\n")]``, computed on the whole text at once
    (NFKC only on the runs of characters it can change, ``filters.decontam.nfkc``): NFKC, case
    folding and the digit rule never make or remove a line break, so the lines stay aligned
    (checked; a text where they would not is normalised line by line)."""
    lines = text.split("\n")
    folded = (text if unicodedata.is_normalized("NFKC", text) else nfkc(text)).casefold()
    norm = _DIGITS.sub("0", folded).split("\n")
    if len(norm) != len(lines):  # pragma: no cover - cannot happen with Unicode's mappings
        return [normalise_line(line) for line in lines]
    return [" ".join(n.split()) for n in norm]  # str.split's whitespace is re's \s


def line_hash(norm: str) -> int:
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def url_key(url: str) -> int:
    """A page's identity in the sample: its URL without the fragment, scheme or a ``www.``."""
    u = url.strip().split("#", 1)[0]
    u = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://(?:www\.)?", "", u)
    return line_hash(u)


def _countable(norm: str, cfg: BoilerplateConfig) -> bool:
    return cfg.min_line_chars <= len(norm) <= cfg.max_line_chars


def doc_line_hashes(text: str, cfg: BoilerplateConfig = BoilerplateConfig()) -> frozenset[int]:
    """The distinct hashes of a page's countable lines (at most ``max_lines_per_doc``: the first)."""
    out: set[int] = set()
    for norm in normalised_lines(text):
        if _countable(norm, cfg):
            out.add(line_hash(norm))
            if len(out) >= cfg.max_lines_per_doc:
                break
    return frozenset(out)


class HostSample:
    """The bottom-k sample of one host's pages (a combiner accumulator)."""

    __slots__ = ("k", "docs", "_heap")

    def __init__(self, k: int):
        self.k = k
        self.docs: dict[int, frozenset[int]] = {}
        self._heap: list[int] = []  # the keys held, negated: the largest on top

    def add(self, key: int, hashes: Iterable[int]) -> "HostSample":
        """One page (``url_key``, its line hashes); O(log k)."""
        hashes = frozenset(hashes)
        if key in self.docs:
            self.docs[key] = self.docs[key] | hashes
            return self
        if len(self.docs) < self.k:
            heapq.heappush(self._heap, -key)
        elif key < -self._heap[0]:
            del self.docs[-heapq.heappushpop(self._heap, -key)]
        else:
            return self  # not among the k smallest: it can never be
        self.docs[key] = hashes
        return self

    def merge(self, other: "HostSample") -> "HostSample":
        for key, hashes in other.docs.items():
            if key in self.docs:
                self.docs[key] = self.docs[key] | hashes
            else:
                self.docs[key] = hashes
        if len(self.docs) > self.k:
            for key in sorted(self.docs)[self.k:]:
                del self.docs[key]
        self._heap = [-key for key in self.docs]
        heapq.heapify(self._heap)
        return self

    def frequent(self, cfg: BoilerplateConfig = BoilerplateConfig()) -> frozenset[int]:
        """Hashes of the lines in at least ``min_docs`` sampled pages and ``min_share`` of them."""
        n = len(self.docs)
        need = max(cfg.min_docs, math.ceil(cfg.min_share * n))
        if n < need:
            return frozenset()
        counts: dict[int, int] = {}
        for hashes in self.docs.values():
            for h in hashes:
                counts[h] = counts.get(h, 0) + 1
        return frozenset(h for h, c in counts.items() if c >= need)


def remove_lines(text: str, frequent: frozenset[int] | set[int],
                 cfg: BoilerplateConfig = BoilerplateConfig()) -> tuple[str, int, int]:
    """``text`` without its frequent lines: (text, lines removed, characters removed)."""
    if not frequent or not text:
        return text, 0, 0
    kept: list[str] = []
    removed = 0
    for line, norm in zip(text.split("\n"), normalised_lines(text)):
        if _countable(norm, cfg) and line_hash(norm) in frequent:
            removed += 1
            continue
        kept.append(line)
    if not removed:
        return text, 0, 0
    out = "\n".join(kept)
    return out, removed, len(text) - len(out)


def removed_lines(text: str, frequent: frozenset[int] | set[int], cfg: BoilerplateConfig = BoilerplateConfig()) -> list[str]:
    """The lines of ``text`` that :func:`remove_lines` removes, stripped (for the report)."""
    if not frequent or not text:
        return []
    out = []
    for line, norm in zip(text.split("\n"), normalised_lines(text)):
        if _countable(norm, cfg) and line_hash(norm) in frequent:
            out.append(line.strip())
    return out


class BoilerplateStage(Stage):
    """boilerplate: lines repeated across a host's pages, removed (implemented by the Beam graph
    after every file is committed, before dedup: ``pipelines/boilerplate.py``)."""

    name = "boilerplate"
    summary = "lines repeated across many pages of the same host (menus, footers), removed"
    settings = BoilerplateConfig
    enabled_by = "enabled"
    fingerprint_when_on = True
    per_file = False
    chars = "text characters (after the removal when kept)"
    reasons = (
        *Reason.kept("boilerplate lines of its host removed", "lines_removed"),
        *Reason.kept("no boilerplate line of its host", "unchanged"),
        *Reason.dropped("every line of the text was boilerplate of its host", "emptied"),
    )
    details = (DetailKind("removed_line", "the line (stripped)", "the most removed lines per snapshot "
                          "(boilerplate.top_lines): documents that lost the line, characters removed"),)
