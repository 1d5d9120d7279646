"""``corpus/charset.py``: the charset cascade on real Japanese pages."""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

import pytest

from jawebcorpus.corpus.charset import decode_html, meta_charset, normalize_charset
from jawebcorpus.corpus.http import header_charset, parse_response
from jawebcorpus.corpus.warc import iter_records
from jawebcorpus.filters.jadetect import count_kana, detect_japanese

HIRAGANA = re.compile("[\u3041-\u309f]")
#: chardet label → the codec that truly decodes such a page (Shift_JIS servers send cp932)
TRUE_CODEC = {"SHIFT_JIS": "cp932", "CP932": "cp932", "EUC-JP": "euc_jp", "iso-2022-jp": "iso2022_jp_2"}


def chardet_rows(shared: Path) -> list[tuple[Path, str]]:
    root = shared / "testdata" / "encoding" / "chardet"
    with open(root / "labels.tsv", encoding="utf-8", newline="") as fh:
        return [(root / r["path"], r["encoding_label"]) for r in csv.DictReader(fh, delimiter="\t")]


@pytest.fixture(scope="module")
def japanese_pages(shared_dir) -> list[tuple[Path, str]]:
    rows = [(p, lab) for p, lab in chardet_rows(shared_dir) if lab in TRUE_CODEC]
    assert len(rows) == 63  # 30 Shift_JIS + 29 EUC-JP + 3 CP932 + 1 ISO-2022-JP (README)
    return rows


@pytest.mark.shared
@pytest.mark.parametrize("use_hint", [True, False])
def test_every_chardet_japanese_page_decodes(japanese_pages, use_hint):
    for path, label in japanese_pages:
        body = path.read_bytes()
        hint = detect_japanese(body).codec_hint if use_hint else None
        dec = decode_html(body, None, hint)
        ref = body.decode(TRUE_CODEC[label], "replace")
        assert dec.text.count("\ufffd") <= ref.count("\ufffd"), (path.name, dec.codec)
        assert dec.replacements == dec.text.count("\ufffd")
        if HIRAGANA.search(ref):
            assert HIRAGANA.search(dec.text), (path.name, dec.codec)
        assert count_kana(dec.text) >= count_kana(ref), (path.name, dec.codec)
        if label in ("SHIFT_JIS", "CP932"):
            assert dec.codec == "cp932", path.name


@pytest.mark.shared
def test_chardet_pages_with_their_label_in_the_http_header(japanese_pages):
    """The page's true label sent as the HTTP charset: taken as is, Shift_JIS read as cp932."""
    for path, label in japanese_pages:
        body = path.read_bytes()
        dec = decode_html(body, label.lower())
        ref = body.decode(TRUE_CODEC[label], "replace")
        assert dec.text.count("\ufffd") <= ref.count("\ufffd"), path.name
        assert dec.source.startswith("http"), path.name
        if label in ("SHIFT_JIS", "CP932"):
            assert dec.codec == "cp932"
        if dec.replacements == 0:
            assert dec.codec in ("cp932", "euc_jp", "euc_jis_2004", "iso2022_jp_2", "utf-8")


@pytest.mark.shared
def test_chardet_japanese_pages_mislabelled_latin1_are_overruled(japanese_pages):
    # ISO-8859-1 decodes every byte, so only a preference for Japanese codecs can overrule it
    overruled = 0
    for path, label in japanese_pages:
        body = path.read_bytes()
        if body.isascii():
            continue
        dec = decode_html(body, "iso-8859-1")
        ref = body.decode(TRUE_CODEC[label], "replace")
        if ref.count("\ufffd") == 0:
            assert dec.source == "http+overruled", path.name
            assert dec.text == ref or dec.codec == "euc_jis_2004", path.name
            overruled += 1
    assert overruled >= 50


def test_cp932_only_characters_survive():
    text = "①②③ ～ ㈱ ≒ Ⅸ 髙橋 の お知らせ です。" * 3
    body = f'<html><head><meta charset="Shift_JIS"></head><body>{text}</body></html>'.encode("cp932")
    dec = decode_html(body)
    assert (dec.codec, dec.source, dec.replacements) == ("cp932", "meta", 0)
    assert text in dec.text


def test_utf8_page_mislabelled_iso_8859_1_is_overruled(sample_warcs, manifest):
    from jawebcorpus.sample import PAGES_DIR

    cap = next(c for c in manifest["captures"] if c["encoding"] == "utf-8" and c["kind"].startswith("ja"))
    src = (PAGES_DIR / cap["file"]).read_text(encoding="utf-8")
    body = src.encode("utf-8")
    assert HIRAGANA.search(src)
    for label in ("ISO-8859-1", "latin1", "windows-1252"):
        dec = decode_html(body, label)
        assert dec.text == src
        assert (dec.codec, dec.source, dec.replacements) == ("utf-8", "http+overruled", 0)


