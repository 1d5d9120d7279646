"""The site templates of the Japanese extraction set (see build.py and boiler.py).

Each function takes a page (``id``, ``title``, ``date``, ``blocks`` and optional ``comments``,
``tags``, ``author``) and returns the whole HTML document.  Only the content blocks enter the
ground truth; everything a template adds is boilerplate."""

from __future__ import annotations

from boiler import COOKIE, E, HEADLINES, SHARE, _h, comments_html, head, inline_html, jsonld, links, render_blocks


def _pick(page, n, offset=0):
    k = int(_h(page["id"]), 16)
    return [HEADLINES[(k + offset + 5 * i) % len(HEADLINES)] for i in range(n)]


# -- national newspaper: semantic <article>, share bar, inline ads, related, ranking ----------------
def news_a(page):
    body = render_blocks(page["blocks"], ad_label="広告")
    nav = links(["トップ", "速報", "政治", "経済", "国際", "社会", "スポーツ", "文化・芸能", "科学", "地域", "オピニオン",
                 "動画", "写真", "天気"], "global-nav__list", "/category/")
    ld = jsonld({"@context": "https://schema.org", "@type": "NewsArticle", "headline": page["title"],
                 "datePublished": page["date"], "publisher": {"@type": "Organization", "name": "日刊みらい新聞"}})
    return (head(f"{page['title']}：日刊みらい新聞デジタル", ld) + '<body class="page-article">\n' + COOKIE +
            '\n<header class="site-header"><div class="site-header__logo"><a href="/">日刊みらい新聞デジタル</a></div>'
            '<form class="search" action="/search"><input type="text" name="q" placeholder="記事を検索"><button>検索</button></form>'
            '<div class="member"><a href="/login">ログイン</a><a href="/signup">会員登録（無料）</a></div>'
            f'<nav class="global-nav">{nav}</nav></header>\n'
            '<div class="breadcrumb"><ol><li><a href="/">トップ</a></li><li><a href="/category/society/">社会</a></li>'
            f'<li>{E(page["title"])}</li></ol></div>\n'
            '<main id="main" class="l-main"><article class="article">\n<header class="article__header">'
            f'<h1 class="article__title">{E(page["title"])}</h1><div class="article__meta"><time datetime="{page["date"]}">'
            f'{E(page["date"])}</time> <span class="article__author">{E(page.get("author", "社会部"))}</span></div>{SHARE}</header>\n'
            f'<div class="article__body">\n{body}\n</div>\n'
            '<div class="article__tags">タグ：' + " ".join(f'<a href="/tag/{_h(t, 4)}">{E(t)}</a>' for t in page.get("tags", ["地域"])) +
            '</div>\n<div class="paywall-note">この記事は会員限定記事を含みます。続きは会員登録でお読みいただけます。</div>\n'
            f'<section class="related"><h2>関連記事</h2>{links(_pick(page, 5), "related__list", "/articles/")}</section>\n'
            '</article>\n<aside class="sidebar"><section class="ranking"><h2>アクセスランキング</h2>'
            f'{links(_pick(page, 10, 3), "ranking__list", "/articles/")}</section>'
            '<section class="pickup"><h2>編集部のおすすめ</h2>' + links(_pick(page, 4, 11), "pickup__list", "/articles/") +
            '</section></aside></main>\n<footer class="site-footer">' +
            links(["会社案内", "個人情報の取り扱い", "著作権について", "広告掲載", "お問い合わせ", "採用情報", "サイトマップ"], "footer-links", "/info/") +
            '<p class="copyright">Copyright © 日刊みらい新聞社 All rights reserved. 記事・写真の無断転載を禁じます。</p></footer>\n'
            '<a href="#top" class="pagetop">ページの先頭へ</a>\n</body>\n</html>\n')


# -- regional news on a JavaScript framework: hashed class names, no article/main ------------------
def news_b(page):
    def para(t):
        return f'<p class="sc-{_h(t, 5)} eKvNpq">{t}</p>'

    body = render_blocks(page["blocks"], para=lambda t: para(inline_html(t)), heading_cls="sc-hd1 bXzYtR")
    nav = "".join(f'<a class="css-1q2w3e" href="/{_h(c, 4)}">{E(c)}</a>' for c in
                  ["ニュース", "県内", "全国", "スポーツ", "くらし", "グルメ", "イベント", "天気", "特集"])
    return (head(f"{page['title']} | みなと県ニュース", '<script id="__NEXT_DATA__" type="application/json">'
                 '{"props":{"pageProps":{"id":"' + _h(page["id"]) + '"}},"buildId":"aZ3x9"}</script>\n') +
            '<body><div id="__next"><div class="css-k008qs">\n'
            f'<div class="css-1y5a8b"><div class="css-9pa8cd">みなと県ニュース</div><div class="css-4rbku5">{nav}</div></div>\n'
            '<div class="css-app-banner">アプリなら最新ニュースをプッシュ通知でお届け<a href="/app">ダウンロード</a></div>\n'
            '<div class="css-1dbjc4n r-13awgt0"><div class="css-1dbjc4n r-1jgb5lz">\n'
            f'<div class="css-901oao r-title"><span>{E(page["title"])}</span></div>\n'
            f'<div class="css-901oao r-date">{E(page["date"])}　みなと県ニュース</div>\n'
            '<div class="css-photo"><img src="/p/' + _h(page["id"]) + '.jpg" alt=""><div class="css-caption">この記事の写真をみる（3枚）</div></div>\n'
            f'<div class="css-1dbjc4n r-body">\n{body}\n</div>\n'
            '<div class="css-follow">みなと県ニュースをフォローして最新情報を受け取る<button>フォロー</button></div>\n'
            '<div class="css-more"><div class="css-more-h">こちらもおすすめ</div>' +
            "".join(f'<a class="css-card" href="/a/{_h(t, 6)}"><div class="css-card-t">{E(t)}</div><div class="css-card-d">2時間前</div></a>'
                    for t in _pick(page, 6, 2)) + '</div>\n</div>\n'
            '<div class="css-side"><div class="css-side-h">よく読まれている記事</div>' +
            "".join(f'<a class="css-rank" href="/a/{_h(t, 6)}"><span>{i + 1}</span>{E(t)}</a>' for i, t in enumerate(_pick(page, 8, 7))) +
            '</div></div>\n<div class="css-footer"><a href="/about">このサイトについて</a><a href="/terms">利用規約</a>'
            '<a href="/privacy">プライバシーポリシー</a><div>© みなと県ニュース</div></div>\n</div></div></body>\n</html>\n')


