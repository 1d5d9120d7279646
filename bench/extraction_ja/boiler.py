"""Site templates of the Japanese extraction set (see build.py): each ``site_*`` function wraps
a page's rendered content blocks in the markup and boilerplate of one kind of Japanese site.

Everything here except the content blocks is boilerplate by definition: it never enters the
ground truth.  Names, places, companies and addresses are invented (``.example`` domains)."""

from __future__ import annotations

import hashlib
import html
import json
import re

E = html.escape

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline_html(text: str) -> str:
    out = html.escape(text, quote=False)
    out = _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', out)
    return _BOLD.sub(r"<strong>\1</strong>", out)


def inline_text(text: str) -> str:
    return _BOLD.sub(r"\1", _LINK.sub(r"\1", text))



HEADLINES = [
    "新駅の名称が決定、来春開業へ", "県内の公立高校、入試倍率を発表", "円相場、一時１ドル＝１５２円台に",
    "人気ラーメン店が閉店へ　４０年の歴史に幕", "市議会、新年度予算案を可決", "週末は広い範囲で雨　気温は平年並み",
    "新型車両の試乗会に長い列", "地元産イチゴの出荷ピーク", "プロ野球、開幕投手が決まる",
    "国際線の発着枠、拡大へ", "中学生がロボット大会で優勝", "古民家カフェが相次ぎ開業",
    "電気料金、来月から値上げ", "花火大会の日程発表　有料席は倍増", "スマホ決済の還元キャンペーン始まる",
    "住宅ローン金利、３か月連続で上昇", "空き家バンクの登録件数が過去最多", "渋滞予測、お盆休みのピークは１３日",
    "図書館の電子書籍サービス、利用者が倍増", "地震保険料、全国平均で引き上げ", "朝ドラのロケ地に観光客",
    "高齢ドライバーの免許返納、前年比１割増", "大学発ベンチャーが資金調達", "伝統工芸の後継者育成へ新制度",
]

SHARE = ('<div class="share-buttons"><span class="share-label">この記事をシェアする</span>'
         '<a class="share-x" href="https://x.example/intent/post">ポスト</a>'
         '<a class="share-fb" href="https://facebook.example/sharer">シェア</a>'
         '<a class="share-line" href="https://line.example/share">LINEで送る</a>'
         '<a class="share-hatena" href="https://b.hatena.example/entry">はてなブックマーク</a>'
         '<button class="copy-link" type="button">リンクをコピー</button></div>')

COOKIE = ('<div id="cookie-banner" class="cookie-consent" role="dialog"><p>当サイトでは、サービスの向上と'
          '広告配信のためにCookieを利用しています。サイトの閲覧を続けることで、Cookieの利用に同意したものと'
          'みなします。詳しくは<a href="/privacy/">プライバシーポリシー</a>をご確認ください。</p>'
          '<button type="button" class="cookie-accept">同意して閉じる</button></div>')

ANALYTICS = ('<script async src="https://www.googletagmanager.example/gtag/js?id=G-XXXX"></script>\n'
             '<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}'
             'gtag("js",new Date());gtag("config","G-XXXX");</script>')


def _h(s: str, n: int = 8) -> str:
    return hashlib.sha1(s.encode()).hexdigest()[:n]


def links(items, cls: str = "", href: str = "/") -> str:
    lis = "".join(f'<li><a href="{href}{_h(t, 6)}/">{E(t)}</a></li>' for t in items)
    return f'<ul class="{cls}">{lis}</ul>' if cls else f"<ul>{lis}</ul>"


def head(title: str, extra: str = "", lang: str = "ja") -> str:
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{E(title)}</title>\n'
            f'<meta property="og:title" content="{E(title)}">\n<meta property="og:type" content="article">\n'
            f'<link rel="stylesheet" href="/assets/css/style.css?v=20240301">\n{ANALYTICS}\n{extra}</head>\n')


# -- content blocks ---------------------------------------------------------------------------------
def render_blocks(blocks, *, para=None, edit_links=False, heading_cls="", ad_label="スポンサーリンク") -> str:
    para = para or (lambda t: f"<p>{inline_html(t)}</p>")
    out = []
    for kind, v in blocks:
        if kind == "p":
            out.append(para(v))
        elif kind in ("h2", "h3"):
            edit = '<span class="mw-editsection">[<a href="?action=edit">編集</a>]</span>' if edit_links else ""
            cls = f' class="{heading_cls}"' if heading_cls else ""
            out.append(f'<{kind}{cls} id="h-{_h(v, 6)}">{inline_html(v)}{edit}</{kind}>')
        elif kind in ("ul", "ol"):
            out.append(f"<{kind}>" + "".join(f"<li>{inline_html(i)}</li>" for i in v) + f"</{kind}>")
        elif kind == "table":
            head_row = "".join(f"<th>{inline_html(c)}</th>" for c in v[0])
            body = "".join("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in row) + "</tr>" for row in v[1:])
            out.append(f'<table class="table"><thead><tr>{head_row}</tr></thead><tbody>{body}</tbody></table>')
        elif kind == "dl":
            out.append("<dl>" + "".join(f"<dt>{inline_html(t)}</dt><dd>{inline_html(d)}</dd>" for t, d in v) + "</dl>")
        elif kind == "pre":
            out.append(f'<pre><code class="language-python">{E(v)}</code></pre>')
        elif kind == "quote":
            out.append(f"<blockquote><p>{inline_html(v)}</p></blockquote>")
        elif kind == "br":
            paras = [p for p in v.split("\n\n")]
            out.append("<br>\n<br>\n".join("<br>\n".join(inline_html(line) for line in p.split("\n")) for p in paras)
                       + "<br>")
        elif kind == "post":
            raise ValueError("post blocks are rendered by the forum template")
        elif kind == "ad":
            out.append(f'<div class="ad-box"><span class="ad-label">{ad_label}</span>'
                       f'<a href="https://ad.example/click?c={_h(v)}" rel="sponsored">{E(v)}</a></div>')
        elif kind == "share":
            out.append(SHARE)
        elif kind == "caption":
            out.append(f'<figure class="photo"><img src="/img/{_h(v)}.jpg" alt="" width="640" height="427">'
                       f"<figcaption>{E(v)}</figcaption></figure>")
        elif kind == "related":
            out.append(f'<p class="related-link">【関連記事】<a href="/articles/{_h(v)}">{E(v)}</a></p>')
        elif kind == "pullquote":
            out.append(f'<div class="pull-quote"><p>{E(v)}</p></div>')
        elif kind == "note":
            out.append(f'<div class="notice-box"><p>{E(v)}</p></div>')
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    return "\n".join(out)


def comments_html(comments, cls="comment-list") -> str:
    items = "".join(
        f'<li class="comment"><div class="comment-author"><b>{E(n)}</b> <span class="comment-date">{E(d)}</span></div>'
        f'<div class="comment-body"><p>{E(t)}</p></div><a class="reply" href="#respond">返信</a></li>'
        for n, d, t in comments)
    return f'<ol class="{cls}">{items}</ol>'


def render(page: dict) -> str:
    from sites import SITES  # the site templates use the helpers above

    return SITES[page["site"]](page)


def jsonld(obj: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj, ensure_ascii=False)}</script>\n'
