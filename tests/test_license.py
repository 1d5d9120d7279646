"""Licences (``filters/license.py``): Creative Commons links marked ``rel="license"`` in the
spellings pages use, normalised identifiers, what is not a declaration, and bounded linear
scanning of hostile pages (pages built in code; ``../shared/crawl`` when present)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _bounded import MB, BoundedRunner
from jawebcorpus.filters.license import find_license, normalise_cc_url
from test_optout import reference_tags


def page(body: str, head: str = "") -> str:
    return f"<html><head><title>t</title>{head}</head><body><p>記事の本文です。</p>{body}</body></html>"


# -- URL spellings ------------------------------------------------------------------------------
URLS = {
    "https://creativecommons.org/licenses/by/4.0/": "cc-by-4.0",
    "http://creativecommons.org/licenses/by/4.0/": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0": "cc-by-4.0",
    "https://www.creativecommons.org/licenses/by/4.0/": "cc-by-4.0",
    "//creativecommons.org/licenses/by/4.0/": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/deed.ja": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/deed.en": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/deed.zh-hant": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/deed": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/legalcode": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/legalcode.ja": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/legalcode.txt": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/?ref=chooser-v1": "cc-by-4.0",
    "https://creativecommons.org/licenses/by/4.0/#attribution": "cc-by-4.0",
    "HTTPS://CreativeCommons.org/Licenses/BY/4.0/": "cc-by-4.0",
    "https://creativecommons.org/licenses/by-sa/3.0/": "cc-by-sa-3.0",
    "http://creativecommons.org/licenses/by-nc-nd/4.0/": "cc-by-nc-nd-4.0",
    "https://creativecommons.org/licenses/by-nd-nc/1.0/": "cc-by-nc-nd-1.0",  # 1.0's element order
    "https://creativecommons.org/licenses/nc-by-sa/2.0/": "cc-by-nc-sa-2.0",
    "https://creativecommons.org/licenses/by-nc-sa/2.1/jp/": "cc-by-nc-sa-2.1-jp",
    "https://creativecommons.org/licenses/by/2.1/jp/deed.ja": "cc-by-2.1-jp",
    "http://creativecommons.org/licenses/by-nc/3.0/de/": "cc-by-nc-3.0-de",
    "https://creativecommons.org/licenses/by-sa/3.0/igo/": "cc-by-sa-3.0-igo",
    "https://creativecommons.org/licenses/by-nc-sa/3.0/deed.en_US": "cc-by-nc-sa-3.0",
    "https://creativecommons.org/licenses/by/2.5/": "cc-by-2.5",
    "https://creativecommons.org/licenses/nc-sa/1.0/": "cc-nc-sa-1.0",
    "https://creativecommons.org/publicdomain/zero/1.0/": "cc0-1.0",
    "https://creativecommons.org/publicdomain/zero/1.0/deed.ja": "cc0-1.0",
    "https://creativecommons.org/publicdomain/mark/1.0/": "pdm-1.0",
    "https://creativecommons.org/publicdomain/mark/1.0/deed.de": "pdm-1.0",
    "http://creativecommons.org/licenses/publicdomain/": "cc-pddc",
    "https://web.archive.org/web/20130307194448/http://creativecommons.org/licenses/by-sa/3.0/de/": "cc-by-sa-3.0-de",
    "https://web.archive.org/web/20160330101229id_/https://creativecommons.org/licenses/by/4.0/": "cc-by-4.0",
    "  https://creativecommons.org/licenses/by/4.0/  ": "cc-by-4.0",
}

NOT_LICENCES = [
    "https://creativecommons.org/",
    "https://creativecommons.org/licenses/",
    "https://creativecommons.org/licenses/by/",  # no version
    "https://creativecommons.org/licenses/by/5.0/",
    "https://creativecommons.org/licenses/by/4.0/jp/",  # 4.0 has no ports
    "https://creativecommons.org/licenses/by-nd-sa/4.0/",  # ND and SA never together
    "https://creativecommons.org/licenses/by-by/4.0/",
    "https://creativecommons.org/licenses/by-xx/4.0/",
    "https://creativecommons.org/licenses/sampling+/1.0/",
    "https://creativecommons.org/licenses/ by-sa/4.0/legalcode.de",  # a space inside
    "https://creativecommons.org/licenses/by/4.0/extra/path/",
    "https://creativecommons.org//licenses/by/4.0/",
    "https://creativecommons.org/about/",
    "https://creativecommons.org/publicdomain/zero/2.0/",
    "https://creativecommons.jp/licenses/",
    "https://creativecommons.org.evil.example/licenses/by/4.0/",
    "https://evil.example/creativecommons.org/licenses/by/4.0/",
    "https://wiki.creativecommons.org/wiki/CC0",
    "mailto:info@creativecommons.org",
    "",
]


@pytest.mark.parametrize("url, ident", sorted(URLS.items()))
def test_url_spellings(url, ident):
    assert normalise_cc_url(url) == ident


@pytest.mark.parametrize("url", NOT_LICENCES)
def test_not_licence_urls(url):
    assert normalise_cc_url(url) is None


# -- the tags that declare -------------------------------------------------------------------------
DECLARATIONS = [
    '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>',
    '<a href="https://creativecommons.org/licenses/by/4.0/" rel="license">CC BY</a>',
    "<a rel='license' href='https://creativecommons.org/licenses/by/4.0/deed.ja' title='クリエイティブ・コモンズ'>表示</a>",
    '<a rel=license href=https://creativecommons.org/licenses/by/4.0/>x</a>',
    '<A REL="License" HREF="https://creativecommons.org/licenses/by/4.0/">x</A>',
    '<a rel="noreferrer license" target="_blank" href="https://creativecommons.org/licenses/by/4.0/">x</a>',
    '<a class="license" rel="license noopener noreferrer" href="http://creativecommons.org/licenses/by/4.0/?ref=chooser-v1">x</a>',
    '<a\n  rel="license"\n  href="https://creativecommons.org/licenses/by/4.0/"\n>x</a>',
    '<a rel="cc:license" href="https://creativecommons.org/licenses/by/4.0/">x</a>',
    '<a data-note="a > b" rel="license" href="https://creativecommons.org/licenses/by/4.0/">x</a>',
    '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/" ><img alt="CC BY" src="https://i.creativecommons.org/l/by/4.0/88x31.png"></a>',
    '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/&#63;ref=x">x</a>',
]


@pytest.mark.parametrize("tag", DECLARATIONS)
def test_declarations(tag):
    for html in (page(tag), page(tag).encode("utf-8")):
        got = find_license(html)
        assert got is not None and got.license == "cc-by-4.0" and got.tag == "a", tag


def test_link_in_head():
    got = find_license(page("", '<link rel="license" href="https://creativecommons.org/licenses/by-sa/4.0/deed.en">'))
    assert got.license == "cc-by-sa-4.0" and got.tag == "link"


NOT_DECLARATIONS = [
    '<a href="https://creativecommons.org/licenses/by/4.0/">CC BY</a>',  # no rel=license
    '<a rel="nofollow" href="https://creativecommons.org/licenses/by-sa/4.0/deed.br">x</a>',
    '<a rel="licensed" href="https://creativecommons.org/licenses/by/4.0/">x</a>',
    '<a rel="license" href="https://www.gnu.org/licenses/gpl-3.0.html">GPL</a>',
    '<a rel="license" href="/license">利用規約</a>',
    '<img rel="license" src="https://creativecommons.org/licenses/by/4.0/">',
    '<link rel="canonical" href="https://creativecommons.org/licenses/by/4.0/">',
    '<!-- <a rel="license" href="https://creativecommons.org/licenses/by/4.0/">x</a> -->',
    '<p>このページは https://creativecommons.org/licenses/by/4.0/ で rel="license" です</p>',
    '<a xmlns:cc="http://creativecommons.org/ns#" href="https://example.jp/" property="cc:attributionName" rel="cc:attributionURL">x</a>',
]


@pytest.mark.parametrize("tag", NOT_DECLARATIONS)
def test_not_declarations(tag):
    assert find_license(page(tag)) is None


def test_first_declaration_wins_and_all_are_kept():
    body = ('<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">x</a>'
            '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/">y</a>'
            '<a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/deed.ja">z</a>')
    got = find_license(page(body, '<link rel="license" href="https://creativecommons.org/publicdomain/zero/1.0/">'))
    assert got.license == "cc0-1.0" and got.tag == "link"
    assert got.licenses == ("cc0-1.0", "cc-by-nc-4.0", "cc-by-4.0")


def test_no_html():
    assert find_license(None) is None and find_license("") is None and find_license(b"") is None


# -- against Python's HTML parser ---------------------------------------------------------------------
def reference_license(html: str):
    found = []
    first = ""
    for tag, attrs in reference_tags(html):
        if tag not in ("a", "link"):
            continue
        if not any(t in ("license", "cc:license") for t in attrs.get("rel", "").lower().split()):
            continue
        ident = normalise_cc_url(attrs.get("href", ""))
        if ident:
            first = first or tag
            if ident not in found:
                found.append(ident)
    return (found[0], tuple(found), first) if found else None


def _as_tuple(r):
    return None if r is None else (r.license, r.licenses, r.tag)


_HREFS = [*list(URLS)[:12], NOT_LICENCES[2], "https://example.jp/", "https://creativecommons.org/about/"]
_RELS = ["license", "LICENSE", "nofollow", "license noopener", "noopener", "cc:license", "licensed"]


@st.composite
def link_tag(draw):
    attrs = [("href", draw(st.sampled_from(_HREFS)).strip())]
    if draw(st.integers(0, 3)):
        attrs.append(("rel", draw(st.sampled_from(_RELS))))
    if draw(st.booleans()):
        attrs.append(("title", draw(st.sampled_from(["CC BY 4.0", "a > b", "表示 4.0 国際", "x' y"]))))
    attrs = draw(st.permutations(attrs))
    out = []
    for k, v in attrs:
        q = draw(st.sampled_from(['"', "'"] if "'" not in v else ['"']))
        out.append(f"{draw(st.sampled_from([' ', chr(10), '  ']))}{draw(st.sampled_from([k, k.upper()]))}={q}{v}{q}")
    name = draw(st.sampled_from(["a", "A", "link"]))
    return f"<{name}{''.join(out)}>" + ("x</a>" if name.lower() == "a" else "")


@st.composite
def body_soup(draw):
    pieces = draw(st.lists(st.one_of(
        link_tag(),
        st.sampled_from(["<p>本文</p>", "creativecommons.org ", "<div class=x>", "</div>", "<br/>",
                         '<img src="https://licensebuttons.net/l/by/4.0/88x31.png">',
                         '<!-- <a rel="license" href="https://creativecommons.org/licenses/by/4.0/">old</a> -->'])),
        max_size=10))
    return page("".join(pieces))


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body_soup())
def test_equals_pythons_html_parser(html):
    assert _as_tuple(find_license(html)) == reference_license(html)


@pytest.mark.shared
def test_shared_crawl_pages_agree_with_pythons_html_parser(shared_dir):
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.corpus.stage import Count
    from jawebcorpus.corpus.read import FileReport, ReadConfig, ReadStage, read_pages

    licensed = 0
    for inp in resolve_paths([str(shared_dir / "crawl")]):
        with open(inp.path, "rb") as f:
            for doc in read_pages(f, inp, ReadConfig(), Count(ReadStage), FileReport(inp.path, inp.rel, inp.snapshot)):
                html = decode_html(doc.body, doc.http_charset).text
                got = find_license(html)
                if "creativecommons" in html.lower():
                    assert _as_tuple(got) == reference_license(html), doc.url
                licensed += got is not None
    assert licensed >= 30  # 41 pages of the crawl declare one (none of its Japanese pages does)


# -- bounded and linear --------------------------------------------------------------------------------
def _find(html: str):
    return find_license(html)


HOSTILE = {
    "partial licence tags": '<a rel="license" href="https://creativecommons.org/licenses/by/4.0/"',
    "bare URLs": "creativecommons.org/",
    "URLs in one long tag": ' x="creativecommons.org"',
    "upper-case URLs": "CREATIVECOMMONS.ORG ",
    "comment openers around URLs": "<!--creativecommons.org",
    "'ommons.' look-alikes": "<a ommons.",
    "open tags": "<a ",
    "closed licence links": '<a rel=license href=//creativecommons.org/licenses/by/4.0/>x</a>',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hundred_thousand_partial_tags_in_linear_time(name):
    unit = HOSTILE[name]
    with BoundedRunner(seconds=2.0, memory=500 * MB) as runner:
        _, t_small, _ = runner.run(_find, "<a " + unit * 25_000)
        _, t_large, _ = runner.run(_find, "<a " + unit * 100_000)
    assert t_large < 8 * t_small + 0.05, (name, t_small, t_large)


def test_random_mutations_terminate():
    rng = random.Random(12)
    base = page("".join(DECLARATIONS)) * 3
    with BoundedRunner(seconds=2.0, memory=300 * MB) as runner:
        for _ in range(30):
            chars = list(base)
            for _ in range(rng.randint(1, 40)):
                chars[rng.randrange(len(chars))] = rng.choice('<>"\'=/ -!')
            runner.run(_find, "".join(chars))
