"""NG-word filter: lists, greedy longest matching, the morpheme mode's trap handling, speed."""

from __future__ import annotations

import pickle
import random
import time
from functools import lru_cache
from pathlib import Path

import pytest

from fixturegen.texts import ja_sentences
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.filters.ngwords import (
    ALL_CATEGORIES,
    NgListError,
    NgMatcher,
    NgResult,
    NgTerm,
    NgTermStats,
    NgWordsConfig,
    count_japanese_letters,
    fold,
    load_lists,
    parse_list,
)

REPO = Path(__file__).resolve().parents[1]
LINGUA_JA = REPO.parent / "shared" / "testdata" / "langid" / "lingua" / "sentences" / "ja.txt"


@lru_cache(maxsize=None)
def matcher(mode: str = "morpheme", categories: tuple[str, ...] = ALL_CATEGORIES, extra: tuple[str, ...] = ()) -> NgMatcher:
    return NgMatcher(NgWordsConfig(mode=mode, categories=categories, extra_terms=extra))


class CountingTagger:
    """Wraps the fugashi tagger and records the length of every text it segments."""

    def __init__(self, inner):
        self.inner = inner
        self.lengths: list[int] = []

    def parse(self, text: str) -> str:
        self.lengths.append(len(text))
        return self.inner.parse(text)


def counted(m: NgMatcher) -> CountingTagger:
    wrapper = CountingTagger(m._tagger)
    m._tagger = wrapper
    return wrapper


# -- traps: must NOT count in morpheme mode, do count in naive mode ---------------------------
TRAPS = [
    # (text, term that naive matching finds, categories)
    ("グローバル化が進んでいます。", "グロ", ALL_CATEGORIES),
    ("野球のグローブを買いました。", "グロ", ALL_CATEGORIES),
    ("アグロフォレストリーという農法", "グロ", ALL_CATEGORIES),
    ("This is a small town.", "SM", ALL_CATEGORIES),
    ("Keep smiling and smile again.", "SM", ALL_CATEGORIES),
    ("SMTPサーバーの設定を確認する。", "SM", ALL_CATEGORIES),
    ("背中出しコーデが流行しています。", "中出し", ALL_CATEGORIES),
    ("ワイヤレス充電マットを買った。", "電マ", ALL_CATEGORIES),
    ("停電マニュアルを確認しておく。", "電マ", ALL_CATEGORIES),
    ("地域の支援交流会に参加しました。", "援交", ALL_CATEGORIES),
    ("非人道的な行為は許されない。", "非人", ALL_CATEGORIES),
    ("粘土人形を作りました。", "土人", ALL_CATEGORIES),
    ("博多の土人形は有名です。", "土人", ALL_CATEGORIES),
    ("仕事のかたわら、絵を描いている。", "かたわ", ALL_CATEGORIES),
    ("ちびっこ広場で遊ぶ子どもたち。", "びっこ", ALL_CATEGORIES),
    ("自分の頭でよく考えろ。", "えろ", ALL_CATEGORIES),
    ("暗くなったからおうちにかえろう。", "えろ", ALL_CATEGORIES),
    ("最高設定でゲームを遊ぶ。", "高設定", ALL_CATEGORIES),
    ("今期は過去最高収入を記録した。", "高収入", ALL_CATEGORIES),
    ("カロリーを控えた食事にする。", "ロリ", ALL_CATEGORIES),
    ("フロリダ州の気候は温暖です。", "ロリ", ALL_CATEGORIES),
    ("審判がイエローカードを出した。", "エロ", ALL_CATEGORIES),
    ("銅版のエッチング技法を学ぶ。", "エッチ", ALL_CATEGORIES),
    ("フェラーリの新車が発表された。", "フェラ", ALL_CATEGORIES),
    ("エセックス州の港町を訪ねた。", "セックス", ALL_CATEGORIES),
    ("ポルノグラフィティのライブに行った。", "ポルノ", ALL_CATEGORIES),
    ("アダルトチルドレンの特徴について。", "アダルト", ALL_CATEGORIES),
    ("彼はポーカーフェイスを保った。", "ポーカー", ALL_CATEGORIES),
    ("ハゲタカファンドが買収を狙う。", "ハゲ", ALL_CATEGORIES),
    ("宇宙デブリの除去技術を開発する。", "デブ", ALL_CATEGORIES),
    ("それはコロンブスの卵だった。", "ブス", ALL_CATEGORIES),
    ("サブスクリプションを解約した。", "ブス", ALL_CATEGORIES),
    ("会議で大きなチョンボをした。", "チョン", ALL_CATEGORIES),
    ("エタノールで消毒してください。", "エタ", ALL_CATEGORIES),
    ("朝鮮人参のお茶を飲む。", "鮮人", ALL_CATEGORIES),
    ("新鮮人気メニューをご紹介します。", "鮮人", ALL_CATEGORIES),
    ("グレイプフルーツのジュース", "レイプ", ALL_CATEGORIES),
    ("荷物を背負ってえっちらおっちら歩いた。", "えっち", ALL_CATEGORIES),
    ("ロリータファッションの店を訪ねた。", "ロリ", ALL_CATEGORIES),
    ("とげがブスッと刺さった。", "ブス", ALL_CATEGORIES),
    ("非人間的な扱いに抗議する。", "非人", ALL_CATEGORIES),
    ("データ analysis の手法を学ぶ。", "anal", ALL_CATEGORIES),
    ("XXXLサイズのTシャツ", "xxx", ALL_CATEGORIES),
    ("Sussex大学に留学した。", "sex", ALL_CATEGORIES),
    # Only with the adult list alone: pachinko is then not claimed by the gambling term.
    ("駅前のパチンコ店が閉店した。", "チンコ", ("adult",)),
]