# -- WordPress blog: entry-content, toc, ads, author box, comments, sidebar widgets ---------------
def blog_wp(page):
    body = render_blocks(page["blocks"])
    heads = [v for k, v in page["blocks"] if k == "h2"]
    toc = ('<div class="toc"><div class="toc-title">目次</div><ol class="toc-list">' +
           "".join(f'<li><a href="#h-{_h(h, 6)}">{E(h)}</a></li>' for h in heads) + "</ol></div>") if heads else ""
    comments = page.get("comments", [])
    cm = (f'<div id="comment-area" class="comment-area"><h2 id="comments">コメント</h2>{comments_html(comments, "commets-list")}</div>'
          if comments else "")
    return (head(f"{page['title']} | ゆるっと暮らしノート") + '<body class="post-template-default single">\n'
            '<div id="container"><header id="header"><div class="logo"><a href="/">ゆるっと暮らしノート</a></div>'
            '<div class="tagline">30代会社員のゆるい節約とアウトドアの記録</div>' +
            links(["ホーム", "キャンプ", "節約・お金", "読書", "暮らし", "プロフィール", "お問い合わせ"], "navi-in", "/category/") +
            '</header>\n<div id="content" class="content cf"><main id="main" class="main">\n'
            '<article id="post-' + _h(page["id"], 4) + '" class="article post type-post">\n'
            '<div class="breadcrumb"><span><a href="/">ホーム</a></span> &gt; <span><a href="/category/">' +
            E(page.get("category", "暮らし")) + '</a></span></div>\n'
            f'<header class="article-header entry-header"><h1 class="entry-title">{E(page["title"])}</h1>'
            f'<div class="date-tags"><span class="post-date">{E(page["date"])}</span></div></header>\n'
            f'{SHARE}\n<div class="ad-area"><span class="ad-label">スポンサーリンク</span><ins class="adsbygoogle"></ins></div>\n'
            f'<div class="entry-content cf" itemprop="mainEntityOfPage">\n{toc}\n{body}\n</div>\n'
            '<div class="ad-area"><span class="ad-label">スポンサーリンク</span><ins class="adsbygoogle"></ins></div>\n'
            f'{SHARE}\n<div class="author-box"><div class="author-name">この記事を書いた人　ゆるっと</div>'
            '<p>都内在住の会社員。週末はソロキャンプ、平日は節約ごはん。ブログ歴8年。</p></div>\n'
            '<div class="under-entry-content"><h2 class="related-entry-heading">関連記事</h2>' +
            links(_pick(page, 4, 5), "related-list", "/") + '</div>\n'
            '<div class="pager-post-navi"><a class="prev-post" href="/prev/">前の記事：春の節約まとめ</a>'
            '<a class="next-post" href="/next/">次の記事：寝袋を洗ってみた</a></div>\n'
            f'{cm}\n<div id="respond" class="comment-respond"><h3>コメントを書き込む</h3><form><textarea name="comment"></textarea>'
            '<input type="text" name="author" placeholder="名前"><button>コメントを送信</button></form></div>\n'
            '</article></main>\n<div id="sidebar" class="sidebar"><aside class="widget"><h3>プロフィール</h3>'
            '<p>ゆるっと：ソロキャンプと節約が趣味の会社員です。</p></aside><aside class="widget"><h3>カテゴリー</h3>' +
            links(["キャンプ (42)", "節約・お金 (58)", "読書 (23)", "暮らし (77)"], "", "/category/") +
            '</aside><aside class="widget"><h3>最近の投稿</h3>' + links(_pick(page, 5, 9), "", "/") +
            '</aside><aside class="widget"><h3>アーカイブ</h3>' +
            links(["2024年3月", "2024年2月", "2024年1月", "2023年12月"], "", "/archive/") +
            '</aside></div></div>\n<footer id="footer"><div class="footer-menu"><a href="/privacy/">プライバシーポリシー</a>'
            '<a href="/contact/">お問い合わせ</a></div><div class="copyright">© 2024 ゆるっと暮らしノート.</div></footer>\n'
            '<div class="go-to-top"><a href="#">ページの先頭へ</a></div></div>\n</body>\n</html>\n')


