"""The scoring of ``bench/bench_extraction_quality.py`` on hand-made strings, and the Japanese
extraction set (``bench/extraction_ja``) in step with the builder that wrote it."""

from __future__ import annotations

import html
import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
JA = BENCH / "extraction_ja"


def _load(name: str, path: Path, extra_path: Path):
    sys.path.insert(0, str(extra_path))
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod
    finally:
        sys.path.remove(str(extra_path))


@pytest.fixture(scope="module")
def b():
    return _load("bench_extraction_quality", BENCH / "bench_extraction_quality.py", BENCH)


def test_identical_texts_score_one_whatever_the_layout_whitespace_and_width(b):
    truth = "本文の一行目です。\n二行目：ＡＢＣ１２３"
    assert b.prf(truth, truth) == (1.0, 1.0, 1.0)
    # line breaks, indentation, full-width vs half-width (NFKC), list and table markup
    assert b.prf("  本文の一行目\nです。 二行目:ABC123  ", truth) == (1.0, 1.0, 1.0)
    assert b.prf("- りんご\n- みかん\n| 価格 | 100円 |", "りんご\nみかん\n価格 100円") == (1.0, 1.0, 1.0)


def test_hand_computed_precision_recall_f1(b):
    # truth 3-grams: abc bcd cde; output: abc bcx cxy -> one in common
    p, r, f = b.prf("abcxy", "abcde")
    assert (p, r) == (1 / 3, 1 / 3) and f == pytest.approx(1 / 3)
    # multisets: "aaaa" holds "aaa" twice, "aaa" once
    p, r, f = b.prf("aaa", "aaaa")
    assert (p, r) == (1.0, 0.5) and f == pytest.approx(2 / 3)
    # boilerplate added to the whole truth: recall stays 1, precision drops by the added grams
    truth, extra = "今日は晴れでした。", "ページの先頭へ"
    p, r, f = b.prf(truth + "\n" + extra, truth)
    n_truth, n_out = len(truth) - 2, len(truth + extra) - 2
    assert r == 1.0 and p == pytest.approx(n_truth / n_out)
    # half the truth missing: precision 1, recall about a half
    p, r, _ = b.prf("今日は晴れ", "今日は晴れでした。明日は雨")
    assert p == 1.0 and r == pytest.approx(3 / 11)


def test_other_n_and_short_texts(b):
    assert b.prf("ab", "ab", n=3) == (1.0, 1.0, 1.0)  # shorter than n: one gram
    assert b.prf("ba", "ab", n=1) == (1.0, 1.0, 1.0)  # a bag of characters ignores order
    assert b.prf("ba", "ab", n=2)[2] == 0.0


def test_empty_and_disjoint_outputs_score_zero(b):
    assert b.prf(None, "本文") == (0.0, 0.0, 0.0)
    assert b.prf(" \n ", "本文です") == (0.0, 0.0, 0.0)
    assert b.prf("まったく別の文章", "本文はこちらにある")[2] == 0.0
    with pytest.raises(ValueError):
        b.prf("text", "  \n")


def test_snippets_and_bootstrap(b):
    out = "法律では虐待をした親に\n専門家が"
    assert b.snippet_score(out, ["虐待をした親に専門家が", "ない文"], ["Copyright", "専門家"]) == (1, 1)
    samples = b.resamples(5, count=200, seed=1)
    assert b.bootstrap_mean([0.5] * 5, samples) == (0.5, 0.5)
    lo, hi = b.bootstrap_mean([0.0, 0.25, 0.5, 0.75, 1.0], samples)
    assert 0.0 <= lo < 0.5 < hi <= 1.0
    assert samples == b.resamples(5, count=200, seed=1)  # fixed seed: the same intervals every run


def test_japanese_set_is_what_its_builder_writes():
    """Every page file and ground-truth text is the builder's output for the authored content,
    and every ground-truth line is in its page."""
    build = _load("build", JA / "build.py", JA)
    sys.path.insert(0, str(JA))
    try:
        import boiler
        import content_a
        import content_b
        import content_c

        pages = [*content_a.PAGES, *content_b.PAGES, *content_c.PAGES]
        truth = json.loads((JA / "ground-truth.json").read_text(encoding="utf-8"))
        assert sorted(truth) == sorted(p["id"] for p in pages) and len(pages) >= 40
        for page in pages:
            doc = (JA / "pages" / f"{page['id']}.html").read_text(encoding="utf-8")
            assert doc == boiler.render(page), page["id"]
            text = truth[page["id"]]["text"]
            assert text == build.ground_truth(page) and len(text) > 50
            plain = html.unescape(doc)
            for line in text.split("\n"):
                for piece in line.split(" "):  # table cells are joined by spaces
                    assert piece in plain, (page["id"], piece)
    finally:
        sys.path.remove(str(JA))
        for mod in ("boiler", "sites", "content_a", "content_b", "content_c", "build"):
            sys.modules.pop(mod, None)
