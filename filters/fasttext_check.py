"""A fastText model file checked before the fastText library sees it (pure Python, bounded memory).

fastText's loader trusts its file: a header that claims two billion dictionary entries makes it
reserve gigabytes before it reads a byte of them, a dictionary cut short makes it append the
end-of-file marker to a word forever, matrix sizes are multiplied and allocated as read, and a
zero ``bucket`` divides by zero on the first character n-gram.  A partial download is the
everyday case.  :func:`check_model_file` therefore walks the whole file format itself —
the arguments, every dictionary entry, the pruning index, both matrices (dense or product-
quantised) — reading at most :data:`CHUNK` bytes at a time and seeking over the matrix data,
and refuses a file unless

* the magic number and version are fastText's (version 11 or 12), the model is supervised
  (``model == sup``: only those predict), the loss is one fastText knows;
* ``dim``, ``wordNgrams``, ``minn``, ``maxn`` and ``bucket`` are in range, and ``bucket > 0``
  whenever n-grams are hashed;
* the dictionary's counts agree (``size = nwords + nlabels``, at least one label, each entry
  fits in what is left of the file, words before labels);
* every pruning-index target and every matrix row the model can address exists, each matrix
  has ``dim`` columns, the output matrix one row per label, a quantiser's sub-quantisers add
  up to its dimension and its codes fill the matrix;
* the file ends exactly where the output matrix ends.

Then :func:`check_model` loads it with the fastText binding and makes a test prediction, whose
probabilities must be finite and within [0, 1].  The format is fastText's (``src/args.cc``,
``dictionary.cc``, ``densematrix.cc``, ``quantmatrix.cc``, ``productquantizer.cc``).
"""

from __future__ import annotations

import array
import math
import os
import struct
import sys
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["ModelFileError", "ModelInfo", "check_model_file", "check_model", "load_model", "load_model_info", "CHUNK", "MAX_MODEL_BYTES"]

MAGIC = 793712314
VERSIONS = (11, 12)
MODEL_SUPERVISED = 3
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}
KSUB = 256  # centroids per sub-quantiser (8-bit codes)
#: Bytes read at a time while checking.
CHUNK = 1 << 20
#: Larger model files are refused (fastText's own language-ID model is 126 MB as .bin).
MAX_MODEL_BYTES = 8 << 30
#: A dictionary entry longer than this is refused (so one entry never fills memory).
MAX_WORD_BYTES = 1 << 20
MAX_DIM = 1 << 16
_ARGS = struct.Struct("<12id")
_DICT = struct.Struct("<iiiqq")
_PQ = struct.Struct("<4i")
_MAT = struct.Struct("<qq")


class ModelFileError(ValueError):
    """Not a usable fastText model; the message says what is wrong, never the file's bytes."""


@dataclass(frozen=True)
class ModelInfo:
    path: str
    bytes: int
    version: int
    dim: int
    loss: str
    nwords: int
    labels: tuple[str, ...]
    quantised: bool


class _Reader:
    """Sequential reads from a binary file, a chunk at a time; seeks over what is not read."""

    def __init__(self, fh: BinaryIO, size: int):
        self.fh, self.size = fh, size
        self.buf, self.i, self.pos = b"", 0, 0  # pos: file offset of buf[0]

    @property
    def offset(self) -> int:
        return self.pos + self.i

    def left(self) -> int:
        return self.size - self.offset

    def _fill(self, need: int) -> None:
        while len(self.buf) - self.i < need:
            data = self.fh.read(max(CHUNK, need))
            if not data:
                raise ModelFileError(f"the file ends at byte {self.size:,}, inside the model (truncated?)")
            self.pos += self.i
            self.buf, self.i = self.buf[self.i:] + data, 0

    def take(self, n: int) -> bytes:
        self._fill(n)
        out = self.buf[self.i:self.i + n]
        self.i += n
        return out

    def unpack(self, st: struct.Struct) -> tuple:
        return st.unpack(self.take(st.size))

    def skip(self, n: int, what: str) -> None:
        if n < 0 or n > self.left():
            raise ModelFileError(f"{what} needs {n:,} bytes but {self.left():,} are left (truncated or damaged)")
        held = len(self.buf) - self.i
        if n <= held:
            self.i += n
            return
        target = self.offset + n
        self.fh.seek(target)
        self.buf, self.i, self.pos = b"", 0, target

    def word(self) -> bytes:
        """A NUL-terminated dictionary word."""
        start = self.i
        while True:
            end = self.buf.find(b"\0", start)
            if end >= 0:
                word = self.buf[self.i:end]
                self.i = end + 1
                return word
            if len(self.buf) - self.i > MAX_WORD_BYTES:
                raise ModelFileError(f"a dictionary entry at byte {self.offset:,} is longer than {MAX_WORD_BYTES:,} bytes")
            start = len(self.buf)
            data = self.fh.read(CHUNK)
            if not data:
                raise ModelFileError(f"the file ends at byte {self.size:,}, inside the dictionary (truncated?)")
            self.pos += self.i
            start -= self.i
            self.buf, self.i = self.buf[self.i:] + data, 0


