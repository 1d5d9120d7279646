"""Model-based quality scores: a fastText supervised classifier's score, the ``quality_model`` stage.

Scoring
-------
:class:`QualityModel` loads a fastText supervised model (``.bin`` or ``.ftz``; the format of
Swallow's educational-value classifiers, labels ``__label__…``) with the ``fasttext-predict``
binding (module ``fasttext``, numpy-2-safe, as :mod:`filters.langid`) and returns, for a text,
the **probability of the configured label** (``QualityModelConfig.label``; 0 when the model
does not know the label).  A threshold is optional: a document whose score is below it is
dropped with reason ``quality_model_below``.

fastText splits its input on whitespace, and Japanese has none, so a text is turned into the
model's input line by a *tokenization* that must match the one used in training:

* ``chars``: every non-space character is a token (with ``wordNgrams=2``, the model sees
  character unigrams and bigrams) — the default for models trained here;
* ``words``: MeCab words (fugashi + unidic-lite, already dependencies of the NG-word filter);
* ``none``: the text as it is, whitespace runs collapsed to one space (models trained on raw
  lines, e.g. models from elsewhere whose preprocessing is not known).

``tokenize="auto"`` (the default) reads the tokenization from the model's training record
(``<model>.json``, written by ``jawebcorpus train-quality``) and falls back to ``none``.  Only the
first ``max_chars`` characters of a text are scored (bounded cost on huge documents).

Training (``jawebcorpus train-quality``) lives with the commands: ``pipelines/quality_training.py``
writes the model and its training record, which :class:`QualityModel` reads back.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from typing import Callable

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Asset, Column, Count, DetailKind, Reason, Resources, Stage
from jawebcorpus.corpus.stats import ratio_bin

__all__ = [
    "QualityModelStage", "QualityModelConfig", "QualityModel", "TOKENIZATIONS", "tokenize_text", "record_path",
    "as_label", "RECORD_FORMAT",
]

TOKENIZATIONS = ("chars", "words", "none")
RECORD_FORMAT = "jawebcorpus.quality_model/1"
_LABEL_RE = re.compile(r"__label__\S+")
#: A training record larger than this is not one (they are a few kB): ignored.
_MAX_RECORD_BYTES = 1 << 20
_WS_RE = re.compile(r"\s+")


def as_label(label: str) -> str:
    """``hq`` and ``__label__hq`` are the same label: the full form."""
    return label if label.startswith("__label__") else f"__label__{label}"


def record_path(model_path: str) -> str:
    """Where the training record of a model lives: ``<model>.json``."""
    return model_path + ".json"


@dataclass(frozen=True)
class QualityModelConfig:
    #: the model (local path, http(s):// or s3://); None: no model-based score
    path: str | None = None
    #: the label whose probability is the score (``hq`` and ``__label__hq`` are the same)
    label: str = "__label__hq"
    #: drop documents whose score is below this (reason ``quality_model_below``); None: keep all
    threshold: float | None = setting(None, 0.0, 1.0, optional=True, integer=False)
    #: auto (from the model's training record, else none) | chars | words | none
    tokenize: str = "auto"
    #: only the first ``max_chars`` characters of a text are scored
    max_chars: int = setting(100_000, 1, 100_000_000)

    def validate(self) -> "QualityModelConfig":
        if self.path is not None and (not isinstance(self.path, str) or not self.path.strip()):
            raise ConfigError("quality_model.path must be a non-empty path or unset")
        if not isinstance(self.label, str) or not re.fullmatch(r"(__label__)?\S+", self.label):
            raise ConfigError("quality_model.label must be a label without spaces, e.g. __label__hq")
        if self.tokenize not in ("auto",) + TOKENIZATIONS:
            raise ConfigError(f"quality_model.tokenize must be one of auto, {', '.join(TOKENIZATIONS)}")
        check_settings(self, "quality_model")
        return self

    @property
    def full_label(self) -> str:
        return as_label(self.label)


# -- tokenization -----------------------------------------------------------------------------
_tagger = None


def _mecab_words(text: str) -> list[str]:
    global _tagger
    if _tagger is None:
        import fugashi  # only for tokenize="words"

        _tagger = fugashi.Tagger()
    return [w.surface for w in _tagger(text)]


def tokenize_text(text: str, how: str, max_chars: int = 100_000) -> str:
    """The model's input line for ``text``: one line, tokens separated by single spaces.

    ``__label__`` inside a text is broken up (a text must never carry a label into training)."""
    text = (text or "")[:max_chars]
    if how == "chars":
        line = " ".join(ch for ch in text if not ch.isspace())
    elif how == "words":
        line = " ".join(w for w in _mecab_words(_WS_RE.sub(" ", text)) if w.strip())
    elif how == "none":
        line = _WS_RE.sub(" ", text).strip()
    else:
        raise ValueError(f"unknown tokenization {how!r}")
    return line.replace("__label__", "_ _label_ _")


# -- scoring ----------------------------------------------------------------------------------
def _load_bytes(path: str) -> bytes:
    from jawebcorpus.corpus import fs

    return fs.read_bytes(path)


class QualityModel:
    """Loads the classifier once (``DoFn.setup``) and scores texts.

    ``fetch(path) -> bytes`` reads a model that is not a local file (default: any input
    :mod:`corpus.fs` reads: local, http(s)://, s3://, and gs:// … once the pipeline registered
    Beam's file systems)."""

    def __init__(self, config: QualityModelConfig, fetch: Callable[[str], bytes] | None = None):
        from .fasttext_check import load_model

        self.config = config.validate()
        if not config.path:
            raise ConfigError("quality_model.path is not set")
        path = config.path
        self._tmp = None
        local = path if (fetch is None and os.path.isfile(path)) else None
        if local is None:
            data = (fetch or _load_bytes)(path)
            fd, tmp = tempfile.mkstemp(suffix=".bin", prefix="jawebcorpus-qm-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self._tmp = local = tmp
        self.record = self._read_record(path, fetch)
        self._model = load_model(local, "quality model")
        self.labels = tuple(self._model.get_labels()) if hasattr(self._model, "get_labels") else ()
        tok = config.tokenize
        if tok == "auto":
            tok = (self.record or {}).get("tokenize") or "none"
            if tok not in TOKENIZATIONS:
                tok = "none"
        self.tokenize = tok
        self.label = config.full_label

    @staticmethod
    def _read_record(path: str, fetch) -> dict | None:
        from jawebcorpus.corpus.paths import is_remote

        try:
            rec_path = record_path(path)
            if fetch is None and not is_remote(rec_path) and (
                    not os.path.isfile(rec_path) or os.path.getsize(rec_path) > _MAX_RECORD_BYTES):
                return None  # absent, not a regular file (a FIFO would block) or too large to be one
            data = (fetch or _load_bytes)(rec_path)
            rec = json.loads(data.decode("utf-8"))
            return rec if isinstance(rec, dict) and rec.get("format") == RECORD_FORMAT else None
        except Exception:  # no record next to the model: that is allowed
            return None

    def close(self) -> None:
        if self._tmp:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None

    def __del__(self):
        self.close()

    def score_line(self, line: str) -> float:
        """Probability of the configured label for an already tokenized line."""
        if not line:
            return 0.0
        labels, probs = self._model.predict(line, k=-1, threshold=0.0)
        for lab, p in zip(labels, probs):
            if lab == self.label:
                return float(min(max(p, 0.0), 1.0))
        return 0.0

    def score(self, text: str) -> float:
        return self.score_line(tokenize_text(text, self.tokenize, self.config.max_chars))

    def keep(self, score: float) -> bool:
        t = self.config.threshold
        return t is None or score >= t


class QualityModelStage(Stage):
    """quality_model: the probability of the classifier's label for the text (``quality_score``
    column), with an optional threshold (``quality_model_below``).  The score of every document
    scored goes to the details (``hist:quality_score``), so the report shows where the threshold
    cuts."""

    name = "quality_model"
    summary = "a fastText quality classifier's score (the probability of its label)"
    settings = QualityModelConfig
    enabled_by = "path"
    reasons = (
        *Reason.kept("scored (at or above quality_model.threshold when one is set)", "scored"),
        *Reason.dropped("score below quality_model.threshold", "quality_model_below"),
    )
    details = (DetailKind("hist:quality_score", "bin lower edge", "the score of every document scored",
                          title="quality model score (probability of its label)"),)

    @classmethod
    def columns(cls, settings: QualityModelConfig) -> tuple[Column, ...]:
        return (Column("quality_score", "float32", "the quality model's probability of its label"),)

    @classmethod
    def assets(cls, settings: QualityModelConfig) -> tuple[Asset, ...]:
        return (Asset("quality model", settings.path),)

    def setup(self, config, resources: Resources) -> None:
        cfg: QualityModelConfig = config.quality_model
        local = resources.local_dir(os.path.dirname(cfg.path) or ".",
                                    [os.path.basename(cfg.path), os.path.basename(record_path(cfg.path))])
        path = os.path.join(local, os.path.basename(cfg.path))
        self.model: QualityModel = resources.get(("quality_model", path, cfg),
                                                 lambda: QualityModel(dataclass_replace(cfg, path=path)))

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        score = self.model.score(text)
        doc.signals["quality_score"] = score
        count.detail("hist:quality_score", ratio_bin(score), chars=len(text), nbytes=doc.payload_bytes)
        if not self.model.keep(score):
            count.dropped("quality_model_below", chars=len(text))
            return None
        count.kept("scored", chars=len(text))
        return doc

