#!/usr/bin/env python3
"""Build the bundled sample crawl from ``pages/`` and ``pages/manifest.json``.

Writes a Common-Crawl-shaped tree next to this file::

    crawl-data/<SNAPSHOT>/warc.paths.gz
    crawl-data/<SNAPSHOT>/segments/<segment>/warc/<file>.warc.gz

Each WARC file starts with a ``warcinfo`` record followed by a ``request``,
``response`` and ``metadata`` record for every capture, each record being its
own gzip member.  The output is deterministic: record ids are uuid5 values,
dates come from the manifest order, gzip headers carry mtime=0, and the only
"random" body comes from a seeded generator.  Running the script twice gives
byte-identical files.

Standard library only.  Usage::

    python src/jawebcorpus/sample/build_sample.py [--out DIR]
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import random
import struct
import sys
import uuid
import zlib
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
PAGES = HERE / "pages"
MANIFEST = PAGES / "manifest.json"

# Seconds between two consecutive captures of one snapshot (keeps every
# WARC-Date inside the two-hour window named in the WARC file name).
CAPTURE_STEP_SECONDS = 97

USER_AGENT = "CCBot/2.0 (https://commoncrawl.org/faq/)"

# A 32x24 JPEG (pink/green gradient, quality 70), generated once with Pillow
# and embedded so that this script needs nothing outside the standard library.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIf"
    "IiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7"
    "Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAYACADASIA"
    "AhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQA"
    "AAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3"
    "ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWm"
    "p6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEA"
    "AwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSEx"
    "BhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElK"
    "U1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3"
    "uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDqmiqJ"
    "oq0GiqNoqKUztrVDPaKo2iq+0VRtFXqUpnlVahsNFUbRUUV4NJs6KsmRtFUTRUUV6dJs8mrJn//Z"
)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def gzip_member(data: bytes) -> bytes:
    """One gzip member with a fixed header (mtime=0, OS=255) for determinism."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
    body = comp.compress(data) + comp.flush()
    header = b"\x1f\x8b\x08\x00" + struct.pack("<I", 0) + b"\x02\xff"
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return header + body + trailer


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def record_id(*parts: str) -> str:
    return "<urn:uuid:%s>" % uuid.uuid5(uuid.NAMESPACE_URL, "jawebcorpus-sample|" + "|".join(parts))