def _dictionary(r: _Reader, size: int, nwords: int) -> list[str]:
    """Walk ``size`` entries (``word NUL count:int64 type:int8``): words first, then labels;
    the labels.  The common case (an entry inside the buffer) stays in this loop."""
    labels = []
    buf, i = r.buf, r.i
    for k in range(size):
        end = buf.find(b"\0", i)
        if end < 0 or end + 10 > len(buf):  # the entry crosses the buffer: the reader's slow path
            r.i = i
            word = r.word()
            kind = r.take(9)[8]
            buf, i = r.buf, r.i
        else:
            word, kind = buf[i:end], buf[end + 9]
            i = end + 10
        if kind != (k >= nwords):
            r.i = i
            raise ModelFileError(f"dictionary entry {k + 1:,} is a {'label' if kind == 1 else 'word'} where a "
                                 f"{'label' if k >= nwords else 'word'} belongs")
        if k >= nwords:
            labels.append(word.decode("utf-8", "replace"))
    r.i = i
    return labels


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ModelFileError(message)


def _matrix(r: _Reader, quantised: bool, what: str, dim: int) -> int:
    """Check one matrix (its size against the file) and skip its data; its number of rows."""
    if not quantised:
        m, n = r.unpack(_MAT)
        _need(m >= 0 and n == dim, f"the {what} matrix is {m:,} × {n:,}; expected rows ≥ 0 and {dim} columns")
        r.skip(m * n * 4, f"the {what} matrix ({m:,} × {n:,})")
        return m
    qnorm = r.take(1)[0]
    _need(qnorm in (0, 1), f"the {what} matrix has a bad quantisation flag")
    m, n = r.unpack(_MAT)
    (codesize,) = struct.unpack("<i", r.take(4))
    _need(m >= 0 and n == dim and codesize >= 0,
          f"the quantised {what} matrix is {m:,} × {n:,} with {codesize:,} codes; expected {dim} columns")
    r.skip(codesize, f"the {what} matrix's codes")
    nsubq = _quantiser(r, what, n)
    _need(codesize == m * nsubq, f"the {what} matrix has {codesize:,} codes for {m:,} rows of {nsubq} sub-quantisers")
    if qnorm:
        r.skip(m, f"the {what} matrix's norm codes")
        _quantiser(r, f"{what} norm", None)
    return m


def _quantiser(r: _Reader, what: str, dim: int | None) -> int:
    pq_dim, nsubq, dsub, lastdsub = r.unpack(_PQ)
    _need(1 <= pq_dim <= MAX_DIM and (dim is None or pq_dim == dim) and nsubq >= 1 and 1 <= lastdsub <= dsub
          and (nsubq - 1) * dsub + lastdsub == pq_dim,
          f"the {what} quantiser (dim {pq_dim}, {nsubq} × {dsub}, last {lastdsub}) does not fit the matrix")
    r.skip(pq_dim * KSUB * 4, f"the {what} quantiser's centroids")
    return nsubq