@pytest.mark.parametrize("text,term,categories", TRAPS, ids=[t[0][:12] for t in TRAPS])
def test_trap_matches_naive_not_morpheme(text, term, categories):
    naive = matcher("naive", categories).scan(text)
    assert term in naive.terms, naive
    morph = matcher("morpheme", categories).scan(text)
    assert morph.matched_chars == 0 and morph.hits == () and morph.fraction == 0.0, morph


def test_trap_table_size():
    assert len({t[1] for t in TRAPS} - {"グロ", "SM"}) >= 8
    assert len(TRAPS) >= 30


def test_onnanoko_is_not_a_term():
    # 女の子 is not in any list (C4 removed >10 % of Japanese pages with it), so neither mode
    # matches a children's story sentence.
    text = "女の子は公園でブランコに乗りました。"
    for mode in ("naive", "morpheme"):
        res = matcher(mode).scan(text)
        assert res.matched_chars == 0 and res.fraction == 0.0 and not res.rejected
    for t in load_lists(NgWordsConfig()):
        assert fold(t.term)[0] != "女の子"
    # With C4's naive term added, both modes match: 女の子 is one whole morpheme, so no
    # segmentation can rescue a bad term, only leaving it out of the list.
    c4 = ("女の子",)
    assert matcher("naive", ALL_CATEGORIES, c4).scan(text).hits == (("女の子", 3),)
    assert matcher("morpheme", ALL_CATEGORIES, c4).scan(text).hits == (("女の子", 3),)


