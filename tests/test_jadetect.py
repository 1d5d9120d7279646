"""``filters/jadetect.py``: rapid Japanese detection on raw bytes."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from jawebcorpus.corpus.http import parse_response
from jawebcorpus.corpus.warc import iter_records
from jawebcorpus.filters.jadetect import count_kana, detect_japanese

JAPANESE_LABELS = {"SHIFT_JIS", "EUC-JP", "CP932", "iso-2022-jp"}
CONFUSER_LABELS = {"Big5", "GB2312", "EUC-KR", "Johab", "iso-2022-kr"}
LEGACY_CODEC = {"SHIFT_JIS": "cp932", "CP932": "cp932", "EUC-JP": "euc_jp", "iso-2022-jp": "iso2022_jp_2"}


@pytest.fixture(scope="module")
def chardet(shared_dir) -> list[tuple[Path, str]]:
    root = shared_dir / "testdata" / "encoding" / "chardet"
    with open(root / "labels.tsv", encoding="utf-8", newline="") as fh:
        return [(root / r["path"], r["encoding_label"]) for r in csv.DictReader(fh, delimiter="\t")]


@pytest.mark.shared
def test_chardet_japanese_recall(chardet):
    ja = [(p, lab) for p, lab in chardet if lab in JAPANESE_LABELS]
    assert len(ja) == 63
    hits = 0
    for path, label in ja:
        det = detect_japanese(path.read_bytes())
        if det.japanese:
            hits += 1
            if det.codec_hint is not None:
                # the confirming codec is the page's true codec family
                assert det.codec_hint == LEGACY_CODEC[label], (path.name, det)
    assert hits / len(ja) >= 0.95, f"{hits}/{len(ja)}"


@pytest.mark.shared
def test_chardet_cjk_confusers_are_never_detected(chardet):
    confusers = [(p, lab) for p, lab in chardet if lab in CONFUSER_LABELS]
    assert len(confusers) >= 80
    wrong = [(p.name, lab, detect_japanese(p.read_bytes())) for p, lab in confusers]
    wrong = [w for w in wrong if w[2].japanese]
    assert wrong == []


@pytest.mark.shared
def test_chardet_confusers_are_not_detected_even_with_a_low_kana_threshold(chardet):
    # with min_kana=3 legacy-encoded "kana" rows of Big5/GB/EUC-KR still fail confirmation
    for path, label in chardet:
        if label in CONFUSER_LABELS:
            assert not detect_japanese(path.read_bytes(), min_kana=3).japanese, path.name


def sample_bodies(sample_warcs, manifest):
    by_url = {(c["snapshot"], c["url"]): c for c in manifest["captures"]}
    for path in sample_warcs:
        for rec in iter_records(open(path, "rb")):
            if rec.rec_type == "response":
                cap = by_url[(path.parts[-5], rec.headers["warc-target-uri"])]
                yield cap, parse_response(rec.block, 8 << 20).body


def test_sample_japanese_pass_and_others_fail(sample_warcs, manifest):
    from jawebcorpus.sample import PAGES_DIR

    kinds = set()
    for cap, body in sample_bodies(sample_warcs, manifest):
        det = detect_japanese(body)
        kind = cap["kind"]
        kinds.add(kind)
        if kind.startswith("ja"):
            assert det.japanese, cap["id"]
            assert det.kana >= 10 or det.method == "html_lang", cap["id"]
        elif kind.startswith("non_ja"):
            src = (PAGES_DIR / cap["file"]).read_text(encoding="utf-8")
            declares_ja = re.search(r"<html[^>]*\slang=[\"']?ja", src, re.I) is not None
            # the Chinese page that declares <html lang="ja"> passes (Swallow's rule is kept);
            # the language-ID stage rejects it
            assert det.japanese is declares_ja, cap["id"]
            if declares_ja:
                assert det.method == "html_lang"
        else:
            assert not det.japanese, cap["id"]  # redirect, JPEG, binary served as HTML
    assert {"ja_utf8", "non_ja_mislabelled", "binary_as_html"} <= kinds


def test_sample_legacy_pages_are_detected_by_kana_with_the_right_codec(sample_warcs, manifest):
    from jawebcorpus.sample import PAGES_DIR

    seen = 0
    for cap, body in sample_bodies(sample_warcs, manifest):
        if not cap["kind"].startswith("ja") or cap["encoding"] in ("utf-8",):
            continue
        det = detect_japanese(body, use_lang=False)  # no lang shortcut: the bytes must show it
        assert det.japanese, cap["id"]
        assert det.codec_hint in (cap["encoding"], "iso2022_jp_2"), cap["id"]
        # what the detector counted is what the page source holds (pages are under 64 KiB)
        src = (PAGES_DIR / cap["file"]).read_text(encoding="utf-8")
        assert len(body) < 64 * 1024
        assert det.kana == count_kana(src) >= 10, cap["id"]
        seen += 1
    assert seen >= 4


def test_utf8_kana_count_equals_the_decoded_count(sample_warcs, manifest):
    for cap, body in sample_bodies(sample_warcs, manifest):
        if cap["encoding"] == "utf-8":
            det = detect_japanese(body, min_kana=10**9, use_lang=False)
            # E3 81/82/83 lead pairs cover U+3040–U+30FF; count them in the decoded text
            expected = sum(1 for ch in body.decode("utf-8") if "\u3040" <= ch <= "\u30ff")
            assert det.kana == expected, cap["id"]


def test_lang_attribute_rule():
    body = b'<!doctype html><html class="x" lang="ja-JP"><body>hello</body></html>'
    assert detect_japanese(body).method == "html_lang"
    assert not detect_japanese(body, use_lang=False).japanese
    assert not detect_japanese(b'<html lang="jv"><body>hello</body></html>').japanese
    assert not detect_japanese(b'<body><p lang="ja">hello</p></body>').japanese  # only <html lang>
    assert not detect_japanese(b'<html lang="en"><body>hello</body></html>').japanese


def test_min_kana_threshold():
    body = ("<p>" + "あ" * 9 + "</p>").encode("utf-8")
    assert not detect_japanese(body).japanese
    assert detect_japanese(body, min_kana=9).japanese


def test_utf16_with_bom():
    text = "<html><body>これは日本語のページです。ひらがなとカタカナがあります。</body></html>"
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")):
        det = detect_japanese(bom + text.encode(codec))
        assert det.japanese and det.method == "kana_utf16" and det.codec_hint == "utf-16"


def test_empty_and_ascii():
    assert detect_japanese(b"").japanese is False
    assert detect_japanese(b"<html><body>plain english</body></html>").method == "none"


def test_font_kana_around_the_kana_equals_the_whole_page_scan():
    """Font names counted only in windows around the page's kana: the same sum as the
    alternation over the whole page, on pieces of font names (whole, cut, their tails), kana
    and filler in any order, with gaps longer and shorter than a font name, and past the kana
    limit (whole-page scan)."""
    import random

    from jawebcorpus.filters import jadetect as J

    def whole(body: bytes) -> int:
        return sum(J._FONT_KANA[m.group()] for m in J._FONT_RE.finditer(body))

    pieces = [*J._FONT_KANA, *J._FONT_KEYS, *(s.encode() for s in ("ゴシ", "ヒラ", "明", "朝", "体", "ＭＳ", "角ゴ",
                                                                  "あ", "ク", "ノ", "Ｐ", "ＭＳ Ｐ", "角"))]
    pieces += [name[i:] for name in J._FONT_KANA for i in range(1, len(name))]  # tails, cut anywhere
    rng = random.Random(21)
    nonzero = 0
    for _ in range(3000):
        parts = [rng.choice(pieces) for _ in range(rng.randint(0, 25))]
        parts = [p[: rng.randint(0, len(p))] if rng.random() < 0.2 else p for p in parts]
        body = (b"a" * rng.choice((0, 1, 5, J._FONT_LONGEST - 1, J._FONT_LONGEST, 200))).join(parts)
        assert J._font_kana(body) == whole(body), body
        nonzero += whole(body) > 0
    assert nonzero > 1000
    many = "ＭＳ Ｐゴシック, 明朝;".encode() * (J._FONT_MAX_KEYS // 2 + 10)
    assert J._font_kana(many) == whole(many) == (J._FONT_MAX_KEYS // 2 + 10) * 4  # ゴシック


def test_iso2022_jp_needs_an_escape_in_the_confirmed_prefix():
    """ISO-2022-JP is confirmed on the first 64 KiB: an escape only after them finds no kana
    there (not Japanese, as before bounding the search for ESC to the prefix); within them, it does."""
    text = "日本語のひらがなとカタカナの文章です。" * 20
    jis = text.encode("iso2022_jp")
    assert detect_japanese(b"<p>" + jis).method == "kana_iso2022_jp"
    late = b"<p>" + b"x" * (64 * 1024) + jis
    assert detect_japanese(late) == detect_japanese(late, use_lang=False)
    assert not detect_japanese(late).japanese
