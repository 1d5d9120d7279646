"""Swallow's 21 document quality rules (``../shared/docs/swallow-reference.md`` §4), pure Python.

:func:`measure` computes the 21 measures of a text, :func:`evaluate` applies the rules of a
:class:`QualityConfig` to them.  A document is rejected when any enabled rule holds.

Units
-----
* **lines**: one per element of ``text.split("\\n")`` (the line's sentences joined, see below),
  *including empty and whitespace-only lines*
  (a faithful reading of "Σ over distinct lines of (count − 1) / number of lines" applied to
  ``text.split("\\n")``; Swallow's released code counts them too).  A ``"\\r"`` stays part of
  its line.  So a text that ends with ``"\\n"`` has a last, empty line, and k + 1 empty lines
  (paragraphs separated by blank lines) are k duplicate lines.
* **sentences**: in each line, the matches of ``[^。．！？!?]+[。．！？!?]?``.  A sentence never
  spans lines; whitespace-only runs are sentences; a terminal mark that follows another
  terminal mark (the second ``！`` of ``！！``) or starts a line belongs to no sentence.
* **characters**: Python code points (an astral character counts 1; no NFKC).
  hiragana U+3041–U+3096; katakana U+30A1–U+30FA (the long-vowel mark ー U+30FC, ・ U+30FB
  and ゝゞヽヾ are not kana here); kanji 々 〇 〻, U+3400–U+9FFF, U+F900–U+FAFF (astral
  CJK extensions such as U+20000 are *not* kanji, as in Swallow's code under Python 3);
  toten 、，; kuten 。．！？ (full width only).
  Japanese letters = hiragana + katakana + kanji + toten + kuten.

Measures and rules (``RULES`` order; a rule rejects when its comparison holds)
-----------------------------------------------------------------------------
 #  rule                  measure                  definition                                  rejects if
 1  too_short             letters                  len(text), whitespace and newlines included  < 400
 2  dup_line_frac         dup_line_frac            Σ over distinct lines (count − 1)            > 0.30
                                                   / number of lines
 3  dup_sentence_frac     dup_sentence_frac        the same over sentences                      > 0.30
 4  dup_line_chars        dup_line_char_frac       Σ len(line)·(count − 1) / Σ len(line)        > 0.20
 5  dup_sentence_chars    dup_sentence_char_frac   the same over sentences                      > 0.20
 6  top_2gram             top_2gram_frac           occurrences of the most frequent character   > 0.20
                                                   2-gram / all 2-gram occurrences
                                                   (len(text) − 1), over the raw text
 7  top_3gram             top_3gram_frac           the same, n = 3                              > 0.18
 8  top_4gram             top_4gram_frac           the same, n = 4                              > 0.16
 9  dup_5gram             dup_5gram_frac           distinct 5-grams occurring more than once    > 0.15
                                                   / distinct 5-grams, over the raw text
10  dup_6gram             dup_6gram_frac           the same, n = 6                              > 0.14
11  dup_7gram             dup_7gram_frac           n = 7                                        > 0.13
12  dup_8gram             dup_8gram_frac           n = 8                                        > 0.12
13  dup_9gram             dup_9gram_frac           n = 9                                        > 0.11
14  dup_10gram            dup_10gram_frac          n = 10                                       > 0.10
15  low_hiragana          hiragana_frac            hiragana / Japanese letters                  < 0.2
16  high_katakana         katakana_frac            katakana / Japanese letters                  > 0.5
17  low_japanese          japanese_frac            Japanese letters / letters                   < 0.5
18  few_japanese_letters  japanese_letters         number of Japanese letters                   < 400
19  sentence_length       avg_sentence_len         mean characters per sentence (terminal       < 20 or > 90
                                                   mark included)
20  long_sentence         longest_sentence         characters of the longest sentence           > 200
21  ellipsis_sentences    ellipsis_frac            sentences whose strip() ends with ・ or …    > 0.2
                                                   / sentences

A threshold exactly equal to the measure never rejects (for example 3 duplicate lines of 10).

Lines follow Swallow's released v1 code (the reference gives the code where paper and code
differ): a line ("paragraph") is the concatenation of that line's sentences, so a terminal
mark that belongs to no sentence (the second ``！`` of ``！！``, a mark that starts a line) is
not part of the line for rules 2 and 4.

``letters``, ``japanese_letters`` and ``longest_sentence`` are ``int``; the others ``float``.

Zero denominators: a measure whose denominator is 0 is 0 (no sentences: ``dup_sentence_*``,
``avg_sentence_len``, ``longest_sentence`` and ``ellipsis_frac`` are 0; a text shorter than n:
the n-gram measures are 0; no Japanese letters: ``hiragana_frac`` and ``katakana_frac`` are 0;
only newlines: ``dup_line_char_frac`` is 0).  So such texts fail ``sentence_length`` and
``low_hiragana`` and pass ``long_sentence``, as Swallow's code decides where it does not crash
(it raises on texts without sentences or shorter than 4 characters).  ``measure`` never raises
on a ``str`` (``None`` is taken as ``""``).

Presets: :data:`SWALLOW_V1` (all 21 rules, Swallow v1 thresholds) and :data:`SWALLOW_LIGHT`
(the same without rules 9–14 and 20, the rules Swallow's v2 dropped).  Rules are switched off by
name with ``QualityConfig.disabled``; :func:`evaluate` still computes every measure, so the
per-rule "bite" of disabled rules can be studied from the stored measures
(:func:`evaluate_measures` re-judges them under another configuration).

Speed: character classes are counted over a numpy array of code points, sentences with one
regex scan per line, n-grams with numpy (2- and 3-grams exactly, packed in 64-bit words;
4- to 10-grams by a 64-bit polynomial hash, so two distinct n-grams collide with probability
≈ 2^-64 per pair).  A 2,000-character document takes well under 1 ms
(``bench/bench_quality_cost.py``, ``bench/bench_filters.py``).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Column, Count, DetailKind, Reason, Resources, Stage

__all__ = [
    "QualityStage",
    "RULES", "MEASURES", "RULE_MEASURE", "QualityConfig", "QualityResult",
    "SWALLOW_V1", "SWALLOW_LIGHT", "QUALITY_PRESETS",
    "measure", "evaluate", "evaluate_measures", "measure_columns",
]

#: Swallow's 21 rules in the reference's order: (rule name = the drop reason, the measure it
#: reads, what rejects).
_RULES: tuple[tuple[str, str, str], ...] = (
    ("too_short", "letters", "1: fewer than 400 characters"),
    ("dup_line_frac", "dup_line_frac", "2: duplicate lines > 30 %"),
    ("dup_sentence_frac", "dup_sentence_frac", "3: duplicate sentences > 30 %"),
    ("dup_line_chars", "dup_line_char_frac", "4: characters in duplicate lines > 20 %"),
    ("dup_sentence_chars", "dup_sentence_char_frac", "5: characters in duplicate sentences > 20 %"),
    ("top_2gram", "top_2gram_frac", "6: most frequent 2-gram share > 20 %"),
    ("top_3gram", "top_3gram_frac", "7: most frequent 3-gram share > 18 %"),
    ("top_4gram", "top_4gram_frac", "8: most frequent 4-gram share > 16 %"),
    ("dup_5gram", "dup_5gram_frac", "9: distinct repeated 5-grams > 15 %"),
    ("dup_6gram", "dup_6gram_frac", "10: distinct repeated 6-grams > 14 %"),
    ("dup_7gram", "dup_7gram_frac", "11: distinct repeated 7-grams > 13 %"),
    ("dup_8gram", "dup_8gram_frac", "12: distinct repeated 8-grams > 12 %"),
    ("dup_9gram", "dup_9gram_frac", "13: distinct repeated 9-grams > 11 %"),
    ("dup_10gram", "dup_10gram_frac", "14: distinct repeated 10-grams > 10 %"),
    ("low_hiragana", "hiragana_frac", "15: hiragana < 20 % of Japanese letters"),
    ("high_katakana", "katakana_frac", "16: katakana > 50 % of Japanese letters"),
    ("low_japanese", "japanese_frac", "17: Japanese letters < 50 % of characters"),
    ("few_japanese_letters", "japanese_letters", "18: fewer than 400 Japanese letters"),
    ("sentence_length", "avg_sentence_len", "19: mean sentence length < 20 or > 90"),
    ("long_sentence", "longest_sentence", "20: a sentence longer than 200 characters"),
    ("ellipsis_sentences", "ellipsis_frac", "21: > 20 % of sentences end with ・ or …"),
)
#: Rule names in the reference's order (1 … 21): the quality stage's drop reasons.
RULES: tuple[str, ...] = tuple(r for r, _m, _what in _RULES)
#: The measure each rule reads.
RULE_MEASURE: dict[str, str] = {r: m for r, m, _what in _RULES}

#: Measure names in rule order (the keys of :func:`measure`'s result).
MEASURES: tuple[str, ...] = tuple(RULE_MEASURE[r] for r in RULES)
#: The output column of each measure, in :data:`MEASURES` order.
_COLUMN_NAMES: tuple[str, ...] = tuple(f"q_{m}" for m in MEASURES)
_INT_MEASURES = frozenset({"letters", "japanese_letters", "longest_sentence"})

#: Rules Swallow's v2 dropped (duplicate n-grams 9–14 and the longest sentence, 20).
_LIGHT_OFF: tuple[str, ...] = tuple(f"dup_{n}gram" for n in range(5, 11)) + ("long_sentence",)


def _frac(default: float):
    return setting(default, 0.0, 1.0)


def _count(default: int):
    return setting(default, 0, 10**9)


def _length(default: float):
    return setting(default, 0.0, 1e9, integer=False)


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the 21 rules (defaults: Swallow v1) and the rules switched off."""

    min_letters: int = _count(400)  # 1: reject if letters < min_letters
    max_dup_line_frac: float = _frac(0.30)  # 2
    max_dup_sentence_frac: float = _frac(0.30)  # 3
    max_dup_line_char_frac: float = _frac(0.20)  # 4
    max_dup_sentence_char_frac: float = _frac(0.20)  # 5
    max_top_2gram_frac: float = _frac(0.20)  # 6
    max_top_3gram_frac: float = _frac(0.18)  # 7
    max_top_4gram_frac: float = _frac(0.16)  # 8
    max_dup_5gram_frac: float = _frac(0.15)  # 9
    max_dup_6gram_frac: float = _frac(0.14)  # 10
    max_dup_7gram_frac: float = _frac(0.13)  # 11
    max_dup_8gram_frac: float = _frac(0.12)  # 12
    max_dup_9gram_frac: float = _frac(0.11)  # 13
    max_dup_10gram_frac: float = _frac(0.10)  # 14
    min_hiragana_frac: float = _frac(0.2)  # 15
    max_katakana_frac: float = _frac(0.5)  # 16
    min_japanese_frac: float = _frac(0.5)  # 17
    min_japanese_letters: int = _count(400)  # 18
    min_avg_sentence_len: float = _length(20)  # 19: reject if avg < min or avg > max
    max_avg_sentence_len: float = _length(90)  # 19
    max_longest_sentence: int = _count(200)  # 20
    max_ellipsis_frac: float = _frac(0.2)  # 21
    #: Rule names (from :data:`RULES`) that never reject.  A comma-separated string or a list
    #: is turned into a tuple (so ``--set quality.disabled=dup_5gram,long_sentence`` works).
    disabled: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        d = self.disabled
        if isinstance(d, str):
            d = tuple(p.strip() for p in d.split(",") if p.strip())
        elif not isinstance(d, tuple):
            d = tuple(d)
        object.__setattr__(self, "disabled", d)

    def validate(self) -> "QualityConfig":
        """Raise :class:`ConfigError` (a ``ValueError``) on a bad setting; return ``self``."""
        check_settings(self, "quality")
        if self.min_avg_sentence_len > self.max_avg_sentence_len:
            raise ConfigError(
                f"quality.min_avg_sentence_len ({self.min_avg_sentence_len}) is above "
                f"quality.max_avg_sentence_len ({self.max_avg_sentence_len}): every document would fail"
            )
        unknown = [r for r in self.disabled if not isinstance(r, str) or r not in RULE_MEASURE]
        if unknown:
            raise ConfigError(
                f"quality.disabled: unknown rule name(s) {', '.join(map(repr, unknown))}; "
                f"known: {', '.join(RULES)}"
            )
        return self

    @property
    def enabled(self) -> tuple[str, ...]:
        """Enabled rule names in :data:`RULES` order."""
        off = set(self.disabled)
        return tuple(r for r in RULES if r not in off)


