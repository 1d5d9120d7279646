"""``corpus/extract.py``: trafilatura in a child process, with a time limit."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from jawebcorpus.corpus.extract import Extractor, trafilatura_extract
from jawebcorpus.sample import PAGES_DIR

OUTCOMES = {"ok", "extract_empty", "extract_timeout", "extract_error"}


@pytest.fixture(scope="module")
def extractor():
    ex = Extractor(timeout_s=10.0, isolation="process")
    yield ex
    ex.close()


def page(name: str) -> str:
    return (PAGES_DIR / name).read_text(encoding="utf-8")


def slow_page(n: int = 20_000) -> str:
    """A page trafilatura needs well over a second for (thousands of linked blocks)."""
    body = "".join(
        f'<div class="c{i % 7}"><a href="/p{i}">リンク {i}</a> テキスト{i}です。</div>' for i in range(n)
    )
    return f"<html><head><title>slow</title></head><body>{body}</body></html>"


def japanese_sample_pages(manifest) -> list[str]:
    return sorted({c["file"] for c in manifest["captures"] if c["kind"].startswith("ja") and c["file"]})


def test_a_japanese_page_extracts(extractor, manifest):
    cap = next(c for c in manifest["captures"] if c["kind"] == "ja_utf8")
    res = extractor.extract(page(cap["file"]))
    assert res.outcome == "ok" and res.error is None
    assert res.seconds >= 0
    # the article's sentences are in the text, the markup is not
    assert "。" in res.text and "<" not in res.text
    assert len(res.text) >= 300


@pytest.mark.parametrize("html", ["", "   ", "<html><body></body></html>", "<html><head><title>t</title></head></html>"])
def test_an_empty_page_is_extract_empty(extractor, html):
    res = extractor.extract(html)
    assert res.outcome == "extract_empty" and res.text == ""


def test_slow_page_times_out_and_the_next_page_still_extracts(manifest):
    html = slow_page()
    timeout = 0.3
    with Extractor(timeout_s=timeout, isolation="process") as ex:
        warm = ex.extract(page("ja_travel_kyoto_utf8.html"))  # the child is up before timing
        assert warm.outcome == "ok"
        start = time.perf_counter()
        res = ex.extract(html)
        elapsed = time.perf_counter() - start
        assert res.outcome == "extract_timeout", res
        assert elapsed < timeout + 1.0, elapsed
        assert res.text == ""
        # the child was killed: the next page gets a new one and extracts normally
        after = ex.extract(page("ja_travel_kyoto_utf8.html"))
        assert after.outcome == "ok" and after.text == warm.text
        # twice in a row works too
        assert ex.extract(html).outcome == "extract_timeout"
        assert ex.extract(page("ja_onsen_eucjp.html")).outcome == "ok"


@pytest.mark.slow
def test_the_slow_page_really_is_slow_in_process():
    """Control for the timeout test: without isolation the page takes longer than the limit."""
    start = time.perf_counter()
    res = Extractor(isolation="none").extract(slow_page())
    assert time.perf_counter() - start > 0.3
    assert res.outcome == "ok"


def test_process_isolation_gives_the_same_text_as_in_process(extractor, manifest):
    inproc = Extractor(isolation="none")
    files = japanese_sample_pages(manifest) + ["en_news_harbour_festival.html", "de_wandern_rundweg.html"]
    assert len(files) >= 20
    for name in files:
        html = page(name)
        a = extractor.extract(html)
        b = inproc.extract(html)
        assert a.outcome == b.outcome, name
        assert a.text == b.text, name
        # and the same as calling trafilatura directly
        direct = trafilatura_extract(html)
        assert (b.text if b.outcome == "ok" else None) == (direct if direct and direct.strip() else None), name


def test_text_with_unusual_characters_survives_the_pipe(extractor):
    odd = "テスト\u2028行\u0000区切り \U0001F600 絵文字 ①～㈱ \ud800 サロゲート"
    html = f"<html><body><article><p>{odd}これは十分に長い日本語の段落です。" * 5 + "</p></article></body></html>"
    a = extractor.extract(html)
    b = Extractor(isolation="none").extract(html)
    assert a.outcome in OUTCOMES and (a.outcome, a.text) == (b.outcome, b.text)


def test_a_child_that_dies_gives_extract_error_and_is_restarted():
    with Extractor(timeout_s=10.0) as ex:
        assert ex.extract(page("ja_travel_kyoto_utf8.html")).outcome == "ok"
        ex._proc.kill()  # the child dies between pages (as after an out-of-memory kill)
        ex._proc.wait()
        res = ex.extract(page("ja_travel_kyoto_utf8.html"))
        assert res.outcome == "ok"  # a dead child is noticed before sending: restarted
        assert ex.restarts == 1


def test_a_child_killed_mid_page_gives_extract_error():
    import threading

    with Extractor(timeout_s=30.0) as ex:
        assert ex.extract(page("ja_travel_kyoto_utf8.html")).outcome == "ok"
        child = ex._proc
        killer = threading.Timer(0.2, child.kill)
        killer.start()
        start = time.perf_counter()
        res = ex.extract(slow_page())
        killer.join()
        assert res.outcome == "extract_error" and res.error == "ExtractorDied"
        assert time.perf_counter() - start < 5.0  # noticed at once, not at the time limit
        assert ex.extract(page("ja_travel_kyoto_utf8.html")).outcome == "ok"


def test_bad_isolation_is_refused():
    with pytest.raises(ValueError):
        Extractor(isolation="thread")


def test_pages_above_the_size_limit_use_fast_mode():
    """Large pages go through trafilatura's fast mode (deterministic: decided by length only)."""
    from jawebcorpus.corpus.extract import trafilatura_extract

    para = "<p>" + "駅前の商店街では、毎年秋になると小さな祭りが開かれます。" * 3 + "</p>"
    html = "<html><body><article>" + para * 40 + "</article></body></html>"
    small = Extractor(isolation="none", fast_above_chars=len(html) + 1)
    big = Extractor(isolation="none", fast_above_chars=len(html) - 1)
    assert not small.uses_fast(html) and big.uses_fast(html)
    assert big.extract(html).text == trafilatura_extract(html, fast=True)
    assert small.extract(html).text == trafilatura_extract(html, fast=False)
    with Extractor(timeout_s=30.0, fast_above_chars=len(html) - 1) as isolated:
        assert isolated.extract(html).text == big.extract(html).text


