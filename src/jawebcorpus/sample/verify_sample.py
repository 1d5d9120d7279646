#!/usr/bin/env python3
"""Check the built sample crawl (needs ``warcio``).

* every WARC record parses with warcio and its block/payload digests verify;
* each record is its own gzip member, the file starts with ``warcinfo`` and
  every capture is a request/response/metadata triple linked by
  WARC-Concurrent-To, dated inside the snapshot's month;
* ``warc.paths.gz`` lists the WARC files;
* every response body (after de-chunking / gunzip) equals what the manifest
  says, and text pages decode strictly with their codec;
* pages expected to be kept meet the length/hiragana/sentence rules, and each
  filter-target page really shows the property its filter looks for.

Usage::

    python src/jawebcorpus/sample/verify_sample.py
"""
from __future__ import annotations

import gzip
import io
import re
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build_sample  # noqa: E402

HIRA = re.compile(r"[\u3041-\u309f]")
KATA = re.compile(r"[\u30a0-\u30ff\uff66-\uff9f]")
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3005]")
HANGUL = re.compile(r"[\uac00-\ud7af]")
NG_WORDS = ["出会い系", "カジノ", "オンラインカジノ", "無料登録", "高収入"]

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SKIP_TAGS = {"script", "style", "header", "nav", "footer", "aside", "head", "title"}
SKIP_ATTR = re.compile(r"nav|menu|foot|header|side|related|masthead", re.I)
BLOCK = {"p", "li", "h1", "h2", "h3", "h4", "dd", "dt", "div", "tr", "br", "section", "article", "time"}