# field -> (kind, rule); kind: frac in [0, 1], count (int in [0, 10⁹]), length (number in [0, 10⁹])
_FIELDS: dict[str, tuple[str, str]] = {
    "min_letters": ("count", "too_short"),
    "max_dup_line_frac": ("frac", "dup_line_frac"),
    "max_dup_sentence_frac": ("frac", "dup_sentence_frac"),
    "max_dup_line_char_frac": ("frac", "dup_line_chars"),
    "max_dup_sentence_char_frac": ("frac", "dup_sentence_chars"),
    **{f"max_top_{n}gram_frac": ("frac", f"top_{n}gram") for n in (2, 3, 4)},
    **{f"max_dup_{n}gram_frac": ("frac", f"dup_{n}gram") for n in range(5, 11)},
    "min_hiragana_frac": ("frac", "low_hiragana"),
    "max_katakana_frac": ("frac", "high_katakana"),
    "min_japanese_frac": ("frac", "low_japanese"),
    "min_japanese_letters": ("count", "few_japanese_letters"),
    "min_avg_sentence_len": ("length", "sentence_length"),
    "max_avg_sentence_len": ("length", "sentence_length"),
    "max_longest_sentence": ("count", "long_sentence"),
    "max_ellipsis_frac": ("frac", "ellipsis_sentences"),
}