# -- hosted diary blog: text lines separated by <br>, no <p>; likes, reblog, profile ---------------
def blog_br(page):
    body = render_blocks(page["blocks"])
    return (head(f"{page['title']}｜{page.get('blog', 'ひだまり日記')}") +
            '<body><div id="app"><div class="skin-header"><div class="skin-blogTitle"><a href="/">' +
            E(page.get("blog", "ひだまり日記")) + '</a></div><div class="skin-blogSubTitle">のんびり毎日を綴ります</div></div>\n'
            '<div class="skin-globalNav"><a href="/">ブログトップ</a><a href="/entrylist.html">記事一覧</a>'
            '<a href="/imagelist.html">画像一覧</a></div>\n'
            '<div class="skin-main"><div class="skin-entry"><div class="skin-entryHead">'
            f'<h2 class="skin-entryTitle"><a href="/entry-{_h(page["id"])}.html">{E(page["title"])}</a></h2>'
            f'<div class="skin-entryPubdate"><time>{E(page["date"])}</time></div>'
            '<div class="skin-entryThemes">テーマ：<a href="/theme/">ブログ</a></div></div>\n'
            f'<div class="skin-entryBody _2p3a8Bt" data-uranus-component="entryBody">\n{body}\n</div>\n'
            '<div class="skin-reaction"><button class="js-like">いいね！</button><span class="like-count">' +
            str(int(_h(page["id"], 2), 16) % 40 + 3) + '</span><a href="#comment">コメント(' +
            str(len(page.get("comments", []))) + ')</a><a href="/reblog/">リブログ</a></div>\n'
            '<div class="skin-entryNav"><a href="/prev">＜前の記事</a><a href="/next">次の記事＞</a></div>\n'
            '<div class="skin-comment" id="comment">' + comments_html(page.get("comments", []), "skin-commentList") +
            '</div></div>\n<div class="skin-side"><div class="skin-profile"><div class="skin-profileTitle">プロフィール</div>'
            '<p>' + E(page.get("profile", "主婦です。料理とお散歩が好き。")) + '</p><button>フォロー</button></div>'
            '<div class="skin-ranking"><div>人気記事</div>' + links(_pick(page, 5, 4), "", "/entry-") + '</div>'
            '<div class="skin-calendar">カレンダー</div></div></div>\n'
            '<div class="skin-footer"><a href="/">ブログをはじめる</a><a href="/help">ヘルプ</a><span>Copyright © BlogHost</span></div>'
            '\n</div></body>\n</html>\n')


# -- online shop: product detail, price box, spec table, reviews, recommendations -------------------
def ec(page):
    body = render_blocks(page["blocks"])
    reviews = "".join(f'<div class="review"><div class="review-stars">★★★★☆</div><div class="review-title">{E(n)}</div>'
                      f'<div class="review-date">{E(d)}</div><p class="review-text">{E(t)}</p>'
                      '<button>参考になった</button></div>' for n, d, t in page.get("comments", []))
    cats = ["キッチン家電", "生活家電", "食品・飲料", "スポーツ・アウトドア", "ファッション", "インテリア", "ビューティー", "ベビー・キッズ"]
    ld = jsonld({"@context": "https://schema.org", "@type": "Product", "name": page["title"],
                 "offers": {"@type": "Offer", "price": page.get("price", "3980"), "priceCurrency": "JPY"}})
    return (head(f"{page['title']}｜くらしの市場 公式通販", ld) + '<body class="item-detail">\n' + COOKIE +
            '\n<header class="hd"><a class="hd-logo" href="/">くらしの市場</a><form class="hd-search"><input name="kw" placeholder="キーワードで探す">'
            '<button>検索</button></form><a href="/cart">カート</a><a href="/mypage">マイページ</a><a href="/login">ログイン</a></header>\n'
            '<div class="campaign-bar">【期間限定】全品ポイント5倍！　5,000円以上で送料無料</div>\n'
            f'<nav class="cat-nav">{links(cats, "cat-list", "/c/")}</nav>\n'
            '<div class="topic-path"><a href="/">ホーム</a> ＞ <a href="/c/">' + E(page.get("category", "キッチン家電")) +
            f'</a> ＞ <span>{E(page["title"])}</span></div>\n'
            '<div id="item-detail" class="item-wrap"><div class="item-images"><img src="/i/' + _h(page["id"]) + '.jpg" alt="' +
            E(page["title"]) + '"></div>\n<div class="item-info">'
            f'<h1 class="item-name">{E(page["title"])}</h1><div class="item-code">商品番号：{_h(page["id"], 8).upper()}</div>'
            f'<div class="item-price"><span class="price">{E(page.get("price_text", "3,980円"))}</span>（税込）'
            '<span class="point">獲得ポイント：36pt</span></div><div class="stock">在庫あり：通常1〜3営業日以内に発送</div>'
            '<div class="qty">数量 <select><option>1</option><option>2</option></select></div>'
            '<button class="add-cart">カートに入れる</button><button class="fav">お気に入りに追加</button>'
            '<ul class="item-notes"><li>ギフトラッピング対応</li><li>返品・交換についてはこちら</li></ul></div>\n'
            f'<div class="item-description"><h2 class="sec-title">商品説明</h2>\n{body}\n</div>\n'
            f'<div class="item-review"><h2 class="sec-title">カスタマーレビュー</h2><div class="review-avg">★4.3（{len(page.get("comments", []))}件）</div>{reviews}'
            '<a href="/reviews/">すべてのレビューを見る</a></div>\n'
            '<div class="recommend"><h2>この商品を見た人はこんな商品も見ています</h2>' +
            "".join(f'<div class="rec-item"><a href="/i/{_h(c + str(i), 6)}">{E(c)} おすすめ商品{i + 1}</a><span>2,980円</span></div>'
                    for i, c in enumerate(cats[:6])) + '</div></div>\n'
            '<footer class="ft"><div class="ft-guide"><h3>ご利用ガイド</h3>' +
            links(["お支払い方法", "配送・送料について", "返品・交換", "よくある質問", "お問い合わせ"], "", "/guide/") +
            '</div><div class="ft-company">運営会社：株式会社くらしの市場　<a href="/tokushoho">特定商取引法に基づく表記</a></div>'
            '<small>© Kurashi no Ichiba Co., Ltd.</small></footer>\n</body>\n</html>\n')


