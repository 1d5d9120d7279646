"""Opt-out signals (``filters/optout.py``): TDMRep and noai in headers and ``<meta>``, the
look-alikes that are not opt-out, the precedence rules, and bounded linear parsing of hostile
pages (every page here is built in code; the real pages of ``../shared/crawl`` when present)."""

from __future__ import annotations

import itertools
import random
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _bounded import MB, BoundedRunner
from jawebcorpus.filters import optout
from jawebcorpus.filters.htmltags import parse_tag
from jawebcorpus.filters.optout import HEAD_SCAN_CHARS, SIGNALS, find_opt_out, robots_directives


def page(head: str = "", body: str = "<p>本文です。</p>") -> str:
    return f"<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>t</title>{head}</head><body>{body}</body></html>"


# -- what is an opt-out --------------------------------------------------------------------------
OPT_OUT_HEADERS = [
    ([("tdm-reservation", "1")], "tdm-reservation", None),
    ([("TDM-Reservation", " 1 ")], "tdm-reservation", None),
    ([("X-Robots-Tag", "noai")], "x-robots-tag:noai", None),
    ([("x-robots-tag", "noai, noimageai")], "x-robots-tag:noai", None),
    ([("X-Robots-Tag", "NOINDEX, NOAI")], "x-robots-tag:noai", None),
    ([("X-Robots-Tag", "noindex"), ("X-Robots-Tag", "noai")], "x-robots-tag:noai", None),  # the second header
    ([("X-Robots-Tag", "otherbot: noindex, noai")], "x-robots-tag:noai", "otherbot"),
    ([("X-Robots-Tag", "googlebot: noindex"), ("X-Robots-Tag", "CCBot: noai")], "x-robots-tag:noai", "ccbot"),
    ([("X-Robots-Tag", "max-snippet: 20, noai")], "x-robots-tag:noai", None),
    ([("X-Robots-Tag", "unavailable_after: 2030-01-01, noai noimageai")], "x-robots-tag:noai", None),
]


@pytest.mark.parametrize("headers, signal, agent", OPT_OUT_HEADERS)
def test_header_opt_out(headers, signal, agent):
    got = find_opt_out(headers, page())
    assert got is not None and got.signal == signal and got.agent == agent, got


OPT_OUT_METAS = [
    ('<meta name="tdm-reservation" content="1">', "meta-tdm-reservation", None),
    ("<META CONTENT='1' NAME='TDM-RESERVATION'>", "meta-tdm-reservation", None),
    ('<meta name=tdm-reservation content=1 />', "meta-tdm-reservation", None),
    ('<meta name="robots" content="noai">', "meta-robots:noai", None),
    ('<meta name="robots" content="noai, noimageai">', "meta-robots:noai", None),
    ('<meta content="noarchive,noai,noimageai,max-image-preview:large,max-snippet:-1" name="robots"/>',
     "meta-robots:noai", None),
    ('<meta name="ROBOTS" content="NoAI">', "meta-robots:noai", None),
    ('<meta name="robots" content="noimageai">\n<meta name="robots" content="noai">', "meta-robots:noai", None),
    ('<meta name="robots" content="noai&#44; noimageai">', "meta-robots:noai", None),
    ('<meta\nname="robots"\ncontent="index, follow, noai">', "meta-robots:noai", None),
    ('<meta name="CCBot" content="noai">', "meta-robots:noai", "ccbot"),
    ('<meta name="googlebot" content="noindex, noai, max-snippet: 20">', "meta-robots:noai", "googlebot"),
    ('<meta data-x="a>b" name="robots" content="noai">', "meta-robots:noai", None),  # '>' inside quotes
]


@pytest.mark.parametrize("head, signal, agent", OPT_OUT_METAS)
def test_meta_opt_out(head, signal, agent):
    for html in (page(head), page(head).encode("utf-8")):
        got = find_opt_out(None, html)
        assert got is not None and got.signal == signal and got.agent == agent, (head, got)


