"""The project's own fixtures (``tests/fixturegen/``) are what the other tests rely on: the
properties the texts promise, deterministic builds, small sizes."""

from __future__ import annotations

import hashlib
import re

import pytest

from fixturegen.pages import charset_pages, extraction_pages
from fixturegen.texts import (
    JA_ARTICLES, KO, KO_CHAT, OTHER_LANGUAGES, SHORT_NOTICE, ZH_HANS, ZH_HANT, ja_sentences, sample_sentences,
)
from fixturegen.warcs import CAPTURES, build_crawl, edge_case_files
from jawebcorpus.filters.jadetect import count_kana
from jawebcorpus.filters.ngwords import NgMatcher, NgWordsConfig
from jawebcorpus.filters.quality import SWALLOW_V1, evaluate

JA_LETTER = re.compile("[\u3041-\u309f\u30a0-\u30ff\u3400-\u9fff々]")
HIRAGANA = re.compile("[\u3041-\u309f]")


@pytest.mark.parametrize("name", sorted(JA_ARTICLES))
def test_articles_are_clean_japanese_prose_in_every_japanese_encoding(name):
    title, paras = JA_ARTICLES[name]
    sentences = [s for p in paras for s in p]
    text = "\n".join("".join(p) for p in paras)
    for codec in ("cp932", "euc_jp", "iso2022_jp", "utf-8"):
        assert (title + text).encode(codec).decode(codec) == title + text
    assert all(20 <= len(s) <= 90 and s.endswith("。") for s in sentences), name
    letters = JA_LETTER.findall(text)
    assert len(letters) >= 500 and len(HIRAGANA.findall(text)) >= 0.2 * len(letters)
    assert evaluate(text, SWALLOW_V1).passed
    assert NgMatcher(NgWordsConfig()).scan(text).hits == ()


def test_sentences_are_distinct():
    own = ja_sentences()
    assert len(own) == len(set(own)) >= 130
    assert not set(own) & set(sample_sentences(kept_only=False))
    assert len(sample_sentences()) >= 200


def test_other_texts_hold_no_kana():
    texts = [ZH_HANS[0], *ZH_HANS[1], ZH_HANT[0], *ZH_HANT[1], KO[0], *KO[1], KO_CHAT[0], *KO_CHAT[1]]
    texts += [s for ss in OTHER_LANGUAGES.values() for s in ss]
    assert all(count_kana(t) == 0 for t in texts)
    assert not evaluate("\n".join("".join(p) for p in SHORT_NOTICE[1]), SWALLOW_V1).passed


def _digest(parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.hexdigest()


def test_builds_are_deterministic_and_small(tmp_path):
    a, b = build_crawl(tmp_path / "a"), build_crawl(tmp_path / "b")
    files_a = sorted(p.relative_to(a.root) for p in a.root.rglob("*") if p.is_file())
    assert files_a == sorted(p.relative_to(b.root) for p in b.root.rglob("*") if p.is_file())
    assert len(files_a) == 6  # 4 WARC files and 2 warc.paths.gz
    for rel in files_a:
        assert (a.root / rel).read_bytes() == (b.root / rel).read_bytes(), rel
    assert sum(a.sizes.values()) < 200_000
    assert _digest(c.data for c in edge_case_files()) == _digest(c.data for c in edge_case_files())
    assert _digest(p.body for p in charset_pages()) == _digest(p.body for p in charset_pages())
    assert [p.html for p in extraction_pages()] == [p.html for p in extraction_pages()]


def test_padding_reaches_the_requested_sizes(tmp_path):
    from fixturegen.warcs import NEW, OLD

    crawl = build_crawl(tmp_path, pad={(OLD, 1): 600_000, (NEW, 0): 100_000})
    sizes = {rel.split("/")[1] + rel[-9:-8]: n for rel, n in crawl.sizes.items()}
    assert sizes[f"{OLD}1"] >= 600_000 and sizes[f"{NEW}0"] >= 100_000
    assert all((crawl.root / rel).stat().st_size == n for rel, n in crawl.sizes.items())


def test_captures_are_unique_and_cover_the_stages():
    assert len({c.key for c in CAPTURES}) == len(CAPTURES)
    assert len({(c.snapshot, c.url) for c in CAPTURES}) == len(CAPTURES)
    groups: dict[str, set] = {}
    for c in CAPTURES:
        if c.group:
            groups.setdefault(c.group, set()).add(c.snapshot)
    # every duplicate group spans both snapshots (or a mirror in the newest)
    assert all(len(s) == 2 for s in groups.values()) and len(groups) == 4