# -- Q&A site: the question and its answers are the content ----------------------------------------
def qa(page):
    blocks = page["blocks"]
    q = [b for b in blocks if b[0] != "post"]
    answers = [b for b in blocks if b[0] == "post"]
    ans_html = ""
    for i, (_, (hdr, text)) in enumerate(answers):
        best = '<div class="best-label">ベストアンサー</div>' if i == 0 else ""
        paras = "".join(f"<p>{E(line)}</p>" for line in text.split("\n") if line.strip())
        ans_html += (f'<div class="answer{" best" if i == 0 else ""}">{best}<div class="answer-user">{E(hdr)}</div>'
                     f'<div class="answer-body">{paras}</div><div class="answer-foot"><button>ナイス！</button>'
                     f'<span>{(i * 7 + 3) % 20}</span><a href="/report">違反報告</a></div></div>\n')
    return (head(f"{page['title']} - みんなの知恵袋") + '<body>\n<div class="header"><a href="/">みんなの知恵袋</a>'
            '<a href="/ask" class="btn-ask">質問する</a><a href="/login">ログイン</a></div>\n'
            '<div class="category-path"><a href="/">トップ</a> &gt; <a href="/dir/">' + E(page.get("category", "暮らしと生活ガイド")) +
            '</a></div>\n<div class="main-col"><div class="question-box"><div class="question-user">' +
            E(page.get("author", "dai*****さん")) + f'</div>\n<h1 class="question-title">{E(page["title"])}</h1>\n'
            f'<div class="question-text">{render_blocks(q)}</div>\n<div class="question-meta">{E(page["date"])}　'
            '<button>共感した</button><span>12</span>　<span>閲覧数：3,456</span>　<span>回答数：' + str(len(answers)) +
            '</span></div></div>\n<div class="ad-rect">広告</div>\n<div class="answers"><h2>回答</h2>\n' + ans_html + '</div>\n'
            '<div class="related-q"><h2>関連する質問</h2>' + links(_pick(page, 5, 1), "", "/q/") + '</div></div>\n'
            '<div class="side-col"><div class="box"><h3>カテゴリマスター</h3><p>回答してポイントを獲得しよう</p></div>'
            '<div class="box"><h3>急上昇の質問</h3>' + links(_pick(page, 5, 6), "", "/q/") + '</div></div>\n'
            '<div class="footer"><a href="/guide">ヘルプ・お問い合わせ</a><a href="/terms">利用規約</a>'
            '<span>© MinnanoChie</span></div>\n</body>\n</html>\n')


# -- anonymous forum thread (2ch style): dl/dt/dd, the post bodies are the content ---------------------
def forum(page):
    posts = [v for k, v in page["blocks"] if k == "post"]
    dl = "".join(f'<dt>{i + 1} ：<font color="green"><b>{E(h)}</b></font></dt><dd> ' +
                 "<br>".join(E(x) for x in body.split("\n")) + " <br><br></dd>\n" for i, (h, body) in enumerate(posts))
    return ('<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8">' f'<title>{E(page["title"])}</title>'
            '<style>body{background:#efefef}dt{margin-top:8px}</style></head>\n<body>\n'
            '<div class="menu"><a href="/">■掲示板に戻る■</a> <a href="./">全部</a> <a href="./1-100">1-</a> '
            '<a href="./l50">最新50</a></div>\n<div class="ad-top">PR　<a href="https://ad.example/">格安SIMなら月額990円から</a></div>\n'
            f'<h1><font color="red">{E(page["title"])}</font></h1>\n<dl class="thread">\n{dl}</dl>\n'
            '<hr><div class="menu"><a href="./">全部読む</a> <a href="./l50">最新50</a> <a href="./1-100">1-100</a> '
            '<a href="#top">板のトップ</a> <a href="/">リロード</a></div>\n<form><textarea name="MESSAGE"></textarea>'
            '<input type="submit" value="書き込む"> 名前： <input name="FROM"> E-mail： <input name="mail"></form>\n'
            '<div class="footer">read.cgi ver 07.7.3 2024/01/15<br>掲示板管理人へのお問い合わせは<a href="/contact">こちら</a></div>\n'
            '</body></html>\n')


# -- recipe site: ingredients and steps, user reports, save button ---------------------------------
def recipe(page):
    body = render_blocks(page["blocks"])
    ld = jsonld({"@context": "https://schema.org", "@type": "Recipe", "name": page["title"], "recipeYield": "2人分"})
    reports = "".join(f'<li class="tsukurepo"><b>{E(n)}</b><p>{E(t)}</p></li>' for n, _, t in page.get("comments", []))
    return (head(f"{page['title']} レシピ・作り方 | ごはんノート", ld) + '<body>\n<header class="gh"><a href="/" class="logo">ごはんノート</a>'
            '<form><input name="q" placeholder="料理名・食材名"><button>レシピ検索</button></form>'
            '<a href="/premium">プレミアム会員</a></header>\n<nav class="gnav">' +
            links(["人気レシピ", "今日の献立", "肉料理", "魚料理", "野菜のおかず", "お弁当", "スイーツ", "特集"], "", "/category/") +
            '</nav>\n<div class="recipe-page"><div id="recipe-main" class="recipe-main">'
            f'<h1 class="recipe-title">{E(page["title"])}</h1><div class="recipe-author">by {E(page.get("author", "さくらキッチン"))}</div>'
            '<div class="recipe-actions"><button>レシピを保存</button><button>印刷する</button><button>買い物リストに追加</button></div>\n'
            f'<div class="recipe-body">\n{body}\n</div>\n'
            f'<div class="recipe-id">レシピID：{int(_h(page["id"]), 16) % 9000000 + 1000000}　公開日：{E(page["date"])}</div>\n'
            f'<section class="tsukurepo-list"><h2>つくれぽ（{len(page.get("comments", []))}件）</h2><ul>{reports}</ul>'
            '<a href="/repo/">つくれぽを送る</a></section>\n'
            '<section class="similar"><h2>このレシピに似たレシピ</h2>' +
            links(["簡単！豚バラ大根", "鶏むね肉のやわらか照り焼き", "基本の肉じゃが", "ほうれん草の胡麻和え", "具だくさん豚汁"], "", "/r/") +
            '</section></div>\n<aside class="side"><div class="ad-rect">広告</div><h3>人気の検索ワード</h3>' +
            links(["作り置き", "鶏むね肉", "大根", "キャベツ", "10分で完成"], "", "/s/") + '</aside></div>\n'
            '<footer><a href="/company">運営会社</a><a href="/terms">利用規約</a><a href="/help">ヘルプ</a><p>© Gohan Note</p></footer>\n'
            '</body>\n</html>\n')


