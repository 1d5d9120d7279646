"""Graded training (``jawebcorpus train-quality --labels LABELS.jsonl``): a label file in the
format ``jawebcorpus annotate`` writes, made here from the bundled sample's sentences
(``tests/_graded_data.py``), trains a 4-class model whose held-out report is recomputed here
from the model's own predictions."""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import pytest

from _graded_data import graded_texts
from jawebcorpus.filters.quality_model import QualityModel, QualityModelConfig, ModelSlot, tokenize_text
from jawebcorpus.pipelines.quality_graded import LabelStats, graded_metrics, iter_labels, spearman
from jawebcorpus.pipelines.quality_training import TrainerNotFound, find_trainer
from jawebcorpus.pipelines.train_quality import main


# -- the measures, on numbers worked out by hand ---------------------------------------------
def test_spearman_by_hand():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks x: 1, 2.5, 2.5, 4; y: 1, 2, 3, 4 → r = 4.5 / sqrt(4.5 * 5)
    assert spearman([0.1, 0.5, 0.5, 0.9], [0, 1, 2, 3]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    assert spearman([1, 1, 1], [0, 1, 2]) is None


def test_graded_metrics_by_hand():
    m = graded_metrics([0, 1, 2, 3], [0.2, 0.9, 2.5, 2.4], [0, 1, 3, 2], 3)
    assert m["accuracy"] == 0.5
    assert m["roc_auc_at"][">=1"]["roc_auc"] == 1.0  # 0.2 below every other
    assert m["roc_auc_at"][">=3"]["roc_auc"] == pytest.approx(2 / 3)  # 2.4 above 0.2 and 0.9, below 2.5
    assert m["roc_auc_at"][">=2"] == {"positive": 2, "negative": 2, "roc_auc": 1.0}
    assert m["mean_abs_error"] == pytest.approx((0.2 + 0.1 + 0.5 + 0.6) / 4)


# -- a label file as annotate writes it --------------------------------------------------------
def write_labels(path: Path) -> list[tuple[str, int]]:
    """Annotate's lines (format 1 fields that training reads, and others), with lines training
    must skip: not ok, a grade that is not an integer, a document answered twice."""
    data = graded_texts()
    with open(path, "w", encoding="utf-8") as fh:
        for i, (text, g) in enumerate(data):
            doc = hashlib.sha256(f"doc{i}".encode()).hexdigest()[:20]
            base = {"format": 1, "doc_id": doc, "text": text, "text_chars": len(text), "prompt": "edu-ja-v1",
                    "model": "test-llm"}
            if i % 17 == 0:  # an earlier failure, then the usable answer
                fh.write(json.dumps(base | {"status": "failed", "score": None, "error": "timeout"},
                                    ensure_ascii=False) + "\n")
            fh.write(json.dumps(base | {"status": "ok", "score": g, "reason": "…"}, ensure_ascii=False) + "\n")
        fh.write(json.dumps({"format": 1, "doc_id": "x1", "text": "本文", "status": "ok", "score": "3"}) + "\n")
        fh.write(json.dumps({"format": 1, "doc_id": "x2", "text": "本文", "status": "ok", "score": True}) + "\n")
        fh.write(json.dumps({"format": 1, "doc_id": "x3", "text": "本文", "status": "unusable", "score": None}) + "\n")
        fh.write(json.dumps({"format": 1, "doc_id": hashlib.sha256(b"doc0").hexdigest()[:20], "text": "別",
                             "status": "ok", "score": 0}) + "\n")  # doc0 again
        fh.write("not json\n")
    return data


def test_iter_labels_skips_a_line_longer_than_the_bound(tmp_path, monkeypatch):
    from jawebcorpus.pipelines import quality_graded

    monkeypatch.setattr(quality_graded, "_MAX_LINE", 100)
    p = tmp_path / "l.jsonl"
    ok = json.dumps({"text": "本文です", "score": 2}, ensure_ascii=False)
    p.write_text(json.dumps({"text": "長" * 500, "score": 1}, ensure_ascii=False) + "\n" + ok + "\n", encoding="utf-8")
    stats = LabelStats()
    assert list(iter_labels(str(p), stats=stats)) == [("本文です", 2)]
    assert stats.skipped == {"too long": 1} and stats.lines == 2


def test_iter_labels_reads_only_usable_lines(tmp_path):
    data = write_labels(tmp_path / "labels.jsonl")
    stats = LabelStats()
    got = list(iter_labels(str(tmp_path / "labels.jsonl"), stats=stats))
    assert got == data
    assert stats.usable == len(data)
    assert stats.skipped == {"status failed": len(range(0, len(data), 17)), "no integer score": 2,
                             "status unusable": 1, "document seen before": 1, "not JSON": 1}


@pytest.fixture(scope="module")
def trainer():
    try:
        return find_trainer()
    except TrainerNotFound as exc:
        pytest.skip(f"no fastText training build: {exc}")


def test_train_quality_labels_reports_grades_accuracy_spearman_and_auc(tmp_path, trainer, capsys):
    import fasttext

    labels = tmp_path / "labels.jsonl"
    data = write_labels(labels)
    model = tmp_path / "edu.bin"
    seed, share = 3, 0.25
    rc = main(["--labels", str(labels), "--output", str(model), "--holdout", str(share), "--seed", str(seed),
               "--epoch", "20", "--lr", "0.5", "--bucket", "50000"])
    out = capsys.readouterr().out
    assert rc == 0, out
    rec = json.loads((tmp_path / "edu.bin.json").read_text())
    assert rec["labels"]["grades"] == ["__label__0", "__label__1", "__label__2", "__label__3"]
    assert rec["tokenize"] == "chars"
    # the held-out share, chosen here as the trainer chooses it: by a hash of the seed and the text
    cut = int(share * 2**32)
    held = [(t, g) for t, g in data
            if int.from_bytes(hashlib.sha256(f"{seed}\0".encode() + t.encode()).digest()[:4], "little") < cut]
    for g in range(4):
        n = sum(1 for _, x in data if x == g)
        h = sum(1 for _, x in held if x == g)
        assert rec["data"]["grades"][str(g)] == {"documents": n, "train": n - h, "holdout": h}
        assert re.search(rf"^\s+{g}\s+{n}\s+{n - h}\s+{h}$", out, re.M), out
    # accuracy, Spearman and the AUC at each cut, recomputed from fastText's own predictions
    m = fasttext.load_model(str(model))
    exp, top1 = [], []
    for t, _ in held:
        labs, probs = m.predict(tokenize_text(t, "chars"), k=-1)
        exp.append(sum(int(lab.rsplit("_", 1)[1]) * float(p) for lab, p in zip(labs, probs)))
        top1.append(int(labs[0].rsplit("_", 1)[1]))
    grades = [g for _, g in held]
    acc = sum(a == b for a, b in zip(top1, grades)) / len(held)
    h = rec["holdout"]
    assert h["documents"] == len(held)
    assert h["accuracy"] == pytest.approx(acc)
    assert h["spearman"] == pytest.approx(spearman(exp, grades))
    assert h["spearman"] > 0.6  # the grades are learnable: the expected score follows them
    for c in (1, 2, 3):
        pos = [e for e, g in zip(exp, grades) if g >= c]
        neg = [e for e, g in zip(exp, grades) if g < c]
        auc = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg) / (len(pos) * len(neg))
        assert h["roc_auc_at"][f">={c}"]["roc_auc"] == pytest.approx(auc)
        assert f"grade >={c} {auc:.3f}" in out
    assert f"accuracy {acc:.1%}" in out and f"Spearman (expected score vs grade) {h['spearman']:.3f}" in out
    # the pipeline reads the model as its expected grade (its labels are integers: score=auto)
    slot = ModelSlot("edu", str(model), "quality_edu", "quality_model_below_edu", "hist:quality_edu", "auto",
                     "__label__hq", None, "auto")
    qm = QualityModel(QualityModelConfig(), slot=slot)
    assert qm.mode == "expected" and qm.tokenize == "chars" and qm.top == 3.0
    assert qm.score(held[0][0]) == pytest.approx(exp[0], rel=1e-6)


def test_train_quality_labels_refuses_bad_input(tmp_path, capsys):
    assert main(["--labels", str(tmp_path / "none.jsonl"), "--output", str(tmp_path / "m.bin")]) == 2
    (tmp_path / "one.jsonl").write_text(json.dumps({"text": "本文", "score": 2, "status": "ok"}) + "\n")
    assert main(["--labels", str(tmp_path / "one.jsonl"), "--output", str(tmp_path / "m.bin"),
                 "--label-field", "bad field"]) == 2
    assert main(["--labels", str(tmp_path / "one.jsonl"), "--output", str(tmp_path / "m.bin"),
                 "--positive", str(tmp_path / "one.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "not a file" in err and "not a field name" in err and "leave out --positive" in err
    assert not (tmp_path / "m.bin").exists()
