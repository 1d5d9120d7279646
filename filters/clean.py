"""Cleaning (Swallow reference §7): punctuation normalisation and footer trimming.

No NFKC and no width conversion (as Swallow v1).

* Punctuation: when ``，`` written after a Japanese character or a closing bracket outnumbers
  ``、`` in a document, every ``，`` that does not follow a full-width digit or letter becomes
  ``、``; likewise ``．`` → ``。`` against ``。``.  One character is replaced by one character.
* Footer: the last ``footer_lines`` (10) lines are scanned top-down; at the first line where
  footer keywords cover more than ``footer_ratio`` (30 %) of the line's characters, the
  document is cut from that line to the end.  Keywords are matched leftmost-longest without
  overlaps; the list (:data:`FOOTER_KEYWORDS`) was written for this project.

Documents are not dropped by cleaning unless nothing is left (``empty_after_clean``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Count, DetailKind, Reason, Resources, Stage

__all__ = ["CleanStage", "CleanConfig", "CleanResult", "clean_text", "FOOTER_KEYWORDS"]

FOOTER_KEYWORDS = (
    "Copyright", "copyright", "COPYRIGHT", "©", "(c)", "(C)", "All rights reserved", "All Rights Reserved",
    "ALL RIGHTS RESERVED", "Powered by", "powered by", "プライバシーポリシー", "個人情報保護方針",
    "個人情報の取り扱い", "個人情報保護", "利用規約", "ご利用規約", "会社概要", "運営会社", "運営者情報",
    "お問い合わせ", "お問合せ", "問い合わせ", "ログイン", "ログアウト", "新規登録", "会員登録",
    "サイトマップ", "無断転載を禁じます", "無断転載を禁止します", "無断転載禁止", "無断複製", "転載禁止",
    "著作権", "トラックバック", "ページトップ", "ページの先頭へ", "トップへ戻る", "TOPへ戻る",
    "ホームへ戻る", "特定商取引法に基づく表記", "特定商取引法", "免責事項", "サイトポリシー",
    "ソーシャルメディアポリシー", "採用情報", "よくある質問", "アクセスマップ", "当サイトについて",
    "このサイトについて", "スポンサーリンク", "関連記事", "人気記事", "前の記事", "次の記事",
    "記事一覧", "カテゴリー", "アーカイブ", "RSS", "フォローする", "シェアする", "ツイート",
    "Cookie", "クッキーポリシー", "Privacy Policy", "Terms of Use", "Terms of Service", "Contact",
    "Sitemap", "HOME", "ホーム",
)

_JA_BEFORE = "\u3041-\u3096\u30a1-\u30fa\u30fc\u3005\u3007\u303b\u3400-\u9fff\uf900-\ufaff」』）】〕〉》］｝〙〗"
_FW_ALNUM = "０-９Ａ-Ｚａ-ｚ"
_COMMA_AFTER_JA = re.compile(f"(?<=[{_JA_BEFORE}])，")
_PERIOD_AFTER_JA = re.compile(f"(?<=[{_JA_BEFORE}])．")
_COMMA_REPLACE = re.compile(f"(?<![{_FW_ALNUM}])，")
_PERIOD_REPLACE = re.compile(f"(?<![{_FW_ALNUM}])．")


@dataclass(frozen=True)
class CleanConfig:
    normalize_punctuation: bool = True
    trim_footer: bool = True
    footer_lines: int = setting(10, 0, 10_000)
    footer_ratio: float = setting(0.30, 0.0, 1.0)
    footer_keywords: tuple[str, ...] = FOOTER_KEYWORDS

    def validate(self) -> None:
        check_settings(self, "clean")


@dataclass(frozen=True, slots=True)
class CleanResult:
    text: str
    punctuation_replaced: int
    footer_chars_removed: int

    @property
    def reason(self) -> str:
        parts = [n for n, v in (("punctuation", self.punctuation_replaced), ("footer", self.footer_chars_removed)) if v]
        return "+".join(parts) or "unchanged"


class _Cleaner:
    def __init__(self, cfg: CleanConfig):
        self.cfg = cfg
        kws = sorted(set(cfg.footer_keywords), key=len, reverse=True)
        self.footer_re = re.compile("|".join(re.escape(k) for k in kws)) if kws else None


_CACHE: dict[CleanConfig, _Cleaner] = {}


def _normalize_punct(text: str) -> tuple[str, int]:
    replaced = 0
    if "，" in text and len(_COMMA_AFTER_JA.findall(text)) > text.count("、"):
        text, n = _COMMA_REPLACE.subn("、", text)
        replaced += n
    if "．" in text and len(_PERIOD_AFTER_JA.findall(text)) > text.count("。"):
        text, n = _PERIOD_REPLACE.subn("。", text)
        replaced += n
    return text, replaced


def footer_share(line: str, footer_re: re.Pattern) -> float:
    """Share of the line's characters covered by footer keywords."""
    if not line:
        return 0.0
    covered = sum(m.end() - m.start() for m in footer_re.finditer(line))
    return covered / len(line)


def _trim_footer(text: str, cleaner: _Cleaner) -> tuple[str, int]:
    cfg = cleaner.cfg
    if cleaner.footer_re is None or cfg.footer_lines == 0:
        return text, 0
    lines = text.split("\n")
    start = max(0, len(lines) - cfg.footer_lines)
    for i in range(start, len(lines)):
        if footer_share(lines[i], cleaner.footer_re) > cfg.footer_ratio:
            kept = "\n".join(lines[:i])
            return kept, len(text) - len(kept)
    return text, 0


def clean_text(text: str, cfg: CleanConfig) -> CleanResult:
    cleaner = _CACHE.get(cfg)
    if cleaner is None:
        cleaner = _CACHE.setdefault(cfg, _Cleaner(cfg))
    replaced = removed = 0
    if cfg.normalize_punctuation:
        text, replaced = _normalize_punct(text)
    if cfg.trim_footer:
        text, removed = _trim_footer(text, cleaner)
    return CleanResult(text, replaced, removed)


class CleanStage(Stage):
    """clean: punctuation and footer; removed characters are counted; dropped only if nothing is left."""

    name = "clean"
    summary = "punctuation normalisation and footer trimming"
    chars = "characters after cleaning"
    settings = CleanConfig
    reasons = (
        *Reason.kept("what cleaning changed", "unchanged", "punctuation", "footer", "punctuation+footer"),
        *Reason.dropped("nothing left", "empty_after_clean"),
    )
    details = (
        DetailKind("removed_chars", "footer", "documents trimmed, characters removed"),
        DetailKind("replaced_chars", "punctuation", "documents changed, characters replaced"),
    )

    def setup(self, config, resources: Resources) -> None:
        self.cfg: CleanConfig = config.clean

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        res = clean_text(text, self.cfg)
        if res.footer_chars_removed:
            count.detail("removed_chars", "footer", chars=res.footer_chars_removed)
        if res.punctuation_replaced:
            count.detail("replaced_chars", "punctuation", chars=res.punctuation_replaced)
        if not res.text.strip():
            count.dropped("empty_after_clean", chars=len(text))
            return None
        doc.text = res.text
        count.kept(res.reason, chars=len(res.text))
        return doc