# -- municipal CMS: accessibility toolbar, page number, PDF notice, contact box, survey ---------------
def municipal(page):
    body = render_blocks(page["blocks"])
    city = page.get("city", "みどり市")
    dept = page.get("dept", "市民部 市民課")
    return (head(f"{page['title']}／{city}") + '<body>\n<div id="tmp_wrapper"><div id="tmp_header">'
            '<p class="skip"><a href="#tmp_contents">本文へスキップ</a></p>'
            f'<div id="tmp_hlogo"><a href="/"><span>{E(city)}</span></a></div>'
            '<ul id="tmp_hnavi"><li><a href="/foreign/">Foreign language</a></li><li><a href="/sitemap.html">サイトマップ</a></li>'
            '<li>文字サイズ <a href="#">標準</a> <a href="#">拡大</a></li><li>背景色 <a href="#">白</a> <a href="#">黒</a> <a href="#">青</a></li>'
            '<li><a href="#">音声読み上げ</a></li><li><a href="#">ふりがなをつける</a></li></ul>'
            '<form id="tmp_search"><input name="q"><input type="submit" value="検索"></form></div>\n'
            '<div id="tmp_gnavi">' + links(["くらし・手続き", "子育て・教育", "健康・福祉", "観光・文化", "事業者の方へ", "市政情報"], "", "/kurashi/") +
            '</div>\n<div id="tmp_pankuzu"><p><a href="/">ホーム</a> &gt; <a href="/kurashi/">くらし・手続き</a> &gt; ' +
            f'<a href="/kurashi/todokede/">届出・証明</a> &gt; {E(page["title"])}</p></div>\n'
            '<div id="tmp_wrap_main" class="column_lnavi"><div id="tmp_main"><div class="wrap_col_main"><div class="col_main">'
            f'<p id="tmp_update">更新日：{E(page["date"])}</p><p id="tmp_pageid">ページ番号：{int(_h(page["id"]), 16) % 90000 + 10000}</p>'
            f'<div id="tmp_contents">\n<h1>{E(page["title"])}</h1>\n{body}\n'
            '<div class="pdf_download"><p>PDF形式のファイルをご覧いただく場合には、Adobe Acrobat Readerが必要です。'
            'お持ちでない方はアドビ社のサイトからダウンロード（無料）してください。</p></div>\n'
            f'<div id="tmp_inquiry"><div id="tmp_inquiry_ttl"><p>このページに関するお問い合わせ</p></div><div id="tmp_inquiry_cnt">'
            f'<p>{E(dept)}</p><p>〒000-0000　{E(city)}本町一丁目1番1号</p><p>電話番号：0000-00-1234　ファクス番号：0000-00-1235</p>'
            '<p><a href="/form/">お問い合わせフォーム</a></p></div></div>\n'
            '<div id="tmp_feedback"><h2>このページの情報は役に立ちましたか？</h2><form><label><input type="radio" name="q1">役に立った</label>'
            '<label><input type="radio" name="q1">ふつう</label><label><input type="radio" name="q1">役に立たなかった</label>'
            '<h2>このページの情報は見つけやすかったですか？</h2><label><input type="radio" name="q2">見つけやすかった</label>'
            '<label><input type="radio" name="q2">見つけにくかった</label><input type="submit" value="送信"></form></div>\n'
            '</div></div></div></div>\n<div id="tmp_lnavi"><div id="tmp_lnavi_ttl"><p>届出・証明</p></div>' +
            links(["住民票の写し等の交付", "印鑑登録", "マイナンバーカード", "戸籍の届出", "転入・転出の届出", "証明書のコンビニ交付"], "", "/kurashi/") +
            '</div></div>\n<div id="tmp_footer"><div class="pnavi"><p class="ptop"><a href="#tmp_header">ページの先頭へ戻る</a></p></div>'
            f'<p>{E(city)}役所　〒000-0000　{E(city)}本町一丁目1番1号　電話：0000-00-1111（代表）</p>'
            '<p>開庁時間：月曜日から金曜日の午前8時30分から午後5時15分まで（祝日・休日、年末年始を除く）</p>'
            '<ul><li><a href="/about/">このサイトについて</a></li><li><a href="/privacy/">個人情報の取り扱い</a></li>'
            '<li><a href="/access/">市役所へのアクセス</a></li></ul>'
            f'<p id="tmp_copyright">Copyright © {E(city)} All Rights Reserved.</p></div></div>\n</body>\n</html>\n')