class _Text(HTMLParser):
    """Rough main-text extractor: drops header/nav/footer/aside and menus."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.parts: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag, attrs):
        if tag in BLOCK:
            self.parts.append("\n")
        if tag in VOID:
            return
        a = dict(attrs)
        skip = tag in SKIP_TAGS or bool(SKIP_ATTR.search((a.get("id") or "") + " " + (a.get("class") or "")))
        self.stack.append((tag, skip))

    def handle_endtag(self, tag):
        if tag in BLOCK:
            self.parts.append("\n")
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if not self._skipping():
            self.parts.append(data)


def main_lines(html: str) -> list[str]:
    p = _Text()
    p.feed(html)
    p.close()
    return [ln.strip() for ln in "".join(p.parts).split("\n") if ln.strip()]


def text_stats(lines: list[str]) -> dict:
    text = "\n".join(lines).replace("，", "、").replace("．", "。")
    h, k, c = (len(r.findall(text)) for r in (HIRA, KATA, KANJI))
    ja = h + k + c
    sents = [s.strip() for ln in text.split("\n") for s in re.split(r"(?<=[。！？])", ln) if s.strip()]
    ended = [s for s in sents if s.endswith("。")]
    return {
        "chars": len(text.replace("\n", "")),
        "ja": ja,
        "hira": h / ja if ja else 0.0,
        "kana": h + k,
        "hangul": len(HANGUL.findall(text)),
        "sentences": len(ended),
        "bad_len": [s for s in ended if not 20 <= len(s) <= 90],
        "too_long": [s for s in sents if len(s) > 200],
        "dup_lines": len(lines) - len(set(lines)),
        "dots": sum(s.endswith(("…", "・")) for s in sents) / len(sents) if sents else 0.0,
        "ng": sum(text.count(w) for w in NG_WORDS),
        "text": text,
    }


def gzip_members(data: bytes) -> int:
    n = 0
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data)
        if not d.eof:
            raise ValueError("truncated gzip member")
        data = d.unused_data
        n += 1
    return n


def check(cond: bool, msg: str, errors: list[str]) -> None:
    if not cond:
        errors.append(msg)


def verify() -> int:
    manifest = build_sample.load_manifest()
    errors: list[str] = []
    rows = []
    for snapshot, info in manifest["snapshots"].items():
        rel = "crawl-data/%s/segments/%s/warc/%s" % (snapshot, info["segment"], info["warc_file"])
        path = HERE / rel
        listed = gzip.decompress((HERE / "crawl-data" / snapshot / "warc.paths.gz").read_bytes()).decode()
        check(listed.splitlines() == [rel], f"{snapshot}: warc.paths.gz lists {listed!r}", errors)
        raw = path.read_bytes()
        captures = [c for c in manifest["captures"] if c["snapshot"] == snapshot]
        members = gzip_members(raw)
        check(members == 1 + 3 * len(captures), f"{rel}: {members} gzip members", errors)
        month = info["start"][:7]

        records = []
        for rec in ArchiveIterator(io.BytesIO(raw), check_digests="raise"):
            h = rec.rec_headers
            body = rec.content_stream().read()
            check(rec.digest_checker.passed is not False, f"digest problem {rec.digest_checker.problems}", errors)
            check(h.protocol == "WARC/1.0", "version line", errors)
            check(h.get_header("WARC-Date", "").startswith(month), f"date {h.get_header('WARC-Date')}", errors)
            records.append((rec.rec_type, dict(h.headers), rec.http_headers, body))
        check(records[0][0] == "warcinfo", f"{rel}: first record is {records[0][0]}", errors)
        check(f"isPartOf: {snapshot}" in records[0][3].decode(), "warcinfo isPartOf", errors)
        check(records[0][1].get("WARC-Filename") == info["warc_file"], "warcinfo WARC-Filename", errors)
        ids = [r[1]["WARC-Record-ID"] for r in records]
        check(len(ids) == len(set(ids)), "duplicate record ids", errors)

        for i, cap in enumerate(captures):
            (t1, req, _, _), (t2, resp, http, body), (t3, meta, _, mbody) = records[1 + 3 * i : 4 + 3 * i]
            check((t1, t2, t3) == ("request", "response", "metadata"), f"{cap['id']}: record order", errors)
            check(resp["WARC-Concurrent-To"] == req["WARC-Record-ID"], f"{cap['id']}: response->request", errors)
            check(meta["WARC-Concurrent-To"] == resp["WARC-Record-ID"], f"{cap['id']}: metadata->response", errors)
            check(resp["WARC-Target-URI"] == cap["url"], f"{cap['id']}: target uri", errors)
            check(mbody.startswith(b"fetchTimeMs: "), f"{cap['id']}: metadata body", errors)
            check(http.get_statuscode() == str(cap.get("status", 200)), f"{cap['id']}: status", errors)
            check(http.get_header("Content-Type") == cap["content_type"], f"{cap['id']}: content-type", errors)
            expected_body = build_sample.entity_body(cap)
            check(body == expected_body, f"{cap['id']}: body differs after decoding", errors)

            row = {"cap": cap, "len": len(body), "ja": "", "hira": "", "note": ""}
            if cap.get("encoding"):
                try:
                    html = body.decode(cap["encoding"], errors="strict")
                except UnicodeDecodeError as e:
                    errors.append(f"{cap['id']}: does not decode as {cap['encoding']}: {e}")
                    continue
                check(html == (build_sample.PAGES / cap["file"]).read_text(encoding="utf-8"),
                      f"{cap['id']}: decoded text differs from source", errors)
                st = text_stats(main_lines(html))
                row.update(ja=st["ja"], hira=f"{st['hira']:.2f}")
                exp, kind = cap["expected"], cap["kind"]
                if exp in ("keep",) or exp.startswith("dedup:") or kind in (
                        "ja_filter_duplicate_lines", "ja_filter_ng_words", "ja_filter_host"):
                    # pages whose only flaw (if any) is the one their filter targets
                    check(st["ja"] >= 600, f"{cap['id']}: only {st['ja']} Japanese letters", errors)
                    check(st["hira"] >= 0.2, f"{cap['id']}: hiragana {st['hira']:.2f}", errors)
                    check(not st["bad_len"], f"{cap['id']}: sentence lengths {st['bad_len']}", errors)
                    check(not st["too_long"], f"{cap['id']}: sentences > 200", errors)
                    check(st["dots"] < 0.2, f"{cap['id']}: …/・ endings", errors)
                    if kind != "ja_filter_duplicate_lines":
                        check(st["dup_lines"] == 0, f"{cap['id']}: {st['dup_lines']} duplicate lines", errors)
                if kind == "ja_filter_too_short":
                    n_all = len(re.sub(r"\s", "", html_text(html)))
                    check(n_all < 400, f"{cap['id']}: not short", errors)
                    row["note"] = f"page text {n_all} chars"
                if kind == "ja_filter_duplicate_lines":
                    row["note"] = f"{st['dup_lines']} duplicate lines"
                    check(st["dup_lines"] >= 5, f"{cap['id']}: too few duplicate lines", errors)
                if kind == "ja_filter_low_hiragana":
                    check(st["hira"] < 0.05, f"{cap['id']}: hiragana {st['hira']:.2f}", errors)
                if kind == "ja_filter_ng_words":
                    row["note"] = f"{st['ng']} NG-word hits"
                    check(st["ng"] >= 30, f"{cap['id']}: only {st['ng']} NG words", errors)
                if kind == "ja_ng_false_positive":
                    check("グローバル" in st["text"] and "女の子" in st["text"], f"{cap['id']}: words missing", errors)
                    row["note"] = f"{st['ng']} NG-word hits"
                if kind == "ja_clean_punctuation":
                    check("。" not in html and "、" not in html and html.count("．") > 10, f"{cap['id']}: punctuation", errors)
                if kind.startswith("non_ja") and kind != "non_ja_english" and kind != "non_ja_german":
                    check(st["kana"] == 0, f"{cap['id']}: has kana", errors)
                if kind == "ja_shift_jis_meta":
                    check(_raises(lambda: body.decode("shift_jis")), f"{cap['id']}: no cp932-only char", errors)
            rows.append(row)

    print(f"{'url':72s} {'snapshot':16s} {'kind':27s} {'encoding':10s} {'content-type':30s} {'bytes':>6s} {'ja':>5s} {'hira':>5s}  note")
    for r in rows:
        c = r["cap"]
        te = "+chunked" if c.get("transfer_encoding") else "+gzip" if c.get("content_encoding") else ""
        print(f"{c['url'][:72]:72s} {c['snapshot']:16s} {c['kind']:27s} {str(c.get('encoding') or '-'):10s} "
              f"{(c['content_type'] + te)[:30]:30s} {r['len']:6d} {str(r['ja']):>5s} {r['hira']:>5s}  {c['expected']} {r['note']}")
    total = sum(p.stat().st_size for p in (HERE / "crawl-data").rglob("*") if p.is_file())
    print(f"\n{len(rows)} captures, crawl-data total {total} bytes")
    for e in errors:
        print("ERROR:", e)
    print("OK" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


def html_text(html: str) -> str:
    """All visible text of the page (title included), for the length rule."""
    body = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", "", html)
    body = re.sub(r"(?s)<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", body)


def _raises(fn) -> bool:
    try:
        fn()
    except Exception:
        return True
    return False


if __name__ == "__main__":
    sys.exit(verify())
