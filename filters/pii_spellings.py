"""The spellings personal data takes on Japanese pages, for ``filters/pii.py`` (pure Python).

The PII scanner matches on a **width-folded view** of the text and maps every match back to the
original, so that a mask replaces exactly the characters that were written:

* :func:`fold` — full-width ASCII (``ｉｎｆｏ＠ｅｘａｍｐｌｅ．ｊｐ``, ``０３－…``, ``［ａｔ］``) becomes ASCII,
  the ideographic space a space, half-width katakana and punctuation (``ｱｯﾄ``, ``･``) full-width;
  a half-width voiced sound mark joins the kana before it (``ﾄﾞｯﾄ`` → ``ドット``), and zero-width
  characters and soft hyphens put inside an address or number are dropped.  Folding one
  character into one keeps every offset (the common case, and then the map is the identity);
  the other two change lengths, and the view keeps, for every character, where it starts and
  ends in the original (:meth:`TextView.span`).
* :func:`kanji_phone_digits` — kanji numerals written digit by digit (``〇三-一二三四-五六七八``)
  right after a phone word (TEL, 電話, ☎ …) become ASCII digits, one character for one, for the
  phone scan only; elsewhere kanji numerals are words (``三一二三``, ``第一二三号``).
* :func:`at_symbol_view` — ``info★example.co.jp`` on a page that says ``★を@に`` (or ``☆→＠``,
  ``◆は@``) gets ``@`` in place of that symbol, one character for one, for the e-mail scan only.
* :func:`is_placeholder_address` — addresses that identify no one are not masked (below).

Placeholders (the rule, tested in ``tests/test_pii.py``)
-------------------------------------------------------
An address is a placeholder, and is not masked, when

1. its domain cannot receive mail because it is reserved for documentation and testing:
   ``example.com``, ``example.net``, ``example.org`` (RFC 2606), ``example.edu`` (IANA), or a name
   under them; anything under the reserved top-level names ``.example``, ``.test``,
   ``.invalid``, ``.localhost`` (RFC 2606, RFC 6761); or
2. the address has visibly been blanked out: its local part is only ``x`` (``xxxx@gmail.com``),
   or its registrable label (the label before the public suffix: ``yyy`` in ``yyy.com``, ``xxx``
   in ``xxx.co.jp``) is one of ``x``, ``y``, ``z`` repeated, or a dummy word of Japanese and
   English documentation: ``hoge``, ``hogehoge``, ``fuga``, ``piyo``, ``foo``, ``bar``,
   ``foobar``, ``baz``.

Everything else is masked, ``example.jp`` and ``example.co.jp`` included: no published rule says
they cannot receive mail, and when in doubt masking costs a tutorial an example address while
not masking could leave a person's address in the corpus.  Likewise ``aaa.com`` or
``sample.co.jp`` are real registrations and stay masked.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

__all__ = ["TextView", "fold", "kanji_phone_digits", "at_symbol_view", "is_placeholder_address"]

# -- the width-folded view -----------------------------------------------------------------------
_ONE_TO_ONE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # full-width ASCII
_ONE_TO_ONE[0x3000] = 0x20  # ideographic space
for _c in range(0xFF61, 0xFF9E):  # half-width katakana and punctuation: one NFKC character each
    _ONE_TO_ONE[_c] = ord(unicodedata.normalize("NFKC", chr(_c)))
#: folded characters that do not map one to one: the half-width (semi-)voiced sound marks, and
#: invisible characters put inside addresses and numbers
_MARKS = "\uff9e\uff9f"
_DROPPED = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_FOLDABLE = re.compile("[\u3000\uff01-\uff5e\uff61-\uff9f" + _DROPPED + "]")
_ONE_TO_ONE_RUN = re.compile("[\u3000\uff01-\uff5e\uff61-\uff9d]+")
_UNEVEN = re.compile("[" + _MARKS + _DROPPED + "]")


def _fold_run(m: re.Match) -> str:
    return m.group().translate(_ONE_TO_ONE)


#: the one-to-one folding as a table of UTF-16 code units (a surrogate maps to itself, so
#: characters beyond the BMP pass through unchanged and lengths in code points are kept)
_TABLE = np.arange(1 << 16, dtype=np.uint16)
for _k, _v in _ONE_TO_ONE.items():
    _TABLE[_k] = _v


def _fold_even(text: str) -> str:
    """The one-to-one folding.  Short texts: the runs of foldable characters are translated;
    longer ones go through the table as an array of code units (a Python mapping costs a
    lookup a character: 11 ms for the 107 Japanese documents of the shared crawl, 4 ms by
    runs, under 1 ms by the table)."""
    if len(text) < 256:
        return _ONE_TO_ONE_RUN.sub(_fold_run, text)
    units = np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)
    return _TABLE[units].tobytes().decode("utf-16-le", "surrogatepass")


@dataclass(frozen=True, slots=True)
class TextView:
    """The folded text, and where its characters came from.

    When every folded character is one character (no voiced mark joined, nothing dropped) the
    offsets are the same and nothing is kept.  Otherwise the map is kept compactly: the view
    positions where the shift between view and original changes (``_at``, sorted), the shift
    from each on (``_shift``), and the view positions of characters made of two original ones
    (``_joined``)."""

    text: str
    _at: list[int] | None = None
    _shift: list[int] | None = None
    _joined: frozenset[int] = frozenset()

    def _orig(self, p: int) -> int:
        return p + self._shift[bisect.bisect_right(self._at, p) - 1]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the view's ``[start, end)``."""
        if self._at is None or start >= end:
            return start, end
        last = end - 1
        return self._orig(start), self._orig(last) + (2 if last in self._joined else 1)