# -- wiki: infobox, table of contents, [edit] links, references, navbox, categories -----------------
def wiki(page):
    heads = [v for k, v in page["blocks"] if k == "h2"]
    toc = ('<div id="toc" class="toc"><div class="toctitle"><h2>目次</h2></div><ul>' +
           "".join(f'<li class="toclevel-1"><a href="#h-{_h(h, 6)}"><span class="tocnumber">{i + 1}</span> '
                   f'<span class="toctext">{E(h)}</span></a></li>' for i, h in enumerate(heads)) + "</ul></div>")
    info = "".join(f"<tr><th>{E(k)}</th><td>{E(v)}</td></tr>" for k, v in page.get("infobox", []))
    refs = "".join(f'<li id="cite_note-{i}"><span class="reference-text">{E(r)}</span></li>' for i, r in enumerate(page.get("refs", [])))
    # the lead paragraphs go before the table of contents, as on MediaWiki
    lead = [b for b in page["blocks"][:2] if b[0] == "p"]
    rest = page["blocks"][len(lead):]
    body = render_blocks(lead) + "\n" + toc + "\n" + render_blocks(rest, edit_links=True)
    return (head(f"{page['title']} - まなびウィキ") + '<body class="mediawiki skin-vector">\n<div id="mw-page-base"></div>'
            '<div id="content" class="mw-body" role="main"><div id="siteNotice">まなびウィキは寄付によって運営されています。</div>'
            f'<h1 id="firstHeading" class="firstHeading">{E(page["title"])}</h1>'
            '<div id="bodyContent"><div id="siteSub">出典: フリー百科事典『まなびウィキ』</div>'
            '<div id="contentSub"></div><div id="jump-to-nav"></div>'
            '<div id="mw-content-text" class="mw-body-content" lang="ja" dir="ltr"><div class="mw-parser-output">\n'
            f'<table class="infobox"><caption>{E(page["title"])}</caption><tbody>{info}</tbody></table>\n{body}\n'
            '<h2><span class="mw-headline" id="脚注">脚注</span><span class="mw-editsection">[<a href="?action=edit">編集</a>]</span></h2>'
            f'<div class="reflist"><ol class="references">{refs}</ol></div>\n'
            '<div class="navbox"><table><tr><th>日本の地理・関連項目</th></tr><tr><td>' +
            " - ".join(f'<a href="/wiki/{_h(t, 4)}">{E(t)}</a>' for t in ["河川", "湖沼", "山地", "平野", "盆地", "半島", "島嶼", "海峡"]) +
            '</td></tr></table></div>\n</div></div>\n<div id="catlinks" class="catlinks"><a href="/wiki/Category">カテゴリ</a>: ' +
            " | ".join(f'<a href="/wiki/c/{_h(c, 4)}">{E(c)}</a>' for c in page.get("categories", ["日本の地理"])) +
            '</div></div></div>\n<div id="mw-navigation"><div id="p-navigation"><ul><li><a href="/">メインページ</a></li>'
            '<li><a href="/wiki/portal">コミュニティ・ポータル</a></li><li><a href="/wiki/recent">最近の更新</a></li>'
            '<li><a href="/wiki/random">おまかせ表示</a></li></ul></div><div id="p-tb"><h3>ツール</h3><ul><li>リンク元</li>'
            '<li>関連ページの更新状況</li><li>この版への固定リンク</li><li>ページ情報</li></ul></div></div>\n'
            '<div id="footer"><ul id="footer-info"><li>最終更新 ' + E(page["date"]) + '</li><li>テキストはクリエイティブ・コモンズ 表示-継承ライセンスの下で利用可能です。'
            '</li></ul><ul id="footer-places"><li><a href="/privacy">プライバシー・ポリシー</a></li><li><a href="/about">まなびウィキについて</a></li>'
            '<li><a href="/disclaimer">免責事項</a></li></ul></div>\n</body>\n</html>\n')


_CORP_MENU = {
    "製品・サービス": ["産業用センサー", "計測システム", "クラウド監視サービス", "保守・サポート", "導入事例", "カタログダウンロード"],
    "企業情報": ["トップメッセージ", "会社概要", "沿革", "事業所一覧", "組織図", "企業理念"],
    "IR情報": ["IRニュース", "決算短信", "有価証券報告書", "株主総会", "株価情報", "IRカレンダー"],
    "サステナビリティ": ["環境への取り組み", "社会貢献活動", "ガバナンス", "人権方針", "統合報告書"],
    "採用情報": ["新卒採用", "キャリア採用", "社員インタビュー", "福利厚生", "募集要項"],
}


# -- corporate site: mega menu, local navigation, sitemap footer -----------------------------------
def corporate(page):
    body = render_blocks(page["blocks"])
    mega = "".join(f'<li class="gnav__item"><a href="/{_h(k, 4)}/">{E(k)}</a><div class="megamenu"><p class="megamenu__ttl">{E(k)}トップ</p>'
                   f'{links(v, "megamenu__list", "/" + _h(k, 4) + "/")}</div></li>' for k, v in _CORP_MENU.items())
    sitemap = "".join(f'<div class="ftmap__col"><p class="ftmap__ttl">{E(k)}</p>{links(v, "", "/" + _h(k, 4) + "/")}</div>'
                      for k, v in _CORP_MENU.items())
    sec = page.get("section", "企業情報")
    return (head(f"{page['title']}｜{sec}｜株式会社ひかり計測") + '<body id="top">\n' + COOKIE +
            '\n<header class="l-header"><div class="l-header__logo"><a href="/"><img src="/logo.svg" alt="株式会社ひかり計測"></a></div>'
            '<ul class="l-header__util"><li><a href="/en/">English</a></li><li><a href="/contact/">お問い合わせ</a></li>'
            f'<li><a href="/search/">サイト内検索</a></li></ul><nav class="gnav"><ul class="gnav__list">{mega}</ul></nav></header>\n'
            f'<div class="c-pagehead"><p class="c-pagehead__en">COMPANY</p><h1 class="c-pagehead__ttl">{E(page["title"])}</h1></div>\n'
            f'<div class="c-breadcrumb"><ol><li><a href="/">ホーム</a></li><li><a href="/company/">{E(sec)}</a></li><li>{E(page["title"])}</li></ol></div>\n'
            f'<div class="l-container"><div class="l-contents">\n{body}\n</div>\n'
            f'<div class="l-side"><p class="l-side__ttl">{E(sec)}</p>{links(_CORP_MENU.get(sec, _CORP_MENU["企業情報"]), "l-side__list", "/company/")}</div></div>\n'
            '<div class="c-contact-cta"><p>製品に関するご相談・お見積りはお気軽にお問い合わせください。</p><a href="/contact/">お問い合わせはこちら</a>'
            '<a href="/catalog/">カタログ請求</a></div>\n'
            f'<footer class="l-footer"><div class="ftmap">{sitemap}</div><ul class="l-footer__links"><li><a href="/privacy/">個人情報保護方針</a></li>'
            '<li><a href="/terms/">サイトご利用にあたって</a></li><li><a href="/sitemap/">サイトマップ</a></li></ul>'
            '<p class="l-footer__copy">© HIKARI KEISOKU CO., LTD. All Rights Reserved.</p></footer>\n'
            '<p class="pagetop"><a href="#top">PAGE TOP</a></p>\n</body>\n</html>\n')


