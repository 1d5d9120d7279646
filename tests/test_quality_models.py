"""Several quality models in one run (``--quality-model NAME=PATH``), read as Swallow v2's
published classifiers are read: a binary model (the probability of a label) and a 4-class model
(``__label__0`` … ``__label__3``, the expected grade Σ k·p(k)), both on the text with newlines
replaced by spaces.  The models are trained here from the bundled sample's sentences
(``tests/_graded_data.py``); the columns of real pipeline runs are checked against fastText's
own ``predict(k=-1)`` on the written text, the expected grade recomputed here."""

from __future__ import annotations

import io
import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from _graded_data import graded_texts, sample_sentences, train_fasttext
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.dedup.cluster import stable_id
from jawebcorpus.filters.quality_model import NamedModel, QualityModelConfig
from jawebcorpus.pipelines.config import apply_overrides, get_preset
from jawebcorpus.pipelines.quality_training import TrainerNotFound, find_trainer


def run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jawebcorpus", *args], capture_output=True, text=True,
                          timeout=timeout)


def published_line(text: str) -> str:
    """How the published classifiers' model card prepares a text: newlines to spaces."""
    return text.replace("\n", " ")


# -- options, refused before anything is written --------------------------------------------
def test_named_model_settings():
    cfg = apply_overrides(get_preset("default"), [
        "quality_model.wiki.path=w.bin", "quality_model.edu.path=e.bin", "quality_model.edu.score=expected",
        "quality_model.edu.threshold=2.5", "quality_model.wiki.label=hq", "quality_model.wiki.tokenize=none",
        "dedup.tie_break=quality:wiki"]).validate()
    assert [s.column for s in cfg.quality_model.slots()] == ["quality_wiki", "quality_edu"]
    assert cfg.quality_model.models[0] == NamedModel("wiki", "w.bin", label="__label__hq", tokenize="none")
    assert cfg.quality_model.column_for("quality:wiki") == "quality_wiki"
    assert cfg.quality_model.column_for("quality") == "quality_wiki"  # the first model when none is unnamed
    both = apply_overrides(cfg, ["quality_model.path=m.bin"]).validate()
    assert both.quality_model.column_for("quality") == "quality_score"
    # named models change the fingerprint; without them a configuration hashes as before
    assert get_preset("default").fingerprint() != cfg.fingerprint()
    assert apply_overrides(get_preset("default"), []).fingerprint() == get_preset("default").fingerprint()
    with pytest.raises(ConfigError):
        QualityModelConfig(models=(NamedModel("a", "x.bin"), NamedModel("a", "y.bin"))).validate()


def test_a_named_model_url_is_redacted_in_the_recorded_command():
    from jawebcorpus.corpus.redact import redact_args

    got = redact_args(["--quality-model", "edu=https://u:pw@h.example/m.bin?X-Amz-Signature=abc",
                       "--quality-model=wiki=https://h.example/w.bin?token=xyz"])
    assert not any(secret in " ".join(got) for secret in ("pw", "X-Amz-Signature=abc", "token=xyz")), got
    assert got[1].startswith("edu=https://") and got[2].startswith("--quality-model=wiki=https://h.example/w.bin")