# -- true hits: must count in both modes -----------------------------------------------------
HITS = [
    # (text, hits, matched_chars, japanese_letters)
    ("オンラインカジノで稼ごう。", {"オンラインカジノ": 8}, 8, 13),
    ("無修正動画を今すぐ見る", {"無修正動画": 5}, 5, 11),
    ("出会い系サイトで恋人探し", {"出会い系サイト": 7}, 7, 12),
    ("SMクラブの求人", {"SMクラブ": 5}, 5, 6),
    ("人気AV女優ランキング", {"AV女優": 4}, 4, 9),
    ("グロ画像注意", {"グロ画像": 4}, 4, 6),
    ("お前なんか死ね。", {"死ね": 2}, 2, 8),
    ("ベラジョンカジノで遊ぶ", {"カジノ": 3}, 3, 11),  # naive_ok: counts inside a katakana word
    # ー is not a Japanese letter, but it is a matched character.
    ("スーパーコピー時計の通販", {"スーパーコピー": 7}, 7, 9),
    ("今すぐ無料登録してください", {"今すぐ無料登録": 7}, 7, 13),
    ("sex動画まとめ", {"sex": 3}, 3, 5),
    ("ＳＥＸ動画まとめ", {"sex": 3}, 3, 5),  # full-width, upper case
    ("パチンコで勝つ必勝法", {"パチンコ": 4, "必勝法": 3}, 7, 10),
    ("チョンは国へ帰れ", {"チョン": 3}, 3, 8),
    ("セフレ募集中", {"セフレ": 3}, 3, 6),
    ("ハードなSM・緊縛", {"SM": 2, "緊縛": 2}, 4, 5),
    ("ｵﾝﾗｲﾝｶｼﾞﾉで遊ぶ", {"オンラインカジノ": 9}, 9, 3),  # half-width: 9 original characters
]


@pytest.mark.parametrize("mode", ["naive", "morpheme"])
@pytest.mark.parametrize("text,hits,chars,ja", HITS, ids=[h[0][:10] for h in HITS])
def test_true_hits(mode, text, hits, chars, ja):
    res = matcher(mode).scan(text)
    assert dict(res.hits) == hits
    assert res.matched_chars == chars
    assert res.japanese_letters == ja
    assert res.fraction == chars / ja
    assert res.rejected


def test_fraction_and_threshold_exact():
    m = matcher()
    clean = "今日は晴れていたので、家族で近くの公園まで散歩に出かけました。"
    ja = count_japanese_letters(clean)
    assert ja == len(clean) == 31
    # 19 × 31 = 589 Japanese letters: 4 matched characters stay below 5 %, 7 of 101 do not.
    body = clean * 19
    low = m.scan(body + "出会い系。")  # 4 / 594
    assert (low.matched_chars, low.japanese_letters) == (4, 594)
    assert low.fraction == 4 / 594 and not low.rejected
    at = m.scan(clean * 3 + "出会い系サイトで")  # 7 / (93 + 8) ≈ 0.069
    assert at.matched_chars == 7 and at.japanese_letters == 101 and at.rejected
    exact = NgMatcher(NgWordsConfig(max_fraction=0.25)).scan("出会い系は怖いと聞いたけれども。")  # 4 / 16
    assert exact.fraction == 0.25 and exact.rejected  # ≥, not >


def test_no_japanese_letters():
    m = matcher()
    none = m.scan("hello world 123")
    assert none == NgResult(0, 0, 0.0, (), False)
    eng = m.scan("free porn videos")
    assert eng.japanese_letters == 0 and eng.matched_chars == 4
    assert eng.fraction == 4.0 and eng.rejected  # divided by 1: always rejected
    assert m.scan("") == NgResult(0, 0, 0.0, (), False)


def test_count_japanese_letters_definition():
    assert count_japanese_letters("ひらがなカタカナ漢字々〇〻、，。．！？") == 4 + 4 + 2 + 3 + 6
    assert count_japanese_letters("ー・「」ｶﾀｶﾅ ABC ＡＢＣ123!?") == 0
    assert count_japanese_letters("\u3040\u3041\u3096\u3097\u30a0\u30a1\u30fa\u30fb") == 4


# -- greedy longest semantics ----------------------------------------------------------------
def write_list(d: Path, category: str, terms: list[str], header: str | None = None) -> None:
    if header is None:
        header = f"# category: {category}\n# description: test terms\n# licence: test\n# source: test\n"
    (d / f"{category}.txt").write_text(header + "\n".join(terms) + "\n", encoding="utf-8")