# -- extract.mode ----------------------------------------------------------------------------------
EXTRACTION_JA = Path(__file__).resolve().parents[1] / "bench" / "extraction_ja"


def _truth_lines_found(name: str, ex: Extractor) -> int:
    """How many lines of the page's hand-checked main text (bench/extraction_ja) ``ex`` keeps."""
    truth = json.loads((EXTRACTION_JA / "ground-truth.json").read_text(encoding="utf-8"))[name]
    text = ex.extract((EXTRACTION_JA / truth["file"]).read_text(encoding="utf-8")).text
    return sum(line.strip() in text for line in truth["text"].splitlines() if line.strip())


def test_fast_recall_keeps_content_that_the_swallow_call_and_fast_drop():
    """The municipal notice's body (a list of items, loosely marked up): recall mode keeps it,
    trafilatura's default and fast calls keep only the first lines; on the job posting, fast
    alone loses the requirements (a ``dl``) that the fallback and recall mode keep."""
    swallow = Extractor(isolation="none", mode="swallow", fast_above_chars=500_000)
    fast = Extractor(isolation="none", mode="fast")
    recall = Extractor(isolation="none", mode="fast_recall", fast_above_chars=500_000)
    found = {m: _truth_lines_found("muni-01", ex) for m, ex in (("s", swallow), ("f", fast), ("r", recall))}
    assert found["r"] >= found["s"] + 3 and found["r"] >= found["f"] + 3, found
    job = {m: _truth_lines_found("job-01", ex) for m, ex in (("s", swallow), ("f", fast), ("r", recall))}
    assert job["f"] + 5 <= min(job["s"], job["r"]), job


def test_each_mode_makes_its_documented_call():
    html = (EXTRACTION_JA / "pages" / "muni-01.html").read_text(encoding="utf-8")
    import trafilatura

    def call(**kw):
        return trafilatura.extract(html, include_comments=False, include_tables=False, **kw)

    swallow = Extractor(isolation="none", mode="swallow").extract(html).text
    assert swallow == call()
    assert Extractor(isolation="none", mode="fast").extract(html).text == call(fast=True)
    recall = Extractor(isolation="none", mode="fast_recall", fast_above_chars=len(html)).extract(html).text
    assert recall == call(fast=True, favor_recall=True) != swallow
    # above the cap: plain fast; fast_above_chars=0: no cap
    capped = Extractor(isolation="none", mode="fast_recall", fast_above_chars=len(html) - 1)
    assert capped.flags(html) == 1 and capped.extract(html).text == call(fast=True)
    assert Extractor(isolation="none", mode="fast_recall", fast_above_chars=0).extract(html).text == recall
    # the child process makes the same calls
    with Extractor(timeout_s=30.0, mode="fast_recall", fast_above_chars=len(html)) as isolated:
        assert isolated.extract(html).text == recall


def test_presets_choose_their_mode_and_bad_modes_are_refused():
    from jawebcorpus.corpus.errors import ConfigError
    from jawebcorpus.pipelines.config import PRESETS, apply_overrides

    assert PRESETS["swallow-v1"].extract.mode == "swallow" and PRESETS["swallow-v1"].extract.fast_above_chars == 0
    assert PRESETS["default"].extract.mode == "fast_recall" and PRESETS["default"].extract.fast_above_chars == 500_000
    assert apply_overrides(PRESETS["default"], ["extract.mode=fast"]).validate().extract.mode == "fast"
    for bad in ("Swallow", "recall", "", "fast,recall"):
        with pytest.raises(ConfigError, match="extract.mode must be one of swallow, fast, fast_recall"):
            apply_overrides(PRESETS["default"], [f"extract.mode={bad}"]).validate()
    with pytest.raises(ValueError):
        Extractor(mode="trafilatura")


def test_a_bad_mode_on_the_command_line_is_one_line_and_exit_2(tmp_path, capsys):
    from jawebcorpus.pipelines.cli import main

    out = tmp_path / "out"
    rc = main(["run", "--sample", "--quiet", "--output", str(out), "--set", "extract.mode=turbo"])
    err = capsys.readouterr().err
    assert rc == 2 and "extract.mode must be one of" in err and "Traceback" not in err
    assert not out.exists()
