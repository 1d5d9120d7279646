"""Rapid Japanese detection on raw HTML bytes, before any decoding or extraction.

Swallow's shortcut (``<html lang="ja">`` or a Japanese ``<title>``) misses pages that declare
nothing (85 % recall on the test crawl).  Kana are the one script only Japanese writes, so we
count kana in every encoding a Japanese page can use:

* UTF-8: the lead pairs ``E3 81``, ``E3 82``, ``E3 83`` encode U+3040–U+30FF (hiragana and
  katakana); ``bytes.count`` finds them at memory speed.
* Shift_JIS/CP932 (``82 9F–F1``, ``83 40–96``), EUC-JP (``A4``/``A5`` rows), ISO-2022-JP
  (``ESC $ B``) and UTF-16 (BOM): only looked at when the page is not UTF-8 Japanese, and
  confirmed by decoding a prefix, so Big5 or GBK pages whose bytes look like EUC-JP kana are
  not taken (their decoded text has replacement characters and few kana).

A page passes with at least ``min_kana`` kana (default 10), or with ``lang="ja…"`` on its
``<html>`` tag (Swallow's rule, kept so no page Swallow would take is lost).  The result names
the evidence and, for legacy encodings, the codec that confirmed it; the decode stage uses it
as its detection step.  ``bench/bench_detect.py`` measures recall against extracting every page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Count, Reason, Resources, Stage

from .langid import LanguageIdentifier, shared_language_identifier

__all__ = [
    "DetectConfig", "DetectStage", "swallow_title_japanese", "Detection", "detect_japanese", "count_kana",
    "japanese_html_lang", "HTML_LANG_RE",
]


@dataclass(frozen=True)
class DetectConfig:
    #: "kana": kana in any Japanese encoding, or <html lang="ja">.  "swallow": Swallow's
    #: rule (<html lang="ja">, or a title that language ID calls Japanese).  "off": all pages go on.
    mode: str = "kana"
    min_kana: int = setting(10, 1, 100_000)
    use_html_lang: bool = True

    def validate(self) -> None:
        if self.mode not in ("kana", "swallow", "off"):
            raise ConfigError(f"detect.mode must be kana, swallow or off, not {self.mode!r}")
        check_settings(self, "detect")

_HTML_OPEN_RE = re.compile(rb"<html\b", re.I)
#: ``lang=ja`` inside the tag.  ``\s*(?:["']\s*)?`` rather than ``\s*["']?\s*``: two adjacent
#: ``\s*`` backtrack quadratically over a long run of spaces.
_LANG_JA_RE = re.compile(rb"\slang\s*=\s*(?:[\"']\s*)?ja", re.I)
_SJIS_KANA_RE = re.compile(rb"\x82[\x9f-\xf1]|\x83[\x40-\x96]")
_EUC_KANA_RE = re.compile(rb"\xa4[\xa1-\xf3]|\xa5[\xa1-\xf6]")
_KANA_TEXT_RE = re.compile("[\u3041-\u309f\u30a0-\u30ff]")
_UTF8_KANA_RE = re.compile(rb"\xe3[\x81-\x83]")  # lead pairs of U+3040–U+30FF
_CONFIRM_BYTES = 64 * 1024
_LANG_SCAN_BYTES = 64 * 1024


# -- the byte scans: each a regular expression or the UTF-8 decoder, or the same scan in C ----------
def _py_html_open(body: bytes, pos: int, endpos: int) -> int:
    """Where ``<html\\b`` (any case) starts in ``body[pos:endpos]``, or -1."""
    m = _HTML_OPEN_RE.search(body, pos, endpos)
    return m.start() if m else -1


def _py_utf8_kana(body: bytes) -> int:
    """UTF-8 kana lead pairs in ``body`` (one pass; faster than three ``bytes.count``)."""
    return len(_UTF8_KANA_RE.findall(body))


def _py_sjis_kana(body: bytes, endpos: int) -> int:
    return len(_SJIS_KANA_RE.findall(body, 0, endpos))


def _py_euc_kana(body: bytes, endpos: int) -> int:
    return len(_EUC_KANA_RE.findall(body, 0, endpos))


def _py_utf8_error(body: bytes, endpos: int) -> int:
    """``UnicodeDecodeError.start`` of decoding ``body[:endpos]`` as UTF-8, or -1 when it decodes."""
    try:
        body[: max(0, endpos)].decode("utf-8")
        return -1
    except UnicodeDecodeError as exc:
        return exc.start


try:  # filters/_jascan.c: the same scans in C, built with the package when a C compiler is there
    from . import _jascan
except ImportError:  # pragma: no cover - installed without a compiler: the scans above
    _jascan = None

#: Which scans detection uses: the C module's when it was built, else the Python ones above
#: (tests/test_jascan.py checks that both give the same results, and detection with either).
SCANS = "c" if _jascan is not None else "python"
_html_open = _jascan.html_open if _jascan else _py_html_open
_utf8_kana_pairs = _jascan.utf8_kana if _jascan else _py_utf8_kana
_sjis_kana = _jascan.sjis_kana if _jascan else _py_sjis_kana
_euc_kana = _jascan.euc_kana if _jascan else _py_euc_kana
_utf8_error = _jascan.utf8_error if _jascan else _py_utf8_error


def _html_lang_ja(body: bytes, pos: int = 0, endpos: int | None = None) -> "re.Match[bytes] | None":
    r"""The ``lang="ja…"`` of an ``<html>`` tag in ``body[pos:endpos]``, or None.

    Matches where ``<html\b[^>]*?\slang\s*=\s*["']?\s*ja`` (case-insensitive) matches, in
    linear time: as a regular expression each ``<html`` scans to the next ``>``, so a page of
    ``<html`` without one costs quadratic time (6.7 s for 64 KiB).  Here each ``<html`` tag is
    searched once up to its ``>``; a later ``<html`` inside the same unclosed tag could only
    find what the first one found.
    """
    n = len(body) if endpos is None else max(0, min(endpos, len(body)))
    while True:
        start = _html_open(body, pos, n)
        if start < 0:
            return None
        start += 5  # just past "<html"
        end = body.find(b">", start, n)
        if end < 0:
            end = n
        found = _LANG_JA_RE.search(body, start, end)
        if found is not None or end >= n:
            return found
        pos = end + 1


def japanese_html_lang(body: bytes, limit: int = _LANG_SCAN_BYTES) -> bool:
    """Swallow's first test: ``<html lang="ja…">`` in the first ``limit`` bytes."""
    return _html_lang_ja(body, 0, limit) is not None


class _HtmlLangRe:
    """``HTML_LANG_RE.search(body, pos, endpos)`` as before, without the quadratic regex."""

    pattern = rb"<html\b[^>]*?\slang\s*=\s*[\"']?\s*ja"

    def search(self, body: bytes, pos: int = 0, endpos: int | None = None) -> "re.Match[bytes] | None":
        return _html_lang_ja(body, pos, endpos)


#: Kept for callers of the former regular expression (``.search`` only); see :func:`japanese_html_lang`.
HTML_LANG_RE = _HtmlLangRe()


@dataclass(frozen=True, slots=True)
class Detection:
    japanese: bool
    method: str  # kana_utf8, html_lang, kana_cp932, kana_euc_jp, kana_iso2022_jp, kana_utf16, none
    codec_hint: str | None  # codec that confirmed legacy-encoded kana, else None
    kana: int  # kana found by the deciding test


def count_kana(text: str) -> int:
    return len(_KANA_TEXT_RE.findall(text))


#: Japanese font names found in CSS font-family lists of non-Japanese pages: their kana are
#: not evidence of Japanese text (8 of the 14 non-Japanese pages the plain count let through
#: on the test crawl).
FONT_NAMES = (
    "メイリオ", "ヒラギノ角ゴ", "ヒラギノ角ゴシック", "ヒラギノ明朝", "ヒラギノ丸ゴ", "ＭＳ Ｐゴシック",
    "ＭＳ ゴシック", "ＭＳ Ｐ明朝", "ＭＳ 明朝", "游ゴシック", "游ゴシック体", "游明朝", "小塚ゴシック",
    "小塚明朝", "源ノ角ゴシック", "源ノ明朝", "ヒラギノ", "ゴシック", "明朝",
)
_FONT_KANA = {
    name.encode("utf-8"): len(re.findall("[\u3041-\u309f\u30a0-\u30ff]", name)) for name in FONT_NAMES
}
_FONT_RE = re.compile(b"|".join(re.escape(n) for n in sorted(_FONT_KANA, key=len, reverse=True)))
#: Every font name holds one of these: a page with none of them has no font name (a few
#: memchr-speed scans instead of the alternation's scan of the whole page).
_FONT_KEYS = tuple(k.encode("utf-8") for k in ("ゴ", "明朝", "メイリオ", "ヒラギノ"))
assert all(any(k in n for k in _FONT_KEYS) for n in _FONT_KANA)
_FONT_CHECK_BELOW = 300  # pages with this many kana are Japanese whatever their CSS says
_FONT_LONGEST = max(map(len, _FONT_KANA))
_FONT_MAX_KEYS = 4096  # kana looked at one by one; more: the whole page is scanned
#: What :func:`_font_kana` relies on: no name starts inside a name without kana and runs past
#: its end, and no name with kana starts inside one without.
assert not any(
    other.startswith(name[i:]) and (len(other) > len(name) - i or _FONT_KANA[other])
    for name in _FONT_KANA if not _FONT_KANA[name] for i in range(1, len(name)) for other in _FONT_KANA
)


def _font_kana(body: bytes) -> int:
    """Kana inside the font names of ``body``: the sum over ``_FONT_RE.finditer(body)``, with the
    alternation run only around the page's kana (the UTF-8 pairs ``E3 81``–``E3 83``).

    Only names with kana add to the sum, and every kana of such a name is a pair the byte
    search finds, so every such match lies within :data:`_FONT_LONGEST` bytes of one; the
    windows of ± that around the kana, merged, hold each of them whole.  A window starting
    inside a match of the whole-page scan does not change the sum: a match that holds kana
    would have widened the window to before its start, and one without kana (``ＭＳ 明朝`` …)
    holds no name with kana starting after its first byte, so the window's scan is back in
    step at its end.  The alternation scans ≈ 0.5 GB/s; the pages looked at here have fewer
    than :data:`_FONT_CHECK_BELOW` kana, found by one regular-expression pass (before: up to
    four ``bytes.find`` passes over the page for the names' key strings, then their windows).
    """
    kana = []
    for m in _UTF8_KANA_RE.finditer(body):
        kana.append(m.start())
        if len(kana) > _FONT_MAX_KEYS:
            return sum(_FONT_KANA[m.group()] for m in _FONT_RE.finditer(body))
    total = 0
    start = end = -1
    for k in kana:
        if k - _FONT_LONGEST > end:  # a new window: scan the previous one
            if end > start:
                total += sum(_FONT_KANA[m.group()] for m in _FONT_RE.finditer(body, start, end))
            start = max(0, k - _FONT_LONGEST)
        end = k + _FONT_LONGEST
    if end > start:
        total += sum(_FONT_KANA[m.group()] for m in _FONT_RE.finditer(body, start, end))
    return total


def _utf8_kana(body: bytes, min_kana: int = 1) -> int:
    """UTF-8 kana (from ``min_kana`` on, not counting those inside Japanese font names)."""
    if b"\xe3" not in body:  # one memchr pass settles most non-Japanese pages
        return 0
    kana = _utf8_kana_pairs(body)
    if min_kana <= kana < _FONT_CHECK_BELOW and any(k in body for k in _FONT_KEYS):
        kana -= _font_kana(body)
    return kana


def _looks_utf8(body: bytes) -> bool:
    """The prefix decodes as UTF-8 (a character cut at the end of the prefix is allowed)."""
    head = min(len(body), _CONFIRM_BYTES)
    error = _utf8_error(body, _CONFIRM_BYTES)
    return error < 0 or (error >= head - 3 and len(body) > head)


def _confirm(body: bytes, codec: str, min_kana: int) -> int:
    """Kana in the decoded prefix, or 0 when the decode is too broken to trust."""
    text = body[:_CONFIRM_BYTES].decode(codec, "replace")
    non_ascii = (len(text) - len(text.encode("ascii", "ignore"))) or 1  # non-ASCII characters
    if text.count("\ufffd") > 0.02 * non_ascii:  # too broken (settled before the costlier kana count)
        return 0
    kana = count_kana(text)
    # Japanese prose is a third or more kana; Korean jamo or GB kana rows read through a
    # Japanese codec give a few kana among many other characters.
    return kana if kana >= min_kana and kana >= 0.15 * non_ascii else 0


def detect_japanese(body: bytes, min_kana: int = 10, use_lang: bool = True) -> Detection:
    kana = _utf8_kana(body, min_kana)
    if kana >= min_kana and _looks_utf8(body):  # chance E3 8x pairs in Shift_JIS/GBK fall through
        return Detection(True, "kana_utf8", None, kana)
    if use_lang and japanese_html_lang(body):
        return Detection(True, "html_lang", None, kana)
    # ISO-2022-JP is confirmed on the prefix: without an ESC there it decodes to no kana at all
    if body.find(b"\x1b", 0, _CONFIRM_BYTES) >= 0 and (b"\x1b$B" in body or b"\x1b$@" in body):
        k = _confirm(body, "iso2022_jp_2", min_kana)
        if k:
            return Detection(True, "kana_iso2022_jp", "iso2022_jp_2", k)
    if body.isascii():
        return Detection(False, "none", None, 0)
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        k = _confirm(body, "utf-16", min_kana)
        return Detection(k > 0, "kana_utf16" if k else "none", "utf-16" if k else None, k)
    if _looks_utf8(body):
        return Detection(False, "none", None, kana)
    sjis = _sjis_kana(body, _CONFIRM_BYTES) if b"\x82" in body or b"\x83" in body else 0
    euc = _euc_kana(body, _CONFIRM_BYTES) if b"\xa4" in body or b"\xa5" in body else 0
    for count, codec, method in sorted(
        ((sjis, "cp932", "kana_cp932"), (euc, "euc_jp", "kana_euc_jp")), reverse=True
    ):
        if count >= min_kana:
            k = _confirm(body, codec, min_kana)
            if k:
                return Detection(True, method, codec, k)
    return Detection(False, "none", None, kana)


_TITLE_OPEN_RE = re.compile(rb"<title", re.I)
_TITLE_CLOSE_RE = re.compile(rb"</title", re.I)
_TITLE_SCAN = 256 * 1024


def _first_title(body: bytes) -> bytes | None:
    """What ``<title[^>]*>(.*?)</title`` (case-insensitive) captures in the first 256 KiB.

    Found in linear time: as a regular expression every ``<title`` scans the rest of the page
    for ``</title`` (72 s on a 256 KiB page of ``<title>``).  Only the first ``<title`` can
    match: when it has no ``>`` or no ``</title`` after its ``>``, neither has any later one.
    """
    m = _TITLE_OPEN_RE.search(body, 0, _TITLE_SCAN)
    if m is None:
        return None
    gt = body.find(b">", m.end(), _TITLE_SCAN)
    if gt < 0:
        return None
    close = _TITLE_CLOSE_RE.search(body, gt + 1, _TITLE_SCAN)
    return body[gt + 1 : close.start()] if close else None


def swallow_title_japanese(body: bytes, lid: LanguageIdentifier) -> bool:
    """Swallow's second test: the first <title>, decoded UTF-8 → Shift_JIS → EUC-JP, is Japanese."""
    raw = _first_title(body)
    if raw is None:
        return False
    for codec in ("utf-8", "shift_jis", "euc_jp"):
        try:
            title = raw.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    return lid.predict(title).label == "ja"


class DetectStage(Stage):
    """detect: rapid Japanese detection on the raw bytes (``detect.mode``: kana, swallow, off)."""

    name = "detect"
    summary = "rapid Japanese detection on the raw bytes"
    chars = "0 (no text yet)"
    settings = DetectConfig
    changes_char_unit = True
    reasons = (
        *Reason.kept("at least detect.min_kana UTF-8 kana", "kana_utf8"),
        *Reason.kept('<html lang="ja…">', "html_lang"),
        *Reason.kept("kana in a legacy encoding, confirmed by decoding a prefix",
                     "kana_cp932", "kana_euc_jp", "kana_iso2022_jp", "kana_utf16"),
        *Reason.kept("(detect.mode=swallow) the title is Japanese to fastText", "title_langid"),
        *Reason.kept("(detect.mode=off) every page goes on", "off"),
        *Reason.dropped("none of the above", "no_japanese_signal"),
    )

    def setup(self, config: Any, resources: Resources) -> None:
        self.cfg: DetectConfig = config.detect
        self.lid = shared_language_identifier(config.langid, resources) if self.cfg.mode == "swallow" else None

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        body = doc.body or b""
        cfg = self.cfg
        if cfg.mode == "off":
            method, hint, ok = "off", None, True
        elif cfg.mode == "swallow":
            if japanese_html_lang(body):
                method, hint, ok = "html_lang", None, True
            else:
                ok = self.lid is not None and swallow_title_japanese(body, self.lid)
                method, hint = "title_langid", None
        else:
            det = detect_japanese(body, cfg.min_kana, cfg.use_html_lang)
            method, hint, ok = det.method, det.codec_hint, det.japanese
        if not ok:
            count.dropped("no_japanese_signal")
            return None
        doc.detect_method, doc.codec_hint = method, hint
        count.kept(method)
        return doc