def test_greedy_longest_left_to_right(tmp_path):
    write_list(tmp_path, "t", ["出会い", "出会い系", "系サイト", "サイト", "abc", "bcd", "ab", "ab-c"])
    for mode in ("naive", "morpheme"):
        m = NgMatcher(NgWordsConfig(categories=("t",), lists_dir=str(tmp_path), mode=mode))
        # longest at the leftmost position wins; 系サイト overlaps it and is not counted
        assert m.scan("出会い系サイト").hits == (("出会い系", 4), ("サイト", 3))
        assert m.scan("出会いの場").hits == (("出会い", 3),)
    naive = NgMatcher(NgWordsConfig(categories=("t",), lists_dir=str(tmp_path), mode="naive"))
    assert naive.scan("abcd").hits == (("abc", 3),)  # not bcd, though it is as long and overlaps
    assert naive.scan("ab-cd").hits == (("ab-c", 4),)
    morph = NgMatcher(NgWordsConfig(categories=("t",), lists_dir=str(tmp_path)))
    assert morph.scan("abcd").hits == ()  # abc, ab, bcd all split the word abcd
    assert morph.scan("ab-cd").hits == (("ab", 2),)  # the longest is rejected, a shorter one counts
    assert morph.scan("ab abc bcd").hits == (("ab", 2), ("abc", 3), ("bcd", 3))


def test_scan_goes_on_after_a_rejected_candidate():
    text = "グローバル、エロ動画"
    assert matcher("naive").scan(text).hits == (("グロ", 2), ("エロ動画", 4))
    assert matcher("morpheme").scan(text).hits == (("エロ動画", 4),)
    # 非人 is rejected inside 非人道的; the scan goes on and finds the real term later on
    assert matcher("morpheme").scan("非人道的な死ね").hits == (("死ね", 2),)


def test_hits_aggregate_per_term_in_first_occurrence_order():
    res = matcher().scan("カジノ、出会い系、カジノ、オンラインカジノ、出会い系。")
    assert res.hits == (("カジノ", 6), ("出会い系", 8), ("オンラインカジノ", 8))
    assert res.terms == ("カジノ", "出会い系", "オンラインカジノ")
    assert res.matched_chars == 22


# -- lists and their headers -----------------------------------------------------------------
def test_bundled_lists():
    terms = load_lists(NgWordsConfig())
    by_cat: dict[str, list[NgTerm]] = {}
    for t in terms:
        by_cat.setdefault(t.category, []).append(t)
    assert set(by_cat) == set(ALL_CATEGORIES)
    for cat, ts in by_cat.items():
        assert 40 <= len(ts) <= 120, (cat, len(ts))
    from importlib import resources

    root = resources.files("jawebcorpus.ngwords")
    for cat in ALL_CATEGORIES:
        header, _ = parse_list(root.joinpath(f"{cat}.txt").read_text(encoding="utf-8"), cat, cat)
        assert header["category"] == cat
        assert header["licence"] == "Apache-2.0 (written for jawebcorpus)"
        assert header["source"] == "written by the jawebcorpus developers"
        assert len(header["description"]) > 40
    folded = {fold(t.term)[0]: t for t in terms}
    assert folded["グロ"].category == "violence_discrimination"
    assert folded["sm"].category == "adult"
    assert folded["カジノ"].flags == ("naive_ok",) and folded["カジノ"].naive_ok
    assert "女の子" not in folded


def test_header_parsing(tmp_path):
    text = (
        "# category: demo\n# description: demo terms\n# licence: MIT\n# source: me\n"
        "\n# -- a comment line\nエロ\nカジノ\tnaive_ok\n  \nfoo bar\t\n"
    )
    header, terms = parse_list(text, "demo.txt", "demo")
    assert header == {"category": "demo", "description": "demo terms", "licence": "MIT", "source": "me"}
    assert terms == [NgTerm("エロ", "demo"), NgTerm("カジノ", "demo", ("naive_ok",)), NgTerm("foo bar", "demo")]


