"""Extraction (``corpus/extract.py``) on pages whose main text is known
(``tests/fixturegen/pages.py``): an article inside navigation, breadcrumbs, a sidebar, share
buttons, related articles, readers' comments, a footer and a cookie banner, written with HTML5
sectioning elements and as nested ``div`` elements only."""

from __future__ import annotations

import pytest

from fixturegen.pages import extraction_pages
from jawebcorpus.corpus.extract import Extractor


@pytest.fixture(scope="module")
def pages():
    out = extraction_pages()
    assert len(out) == 16
    return out


@pytest.fixture(scope="module")
def extracted(pages) -> dict[str, str]:
    ex = Extractor(isolation="none")
    out = {}
    for page in pages:
        res = ex.extract(page.html)
        assert res.outcome == "ok", page.name
        out[page.name] = res.text
    return out


def test_every_sentence_of_the_article_is_extracted(pages, extracted):
    for page in pages:
        text = extracted[page.name]
        missing = [s for s in page.must_contain if s not in text]
        assert missing == [], (page.name, missing)


def test_no_boilerplate_is_extracted(pages, extracted):
    for page in pages:
        text = extracted[page.name]
        found = [s for s in page.must_not_contain if s in text]
        assert found == [], (page.name, found)
        assert "<" not in text and "Copyright" not in text


def test_extracted_text_is_the_article_in_order(pages, extracted):
    """Nothing else either: the sentences, in order, paragraph by paragraph (the title may
    lead); the two markups of a page give the same text."""
    for page in pages:
        body = extracted[page.name].replace("\n", "")
        assert body.endswith("".join(page.must_contain)), page.name
        assert len(body) - len("".join(page.must_contain)) <= 40, page.name  # at most the title
    for page in pages:
        if page.name.endswith(".html5"):
            assert extracted[page.name] == extracted[page.name[:-len(".html5")] + ".divs"]


def test_process_isolation_gives_the_same_text(pages, extracted):
    with Extractor(timeout_s=30.0, isolation="process") as ex:
        for page in pages[:4]:
            assert ex.extract(page.html).text == extracted[page.name], page.name
