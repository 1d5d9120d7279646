"""Training a fastText quality classifier (``jawebcorpus train-quality``, :mod:`.train_quality`)
for the ``quality_model`` stage (``filters/quality_model.py``, which scores with it).

:func:`train_quality_model` trains such a classifier from positive and negative texts, holds
out a share of them (chosen by a hash of each text and the seed, so the split is stable and
needs no memory), evaluates the held-out share **with the same binding the pipeline scores
with**, and writes next to the model ``<model>.json``: the labels, the tokenization, the
settings, the trainer, the counts / characters / SHA-256 of the positive and negative
training data with their sources, and the held-out precision, recall, accuracy and ROC AUC.

Which fastText trains.  ``fasttext-predict`` only predicts.  The packages that train install
the *same* module (``fasttext``, and the same extension module file ``fasttext_pybind*.so``),
so installing one next to ``fasttext-predict`` overwrites its files, and uninstalling either
later breaks the other; an optional extra in ``pyproject.toml`` would do exactly that.  So
training runs in a **child process** whose import path starts with a separate directory that
holds a training build (:func:`install_trainer` puts it there with
``pip install --target DIR --no-deps``):

* ``fasttext-numpy2`` 0.10.4 where it has wheels (Linux x86-64, CPython 3.10–3.13).  Checked
  here: under numpy 2 its ``predict`` gives bit-identical lid.176 results to
  ``fasttext-predict`` on all 13,141 lingua sentences, so it *could* replace
  ``fasttext-predict`` — but it has no aarch64 wheels (an sdist build needs a C++ compiler) and
  its extension is 17 MB against 0.9 MB, so prediction stays on ``fasttext-predict``;
* ``fasttext-wheel`` 0.9.2 elsewhere (wheels for Linux aarch64 and x86-64, CPython 3.10–3.12):
  its ``predict`` fails under numpy 2 (``np.array(copy=False)``), but training does not touch
  that code, and with one thread and a fixed seed the two packages write byte-identical models.

The child needs numpy only (from the parent's environment).  The directory is found as
``trainer_path`` argument → ``$JAWEBCORPUS_FASTTEXT_TRAINER`` → the default
``~/.cache/jawebcorpus/fasttext-trainer/<python>-<machine>`` → the current environment, if its
``fasttext`` module can train.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Callable, Iterable

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.settings import Range
from jawebcorpus.filters.quality_model import RECORD_FORMAT, TOKENIZATIONS, as_label, record_path, tokenize_text

__all__ = ["train_quality_model", "TrainReport", "find_trainer", "install_trainer", "default_trainer_dir",
           "trainer_package", "TrainerNotFound", "TRAINER_ENV", "TRAIN_RANGES"]

TRAINER_ENV = "JAWEBCORPUS_FASTTEXT_TRAINER"
#: Ranges of the training settings (``jawebcorpus train-quality --epoch`` …): the input matrix
#: alone is ``bucket × dim`` floats.
TRAIN_RANGES = {
    "seed": Range(0, (1 << 31) - 1, integer=True), "epoch": Range(1, 10_000, integer=True),
    "lr": Range(0.0, 10.0, lo_open=True), "dim": Range(1, 1000, integer=True),
    "word_ngrams": Range(1, 10, integer=True), "min_count": Range(1, 1_000_000_000, integer=True),
    "bucket": Range(1, 10_000_000, integer=True), "threads": Range(1, 256, integer=True),
    "max_chars": Range(1, 100_000_000, integer=True), "threshold": Range(0.0, 1.0),
}

# -- training ---------------------------------------------------------------------------------
class TrainerNotFound(RuntimeError):
    pass


def default_trainer_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}-{platform.machine().lower()}"
    return os.path.join(base, "jawebcorpus", "fasttext-trainer", tag)


def trainer_package() -> str:
    """The pip requirement of the training build for this machine (see the module docstring)."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64") and (3, 10) <= sys.version_info[:2] <= (3, 13):
        return "fasttext-numpy2==0.10.4"
    return "fasttext-wheel==0.9.2"


