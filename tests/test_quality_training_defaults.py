"""``train-quality``'s defaults and the labelled Japanese set they were chosen on
(``bench/quality_ja``, ``bench/bench_quality_training.py``, ``docs/filters.md`` § Training defaults)."""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from pathlib import Path

import pytest

from jawebcorpus.pipelines.quality_training import TrainerNotFound, find_trainer
from jawebcorpus.pipelines import train_quality
from jawebcorpus.pipelines.train_quality import main, training_defaults

REPO = Path(__file__).resolve().parents[1]
QJ = REPO / "bench" / "quality_ja"
DOCS = REPO / "docs" / "filters.md"


def _bench(name: str):
    for p in (str(REPO / "bench"), str(QJ)):
        if p not in sys.path:
            sys.path.insert(0, p)
    return __import__(name)


def _load() -> list[dict]:
    with open(QJ / "quality_ja.jsonl", encoding="utf-8") as fh:
        return [json.loads(x) for x in fh]


# -- the defaults: one place in the code, the same in the docs -------------------------------
def default_flags(d: dict) -> str:
    """The defaults as ``train-quality`` options, the way docs/filters.md states them."""
    return (f"--tokenize {d['tokenize']} --word-ngrams {d['word_ngrams']} --epoch {d['epoch']} --lr {d['lr']:g} "
            f"--dim {d['dim']} --min-count {d['min_count']} --bucket {d['bucket']} --loss {d['loss']}")


def test_cli_defaults_are_the_functions_and_the_documented_ones():
    d = training_defaults()
    parser = argparse.ArgumentParser()
    train_quality.add_parser(parser.add_subparsers())
    args = parser.parse_args(["train-quality"])
    for opt, key in (("tokenize", "tokenize"), ("word_ngrams", "word_ngrams"), ("epoch", "epoch"), ("lr", "lr"),
                     ("dim", "dim"), ("min_count", "min_count"), ("bucket", "bucket"), ("loss", "loss"),
                     ("holdout", "holdout"), ("seed", "seed"), ("threshold", "threshold"), ("threads", "threads"),
                     ("max_chars", "max_chars"), ("positive_label", "positive_label")):
        assert getattr(args, opt) == d[key], opt
    text = DOCS.read_text(encoding="utf-8")
    assert default_flags(d) in text, f"docs/filters.md must state the defaults as: {default_flags(d)}"
    # the benchmark reads the same defaults (its "defaults" row is what the code trains with)
    b = _bench("bench_quality_training")
    cd = b.code_defaults()
    assert (cd["tokenize"], cd["epoch"], cd["lr"], cd["wordNgrams"], cd["dim"], cd["bucket"]) == \
           (d["tokenize"], d["epoch"], d["lr"], d["word_ngrams"], d["dim"], d["bucket"])
    # and the committed results were taken with them
    res = json.loads((REPO / "bench" / "results" / "bench_quality_training.json").read_text(encoding="utf-8"))
    assert res["code_defaults"] == cd


# -- the labelled set -------------------------------------------------------------------------
def test_quality_ja_is_what_its_generator_writes():
    mk = _bench("make_quality_ja")
    assert (QJ / "quality_ja.jsonl").read_text(encoding="utf-8") == mk.dump(mk.build())


def test_quality_ja_fields_and_balance():
    docs = _load()
    assert len(docs) >= 600 and len({d["id"] for d in docs}) == len(docs)
    assert len({d["text"] for d in docs}) == len(docs)
    by = collections.Counter((d["label"], d["kind"]) for d in docs)
    assert set(by) == {("good", "clear"), ("good", "hard"), ("bad", "clear"), ("bad", "hard")}
    assert min(by.values()) >= 100
    for d in docs:
        assert d["label"] in ("good", "bad") and d["grade"] in (0, 1, 2, 3)
        assert (d["grade"] >= 1) if d["label"] == "good" else (d["grade"] <= 1)
        assert 200 <= d["chars"] == len(d["text"]) <= 3000
    genres = collections.defaultdict(set)
    for d in docs:
        genres[d["genre"]].add(d["label"])
    assert all(len(v) == 1 for v in genres.values())  # a genre is all good or all bad


