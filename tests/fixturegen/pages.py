"""HTML pages built from :mod:`.texts`: a labelled charset corpus and extraction pages.

:func:`charset_pages` is this project's counterpart of a labelled encoding test set: every
Japanese article in Shift_JIS (as cp932, with cp932-only characters), EUC-JP, ISO-2022-JP and
UTF-8, its charset declared in ``<meta charset>``, in ``<meta http-equiv>`` or nowhere; and
pages in the CJK encodings whose bytes look like Japanese ones (GBK, GB2312, Big5, EUC-KR,
Johab, ISO-2022-KR), from the written Chinese and Korean texts and from characters drawn at
random (fixed seed) from each encoding's own code table.  Each page carries its true codec and
its source text, so a test can demand the exact text back.

:func:`extraction_pages` wraps articles in navigation, breadcrumbs, a sidebar, share buttons
related articles, readers' comments, a footer and a cookie banner, and states what extraction
must return (every sentence of the article) and what it must not (every boilerplate string).
"""

from __future__ import annotations

import html as html_lib
import random
import re
from dataclasses import dataclass

from .texts import (COMMENTS, COOKIE, FOOTER, JA_ARTICLES, KO, KO_CHAT, NAV, RELATED, SIDEBAR, ZH_HANS,
                    ZH_HANT)

__all__ = [
    "LabelledPage", "article_html", "charset_pages", "japanese_pages", "confuser_pages",
    "ExtractionPage", "extraction_pages", "CP932_LINE", "JA_LABELS",
]

#: Python codec → the label a server or a <meta> tag writes for it.
JA_LABELS = {"cp932": "Shift_JIS", "euc_jp": "EUC-JP", "iso2022_jp": "ISO-2022-JP", "utf-8": "UTF-8"}
CONFUSER_LABELS = {"gbk": "GBK", "gb2312": "GB2312", "big5": "Big5", "euc_kr": "EUC-KR",
                   "johab": "Johab", "iso2022_kr": "ISO-2022-KR"}
#: A line only cp932 (Windows-31J) encodes: NEC circled digits, the fullwidth tilde of
#: Windows, the parenthesised 株; added to the Shift_JIS pages.
CP932_LINE = "受付は①窓口と②電話の二通りで、時間は九時～十七時です（運営：㈱みなと企画）。"


@dataclass(frozen=True)
class LabelledPage:
    name: str
    body: bytes
    codec: str  # the Python codec that truly decodes ``body``
    label: str  # what a server would declare for it
    declared: str  # "meta", "http-equiv" or "none": where the page itself declares it
    source: str  # the page as text: ``body`` decodes to exactly this
    japanese: bool


def article_html(title: str, paragraphs: list[list[str]], *, declare: str | None = None,
                 declared_as: str = "none", lang: str | None = None, extra: list[str] = (),
                 boilerplate: bool = False) -> str:
    """A page holding one article; ``declare`` is the charset label written where
    ``declared_as`` says (``meta``, ``http-equiv``; ``none`` writes nothing)."""
    head = []
    if declared_as == "meta":
        head.append(f'<meta charset="{declare}">')
    elif declared_as == "http-equiv":
        head.append(f'<meta http-equiv="Content-Type" content="text/html; charset={declare}">')
    head.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    head.append(f"<title>{html_lib.escape(title)}</title>")
    body = [f"<h1>{html_lib.escape(title)}</h1>"]
    for para in paragraphs:
        body.append("<p>" + "".join(html_lib.escape(s) for s in para) + "</p>")
    for line in extra:
        body.append(f"<p>{html_lib.escape(line)}</p>")
    article = "<article>\n" + "\n".join(body) + "\n</article>"
    if boilerplate:
        article = _wrap_in_boilerplate(article)
    else:
        article = "<main>\n" + article + "\n</main>"
    lang_attr = f' lang="{lang}"' if lang else ""
    return ("<!DOCTYPE html>\n"
            f"<html{lang_attr}>\n<head>\n" + "\n".join(head) + "\n</head>\n<body>\n"
            + article + "\n</body>\n</html>\n")


