"""The detect and langid stages as plain functions (see ``corpus/steps.py`` for the contract)."""

from __future__ import annotations

import re

from jawebcorpus.corpus.record import Doc, host_of
from jawebcorpus.corpus.stats import StatsAccumulator, ratio_bin

from .clean import CleanConfig, clean_text
from .hosts import HostFilter
from .jadetect import HTML_LANG_RE, DetectConfig, detect_japanese
from .langid import LangIdConfig, LanguageIdentifier, kana_ratio
from .ngwords import NgMatcher
from .quality import QualityConfig, evaluate

__all__ = [
    "detect_doc", "langid_doc", "swallow_title_japanese", "quality_doc", "ngwords_doc", "hosts_doc",
    "clean_doc",
]

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


def langid_doc(doc: Doc, lid: LanguageIdentifier, cfg: LangIdConfig, stats: StatsAccumulator,
               details: StatsAccumulator | None = None) -> Doc | None:
    text = doc.text or ""
    res = lid.predict(text)
    doc.lang, doc.lang_score = res.label, res.ja_score
    n = len(text)
    if details is not None:  # the score of every document scored, to see where the threshold cuts
        details.add(doc.snapshot, "langid", "hist:lang_score", ratio_bin(res.ja_score), 1, n, doc.payload_bytes)
    if res.ja_score < cfg.threshold:
        stats.add(doc.snapshot, "langid", "dropped", "below_threshold", 1, n, doc.payload_bytes)
        return None
    if cfg.min_kana_ratio > 0 and kana_ratio(text) < cfg.min_kana_ratio:
        stats.add(doc.snapshot, "langid", "dropped", "too_few_kana", 1, n, doc.payload_bytes)
        return None
    stats.add(doc.snapshot, "langid", "kept", "ja", 1, n, doc.payload_bytes)
    return doc


def quality_doc(doc: Doc, cfg: QualityConfig, stats: StatsAccumulator, details: StatsAccumulator,
                keep_measures: bool = False) -> Doc | None:
    """Swallow's quality rules: the first failing rule is the drop reason; every failing rule's
    bite (documents and characters it rejects on its own) goes to the details."""
    text = doc.text or ""
    n = len(text)
    res = evaluate(text, cfg)
    for rule in res.failed:
        details.add(doc.snapshot, "quality", "rule_fails", rule, 1, n, doc.payload_bytes)
    if keep_measures:
        doc.quality_measures = res.measures
    if not res.passed:
        stats.add(doc.snapshot, "quality", "dropped", res.first_failed, 1, n, doc.payload_bytes)
        return None
    stats.add(doc.snapshot, "quality", "kept", "passed", 1, n, doc.payload_bytes)
    return doc


def ngwords_doc(doc: Doc, matcher: NgMatcher, stats: StatsAccumulator, details: StatsAccumulator) -> Doc | None:
    """NG-word fraction; per-term tallies: documents each term occurs in, and those it removes."""
    text = doc.text or ""
    n = len(text)
    res = matcher.scan(text)
    for term, chars in res.hits:
        details.add(doc.snapshot, "ngwords", "term_matched", term, 1, chars, 0)
        if res.rejected:
            details.add(doc.snapshot, "ngwords", "term_removed", term, 1, n, doc.payload_bytes)
    doc.ng_fraction = res.fraction
    if res.rejected:
        stats.add(doc.snapshot, "ngwords", "dropped", "ng_fraction", 1, n, doc.payload_bytes)
        return None
    stats.add(doc.snapshot, "ngwords", "kept", "matched" if res.hits else "clean", 1, n, doc.payload_bytes)
    return doc


def hosts_doc(doc: Doc, hosts: HostFilter, stats: StatsAccumulator) -> Doc | None:
    n = len(doc.text or "")
    verdict = hosts.check(host_of(doc.url))
    if verdict is not None:
        stats.add(doc.snapshot, "hosts", "dropped", verdict.reason, 1, n, doc.payload_bytes)
        return None
    stats.add(doc.snapshot, "hosts", "kept", "allowed", 1, n, doc.payload_bytes)
    return doc


def clean_doc(doc: Doc, cfg: CleanConfig, stats: StatsAccumulator, details: StatsAccumulator) -> Doc | None:
    """Punctuation and footer; removed characters are counted; dropped only if nothing is left."""
    text = doc.text or ""
    res = clean_text(text, cfg)
    if res.footer_chars_removed:
        details.add(doc.snapshot, "clean", "removed_chars", "footer", 1, res.footer_chars_removed, 0)
    if res.punctuation_replaced:
        details.add(doc.snapshot, "clean", "replaced_chars", "punctuation", 1, res.punctuation_replaced, 0)
    if not res.text.strip():
        stats.add(doc.snapshot, "clean", "dropped", "empty_after_clean", 1, len(text), doc.payload_bytes)
        return None
    doc.text = res.text
    stats.add(doc.snapshot, "clean", "kept", res.reason, 1, len(res.text), doc.payload_bytes)
    return doc