NOT_OPT_OUT = [
    ([], '<meta name="robots" content="noindex, nofollow">'),
    ([], '<meta name="robots" content="noimageai">'),
    ([], '<meta name="robots" content="none, noarchive, nosnippet">'),
    ([], '<meta name="robots" content="noaiindex">'),  # a token, not a prefix
    ([], '<meta name="tdm-reservation" content="0">'),
    ([], '<meta name="tdm-reservation" content="2">'),  # a protocol error: unset
    ([], '<meta name="tdm-reservation" content="yes">'),
    ([], '<meta name="tdm-policy" content="https://example.jp/policy.json">'),  # a policy alone
    ([], '<meta name="description" content="noai">'),
    ([], '<meta name="keywords" content="noai, AI, 機械学習">'),
    ([], '<meta name="note" content="noai と書かれたページについての記事">'),  # not only directives
    ([], '<meta property="og:title" content="noai">'),
    ([], '<!-- <meta name="robots" content="noai"> -->'),
    ([], '<script>document.write(\'<meta name="robots" content="noai">\')</script>'),
    ([], '<style>/* <meta name="robots" content="noai"> */</style>'),
    ([], '<meta http-equiv="X-Robots-Tag" content="noai">'),
    ([("X-Robots-Tag", "noindex, nofollow")], ""),
    ([("X-Robots-Tag", "noimageai")], ""),
    ([("tdm-reservation", "0")], ""),
    ([("tdm-reservation", "true")], ""),
    ([("tdm-policy", "https://example.jp/p.json")], ""),
    ([("X-Robots-Tag-Extra", "noai"), ("X-Noai", "1")], ""),
    ([("Link", '<https://example.jp/>; rel="noai"')], ""),
]


@pytest.mark.parametrize("headers, head", NOT_OPT_OUT)
def test_lookalikes_are_not_opt_out(headers, head):
    assert find_opt_out(headers, page(head)) is None


def test_text_mentioning_noai_in_the_body_is_not_opt_out():
    body = "<p>noai や tdm-reservation: 1 について解説します。name=\"robots\" content=\"noai\"</p>"
    assert find_opt_out(None, page("", body)) is None


# -- TDMRep precedence and policy ------------------------------------------------------------------
POLICY_H = "https://publisher.example/policies/header.json"
POLICY_M = "https://publisher.example/policies/meta.json"


def test_tdmrep_meta_supersedes_the_header():
    meta0 = '<meta name="tdm-reservation" content="0">'
    meta1 = f'<meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="{POLICY_M}">'
    hdr1 = [("tdm-reservation", "1"), ("tdm-policy", POLICY_H)]
    assert find_opt_out(hdr1, page(meta0)) is None
    got = find_opt_out([("tdm-reservation", "0")], page(meta1))
    assert got.signal == "meta-tdm-reservation" and got.tdm_policy == POLICY_M
    got = find_opt_out(hdr1, page(meta1))
    assert got.signals == ("tdm-reservation", "meta-tdm-reservation") and got.tdm_policy == POLICY_M
    # an invalid meta value does not reset the header's reservation; the header's policy stays
    got = find_opt_out(hdr1, page('<meta name="tdm-reservation" content="maybe">'))
    assert got.signal == "tdm-reservation" and got.tdm_policy == POLICY_H
    # a meta reservation without a policy keeps the header's policy
    got = find_opt_out(hdr1, page('<meta name="tdm-reservation" content="1">'))
    assert got.tdm_policy == POLICY_H
    # the policy is recorded only with a reservation
    assert find_opt_out([("tdm-policy", POLICY_H)], page()) is None


def test_every_signal_reported_in_priority_order():
    head = '<meta name="tdm-reservation" content="1"><meta name="robots" content="noai">'
    got = find_opt_out([("tdm-reservation", "1"), ("X-Robots-Tag", "noai")], page(head))
    assert got.signals == SIGNALS and got.signal == "tdm-reservation" and got.agent is None
    got = find_opt_out([("X-Robots-Tag", "botx: noai")], page('<meta name="robots" content="noai">'))
    assert got.signals == ("x-robots-tag:noai", "meta-robots:noai") and got.agent == "botx"


