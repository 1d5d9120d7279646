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
number of U+FFFD replacement characters the decode produced; :class:`DecodeStage` (the
``decode`` stage) puts it on the document.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .stage import Count, DetailKind, Reason, Stage

if TYPE_CHECKING:
    from .record import Doc

__all__ = ["Decoded", "decode_html", "normalize_charset", "meta_charset", "WHATWG_LABELS", "DecodeStage"]

#: ``charset=`` inside a ``<meta`` tag.  ``\s*(?:["']\s*)?`` rather than
#: ``\s*["']?\s*``: two adjacent ``\s*`` backtrack quadratically over a run of spaces.
_META_OPEN_RE = re.compile(rb"<meta", re.I)
_META_CHARSET_RE = re.compile(rb"charset\s*=\s*(?:[\"']\s*)?([A-Za-z0-9_.:\-]+)", re.I)
_META_SCAN = 16 * 1024

#: The Encoding Standard's (encoding.spec.whatwg.org) label table: every label a browser
#: accepts, by encoding, with the Python codec that decodes it here.  Nothing else is honoured:
#: an arbitrary Python codec name (``utf-7``, ``raw-unicode-escape``, ``rot13``, ``hex`` …)
#: would let a page choose a transformation that is not a character encoding at all, and some
#: of them produce lone surrogates.  ``None``: the standard's ``replacement`` encoding (labels
#: of ISO-2022-KR/CN and HZ, which it refuses to decode) and ``x-user-defined``: no usable
#: declaration, the cascade looks further.
_WHATWG_ENCODINGS: tuple[tuple[str, str | None, tuple[str, ...]], ...] = (
    ("UTF-8", "utf-8", ("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8",
                        "x-unicode20utf8")),
    ("IBM866", "cp866", ("866", "cp866", "csibm866", "ibm866")),
    ("ISO-8859-2", "iso8859_2", ("csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592",
                                 "iso_8859-2", "iso_8859-2:1987", "l2", "latin2")),
    ("ISO-8859-3", "iso8859_3", ("csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593",
                                 "iso_8859-3", "iso_8859-3:1988", "l3", "latin3")),
    ("ISO-8859-4", "iso8859_4", ("csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594",
                                 "iso_8859-4", "iso_8859-4:1988", "l4", "latin4")),
    ("ISO-8859-5", "iso8859_5", ("csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144",
                                 "iso8859-5", "iso88595", "iso_8859-5", "iso_8859-5:1988")),
    ("ISO-8859-6", "iso8859_6", ("arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic",
                                 "ecma-114", "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127",
                                 "iso8859-6", "iso88596", "iso_8859-6", "iso_8859-6:1987")),
    ("ISO-8859-7", "iso8859_7", ("csisolatingreek", "ecma-118", "elot_928", "greek", "greek8",
                                 "iso-8859-7", "iso-ir-126", "iso8859-7", "iso88597", "iso_8859-7",
                                 "iso_8859-7:1987", "sun_eu_greek")),
    ("ISO-8859-8", "iso8859_8", ("csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8",
                                 "iso-8859-8-e", "iso-ir-138", "iso8859-8", "iso88598", "iso_8859-8",
                                 "iso_8859-8:1988", "visual")),
    ("ISO-8859-8-I", "iso8859_8", ("csiso88598i", "iso-8859-8-i", "logical")),
    ("ISO-8859-10", "iso8859_10", ("csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10",
                                   "iso885910", "l6", "latin6")),
    ("ISO-8859-13", "iso8859_13", ("iso-8859-13", "iso8859-13", "iso885913")),
    ("ISO-8859-14", "iso8859_14", ("iso-8859-14", "iso8859-14", "iso885914")),
    ("ISO-8859-15", "iso8859_15", ("csisolatin9", "iso-8859-15", "iso8859-15", "iso885915",
                                   "iso_8859-15", "l9")),
    ("ISO-8859-16", "iso8859_16", ("iso-8859-16",)),
    ("KOI8-R", "koi8_r", ("cskoi8r", "koi", "koi8", "koi8-r", "koi8_r")),
    ("KOI8-U", "koi8_u", ("koi8-ru", "koi8-u")),
    ("macintosh", "mac_roman", ("csmacintosh", "mac", "macintosh", "x-mac-roman")),
    ("windows-874", "cp874", ("dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620",
                              "windows-874")),
    ("windows-1250", "cp1250", ("cp1250", "windows-1250", "x-cp1250")),
    ("windows-1251", "cp1251", ("cp1251", "windows-1251", "x-cp1251")),
    ("windows-1252", "cp1252", ("ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819",
                                "iso-8859-1", "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1",
                                "iso_8859-1:1987", "l1", "latin1", "us-ascii", "windows-1252",
                                "x-cp1252")),
    ("windows-1253", "cp1253", ("cp1253", "windows-1253", "x-cp1253")),
    ("windows-1254", "cp1254", ("cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9",
                                "iso88599", "iso_8859-9", "iso_8859-9:1989", "l5", "latin5",
                                "windows-1254", "x-cp1254")),
    ("windows-1255", "cp1255", ("cp1255", "windows-1255", "x-cp1255")),
    ("windows-1256", "cp1256", ("cp1256", "windows-1256", "x-cp1256")),
    ("windows-1257", "cp1257", ("cp1257", "windows-1257", "x-cp1257")),
    ("windows-1258", "cp1258", ("cp1258", "windows-1258", "x-cp1258")),
    ("x-mac-cyrillic", "mac_cyrillic", ("x-mac-cyrillic", "x-mac-ukrainian")),
    ("GBK", "gb18030", ("chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80",
                        "gbk", "iso-ir-58", "x-gbk")),
    ("gb18030", "gb18030", ("gb18030",)),
    ("Big5", "big5hkscs", ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5")),
    ("EUC-JP", "euc_jp", ("cseucpkdfmtjapanese", "euc-jp", "x-euc-jp")),
    ("ISO-2022-JP", "iso2022_jp_2", ("csiso2022jp", "iso-2022-jp")),
    ("Shift_JIS", "cp932", ("csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis",
                            "windows-31j", "x-sjis")),
    ("EUC-KR", "cp949", ("cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987",
                         "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949")),
    ("replacement", None, ("csiso2022kr", "hz-gb-2312", "iso-2022-cn", "iso-2022-cn-ext", "iso-2022-kr",
                           "replacement")),
    ("UTF-16BE", "utf-16-be", ("unicodefffe", "utf-16be")),
    ("UTF-16LE", "utf-16-le", ("csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff",
                               "utf-16", "utf-16le")),
    ("x-user-defined", None, ("x-user-defined",)),
)

#: label → Python codec (None: a known label that names no usable encoding), from the table.
WHATWG_LABELS: dict[str, str | None] = {
    label: codec for _name, codec, labels in _WHATWG_ENCODINGS for label in labels
}

#: Japanese labels seen on real pages, on top of the standard's: these win over the table
#: (Shift_JIS family as cp932, ISO-2022-JP as its -2 superset, ``utf-16`` sniffing its BOM).
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
#: Every codec this module may decode with (the table, the aliases, the detection cascade).
CODECS = frozenset(c for c in (*WHATWG_LABELS.values(), *_ALIASES.values(), *_JA_FAMILY, "utf-16") if c)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: ASCII whitespace as the Encoding Standard strips it from a label.
_LABEL_STRIP = "\t\n\f\r \"'"


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    codec: str  # Python codec name actually used
    source: str  # bom, http, meta, detected, fallback; "+overruled" when a label was wrong
    replacements: int  # U+FFFD produced by this decode


def normalize_charset(label: str | None) -> str | None:
    """A web charset label → Python codec name, or None when unknown/unusable.

    Only the Encoding Standard's labels (:data:`WHATWG_LABELS`) and the Japanese aliases are
    known; matching is ASCII-case-insensitive after stripping ASCII whitespace and quotes.
    """
    if not label:
        return None
    key = label.strip(_LABEL_STRIP)
    if not key.isascii():
        return None
    key = key.lower()
    if key in _ALIASES:
        return _ALIASES[key]
    return WHATWG_LABELS.get(key)


def meta_charset(body: bytes) -> str | None:
    r"""The ``charset=`` of the first ``<meta …>`` tag that has one, in the first 16 KiB.

    The same answer as ``<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)`` (case-
    insensitive), found in linear time: as a regular expression every ``<meta`` scans on to
    the next ``>``, so a page of ``<meta`` without one costs quadratic time.  Here each tag
    is searched once, from its ``<meta`` to its ``>``; a later ``<meta`` inside the same
    unclosed tag could only find what the first one found.
    """
    end = min(len(body), _META_SCAN)
    pos = 0
    while True:
        m = _META_OPEN_RE.search(body, pos, end)
        if m is None:
            return None
        gt = body.find(b">", m.end(), end)
        stop = end if gt < 0 else gt
        found = _META_CHARSET_RE.search(body, m.end() + 1, stop) if stop > m.end() else None
        if found is not None:
            return found.group(1).decode("ascii", "replace")
        if gt < 0:
            return None
        pos = gt + 1


def _decode(body: bytes, codec: str) -> tuple[str, int]:
    if codec not in CODECS:
        return "", -1
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


def _without_surrogates(dec: Decoded) -> Decoded:
    """Lone surrogates (U+D800–DFFF) cannot be written as UTF-8: replace them, count them.

    None of the codecs of :data:`CODECS` produces one with ``errors="replace"`` (the fuzz
    tests check it); this is the guarantee for whatever text leaves :func:`decode_html`.
    """
    text = dec.text
    if text.isascii():
        return dec
    try:
        text.encode("utf-8")  # C speed; raises only on a surrogate
        return dec
    except UnicodeEncodeError:
        pass
    text, n = _SURROGATE_RE.subn("\ufffd", text)
    return Decoded(text, dec.codec, dec.source, dec.replacements + n)


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
    """Decode a page's bytes with the cascade described in the module docstring.

    The text is free of lone surrogates, whatever the bytes and labels.
    """
    return _without_surrogates(_decode_html(body, http_charset, hint))


def _decode_html(body: bytes, http_charset: str | None = None, hint: str | None = None) -> Decoded:
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


class DecodeStage(Stage):
    """decode: charset cascade to text; the raw body is released once decoded."""

    name = "decode"
    summary = "charset cascade to text"
    chars = "characters of the decoded HTML"
    changes_char_unit = True
    reasons = (
        Reason("<codec>:<source>", "kept", "the codec used and where the decision came from",
               r"[a-z0-9_\-]+:(bom|http|meta|detected|fallback)(\+overruled)?"),
        *Reason.dropped("decodes to whitespace only", "empty_text"),
        *Reason.error("the codec machinery raised", "decode_error"),
    )
    details = (DetailKind("replacement_chars", "codec", "documents with U+FFFD replacement characters and how many"),)

    def apply(self, doc: "Doc", count: Count) -> "Doc | None":
        body = doc.body or b""
        try:
            dec = decode_html(body, doc.http_charset, doc.codec_hint)
        except Exception:  # codec machinery on hostile bytes: count, never crash
            count.error("decode_error")
            return None
        if not dec.text.strip():
            count.dropped("empty_text")
            return None
        doc.body = None
        doc.html = dec.text
        doc.charset, doc.charset_source, doc.replacement_chars = dec.codec, dec.source, dec.replacements
        if dec.replacements:
            count.detail("replacement_chars", dec.codec, chars=dec.replacements, nbytes=doc.payload_bytes)
        count.kept(f"{dec.codec}:{dec.source}", chars=len(dec.text))
        return doc
