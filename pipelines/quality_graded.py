"""Graded training: a multi-class fastText classifier, one label per grade (``__label__0`` …
``__label__3``), from the label file ``jawebcorpus annotate`` writes (``jawebcorpus train-quality
--labels LABELS.jsonl``).  Its **expected score** Σ k·p(k) is what ``--quality-model NAME=PATH``
reads (``score=expected``, the default for a model whose labels are all integers).

:func:`iter_labels` reads a label file: every line that is a JSON object whose label field
(``--label-field``, default ``score``) is an integer grade in 0 … :data:`MAX_GRADE` and whose
``status`` (when the line has one) is ``ok``; other lines are counted as skipped, never guessed
(a grade ``"3"``, ``3.5`` or ``true`` is not a grade).  A document (``doc_id``) counts once.

:func:`train_graded_model` holds out a share of the texts (by a hash of the seed and the text,
as the binary trainer does), trains in the same child process as the binary trainer
(:mod:`.quality_training`), scores the held-out share with the prediction binding the pipeline
uses, and writes ``<model>.json`` with the per-grade counts and the held-out evaluation:
accuracy (the most probable grade), the Spearman correlation of the expected score with the
grade, and the ROC AUC of the expected score at each cut (grade ≥ 1, ≥ 2, …).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import tempfile
from typing import Callable, Iterable, Iterator

from jawebcorpus.filters.quality_model import grades_of, tokenize_text

from .quality_training import (TrainReport, _auc, _checked_params, _record_head, _train_in_child,
                               _write_record, find_trainer)

__all__ = ["iter_labels", "train_graded_model", "spearman", "graded_metrics", "MAX_GRADE", "LabelStats"]

#: Grades are integers 0 … this.
MAX_GRADE = 100
#: A label line longer than this is skipped (annotate's lines are far shorter).
_MAX_LINE = 16 << 20


class LabelStats:
    """What :func:`iter_labels` read: lines, usable ones, and why the others were skipped."""

    def __init__(self) -> None:
        self.lines = self.usable = 0
        self.skipped: dict[str, int] = {}

    def skip(self, why: str) -> None:
        self.skipped[why] = self.skipped.get(why, 0) + 1


def iter_labels(path: str, label_field: str = "score", text_field: str = "text",
                stats: LabelStats | None = None) -> Iterator[tuple[str, int]]:
    """``(text, grade)`` of every usable line of a label file (see the module docstring)."""
    stats = stats if stats is not None else LabelStats()
    seen: set[str] = set()
    with open(path, "rb") as fh:
        while True:
            raw = fh.readline(_MAX_LINE + 1)  # bounded: a file without newlines is not read whole
            if not raw:
                break
            stats.lines += 1
            if len(raw) > _MAX_LINE:
                while raw and not raw.endswith(b"\n"):  # the rest of that line, a bounded piece at a time
                    raw = fh.readline(_MAX_LINE + 1)
                stats.skip("too long")
                continue
            try:
                obj = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                stats.skip("not JSON")
                continue
            if not isinstance(obj, dict):
                stats.skip("not an object")
                continue
            if "status" in obj and obj["status"] != "ok":
                stats.skip(f"status {str(obj['status'])[:20]}")
                continue
            g, text = obj.get(label_field), obj.get(text_field)
            if isinstance(g, bool) or not isinstance(g, int) or not 0 <= g <= MAX_GRADE:
                stats.skip(f"no integer {label_field}")
                continue
            if not isinstance(text, str) or not text.strip():
                stats.skip(f"no {text_field}")
                continue
            doc = obj.get("doc_id")
            if isinstance(doc, str):
                if doc in seen:
                    stats.skip("document seen before")
                    continue
                seen.add(doc)
            stats.usable += 1
            yield text, g


def _ranks(xs: list[float]) -> list[float]:
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rank correlation (ties averaged); None when either side is constant."""
    if len(xs) != len(ys) or len(xs) < 2:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def graded_metrics(grades: list[int], expected: list[float], predicted: list[int], top: int) -> dict:
    """Held-out evaluation of a graded model: accuracy, Spearman, ROC AUC at each cut 1 … top."""
    n = len(grades)
    cuts = {}
    for c in range(1, top + 1):
        pos = [e for e, g in zip(expected, grades) if g >= c]
        neg = [e for e, g in zip(expected, grades) if g < c]
        cuts[f">={c}"] = {"positive": len(pos), "negative": len(neg), "roc_auc": _auc(pos, neg)}
    return {"documents": n, "accuracy": sum(p == g for p, g in zip(predicted, grades)) / n if n else None,
            "spearman": spearman([float(e) for e in expected], [float(g) for g in grades]),
            "mean_abs_error": sum(abs(e - g) for e, g in zip(expected, grades)) / n if n else None,
            "roc_auc_at": cuts}