def warc_date(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def http_date(t: dt.datetime) -> str:
    return format_datetime(t, usegmt=True)


def parse_utc(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def fake_ip(host: str) -> str:
    """Deterministic address in the TEST-NET-3 documentation range."""
    return "203.0.113.%d" % (1 + hashlib.sha1(host.encode()).digest()[0] % 250)


def chunked(body: bytes, size: int = 1024) -> bytes:
    out = bytearray()
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    out += b"0\r\n\r\n"
    return bytes(out)


def warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """Serialise one WARC/1.0 record (headers in the given order)."""
    lines = ["WARC/1.0"]
    for name, value in headers:
        lines.append("%s: %s" % (name, value))
        if name == "WARC-Record-ID":  # Common Crawl puts Content-Length here
            lines.append("Content-Length: %d" % len(block))
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + block + b"\r\n\r\n"


# --------------------------------------------------------------------------
# payloads
# --------------------------------------------------------------------------
def entity_body(cap: dict) -> bytes:
    """The page bytes before any HTTP transfer/content coding."""
    gen = cap.get("generator")
    if gen == "jpeg":
        return TINY_JPEG
    if gen == "random_pdf":
        rng = random.Random(cap["seed"])
        head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        return head + rng.randbytes(cap["size"] - len(head))
    text = (PAGES / cap["file"]).read_text(encoding="utf-8")
    return text.encode(cap["encoding"], errors="strict")


def http_request(cap: dict) -> bytes:
    parts = urlsplit(cap["url"])
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    lines = [
        "GET %s HTTP/1.1" % target,
        "User-Agent: %s" % USER_AGENT,
        "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        "Accept-Language: en-US,en;q=0.5",
        "Accept-Encoding: br,gzip",
        "Host: %s" % parts.netloc,
        "Connection: Keep-Alive",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


def http_response(cap: dict, when: dt.datetime) -> tuple[bytes, bytes]:
    """Return (full HTTP response block, payload bytes as stored)."""
    body = entity_body(cap)
    headers = [("Date", http_date(when)), ("Server", cap.get("server", "nginx"))]
    if cap.get("content_encoding") == "gzip":
        body = gzip_member(body)
    if cap.get("transfer_encoding") == "chunked":
        payload = chunked(body)
        headers.append(("Content-Type", cap["content_type"]))
        headers.append(("Transfer-Encoding", "chunked"))
    else:
        payload = body
        headers.append(("Content-Type", cap["content_type"]))
        headers.append(("Content-Length", str(len(body))))
    if cap.get("content_encoding"):
        headers.append(("Content-Encoding", cap["content_encoding"]))
        headers.append(("Vary", "Accept-Encoding"))
    for name, value in cap.get("extra_headers", []):
        headers.append((name, value))
    headers.append(("Connection", "keep-alive"))
    status = cap.get("status", 200)
    reason = cap.get("reason", "OK")
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    head += "".join("%s: %s\r\n" % kv for kv in headers) + "\r\n"
    return head.encode("latin-1") + payload, payload


# --------------------------------------------------------------------------
# WARC files
# --------------------------------------------------------------------------
def build_warc(snapshot: str, info: dict, captures: list[dict]) -> bytes:
    start = parse_utc(info["start"])
    filename = info["warc_file"]
    warcinfo_id = record_id(snapshot, filename, "warcinfo")
    fields = [
        ("isPartOf", snapshot),
        ("publisher", "jawebcorpus (synthetic sample, not Common Crawl data)"),
        ("description", info["description"]),
        ("operator", "jawebcorpus sample builder"),
        ("hostname", "sample-builder.invalid"),
        ("software", "jawebcorpus/sample/build_sample.py"),
        ("format", "WARC File Format 1.0"),
        ("conformsTo", "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.0/"),
    ]
    block = "".join("%s: %s\r\n" % kv for kv in fields).encode("utf-8")
    out = bytearray()
    out += gzip_member(warc_record([
        ("WARC-Type", "warcinfo"),
        ("WARC-Date", warc_date(start)),
        ("WARC-Filename", filename),
        ("WARC-Record-ID", warcinfo_id),
        ("Content-Type", "application/warc-fields"),
        ("WARC-Block-Digest", sha1_b32(block)),
    ], block))

    for i, cap in enumerate(captures):
        when = start + dt.timedelta(seconds=CAPTURE_STEP_SECONDS * (i + 1))
        date = warc_date(when)
        url = cap["url"]
        ip = fake_ip(urlsplit(url).hostname or "")
        req_id = record_id(snapshot, url, "request")
        resp_id = record_id(snapshot, url, "response")
        meta_id = record_id(snapshot, url, "metadata")

        req = http_request(cap)
        out += gzip_member(warc_record([
            ("WARC-Type", "request"),
            ("WARC-Date", date),
            ("WARC-Record-ID", req_id),
            ("Content-Type", "application/http; msgtype=request"),
            ("WARC-Warcinfo-ID", warcinfo_id),
            ("WARC-IP-Address", ip),
            ("WARC-Target-URI", url),
            ("WARC-Block-Digest", sha1_b32(req)),
        ], req))

        resp, payload = http_response(cap, when)
        out += gzip_member(warc_record([
            ("WARC-Type", "response"),
            ("WARC-Date", date),
            ("WARC-Record-ID", resp_id),
            ("Content-Type", "application/http; msgtype=response"),
            ("WARC-Warcinfo-ID", warcinfo_id),
            ("WARC-Concurrent-To", req_id),
            ("WARC-IP-Address", ip),
            ("WARC-Target-URI", url),
            ("WARC-Payload-Digest", sha1_b32(payload)),
            ("WARC-Block-Digest", sha1_b32(resp)),
            ("WARC-Identified-Payload-Type", cap.get("identified_payload_type", "text/html")),
        ], resp))

        fetch_ms = 40 + int(hashlib.sha1(url.encode()).hexdigest(), 16) % 900
        meta = ("fetchTimeMs: %d\r\n" % fetch_ms).encode("ascii")
        out += gzip_member(warc_record([
            ("WARC-Type", "metadata"),
            ("WARC-Date", date),
            ("WARC-Record-ID", meta_id),
            ("Content-Type", "application/warc-fields"),
            ("WARC-Warcinfo-ID", warcinfo_id),
            ("WARC-Concurrent-To", resp_id),
            ("WARC-Target-URI", url),
            ("WARC-Block-Digest", sha1_b32(meta)),
        ], meta))
    return bytes(out)


def load_manifest(path: Path = MANIFEST) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def build(out_dir: Path = HERE) -> list[Path]:
    manifest = load_manifest()
    written = []
    for snapshot, info in manifest["snapshots"].items():
        captures = [c for c in manifest["captures"] if c["snapshot"] == snapshot]
        rel = "crawl-data/%s/segments/%s/warc/%s" % (snapshot, info["segment"], info["warc_file"])
        warc_path = out_dir / rel
        warc_path.parent.mkdir(parents=True, exist_ok=True)
        warc_path.write_bytes(build_warc(snapshot, info, captures))
        paths_gz = out_dir / "crawl-data" / snapshot / "warc.paths.gz"
        paths_gz.write_bytes(gzip_member((rel + "\n").encode("ascii")))
        written += [warc_path, paths_gz]
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE,
                    help="directory that receives crawl-data/ (default: next to this script)")
    args = ap.parse_args(argv)
    for p in build(args.out):
        print("%8d  %s" % (p.stat().st_size, p))
    return 0


if __name__ == "__main__":
    sys.exit(main())