def test_split_holds_out_whole_genres():
    b = _bench("bench_quality_training")
    docs = _load()
    tests = set()
    for seed in range(10):
        sp = b.splits(docs, seed)
        assert sorted(sp["train"] + sp["val"] + sp["test"]) == list(range(len(docs)))
        g = {k: {docs[i]["genre"] for i in v} for k, v in sp.items()}
        assert not (g["test"] & g["train"]) and not (g["test"] & g["val"]) and not (g["val"] & g["train"])
        assert {docs[i]["label"] for i in sp["test"]} == {"good", "bad"}
        assert sp == b.splits(docs, seed)  # deterministic
        tests.add(frozenset(g["test"]))
    assert len(tests) == 10  # every seed holds out another set of genres


def test_real_crawl_labels_store_identifiers_only():
    rows = [json.loads(x) for x in (QJ / "real_crawl_labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 50
    for r in rows:
        assert set(r) == {"warc_file", "warc_offset", "record_id", "text_sha256", "label", "grade", "note"}
        assert r["label"] in ("good", "bad", "mixed") and r["grade"] in (0, 1, 2, 3)
        assert re.fullmatch(r"[0-9a-f]{64}", r["text_sha256"]) and len(r["note"]) < 120


@pytest.mark.slow
def test_real_crawl_labels_resolve_in_the_shared_crawl(shared_crawl_files, shared_dir):
    rc = _bench("real_crawl")
    real = rc.load_real(str(shared_dir), log=lambda *_: None)
    labels = rc.read_labels()
    assert len(real) == len({r["text_sha256"] for r in labels if r["label"] != "mixed"})
    assert all(r["same_text"] for r in real)  # the texts labelled are the texts extracted now
    assert {r["label"] for r in real} == {"good", "bad"}


# -- train-quality prints the held-out AUC it reached ------------------------------------------
@pytest.fixture(scope="module")
def trainer():
    try:
        return find_trainer()
    except TrainerNotFound as exc:
        pytest.skip(f"no fastText training build: {exc}")


def test_train_quality_prints_its_held_out_auc(tmp_path, trainer, capsys):
    docs = _load()
    per_genre = collections.Counter()
    pos, neg = [], []
    for d in docs:  # a small labelled set: 8 documents of every genre
        if per_genre[d["genre"]] < 8:
            per_genre[d["genre"]] += 1
            (pos if d["label"] == "good" else neg).append({"text": d["text"]})
    for name, rows in (("pos.jsonl", pos), ("neg.jsonl", neg)):
        (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "m.bin"
    # the defaults, but a small hash table: the model file stays small (dim × bucket floats)
    rc = main(["--positive", str(tmp_path / "pos.jsonl"), "--negative", str(tmp_path / "neg.jsonl"),
               "--output", str(out), "--holdout", "0.3", "--seed", "4", "--bucket", "100000"])
    assert rc == 0
    printed = capsys.readouterr().out
    m = re.search(r"^held-out ROC AUC: (\d\.\d{3}) \((\d+) positive and (\d+) negative texts held out, 30 % by seed 4\)$",
                  printed, re.M)
    assert m, printed
    rec = json.loads(Path(str(out) + ".json").read_text(encoding="utf-8"))
    h = rec["holdout"]
    assert m.group(1) == f"{h['roc_auc']:.3f}" and (int(m.group(2)), int(m.group(3))) == (h["positive"], h["negative"])
    assert h["positive"] >= 20 and h["negative"] >= 20
    d = training_defaults()
    assert rec["tokenize"] == d["tokenize"]
    assert {k: rec["settings"][k] for k in ("epoch", "lr", "dim", "wordNgrams")} == \
           {"epoch": d["epoch"], "lr": d["lr"], "dim": d["dim"], "wordNgrams": d["word_ngrams"]}
    assert h["roc_auc"] >= 0.75  # a coin scores 0.5; the bar is 0.75
