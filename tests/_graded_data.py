"""Graded (0–3) Japanese texts made here from the bundled sample's pages, and a fastText
classifier trained on lines written here: for the tests of several quality models and graded
training (nothing downloaded).

Grade 3: the pages' sentences as written; 2: one sentence in three with shuffled characters;
1: every sentence shuffled; 0: shuffled characters mixed with symbols and digits."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

SAMPLE_PAGES = Path(__file__).resolve().parents[1] / "src" / "jawebcorpus" / "sample" / "pages"


def sample_sentences() -> list[str]:
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import trafilatura_extract

    sents = []
    for p in sorted(SAMPLE_PAGES.glob("ja_*.html")):
        text = trafilatura_extract(decode_html(p.read_bytes(), None).text) or ""
        sents += [s.strip() + "。" for s in re.split("[。！？]", text) if len(s.strip()) >= 12]
    return sents


def graded_texts(seed: int = 3, copies: int = 2) -> list[tuple[str, int]]:
    """``(text, grade)`` pairs: every grade about equally often."""
    rng = random.Random(seed)
    sents = sample_sentences()
    out = []
    for _ in range(copies):
        for i in range(0, len(sents) - 2, 3):
            group = sents[i:i + 3]
            shuf = ["".join(rng.sample(s, len(s))) for s in group]
            noise = "".join(rng.choice("★☆◆■□①②③0123456789#%&@") + c for c in "".join(shuf)[:80])
            out += [("\n".join(group), 3), ("\n".join([shuf[0]] + group[1:]), 2), ("\n".join(shuf), 1), (noise, 0)]
    rng.shuffle(out)
    return out


def train_fasttext(lines: list[str], out: Path, **params) -> None:
    """Train a supervised fastText model from ``__label__x tokens`` lines (the training build,
    in a child process as ``pipelines/quality_training.py`` runs it)."""
    from jawebcorpus.pipelines.quality_training import _CHILD, find_trainer

    trainer = find_trainer()
    train = out.with_suffix(".train.txt")
    train.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    args = {"epoch": 30, "lr": 0.5, "dim": 16, "wordNgrams": 2, "minCount": 1, "bucket": 50_000, "loss": "softmax",
            "thread": 1, "seed": 1, "verbose": 0} | params
    subprocess.run([sys.executable, "-I", "-c", _CHILD, json.dumps(
        {"trainer_path": trainer["path"], "input": str(train), "output": str(out), "params": args})], check=True)
