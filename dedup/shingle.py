"""Character n-gram shingles, hashed to 64 bits, vectorised over a batch of texts.

The definition (part of the signature specification, :class:`~jawebcorpus.dedup.minhash.SignatureSpec`):

1. **Normalisation** of the text (``normalization``):

   - ``"none"``: the text as it is;
   - ``"nfkc"``: ``unicodedata.normalize("NFKC", text)`` (full-width ASCII → ASCII, half-width
     katakana → full-width, compatibility characters such as ㈱ → (株));
   - ``"nfkc_casefold_width"``: NFKC, then ``str.casefold()``, then NFKC again (so case and
     character width are both folded; NFKC does the width folding).

   NFKC depends on the Unicode version of Python's ``unicodedata``; the specification records it
   when a normalisation is used.

2. **Code points**: the text as a sequence of Unicode code points (UTF-32).  A text shorter than
   ``n`` code points is padded on the right with the sentinel value ``0x110000`` (one past the
   last code point, so it cannot be confused with a real character) to exactly ``n``: it has
   exactly **one shingle**, which is the whole text.  The empty text has one shingle of ``n``
   sentinels, a fixed placeholder shared by every empty text.

3. **Shingles**: every run of ``n`` consecutive code points (``len - n + 1`` of them, repeated
   ones included: MinHash takes set semantics for free).

4. **Hash** (family ``poly64-fmix64``): for a shingle ``c0 … c(n-1)``

   ``p = c0·P^(n-1) + c1·P^(n-2) + … + c(n-1)   (mod 2^64)``,  ``P = 0x9E3779B97F4A7C15 | 1``

   ``h = fmix64(p XOR seed_mix)``, where ``fmix64`` is MurmurHash3's 64-bit finaliser (a
   bijection) and ``seed_mix = fmix64(seed + 0x632BE59BD9B4E019)``.

   Only unsigned 64-bit wrap-around multiplications, additions, shifts and XORs are used, so the
   values are the same on every platform, NumPy version and byte order.
"""

from __future__ import annotations

import unicodedata
from typing import Sequence

import numpy as np

__all__ = [
    "NORMALIZATIONS", "SENTINEL", "POLY_BASE", "HASH_FAMILY", "normalize", "code_points",
    "fmix64", "seed_mix", "shingle_hashes", "batch_shingle_hashes", "shingle_set",
]

NORMALIZATIONS = ("none", "nfkc", "nfkc_casefold_width")
SENTINEL = 0x110000
POLY_BASE = np.uint64(0x9E3779B97F4A7C15 | 1)
HASH_FAMILY = "poly64-fmix64"

_M = 0xFFFFFFFFFFFFFFFF
_C1 = np.uint64(0xFF51AFD7ED558CCD)
_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def normalize(text: str, normalization: str = "none") -> str:
    if normalization == "none":
        return text
    if normalization == "nfkc":
        return unicodedata.normalize("NFKC", text)
    if normalization == "nfkc_casefold_width":
        return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    raise ValueError(f"unknown normalization {normalization!r}; expected one of {', '.join(NORMALIZATIONS)}")


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as uint64 (surrogates, if any, are kept as they are)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint64)


def fmix64(x: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, element-wise on a uint64 array (a new array)."""
    x = x ^ (x >> _S33)
    x *= _C1
    x ^= x >> _S33
    x *= _C2
    x ^= x >> _S33
    return x


def _fmix64_int(x: int) -> int:
    x &= _M
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & _M
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & _M
    x ^= x >> 33
    return x


def seed_mix(seed: int) -> np.uint64:
    return np.uint64(_fmix64_int(seed + 0x632BE59BD9B4E019))


def _powers(n: int) -> list[np.uint64]:
    out = []
    p = 1
    for _ in range(n):
        out.append(np.uint64(p))
        p = (p * int(POLY_BASE)) & _M
    return out[::-1]  # P^(n-1), …, P^0


def _poly(cp: np.ndarray, n: int) -> np.ndarray:
    """Polynomial hash of every window of ``n`` in ``cp`` (length len(cp) - n + 1)."""
    m = len(cp) - n + 1
    pw = _powers(n)
    acc = cp[0:m] * pw[0]
    for j in range(1, n):
        if pw[j] == 1:
            acc += cp[j:j + m]
        else:
            acc += cp[j:j + m] * pw[j]
    return acc


def batch_shingle_hashes(texts: Sequence[str], n: int = 5, normalization: str = "none",
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the shingles of every text, concatenated.

    Returns ``(hashes, counts)``: ``hashes`` (uint64) holds the shingles of text 0, then of
    text 1, …; ``counts[i]`` is the number of shingles of text ``i`` (at least 1).
    """
    if n < 1:
        raise ValueError("shingle size must be at least 1")
    if normalization != "none":
        texts = [normalize(t, normalization) for t in texts]
    lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    if len(texts) == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    short = lengths < n
    if short.any():
        pieces = []
        for t, s in zip(texts, short):
            cp = code_points(t)
            if s:
                cp = np.concatenate([cp, np.full(n - len(cp), SENTINEL, np.uint64)])
            pieces.append(cp)
        cp = np.concatenate(pieces)
        lengths = np.maximum(lengths, n)
    else:
        cp = code_points("".join(texts))
    counts = lengths - n + 1
    h = _poly(cp, n)  # windows starting at every position, including ones across text boundaries
    total = int(counts.sum())
    if total != len(h):  # drop the n-1 windows that straddle each boundary
        starts = np.cumsum(lengths) - lengths
        shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        h = h[np.arange(total, dtype=np.int64) + shift]
    h ^= seed_mix(seed)
    return fmix64(h), counts


def shingle_hashes(text: str, n: int = 5, normalization: str = "none", seed: int = 0) -> np.ndarray:
    """The 64-bit shingle hashes of one text, in text order (repeats included)."""
    return batch_shingle_hashes([text], n, normalization, seed)[0]


def shingle_set(text: str, n: int = 5, normalization: str = "none") -> set[str]:
    """The shingles themselves as strings (a reference for tests and exact Jaccard)."""
    text = normalize(text, normalization)
    if len(text) < n:
        return {text}  # the one padded shingle; shorter than n, so unlike any real shingle
    return {text[i:i + n] for i in range(len(text) - n + 1)}