@pytest.mark.parametrize("argv,message", [
    (["--quality-model", "Bad-Name=x.bin"], "quality model name 'Bad-Name'"),
    (["--quality-model", "./a=x.bin"], "not found"),  # a path with "=": the unnamed model's
    (["--quality-model", "a=x.bin"], "quality model not found: x.bin"),
    (["--quality-model", "a=x.bin", "--quality-model", "a=y.bin"], "given twice"),
    (["--quality-model", "x.bin", "--quality-model", "y.bin"], "given twice"),
    (["--quality-model", "a=x.bin", "--quality-model-threshold", "b=0.5"], "no model named 'b'"),
    (["--quality-model", "a=x.bin", "--quality-model-threshold", "a=nan"], "finite"),
    (["--quality-model", "a=x.bin", "--quality-model-threshold", "a=-1"], "finite"),
    (["--quality-model", "a=x.bin", "--quality-model-score", "a=expected", "--quality-model-threshold", "a=101"],
     "above any grade"),
    (["--quality-model", "a=x.bin", "--quality-model-score", "a=label", "--quality-model-threshold", "a=1.5"],
     "at most 1"),
    (["--quality-model", "a=x.bin", "--quality-model-score", "a=median"], "score must be one of"),
    (["--quality-model", "a=x.bin", "--quality-model-score", "expected"], "takes NAME="),
    (["--quality-model", "score=x.bin"], "is taken"),
    (["--quality-model", "a=x.bin", "--set", "quality_model.b.tokenize=none"], "quality_model.b: no model path"),
    (["--quality-model", "a=x.bin", "--set", "quality_model.a.tokenize=bpe"], "tokenize must be one of"),
    (["--quality-model", "a=x.bin", "--set", "quality_model.a.colour=red"], "unknown setting"),
    (["--quality-model", "a=x.bin", "--set", "dedup.tie_break=quality:b"], "no quality model named 'b'"),
    (["--set", "dedup.tie_break=quality"], "ranks copies by a quality model"),
    (["--set", "dedup.tie_break=quality:Bad"], "dedup.tie_break must be"),
])
def test_bad_model_options_exit_2_with_one_line(tmp_path, argv, message):
    out = tmp_path / "out"
    r = run_cli("run", "--sample", "--output", str(out), *argv, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert not out.exists()


# -- models built here --------------------------------------------------------------------
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    try:
        find_trainer()
    except TrainerNotFound as exc:
        pytest.skip(f"no fastText training build: {exc}")
    d = tmp_path_factory.mktemp("models")
    data = graded_texts()
    # as published: the raw text, newlines to spaces (character n-grams give the features)
    params = {"minn": 1, "maxn": 3, "wordNgrams": 1, "epoch": 20}
    train_fasttext([f"__label__{g} {published_line(t)}" for t, g in data], d / "edu.bin", **params)
    train_fasttext([f"__label__{'hq' if g >= 2 else 'lq'} {published_line(t)}" for t, g in data], d / "wiki.bin",
                   **params)
    return d


@pytest.mark.parametrize("argv,message", [
    (["--quality-model", "edu={edu}", "--quality-model-threshold", "edu=3.5"], "outside [0, 3]"),
    (["--quality-model", "wiki={wiki}", "--quality-model-score", "wiki=expected"], "needs labels __label__<integer>"),
    (["--quality-model", "wiki={wiki}", "--quality-model-label", "wiki=__label__good"],
     "no label __label__good (its labels: __label__"),
    (["--quality-model", "wiki={wiki}", "--quality-model-threshold", "wiki=1.5"], "at most 1"),
])
def test_models_labels_are_checked_before_the_run(tmp_path, models, argv, message):
    out = tmp_path / "out"
    argv = [a.format(edu=models / "edu.bin", wiki=models / "wiki.bin") for a in argv]
    r = run_cli("run", "--sample", "--output", str(out), *argv, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = [x for x in r.stderr.strip().splitlines() if x.strip()]
    assert len(lines) == 1 and message in lines[0], r.stderr
    assert not (out / "data").exists()


def _data(out: Path):
    return ds.dataset(out / "data", format="parquet", partitioning="hive").to_table()


def test_two_published_style_models_match_fasttext_predict(tmp_path, models):
    import fasttext

    out = tmp_path / "out"
    edu, wiki = models / "edu.bin", models / "wiki.bin"
    r = run_cli("run", "--sample", "--quiet", "--output", str(out),
                "--quality-model", f"wiki={wiki}", "--quality-model", f"edu={edu}",
                "--quality-model-score", "edu=expected", "--quality-model-label", "wiki=__label__hq",
                "--set", "quality_model.edu.tokenize=none", "--set", "quality_model.wiki.tokenize=none")
    assert r.returncode == 0, r.stderr
    t = _data(out)
    assert t.num_rows > 5
    assert {"quality_wiki", "quality_edu", "quality_score"} <= set(t.column_names)
    assert set(t.column("quality_score").to_pylist()) == {None}  # no unnamed model in this run
    m_edu, m_wiki = fasttext.load_model(str(edu)), fasttext.load_model(str(wiki))
    spread = set()
    for text, q_edu, q_wiki in zip(t.column("text").to_pylist(), t.column("quality_edu").to_pylist(),
                                   t.column("quality_wiki").to_pylist()):
        labels, probs = m_edu.predict(published_line(text), k=-1)
        assert len(labels) == 4
        want = sum(int(lab[len("__label__"):]) * float(p) for lab, p in zip(labels, probs))
        assert math.isclose(q_edu, want, rel_tol=1e-5, abs_tol=1e-5), (q_edu, want)
        labels, probs = m_wiki.predict(published_line(text), k=-1)
        want = dict(zip(labels, map(float, probs)))["__label__hq"]
        assert math.isclose(q_wiki, want, rel_tol=1e-5, abs_tol=1e-5), (q_wiki, want)
        spread.add(round(q_edu, 3))
    assert len(spread) > 3  # the scores differ between documents: the check is not of a constant
    # each model's histogram, with every document scored
    rows = json.loads((out / "stats" / "details.json").read_text())
    scored = sum(x["docs"] for x in json.loads((out / "stats" / "stages.json").read_text())
                 if x["stage"] == "quality_model")
    for col, top in (("quality_edu", "expected:3"), ("quality_wiki", "label:__label__hq")):
        hist = [x for x in rows if x["stage"] == "quality_model" and x["kind"] == f"hist:{col}"]
        assert sum(x["docs"] for x in hist) == scored
        assert {x["name"] for x in rows if x["kind"] == f"scale:{col}"} == {top}
    # the report shows each model's histogram and threshold
    rep = run_cli("report", str(out), timeout=120)
    assert rep.returncode == 0, rep.stderr
    assert "quality_edu" in rep.stdout and "quality_wiki" in rep.stdout


def test_threshold_drops_with_a_reason_naming_the_model(tmp_path, models):
    edu = models / "edu.bin"
    first = tmp_path / "first"
    r = run_cli("run", "--sample", "--quiet", "--output", str(first), "--quality-model", f"edu={edu}",
                "--set", "quality_model.edu.tokenize=none")
    assert r.returncode == 0, r.stderr
    t = _data(first)
    scores = sorted(t.column("quality_edu").to_pylist())
    cut = (scores[len(scores) // 2 - 1] + scores[len(scores) // 2]) / 2
    below = sum(s < cut for s in scores)
    assert 0 < below < len(scores)
    out = tmp_path / "out"
    r = run_cli("run", "--sample", "--quiet", "--output", str(out), "--quality-model", f"edu={edu}",
                "--set", "quality_model.edu.tokenize=none", "--quality-model-threshold", f"edu={cut!r}",
                "--set", "dedup.enabled=false", "--write-rejected")
    assert r.returncode == 0, r.stderr
    rows = json.loads((out / "stats" / "stages.json").read_text())
    dropped: dict[str, int] = {}
    for x in rows:  # one row per snapshot and reason
        if x["stage"] == "quality_model" and x["outcome"] == "dropped":
            dropped[x["reason"]] = dropped.get(x["reason"], 0) + x["docs"]
    assert dropped == {"quality_model_below_edu": below}
    rej = ds.dataset(out / "rejected", format="parquet", partitioning="hive").to_table()
    mine = [s for s, why in zip(rej.column("quality_edu").to_pylist(), rej.column("rejected_reason").to_pylist())
            if why == "quality_model_below_edu"]
    assert len(mine) == below and all(s < cut for s in mine)
    assert all(s >= cut for s in _data(out).column("quality_edu").to_pylist())


# -- dedup ranks copies by the named model, whether or not the columns are written -----------
SNAPSHOT_WARC = "CC-MAIN-20240301000000-20240301020000-00000.warc.gz"


def make_copies_warc(path: Path, tails: list[str]) -> list[str]:
    """One snapshot, one article in ``len(tails)`` copies that differ only in one paragraph."""
    sents = sample_sentences()[:40]
    head, rest = "".join(f"<p>{s}</p>\n" for s in sents[:20]), "".join(f"<p>{s}</p>\n" for s in sents[20:])
    urls = []
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for i, tail in enumerate(tails):
            url = f"https://copy{i}.example.jp/article.html"
            html = f"<html lang='ja'><head><title>記事</title></head><body><article>{head}<p>{tail}</p>\n{rest}</article></body></html>"
            data = html.encode("utf-8")
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(data)))], protocol="HTTP/1.1")
            rid = f"<urn:uuid:00000000-0000-4000-8000-{i:012d}>"  # fixed ids: a fixed order by stable id
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(data), http_headers=headers,
                                                warc_headers_dict={"WARC-Record-ID": rid}))
            urls.append(url)
    return urls