def train_graded_model(
    labelled: Iterable[tuple[str, int]],
    out_path: str,
    *,
    tokenize: str = "chars",
    holdout: float = 0.1,
    seed: int = 0,
    epoch: int = 25,
    lr: float = 0.1,
    dim: int = 16,
    word_ngrams: int = 2,
    min_count: int = 1,
    bucket: int = 2_000_000,
    loss: str = "softmax",
    threads: int = 1,
    max_chars: int = 100_000,
    sources: list | None = None,
    trainer_path: str | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train a classifier with one label per grade (``__label__<grade>``) from ``(text, grade)``
    pairs, write it to ``out_path`` with its training record; see the module docstring."""
    from jawebcorpus.filters.fasttext_check import load_model_info  # the pipeline's binding scores the held-out share

    log = log or (lambda _msg: None)
    params = _checked_params(tokenize, holdout, loss, {
        "seed": seed, "epoch": epoch, "lr": lr, "dim": dim, "word_ngrams": word_ngrams, "min_count": min_count,
        "bucket": bucket, "threads": threads, "max_chars": max_chars})
    trainer = find_trainer(trainer_path)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    cut = int(holdout * 2**32)
    counts: dict[int, dict[str, int]] = {}
    held: list[tuple[str, int]] = []
    sha = hashlib.sha256()
    empty = 0
    with tempfile.TemporaryDirectory(prefix="jawebcorpus-train-", dir=out_dir) as tmp:
        files: dict[int, tuple[str, object]] = {}
        try:
            for text, g in labelled:
                b = text.encode("utf-8", "surrogatepass")
                sha.update(g.to_bytes(2, "little") + len(b).to_bytes(8, "little") + b)
                c = counts.setdefault(g, {"documents": 0, "train": 0, "holdout": 0})
                c["documents"] += 1
                line = tokenize_text(text, tokenize, max_chars)
                if not line.strip():
                    empty += 1
                    continue
                h = int.from_bytes(hashlib.sha256(f"{seed}\0".encode() + b).digest()[:4], "little")
                if h < cut:
                    held.append((line, g))
                    c["holdout"] += 1
                    continue
                if g not in files:
                    p = os.path.join(tmp, f"grade{g}.train")
                    files[g] = (p, open(p, "w", encoding="utf-8"))
                files[g][1].write(f"__label__{g} {line}\n")
                c["train"] += 1
        finally:
            for _, fh in files.values():
                fh.close()
        trained = sorted(g for g, c in counts.items() if c["train"])
        if len(trained) < 2:
            raise ValueError(f"need training texts of at least two grades (got grades {trained or 'none'} after "
                             f"the held-out share and empty texts)")
        train_file = os.path.join(tmp, "train.txt")
        _interleave_many([(files[g][0], counts[g]["train"]) for g in trained], train_file, seed)
        log(f"training on {sum(counts[g]['train'] for g in trained)} texts of grades "
            f"{', '.join(map(str, trained))} ({trainer['package'] or trainer['module']}) …")
        _train_in_child(trainer, train_file, params, tmp, out_path)

    model, info = load_model_info(out_path, "graded model")
    grade_of = grades_of(info.labels) or {}
    top = max(grade_of.values())
    expected, predicted, truth = [], [], []
    for line, g in held:
        labels, probs = model.predict(line, k=-1, threshold=0.0)
        expected.append(sum(grade_of[lab] * float(p) for lab, p in zip(labels, probs)))
        predicted.append(grade_of[labels[0]] if len(labels) else 0)
        truth.append(g)
    record = {
        **_record_head(out_path, tokenize, max_chars, params, trainer),
        "labels": {"grades": [f"__label__{g}" for g in sorted(grade_of.values())]},
        "score": "expected grade: sum of k * p(__label__k) over every label",
        "data": {"grades": {str(g): counts[g] for g in sorted(counts)}, "empty": empty, "sha256": sha.hexdigest(),
                 "sha256_of": "per text: 2-byte grade, 8-byte length, UTF-8 bytes (little-endian), in input order",
                 "sources": list(sources or [])},
        "holdout": {"share": holdout, "split": "sha256(seed, text) below share: stable, independent of order",
                    **graded_metrics(truth, expected, predicted, top)},
    }
    return _write_record(out_path, record)


def _interleave_many(parts: list[tuple[str, int]], out: str, seed: int) -> None:
    """Merge line files in a random order (each keeps its own order), without holding them."""
    rng = random.Random(seed)
    left = [n for _, n in parts]
    fhs = [open(p, encoding="utf-8") for p, _ in parts]
    try:
        with open(out, "w", encoding="utf-8") as fo:
            total = sum(left)
            while total:
                r = rng.random() * total
                i = 0
                while r >= left[i] and i < len(left) - 1:
                    r -= left[i]
                    i += 1
                if not left[i]:  # float edge: take the last non-empty file
                    i = max(k for k, n in enumerate(left) if n)
                fo.write(fhs[i].readline())
                left[i] -= 1
                total -= 1
    finally:
        for fh in fhs:
            fh.close()
