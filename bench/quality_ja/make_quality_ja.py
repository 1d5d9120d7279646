#!/usr/bin/env python
"""Build ``quality_ja.jsonl``: Japanese web-like documents labelled good / bad, written for the project.

Every sentence, template and list below and in ``banks_good.py`` / ``banks_bad.py`` was written
for jawebcorpus by its developers (an AI engineer); nothing is copied from the web.  A document
is composed from one *genre* (the unit the benchmark holds out: a test split never sees a genre
that training saw), by picking a title, an intro, one to a few topics of that genre (each a
paragraph group, a few of its sentences dropped at random), an outro, and filling slots (places,
numbers, dates, names).  Structural bad pages (listings, price lists, menus, tags, calendars)
come from small generator functions.  Both classes get the same page debris at random (a
breadcrumb, "share this" lines, a footer), so debris alone does not tell the classes apart.

Labels: ``label`` good / bad (the genre's), ``grade`` 0–3 educational value (the genre's grade,
one less for a good document under 400 characters), ``kind`` clear / hard (hard: well-formed but
low value, bad; or messy but useful, good).

    python bench/quality_ja/make_quality_ja.py            # writes bench/quality_ja/quality_ja.jsonl
    python bench/quality_ja/make_quality_ja.py --check    # exit 1 if the file differs from a rebuild
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from banks_bad import BAD, GENERATED, KEYWORDS  # noqa: E402
from banks_good import GOOD  # noqa: E402

OUT = os.path.join(HERE, "quality_ja.jsonl")
SEED = 20240601
DOCS_PER_GENRE = 22
MIN_CHARS, MAX_CHARS = 200, 3000

SLOTS = {
    "place": ("松本市", "高崎市", "富山市", "函館市", "倉敷市", "佐世保市", "弘前市", "鳥取市", "津山市", "飯田市", "小樽市",
              "今治市", "宇治市", "沼津市", "盛岡市", "会津若松市", "上越市", "米子市", "延岡市", "八戸市", "豊橋市", "彦根市"),
    "place2": ("中央", "東町", "本町", "桜ケ丘", "緑町", "栄町", "旭", "若葉", "北原", "新田", "港", "城南", "駅前"),
    "pref": ("長野県", "群馬県", "富山県", "北海道", "岡山県", "長崎県", "青森県", "鳥取県", "静岡県", "岩手県", "福島県",
             "新潟県", "宮崎県", "愛知県", "滋賀県", "愛媛県", "京都府"),
    "month": tuple(str(i) for i in range(1, 13)),
    "day": tuple(str(i) for i in range(1, 29)),
    "year": tuple(str(y) for y in range(2016, 2025)),
    "n": tuple(str(i) for i in (3, 5, 8, 12, 15, 20, 30, 45, 50, 100)),
    "n2": tuple(str(i) for i in range(2, 10)),
    "age": tuple(str(i) for i in range(24, 62)),
    "pct": ("10", "20", "30", "50", "70", "80"),
    "name": ("さくら", "みどり", "あおば", "ひかり", "やまびこ", "つばさ", "はるか", "こころ", "たいよう", "すずらん"),
    "kw": KEYWORDS,
    "product": ("すっきり酵素ドリンク", "モイストリッチ美容液", "スリムアップ青汁", "ぐっすりサプリ", "ヘアグロウローション",
                "ホワイトニング歯磨き粉", "プロテインバー", "スマートスキンジェル"),
    "company": ("株式会社ミライクリエイト", "有限会社サンライズ企画", "株式会社グローバルネクスト", "株式会社さくら工房",
                "合同会社ブライトワークス", "株式会社アーバンライフ"),
    "shop": ("Lumière", "hibi no kurashi", "Maison Soleil", "ことりや", "Petit Jardin", "つむぎ雑貨店"),
    "casino": ("ラッキーベガス", "ジャックポットキング", "ゴールドスピン", "カジノパレス", "ミラクルスロット"),
    "casino2": ("ロイヤルカジノ", "ベットスター", "スピンワールド", "ダイヤモンドクラブ"),
    "subject": ("歴史", "科学", "健康", "読書", "料理", "自然", "音楽", "スポーツ", "地域の文化", "日本語", "環境問題",
                "伝統工芸", "お金の知識", "睡眠", "宇宙"),
}

BREADCRUMBS = ("ホーム > {cat} > 記事", "トップ ＞ {cat}", "HOME / {cat} / {year}年{month}月", "ホーム ＞ {cat} ＞ 詳細")
CATS = ("暮らし", "ニュース", "コラム", "ブログ", "特集", "お知らせ", "レビュー", "地域情報")
TAILS = ("この記事をシェアする", "関連記事", "前の記事　次の記事", "この記事が気に入ったらフォローしよう", "カテゴリー：{cat}",
         "投稿日：{year}年{month}月{day}日", "コメントする", "▲ページの先頭へ")


#: slots that keep one value through a document (a page names one town, one product)
STICKY = ("subject", "place", "pref", "kw", "product", "company", "shop", "casino", "casino2", "name", "year")


def fill_with(rng: random.Random, meta: dict):
    meta = dict(meta)

    def fill(s: str) -> str:
        def one(m):
            key = m.group(1)
            if key in meta:
                return meta[key]
            if key == "cat":
                return rng.choice(CATS)
            vals = SLOTS.get(key)
            if not vals:
                return m.group(0)
            val = rng.choice(vals)
            if key in STICKY:
                meta[key] = val
            return val
        return re.sub(r"\{(\w+)\}", one, s)
    return fill


def parse_bank(text: str) -> dict:
    """``{"title": [...], "intro": [...], "outro": [...], "topics": [(name, meta, [lines])]}``."""
    out = {"title": [], "intro": [], "outro": [], "topics": []}
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("@"):
            key, _, val = line[1:].partition(" ")
            out[key].append(val)
        elif line.startswith("## "):
            name, _, rest = line[3:].partition("|")
            meta = dict(kv.strip().split("=", 1) for kv in rest.split(";") if "=" in kv)
            out["topics"].append((name.strip(), meta, []))
        else:
            out["topics"][-1][2].append(line)
    return out


def _paragraphs(rng: random.Random, sents: list[str], style: str) -> list[str]:
    if style in ("forum", "diary", "catalog", "comments", "lines"):
        return sents
    paras, cur = [], []
    for s in sents:
        cur.append(s)
        if len(cur) >= rng.randint(1, 3):
            paras.append("".join(cur))
            cur = []
    if cur:
        paras.append("".join(cur))
    return paras


def compose(rng: random.Random, spec: dict, bank: dict) -> str:
    style = spec.get("style", "prose")
    lo, hi = spec["topics_per_doc"]
    k = rng.randint(lo, hi)
    if rng.random() < 0.35:  # a long page: up to every topic of the genre
        k = rng.randint(hi, max(hi, len(bank["topics"])))
    k = min(k, len(bank["topics"]))
    topics = rng.sample(bank["topics"], k)
    meta = {}
    for _, m, _ in topics:
        for key, val in m.items():
            meta.setdefault(key, val)
    fill = fill_with(rng, meta)
    parts = []
    if bank["title"] and rng.random() < 0.75:
        parts.append(fill(rng.choice(bank["title"])))
    if bank["intro"] and rng.random() < 0.7:
        parts.append(fill(rng.choice(bank["intro"])))
    for name, m, lines in topics:
        keep = [s for s in lines if rng.random() > 0.2] if len(lines) > 3 else list(lines)
        if len(keep) < min(3, len(lines)):
            keep = lines[:max(3, len(keep))]
        keep = [fill(s) for s in keep]
        if style == "catalog":
            item = m.get("item") or name
            price = rng.randint(8, 90) * 100 - rng.choice([0, 20])
            keep = [f"{fill('{shop}')} {item}".strip(), *keep, f"¥{price:,}（税込）"]
        elif style == "forum" and rng.random() < 0.5:
            keep = [f"{rng.randint(2, 40)}: {rng.choice(['名無しさん', '匿名', 'ななし', '通りすがり'])}"] + keep
        parts.extend(_paragraphs(rng, keep, style))
    if bank["outro"] and rng.random() < 0.6:
        parts.append(fill(rng.choice(bank["outro"])))
    return "\n".join(parts)


def add_debris(rng: random.Random, text: str) -> str:
    fill = fill_with(rng, {})
    if rng.random() < 0.25:
        text = fill(rng.choice(BREADCRUMBS)) + "\n" + text
    if rng.random() < 0.3:
        text = text + "\n" + "\n".join(fill(t) for t in rng.sample(TAILS, rng.randint(1, 3)))
    return text


def build(seed: int = SEED, per_genre: int = DOCS_PER_GENRE) -> list[dict]:
    docs, seen = [], set()
    genres = [("good", g, spec) for g, spec in GOOD.items()] + [("bad", g, spec) for g, spec in BAD.items()] + \
             [("bad", g, dict(grade=0, kind=kind, gen=fn)) for g, (fn, kind) in GENERATED.items()]
    for label, genre, spec in genres:
        rng = random.Random(f"{seed}:{genre}")
        bank = parse_bank(spec["bank"]) if "bank" in spec else None
        made, tries = 0, 0
        while made < per_genre:
            tries += 1
            if tries > per_genre * 50:
                raise RuntimeError(f"{genre}: cannot make {per_genre} distinct documents")
            if bank is not None:
                text = compose(rng, spec, bank)
            else:
                text = spec["gen"](rng, fill_with(rng, {}))
            text = add_debris(rng, text)
            if len(text) > MAX_CHARS:  # cut at a line end below the limit
                text = text[:MAX_CHARS].rsplit("\n", 1)[0]
            if len(text) < MIN_CHARS or text in seen:
                continue
            seen.add(text)
            grade = spec["grade"]
            if label == "good" and len(text) < 400:
                grade = max(1, grade - 1)
            made += 1
            docs.append({"id": f"qj-{genre}-{made:03d}", "label": label, "grade": grade, "genre": genre,
                         "kind": spec.get("kind", "clear"), "source": "bank" if bank is not None else "generator",
                         "chars": len(text), "text": text})
    return docs


def dump(docs: list[dict]) -> str:
    return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = ap.parse_args(argv)
    data = dump(build())
    if args.check:
        with open(args.out, encoding="utf-8") as fh:
            same = fh.read() == data
        print("same" if same else "DIFFERENT")
        return 0 if same else 1
    with open(args.out, "w", encoding="utf-8") as fh:
        fh.write(data)
    docs = [json.loads(x) for x in data.splitlines()]
    by = {}
    for d in docs:
        by.setdefault((d["label"], d["kind"]), 0)
        by[(d["label"], d["kind"])] += 1
    print(f"{len(docs)} documents → {args.out}; sha256 {hashlib.sha256(data.encode()).hexdigest()[:16]}")
    print(", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(by.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
