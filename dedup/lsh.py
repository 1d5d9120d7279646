"""LSH banding: a stable 64-bit key per (band, rows of the signature in that band).

Band ``j`` of a signature is entries ``j·r … j·r + r − 1``.  Its key is

``k = fmix64(j + 1)``, then for each of the ``r`` values ``v`` in order:
``k = fmix64((k XOR v) · 0x9E3779B97F4A7C15 + j)``

(unsigned 64-bit wrap-around), so the key depends on the band index as well as on the values:
equal keys mean "same band, same rows" up to a 2⁻⁶⁴ collision chance.  Two documents are
candidates when any of their band keys are equal.
"""

from __future__ import annotations

import numpy as np

from .shingle import fmix64

__all__ = ["band_keys", "detection_probability", "BAND_KEY_FAMILY"]

BAND_KEY_FAMILY = "fmix64-chain"
_GOLD = np.uint64(0x9E3779B97F4A7C15)


def band_keys(sigs: np.ndarray, spec) -> np.ndarray:
    """uint64 array (N, bands): the key of every band of every signature."""
    sigs = np.asarray(sigs)
    if sigs.ndim == 1:
        sigs = sigs[None, :]
    n, k = sigs.shape
    if k != spec.num_perm:
        raise ValueError(f"signatures have {k} entries but the spec says num_perm={spec.num_perm}")
    b, r = spec.bands, spec.rows
    v = sigs.reshape(n, b, r).astype(np.uint64)
    j = np.arange(b, dtype=np.uint64)[None, :]
    key = np.broadcast_to(fmix64(j + np.uint64(1)), (n, b)).copy()
    for i in range(r):
        key = fmix64((key ^ v[:, :, i]) * _GOLD + j)
    return key


def detection_probability(s, b: int, r: int):
    """1 − (1 − s^r)^b: the chance that two documents of Jaccard similarity ``s`` share a band."""
    s = np.asarray(s, dtype=float)
    p = 1.0 - (1.0 - s ** r) ** b
    return float(p) if p.ndim == 0 else p
