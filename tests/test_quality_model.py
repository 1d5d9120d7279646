"""Model-based quality scores (``filters/quality_model.py``) and ``train-quality``
(``pipelines/train_quality.py``): a small classifier trained from the bundled sample's pages and
text generated here (nothing downloaded), scored with the prediction binding."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.filters import quality_model as qm
from jawebcorpus.filters.quality_model import QualityModel, QualityModelConfig, tokenize_text
from jawebcorpus.pipelines.quality_training import TrainerNotFound, find_trainer, train_quality_model
from jawebcorpus.pipelines.train_quality import WhereError, iter_file_texts, main, parse_where

PAGES = Path(qm.__file__).resolve().parents[1] / "src" / "jawebcorpus" / "sample" / "pages"


# -- config and tokenization ----------------------------------------------------------------
def test_config_validate():
    QualityModelConfig().validate()
    QualityModelConfig(path="m.bin", label="hq", threshold=0.3, tokenize="chars").validate()
    assert QualityModelConfig(label="hq").full_label == "__label__hq"
    for bad in (dict(threshold=1.5), dict(threshold=True), dict(tokenize="bpe"), dict(label="a b"),
                dict(max_chars=0), dict(path="")):
        with pytest.raises(ConfigError):
            QualityModelConfig(**bad).validate()


def test_tokenize():
    assert tokenize_text("日本 語\nです", "chars") == "日 本 語 で す"
    assert tokenize_text("a  b\n\tc", "none") == "a  b \tc"  # newlines to spaces, as published models expect
    assert tokenize_text("日本　語\n", "none") == "日本　語 "  # U+3000 stays: fastText does not split on it
    assert tokenize_text("あいうえお", "chars", max_chars=2) == "あ い"
    assert "__label__" not in tokenize_text("x __label__hq y", "none")
    words = tokenize_text("東京都に住んでいます", "words").split()
    assert "東京" in words and len(words) >= 4


# -- expressions ----------------------------------------------------------------------------
def test_where_expressions():
    import pyarrow as pa

    t = pa.table({"q_too_short": [0, 1, 0, 0], "lang_score": [0.95, 0.99, 0.5, None],
                  "host": ["a.jp", "b.jp", "a.jp", "c.jp"]})
    cols = set(t.column_names)

    def sel(expr):
        return t.filter(parse_where(expr, cols)).num_rows

    assert sel("q_too_short == 0 and lang_score > 0.9") == 1
    assert sel("q_too_short = 0 or host == 'b.jp'") == 4
    assert sel("not (lang_score >= 0.9)") == 1  # null is neither
    assert sel("lang_score is null") == 1
    assert sel('lang_score is not null and host != "a.jp"') == 1
    for bad in ("__import__('os').system('true')", "q_too_short ==", "nope > 1", "(q_too_short == 0",
                "q_too_short == 0 extra", "lang_score > 0.9; rm", "", "q_too_short == 0 and"):
        with pytest.raises(WhereError):
            parse_where(bad, cols)


def test_file_texts(tmp_path):
    (tmp_path / "a.txt").write_text("一行目\n\n二行目\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "本文", "x": 1}, ensure_ascii=False) + "\n"
                                      + json.dumps({"body": "no"}) + "\n", encoding="utf-8")
    assert list(iter_file_texts(str(tmp_path / "a.txt"))) == ["一行目", "二行目"]
    assert list(iter_file_texts(str(tmp_path / "b.jsonl"))) == ["本文"]


# -- training (needs a fastText build that trains; see pipelines/quality_training.py) ---------
@pytest.fixture(scope="module")
def trainer():
    try:
        return find_trainer()
    except TrainerNotFound as exc:
        pytest.skip(f"no fastText training build: {exc}")


def _sample_sentences() -> list[str]:
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import trafilatura_extract

    out = []
    for p in sorted(PAGES.glob("ja_*.html")):
        text = trafilatura_extract(decode_html(p.read_bytes(), None).text) or ""
        out += [s + "。" for s in re.split("[。！？]", text) if len(s.strip()) >= 12]
    return out


@pytest.fixture(scope="module")
def corpus():
    """Positives: pairs of real Japanese sentences of the sample pages.  Negatives: the same
    documents with their characters shuffled (same characters, no language) and generated
    katakana / ASCII keyword lists."""
    rng = random.Random(11)
    sents = _sample_sentences()
    assert len(sents) >= 60
    rng.shuffle(sents)  # every sentence in one document only: no held-out text shares one with training
    pos = ["".join(sents[i:i + 2]) for i in range(0, len(sents) - 1, 2)]
    neg = []
    for d in pos:
        chars = list(d)
        rng.shuffle(chars)
        neg.append("".join(chars))
    kata = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン"
    for _ in range(len(pos) // 2):
        words = ["".join(rng.choice(kata) for _ in range(rng.randint(2, 6))) for _ in range(rng.randint(5, 15))]
        neg.append(" ".join(words) + " " + " ".join(rng.choice(["SALE", "2980円", "★★★", "送料無料", "激安"])
                                                       for _ in range(4)))
    return pos, neg


@pytest.fixture(scope="module")
def trained(tmp_path_factory, trainer, corpus):
    pos, neg = corpus
    out = tmp_path_factory.mktemp("qm") / "quality.bin"
    rep = train_quality_model(pos, neg, str(out), positive_label="hq", negative_label="lq", holdout=0.25,
                              seed=3, epoch=25, lr=0.5, dim=16, bucket=200_000,
                              sources={"positive": ["sample pages"], "negative": ["generated"]})
    return rep


def test_training_separates_held_out_texts(trained):
    h = trained.record["holdout"]
    assert h["positive"] >= 20 and h["negative"] >= 20
    # better than chance: a coin would give precision ≈ share of positives and AUC 0.5
    share = h["positive"] / (h["positive"] + h["negative"])
    assert h["precision"] > share + 0.15
    assert h["recall"] > 0.6
    assert h["roc_auc"] > 0.8


def test_training_record(trained, corpus):
    rec = json.loads(Path(trained.record_path).read_text(encoding="utf-8"))
    assert rec == trained.record
    pos, neg = corpus
    assert rec["data"]["positive"]["documents"] == len(pos)
    assert rec["data"]["negative"]["documents"] == len(neg)
    assert rec["data"]["positive"]["train"] + rec["data"]["positive"]["holdout"] == len(pos)
    assert rec["data"]["positive"]["sources"] == ["sample pages"]
    assert rec["labels"] == {"positive": "__label__hq", "negative": "__label__lq"}
    assert rec["tokenize"] == "chars" and rec["settings"]["epoch"] == 25
    import hashlib

    assert rec["model_sha256"] == hashlib.sha256(Path(trained.model_path).read_bytes()).hexdigest()
    h = hashlib.sha256()
    for t in pos:
        b = t.encode("utf-8")
        h.update(len(b).to_bytes(8, "little") + b)
    assert rec["data"]["positive"]["sha256"] == h.hexdigest()


def test_score_is_the_probability_of_the_configured_label(trained, corpus):
    import fasttext

    pos, neg = corpus
    raw = fasttext.load_model(trained.model_path)
    hq = QualityModel(QualityModelConfig(path=trained.model_path, label="hq"))
    lq = QualityModel(QualityModelConfig(path=trained.model_path, label="__label__lq", threshold=0.5))
    unknown = QualityModel(QualityModelConfig(path=trained.model_path, label="other"))
    assert hq.tokenize == "chars"  # from the training record
    for text in pos[:20] + neg[:20]:
        labels, probs = raw.predict(tokenize_text(text, "chars"), k=2)
        direct = dict(zip(labels, probs))
        s = hq.score(text)
        assert s == pytest.approx(min(direct["__label__hq"], 1.0), abs=1e-6)
        assert s + lq.score(text) == pytest.approx(1.0, abs=1e-4)
        assert unknown.score(text) == 0.0
        assert lq.keep(lq.score(text)) == (lq.score(text) >= 0.5)
    assert sum(hq.score(t) for t in pos[:40]) / 40 > sum(hq.score(t) for t in neg[:40]) / 40


def test_cli_from_files_and_a_run(tmp_path, trainer, corpus):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pos, neg = corpus
    run = tmp_path / "run" / "data" / "snapshot=CC-MAIN-2023-23"
    run.mkdir(parents=True)
    n = len(pos) // 2
    texts = pos[:n] + neg[:n]
    pq.write_table(pa.table({"text": texts, "q_too_short": [0] * n + [1] * n,
                             "lang_score": [0.99] * n + [0.97] * n}), run / "part-0.parquet")
    negfile = tmp_path / "neg.jsonl"
    negfile.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in neg[n:]), encoding="utf-8")
    out = tmp_path / "m.bin"
    rc = main(["--run", str(tmp_path / "run"), "--positive-where", "q_too_short == 0 and lang_score > 0.9",
               "--negative-where", "q_too_short == 1", "--negative", str(negfile), "--output", str(out),
               "--epoch", "25", "--lr", "0.5", "--dim", "16", "--bucket", "100000", "--holdout", "0.25"])
    assert rc == 0
    rec = json.loads(Path(str(out) + ".json").read_text(encoding="utf-8"))
    assert rec["data"]["positive"]["documents"] == n
    assert rec["data"]["negative"]["documents"] == n + len(neg[n:])
    srcs = rec["data"]["positive"]["sources"]
    assert srcs[0]["where"] == "q_too_short == 0 and lang_score > 0.9" and srcs[0]["documents"] == n
    # a bad expression is refused before anything is trained
    assert main(["--run", str(tmp_path / "run"), "--positive-where", "os.system('x')",
                 "--negative", str(negfile), "--output", str(tmp_path / "x.bin")]) == 2
    assert not (tmp_path / "x.bin").exists()