@pytest.mark.parametrize(
    "text,message",
    [
        ("エロ\nカジノ\n", "category"),  # no header at all
        ("# description: x\nエロ\n", "category"),
        ("# category: demo\nエロ\n", "description"),
        ("\n# category: demo\n# description: x\nエロ\n", "category"),  # header must be at the top
        ("# category: other\n# description: x\nエロ\n", "file name says"),
        ("# category: demo\n# description: x\n# colour: red\nエロ\n", "unknown header key"),
        ("# category: demo\n# category: demo\n# description: x\n", "twice"),
        ("# category: demo\n# description: x\nエロ\tstrict\n", "unknown flag"),
        ("# category: demo\n# description: x\nSM\nｓｍ\n", "repeats"),
        ("# category: Demo!\n# description: x\n", "bad category"),
        ("# category: demo\n# description: x\nエ\n", "two characters"),
    ],
)
def test_header_errors(text, message):
    with pytest.raises(NgListError, match=message):
        parse_list(text, "demo.txt", "demo")


def test_list_loading_errors(tmp_path):
    write_list(tmp_path, "nohead", ["エロ"], header="")
    with pytest.raises(NgListError, match="category"):
        load_lists(NgWordsConfig(categories=("nohead",), lists_dir=str(tmp_path)))
    with pytest.raises(NgListError, match="not found"):
        load_lists(NgWordsConfig(categories=("missing",), lists_dir=str(tmp_path)))
    with pytest.raises(NgListError, match="not found"):
        load_lists(NgWordsConfig(lists_dir=str(tmp_path / "nowhere")))
    write_list(tmp_path, "a", ["エロ"])
    write_list(tmp_path, "b", ["えろ", "ＥＲＯ", "エロ"])
    with pytest.raises(NgListError, match="both a and b"):
        load_lists(NgWordsConfig(categories=("a", "b"), lists_dir=str(tmp_path)))


def test_extra_terms_need_two_characters():
    with pytest.raises(NgListError, match="two characters"):
        load_lists(NgWordsConfig(extra_terms=("Ｘ",)))


def test_extra_terms():
    cfg = NgWordsConfig(categories=("gambling",), extra_terms=("特売", "カジノ"))
    terms = load_lists(cfg)
    assert terms[-1] == NgTerm("特売", "extra")
    assert sum(1 for t in terms if t.term == "カジノ") == 1  # already listed: ignored
    m = NgMatcher(cfg)
    assert m.scan("本日の特売品").hits == (("特売", 2),)
    assert m.categories["特売"] == "extra" and m.categories["カジノ"] == "gambling"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "regex"},
        {"max_fraction": 0.0},
        {"max_fraction": 1.5},
        {"categories": ()},
        {"categories": "adult"},
        {"categories": ("adult", "adult")},
        {"categories": ("../etc",)},
        {"categories": ("extra",)},
        {"extra_terms": ("",)},
        {"extra_terms": ("a\tb",)},
        {"extra_terms": "エロ"},
    ],
)
def test_config_validation(kwargs):
    with pytest.raises(ConfigError):
        NgWordsConfig(**kwargs).validate()
    with pytest.raises(ConfigError):
        NgMatcher(NgWordsConfig(**kwargs))


def test_config_defaults():
    cfg = NgWordsConfig()
    cfg.validate()
    assert cfg.categories == ALL_CATEGORIES and cfg.max_fraction == 0.05 and cfg.mode == "morpheme"
    assert cfg.lists_dir is None and cfg.extra_terms == ()
    NgWordsConfig(categories=(), extra_terms=("x",)).validate()