def test_a_dict_of_headers_is_read_too():
    assert find_opt_out({"X-Robots-Tag": "noai"}, None).signal == "x-robots-tag:noai"
    assert find_opt_out({"x-robots-tag": "noindex"}, None) is None


def test_repeated_tdm_values_reserve_when_any_is_one():
    assert find_opt_out([("tdm-reservation", "0"), ("tdm-reservation", "1")], page()).signal == "tdm-reservation"


def test_robots_directives():
    assert robots_directives("otherbot: noindex, noai") == [("otherbot", "noindex"), ("otherbot", "noai")]
    assert robots_directives("noindex, googlebot: noai, max-snippet: -1") == [
        (None, "noindex"), ("googlebot", "noai"), ("googlebot", "max-snippet")]
    assert robots_directives("") == []


def test_meta_beyond_the_head_window_is_not_read():
    filler = "<!-- " + "x" * (HEAD_SCAN_CHARS + 10) + " -->"
    assert find_opt_out(None, filler + '<meta name="robots" content="noai">') is None
    assert find_opt_out(None, "x" * 100 + '<meta name="robots" content="noai">').signal == "meta-robots:noai"


# -- the tag reader against Python's HTML parser -------------------------------------------------------
class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags = []

    def handle_starttag(self, tag, attrs):
        d = {}
        for k, v in attrs:
            d.setdefault(k, v or "")
        self.tags.append((tag, d))

    handle_startendtag = handle_starttag


def reference_tags(html: str) -> list:
    p = _Tags()
    p.feed(html)
    p.close()
    return p.tags


_NAMES = ["robots", "ROBOTS", "tdm-reservation", "tdm-policy", "description", "googlebot", "og:title"]
_CONTENTS = ["noai", "noai, noimageai", "noimageai", "1", "0", "noindex,nofollow", "a > b", "noai&amp;x", "x's", 'say "noai"']


@st.composite
def meta_tag(draw):
    attrs = [("name", draw(st.sampled_from(_NAMES))), ("content", draw(st.sampled_from(_CONTENTS)))]
    if draw(st.booleans()):
        attrs.append(("data-x", draw(st.sampled_from(["1", "a/b", "<meta>", "noai"]))))
    attrs = draw(st.permutations(attrs))
    parts = []
    for k, v in attrs:
        k = draw(st.sampled_from([k, k.upper()]))
        if '"' not in v and draw(st.booleans()):
            q = '"'
        elif "'" not in v:
            q = "'"
        else:
            q = '"'
            v = v.replace('"', "&quot;")
        if q == "'" and "'" in v:
            continue
        sep = draw(st.sampled_from([" ", "\n", "  ", "\t"]))
        eq = draw(st.sampled_from(["=", " = "]))
        parts.append(f"{sep}{k}{eq}{q}{v}{q}")
    close = draw(st.sampled_from([">", "/>", " />"]))
    return draw(st.sampled_from(["<meta", "<META", "<Meta"])) + "".join(parts) + close


@st.composite
def head_soup(draw):
    pieces = draw(st.lists(st.one_of(
        meta_tag(),
        st.sampled_from(["<title>t</title>", "<link rel=stylesheet href=a.css>", "text noai ", "<p>",
                         "<script>var s = '<meta name=robots content=noai>';</script>",
                         "<!-- <meta name=\"robots\" content=\"noai\"> -->", "<style>p{}</style>"])), max_size=12))
    return "<html><head>" + "".join(pieces) + "</head><body></body></html>"


def reference_opt_out(html: str):
    """The same decision from the tags Python's HTML parser sees (it skips comments, scripts, styles)."""
    res, policy, noai = None, None, []
    for tag, attrs in reference_tags(html):
        if tag != "meta":
            continue
        name, content = attrs.get("name", "").strip().lower(), attrs.get("content", "")
        if name == "tdm-reservation":
            v = optout._tdm_value(content)
            if v is not None:
                res = max(res or 0, v)
        elif name == "tdm-policy":
            policy = policy or content.strip() or None
        elif name:
            hit, agent = optout._meta_noai(name, content)
            if hit:
                noai.append(agent)
    return res, policy, noai


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(head_soup())
def test_meta_reading_equals_pythons_html_parser(html):
    assert optout.html_opt_out(html) == reference_opt_out(html)


