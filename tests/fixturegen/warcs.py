"""WARC files built in code: records, captures, a Common-Crawl-shaped crawl, edge cases.

* :func:`warc_record`, :func:`capture`: WARC/1.0 records as Common Crawl writes them (a
  ``request``, a ``response`` with payload and block digests, a ``metadata`` record);
* :func:`build_crawl`: two snapshots (``CC-MAIN-2023-14``, ``CC-MAIN-2023-23``), two WARC files
  each under ``crawl-data/<snapshot>/segments/<segment>/warc/``, a ``warc.paths.gz`` per
  snapshot, one gzip member per record.  Its captures (:data:`CAPTURES`) hold the written
  Japanese articles in every Japanese encoding and declaration, pages from the bundled sample,
  Chinese, Korean and European pages, images, binary bodies, redirects and errors, chunked and
  gzip-encoded bodies, and pages re-crawled in the newer snapshot (one sentence edited) or
  mirrored on other hosts: each capture states what the pipeline must do with it.  With
  ``pad`` the files are padded with image captures up to given sizes (the remote-input tests
  inject faults at fixed byte offsets);
* :func:`edge_case_files`: small files for the reader's framing cases, each with what reading
  it must give.

Deterministic: fixed seeds, record ids from uuid5, gzip mtime 0.
"""

from __future__ import annotations

import base64
import bz2
import gzip
import hashlib
import random
import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .pages import CP932_LINE, article_html
from .texts import (JA_ARTICLES, KO, KO_CHAT, OTHER_LANGUAGES, SHORT_NOTICE, ZH_HANS, ZH_HANT)

__all__ = [
    "OLD", "NEW", "SNAPSHOTS", "warc_record", "http_response", "capture", "warcinfo", "Capture", "CAPTURES",
    "Crawl", "build_crawl", "EdgeCase", "edge_case_files", "chunked", "gz",
]

OLD, NEW = "CC-MAIN-2023-14", "CC-MAIN-2023-23"
SNAPSHOTS = (OLD, NEW)
_NS = uuid.UUID("6f1c1f0e-7a43-4c1e-9a57-2f8c3d1e0b11")
_START = {OLD: datetime(2023, 3, 20, tzinfo=timezone.utc), NEW: datetime(2023, 5, 27, tzinfo=timezone.utc)}
_SEGMENTS = {OLD: ("1679296100000.00", "1679296100000.01"), NEW: ("1685224500000.00", "1685224500000.01")}


def gz(raw: bytes) -> bytes:
    return gzip.compress(raw, compresslevel=6, mtime=0)


def _b32sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def _rid(*parts: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(_NS, '|'.join(parts))}>"


def warc_record(rtype: str, block: bytes, *, record_id: str, date: str, uri: str | None = None,
                content_type: str | None = None, extra: list[tuple[str, str]] = (),
                version: str = "WARC/1.0") -> bytes:
    """One uncompressed record: version line, headers (CRLF), block, CRLF CRLF."""
    lines = [version, f"WARC-Type: {rtype}", f"WARC-Record-ID: {record_id}", f"WARC-Date: {date}"]
    if uri is not None:
        lines.append(f"WARC-Target-URI: {uri}")
    lines += [f"{k}: {v}" for k, v in extra]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def chunked(data: bytes, sizes: list[int], ext: bool = False, upper: bool = False) -> bytes:
    """``data`` in HTTP/1.1 chunked transfer coding, chunks of the given sizes (the last size
    takes the rest)."""
    out, pos = [], 0
    for i, n in enumerate(sizes):
        piece = data[pos:] if i == len(sizes) - 1 else data[pos:pos + n]
        pos += len(piece)
        size = f"{len(piece):X}" if upper else f"{len(piece):x}"
        out.append(size.encode() + (b";ext=1" if ext else b"") + b"\r\n" + piece + b"\r\n")
    return b"".join(out) + b"0\r\n\r\n"


