"""MinHash signatures by one-permutation hashing (OPH) with optimal densification.

One permutation instead of ``num_perm``: every shingle is hashed **once** (64 bits, see
:mod:`.shingle`); its high 32 bits choose one of ``num_perm`` bins (``bin = (h >> 32) ·
num_perm >> 32``) and its low 32 bits are its value; signature entry ``i`` is the minimum value
that fell into bin ``i`` (Li, Owen & Zhang 2012).  Bins that no shingle fell into are filled by
*optimal densification* (Shrivastava 2017): empty bin ``i`` copies the value of bin
``probe(i, t)`` for the first attempt ``t = 0, 1, …`` that lands on a non-empty bin of the
same document, where ``probe`` is a fixed hash of ``(seed, i, t)``; after
:data:`DENSIFY_PROBES` failed attempts (only for texts with very few shingles) the next
non-empty bin to the right, wrapping around, is used.  For two documents, entry ``i`` is equal
with probability equal to their Jaccard similarity, as for classic MinHash, at the cost of one
hash per shingle instead of ``num_perm``.

Everything is vectorised over a batch of documents in NumPy; the values are unsigned integer
arithmetic only, hence identical on every platform.  :class:`SignatureSpec` is the
specification: stored with anything persisted, checked when read back.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from typing import Sequence

import numpy as np

from .shingle import HASH_FAMILY as SHINGLE_HASH
from .shingle import NORMALIZATIONS, batch_shingle_hashes, fmix64, seed_mix

__all__ = [
    "SignatureSpec", "signatures", "jaccard_estimate", "exact_jaccard", "optimal_bands_rows",
    "false_positive_area", "false_negative_area", "MINHASH_FAMILY", "DENSIFY_PROBES", "SPEC_VERSION",
    "MAX_SHINGLE_SIZE", "MAX_NUM_PERM",
]

#: The hash family: shingle hash + OPH binning + optimal densification (this module's algorithm).
MINHASH_FAMILY = f"oph-densified-{SHINGLE_HASH}"
#: Version of the signature and band-key algorithms; bumped whenever any signature value or
#: band key could change (the tests pin some).
SPEC_VERSION = 1
#: Bounds of a signature spec: a shingle is at most this many code points (every text is padded
#: to one shingle, and hashing makes one pass over a batch per code point of a shingle) …
MAX_SHINGLE_SIZE = 100
#: … and a signature at most this many values.
MAX_NUM_PERM = 1 << 16
#: Densification attempts before the circular fall-back.
DENSIFY_PROBES = 64

_EMPTY = np.uint64(1 << 32)
_U32 = np.uint64(0xFFFFFFFF)
_S32 = np.uint64(32)


@dataclass(frozen=True)
class SignatureSpec:
    """Everything that determines a signature and its LSH bands.

    ``unicode_version`` is recorded (and must match) only when a normalisation is used, because
    NFKC follows the Unicode version of Python's ``unicodedata``; it is filled in automatically.
    """

    shingle_size: int = 5
    normalization: str = "none"
    hash_family: str = MINHASH_FAMILY
    seed: int = 0
    num_perm: int = 800
    bands: int = 40
    rows: int = 20
    spec_version: int = SPEC_VERSION
    unicode_version: str | None = None

    def __post_init__(self):
        if self.normalization != "none" and self.unicode_version is None:
            object.__setattr__(self, "unicode_version", unicodedata.unidata_version)
        if self.normalization == "none" and self.unicode_version is not None:
            object.__setattr__(self, "unicode_version", None)
        self.validate()

    def validate(self) -> None:
        problems = []
        for name in ("shingle_size", "num_perm", "bands", "rows", "seed", "spec_version"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool):
                problems.append(f"{name} must be an integer, not {v!r}")
        if problems:
            raise ValueError("; ".join(problems))
        if not 1 <= self.shingle_size <= MAX_SHINGLE_SIZE:
            problems.append(f"shingle_size must be between 1 and {MAX_SHINGLE_SIZE}")
        if self.unicode_version is not None and not isinstance(self.unicode_version, str):
            problems.append(f"unicode_version must be a string, not {self.unicode_version!r}")
        if not isinstance(self.normalization, str) or self.normalization not in NORMALIZATIONS:
            problems.append(f"normalization must be one of {', '.join(NORMALIZATIONS)}, not {self.normalization!r}")
        if self.hash_family != MINHASH_FAMILY:
            problems.append(f"hash_family {self.hash_family!r} is not implemented (this version: {MINHASH_FAMILY!r})")
        if self.spec_version != SPEC_VERSION:
            problems.append(f"spec_version {self.spec_version} is not implemented (this version: {SPEC_VERSION})")
        if not 1 <= self.num_perm <= MAX_NUM_PERM:
            problems.append(f"num_perm must be between 1 and {MAX_NUM_PERM}")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows != self.num_perm:
            problems.append(f"bands × rows must equal num_perm: {self.bands} × {self.rows} != {self.num_perm}")
        if not 0 <= self.seed < 1 << 63:
            problems.append("seed must be in [0, 2**63)")
        if problems:
            raise ValueError("invalid signature spec: " + "; ".join(problems))

    # -- data ----------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SignatureSpec":
        if not isinstance(d, dict):
            raise ValueError(f"a signature spec is a JSON object, not a {type(d).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown signature spec fields: {', '.join(sorted(unknown))}")
        return cls(**d)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, s: str | bytes) -> "SignatureSpec":
        return cls.from_dict(json.loads(s))

    def fingerprint(self) -> str:
        """16 hex digits identifying every setting that can change a signature or a band key."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    def differences(self, other: "SignatureSpec") -> dict[str, tuple]:
        """``{field: (self's value, other's value)}`` for every field that differs."""
        a, b = self.to_dict(), other.to_dict()
        return {k: (a[k], b[k]) for k in a if a[k] != b[k]}

    # -- derived -------------------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        """The similarity where the detection probability rises fastest, ≈ (1/b)^(1/r)."""
        return (1.0 / self.bands) ** (1.0 / self.rows)

    def detection_probability(self, s):
        return 1.0 - (1.0 - np.asarray(s, dtype=float) ** self.rows) ** self.bands

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int = 800, fp_weight: float = 0.5,
                      fn_weight: float = 0.5, **kw) -> "SignatureSpec":
        """A spec whose bands × rows (a factorisation of ``num_perm``) minimise the weighted
        false-positive and false-negative areas around ``threshold``."""
        b, r = optimal_bands_rows(threshold, num_perm, fp_weight, fn_weight, exact=True)
        return cls(num_perm=num_perm, bands=b, rows=r, **kw)

    # -- computing -----------------------------------------------------------------------------
    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        return signatures(texts, self)

    def band_keys(self, sigs: np.ndarray) -> np.ndarray:
        from .lsh import band_keys

        return band_keys(sigs, self)