def _wrap_in_boilerplate(article: str) -> str:
    nav = "<nav class=\"global-nav\"><ul>" + "".join(
        f'<li><a href="/{i}/">{html_lib.escape(x)}</a></li>' for i, x in enumerate(NAV)) + "</ul></nav>"
    crumbs = ('<div class="breadcrumb"><a href="/">ホーム</a> &gt; <a href="/life/">'
              + html_lib.escape(NAV[2]) + "</a></div>")
    share = ('<div class="share"><span>この記事を共有する</span> <a href="/share/x">X</a> '
             '<a href="/share/fb">Facebook</a> <a href="/share/line">LINE</a></div>')
    side = ('<aside class="sidebar"><h2>' + html_lib.escape(SIDEBAR[0]) + "</h2><ol>" + "".join(
        f'<li><a href="/news/{i}.html">{html_lib.escape(x)}</a></li>' for i, x in enumerate(SIDEBAR[1:-1]))
        + "</ol><h2>" + html_lib.escape(SIDEBAR[-1]) + "</h2></aside>")
    foot = ('<footer><ul>' + "".join(f'<li><a href="/about/{i}">{html_lib.escape(x)}</a></li>'
                                     for i, x in enumerate(FOOTER[:-1]))
            + f"</ul><p class=\"copyright\">{html_lib.escape(FOOTER[-1])}</p></footer>")
    related = ('<section class="related"><h2>関連する記事</h2><ul>' + "".join(
        f'<li><a href="/news/r{i}.html">{html_lib.escape(x)}</a></li>' for i, x in enumerate(RELATED)) + "</ul></section>")
    comments = ('<section class="comments" id="comments"><h2>' + html_lib.escape(COMMENTS[0]) + "</h2>" + "".join(
        f'<div class="comment"><p class="comment-body">{html_lib.escape(x)}</p></div>' for x in COMMENTS[1:])
        + "</section>")
    cookie = f'<div class="cookie-banner" role="dialog">{html_lib.escape(COOKIE)}</div>'
    return (f'<header><div class="logo"><a href="/">みなと町だより</a></div>{nav}</header>\n'
            f'<div class="container">\n{crumbs}\n<main>\n{article}\n{share}\n{related}\n{comments}\n</main>\n'
            f'{side}\n</div>\n{foot}\n{cookie}')


def japanese_pages() -> list[LabelledPage]:
    """Every article × (cp932, EUC-JP, ISO-2022-JP, UTF-8), declarations rotating over
    meta / http-equiv / none, ``lang="ja"`` on every other page."""
    out = []
    decls = ("meta", "http-equiv", "none")
    for i, (name, (title, paras)) in enumerate(sorted(JA_ARTICLES.items())):
        for j, codec in enumerate(JA_LABELS):
            declared = decls[(i + j) % 3]
            extra = [CP932_LINE] if codec == "cp932" else []
            src = article_html(title, paras, declare=JA_LABELS[codec], declared_as=declared,
                               lang="ja" if (i + j) % 2 else None, extra=extra)
            out.append(LabelledPage(f"{name}.{codec}.{declared}", src.encode(codec), codec,
                                    JA_LABELS[codec], declared, src, True))
    return out


def _table_chars(codec: str, rows: range, cols: range) -> list[str]:
    """The characters of a double-byte code table (lead bytes ``rows``, trail bytes ``cols``)."""
    out = []
    for a in rows:
        for b in cols:
            try:
                ch = bytes((a, b)).decode(codec)
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and not ch.isspace():
                out.append(ch)
    return out


def _random_text(rng: random.Random, chars: list[str], n: int, punct: str) -> list[str]:
    """``n`` characters drawn from ``chars`` as sentences of 8–30 characters."""
    lines, left = [], n
    while left > 0:
        k = min(left, rng.randint(8, 30))
        lines.append("".join(rng.choice(chars) for _ in range(k)) + punct)
        left -= k
    return lines


