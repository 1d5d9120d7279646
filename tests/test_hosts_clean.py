"""Host filter (suffixes, a UT1-layout blocklist built here) and cleaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from jawebcorpus.filters.clean import CleanConfig, FOOTER_KEYWORDS, clean_text, footer_share
from jawebcorpus.filters.hosts import HostFilter, HostsConfig


@pytest.fixture()
def ut1(tmp_path: Path) -> Path:
    """A small blocklist in UT1's published layout: <root>/<category>/domains."""
    lists = {
        "adult": ["adult-example.com", "x.porn-example.net", "# comment line", ""],
        "gambling": ["casino-example.jp", "BET-EXAMPLE.COM"],
        "games": ["game-example.org"],
        "not_selected": ["innocent-looking.example"],
    }
    for cat, lines in lists.items():
        (tmp_path / cat).mkdir()
        (tmp_path / cat / "domains").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_default_suffixes_reject_5ch_and_wikipedia():
    hf = HostFilter(HostsConfig())
    assert hf.check("hayabusa.5ch.net").reason == "host_suffix"
    assert hf.check("ja.wikipedia.org").matched == "wikipedia.org"
    assert hf.check("wikipedia.org") is not None
    assert hf.check("JA.WIKIPEDIA.ORG.") is not None  # case and trailing dot
    assert hf.check("notwikipedia.org") is None  # whole labels only by default
    assert hf.check("5ch.net.example.com") is None
    assert hf.check("www.example.jp") is None
    assert hf.check("") is None


def test_swallow_string_suffix_matching_is_available():
    hf = HostFilter(HostsConfig(suffix_match="string"))
    assert hf.check("notwikipedia.org") is not None  # str.endswith, as Swallow


def test_ut1_parent_domain_matching(ut1):
    hf = HostFilter(HostsConfig(ut1_dir=str(ut1), ut1_categories=("adult", "gambling", "games")))
    assert hf.loaded == {"adult": 2, "gambling": 2, "games": 1}
    assert hf.check("adult-example.com").reason == "ut1_adult"
    assert hf.check("www.adult-example.com").reason == "ut1_adult"  # Swallow's exact match missed this
    assert hf.check("a.b.x.porn-example.net").matched == "x.porn-example.net"
    assert hf.check("porn-example.net") is None  # only the listed subdomain and below
    assert hf.check("www.bet-example.com").reason == "ut1_gambling"  # lists are case-folded
    assert hf.check("innocent-looking.example") is None  # category not selected
    assert hf.check("example.com") is None


def test_ut1_exact_matching(ut1):
    hf = HostFilter(HostsConfig(ut1_dir=str(ut1), ut1_categories=("adult",), match="exact"))
    assert hf.check("adult-example.com") is not None
    assert hf.check("www.adult-example.com") is None


def test_ut1_missing_lists_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="domains"):
        HostFilter(HostsConfig(ut1_dir=str(tmp_path), ut1_categories=("adult",)))
    with pytest.raises(ValueError, match="not a directory"):
        HostFilter(HostsConfig(ut1_dir=str(tmp_path / "nope")))


def test_punctuation_normalisation():
    text = "今日は晴れ，明日は雨．散歩に行きました，楽しかった．"
    r = clean_text(text, CleanConfig())
    assert r.text == "今日は晴れ、明日は雨。散歩に行きました、楽しかった。"
    assert r.punctuation_replaced == 4 and r.reason == "punctuation"
    # not when 、 is the document's usual mark
    mixed = "今日は、晴れ、明日は、雨，です。"
    assert clean_text(mixed, CleanConfig()).text == mixed
    # never after a full-width digit or letter
    digits = "値は１．５と２，５です，本当です，確かです．"
    out = clean_text(digits, CleanConfig()).text
    assert "１．５" in out and "２，５" in out and "です、本当" in out
    assert clean_text(text, CleanConfig(normalize_punctuation=False)).text == text


def test_footer_trimming():
    body = [f"本文の{i}行目です。今日はとても良い天気で、公園を散歩しました。" for i in range(12)]
    footer = ["Copyright © 2024 Example Inc. All rights reserved.", "プライバシーポリシー | 利用規約 | お問い合わせ"]
    text = "\n".join(body + footer)
    r = clean_text(text, CleanConfig())
    assert r.text == "\n".join(body)
    assert r.footer_chars_removed == len(text) - len("\n".join(body))
    assert r.reason == "footer"
    # a keyword in an ordinary line does not cut it (below 30 %)
    line = "詳しくはお問い合わせください。当店は駅から歩いて五分の場所にあります。"
    assert footer_share(line, __import__("re").compile("お問い合わせ")) < 0.3
    assert clean_text("\n".join(body + [line]), CleanConfig()).text.endswith(line)
    # only the last 10 lines are scanned
    early = "\n".join([footer[1]] + body)
    assert clean_text(early, CleanConfig()).text == early


def test_footer_keywords_are_distinct_and_enough():
    assert len(set(FOOTER_KEYWORDS)) == len(FOOTER_KEYWORDS) >= 70


def test_cleaning_never_crashes():
    for text in ("", " ", "\n\n\n", "，．", "©" * 1000, "\U0001F600" * 50 + "，"):
        r = clean_text(text, CleanConfig())
        assert isinstance(r.text, str) and len(r.text) <= len(text)
