"""The detect and langid stages as plain functions (see ``corpus/steps.py`` for the contract)."""

from __future__ import annotations

import re

from jawebcorpus.corpus.config import DetectConfig, LangIdConfig
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stats import StatsAccumulator

from .jadetect import HTML_LANG_RE, detect_japanese
from .langid import LanguageIdentifier, kana_ratio

__all__ = ["detect_doc", "langid_doc", "swallow_title_japanese"]

_TITLE_RE = re.compile(rb"<title[^>]*>(.*?)</title", re.I | re.S)


def swallow_title_japanese(body: bytes, lid: LanguageIdentifier) -> bool:
    """Swallow's second test: the first <title>, decoded UTF-8 → Shift_JIS → EUC-JP, is Japanese."""
    m = _TITLE_RE.search(body, 0, 256 * 1024)
    if not m:
        return False
    raw = m.group(1)
    for codec in ("utf-8", "shift_jis", "euc_jp"):
        try:
            title = raw.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:
        return False
    return lid.predict(title).label == "ja"


def detect_doc(doc: Doc, cfg: DetectConfig, stats: StatsAccumulator, lid: LanguageIdentifier | None = None) -> Doc | None:
    body = doc.body or b""
    if cfg.mode == "off":
        method, hint, ok = "off", None, True
    elif cfg.mode == "swallow":
        if HTML_LANG_RE.search(body, 0, 64 * 1024):
            method, hint, ok = "html_lang", None, True
        else:
            ok = lid is not None and swallow_title_japanese(body, lid)
            method, hint = "title_langid", None
    else:
        det = detect_japanese(body, cfg.min_kana, cfg.use_html_lang)
        method, hint, ok = det.method, det.codec_hint, det.japanese
    if not ok:
        stats.add(doc.snapshot, "detect", "dropped", "no_japanese_signal", 1, 0, doc.payload_bytes)
        return None
    doc.detect_method, doc.codec_hint = method, hint
    stats.add(doc.snapshot, "detect", "kept", method, 1, 0, doc.payload_bytes)
    return doc


def langid_doc(doc: Doc, lid: LanguageIdentifier, cfg: LangIdConfig, stats: StatsAccumulator) -> Doc | None:
    text = doc.text or ""
    res = lid.predict(text)
    doc.lang, doc.lang_score = res.label, res.ja_score
    n = len(text)
    if res.ja_score < cfg.threshold:
        stats.add(doc.snapshot, "langid", "dropped", "below_threshold", 1, n, doc.payload_bytes)
        return None
    if cfg.min_kana_ratio > 0 and kana_ratio(text) < cfg.min_kana_ratio:
        stats.add(doc.snapshot, "langid", "dropped", "too_few_kana", 1, n, doc.payload_bytes)
        return None
    stats.add(doc.snapshot, "langid", "kept", "ja", 1, n, doc.payload_bytes)
    return doc