def test_shift_jis_label_on_euc_jp_bytes_is_overruled():
    from jawebcorpus.sample import PAGES_DIR

    src = (PAGES_DIR / "ja_onsen_eucjp.html").read_text(encoding="utf-8")
    body = src.encode("euc_jp")
    dec = decode_html(body, "Shift_JIS")
    assert dec.source == "http+overruled" and dec.codec in ("euc_jp", "euc_jis_2004")
    assert dec.text == src


@pytest.mark.parametrize("bom, codec, expected_codec", [
    (codecs.BOM_UTF8, "utf-8", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
])
def test_bom_wins_over_labels(bom, codec, expected_codec):
    text = '<html><head><meta charset="shift_jis"></head><body>日本語のページです。</body></html>'
    body = bom + text.encode(codec)
    dec = decode_html(body, "euc-jp")
    assert (dec.codec, dec.source, dec.replacements) == (expected_codec, "bom", 0)
    assert dec.text.lstrip("\ufeff") == text


def test_utf16_label_on_an_8bit_page_is_ignored():
    body = '<meta charset="utf-16"><p>これは日本語です。</p>'.encode("utf-8")
    dec = decode_html(body, "utf-16")
    assert dec.codec == "utf-8" and "これは日本語です。" in dec.text


def test_unknown_labels_fall_through_to_detection():
    src = "<p>これはラベルのない日本語のページです。</p>"
    for codec in ("cp932", "euc_jp", "utf-8"):
        dec = decode_html(src.encode(codec), "x-no-such-charset")
        assert dec.text == src and dec.replacements == 0


def test_empty_and_ascii_bodies():
    assert decode_html(b"").text == ""
    dec = decode_html(b"<html>hello</html>")
    assert dec.text == "<html>hello</html>" and dec.replacements == 0


@pytest.mark.parametrize("label, codec", [
    ("Shift_JIS", "cp932"), ("x-sjis", "cp932"), ("Windows-31J", "cp932"), ("EUC-JP", "euc_jp"),
    ("ISO-2022-JP", "iso2022_jp_2"), ("UTF-8", "utf-8"), (" 'utf8' ", "utf-8"),
    # the Encoding Standard reads ISO-8859-1 and US-ASCII labels as windows-1252
    ("iso-8859-1", "cp1252"), ("US-ASCII", "cp1252"), ("no-such", None), ("", None), (None, None),
])
def test_normalize_charset(label, codec):
    got = normalize_charset(label)
    assert got == codec or (codec is not None and codecs.lookup(got).name == codecs.lookup(codec).name)


def test_meta_charset_forms():
    assert meta_charset(b'<meta charset="EUC-JP">') == "EUC-JP"
    assert meta_charset(b"<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=Shift_JIS'>") == "Shift_JIS"
    assert meta_charset(b"<p>charset=utf-8</p>") is None


def test_every_japanese_sample_page_decodes_to_its_source(sample_warcs, manifest):
    """Decoded from the WARC (http + meta + detection as the pipeline does), each Japanese
    page equals its UTF-8 source in src/jawebcorpus/sample/pages/ (the manifest names the file)."""
    from jawebcorpus.sample import PAGES_DIR

    by_url = {(c["snapshot"], c["url"]): c for c in manifest["captures"]}
    checked = set()
    for path in sample_warcs:
        for rec in iter_records(open(path, "rb")):
            if rec.rec_type != "response":
                continue
            cap = by_url[(path.parts[-5], rec.headers["warc-target-uri"])]
            if not cap["kind"].startswith("ja"):
                continue
            resp = parse_response(rec.block, 8 << 20)
            ctype = resp.headers.get("content-type", "")
            dec = decode_html(resp.body, header_charset(ctype), detect_japanese(resp.body).codec_hint)
            src = (PAGES_DIR / cap["file"]).read_text(encoding="utf-8")
            assert dec.text == src, cap["id"]
            assert dec.replacements == 0
            assert codecs.lookup(dec.codec).name in {
                codecs.lookup(cap["encoding"]).name, "iso2022_jp_2"
            }, cap["id"]
            checked.add(cap["id"])
    assert checked == {c["id"] for c in manifest["captures"] if c["kind"].startswith("ja")}