# -- folding ---------------------------------------------------------------------------------
def test_fold_keeps_offsets():
    assert fold("ＡＢＣ abc ｘ") == ("abc abc x", None)
    folded, offsets = fold("aｶﾞｷﾞ!")
    assert folded == "aガギ!" and offsets == [0, 1, 3, 5, 6]
    res = matcher().scan("本物の ｽｰﾊﾟｰｺﾋﾟｰ 時計")
    assert res.hits == (("スーパーコピー", 9),)  # ｽｰﾊﾟｰｺﾋﾟｰ: 9 original characters


# -- the tagger runs only near candidates ----------------------------------------------------
def test_no_tagger_call_without_candidates():
    m = NgMatcher(NgWordsConfig())
    tagger = counted(m)
    texts = list(sample_texts().values())
    texts += ja_sentences()  # written for the project (tests/fixturegen/): no ../shared needed
    if LINGUA_JA.exists():
        texts += LINGUA_JA.read_text(encoding="utf-8").splitlines()
    no_candidate = [t for t in texts if not m.has_candidate(t)]
    assert len(no_candidate) >= 20
    for t in no_candidate:
        assert m.scan(t).hits == ()
    assert tagger.lengths == [] and m.tagger_calls == 0
    # Two-character prefixes of terms without a whole term (いい of いいね購入, ライ of
    # ライブカジノ, ...) do not reach the tagger either: it only checks complete matches.
    for key, text in sample_texts().items():
        if not key.startswith("ja_filter_ng_words"):
            m.scan(text)
    assert tagger.lengths == []
    # Rejections by the ASCII and katakana rules, and ASCII-edged terms, need no tagger either.
    for t in ("This is a small town.", "グローバル化", "カロリー", "sex動画", "ベラジョンカジノ"):
        m.scan(t)
    assert tagger.lengths == []
    m.scan("背中出しコーデ")
    assert len(tagger.lengths) == 1


def test_tagger_sees_a_window_not_the_document():
    m = NgMatcher(NgWordsConfig())
    tagger = counted(m)
    filler = "今日は晴れていたので、家族で近くの公園まで散歩に出かけました。" * 100  # 3,100 chars
    res = m.scan(filler + "出会い系サイトで" + filler)
    assert res.hits == (("出会い系サイト", 7),)
    assert len(tagger.lengths) == 1 and tagger.lengths[0] <= 7 + 2 * 16
    # Nearby candidates share one window.
    tagger.lengths.clear()
    m.scan(filler + "出会い系で人妻とセフレ募集" + filler)
    assert len(tagger.lengths) == 1


def test_matcher_pickles():
    m = NgMatcher(NgWordsConfig(categories=("adult",), max_fraction=0.1))
    m2 = pickle.loads(pickle.dumps(m))
    assert m2.cfg == m.cfg and m2.tagger_calls == 0
    assert m2.scan("背中出しとエロ動画") == m.scan("背中出しとエロ動画")


def test_term_stats():
    m = matcher()
    stats = NgTermStats()
    spam = m.scan("出会い系とカジノ")
    stats.add(spam, 100)
    stats.add(m.scan("カジノ、カジノ"), 50)
    stats.add(m.scan("今日は晴れ" * 40 + "カジノ"), 999)  # not rejected: not counted
    other = NgTermStats()
    other.add(spam, 10)
    stats.merge(other)
    assert stats.rows(m.categories) == [
        ("カジノ", "gambling", 3, 160, 12),
        ("出会い系", "adult", 2, 110, 8),
    ]


# -- the bundled sample pages and the lingua sentences ---------------------------------------
@lru_cache(maxsize=None)
def sample_texts() -> dict[str, str]:
    """Extracted text of every Japanese sample page, by manifest kind + file."""
    from jawebcorpus.corpus.extract import trafilatura_extract
    from jawebcorpus.sample import PAGES_DIR, load_manifest

    out = {}
    for cap in load_manifest()["captures"]:
        if not cap["kind"].startswith("ja_") or not cap["file"]:
            continue
        text = trafilatura_extract((PAGES_DIR / cap["file"]).read_text(encoding="utf-8"))
        assert text, cap["file"]
        out[f"{cap['kind']}:{cap['file']}"] = text
    return out