def confuser_pages(seed: int = 20240301) -> list[LabelledPage]:
    """Chinese and Korean pages in the encodings whose bytes resemble Japanese ones."""
    rng = random.Random(seed)
    written = [
        (ZH_HANS, "gbk", "zh-CN"), (ZH_HANS, "gb2312", "zh-CN"), (ZH_HANT, "big5", "zh-TW"),
        (KO, "euc_kr", "ko"), (KO, "johab", "ko"), (KO, "iso2022_kr", "ko"), (KO_CHAT, "euc_kr", "ko"),
    ]
    # the code tables themselves: GB2312 level-1 hanzi (B0–D7), Big5 frequent hanzi (A4–C5),
    # KS X 1001 hangul syllables (B0–C8) — rows that overlap EUC-JP's and Shift_JIS's kanji
    generated = [
        ("gb2312", "zh-CN", _table_chars("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF)), "。"),
        ("big5", "zh-TW", _table_chars("big5", range(0xA4, 0xC6), range(0x40, 0xFF)), "。"),
        ("euc_kr", "ko", _table_chars("euc_kr", range(0xB0, 0xC9), range(0xA1, 0xFF)), "."),
    ]
    out = []
    for k, ((title, sents), codec, lang) in enumerate(written):
        for declared in ("meta", "none"):
            src = article_html(title, [sents], declare=CONFUSER_LABELS[codec], declared_as=declared,
                               lang=lang if declared == "meta" else None)
            name = f"{'ko_chat' if sents is KO_CHAT[1] else lang}.{codec}.{declared}"
            out.append(LabelledPage(name, src.encode(codec), codec, CONFUSER_LABELS[codec], declared, src, False))
    for codec, lang, chars, punct in generated:
        for declared in ("meta", "none"):
            lines = _random_text(rng, chars, 600, punct)
            src = article_html(f"{lang} {codec}", [lines], declare=CONFUSER_LABELS[codec], declared_as=declared)
            out.append(LabelledPage(f"random.{codec}.{declared}", src.encode(codec), codec,
                                    CONFUSER_LABELS[codec], declared, src, False))
    return out


def charset_pages() -> list[LabelledPage]:
    return japanese_pages() + confuser_pages()


@dataclass(frozen=True)
class ExtractionPage:
    name: str
    html: str
    must_contain: tuple[str, ...]  # every sentence of the article
    must_not_contain: tuple[str, ...]  # every boilerplate string


_SEMANTIC_TAGS = ("header", "nav", "main", "article", "section", "aside", "footer")


def _div_soup(src: str) -> str:
    """The same page without HTML5 sectioning elements: every one becomes a ``div`` whose class
    names what it was (older sites and many CMS themes look like this)."""
    for tag in _SEMANTIC_TAGS:
        src = re.sub(rf"<{tag}( class=\"([^\"]*)\")?", lambda m, t=tag: f'<div class="{t}-area{" " + m.group(2) if m.group(2) else ""}"', src)
        src = src.replace(f"</{tag}>", "</div>")
    return src


def extraction_pages() -> list[ExtractionPage]:
    """Each article inside a site's navigation, breadcrumbs, sidebar, share buttons, related
    articles, readers' comments, footer and cookie banner; once with HTML5 sectioning
    elements and once as nested ``div`` elements only."""
    out = []
    junk = tuple(NAV + SIDEBAR + FOOTER + RELATED + COMMENTS + [COOKIE, "この記事を共有する", "みなと町だより"])
    for name, (title, paras) in sorted(JA_ARTICLES.items()):
        src = article_html(title, paras, declare="UTF-8", declared_as="meta", lang="ja", boilerplate=True)
        sentences = tuple(s for p in paras for s in p)
        out.append(ExtractionPage(f"{name}.html5", src, sentences, junk))
        out.append(ExtractionPage(f"{name}.divs", _div_soup(src), sentences, junk))
    return out