_PROBE = (
    "import sys; sys.path.insert(0, sys.argv[1]) if sys.argv[1] else None; import fasttext; "
    "assert hasattr(fasttext, 'train_supervised'); "
    "from importlib import metadata as m; import os; "
    "d = os.path.dirname(os.path.dirname(fasttext.__file__)); "
    "names = [x.metadata['Name'] + ' ' + x.version for x in m.distributions(path=[d]) "
    "if 'fasttext' in (x.metadata['Name'] or '').lower()]; print(fasttext.__file__); print(';'.join(names))"
)


def _probe(path: str) -> dict | None:
    try:
        r = subprocess.run([sys.executable, "-I", "-c", _PROBE, path], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if r.returncode != 0:
        return None
    lines = r.stdout.strip().splitlines() + ["", ""]
    return {"path": path, "module": lines[0], "package": lines[1]}


def find_trainer(path: str | None = None) -> dict:
    """The training build to use: ``{"path", "module", "package"}``; raises :class:`TrainerNotFound`."""
    tried = []
    for cand in (path, os.environ.get(TRAINER_ENV), default_trainer_dir()):
        if cand:
            tried.append(cand)
            if os.path.isdir(cand):
                info = _probe(cand)
                if info:
                    return info
            if cand == path:
                raise TrainerNotFound(f"no fastText training build in {cand} (run install_trainer / "
                                      "jawebcorpus train-quality --install-trainer)")
    info = _probe("")
    if info:
        return info
    raise TrainerNotFound(
        "no fastText build that can train was found (tried: " + ", ".join(tried + ["this environment"]) +
        "). Install one into its own directory, away from fasttext-predict: "
        "`jawebcorpus train-quality --install-trainer` (runs "
        f"`{sys.executable} -m pip install --no-deps --target {default_trainer_dir()} {trainer_package()}`)"
    )


def install_trainer(path: str | None = None, package: str | None = None) -> dict:
    """``pip install --no-deps --target DIR`` the training build; returns :func:`find_trainer`'s answer."""
    path = path or default_trainer_dir()
    os.makedirs(path, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--upgrade", "--target", path,
                    package or trainer_package()], check=True)
    return find_trainer(path)


_CHILD = r"""
import json, sys
args = json.loads(sys.argv[1])
if args["trainer_path"]:
    sys.path.insert(0, args["trainer_path"])
import fasttext
model = fasttext.train_supervised(input=args["input"], **args["params"])
model.save_model(args["output"])
"""


@dataclass
class TrainReport:
    model_path: str
    record_path: str
    record: dict = field(default_factory=dict)

    @property
    def precision(self) -> float | None:
        return self.record["holdout"]["precision"]

    @property
    def recall(self) -> float | None:
        return self.record["holdout"]["recall"]


class _Side:
    """Streams one class's texts to a temp file of tokenized lines, and its held-out share."""

    def __init__(self, label: str, tmpdir: str, name: str):
        self.label = label
        self.path = os.path.join(tmpdir, f"{name}.train")
        self.fh = open(self.path, "w", encoding="utf-8")
        self.holdout: list[str] = []
        self.docs = self.chars = self.train_docs = self.empty = 0
        self.sha = hashlib.sha256()

    def close(self):
        self.fh.close()


def _split_and_write(texts: Iterable[str], side: _Side, tokenize: str, max_chars: int, holdout: float,
                     seed: int) -> None:
    cut = int(holdout * 2**32)
    for text in texts:
        text = text if isinstance(text, str) else ("" if text is None else str(text))
        b = text.encode("utf-8", "surrogatepass")
        side.sha.update(len(b).to_bytes(8, "little"))
        side.sha.update(b)
        side.docs += 1
        side.chars += len(text)
        line = tokenize_text(text, tokenize, max_chars)
        if not line:
            side.empty += 1
            continue
        h = int.from_bytes(hashlib.sha256(f"{seed}\0".encode() + b).digest()[:4], "little")
        if h < cut:
            side.holdout.append(line)
        else:
            side.fh.write(f"{side.label} {line}\n")
            side.train_docs += 1