def check_model_file(fh: BinaryIO, size: int, path: str = "") -> ModelInfo:
    """Walk a fastText model file of ``size`` bytes (see the module docstring); its description."""
    _need(size <= MAX_MODEL_BYTES, f"{size:,} bytes: larger than {MAX_MODEL_BYTES:,}")
    _need(size >= 8 + _ARGS.size + _DICT.size, "too short to be a fastText model" if size else "an empty file")
    r = _Reader(fh, size)
    magic, version = struct.unpack("<ii", r.take(8))
    _need(magic == MAGIC, "not a fastText model (wrong magic number)")
    _need(version in VERSIONS, f"fastText file format version {version} (readable: {', '.join(map(str, VERSIONS))})")
    (dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, model, bucket, minn, maxn, _lr_update,
     _t) = r.unpack(_ARGS)
    _need(model == MODEL_SUPERVISED, "not a supervised (classifier) model; only classifiers predict labels")
    _need(loss in LOSSES, f"unknown loss {loss}")
    _need(1 <= dim <= MAX_DIM, f"dimension {dim} (expected 1 to {MAX_DIM:,})")
    if version == 11:
        maxn = 0  # fastText: old supervised models use no character n-grams
    _need(1 <= word_ngrams <= 1000 and 0 <= minn <= 1000 and 0 <= maxn <= 1000 and bucket >= 0,
          f"settings out of range (wordNgrams {word_ngrams}, minn {minn}, maxn {maxn}, bucket {bucket})")
    _need(bucket > 0 or (maxn == 0 and word_ngrams == 1),
          "bucket is 0 but the model hashes n-grams (fastText would divide by zero)")
    size_, nwords, nlabels, _ntokens, prune_size = r.unpack(_DICT)
    _need(nwords >= 0 and nlabels >= 1 and size_ == nwords + nlabels,
          f"the dictionary counts disagree ({size_:,} entries, {nwords:,} words, {nlabels:,} labels)")
    _need(size_ <= r.left() // 10, f"the dictionary claims {size_:,} entries; the file has room for at most "
                                    f"{r.left() // 10:,}")
    _need(-1 <= prune_size <= r.left() // 8, f"the pruning index claims {prune_size:,} entries")
    labels = _dictionary(r, size_, nwords)
    ngram_rows = bucket if prune_size < 0 else prune_size
    for done in range(0, max(prune_size, 0), CHUNK // 8):
        n = min(CHUNK // 8, prune_size - done)
        targets = array.array("i", r.take(8 * n))[1::2]
        if sys.byteorder == "big":
            targets.byteswap()
        _need(min(targets) >= 0 and max(targets) < prune_size, "the pruning index points outside the matrix")
    quant_input = r.take(1)[0]
    _need(quant_input in (0, 1), "bad quantisation flag")
    _need(quant_input or prune_size < 0, "a pruned dictionary with a matrix that is not quantised (an outdated model)")
    rows = _matrix(r, bool(quant_input), "input", dim)
    _need(rows >= nwords + ngram_rows, f"the input matrix has {rows:,} rows; the dictionary addresses "
                                       f"{nwords + ngram_rows:,}")
    qout = r.take(1)[0]
    _need(qout in (0, 1), "bad output quantisation flag")
    out_rows = _matrix(r, bool(quant_input and qout), "output", dim)
    _need(out_rows == nlabels, f"the output matrix has {out_rows:,} rows for {nlabels:,} labels")
    _need(r.left() == 0, f"{r.left():,} bytes follow the end of the model")
    return ModelInfo(path, size, version, dim, LOSSES[loss], nwords, tuple(labels), bool(quant_input))


def _walk(path: str, what: str) -> ModelInfo:
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            return check_model_file(fh, size, path)
    except ModelFileError as exc:
        raise ModelFileError(f"{what} {path} is not a usable fastText model: {exc}") from None
    except OSError as exc:
        raise ModelFileError(f"{what} {path} cannot be read: {exc.strerror or exc}") from None


def load_model(path: str, what: str = "model"):
    """``fasttext.load_model(path)`` once the file has passed :func:`check_model_file` (the
    workers' loader: a file replaced after the launcher's check is still never trusted)."""
    import fasttext  # the fasttext-predict binding

    _walk(path, what)
    return fasttext.load_model(path)


def load_model_info(path: str, what: str = "model"):
    """:func:`load_model` and the file's :class:`ModelInfo` (its labels: the prediction binding
    cannot list them)."""
    import fasttext  # the fasttext-predict binding

    info = _walk(path, what)
    return fasttext.load_model(path), info


def check_model(path: str, what: str = "model", label: str | None = None) -> ModelInfo:
    """Check the local fastText file ``path`` (:func:`check_model_file`), then load it with the
    fastText binding and make a test prediction; with ``label``, the model must know it.
    Raises :class:`ModelFileError` naming ``what`` and the path."""
    info = _walk(path, what)
    if label is not None and label not in info.labels:
        shown = ", ".join(info.labels[:10]) + (" …" if len(info.labels) > 10 else "")
        raise ModelFileError(f"{what} {path} has no label {label} (its labels: {shown})")
    import fasttext  # the fasttext-predict binding

    try:
        model = fasttext.load_model(path)
        got, probs = model.predict("日本語 の 文章 です . a test", k=-1, threshold=0.0)
    except Exception as exc:  # the library's own refusal, whatever its type
        raise ModelFileError(f"{what} {path}: fastText cannot use it ({type(exc).__name__}: {exc})") from None
    if not len(got) or not all(math.isfinite(float(p)) and -1e-6 <= float(p) <= 1 + 1e-6 for p in probs):
        raise ModelFileError(f"{what} {path}: its test prediction is not a probability (damaged weights?)")
    return info
