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
* ``none``: the text as it is, newlines replaced by spaces: what published classifiers expect
  (Swallow's ``tokyotech-llm/edu-classifier`` models were trained on text prepared that way;
  fastText itself splits on ASCII whitespace, so other spaces such as U+3000 stay in the tokens).

``tokenize="auto"`` (the default) reads the tokenization from the model's training record
(``<model>.json``, written by ``jawebcorpus train-quality``) and falls back to ``none``.  Only the
first ``max_chars`` characters of a text are scored (bounded cost on huge documents).

Several models
--------------
Besides the unnamed model (``quality_model.path``: column ``quality_score``, reason
``quality_model_below``), any number of **named** models (:class:`NamedModel`, ``--quality-model
NAME=PATH``, ``--set quality_model.NAME.<field>=…``) each give a column ``quality_<NAME>``, a
histogram ``hist:quality_<NAME>`` and their own threshold, whose drops have the reason
``quality_model_below_<NAME>`` (one declared family).  A named model's score is either the
probability of a label (``score=label``) or the **expected score** Σ k·p(k) over labels
``__label__<k>`` (``score=expected``, how graded classifiers such as Swallow's LLM-based
classifier and FineWeb-Edu's are read; every label of the model is read with ``k=-1``);
``score=auto`` (the default) reads a model whose labels are all ``__label__<integer>`` as an
expected score (for labels 0 and 1 that is the probability of ``__label__1``) and any other
model as the probability of ``label`` (default ``__label__hq``).  The models run in the order
given; a document is dropped by the first whose threshold it misses.

Training (``jawebcorpus train-quality``) lives with the commands: ``pipelines/quality_training.py``
writes the model and its training record, which :class:`QualityModel` reads back.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from typing import Callable

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Asset, Column, Count, DetailKind, Reason, Resources, Stage
from jawebcorpus.corpus.stats import ratio_bin

__all__ = [
    "QualityModelStage", "QualityModelConfig", "QualityModel", "TOKENIZATIONS", "tokenize_text", "record_path",
    "as_label", "RECORD_FORMAT", "NamedModel", "ModelSlot", "SCORES", "MODEL_NAME_RE", "MODEL_FIELDS", "grades_of",
]

TOKENIZATIONS = ("chars", "words", "none")
RECORD_FORMAT = "jawebcorpus.quality_model/1"
_LABEL_RE = re.compile(r"__label__\S+")
#: A training record larger than this is not one (they are a few kB): ignored.
_MAX_RECORD_BYTES = 1 << 20
_WS_RE = re.compile(r"\s+")
#: how a named model's score is read (see the module docstring)
SCORES = ("auto", "label", "expected")
#: a named model's name: its column is ``quality_<name>``
MODEL_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: what ``--set quality_model.NAME.<field>=…`` sets
MODEL_FIELDS = ("path", "score", "label", "threshold", "tokenize")
_GRADE_RE = re.compile(r"__label__(\d{1,3})")
#: an expected score's grades are 0 … this at most
MAX_GRADE = 100


def as_label(label: str) -> str:
    """``hq`` and ``__label__hq`` are the same label: the full form."""
    return label if label.startswith("__label__") else f"__label__{label}"


def record_path(model_path: str) -> str:
    """Where the training record of a model lives: ``<model>.json``."""
    return model_path + ".json"


def grades_of(labels) -> dict[str, int] | None:
    """``{label: grade}`` when every label is ``__label__<integer>`` (≤ :data:`MAX_GRADE`), else None."""
    out = {}
    for lab in labels:
        m = _GRADE_RE.fullmatch(lab)
        if not m or int(m.group(1)) > MAX_GRADE:
            return None
        out[lab] = int(m.group(1))
    return out or None


@dataclass(frozen=True)
class NamedModel:
    """One named model (``--quality-model NAME=PATH``): column ``quality_<name>``."""

    name: str
    #: the model (local path, gs://, s3://, http(s)://); None only while options are applied
    path: str | None = None
    #: auto | label | expected (see the module docstring)
    score: str = "auto"
    #: the label whose probability is the score (score=label; auto on a model without integer labels)
    label: str = "__label__hq"
    #: drop documents whose score is below this (reason ``quality_model_below_<name>``); None: keep all
    threshold: float | None = None
    #: auto (from the model's training record, else none) | chars | words | none
    tokenize: str = "auto"

    @property
    def column(self) -> str:
        return f"quality_{self.name}"

    @property
    def reason(self) -> str:
        return f"quality_model_below_{self.name}"

    def validate(self) -> "NamedModel":
        where = f"quality_model.{self.name}"
        if not isinstance(self.name, str) or not MODEL_NAME_RE.fullmatch(self.name):
            raise ConfigError(f"quality model name {self.name!r}: use a-z, 0-9 and _, starting with a letter, "
                              f"at most 32 characters")
        if self.name == "score":
            raise ConfigError("quality model name 'score' is taken: the unnamed model's column is quality_score")
        if not isinstance(self.path, str) or not self.path.strip():
            raise ConfigError(f"{where}: no model path; give --quality-model {self.name}=PATH "
                              f"(a per-model option names a model that was not given)")
        if self.score not in SCORES:
            raise ConfigError(f"{where}.score must be one of {', '.join(SCORES)}, not {self.score!r}")
        if not isinstance(self.label, str) or not re.fullmatch(r"(__label__)?\S+", self.label):
            raise ConfigError(f"{where}.label must be a label without spaces, e.g. __label__hq")
        if self.tokenize not in ("auto",) + TOKENIZATIONS:
            raise ConfigError(f"{where}.tokenize must be one of auto, {', '.join(TOKENIZATIONS)}")
        t = self.threshold
        if t is not None:
            if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
                raise ConfigError(f"{where}.threshold must be a finite number ≥ 0, not {t!r}")
            if self.score == "label" and t > 1:
                raise ConfigError(f"{where}.threshold={t}: a label's probability is at most 1")
            if t > MAX_GRADE:
                raise ConfigError(f"{where}.threshold={t}: above any grade ({MAX_GRADE})")
        return self

    def check_labels(self, labels) -> None:
        """Refuse a model whose labels do not fit this model's settings (before the run)."""
        where = f"quality_model.{self.name}"
        grades = grades_of(labels)
        mode = self.score if self.score != "auto" else ("expected" if grades else "label")
        if mode == "expected":
            if not grades:
                raise ConfigError(f"{where}: score=expected needs labels __label__<integer>, the model has "
                                  f"{', '.join(list(labels)[:6])}")
            top = max(grades.values())
            if self.threshold is not None and self.threshold > top:
                raise ConfigError(f"{where}.threshold={self.threshold}: outside [0, {top}], the range of "
                                  f"its expected score")
        else:
            if as_label(self.label) not in labels:
                raise ConfigError(f"{where}: the model has no label {as_label(self.label)} (its labels: "
                                  f"{', '.join(list(labels)[:6])}); set --quality-model-label {self.name}=LABEL")
            if self.threshold is not None and self.threshold > 1:
                raise ConfigError(f"{where}.threshold={self.threshold}: a label's probability is at most 1")


@dataclass(frozen=True)
class ModelSlot:
    """One model of a run, as the stage runs it: the unnamed one (``name`` None) or a named one."""

    name: str | None
    path: str
    column: str
    reason: str
    hist: str  # the details kind of its histogram
    score: str  # label | expected | auto
    label: str
    threshold: float | None
    tokenize: str


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
    #: named models (``--quality-model NAME=PATH``; ``--set quality_model.NAME.<field>=…``)
    models: tuple[NamedModel, ...] = field(default=(), metadata={"fingerprint_when_set": True})

    @property
    def active(self) -> bool:
        """The stage runs: the unnamed model or a named one is set."""
        return bool(self.path) or bool(self.models)

    def slots(self) -> tuple[ModelSlot, ...]:
        """Every model of the run, in order: the unnamed one first, then the named ones."""
        out = []
        if self.path:
            out.append(ModelSlot(None, self.path, "quality_score", "quality_model_below", "hist:quality_score",
                                 "label", self.full_label, self.threshold, self.tokenize))
        for m in self.models:
            out.append(ModelSlot(m.name, m.path, m.column, m.reason, f"hist:{m.column}", m.score,
                                 as_label(m.label), m.threshold, m.tokenize))
        return tuple(out)

    def column_for(self, tie_break: str) -> str:
        """The column ``dedup.tie_break`` (``quality`` or ``quality:NAME``) ranks copies by."""
        name = tie_break.partition(":")[2]
        if not self.active:
            raise ConfigError(f"dedup.tie_break={tie_break} ranks copies by a quality model's score: set "
                              f"--quality-model PATH or --quality-model NAME=PATH")
        if not name:
            return self.slots()[0].column
        for m in self.models:
            if m.name == name:
                return m.column
        raise ConfigError(f"dedup.tie_break={tie_break}: no quality model named {name!r} "
                          f"(models: {', '.join(m.name for m in self.models) or 'none named'})")

    def with_model_setting(self, key: str, value: str) -> "QualityModelConfig":
        """``--set quality_model.NAME.<field>=value``: set one field of a named model (added
        when new; a model without a path is refused by :meth:`validate`)."""
        name, _, fld = key.rpartition(".")
        if not MODEL_NAME_RE.fullmatch(name):
            raise ConfigError(f"quality model name {name!r} in quality_model.{key}: use a-z, 0-9 and _, "
                              f"starting with a letter, at most 32 characters")
        if fld not in MODEL_FIELDS:
            raise ConfigError(f"unknown setting quality_model.{key}; a named model has: {', '.join(MODEL_FIELDS)}")
        new: object = value
        if fld == "threshold":
            if value.lower() in ("none", "null"):
                new = None
            else:
                try:
                    new = float(value)
                except ValueError:
                    raise ConfigError(f"bad value for quality_model.{key}: {value!r} is not a number") from None
        elif fld == "label":
            new = as_label(value)
        models = list(self.models)
        for i, m in enumerate(models):
            if m.name == name:
                models[i] = dataclass_replace(m, **{fld: new})
                break
        else:
            models.append(NamedModel(name, **{fld: new}))
        return dataclass_replace(self, models=tuple(models))

    def validate(self) -> "QualityModelConfig":
        if self.path is not None and (not isinstance(self.path, str) or not self.path.strip()):
            raise ConfigError("quality_model.path must be a non-empty path or unset")
        if not isinstance(self.label, str) or not re.fullmatch(r"(__label__)?\S+", self.label):
            raise ConfigError("quality_model.label must be a label without spaces, e.g. __label__hq")
        if self.tokenize not in ("auto",) + TOKENIZATIONS:
            raise ConfigError(f"quality_model.tokenize must be one of auto, {', '.join(TOKENIZATIONS)}")
        check_settings(self, "quality_model")
        if not isinstance(self.models, tuple) or not all(isinstance(m, NamedModel) for m in self.models):
            raise ConfigError("quality_model.models is set with --quality-model NAME=PATH, not directly")
        names = [m.name for m in self.models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"quality model name {dup[0]!r} is given twice")
        for m in self.models:
            m.validate()
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
        line = text.replace("\n", " ")
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
    Beam's file systems).  ``slot`` (a named model's settings) overrides how the score is read
    (``score``), its threshold and tokenization; without it the model is read as the unnamed
    one: the probability of ``config.label``."""

    def __init__(self, config: QualityModelConfig, fetch: Callable[[str], bytes] | None = None,
                 slot: ModelSlot | None = None):
        from .fasttext_check import load_model_info

        self.config = config.validate()
        path = slot.path if slot is not None else config.path
        if not path:
            raise ConfigError("quality_model.path is not set")
        self._tmp = None
        local = path if (fetch is None and os.path.isfile(path)) else None
        if local is None:
            data = (fetch or _load_bytes)(path)
            fd, tmp = tempfile.mkstemp(suffix=".bin", prefix="jawebcorpus-qm-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self._tmp = local = tmp
        self.record = self._read_record(path, fetch)
        self._model, info = load_model_info(local, "quality model")
        self.labels = info.labels
        tok = slot.tokenize if slot is not None else config.tokenize
        if tok == "auto":
            tok = (self.record or {}).get("tokenize") or "none"
            if tok not in TOKENIZATIONS:
                tok = "none"
        self.tokenize = tok
        self.label = slot.label if slot is not None else config.full_label
        self.threshold = slot.threshold if slot is not None else config.threshold
        mode = slot.score if slot is not None else "label"
        self.grades = grades_of(self.labels)
        if mode == "auto":
            mode = "expected" if self.grades else "label"
        if mode == "expected" and not self.grades:
            raise ConfigError(f"quality model {path}: score=expected needs labels __label__<integer>")
        self.mode = mode
        #: the highest score: 1 for a label's probability, the top grade for an expected score
        self.top = float(max(self.grades.values())) if mode == "expected" else 1.0
        #: how the score is read, for the report: ``expected:<top grade>`` or ``label:<label>``
        self.reads = f"expected:{self.top:g}" if mode == "expected" else f"label:{self.label}"

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
        """The score of an already tokenized line: the probability of the configured label, or
        the expected grade Σ k·p(k) over every label (``k=-1``)."""
        if not line or line.isspace():
            return 0.0
        labels, probs = self._model.predict(line, k=-1, threshold=0.0)
        if self.mode == "expected":
            grades = self.grades
            total = sum(grades.get(lab, 0) * float(p) for lab, p in zip(labels, probs))
            return float(min(max(total, 0.0), self.top)) if math.isfinite(total) else 0.0
        for lab, p in zip(labels, probs):
            if lab == self.label:
                return float(min(max(p, 0.0), 1.0))
        return 0.0

    def score(self, text: str) -> float:
        return self.score_line(tokenize_text(text, self.tokenize, self.config.max_chars))

    def keep(self, score: float) -> bool:
        t = self.threshold
        return t is None or score >= t

    def bin(self, score: float) -> str:
        """The lower edge of the histogram bin of ``score``: 20 bins over [0, top]."""
        if self.top == 1.0:
            return ratio_bin(score)
        i = min(int(score / self.top * 20), 19) if score > 0 else 0
        return f"{i * self.top / 20:.2f}"


class QualityModelStage(Stage):
    """quality_model: fastText quality classifiers' scores.  The unnamed model (``--quality-model
    PATH``): the probability of its label, column ``quality_score``, threshold reason
    ``quality_model_below``; each named model (``--quality-model NAME=PATH``): column
    ``quality_<NAME>``, reason ``quality_model_below_<NAME>``.  The score of every document scored
    goes to the details (``hist:quality_score``, ``hist:quality_<NAME>``), so the report shows
    where each threshold cuts."""

    name = "quality_model"
    summary = "fastText quality classifiers' scores (a label's probability or the expected grade)"
    settings = QualityModelConfig
    enabled_by = "active"
    reasons = (
        *Reason.kept("scored (at or above every threshold that is set)", "scored"),
        *Reason.dropped("score below quality_model.threshold", "quality_model_below"),
        Reason("quality_model_below_<name>", "dropped", "the named model's score below its threshold "
               "(quality_model.<name>.threshold)", pattern=r"quality_model_below_[a-z][a-z0-9_]{0,31}"),
    )
    details = (DetailKind("hist:quality_score", "bin lower edge", "the score of every document scored",
                          title="quality model score (probability of its label)"),
               DetailKind("hist:quality_<name>", "bin lower edge",
                          "a named model's score of every document scored (20 bins over [0, its highest score])"),
               DetailKind("scale:quality_<name>", "expected:<top grade> or label:<label>",
                          "how a named model's score is read (its histogram spans [0, top grade] or [0, 1])"))

    @classmethod
    def columns(cls, settings: QualityModelConfig) -> tuple[Column, ...]:
        named = tuple(Column(m.column, "float32", f"quality model {m.name}'s score") for m in
                      (settings.models if settings is not None else ()))
        return (Column("quality_score", "float32", "the quality model's probability of its label"), *named)

    @classmethod
    def assets(cls, settings: QualityModelConfig) -> tuple[Asset, ...]:
        return tuple(Asset("quality model", s.path) for s in settings.slots())

    def setup(self, config, resources: Resources) -> None:
        cfg: QualityModelConfig = config.quality_model
        self.models: list[tuple[ModelSlot, QualityModel]] = []
        for slot in cfg.slots():
            local = resources.local_dir(os.path.dirname(slot.path) or ".",
                                        [os.path.basename(slot.path), os.path.basename(record_path(slot.path))])
            path = os.path.join(local, os.path.basename(slot.path))
            here = dataclass_replace(slot, path=path)
            if slot.name is None:
                model = resources.get(("quality_model", path, cfg.path, cfg.label, cfg.threshold, cfg.tokenize,
                                       cfg.max_chars), lambda: QualityModel(dataclass_replace(cfg, path=path, models=())))
            else:  # loaded once per worker for each set of settings
                model = resources.get(("quality_model", here, cfg.max_chars),
                                      lambda: QualityModel(QualityModelConfig(max_chars=cfg.max_chars), slot=here))
            self.models.append((slot, model))
        self.model = self.models[0][1]

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        dropped = None
        for slot, model in self.models:
            score = model.score(text)
            doc.signals[slot.column] = score
            count.detail(slot.hist, model.bin(score), chars=len(text), nbytes=doc.payload_bytes)
            if slot.name is not None:
                count.detail(f"scale:{slot.column}", model.reads)
            if dropped is None and not model.keep(score):
                dropped = slot.reason
        if dropped is not None:
            count.dropped(dropped, chars=len(text))
            return None
        count.kept("scored", chars=len(text))
        return doc