# -- band/rows choice --------------------------------------------------------------------------
def _grid(n: int = 2001) -> np.ndarray:
    return np.linspace(0.0, 1.0, n)


def _integrate(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Trapezoid rule along the last axis (our own: no SciPy)."""
    dx = np.diff(x)
    return ((y[..., 1:] + y[..., :-1]) * 0.5 * dx).sum(axis=-1)


def false_positive_area(threshold: float, b: int, r: int, n: int = 2001) -> float:
    """∫₀^t P(s) ds: the probability mass of detecting pairs below the threshold."""
    x = np.linspace(0.0, threshold, n)
    return float(_integrate(1.0 - (1.0 - x ** r) ** b, x))


def false_negative_area(threshold: float, b: int, r: int, n: int = 2001) -> float:
    """∫_t^1 (1 − P(s)) ds: the probability mass of missing pairs above the threshold."""
    x = np.linspace(threshold, 1.0, n)
    return float(_integrate((1.0 - x ** r) ** b, x))


def optimal_bands_rows(threshold: float, num_perm: int = 800, fp_weight: float = 0.5,
                       fn_weight: float = 0.5, exact: bool = True) -> tuple[int, int]:
    """(bands, rows) minimising ``fp_weight · FP area + fn_weight · FN area`` at ``threshold``.

    ``exact``: only factorisations with bands × rows == num_perm (what :class:`SignatureSpec`
    needs); otherwise any bands × rows ≤ num_perm.  Ties go to fewer bands.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be between 0 and 1")
    if fp_weight < 0 or fn_weight < 0 or fp_weight + fn_weight <= 0:
        raise ValueError("weights must be non-negative and not both zero")
    cands = []
    for b in range(1, num_perm + 1):
        if exact:
            if num_perm % b == 0:
                cands.append((b, num_perm // b))
        else:
            for r in range(1, num_perm // b + 1):
                cands.append((b, r))
    bs = np.array([c[0] for c in cands], dtype=float)[:, None]
    rs = np.array([c[1] for c in cands], dtype=float)[:, None]
    n = 1001
    xl = np.linspace(0.0, threshold, n)[None, :]
    xh = np.linspace(threshold, 1.0, n)[None, :]
    fp = _integrate(1.0 - (1.0 - xl ** rs) ** bs, xl[0])
    fn = _integrate((1.0 - xh ** rs) ** bs, xh[0])
    err = fp_weight * fp + fn_weight * fn
    best = int(np.argmin(err))  # first minimum: fewest bands among ties (cands sorted by b)
    return cands[best]


# -- signatures ---------------------------------------------------------------------------------
@lru_cache(maxsize=16)
def _probe_table(num_perm: int, seed: int) -> np.ndarray:
    """probe[t, i]: the bin empty bin i copies from at attempt t (int64, shape (T, num_perm))."""
    t = np.arange(DENSIFY_PROBES, dtype=np.uint64)[:, None]
    i = np.arange(num_perm, dtype=np.uint64)[None, :]
    x = (i * np.uint64(0x9E3779B97F4A7C15)) ^ ((t + np.uint64(1)) * np.uint64(0xBF58476D1CE4E5B9))
    x = fmix64(x ^ seed_mix(seed ^ 0x5DEECE66D))
    return (((x >> _S32) * np.uint64(num_perm)) >> _S32).astype(np.int64)


def _densify(sig: np.ndarray, num_perm: int, seed: int) -> None:
    """Fill empty bins (value _EMPTY) in place, row by row independent."""
    empty = sig == _EMPTY
    rows = np.flatnonzero(empty.any(axis=1))
    if rows.size == 0:
        return
    probe = _probe_table(num_perm, seed)
    src = sig[rows]
    src_full = ~empty[rows]
    out = src.copy()
    need = empty[rows]
    active = np.arange(rows.size)
    for t in range(DENSIFY_PROBES):
        cand = probe[t]
        ok = need[active] & src_full[active][:, cand]
        if ok.any():
            sub = out[active]
            sub[ok] = src[active][:, cand][ok]
            out[active] = sub
            n = need[active]
            n &= ~ok
            need[active] = n
        active = active[need[active].any(axis=1)]
        if active.size == 0:
            break
    for a in active:  # circular fall-back: next non-empty bin to the right of each empty one
        full = np.flatnonzero(src_full[a])
        missing = np.flatnonzero(need[a])
        pos = np.searchsorted(full, missing, side="right") % full.size
        out[a, missing] = src[a, full[pos]]
    sig[rows] = out


def signatures(texts: Sequence[str], spec: SignatureSpec | None = None, batch_size: int = 1024) -> np.ndarray:
    """MinHash signatures of ``texts``: uint32 array of shape (len(texts), spec.num_perm)."""
    spec = spec or SignatureSpec()
    k = spec.num_perm
    out = np.empty((len(texts), k), dtype=np.uint32)
    for start in range(0, len(texts), batch_size):
        chunk = texts[start:start + batch_size]
        h, counts = batch_shingle_hashes(chunk, spec.shingle_size, spec.normalization, spec.seed)
        n = len(chunk)
        doc = np.repeat(np.arange(n, dtype=np.uint64) * np.uint64(k), counts)
        idx = doc + (((h >> _S32) * np.uint64(k)) >> _S32)
        sig = np.full(n * k, _EMPTY, dtype=np.uint64)
        np.minimum.at(sig, idx, h & _U32)
        sig = sig.reshape(n, k)
        _densify(sig, k, spec.seed)
        out[start:start + n] = sig
    return out


def jaccard_estimate(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Fraction of equal entries (along the last axis)."""
    eq = np.asarray(a) == np.asarray(b)
    return eq.mean(axis=-1)


def exact_jaccard(a: str, b: str, n: int = 5, normalization: str = "none") -> float:
    from .shingle import shingle_set

    sa, sb = shingle_set(a, n, normalization), shingle_set(b, n, normalization)
    union = len(sa | sb)
    return len(sa & sb) / union if union else 1.0