@pytest.mark.parametrize("mode", ["naive", "morpheme"])
def test_sample_pages(mode):
    m = matcher(mode)
    texts = sample_texts()
    kinds = {k.split(":")[0] for k in texts}
    assert {"ja_filter_ng_words", "ja_ng_false_positive"} <= kinds
    for key, text in texts.items():
        res = m.scan(text)
        if key.startswith("ja_filter_ng_words:"):
            assert res.rejected and res.fraction > 0.2, res
            assert {"オンラインカジノ", "出会い系", "無料登録", "高収入"} <= set(res.terms)
        else:
            assert not res.rejected, (key, res)
    story = next(t for k, t in texts.items() if k.startswith("ja_ng_false_positive:"))
    assert "グローバル" in story and "女の子" in story
    assert matcher("morpheme").scan(story).matched_chars == 0
    assert matcher("naive").scan(story).hits == (("グロ", 4),)


@pytest.mark.shared
def test_lingua_sentences_rarely_rejected():
    if not LINGUA_JA.exists():
        pytest.skip(f"{LINGUA_JA} is not present")
    sentences = [s.strip() for s in LINGUA_JA.read_text(encoding="utf-8").splitlines() if s.strip()]
    assert len(sentences) >= 200
    rng = random.Random(20240601)
    docs = ["\n".join(rng.sample(sentences, 100)) for _ in range(200)]
    docs += ["\n".join(sentences[i:i + 100]) for i in range(0, len(sentences) - 99, 100)]
    for mode in ("naive", "morpheme"):
        results = [matcher(mode).scan(d) for d in docs]
        rejected = sum(r.rejected for r in results)
        worst = max(r.fraction for r in results)
        print(f"\nlingua ja, {len(docs)} docs of 100 sentences, {mode}: {rejected} rejected, max fraction {worst:.4f}")
        if mode == "morpheme":
            assert rejected <= 0.01 * len(docs)


def test_speed_measurement():
    """Prints the cost of scanning a 2,000-character document (measured, not asserted)."""
    m = matcher()
    texts = [t for k, t in sorted(sample_texts().items()) if not k.startswith("ja_filter_ng_words")]
    typical = "\n".join(texts)[:2000]  # clean prose: a few two-character prefixes, no match
    sentences = [s + "。" for t in texts for s in t.split("。") if s.strip()]
    no_candidate = "".join(s for s in sentences if not m.has_candidate(s))[:2000]
    assert len(no_candidate) == 2000 and not m.has_candidate(no_candidate)
    parts = typical.split("。")
    for i, w in enumerate(["グローバル", "カロリー", "エロ動画", "背中出し", "出会い系サイト", "最高設定"]):
        parts[5 + 4 * i] += w
    with_matches = "。".join(parts)[:2000]

    def per_doc_ms(mm: NgMatcher, text: str, n: int = 300) -> float:
        mm.scan(text)
        t0 = time.perf_counter()
        for _ in range(n):
            mm.scan(text)
        return (time.perf_counter() - t0) / n * 1e3

    fresh = NgMatcher(NgWordsConfig())
    docs = (("no candidate", no_candidate), ("prefix candidates, no match", typical), ("6 matches and traps", with_matches))
    for label, text in docs:
        before = fresh.tagger_calls
        res = fresh.scan(text)
        calls = fresh.tagger_calls - before
        print(
            f"\n2,000-char document, {label}: morpheme {per_doc_ms(fresh, text):.3f} ms "
            f"({calls} tagger calls, {len(res.hits)} terms), naive {per_doc_ms(matcher('naive'), text):.3f} ms"
        )
    assert fresh.scan(no_candidate).hits == () and fresh.scan(typical).hits == ()
    assert fresh.scan(with_matches).terms == ("エロ動画", "出会い系サイト")