def fold(text: str) -> TextView:
    """The width-folded view of ``text`` (see the module's docstring)."""
    if not _FOLDABLE.search(text):
        return TextView(text)
    if not _UNEVEN.search(text):
        return TextView(_fold_even(text))
    pieces: list[str] = []  # never an empty piece
    at, shift, joined = [0], [0], set()
    vlen = pos = 0
    for m in _UNEVEN.finditer(text):
        i = m.start()
        if i > pos:
            seg = _fold_even(text[pos:i])
            pieces.append(seg)
            vlen += len(seg)
        pos = i + 1
        ch = text[i]
        if ch in _MARKS:
            mark = "\u3099" if ch == "\uff9e" else "\u309a"
            if pieces and vlen - 1 not in joined:
                composed = unicodedata.normalize("NFC", pieces[-1][-1] + mark)
                if len(composed) == 1:  # the kana before it, voiced: one character for two
                    pieces[-1] = pieces[-1][:-1] + composed
                    joined.add(vlen - 1)
                    at.append(vlen)
                    shift.append(shift[-1] + 1)
                    continue
            pieces.append(mark)  # nothing to join: the mark as NFKC writes it, one for one
            vlen += 1
            continue
        at.append(vlen)  # a dropped character: everything after it moves one to the left
        shift.append(shift[-1] + 1)
    if pos < len(text):
        pieces.append(_fold_even(text[pos:]))
    return TextView("".join(pieces), at, shift, frozenset(joined))


# -- kanji numerals after a phone word ---------------------------------------------------------------
_KANJI_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_PHONE_KEYWORD = re.compile(
    r"TEL|Tel|tel|FAX|Fax|fax|電話|でんわ|☎|℡|📞|携帯|連絡先|問い?合わ?せ|ファックス|ファクス")
#: a keyword, at most six other characters, then kanji digits and separators (the number)
_KANJI_NUMBER = re.compile(
    r"[^〇○零一二三四五六七八九]{0,6}?([〇○零][〇○零一二三四五六七八九 \-－−ー‐‑–—―・()（）]{8,20})")


def kanji_phone_digits(view: str) -> str | None:
    """``view`` with the kanji digits of a number that follows a phone word made ASCII digits
    (one character for one), or None when there is none."""
    if "〇" not in view and "○" not in view and "零" not in view:
        return None
    out = None
    for kw in _PHONE_KEYWORD.finditer(view):
        m = _KANJI_NUMBER.match(view, kw.end())
        if m is None:
            continue
        s, e = m.span(1)
        out = out if out is not None else list(view)
        out[s:e] = view[s:e].translate(_KANJI_DIGITS)
    return None if out is None else "".join(out)


# -- a symbol the page says to read as @ ---------------------------------------------------------------
_AT_SYMBOLS = "★☆◆◇●■"
_AT_INSTRUCTION = re.compile(
    "([" + _AT_SYMBOLS + "])(?:を|は|→|⇒|->|=)[ ]?(?:半角の?|小文字の?)?[ ]?[「『\"']?[@＠][」』\"']?")


def at_symbol_view(view: str) -> str | None:
    """``view`` with every symbol the page says to replace by ``@`` replaced (one character for
    one), or None when the page says nothing of the kind."""
    symbols = {m.group(1) for m in _AT_INSTRUCTION.finditer(view)} if any(s in view for s in _AT_SYMBOLS) else ()
    if not symbols:
        return None
    return view.translate({ord(s): "@" for s in symbols})


# -- placeholders ----------------------------------------------------------------------------------------
_DOC_DOMAINS = ("example.com", "example.net", "example.org", "example.edu")
_DOC_TLDS = ("example", "test", "invalid", "localhost")
_SECOND_LEVEL = frozenset(("ac ad co ed go gr lg ne or com net org edu gov mil".split()))
_DUMMY_WORDS = frozenset("hoge hogehoge fuga piyo foo bar foobar baz".split())


def is_placeholder_address(local: str, domain: str) -> bool:
    """An address that identifies no one (the module's rule); ``domain`` with plain dots."""
    d = domain.lower().rstrip(".")
    labels = d.split(".")
    if labels[-1] in _DOC_TLDS or any(d == x or d.endswith("." + x) for x in _DOC_DOMAINS):
        return True
    if set(local.lower()) == {"x"}:
        return True
    # the registrable label: before the public suffix (two labels when the last but one is a
    # second-level type like co.jp, com.au)
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        label = labels[-3]
    else:
        label = labels[-2] if len(labels) >= 2 else labels[0]
    return label in _DUMMY_WORDS or (len(label) >= 2 and len(set(label)) == 1 and label[0] in "xyz")
