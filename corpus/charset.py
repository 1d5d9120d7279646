"""Charset cascade for Japanese pages: BOM → HTTP ``Content-Type`` → ``<meta>`` → detection.

* Shift_JIS and its aliases are read as **cp932** (Windows-31J: NEC and IBM extensions, ～ ①),
  which is what servers labelled Shift_JIS actually send.
* EUC-JP is read as ``euc_jp``, falling back to ``euc_jis_2004`` when that decodes more of the
  page; ISO-2022-JP as ``iso2022_jp_2`` (a superset of the plain form).
* A declaration is trusted only when its decode is clean: a label that leaves replacement
  characters while another Japanese codec decodes the page cleanly is overruled (servers
  that label everything ISO-8859-1 or Shift_JIS are common), and the overruling is recorded.
* Detection, when nothing usable is declared: the rapid detector's confirmed codec, then
  strict UTF-8, then the Japanese codec with the fewest replacement characters.

:func:`decode_html` returns the text, the codec used, where the decision came from and the
number of U+FFFD replacement characters the decode produced.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

__all__ = ["Decoded", "decode_html", "normalize_charset", "meta_charset"]

_META_RE = re.compile(
    rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I
)
_META_SCAN = 16 * 1024

_ALIASES = {
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "s-jis": "cp932", "ms_kanji": "cp932", "csshiftjis": "cp932", "windows-31j": "cp932",
    "cp932": "cp932", "ms932": "cp932", "shift_jisx0213": "cp932", "shift_jis_2004": "cp932",
    "x-ms-cp932": "cp932", "mskanji": "cp932",
    "euc-jp": "euc_jp", "euc_jp": "euc_jp", "x-euc-jp": "euc_jp", "eucjp": "euc_jp",
    "cseucpkdfmtjapanese": "euc_jp", "eucjp-ms": "euc_jp", "euc-jis-2004": "euc_jis_2004",
    "iso-2022-jp": "iso2022_jp_2", "csiso2022jp": "iso2022_jp_2", "iso2022jp": "iso2022_jp_2",
    "iso-2022-jp-2": "iso2022_jp_2", "iso-2022-jp-1": "iso2022_jp_2",
    "utf-8": "utf-8", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-utf-8": "utf-8",
    "utf-16": "utf-16", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be",
}
JAPANESE_CODECS = ("utf-8", "cp932", "euc_jp")
_EUC_FALLBACK = {"euc_jp": "euc_jis_2004"}
_JA_FAMILY = frozenset({"utf-8", "cp932", "euc_jp", "euc_jis_2004", "iso2022_jp_2"})


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    codec: str  # Python codec name actually used
    source: str  # bom, http, meta, detected, fallback; "+overruled" when a label was wrong
    replacements: int  # U+FFFD produced by this decode


def normalize_charset(label: str | None) -> str | None:
    """A web charset label → Python codec name, or None when unknown/unusable."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return codecs.lookup(key).name
    except (LookupError, ValueError):
        return None


def meta_charset(body: bytes) -> str | None:
    m = _META_RE.search(body, 0, _META_SCAN)
    return m.group(1).decode("ascii", "replace") if m else None


def _decode(body: bytes, codec: str) -> tuple[str, int]:
    try:
        text = body.decode(codec, "replace")
    except (LookupError, ValueError, TypeError):
        return "", -1
    bad = text.count("\ufffd")
    fallback = _EUC_FALLBACK.get(codec)
    if bad and fallback:
        alt = body.decode(fallback, "replace")
        alt_bad = alt.count("\ufffd")
        if alt_bad < bad:
            return alt, alt_bad
    return text, bad


def _best_japanese(body: bytes, first: str | None) -> tuple[str, str, int]:
    """Try the hinted codec, then the Japanese ones; the fewest replacements wins."""
    order = [c for c in (first, *JAPANESE_CODECS) if c]
    if b"\x1b$B" in body or b"\x1b$@" in body:  # JIS escapes: 7-bit ISO-2022-JP, valid UTF-8 too
        order.insert(1 if first else 0, "iso2022_jp_2")
    best: tuple[str, str, int] | None = None
    for codec in dict.fromkeys(order):
        text, bad = _decode(body, codec)
        if bad < 0:
            continue
        if bad == 0:
            return text, codec, 0
        if best is None or bad < best[2]:
            best = (text, codec, bad)
    assert best is not None
    return best


def decode_html(body: bytes, http_charset: str | None = None, hint: str | None = None) -> Decoded:
    """Decode a page's bytes with the cascade described in the module docstring."""
    if body.startswith(codecs.BOM_UTF8):
        text, bad = _decode(body[3:], "utf-8")
        return Decoded(text, "utf-8", "bom", bad)
    if body[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text, bad = _decode(body, "utf-16")
        return Decoded(text, "utf-16", "bom", bad)
    for source, label in (("http", http_charset), ("meta", None)):
        if source == "meta":
            label = meta_charset(body)
        codec = normalize_charset(label)
        if codec is None or codec.startswith("utf-16"):
            continue  # unknown label, or a UTF-16 label on an 8-bit page: look further
        text, bad = _decode(body, codec)
        if bad < 0:
            continue
        if bad == 0 and codec in _JA_FAMILY:
            return Decoded(text, codec, source, 0)
        # The label is not a Japanese one (pages of this stage passed Japanese detection), or
        # it leaves damage: does a Japanese codec read the page better?
        alt_text, alt_codec, alt_bad = _best_japanese(body, hint)
        if alt_codec != codec and (alt_bad < bad or (alt_bad == 0 and codec not in _JA_FAMILY)):
            return Decoded(alt_text, alt_codec, source + "+overruled", alt_bad)
        return Decoded(text, codec, source, bad)
    text, codec, bad = _best_japanese(body, hint)
    return Decoded(text, codec, "detected" if hint or bad == 0 else "fallback", bad)