#: Swallow corpus v1: all 21 rules, the reference thresholds.
SWALLOW_V1 = QualityConfig()
#: Swallow's later, lighter recipe: v1 without the duplicate n-gram rules (9–14) and the
#: longest-sentence rule (20); the other thresholds unchanged.
SWALLOW_LIGHT = QualityConfig(disabled=_LIGHT_OFF)
QUALITY_PRESETS: dict[str, QualityConfig] = {"swallow-v1": SWALLOW_V1, "swallow-light": SWALLOW_LIGHT}


@dataclass(frozen=True, slots=True)
class QualityResult:
    passed: bool
    first_failed: str | None  # first rejecting enabled rule in RULES order
    failed: tuple[str, ...]  # every rejecting enabled rule, RULES order
    measures: dict[str, float]


# -- measures ----------------------------------------------------------------------------------
# One regex scan over the whole text finds exactly the per-line matches of
# [^。．！？!?]+[。．！？!?]? because neither part of the pattern can match "\n".
_SENTENCE_RE = re.compile("[^。．！？!?\n]+[。．！？!?]?")
_ELLIPSIS = ("・", "…")

_TOTEN = ("、", "，")
_KUTEN = ("。", "．", "！", "？")


_MULT = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)


def _class_counts(codes: np.ndarray) -> tuple[int, int, int]:
    """(hiragana, katakana, kanji) by code point ranges (see the module docstring)."""
    hira = np.count_nonzero((codes >= 0x3041) & (codes <= 0x3096))
    kata = np.count_nonzero((codes >= 0x30A1) & (codes <= 0x30FA))
    kanji = (np.count_nonzero((codes >= 0x3400) & (codes <= 0x9FFF))
             + np.count_nonzero((codes >= 0xF900) & (codes <= 0xFAFF))
             + np.count_nonzero((codes == 0x3005) | (codes == 0x3007) | (codes == 0x303B)))
    return int(hira), int(kata), int(kanji)


