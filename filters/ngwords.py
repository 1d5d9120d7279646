"""NG-word filter: the share of a document's Japanese letters covered by inappropriate expressions.

Swallow (reference §5) matches a dictionary greedily, longest match first, left to right, and
rejects a document when matched characters / Japanese letters ≥ 0.05.  Its list was never
published; ours is in ``ngwords/*.txt``, one file per category, written for this project.

Lists: ``filters/ngword_lists.py`` (their format, how they are read, how terms and text are
folded).

Matching.  Text and terms are folded for matching only, keeping offsets into the original text:
full-width ASCII becomes ASCII, ASCII letters lower case, half-width katakana full-width
(ｶｼﾞﾉ → カジノ).  One compiled character-class regex lists every place where a possible first
character of a term is followed by a possible second character; a set test keeps the places
whose two characters really begin a term.  Most documents have none and cost that one C-level
scan.  At each remaining place, left to right, the terms starting there are looked up in a
dict-of-dicts trie and tried longest first; the first accepted one is counted and the scan goes
on after it.  If none is accepted, the scan goes on at the next place.

* ``mode="naive"``: every candidate is accepted (plain greedy longest match, as Swallow).
* ``mode="morpheme"``: a candidate must not split a word.  Each edge of the match is checked by
  the kind of the term's character on that edge:

  - ASCII letter or digit: the neighbouring character must not be an ASCII letter, digit or
    ``_`` (``sm`` does not count in ``small`` or ``SMTP``, ``anal`` not in ``analysis``);
  - katakana: the neighbour must not be katakana or ``ー`` (グロ does not count in グローバル
    or アグロ, ロリ not in カロリー), and the edge must be a morpheme boundary;
  - anything else (kanji, hiragana): the edge must be a morpheme boundary (中出し does not
    count in 背中出し, 非人 not in 非人道的, えろ not in 考えろ).

  Morpheme boundaries come from fugashi with unidic-lite, run only on a window of about ±16
  characters around the candidate (nearby candidates share one window), so documents without
  candidates never reach the tagger and documents with a few cost a few short tagger calls.
  The tagger is created once per :class:`NgMatcher` (in ``DoFn.setup``).

Fraction.  ``fraction = matched_chars / japanese_letters``, with Japanese letters as in the
quality rules (hiragana U+3041–3096, katakana U+30A1–30FA, 々〇〻 and U+3400–9FFF,
U+F900–FAFF, 、，。．！？).  Matched characters are counted in the original text (an ASCII
term's letters count too).  With no match the fraction is 0.  A text with matches but no
Japanese letters is divided by 1, so its fraction is the matched character count (≥ 1) and it
is always rejected; after language ID such texts do not reach this filter in practice.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
import re
from dataclasses import dataclass

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Asset, Column, Count, DetailKind, Reason, Resources, Stage

from .ngword_lists import (
    _CATEGORY_RE, _CHAR_FOLD_STR, _HALFWIDTH_KANA_RE, EXTRA_CATEGORY, FLAGS, NgListError, NgTerm,
    _variants, fold, load_lists, parse_list,
)

__all__ = [
    "NgWordsStage",
    "ALL_CATEGORIES", "FLAGS", "NgWordsConfig", "NgTerm", "NgResult", "NgMatcher", "NgListError",
    "NgTermStats", "load_lists", "parse_list", "count_japanese_letters", "fold",
]

ALL_CATEGORIES = ("adult", "violence_discrimination", "gambling", "spam_seo")
_JA_RUN_RE = re.compile("[\u3041-\u3096\u30a1-\u30fa\u3005\u3007\u303b\u3400-\u9fff\uf900-\ufaff、，。．！？]+")
_WINDOW = 16  # characters of context on each side of a candidate given to the tagger
_MARGIN = 8  # a cached window serves a candidate only with this much context left on both sides
_MAX_WINDOW = 1024


def _is_katakana(ch: str) -> bool:
    o = ord(ch)
    return 0x30A1 <= o <= 0x30FA or 0x30FC <= o <= 0x30FE  # katakana, ー, ヽ, ヾ (not ・)


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def count_japanese_letters(text: str) -> int:
    """Hiragana + katakana + kanji + 、，。．！？ (the quality rules' definition)."""
    return sum(map(len, _JA_RUN_RE.findall(text)))


# -- configuration ---------------------------------------------------------------------------
@dataclass(frozen=True)
class NgWordsConfig:
    #: Lists to load, by file name (``<category>.txt`` in ``lists_dir``).
    categories: tuple[str, ...] = ALL_CATEGORIES
    #: Reject when matched characters / Japanese letters ≥ this (swallow-v1: 0.05).
    max_fraction: float = setting(0.05, 0.0, 1.0, lo_open=True)
    #: "morpheme": a match must not split a word (see the module docstring); "naive": any match.
    mode: str = "morpheme"
    #: Directory of the list files; None: the package's ``ngwords/`` directory.
    lists_dir: str | None = None
    #: More terms (category "extra", no flags), e.g. from the command line.
    extra_terms: tuple[str, ...] = ()

    def validate(self) -> None:
        if self.mode not in ("morpheme", "naive"):
            raise ConfigError(f"ngwords.mode must be morpheme or naive, not {self.mode!r}")
        check_settings(self, "ngwords")
        if self.lists_dir is not None and (not isinstance(self.lists_dir, str) or not self.lists_dir.strip()):
            raise ConfigError("ngwords.lists_dir must be a non-empty path or unset")
        if isinstance(self.categories, str):
            raise ConfigError("ngwords.categories must be a tuple of names, not a string")
        if not self.categories and not self.extra_terms:
            raise ConfigError("ngwords: no categories and no extra_terms: nothing to match")
        for c in self.categories:
            if not isinstance(c, str) or not _CATEGORY_RE.match(c) or c == EXTRA_CATEGORY:
                raise ConfigError(f"ngwords.categories: bad category name {c!r}")
        if len(set(self.categories)) != len(self.categories):
            raise ConfigError("ngwords.categories has duplicates")
        if isinstance(self.extra_terms, str):
            raise ConfigError("ngwords.extra_terms must be a tuple of terms, not a string")
        for t in self.extra_terms:
            if not isinstance(t, str) or not t.strip() or t != t.strip() or any(c in t for c in "\t\r\n"):
                raise ConfigError(f"ngwords.extra_terms: bad term {t!r}")


# -- results ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NgResult:
    matched_chars: int  # characters of the original text covered by counted matches
    japanese_letters: int
    fraction: float  # matched_chars / japanese_letters (see the module docstring for 0 letters)
    #: (term as listed, matched characters) per counted term, in order of first occurrence.
    hits: tuple[tuple[str, int], ...]
    rejected: bool  # fraction ≥ max_fraction (and at least one match)

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(t for t, _ in self.hits)


class NgTermStats:
    """Per-term tally for the pipeline's statistics: which terms remove which documents.

    ``add(result, doc_chars)`` counts, for every term that matched in a *rejected* document,
    one document, its ``doc_chars`` and the term's matched characters.  Tallies merge with
    ``merge`` (a Beam CombineFn can keep one per worker).
    """

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = {}  # term -> [documents, document chars, matched chars]

    def add(self, result: NgResult, doc_chars: int) -> None:
        if not result.rejected:
            return
        for term, chars in result.hits:
            c = self.counts.setdefault(term, [0, 0, 0])
            c[0] += 1
            c[1] += doc_chars
            c[2] += chars

    def merge(self, other: "NgTermStats") -> "NgTermStats":
        for term, (d, n, m) in other.counts.items():
            c = self.counts.setdefault(term, [0, 0, 0])
            c[0] += d
            c[1] += n
            c[2] += m
        return self

    def rows(self, categories: dict[str, str] | None = None) -> list[tuple[str, str, int, int, int]]:
        """(term, category, documents, document chars, matched chars), most documents first."""
        cats = categories or {}
        rows = [(t, cats.get(t, ""), d, n, m) for t, (d, n, m) in self.counts.items()]
        rows.sort(key=lambda r: (-r[2], -r[3], r[0]))
        return rows


# -- matcher ---------------------------------------------------------------------------------
def _kind(ch: str) -> str:
    if _is_ascii_word(ch):
        return "ascii"
    if _is_katakana(ch):
        return "katakana"
    return "other"


@dataclass(frozen=True, slots=True)
class _Entry:
    term: NgTerm
    first: str  # kind of the first folded character: ascii, katakana, other
    last: str


def _prefilter(keys: list[str]) -> tuple[re.Pattern, frozenset[str]]:
    """A regex yielding (character, next character) at every possible first character of a
    term, and the set of the terms' first two characters (in every case and width).

    The regex starts with a character class, so ``re`` skips to the possible first characters
    in C; one ``findall`` and a set test settle the common case of a document without
    candidates.  (An alternation of the terms themselves is several times slower: ``re`` tries
    its branches one after the other at every possible first character.)
    """
    firsts: set[str] = set()
    seconds: set[str] = set()
    bigrams: set[str] = set()
    for k in keys:
        f, s = _variants(k[0]), _variants(k[1])
        firsts.update(f)
        seconds.update(s)
        bigrams.update(a + b for a in f for b in s)
    cls = lambda chars: "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"  # noqa: E731
    return re.compile(f"({cls(firsts)})(?=({cls(seconds)}))"), frozenset(bigrams)


def _make_tagger():
    try:
        import fugashi
        import unidic_lite
    except ImportError as exc:
        raise ImportError(
            "ngwords mode 'morpheme' needs fugashi and unidic-lite (pip install fugashi unidic-lite); "
            "mode 'naive' needs neither"
        ) from exc
    dicdir = unidic_lite.DICDIR
    rc = os.path.join(dicdir, "mecabrc")
    return fugashi.GenericTagger(f'-Owakati -r "{rc if os.path.exists(rc) else os.devnull}" -d "{dicdir}"')


class NgMatcher:
    """Loads the lists and the tagger once (in ``DoFn.setup``) and scans documents."""

    def __init__(self, cfg: NgWordsConfig | None = None):
        self.cfg = cfg = cfg or NgWordsConfig()
        cfg.validate()
        self.terms = load_lists(cfg)
        if not self.terms:
            raise NgListError("the configured NG-word lists hold no term")
        #: term as listed -> category (for statistics)
        self.categories = {t.term: t.category for t in self.terms}
        self._trie: dict = {}
        keys = []
        for t in self.terms:
            key = fold(t.term)[0]
            keys.append(key)
            node = self._trie
            for ch in key:
                node = node.setdefault(ch, {})
            node[""] = _Entry(t, _kind(key[0]), _kind(key[-1]))
        self._rx, self._bigrams = _prefilter(keys)
        self._naive = cfg.mode == "naive"
        self._tagger = None if self._naive else _make_tagger()
        #: How many times the tagger ran (windows segmented) since this matcher was made.
        self.tagger_calls = 0

    def __reduce__(self):  # picklable: rebuilt from the configuration
        return (type(self), (self.cfg,))

    def has_candidate(self, text: str) -> bool:
        """Whether any term could start in ``text`` (the prefilter; False means no match)."""
        work = fold(text)[0] if _HALFWIDTH_KANA_RE.search(text) else text
        return bool(self._candidates(work))

    def _candidates(self, work: str) -> list[int]:
        """Positions where the first two characters of some term occur, ascending."""
        pairs = self._rx.findall(work)
        if not pairs:
            return []
        found = self._bigrams.intersection(map("".join, pairs))
        starts = []
        for bigram in found:
            i = work.find(bigram)
            while i >= 0:
                starts.append(i)
                i = work.find(bigram, i + 1)
        starts.sort()
        return starts

    # -- segmentation ----------------------------------------------------------------------
    def _segment(self, window: str) -> list[int]:
        """Offsets (within ``window``) of the starts and ends of its morphemes."""
        self.tagger_calls += 1
        out = self._tagger.parse(window.replace("\x00", " "))
        bounds: list[int] = []
        pos = 0
        for surface in out.split(" "):
            if not surface:
                continue
            k = window.find(surface, pos)
            if k < 0:
                break
            bounds.append(k)
            pos = k + len(surface)
            bounds.append(pos)
        return bounds

    # -- scanning ----------------------------------------------------------------------------
    def _ends_at(self, work: str, s: int) -> list[tuple[int, _Entry]]:
        """(end, entry) of every term starting at ``s``, longest first."""
        out = []
        node = self._trie
        i, n = s, len(work)
        get = _CHAR_FOLD_STR.get
        while i < n:
            c = work[i]
            node = node.get(get(c, c))
            if node is None:
                break
            i += 1
            entry = node.get("")
            if entry is not None:
                out.append((i, entry))
        out.reverse()
        return out

    def scan(self, text: str) -> NgResult:
        ja = count_japanese_letters(text)
        # Matching folds character by character; only half-width katakana (which can join
        # two characters into one) need the whole text folded, with an offset map.
        if _HALFWIDTH_KANA_RE.search(text):
            work, offsets = fold(text)
        else:
            work, offsets = text, None
        starts = self._candidates(work)
        if not starts:
            return NgResult(0, ja, 0.0, (), False)
        hits: dict[str, int] = {}
        matched = 0
        windows: list[tuple[int, int, set[int]]] = []  # (start, end, morpheme boundaries)
        pos = 0  # text before pos is consumed by counted matches
        for s in starts:
            if s < pos:
                continue
            for e, entry in self._ends_at(work, s):
                if self._naive or entry.term.naive_ok or self._accept(work, s, e, entry, starts, windows):
                    chars = (offsets[e] - offsets[s]) if offsets is not None else e - s
                    matched += chars
                    hits[entry.term.term] = hits.get(entry.term.term, 0) + chars
                    pos = e
                    break
        fraction = matched / ja if ja else float(matched)
        rejected = matched > 0 and fraction >= self.cfg.max_fraction
        return NgResult(matched, ja, fraction, tuple(hits.items()), rejected)

    def _accept(self, work: str, s: int, e: int, entry: _Entry, starts: list[int], windows: list) -> bool:
        n = len(work)
        need_left = need_right = False
        if s > 0:
            prev = work[s - 1]
            if entry.first == "ascii":
                if _is_ascii_word(_CHAR_FOLD_STR.get(prev, prev)):
                    return False
            elif entry.first == "katakana":
                if _is_katakana(prev):
                    return False
                need_left = True
            else:
                need_left = True
        if e < n:
            nxt = work[e]
            if entry.last == "ascii":
                if _is_ascii_word(_CHAR_FOLD_STR.get(nxt, nxt)):
                    return False
            elif entry.last == "katakana":
                if _is_katakana(nxt):
                    return False
                need_right = True
            else:
                need_right = True
        if not (need_left or need_right):
            return True
        bounds = self._boundaries(work, s, e, starts, windows)
        return (not need_left or s in bounds) and (not need_right or e in bounds)

    def _boundaries(self, work: str, s: int, e: int, starts: list[int], windows: list) -> set[int]:
        n = len(work)
        for ws, we, b in windows:
            if ws <= s and e <= we and (ws == 0 or s - ws >= _MARGIN) and (we == n or we - e >= _MARGIN):
                return b
        ws, we = max(0, s - _WINDOW), min(n, e + _WINDOW)
        # Let the window take in the candidates that follow closely, so they share one call.
        i = bisect.bisect_right(starts, s)
        while i < len(starts) and starts[i] < we + _WINDOW and we < n and we - ws < _MAX_WINDOW:
            ends = self._ends_at(work, starts[i])
            if ends:
                we = max(we, min(n, ends[0][0] + _WINDOW))
            i += 1
        bounds = {ws + k for k in self._segment(work[ws:we])}
        windows.append((ws, we, bounds))
        return bounds


class NgWordsStage(Stage):
    """ngwords: share of NG-word characters among Japanese letters; per-term tallies of the
    documents each term occurs in, and of those it removes."""

    name = "ngwords"
    summary = "share of NG-word characters among Japanese letters"
    settings = NgWordsConfig
    reasons = (
        *Reason.kept("no NG word", "clean"),
        *Reason.kept("NG words below the threshold", "matched"),
        *Reason.dropped("share at least ngwords.max_fraction", "ng_fraction"),
    )
    details = (
        DetailKind("term_matched", "term", "documents containing the term, matched characters"),
        DetailKind("term_removed", "term", "documents the term occurs in that were dropped"),
    )

    @classmethod
    def columns(cls, settings: NgWordsConfig) -> tuple[Column, ...]:
        return (Column("ng_fraction", "float64", "NG-word characters / Japanese letters (ngwords)"),)

    @classmethod
    def assets(cls, settings: NgWordsConfig) -> tuple[Asset, ...]:
        return (Asset("NG-word lists directory", settings.lists_dir, is_dir=True),)

    def setup(self, config, resources: Resources) -> None:
        cfg = config.ngwords
        if cfg.lists_dir:  # on object storage: the configured lists, copied once per machine
            local = resources.local_dir(cfg.lists_dir, [f"{c}.txt" for c in cfg.categories])
            cfg = dataclasses.replace(cfg, lists_dir=local)
        self.matcher: NgMatcher = resources.get(("ngwords", cfg), lambda: NgMatcher(cfg))

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        n = len(text)
        res = self.matcher.scan(text)
        for term, chars in res.hits:
            count.detail("term_matched", term, chars=chars)
            if res.rejected:
                count.detail("term_removed", term, chars=n, nbytes=doc.payload_bytes)
        doc.signals["ng_fraction"] = res.fraction
        if res.rejected:
            count.dropped("ng_fraction", chars=n)
            return None
        count.kept("matched" if res.hits else "clean", chars=n)
        return doc