# -- personal homepage of the 2000s: table layout, font tags, counter -------------------------------
def oldschool(page):
    def para(t):
        return f'<font size="2">{inline_html(t)}</font><br><br>\n'

    body = render_blocks(page["blocks"], para=para)
    menu = "".join(f'<a href="{_h(m, 4)}.html">{E(m)}</a><br>\n' for m in
                   ["ＴＯＰ", "管理人について", "旅の記録", "鉄道写真", "日記", "掲示板", "リンク集"])
    return ('<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">\n<html>\n<head>\n'
            '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">\n'
            f'<title>{E(page["title"])} - {E(page.get("site_name", "ローカル線ぶらり旅"))}</title>\n</head>\n'
            '<body bgcolor="#FFFFF0" text="#333333" link="#0000CC" vlink="#663399">\n<center>\n'
            '<table width="760" border="0" cellspacing="0" cellpadding="4">\n<tr><td colspan="2" bgcolor="#336633">'
            f'<font color="#FFFFFF" size="5"><b>{E(page.get("site_name", "ローカル線ぶらり旅"))}</b></font></td></tr>\n'
            '<tr><td width="150" valign="top" bgcolor="#EEFFEE"><font size="2">\n' + menu +
            '<br>あなたは<br><img src="/cgi-bin/count.cgi" alt="012345">人目の<br>お客様です</font></td>\n'
            '<td width="610" valign="top">\n'
            f'<font size="4" color="#336633"><b>{E(page["title"])}</b></font><br>\n<font size="1">{E(page["date"])} 更新</font><hr>\n'
            f'{body}\n<hr><font size="2"><a href="index.html">TOPへ戻る</a>｜<a href="bbs.html">感想は掲示板へどうぞ</a></font>\n'
            '</td></tr>\n<tr><td colspan="2" align="center"><font size="1">リンクフリーです。バナーはご自由にお使いください。<br>'
            'Copyright (C) 1999-2024 ぶらり管理人 All Rights Reserved.</font></td></tr>\n</table>\n</center>\n</body>\n</html>\n')


# -- engineering blog platform: code blocks, likes, tags, stale notice -------------------------------
def techblog(page):
    body = render_blocks(page["blocks"])
    return (head(f"{page['title']} #{page.get('tags', ['Python'])[0]} - TechNote") +
            '<body><div id="root"><header class="st-Header"><a href="/">TechNote</a><input placeholder="キーワードを入力">'
            '<a href="/login">ログイン</a><a href="/signup">新規登録</a></header>\n<div class="p-items_wrapper"><div class="p-items_main">'
            '<div class="it-Header"><div class="it-Header_author"><a href="/@dev_taro">@dev_taro</a>（開発者 太郎）</div>'
            f'<div class="it-Header_time">投稿日 {E(page["date"])}</div>'
            f'<h1 class="it-Header_title">{E(page["title"])}</h1><div class="it-Tags">' +
            "".join(f'<a class="it-Tags_item" href="/tags/{E(t)}">{E(t)}</a>' for t in page.get("tags", ["Python"])) +
            '</div></div>\n<div class="it-Alert">この記事は最終更新日から1年以上が経過しています。</div>\n'
            f'<div class="it-MdContent"><div id="personal-public-article-body"><div class="mdContent-inner">\n{body}\n</div></div></div>\n'
            '<div class="it-Actions"><button>いいね</button><span>42</span><button>ストック</button><a href="/report">問題を報告</a></div>\n'
            '<div class="it-Comments"><h2>コメント</h2><p>この記事にコメントはありません。</p><form><textarea></textarea><button>投稿する</button></form></div>\n'
            '</div><div class="p-items_toc"><div>目次</div>' +
            links([v for k, v in page["blocks"] if k == "h2"], "", "#") + '</div>'
            '<div class="p-items_side"><div>関連記事 Recommended by</div>' +
            links(["Pythonの型ヒント入門", "pytestでテストを書こう", "Dockerで開発環境を作る", "Gitのブランチ運用まとめ"], "", "/items/") +
            '</div></div>\n<footer class="st-Footer"><a href="/about">TechNoteについて</a><a href="/terms">利用規約</a>'
            '<a href="/privacy">プライバシー</a><span>© TechNote</span></footer></div></body>\n</html>\n')


# -- small business site with a table or list page (timetable, glossary) -------------------------------
def simple(page):
    body = render_blocks(page["blocks"])
    name = page.get("site_name", "かもめ交通株式会社")
    return (head(f"{page['title']} | {name}") + '<body>\n<div id="wrapper"><div id="header">'
            f'<p class="logo"><a href="/">{E(name)}</a></p><p class="tel">お電話でのお問い合わせ 0000-12-3456（平日9:00〜18:00）</p></div>\n'
            '<div id="nav">' + links(page.get("nav", ["ホーム", "路線・時刻表", "運賃・乗車券", "営業所案内", "よくある質問", "お知らせ", "会社情報"]), "", "/") +
            '</div>\n<div id="main"><div class="breadcrumbs"><a href="/">ホーム</a> ＞ ' + E(page["title"]) + '</div>'
            f'<div id="content"><h1 class="page-title">{E(page["title"])}</h1>\n{body}\n'
            '<p class="back"><a href="javascript:history.back()">前のページに戻る</a></p></div>\n'
            '<div id="sidebar"><div class="banner"><a href="/app/">バスロケアプリ</a></div><div class="banner"><a href="/recruit/">運転士募集中</a></div>'
            '<div class="side-news"><h3>お知らせ</h3>' + links(["年末年始の運行について", "ICカードのチャージ方法", "忘れ物のお問い合わせ"], "", "/news/") +
            '</div></div></div>\n'
            f'<div id="footer"><p>{E(name)}　〒000-0000 うみかぜ市港町2-3-4</p><p>Copyright © {E(name)} All rights reserved.</p>'
            '<p class="pagetop"><a href="#wrapper">▲ページトップへ</a></p></div></div>\n</body>\n</html>\n')