def _ngram_measures(text: str, out: dict, codes: np.ndarray | None = None) -> None:
    """top n-gram shares (n = 2..4) and duplicate n-gram fractions (n = 5..10).

    n-grams are counted with numpy: 2- and 3-grams exactly (three 21-bit code points packed in
    one 64-bit word), 4- to 10-grams by a polynomial hash mod 2^64 extended one character at a
    time (two different n-grams share a hash with probability about 2^-64 per pair, i.e. under
    1e-12 for a 100,000-character document).  ``np.unique`` gives the counts.
    """
    L = len(text)
    if codes is None:
        codes = _code_points(text)
    exact = codes
    hashed = codes
    with np.errstate(over="ignore"):
        for n in range(2, 11):
            total = L - n + 1
            key = f"top_{n}gram_frac" if n <= 4 else f"dup_{n}gram_frac"
            if total <= 0:
                out[key] = 0.0
                continue
            hashed = hashed[:-1] * _MULT + codes[n - 1:]
            if n <= 3:
                exact = (exact[:-1] << np.uint64(21)) | codes[n - 1:]
                grams = exact
            else:
                grams = hashed
            counts = np.unique(grams, return_counts=True)[1]
            if n <= 4:
                out[key] = int(counts.max()) / total
            else:
                out[key] = int(np.count_nonzero(counts > 1)) / len(counts)


