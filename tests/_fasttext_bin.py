"""fastText model files written byte by byte, in code: a small valid supervised classifier, and the
same with any header field, count or matrix changed (the hostile-asset tests)."""

from __future__ import annotations

import random
import struct

MAGIC = 793712314


def model_bytes(*, magic: int = MAGIC, version: int = 12, dim: int = 4, word_ngrams: int = 1, loss: int = 3,
                model: int = 3, bucket: int = 8, minn: int = 0, maxn: int = 0,
                words: tuple[str, ...] = ("日本語", "です", "english"),
                labels: tuple[str, ...] = ("__label__ja", "__label__en"),
                size: int | None = None, nwords: int | None = None, nlabels: int | None = None,
                prune: int = -1, input_shape: tuple[int, int] | None = None,
                output_shape: tuple[int, int] | None = None, quant_flag: int = 0, qout: int = 0,
                weight: float | None = None, seed: int = 0) -> bytes:
    """A fastText ``.bin`` (format version 12) that fastText loads and predicts with, unless a
    keyword argument makes it otherwise.  ``weight``: every matrix value (None: small random)."""
    rng = random.Random(seed)
    out = [struct.pack("<ii", magic, version),
           struct.pack("<12id", dim, 5, 5, 1, 5, word_ngrams, loss, model, bucket, minn, maxn, 100, 1e-4)]
    entries = [(w, 0) for w in words] + [(lab, 1) for lab in labels]
    out.append(struct.pack("<iiiqq", len(entries) if size is None else size,
                           len(words) if nwords is None else nwords, len(labels) if nlabels is None else nlabels,
                           100, prune))
    for text, kind in entries:
        out.append(text.encode("utf-8") + b"\0" + struct.pack("<qb", 10, kind))
    out.append(bytes([quant_flag]))

    def dense(m: int, n: int) -> bytes:
        count = max(m * n, 0)  # a negative shape: the header alone
        values = [weight if weight is not None else rng.uniform(-0.5, 0.5) for _ in range(count)]
        return struct.pack("<qq", m, n) + struct.pack(f"<{count}f", *values)

    out.append(dense(*(input_shape or (len(words) + bucket, dim))))
    out.append(bytes([qout]))
    out.append(dense(*(output_shape or (len(labels), dim))))
    return b"".join(out)
