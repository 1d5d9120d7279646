"""NG-word lists: their format, how they are read and checked, and how terms and text are folded
for matching (the matcher and the stage: ``filters/ngwords.py``).

Lists.  A file starts with ``# key: value`` header lines (``category``, which must equal the
file name, and ``description`` are required; ``licence`` and ``source`` are documented) and then
holds one term per line, optionally followed by ``<TAB>``-separated flags.  Blank lines and
later ``#`` lines are comments.  The one flag is ``naive_ok``: the term is unambiguous enough to
count anywhere, even inside a longer word (カジノ in ベラジョンカジノ).

Folding (for matching only; offsets into the original text are kept): full-width ASCII becomes
ASCII, ASCII letters lower case, half-width katakana full-width (ｶｼﾞﾉ → カジノ).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["FLAGS", "HEADER_KEYS", "REQUIRED_HEADER_KEYS", "EXTRA_CATEGORY", "NgListError", "NgTerm", "parse_list",
           "load_lists", "fold"]

FLAGS = frozenset({"naive_ok"})
HEADER_KEYS = ("category", "description", "licence", "source")
REQUIRED_HEADER_KEYS = ("category", "description")
EXTRA_CATEGORY = "extra"

_CATEGORY_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_HEADER_RE = re.compile(r"#\s*([A-Za-z_]+)\s*:\s*(.*?)\s*\Z")

_HALFWIDTH_KANA_RE = re.compile("[\uff61-\uff9f]")
#: Per-character fold: full-width ASCII → ASCII, ASCII upper case → lower case.
_CHAR_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_CHAR_FOLD.update({c: c + 0x20 for c in range(0x41, 0x5B)})
_CHAR_FOLD.update({c: c - 0xFEE0 + 0x20 for c in range(0xFF21, 0xFF3B)})
_CHAR_FOLD_STR = {chr(k): chr(v) for k, v in _CHAR_FOLD.items()}
_VOICING = ("\uff9e", "\uff9f")  # half-width (semi-)voiced sound marks


# -- folding ---------------------------------------------------------------------------------
_FOLD_RUN_RE = re.compile("[A-Z\uff01-\uff5e]+")


def _fold_run(m: re.Match) -> str:
    return m.group().translate(_CHAR_FOLD)


def _variants(ch: str) -> list[str]:
    """The characters that fold to ``ch`` (``ch`` itself first)."""
    out = [ch]
    if ch.isascii() and ch.isprintable() and ch != " ":
        if "a" <= ch <= "z":
            out.append(ch.upper())
            out.append(chr(ord(ch.upper()) + 0xFEE0))
        out.append(chr(ord(ch) + 0xFEE0))
    return out


def fold(text: str) -> tuple[str, list[int] | None]:
    """Text folded for matching, and for each folded position its original offset.

    Full-width ASCII becomes ASCII, ASCII letters lower case, half-width katakana full-width
    (voicing marks joined: ｶﾞ → ガ).  The offsets list (``len(folded) + 1`` entries) is None
    when every offset is kept, i.e. unless the text has half-width katakana.
    """
    work = _FOLD_RUN_RE.sub(_fold_run, text)
    if _HALFWIDTH_KANA_RE.search(work) is None:
        return work, None
    out: list[str] = []
    starts: list[int] = []
    for i, ch in enumerate(work):
        if "\uff61" <= ch <= "\uff9f":
            n = unicodedata.normalize("NFKC", ch)
            if ch in _VOICING and out:
                composed = unicodedata.normalize("NFC", out[-1] + n)
                if len(composed) == 1:
                    out[-1] = composed
                    continue
            out.append(n)  # NFKC of one half-width character is one character
        else:
            out.append(ch)
        starts.append(i)
    starts.append(len(work))
    return "".join(out), starts


# -- lists -----------------------------------------------------------------------------------
class NgListError(ValueError):
    """A list file is malformed (missing header, unknown flag, duplicate term, ...)."""


@dataclass(frozen=True, slots=True)
class NgTerm:
    term: str  # as written in the list
    category: str
    flags: tuple[str, ...] = ()

    @property
    def naive_ok(self) -> bool:
        return "naive_ok" in self.flags


def parse_list(text: str, name: str, expected_category: str | None = None) -> tuple[dict[str, str], list[NgTerm]]:
    """Parse one list file: its header (``# key: value`` lines at the top) and its terms."""
    header: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        m = _HEADER_RE.match(line) if line.startswith("#") else None
        if m is None:
            break
        key, value = m.group(1).lower(), m.group(2)
        if key not in HEADER_KEYS:
            raise NgListError(f"{name}:{i + 1}: unknown header key {key!r} (known: {', '.join(HEADER_KEYS)})")
        if key in header:
            raise NgListError(f"{name}:{i + 1}: header key {key!r} given twice")
        if not value:
            raise NgListError(f"{name}:{i + 1}: header key {key!r} has no value")
        header[key] = value
        i += 1
    for key in REQUIRED_HEADER_KEYS:
        if key not in header:
            raise NgListError(
                f"{name}: no '# {key}: ...' header line; a list file must start with "
                f"'# category: <name>' and '# description: <what belongs in it>'"
            )
    category = header["category"]
    if not _CATEGORY_RE.match(category):
        raise NgListError(f"{name}: bad category name {category!r}")
    if expected_category is not None and category != expected_category:
        raise NgListError(f"{name}: header says category {category!r}, file name says {expected_category!r}")
    terms: list[NgTerm] = []
    seen: dict[str, int] = {}
    for j in range(i, len(lines)):
        raw = lines[j].rstrip("\r\n")
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        term, *flags = raw.split("\t")
        term = term.strip()
        flags = [f.strip() for f in flags if f.strip()]
        bad = [f for f in flags if f not in FLAGS]
        if bad:
            raise NgListError(f"{name}:{j + 1}: unknown flag {bad[0]!r} (known: {', '.join(sorted(FLAGS))})")
        key = fold(term)[0]
        if len(key) < 2:
            raise NgListError(f"{name}:{j + 1}: {term!r}: a term needs at least two characters")
        if key in seen:
            raise NgListError(f"{name}:{j + 1}: {term!r} repeats line {seen[key]} (terms are compared folded)")
        seen[key] = j + 1
        terms.append(NgTerm(term, category, tuple(flags)))
    return header, terms


def _lists_root(cfg):
    if cfg.lists_dir is not None:
        root = Path(cfg.lists_dir)
        if not root.is_dir():
            raise NgListError(f"NG-word lists directory not found: {cfg.lists_dir}")
        return root
    return resources.files("jawebcorpus.ngwords")


def load_lists(cfg) -> list[NgTerm]:
    """The lists of an ``NgWordsConfig`` (``categories`` from ``lists_dir``): their terms in file
    order, then ``extra_terms``.

    A term may appear in one category only; an extra term that is already listed is ignored.
    """
    cfg.validate()
    root = _lists_root(cfg)
    out: list[NgTerm] = []
    owner: dict[str, str] = {}
    for category in cfg.categories:
        ref = root.joinpath(f"{category}.txt")
        if not ref.is_file():
            raise NgListError(f"NG-word list for category {category!r} not found: {ref}")
        _, terms = parse_list(ref.read_text(encoding="utf-8"), f"{category}.txt", category)
        for t in terms:
            key = fold(t.term)[0]
            if key in owner:
                raise NgListError(f"{t.term!r} is listed in both {owner[key]} and {category}")
            owner[key] = category
            out.append(t)
    for term in cfg.extra_terms:
        key = fold(term)[0]
        if len(key) < 2:
            raise NgListError(f"extra term {term!r}: a term needs at least two characters")
        if key not in owner:
            owner[key] = EXTRA_CATEGORY
            out.append(NgTerm(term, EXTRA_CATEGORY, ()))
    return out