def measure(text: str) -> dict[str, float]:
    """The 21 measures of ``text`` (keys: :data:`MEASURES`, see the module docstring)."""
    if text is None:
        text = ""
    L = len(text)
    out: dict[str, float] = {"letters": L}

    # lines (rules 2, 4): each line is its sentences joined, as in Swallow's code
    sentences: list[str] = []
    lines: list[str] = []
    findall = _SENTENCE_RE.findall
    for raw in text.split("\n"):
        found = findall(raw)
        sentences.extend(found)
        lines.append(raw if len(found) == 1 and len(found[0]) == len(raw) else "".join(found))
    n_lines = len(lines)  # >= 1
    line_counts = Counter(lines)
    line_chars = sum(map(len, lines))
    out["dup_line_frac"] = (n_lines - len(line_counts)) / n_lines
    # Σ len·(count − 1) = Σ len·count − Σ over distinct lines of len
    out["dup_line_char_frac"] = (line_chars - sum(map(len, line_counts))) / line_chars if line_chars else 0.0

    # sentences (rules 3, 5, 19, 20, 21)
    n_sent = len(sentences)
    if n_sent:
        sent_counts = Counter(sentences)
        sent_chars = sum(map(len, sentences))  # >= n_sent > 0
        out["dup_sentence_frac"] = (n_sent - len(sent_counts)) / n_sent
        out["dup_sentence_char_frac"] = (sent_chars - sum(map(len, sent_counts))) / sent_chars
    else:
        out["dup_sentence_frac"] = out["dup_sentence_char_frac"] = 0.0

    # character n-grams (rules 6–14)
    codes = _code_points(text)
    _ngram_measures(text, out, codes)

    # character classes (rules 15–18)
    hira, kata, kanji = _class_counts(codes)
    ja = hira + kata + kanji
    for c in _TOTEN + _KUTEN:
        ja += text.count(c)
    out["hiragana_frac"] = hira / ja if ja else 0.0
    out["katakana_frac"] = kata / ja if ja else 0.0
    out["japanese_frac"] = ja / L if L else 0.0
    out["japanese_letters"] = ja

    if n_sent:
        out["avg_sentence_len"] = sent_chars / n_sent
        out["longest_sentence"] = max(map(len, sentences))
        ell = sum(1 for s in sentences if s.strip().endswith(_ELLIPSIS))
        out["ellipsis_frac"] = ell / n_sent
    else:
        out["avg_sentence_len"] = 0.0
        out["longest_sentence"] = 0
        out["ellipsis_frac"] = 0.0
    return {k: out[k] for k in MEASURES}


