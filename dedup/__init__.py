"""Near-duplicate detection: shingling, MinHash, LSH banding, clustering logic (no Beam).

``shingle``: character n-gram shingles hashed to 64 bits; ``minhash``: the signature spec and
one-permutation-hashing signatures; ``lsh``: band keys and the detection curve; ``cluster``: the
survivor policy as sortable node ids and the pure helpers the Beam stage
(``jawebcorpus.pipelines.dedup.Dedup``) calls.  See ``docs/dedup.md``.
"""

from .cluster import KeepPolicy
from .lsh import band_keys, detection_probability
from .minhash import SignatureSpec, jaccard_estimate, optimal_bands_rows, signatures

__all__ = ["KeepPolicy", "SignatureSpec", "signatures", "band_keys", "jaccard_estimate",
           "detection_probability", "optimal_bands_rows"]