def _interleave(a: str, na: int, b: str, nb: int, out: str, seed: int) -> None:
    """Merge two line files in a random order (each keeps its own order): a well-mixed
    training file without holding the data in memory."""
    rng = random.Random(seed)
    with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb, open(out, "w", encoding="utf-8") as fo:
        ra, rb = na, nb
        while ra or rb:
            if rng.random() * (ra + rb) < ra:
                fo.write(fa.readline())
                ra -= 1
            else:
                fo.write(fb.readline())
                rb -= 1


def _auc(pos: list[float], neg: list[float]) -> float | None:
    if not pos or not neg:
        return None
    scored = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    # rank-sum with ties averaged
    ranks, i = [0.0] * len(scored), 0
    while i < len(scored):
        j = i
        while j + 1 < len(scored) and scored[j + 1][0] == scored[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    rpos = sum(r for r, (_, y) in zip(ranks, scored) if y == 1)
    return (rpos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def _checked_params(tokenize: str, holdout: float, loss: str, given: dict) -> dict:
    """The training settings checked (one ConfigError naming the first bad one) and as fastText's
    parameters; ``given``: the ranged settings by name (:data:`TRAIN_RANGES`)."""
    if tokenize not in TOKENIZATIONS:
        raise ConfigError(f"tokenize must be one of {', '.join(TOKENIZATIONS)}")
    if not 0.0 <= holdout < 1.0:
        raise ConfigError("holdout must be in [0, 1)")
    if loss not in ("softmax", "ova", "hs", "ns"):
        raise ConfigError("loss must be softmax, ova, hs or ns")
    for name, value in given.items():
        TRAIN_RANGES[name].check(name.replace("_", "-"), value)
    return {"epoch": int(given["epoch"]), "lr": float(given["lr"]), "dim": int(given["dim"]),
            "wordNgrams": int(given["word_ngrams"]), "minCount": int(given["min_count"]),
            "bucket": int(given["bucket"]), "loss": loss, "thread": int(given["threads"]),
            "seed": int(given["seed"]), "verbose": 0}


def _train_in_child(trainer: dict, train_file: str, params: dict, tmp: str, out_path: str) -> None:
    """Train with the fastText trainer in a child process (its own interpreter: a crash costs the
    child) and move the model to ``out_path``."""
    tmp_model = os.path.join(tmp, "model.bin")
    child = subprocess.run(
        [sys.executable, "-I", "-c", _CHILD,
         json.dumps({"trainer_path": trainer["path"], "input": train_file, "output": tmp_model, "params": params})],
        capture_output=True, text=True)
    if child.returncode != 0 or not os.path.exists(tmp_model):
        tail = (child.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise RuntimeError(f"fastText training failed (exit {child.returncode}): {tail}")
    os.replace(tmp_model, out_path)


def _record_head(out_path: str, tokenize: str, max_chars: int, params: dict, trainer: dict) -> dict:
    """The fields every training record starts with: the model file, how texts were tokenized,
    the settings and the trainer."""
    with open(out_path, "rb") as fh:
        model_sha = hashlib.sha256(fh.read()).hexdigest()
    return {
        "format": RECORD_FORMAT,
        "created": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "model": os.path.basename(out_path),
        "model_sha256": model_sha,
        "tokenize": tokenize,
        "max_chars": max_chars,
        "settings": params,
        "trainer": {k: trainer[k] for k in ("package", "module")} | {"python": platform.python_version(),
                                                                      "machine": platform.machine()},
    }


def _write_record(out_path: str, record: dict) -> TrainReport:
    """Write the training record ``<out_path>.json`` (atomically) and return the report."""
    rpath = record_path(out_path)
    with open(rpath + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(record, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    os.replace(rpath + ".tmp", rpath)
    return TrainReport(out_path, rpath, record)


def train_quality_model(
    positive_texts: Iterable[str],
    negative_texts: Iterable[str],
    out_path: str,
    *,
    positive_label: str = "__label__hq",
    negative_label: str = "__label__lq",
    tokenize: str = "chars",
    holdout: float = 0.1,
    seed: int = 0,
    epoch: int = 25,  # defaults chosen on labelled Japanese text: docs/filters.md § Training defaults
    lr: float = 0.1,
    dim: int = 16,
    word_ngrams: int = 2,
    min_count: int = 1,
    bucket: int = 2_000_000,
    loss: str = "softmax",
    threads: int = 1,
    max_chars: int = 100_000,
    threshold: float = 0.5,
    sources: dict | None = None,
    trainer_path: str | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train a fastText classifier of ``positive_label`` vs ``negative_label`` and write it to
    ``out_path`` with its training record ``<out_path>.json``; see the module docstring.

    ``sources``: ``{"positive": [...], "negative": [...]}`` descriptions of where the texts came
    from (file names, run and expression), stored in the record.  ``threshold``: the score at
    which a held-out text counts as predicted positive for precision and recall.
    """
    import fasttext  # the prediction binding: held-out evaluation uses what the pipeline uses

    log = log or (lambda _msg: None)
    pos_l, neg_l = as_label(positive_label), as_label(negative_label)
    if pos_l == neg_l:
        raise ConfigError("the positive and negative labels must differ")
    params = _checked_params(tokenize, holdout, loss, {
        "seed": seed, "epoch": epoch, "lr": lr, "dim": dim, "word_ngrams": word_ngrams, "min_count": min_count,
        "bucket": bucket, "threads": threads, "max_chars": max_chars, "threshold": threshold})
    trainer = find_trainer(trainer_path)
    out_dir = os.path.dirname(os.path.abspath(out_path))
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="jawebcorpus-train-", dir=out_dir) as tmp:
        sides = {"positive": _Side(pos_l, tmp, "pos"), "negative": _Side(neg_l, tmp, "neg")}
        try:
            _split_and_write(positive_texts, sides["positive"], tokenize, max_chars, holdout, seed)
            _split_and_write(negative_texts, sides["negative"], tokenize, max_chars, holdout, seed)
        finally:
            for s in sides.values():
                s.close()
        p, n = sides["positive"], sides["negative"]
        if not p.train_docs or not n.train_docs:
            raise ValueError(f"need positive and negative training texts (got {p.train_docs} positive and "
                             f"{n.train_docs} negative after the held-out share and empty texts)")
        train_file = os.path.join(tmp, "train.txt")
        _interleave(p.path, p.train_docs, n.path, n.train_docs, train_file, seed)
        log(f"training on {p.train_docs} positive and {n.train_docs} negative texts "
            f"({trainer['package'] or trainer['module']}) …")
        _train_in_child(trainer, train_file, params, tmp, out_path)

    model = fasttext.load_model(out_path)

    def prob(line: str) -> float:
        labels, probs = model.predict(line, k=-1, threshold=0.0)
        for lab, pr in zip(labels, probs):
            if lab == pos_l:
                return float(min(max(pr, 0.0), 1.0))
        return 0.0

    sp = [prob(x) for x in p.holdout]
    sn = [prob(x) for x in n.holdout]
    tp = sum(s >= threshold for s in sp)
    fp = sum(s >= threshold for s in sn)
    fn = len(sp) - tp
    tn = len(sn) - fp
    record = {
        **_record_head(out_path, tokenize, max_chars, params, trainer),
        "labels": {"positive": pos_l, "negative": neg_l},
        "score": f"probability of {pos_l}",
        "data": {
            name: {"documents": s.docs, "characters": s.chars, "empty": s.empty, "train": s.train_docs,
                   "holdout": len(s.holdout), "sha256": s.sha.hexdigest(),
                   "sha256_of": "per text: 8-byte little-endian UTF-8 length, then the UTF-8 bytes, in input order",
                   "sources": list((sources or {}).get(name, []))}
            for name, s in sides.items()
        },
        "holdout": {
            "share": holdout, "split": "sha256(seed, text) below share: stable, independent of order",
            "threshold": threshold, "positive": len(sp), "negative": len(sn),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "accuracy": (tp + tn) / (len(sp) + len(sn)) if sp or sn else None,
            "roc_auc": _auc(sp, sn),
        },
    }
    return _write_record(out_path, record)