# -- rules -------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _checks(cfg: QualityConfig) -> tuple[tuple[str, str, float | None, float | None], ...]:
    """(rule, measure, lower bound, upper bound) of each enabled rule; validates ``cfg`` once."""
    cfg.validate()
    bounds: dict[str, tuple[float | None, float | None]] = {}
    for name, (_kind, rule) in _FIELDS.items():
        lo, hi = bounds.get(rule, (None, None))
        if name.startswith("min_"):
            lo = getattr(cfg, name)
        else:
            hi = getattr(cfg, name)
        bounds[rule] = (lo, hi)
    off = set(cfg.disabled)
    return tuple((r, RULE_MEASURE[r], *bounds[r]) for r in RULES if r not in off)


def evaluate_measures(measures: dict[str, float], cfg: QualityConfig = SWALLOW_V1) -> QualityResult:
    """Apply ``cfg``'s enabled rules to measures from :func:`measure` (or stored columns)."""
    failed = []
    for rule, key, lo, hi in _checks(cfg):
        v = measures[key]
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            failed.append(rule)
    return QualityResult(not failed, failed[0] if failed else None, tuple(failed), measures)


def evaluate(text: str, cfg: QualityConfig = SWALLOW_V1) -> QualityResult:
    """Measure ``text`` and apply ``cfg`` (every measure is computed, even for disabled rules).

    Raises :class:`ConfigError` (a ``ValueError``) if ``cfg`` does not validate.
    """
    return evaluate_measures(measure(text), cfg)


def measure_columns() -> tuple[tuple[str, str], ...]:
    """``(name, Arrow type name)`` of every measure, in :data:`MEASURES` order.

    Type names are ``"int64"`` or ``"float64"``: ``pyarrow.type_for_alias(name)`` turns them
    into Arrow types (this module does not import pyarrow).
    """
    return tuple((m, "int64" if m in _INT_MEASURES else "float64") for m in MEASURES)


class QualityStage(Stage):
    """quality: Swallow's rules.  The first failing rule is the drop reason; every failing
    rule's bite (documents and characters it rejects on its own) goes to the details; the 21
    measures are its columns (``q_<measure>``)."""

    name = "quality"
    summary = "Swallow's 21 document rules"
    settings = QualityConfig
    reasons = (
        *Reason.kept("no enabled rule rejects", "passed"),
        *(Reason(rule, "dropped", what) for rule, _measure, what in _RULES),
    )
    details = (DetailKind("rule_fails", "rule", "every document each rule rejects on its own"),)

    @classmethod
    def columns(cls, settings: QualityConfig) -> tuple[Column, ...]:
        return tuple(Column(f"q_{m}", typ, f"Swallow quality measure {m} (filters/quality.py)")
                     for m, typ in measure_columns())

    def setup(self, config, resources: Resources) -> None:
        self.cfg: QualityConfig = config.quality
        self.keep_measures: bool = config.output.signals or config.output.rejected

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        n = len(text)
        res = evaluate(text, self.cfg)
        for rule in res.failed:
            count.detail("rule_fails", rule, chars=n, nbytes=doc.payload_bytes)
        if self.keep_measures:
            doc.signals.update(zip(_COLUMN_NAMES, res.measures.values()))
        if not res.passed:
            count.dropped(res.first_failed, chars=n)
            return None
        count.kept("passed", chars=n)
        return doc
