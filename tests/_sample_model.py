"""A small fastText quality classifier trained from the bundled sample's Japanese pages (their
sentences against the same sentences with shuffled characters), for the tests that need a
model: signals, the report's score histogram, assets on S3."""

from __future__ import annotations

import random
import re
from pathlib import Path

SAMPLE_PAGES = Path(__file__).resolve().parents[1] / "src" / "jawebcorpus" / "sample" / "pages"


def train_sample_model(path: Path, epoch: int = 15) -> None:
    """Train the classifier into ``path`` (labels ``hq`` and ``lq``); needs a fastText build that
    trains (``find_trainer``: callers skip without one)."""
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import trafilatura_extract
    from jawebcorpus.pipelines.quality_training import train_quality_model

    sents = []
    for p in sorted(SAMPLE_PAGES.glob("ja_*.html")):
        text = trafilatura_extract(decode_html(p.read_bytes(), None).text) or ""
        sents += [s + "。" for s in re.split("[。！？]", text) if len(s.strip()) >= 12]
    rng = random.Random(5)
    pos = ["".join(sents[i:i + 2]) for i in range(0, len(sents) - 1, 2)]
    neg = ["".join(rng.sample(d, len(d))) for d in pos]
    train_quality_model(pos, neg, str(path), positive_label="hq", negative_label="lq", holdout=0.2, seed=1,
                        epoch=epoch, lr=0.5, dim=16, bucket=100_000)
