"""Boilerplate lines learned from a host's pages (``filters/boilerplate.py``): the lines every page
of a host repeats go, the articles stay; re-crawls do not count; merges in any order agree; the
sample stays bounded.  Hosts are built in code from the project's own texts."""

from __future__ import annotations

import random

import pytest

from _bounded import MB, BoundedRunner
from fixturegen.texts import FOOTER, JA_ARTICLES, NAV, ja_sentences
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.filters.boilerplate import (
    BoilerplateConfig, HostSample, doc_line_hashes, line_hash, normalise_line, remove_lines, url_key,
)

CFG = BoilerplateConfig()
MENU = ["ホーム", "会社概要", "お問い合わせ", "ページの先頭へ", "このサイトではCookieを使用しています。"]


def _lines(x) -> list[str]:
    return [x] if isinstance(x, str) else [str(v) for v in x]


def site_pages(n: int, seed: int = 1) -> list[tuple[str, str, list[str]]]:
    """(url, text, article lines) of one host: each page an article of real sentences between
    the site's menu and footer (a year that changes, as copyright lines do)."""
    rng = random.Random(seed)
    sents = ja_sentences()
    nav = [x for v in (NAV if isinstance(NAV, (list, tuple)) else [NAV]) for x in _lines(v)][:3]
    foot = [x for v in (FOOTER if isinstance(FOOTER, (list, tuple)) else [FOOTER]) for x in _lines(v)][:2]
    pages = []
    for i in range(n):
        article = rng.sample(sents, 6)
        year = 2015 + i % 9
        lines = [*MENU[:3], *nav, *article, MENU[3], *foot, f"© {year} 駅前通信 All Rights Reserved.", MENU[4]]
        pages.append((f"https://www.ekimae.example.jp/{i}.html", "\n".join(lines), article))
    return pages


def sample_of(pages, k: int = CFG.sample_docs) -> HostSample:
    s = HostSample(k)
    for url, text, _ in pages:
        s.add(url_key(url), doc_line_hashes(text, CFG))
    return s


def test_normalisation_folds_widths_spaces_case_and_digits():
    assert normalise_line("　© ２０１９  Ekimae   Tsushin ") == normalise_line("© 2024 ekimae tsushin")
    assert normalise_line("2023年5月27日 更新") == normalise_line("2024年1月3日　更新")
    assert normalise_line("ホーム") != normalise_line("ホームページ")


def test_the_furniture_goes_and_the_articles_stay():
    pages = site_pages(40)
    frequent = sample_of(pages).frequent(CFG)
    for line in (*MENU, "© 2019 駅前通信 All Rights Reserved."):
        assert line_hash(normalise_line(line)) in frequent, line
    total = removed_chars = 0
    for _url, text, article in pages:
        out, lines, chars = remove_lines(text, frequent, CFG)
        assert out.split("\n") == article  # exactly the article is left
        assert lines == len(text.split("\n")) - len(article) and chars == len(text) - len(out)
        total += len(text)
        removed_chars += chars
    assert 0.1 < removed_chars / total < 0.8


def test_a_line_of_a_few_pages_is_not_boilerplate():
    pages = site_pages(40)
    shared = "この記事は特集「駅前の春」の一部です。"
    for i in (3, 9, 17):  # three of forty pages: under min_docs and min_share
        url, text, article = pages[i]
        pages[i] = (url, text + "\n" + shared, article)
    assert line_hash(normalise_line(shared)) not in sample_of(pages).frequent(CFG)


def test_recrawls_of_one_page_do_not_make_its_lines_frequent():
    url, text, article = site_pages(1)[0]
    s = HostSample(CFG.sample_docs)
    for _ in range(50):  # the same URL in fifty snapshots
        s.add(url_key(url), doc_line_hashes(text, CFG))
    s.add(url_key(url.replace("https://www.", "http://") + "#top"), doc_line_hashes(text, CFG))
    assert len(s.docs) == 1 and s.frequent(CFG) == frozenset()