def http_response(body: bytes, *, status: str = "200 OK", content_type: str | None = "text/html",
                  encoding: str | None = None, transfer: str | None = None, extra: list[tuple[str, str]] = (),
                  version: str = "HTTP/1.1") -> tuple[bytes, bytes]:
    """An HTTP response block as stored by a crawler that keeps the bytes sent on the wire:
    (block, payload).  ``encoding`` gzip / deflate compresses the body (Content-Encoding);
    ``transfer`` chunked cuts it in chunks (no Content-Length then)."""
    payload = body
    if encoding == "gzip":
        payload = gz(body)
    elif encoding == "deflate":
        payload = zlib.compress(body, 6)
    if transfer == "chunked":
        sizes = [7, 300, 1024] if len(payload) > 1331 else [len(payload) // 2 + 1, len(payload)]
        payload = chunked(payload, sizes, ext=len(payload) % 2 == 0, upper=len(payload) % 3 == 0)
    headers = [("Date", "Mon, 20 Mar 2023 00:00:00 GMT"), ("Server", "nginx")]
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    if encoding:
        headers.append(("Content-Encoding", encoding))
    if transfer:
        headers.append(("Transfer-Encoding", transfer))
    else:
        headers.append(("Content-Length", str(len(payload))))
    headers += list(extra)
    head = f"{version} {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + payload, payload


def warcinfo(snapshot: str, filename: str, date: str) -> bytes:
    fields = (f"isPartOf: {snapshot}\r\npublisher: jawebcorpus tests\r\n"
              f"description: built by tests/fixturegen/warcs.py\r\nformat: WARC File Format 1.0\r\n").encode()
    return warc_record("warcinfo", fields, record_id=_rid(snapshot, filename, "warcinfo"), date=date,
                       content_type="application/warc-fields", extra=[("WARC-Filename", filename)])


def capture(snapshot: str, url: str, date: str, block: bytes, payload: bytes, *,
            ptype: str = "text/html", truncated: str | None = None, ip: str = "203.0.113.7") -> list[bytes]:
    """request, response, metadata: the three records of one Common Crawl capture."""
    req_id, resp_id = _rid(snapshot, url, date, "request"), _rid(snapshot, url, date, "response")
    host = url.split("/")[2]
    request = (f"GET /{url.split('/', 3)[3] if url.count('/') > 2 else ''} HTTP/1.1\r\nHost: {host}\r\n"
               "User-Agent: jawebcorpus-tests/1.0\r\nAccept: text/html\r\n\r\n").encode()
    extra = [("WARC-Concurrent-To", resp_id), ("WARC-IP-Address", ip)]
    recs = [warc_record("request", request, record_id=req_id, date=date, uri=url,
                        content_type="application/http; msgtype=request", extra=extra[1:] + [
                            ("WARC-Warcinfo-ID", _rid(snapshot, "warcinfo"))])]
    resp_extra = [("WARC-Concurrent-To", req_id), ("WARC-IP-Address", ip),
                  ("WARC-Payload-Digest", _b32sha1(payload)), ("WARC-Block-Digest", _b32sha1(block)),
                  ("WARC-Identified-Payload-Type", ptype)]
    if truncated:
        resp_extra.append(("WARC-Truncated", truncated))
    recs.append(warc_record("response", block, record_id=resp_id, date=date, uri=url,
                            content_type="application/http; msgtype=response", extra=resp_extra))
    meta = f"fetchTimeMs: {len(block) % 500 + 20}\r\ncharset-detected: none\r\n".encode()
    recs.append(warc_record("metadata", meta, record_id=_rid(snapshot, url, date, "metadata"), date=date,
                            uri=url, content_type="application/warc-fields", extra=[("WARC-Concurrent-To", resp_id)]))
    return recs


# -- the crawl's captures -------------------------------------------------------------------------
@dataclass(frozen=True)
class Capture:
    """One capture of the crawl and what the pipeline must do with it.

    ``expect``: ``"kept"`` (through every per-file stage), or ``"<stage>:<reason>"`` for the
    stage that drops it (``"read:http_status"``, ``"detect:no_japanese_signal"`` …), or
    ``"langid"`` for "dropped by language ID, whichever reason".  ``group``: captures with
    the same group are copies of one page (re-crawled or mirrored): dedup keeps exactly one,
    from the newest snapshot.  ``text``: for kept pages, sentences the output must hold.
    """

    key: str
    snapshot: str
    file: int  # 0 or 1: which of the snapshot's two WARC files
    url: str
    body: bytes
    content_type: str | None
    expect: str
    group: str | None = None
    status: str = "200 OK"
    encoding: str | None = None
    transfer: str | None = None
    truncated: str | None = None
    text: tuple[str, ...] = ()


def _article(name: str, codec: str, declared: str, *, lang: str | None = None, edit: tuple[str, str] | None = None,
             boilerplate: bool = False) -> tuple[bytes, tuple[str, ...]]:
    title, paras = JA_ARTICLES[name]
    if edit:
        paras = [[s.replace(*edit) for s in p] for p in paras]
    label = {"cp932": "Shift_JIS", "euc_jp": "EUC-JP", "iso2022_jp": "ISO-2022-JP", "utf-8": "UTF-8"}[codec]
    extra = [CP932_LINE] if codec == "cp932" else []
    src = article_html(title, paras, declare=label, declared_as=declared, lang=lang, extra=extra,
                       boilerplate=boilerplate)
    return src.encode(codec), tuple(s for p in paras for s in p)


def _other(title: str, sentences: list[str], codec: str, lang: str | None, declared: str = "meta") -> bytes:
    return article_html(title, [sentences], declare=codec.upper().replace("_", "-"), declared_as=declared,
                        lang=lang).encode(codec)


def _sample_page(name: str) -> str:
    from jawebcorpus.sample import PAGES_DIR

    return (PAGES_DIR / name).read_text(encoding="utf-8")


def _jpeg(rng: random.Random, n: int) -> bytes:
    """JPEG-shaped bytes (SOI, APP0 JFIF, random entropy-coded data, EOI)."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + rng.randbytes(n) + b"\xff\xd9"


def _captures() -> list[Capture]:
    rng = random.Random(20230320)
    caps: list[Capture] = []

    def add(key, snap, file, url, body, ctype, expect, **kw):
        caps.append(Capture(key, snap, file, url, body, ctype, expect, **kw))

    # --- CC-MAIN-2023-14, file 0 -----------------------------------------------------------------
    body, sents = _article("library", "utf-8", "none", lang="ja")
    add("library-old", OLD, 0, "https://www.minato-lib.example.jp/events/2023/roudoku.html", body,
        "text/html; charset=UTF-8", "kept", group="library", text=sents)
    body, sents = _article("cycling", "cp932", "meta")
    add("cycling-sjis", OLD, 0, "http://www.kosui-cycle.example.jp/diary/isshu.html", body, "text/html",
        "kept", group="cycling", text=sents)
    body, sents = _article("miso", "euc_jp", "none")
    add("miso-eucjp-undeclared", OLD, 0, "http://kominkan.hatake-mura.example.jp/miso.html", body, "text/html",
        "kept", group="miso", text=sents)
    add("english-news", OLD, 0, "https://www.harbour-times.example.com/local/market.html",
        _other("Harbour market", OTHER_LANGUAGES["en"], "utf-8", "en"), "text/html; charset=utf-8",
        "detect:no_japanese_signal")
    add("image", OLD, 0, "https://www.minato-lib.example.jp/img/roudoku.jpg", _jpeg(rng, 2500), "image/jpeg",
        "read:not_html")
    add("not-found", OLD, 0, "https://www.minato-lib.example.jp/events/2022/old.html",
        "<html><body><h1>ページが見つかりません</h1><p>お探しのページは削除されたか、移動した可能性があります。</p></body></html>"
        .encode(), "text/html; charset=UTF-8", "read:http_status", status="404 Not Found")
    add("redirect", OLD, 0, "http://minato-lib.example.jp/", b"<html><body>Moved</body></html>",
        "text/html; charset=iso-8859-1", "read:http_status", status="301 Moved Permanently")
    # --- CC-MAIN-2023-14, file 1 -----------------------------------------------------------------
    body, sents = _article("stars", "iso2022_jp", "http-equiv", lang="ja")
    add("stars-iso2022jp", OLD, 1, "http://www.kogen-shizen.example.jp/report/hoshizora.html", body, "text/html",
        "kept", group="stars", text=sents)
    body, sents = _article("sento", "utf-8", "meta")
    add("sento-chunked", OLD, 1, "https://www.shotengai-yu.example.jp/news/70th.html", body, "text/html",
        "kept", transfer="chunked", text=sents)
    add("chinese-gbk", OLD, 1, "http://www.jiushu-shichang.example.cn/wenzhang/1.html",
        _other(ZH_HANS[0], ZH_HANS[1], "gbk", "zh-CN"), "text/html; charset=GBK", "detect:no_japanese_signal")
    add("chinese-big5", OLD, 1, "http://www.denglong-xiaozhen.example.tw/about.html",
        _other(ZH_HANT[0], ZH_HANT[1], "big5", None, "none"), "text/html", "detect:no_japanese_signal")
    add("korean-euckr", OLD, 1, "http://www.badatga-sijang.example.kr/blog/1.html",
        _other(KO[0], KO[1], "euc_kr", "ko"), "text/html", "detect:no_japanese_signal")
    # an EUC-KR forum page full of jamo: its bytes look like EUC-JP kana; whatever stage
    # catches it, it must not reach the output
    add("korean-jamo-forum", OLD, 1, "http://www.yeonghwa-talk.example.kr/board/view/77.html",
        _other(KO_CHAT[0], KO_CHAT[1], "euc_kr", None, "none"), "text/html", "not_kept")
    add("chinese-lang-ja", OLD, 1, "https://www.cha-zhishi.example.com/zh/shu.html",
        _other(ZH_HANS[0], ZH_HANS[1], "utf-8", "ja"), "text/html; charset=UTF-8", "langid")
    body, sents = _article("pottery", "utf-8", "meta", lang="ja", boilerplate=True)
    add("pottery-boilerplate", OLD, 1, "https://www.tonarimachi-tougei.example.jp/blog/yunomi.html", body,
        "text/html; charset=utf-8", "kept", text=sents)
    short = article_html(SHORT_NOTICE[0], SHORT_NOTICE[1], declare="UTF-8", declared_as="meta", lang="ja").encode()
    add("short-notice", OLD, 1, "https://www.shotengai-yu.example.jp/news/kyugyo.html", short,
        "text/html; charset=UTF-8", "quality:too_short")
    add("binary-as-html", OLD, 1, "https://www.files.example.net/get.php?id=7",
        b"%PDF-1.4\n" + bytes(rng.randrange(256) for _ in range(3000)), "text/html", "read:binary_body")
    # --- CC-MAIN-2023-23, file 0 -----------------------------------------------------------------
    body, sents = _article("library", "utf-8", "none", lang="ja", edit=("四十人ほど", "五十人ほど"))
    add("library-new", NEW, 0, "https://www.minato-lib.example.jp/events/2023/roudoku.html", body,
        "text/html; charset=UTF-8", "kept", group="library", text=sents)
    body, sents = _article("miso", "utf-8", "meta", lang="ja")
    add("miso-mirror-utf8", NEW, 0, "https://mirror.inaka-news.example.net/hatake-mura/miso.html", body,
        "text/html; charset=UTF-8", "kept", group="miso", text=sents)
    body, sents = _article("tram", "utf-8", "meta", lang="ja")
    add("tram-gzip", NEW, 0, "https://www.romen-densha.example.jp/history/100.html", body,
        "text/html; charset=UTF-8", "kept", encoding="gzip", text=sents)
    add("german", NEW, 0, "https://www.wanderfreunde.example.de/touren/muehle.html",
        _other("Rundweg an der Mühle", OTHER_LANGUAGES["de"], "utf-8", "de"), "text/html; charset=UTF-8",
        "detect:no_japanese_signal")
    add("empty-body", NEW, 0, "https://www.romen-densha.example.jp/empty", b"", "text/html", "read:empty_body")
    body, _ = _article("tram", "cp932", "none")
    add("blocked-host", NEW, 0, "https://itest.5ch.net/test/read.cgi/train/1685224500/", body,
        "text/html; charset=Shift_JIS", "hosts:host_suffix")
    add("sample-ng-spam", NEW, 0, "https://www.okozukai-navi.example.com/entry/9.html",
        _sample_page("ja_filter_ng_spam.html").encode(), "text/html; charset=UTF-8", "ngwords:ng_fraction")
    add("sample-dup-lines", NEW, 0, "https://www.pan-kobo.example.jp/news/week.html",
        _sample_page("ja_filter_dup_lines.html").encode("euc_jp"), "text/html; charset=EUC-JP",
        "quality:dup_line_frac")
    # --- CC-MAIN-2023-23, file 1 -----------------------------------------------------------------
    body, sents = _article("winter", "utf-8", "none")
    add("winter-undeclared-utf8", NEW, 1, "https://www.yamaai-mura.example.jp/kurashi/fuyujitaku.html", body,
        None, "kept", text=sents)
    body, sents = _article("cycling", "utf-8", "meta", lang="ja", boilerplate=True)
    add("cycling-recrawl-utf8", NEW, 1, "https://www.kosui-cycle.example.jp/diary/isshu.html", body,
        "text/html; charset=utf-8", "kept", group="cycling", text=sents)
    body, sents = _article("stars", "utf-8", "meta", lang="ja", boilerplate=True)
    add("stars-mirror", NEW, 1, "https://mirror.tenmon-club.example.org/kogen/hoshizora.html", body,
        "text/html; charset=UTF-8", "kept", group="stars", text=sents)
    src = _sample_page("ja_history_shukuba_utf8.html")
    add("sample-page-deflate", NEW, 1, "https://www.shukuba-rekishi.example.jp/michi/index.html", src.encode(),
        "text/html; charset=UTF-8", "kept", encoding="deflate", truncated="length")
    src = _sample_page("ja_onsen_eucjp.html")
    add("sample-page-http10-eucjp", NEW, 1, "http://www.yamanoyu.example.jp/", src.encode("euc_jp"),
        "text/html; charset=x-euc-jp", "kept")
    add("sample-punctuation", NEW, 1, "https://www.rika-techo.example.jp/notes/iro.html",
        _sample_page("ja_clean_fullwidth_punct.html").encode(), "text/html; charset=UTF-8", "kept")
    add("french", NEW, 1, "https://www.marche-couvert.example.fr/histoire.html",
        _other("Le marché couvert", OTHER_LANGUAGES["fr"], "utf-8", "fr"), "text/html; charset=utf-8",
        "detect:no_japanese_signal")
    return caps


CAPTURES: tuple[Capture, ...] = tuple(_captures())


@dataclass
class Crawl:
    root: Path
    files: list[str]  # paths relative to root, sorted
    captures: tuple[Capture, ...]
    sizes: dict[str, int] = field(default_factory=dict)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def by_url(self) -> dict[tuple[str, str], Capture]:
        return {(c.snapshot, c.url): c for c in self.captures}


def _file_name(snapshot: str, i: int) -> str:
    day = _START[snapshot].strftime("%Y%m%d")
    return f"CC-MAIN-{day}000000-{day}020000-{i:05d}.warc.gz"


def build_crawl(root: Path, pad: dict[tuple[str, int], int] | None = None) -> Crawl:
    """Write the crawl under ``root``; ``pad`` = {(snapshot, file): size}: image captures of
    random bytes are appended until the file is at least that many bytes."""
    rng = random.Random(4242)
    files, sizes = [], {}
    for snap in SNAPSHOTS:
        listing = []
        for i in (0, 1):
            seg = _SEGMENTS[snap][i]
            name = _file_name(snap, i)
            rel = f"crawl-data/{snap}/segments/{seg}/warc/{name}"
            t = _START[snap] + timedelta(hours=i)
            members = [gz(warcinfo(snap, name, t.strftime("%Y-%m-%dT%H:%M:%SZ")))]
            size = len(members[0])
            n = 0
            for cap in CAPTURES:
                if cap.snapshot != snap or cap.file != i:
                    continue
                n += 1
                date = (t + timedelta(seconds=97 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
                block, payload = http_response(cap.body, status=cap.status, content_type=cap.content_type,
                                               encoding=cap.encoding, transfer=cap.transfer,
                                               version="HTTP/1.0" if "http10" in cap.key else "HTTP/1.1")
                for raw in capture(snap, cap.url, date, block, payload, truncated=cap.truncated):
                    members.append(gz(raw))
                    size += len(members[-1])
            target = (pad or {}).get((snap, i), 0)
            while size < target:
                n += 1
                date = (t + timedelta(seconds=97 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
                img = _jpeg(rng, min(400_000, target - size + 1000))
                block, payload = http_response(img, content_type="image/jpeg")
                url = f"https://img.minato-photo.example.jp/{snap}/{n}.jpg"
                for raw in capture(snap, url, date, block, payload, ptype="image/jpeg"):
                    members.append(gz(raw))
                    size += len(members[-1])
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"".join(members))
            sizes[rel] = size
            listing.append(rel)
            files.append(rel)
        (root / "crawl-data" / snap / "warc.paths.gz").write_bytes(gz(("\n".join(listing) + "\n").encode()))
    return Crawl(root, sorted(files), CAPTURES, sizes)


# -- edge cases for the reader ----------------------------------------------------------------------
@dataclass(frozen=True)
class EdgeCase:
    """A small file and what reading it must give.

    ``records``: the records a correct reader yields (their uncompressed bytes, in order) —
    all of them, or those before the damage; ``error``: the error classes reading may stop
    with (empty: it must read to the end); ``warcio_reads``: warcio reads the same records from
    the file as it is (else only from its decompressed bytes, or not at all).
    """

    name: str
    data: bytes
    records: tuple[bytes, ...]
    error: frozenset[str] = frozenset()
    warcio_reads: bool = True
    partial_record: bool | None = None


def _edge_records() -> list[bytes]:
    """A warcinfo, two Japanese captures (one chunked and gzip-encoded), a revisit, a resource
    and a conversion record (WARC/1.1), with ids and URIs in both of WARC's forms."""
    snap, date = OLD, "2023-03-20T01:02:03Z"
    recs = [warcinfo(snap, "edge.warc.gz", date)]
    body, _ = _article("library", "utf-8", "meta", lang="ja")
    block, payload = http_response(body, content_type="text/html; charset=UTF-8")
    recs += capture(snap, "https://www.minato-lib.example.jp/a.html", date, block, payload)
    body, _ = _article("sento", "cp932", "meta")
    block, payload = http_response(body, content_type="text/html", encoding="gzip", transfer="chunked")
    recs += capture(snap, "https://www.shotengai-yu.example.jp/b.html", date, block, payload)
    recs.append(warc_record(
        "revisit", b"HTTP/1.1 304 Not Modified\r\nDate: Mon, 20 Mar 2023 00:00:00 GMT\r\n\r\n",
        record_id=_rid("edge", "revisit"), date=date, uri="https://www.minato-lib.example.jp/a.html",
        content_type="application/http; msgtype=response",
        extra=[("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"),
               ("WARC-Refers-To-Target-URI", "https://www.minato-lib.example.jp/a.html")]))
    recs.append(warc_record("resource", "みなと町だより 資料一覧\n".encode(), record_id=_rid("edge", "resource"),
                            date=date, uri="<file:///data/list.txt>", content_type="text/plain; charset=utf-8",
                            version="WARC/1.1"))
    text = "\n".join(s for p in JA_ARTICLES["winter"][1] for s in p).encode()
    recs.append(warc_record("conversion", text, record_id=_rid("edge", "conversion"), date=date,
                            uri="https://www.yamaai-mura.example.jp/a b.html", content_type="text/plain",
                            version="WARC/1.1", extra=[("WARC-Refers-To", _rid("edge", "resource"))]))
    return recs


def _xxh32_short(data: bytes, seed: int = 0) -> int:
    """xxHash32 of fewer than 16 bytes (the LZ4 frame header checksum)."""
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    m = 0xFFFFFFFF
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & m  # noqa: E731
    assert len(data) < 16
    h = (seed + p5 + len(data)) & m
    i = 0
    while i + 4 <= len(data):
        h = rotl((h + struct.unpack_from("<I", data, i)[0] * p3) & m, 17) * p4 & m
        i += 4
    for b in data[i:]:
        h = rotl((h + b * p5) & m, 11) * p1 & m
    h ^= h >> 15
    h = h * p2 & m
    h ^= h >> 13
    h = h * p3 & m
    return h ^ (h >> 16)


def _lz4_frame(data: bytes) -> bytes:
    """An LZ4 frame holding ``data`` in uncompressed blocks (no lz4 library needed): magic,
    FLG (version 1, independent blocks), BD (64 KiB blocks), header checksum, blocks, end mark."""
    desc = b"\x60\x40"
    out = [b"\x04\x22\x4d\x18", desc, bytes([(_xxh32_short(desc) >> 8) & 0xFF])]
    for i in range(0, len(data), 65536):
        block = data[i:i + 65536]
        out.append(struct.pack("<I", len(block) | 0x80000000) + block)
    out.append(b"\x00\x00\x00\x00")
    return b"".join(out)


def edge_case_files() -> list[EdgeCase]:
    recs = _edge_records()
    plain = b"".join(recs)
    per_record = b"".join(gz(r) for r in recs)
    cases = [
        EdgeCase("plain.warc", plain, tuple(recs)),
        EdgeCase("per-record.warc.gz", per_record, tuple(recs)),
        # wget writes a whole file as one member: records share offset 0
        EdgeCase("one-member.warc.gz", gz(plain), tuple(recs), warcio_reads=False),
    ]
    # member boundaries that do not fall between records: three members cut mid-record
    cuts = sorted({len(recs[0]) + 17, len(plain) // 2, len(plain) - len(recs[-1]) // 2})
    pieces = [plain[a:b] for a, b in zip([0, *cuts], [*cuts, len(plain)])]
    cases.append(EdgeCase("split-members.warc.gz", b"".join(gz(p) for p in pieces), tuple(recs), warcio_reads=False))
    # a few records in one member, then one per member (a writer that changed its mind)
    cases.append(EdgeCase("mixed-members.warc.gz", gz(b"".join(recs[:4])) + b"".join(gz(r) for r in recs[4:]),
                          tuple(recs), warcio_reads=False))
    # damage: the file cut inside its last member; a plain file cut inside a record's block;
    # a member whose deflate data is corrupt
    last = gz(recs[-1])
    cases.append(EdgeCase("clipped.warc.gz", b"".join(gz(r) for r in recs[:-1]) + last[: len(last) // 2],
                          tuple(recs[:-1]), frozenset({"truncated_gzip"}), warcio_reads=False, partial_record=True))
    cut = len(b"".join(recs[:5])) + 200  # inside the chunked response's block
    cases.append(EdgeCase("truncated.warc", plain[:cut], tuple(recs[:5]),
                          frozenset({"truncated_record", "malformed_record"}), warcio_reads=False))
    bad = bytearray(gz(recs[2]))
    bad[40:60] = bytes(20)
    cases.append(EdgeCase("corrupt-member.warc.gz", gz(recs[0]) + gz(recs[1]) + bytes(bad) + gz(recs[3]),
                          tuple(recs[:2]), frozenset({"gzip_error", "truncated_gzip"}), warcio_reads=False))
    # formats that are not WARC, or compressed otherwise than gzip
    arc = (b"filedesc://edge.arc 0.0.0.0 20230320010203 text/plain 76\n"
           b"1 0 jawebcorpus tests\nURL IP-address Archive-date Content-type Archive-length\n\n"
           b"http://www.minato-lib.example.jp/ 203.0.113.7 20230320010203 text/html 20\n<html>arc</html>\n\n")
    cases += [
        EdgeCase("edge.arc", arc, (), frozenset({"arc_not_supported"}), warcio_reads=False),
        EdgeCase("edge.arc.gz", gz(arc), (), frozenset({"arc_not_supported"}), warcio_reads=False),
        EdgeCase("edge.warc.bz2", bz2.compress(plain), (), frozenset({"unsupported_compression"}), warcio_reads=False),
        EdgeCase("edge.warc.lz4", _lz4_frame(plain), (), frozenset({"unsupported_compression"}), warcio_reads=False),
        EdgeCase("edge.warc.zst", b"\x28\xb5\x2f\xfd" + b"\x00" * 8 + plain[:64], (),
                 frozenset({"unsupported_compression"}), warcio_reads=False),
        EdgeCase("page.html", _sample_page("ja_travel_kyoto_utf8.html").encode(), (), frozenset({"not_a_warc"}),
                 warcio_reads=False),
        EdgeCase("empty.warc.gz", b"", ()),
    ]
    return cases