# -- web magazine interview, paginated, with a pull quote and a profile box -------------------------
def magazine(page):
    body = render_blocks(page["blocks"])
    return (head(f"{page['title']} | 暮らしとしごとマガジン") + '<body class="single">\n<header class="mg-header"><a href="/" class="mg-logo">暮らしとしごとマガジン</a>' +
            links(["インタビュー", "コラム", "ライフスタイル", "働き方", "連載", "ニュースレター"], "mg-nav", "/category/") +
            '</header>\n<div class="mg-article"><div class="mg-article__head">'
            f'<p class="mg-article__cat">インタビュー</p><h1 class="mg-article__title">{E(page["title"])}</h1>'
            f'<p class="mg-article__date">{E(page["date"])}</p><p class="mg-article__credit">取材・文：編集部　撮影：山本 写</p></div>\n'
            f'{SHARE}\n<div class="article__content">\n{body}\n</div>\n'
            '<div class="mg-pager"><span class="current">1</span><a href="?page=2">2</a><a href="?page=3">3</a><a class="next" href="?page=2">次のページへ</a></div>\n'
            '<div class="mg-profile"><p class="mg-profile__ttl">PROFILE</p><p>' + E(page.get("profile", "")) + '</p></div>\n'
            '<div class="mg-newsletter"><p>最新記事をメールでお届けします。</p><form><input type="email" placeholder="メールアドレス"><button>登録する</button></form></div>\n'
            '<div class="mg-related"><h2>あわせて読みたい</h2>' + links(_pick(page, 4, 8), "", "/articles/") + '</div></div>\n'
            '<footer class="mg-footer"><a href="/about">運営会社</a><a href="/ad">広告掲載について</a><a href="/privacy">プライバシーポリシー</a>'
            '<small>© Kurashi to Shigoto Magazine</small></footer>\n</body>\n</html>\n')


# -- press release platform: the release body, then the platform's company box and feeds ------------
def press(page):
    body = render_blocks(page["blocks"])
    co = page.get("company", "株式会社あおば食品")
    return (head(f"{page['title']} | {co}のプレスリリース") + '<body>\n<header class="pr-header"><a href="/">プレスリリース配信ポータル</a>'
            '<a href="/login">企業ログイン</a><a href="/signup">無料で配信を始める</a></header>\n'
            '<nav class="pr-cat">' + links(["テクノロジー", "エンタメ", "ビジネス", "グルメ", "ライフスタイル", "地域"], "", "/cat/") + '</nav>\n'
            f'<main class="pr-main"><div class="pr-company-top"><a href="/company/">{E(co)}</a></div>'
            f'<h1 class="pr-title">{E(page["title"])}</h1><time class="pr-time">{E(page["date"])}</time>\n{SHARE}\n'
            f'<div class="release-body">\n{body}\n</div>\n'
            '<div class="pr-files"><h2>画像ファイル</h2><p>すべての画像（4点）をダウンロード</p></div>\n'
            f'<div class="pr-company"><h2>{E(co)}</h2><dl><dt>本社所在地</dt><dd>東京都○○区</dd><dt>業種</dt><dd>食品</dd>'
            '<dt>上場</dt><dd>未上場</dd></dl><a href="/company/follow">フォローする</a></div>\n'
            f'<div class="pr-more"><h2>{E(co)}の最新プレスリリース</h2>' + links(_pick(page, 3, 2), "", "/release/") + '</div>\n'
            '<div class="pr-ranking"><h2>アクセスランキング</h2>' + links(_pick(page, 5, 10), "", "/release/") + '</div></main>\n'
            '<footer class="pr-footer"><a href="/terms">利用規約</a><a href="/privacy">プライバシー</a><span>© PressPortal</span></footer>\n'
            '</body>\n</html>\n')


# -- job board: job details as a definition list, apply buttons, similar jobs ---------------------------
def jobs(page):
    body = render_blocks(page["blocks"])
    return (head(f"{page['title']}の求人 | しごとナビ") + '<body>\n<header><a href="/">しごとナビ</a><a href="/search">求人を探す</a>'
            '<a href="/keep">キープリスト</a><a href="/login">ログイン</a></header>\n<div class="job-page">'
            '<div class="job-tags"><span>未経験OK</span><span>週休2日</span><span>交通費支給</span></div>'
            f'<h1 class="job-title">{E(page["title"])}</h1><p class="job-company">{E(page.get("company", "株式会社みなと物流"))}</p>'
            '<div class="apply-top"><a class="btn-apply" href="/apply">この求人に応募する</a><a class="btn-keep" href="/keep">キープする</a></div>\n'
            f'<div class="job-detail">\n{body}\n</div>\n'
            f'<p class="job-date">掲載開始日：{E(page["date"])}　求人番号：{_h(page["id"], 6).upper()}</p>'
            '<div class="apply-bottom"><a class="btn-apply" href="/apply">この求人に応募する</a></div>\n'
            '<div class="similar-jobs"><h2>この求人を見た人はこんな求人も見ています</h2>' +
            links(["倉庫内ピッキングスタッフ（日勤）", "配送ドライバー（2t）", "事務スタッフ（物流センター）", "フォークリフトオペレーター"], "", "/job/") +
            '</div></div>\n<footer><a href="/guide">ご利用ガイド</a><a href="/company">運営会社</a><span>© ShigotoNavi</span></footer>\n'
            '</body>\n</html>\n')


SITES = {f.__name__: f for f in (news_a, news_b, blog_wp, blog_br, ec, qa, forum, recipe, municipal, wiki, corporate,
                                 oldschool, techblog, simple, magazine, press, jobs)}