def test_small_hosts_learn_nothing():
    assert sample_of(site_pages(3)).frequent(CFG) == frozenset()


def test_merges_in_any_order_agree_and_stay_bounded():
    pages = site_pages(300, seed=4)
    whole = sample_of(pages, k=64)
    assert len(whole.docs) == 64
    rng = random.Random(9)
    for _ in range(5):
        order = pages[:]
        rng.shuffle(order)
        parts = [sample_of(order[i:i + 37], k=64) for i in range(0, len(order), 37)]
        rng.shuffle(parts)
        acc = HostSample(64)
        for p in parts:
            acc.merge(p)
        assert acc.docs == whole.docs
        assert acc.frequent(CFG) == whole.frequent(CFG)
    # the sample holds the pages with the smallest URL keys
    assert sorted(whole.docs) == sorted(url_key(u) for u, _, _ in pages)[:64]


def test_lines_per_page_are_bounded():
    text = "\n".join(f"行その{chr(0x4E00 + i)}です" for i in range(5_000))
    assert len(doc_line_hashes(text, CFG)) == CFG.max_lines_per_doc


def test_long_lines_are_never_boilerplate():
    long_line = "あ" * (CFG.max_line_chars + 1)
    assert doc_line_hashes(long_line, CFG) == frozenset()
    assert remove_lines(long_line, frozenset({line_hash(normalise_line(long_line))}), CFG) == (long_line, 0, 0)


def test_config_ranges():
    BoilerplateConfig().validate()
    for bad in (BoilerplateConfig(min_share=1.5), BoilerplateConfig(min_docs=1), BoilerplateConfig(sample_docs=0)):
        with pytest.raises(ConfigError):
            bad.validate()


def _remove_from_huge(n: int) -> int:
    text = "\n".join(("ホーム" if i % 2 else f"本文{i}") for i in range(n))
    return remove_lines(text, frozenset({line_hash(normalise_line("ホーム"))}), CFG)[1]


def test_linear_time():
    with BoundedRunner(seconds=10.0, memory=500 * MB) as runner:
        got_small, t_small, _ = runner.run(_remove_from_huge, 50_000)
        got_large, t_large, _ = runner.run(_remove_from_huge, 200_000)
    assert (got_small, got_large) == (25_000, 100_000)
    assert t_large < 8 * t_small + 0.05


def test_the_projects_articles_keep_their_lines():
    """Articles of one host with nothing in common but their subject: nothing is removed."""
    s = HostSample(CFG.sample_docs)
    for i, (_title, paras) in enumerate(JA_ARTICLES.values()):
        s.add(url_key(f"https://blog.example.jp/{i}"), doc_line_hashes("\n".join("".join(p) for p in paras), CFG))
    assert s.frequent(BoilerplateConfig(min_docs=2, min_share=0.2)) == frozenset()


def test_normalised_lines_equals_the_line_by_line_rule():
    """The whole-text normalisation (NFKC only where it can change something, one digit pass) is
    normalise_line of every line: on the project's Japanese articles and on random strings of
    characters that NFKC, case folding, the digit rule and whitespace change."""
    import random

    from fixturegen.texts import JA_ARTICLES

    from jawebcorpus.filters.boilerplate import normalise_line, normalised_lines

    texts = ["\n".join(["".join(p) for p in paras] + [title]) for title, paras in JA_ARTICLES.values()]
    rng = random.Random(20)
    pool = "ａＢ１２ 　\t\x0b\x1c\x85\u2028\nｶﾞﾊﾟ①ⅫÅﬁ\u0308é\u3099か\u30fcー12３\u00a0\u200b٣İß"
    texts += ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(20_000)]
    for t in texts:
        assert normalised_lines(t) == [normalise_line(line) for line in t.split("\n")], repr(t)