@settings(max_examples=300, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet='<>="\' /abmetnirocds-1', max_size=60))
def test_parse_tag_never_fails_and_moves_forward(s):
    for i, ch in enumerate(s):
        if ch == "<":
            tag = parse_tag(s, i)
            if tag is not None:
                assert i < tag.end <= len(s)
                assert tag.closed == (s[tag.end - 1] == ">" and tag.end <= len(s))


@pytest.mark.shared
def test_shared_crawl_pages_agree_with_pythons_html_parser(shared_dir):
    """Every page of ../shared/crawl: the same decision as from Python's HTML parser's tags,
    and the six real pages with ``<meta name="robots" content="…noai…">`` are found."""
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.corpus.stage import Count
    from jawebcorpus.corpus.read import FileReport, ReadConfig, ReadStage, read_pages

    found = 0
    pages = 0
    for inp in resolve_paths([str(shared_dir / "crawl")]):
        with open(inp.path, "rb") as f:
            for doc in read_pages(f, inp, ReadConfig(), Count(ReadStage), FileReport(inp.path, inp.rel, inp.snapshot)):
                html = decode_html(doc.body, doc.http_charset).text
                pages += 1
                got = optout.html_opt_out(html)
                head = html[:HEAD_SCAN_CHARS]
                if "noai" in head.lower() or "tdm-" in head.lower():
                    assert got == reference_opt_out(head), doc.url
                found += find_opt_out(None, html) is not None
    assert pages > 1000
    assert found == 6


# -- bounded and linear --------------------------------------------------------------------------------
def _scan(html: str):
    return find_opt_out([("X-Robots-Tag", html[:100_000])], html)


def _scan_whole(html: str):
    """Without the head window: the scanner itself must be linear, not only cut short."""
    return find_opt_out([("X-Robots-Tag", html[:100_000])], html, scan_chars=len(html))


HOSTILE = {
    "partial meta tags": '<meta name="robots" content="noai',
    "open meta tags": "<meta ",
    "metas with noai, no '>'": "<meta noai ",
    "unclosed quotes": '<meta name="robots" content="noai" x="',
    "comment openers": "<!--",
    "script openers": "<script>",
    "style openers": "<style ",
    "tdm metas": '<meta name=tdm-reservation content=1 ',
    "closed noai metas": '<meta name="robots" content="noai">',
    "attribute soup": "<meta a=b c='d' e=\"f\" noai ",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hundred_thousand_partial_tags_in_linear_time(name):
    unit = HOSTILE[name]
    small, large = unit * 25_000, unit * 100_000
    with BoundedRunner(seconds=2.0, memory=500 * MB) as runner:
        runner.run(_scan, large)  # the default window: well under the limit
        _, t_small, _ = runner.run(_scan_whole, small)
        _, t_large, _ = runner.run(_scan_whole, large)
    # 4x the input: linear is about 4x, quadratic 16x; tiny timings are noisy
    assert t_large < 8 * t_small + 0.05, (name, t_small, t_large)


def test_random_mutations_of_real_heads_terminate():
    rng = random.Random(11)
    base = page("".join(h for h, _, _ in OPT_OUT_METAS)) * 3
    with BoundedRunner(seconds=2.0, memory=300 * MB) as runner:
        for _ in range(30):
            chars = list(base)
            for _ in range(rng.randint(1, 40)):
                i = rng.randrange(len(chars))
                chars[i] = rng.choice('<>"\'=/ -!')
            runner.run(_scan, "".join(chars))


def test_header_values_are_bounded():
    huge = ", ".join(itertools.repeat("noindex", 200_000)) + ", noai"
    assert find_opt_out([("X-Robots-Tag", huge)], None) is None  # past the 8 KiB read of a value
    many = [("X-Robots-Tag", "noindex")] * 100 + [("X-Robots-Tag", "noai")]
    assert find_opt_out(many, None) is None  # past the 64 relevant headers read