@pytest.mark.parametrize("signals", ["true", "false"])
def test_tie_break_by_a_named_model_with_and_without_signal_columns(tmp_path, models, signals):
    rng = random.Random(11)
    sents = sample_sentences()[40:]
    good = "".join(sents[:3])
    tails = [good] + ["".join(rng.sample(good, len(good))) for _ in range(3)]  # the copies in the middle
    inp = tmp_path / "in"
    inp.mkdir()
    make_copies_warc(inp / SNAPSHOT_WARC, tails)
    out = tmp_path / "out"
    r = run_cli("run", "--input", str(inp), "--quiet", "--output", str(out), "--quality-model", f"edu={models / 'edu.bin'}",
                "--set", "quality_model.edu.tokenize=none", "--set", "dedup.tie_break=quality:edu",
                "--set", f"output.signals={signals}", "--set", "pii.email=off")
    assert r.returncode == 0, r.stderr
    # every copy before dedup, with its score (the checkpoint parts carry the tie-break column)
    before = [row for f in sorted((out / "_checkpoints").rglob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    assert len(before) == len(tails), [row["url"] for row in before]
    scores = {row["url"]: row["quality_edu"] for row in before}
    assert None not in scores.values() and len(set(scores.values())) == len(tails)
    best = max(scores, key=scores.get)
    snap = before[0]["snapshot"]
    by_id = min(before, key=lambda row: stable_id(snap, row["url"], row["warc_record_id"]))["url"]
    assert by_id != best  # the stable id alone would keep another copy: the score decides
    t = _data(out)
    assert t.column("url").to_pylist() == [best]
    assert t.column("cluster_size").to_pylist() == [len(tails)]
    assert ("quality_edu" in t.column_names) == (signals == "true")
