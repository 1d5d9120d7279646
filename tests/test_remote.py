"""Remote input (``corpus/remote.py``, ``corpus/inputs.py``) against real servers on loopback.

* An HTTP server written here (stdlib ``http.server``, with ``Range`` support) serves
  ``../shared/crawl`` (or, without it, the project's own crawl built by tests/fixturegen/) and
  injects faults on the wire: 503/429/500, a connection closed or reset
  mid-body, a stall past the client's timeout, a server that ignores ``Range``, a 206 that
  starts early, an object that changes between requests.
* moto in server mode is the S3 endpoint, behind a small proxy that injects the same faults
  S3 shows (503 SlowDown, 500 InternalError, dropped and reset connections).
* The whole pipeline through its command line, over HTTP and S3 with faults, must give the
  statistics and the rows of the local run.

Every server listens on 127.0.0.1 only; request loops are bounded by the retry limits.
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import random
import re
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jawebcorpus.corpus import remote
from jawebcorpus.corpus.read import ReadConfig
from jawebcorpus.corpus.inputs import (
    SNAPSHOT_SETS, InputError, expand_snapshots, open_input as inputs_open_input, resolve_paths,
    resolve_snapshots, sample_per_snapshot,
)
from jawebcorpus.corpus.remote import RemoteConfig, RemoteError, open_input
from jawebcorpus.corpus.stats import StatsAccumulator, read_file_records
from jawebcorpus.corpus.stage import Count
from jawebcorpus.corpus.read import FileReport, ReadStage, read_pages
from jawebcorpus.corpus.warc import iter_records
from jawebcorpus.registry import STAGE_NAMES

SHARED = Path(__file__).resolve().parents[2] / "shared"
LOOPBACK = "127.0.0.1"
SNAPS = ["CC-MAIN-2023-14", "CC-MAIN-2023-23"]
STALL_S = 1.5
DRIP_S = 0.02
#: Fast, deterministic retries for tests (the sleep function is replaced too).
FAST = RemoteConfig(max_retries=4, max_total_retries=50, backoff_base_s=0.01, backoff_max_s=0.05, timeout_s=10.0)


# -- fault injection shared by both servers -------------------------------------------------------
class FaultPlan:
    """Faults per object, matched by the end of the request path, taken one per request.

    ``"503"`` … a status (``"503ra7"``: with ``Retry-After: 7``); ``"drop@N"``: N body bytes,
    then the connection is closed (FIN); ``"reset@N"``: N bytes, then a TCP reset;
    ``"stall@N"``: N bytes, then silence past the client's timeout; ``"drip@N"``: N bytes, then
    one byte every ``DRIP_S`` (tests/test_remote_drip.py); ``"ignore_range"``: 200
    with the whole body; ``"early@K"``: a 206 that starts K bytes before the asked position;
    ``"etag"``: another ETag; ``"pieces@N"``: the body N bytes per write, each flushed after a
    pause, so that the client's reads come back short; ``"slowdown"``, ``"internal"``,
    ``"denied"``: S3 error documents (503, 500, 403).  Parts combine with ``+``:
    ``"ignore_range+drop@3000000"``.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.queued: dict[str, list[str]] = {}
        self.always: dict[str, str] = {}
        self.log: list[dict] = []

    def add(self, suffix: str, *faults: str) -> None:
        with self.lock:
            self.queued.setdefault(suffix, []).extend(faults)

    def set_always(self, suffix: str, fault: str) -> None:
        with self.lock:
            self.always[suffix] = fault

    def take(self, path: str) -> str | None:
        with self.lock:
            for suffix, fault in self.always.items():
                if path.endswith(suffix):
                    return fault
            for suffix, queue in self.queued.items():
                if path.endswith(suffix) and queue:
                    return queue.pop(0)
        return None

    def record(self, entry: dict) -> None:
        with self.lock:
            self.log.append(entry)

    def requests(self, suffix: str) -> list[dict]:
        with self.lock:
            return [e for e in self.log if e["path"].endswith(suffix)]

    def reset(self) -> None:
        with self.lock:
            self.queued.clear()
            self.always.clear()
            self.log.clear()


def _parts(fault: str | None) -> dict[str, str]:
    """``"early@1+drop@9000"`` → ``{"early": "1", "drop": "9000"}``."""
    out = {}
    for part in (fault or "").split("+"):
        if part:
            name, _, arg = part.partition("@")
            out[name] = arg
    return out


def _send_body(handler: BaseHTTPRequestHandler, body: bytes, fault: str | None, entry: dict) -> None:
    """Write the body, or only its first N bytes and then misbehave as the fault says."""
    parts = _parts(fault)
    limit = len(body)
    kind = next((k for k in ("drop", "reset", "stall", "drip") if k in parts), None)
    if kind:
        limit = min(limit, int(parts[kind]))
    entry["sent"] = limit  # before the client can see the end of it
    view = memoryview(body)
    try:
        if "pieces" in parts:
            step = int(parts["pieces"])
            for i in range(0, limit, step):
                handler.wfile.write(view[i:min(i + step, limit)])
                handler.wfile.flush()
                time.sleep(0.0005)
            return
        for i in range(0, limit, 1 << 16):
            handler.wfile.write(view[i:min(i + (1 << 16), limit)])
        handler.wfile.flush()
        if kind == "drip":  # the rest, a byte at a time, for as long as the client listens
            for i in range(limit, len(body)):
                time.sleep(DRIP_S)
                handler.wfile.write(view[i:i + 1])
                handler.wfile.flush()
            return
        if limit < len(body):
            handler.close_connection = True
            if kind == "stall":
                time.sleep(STALL_S)
            if kind == "reset":  # abortive close: RST instead of FIN
                handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                handler.wfile.close()
                handler.rfile.close()
                handler.connection.close()
            else:
                handler.connection.shutdown(socket.SHUT_RDWR)
    except OSError:  # the client went away first
        handler.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, handler, plan: FaultPlan):
        super().__init__((LOOPBACK, 0), handler)
        self.plan = plan
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.server_address[1]}/"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class CrawlHandler(BaseHTTPRequestHandler):
    """GET/HEAD of files under ``server.root`` with single ``bytes=N-`` ranges, and faults."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._serve(head=True)

    def do_GET(self):
        self._serve(head=False)

    def _status(self, status: int, retry_after: str | None = None) -> None:
        body = f"status {status}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.end_headers()
        self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        srv = self.server
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        fault = srv.plan.take(path)
        asked = self.headers.get("Range")
        entry = {"path": path, "range": asked, "fault": fault, "status": None, "start": None}
        srv.plan.record(entry)
        if fault and re.fullmatch(r"\d{3}(ra\d+)?", fault):
            status, _, ra = fault.partition("ra")
            entry["status"] = int(status)
            return self._status(int(status), retry_after=ra or "0")
        file = (srv.root / path.lstrip("/")).resolve()
        if srv.root not in file.parents or not file.is_file():
            entry["status"] = 404
            return self._status(404)
        data = srv.data(file)
        size = len(data)
        parts = _parts(fault)
        etag = f'"{size:x}-{hashlib.sha1(data).hexdigest()[:12]}"' if "etag" not in parts else '"changed"'
        start, status = 0, 200
        if asked and "ignore_range" not in parts:
            m = re.fullmatch(r"bytes=(\d+)-", asked.strip())
            assert m, f"the client sent an unexpected Range: {asked}"
            start = int(m.group(1))
            if start >= size:
                entry["status"] = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if "early" in parts:
                start = max(0, start - int(parts["early"]))
            status = 206
        body = data[start:]
        entry["status"], entry["start"] = status, start
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if not head:
            _send_body(self, body, fault, entry)


class FileServer(_Server):
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self._cache: dict[Path, bytes] = {}
        super().__init__(CrawlHandler, FaultPlan())

    def data(self, file: Path) -> bytes:
        if file not in self._cache:
            self._cache[file] = file.read_bytes()
        return self._cache[file]


# -- S3: moto in server mode behind a fault-injecting proxy ---------------------------------------
_S3_ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
    "denied": (403, "AccessDenied", "Access Denied"),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te",
               "trailer", "upgrade"}


class S3ProxyHandler(BaseHTTPRequestHandler):
    """Forwards GET/HEAD to moto; injects S3 error documents and broken connections."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._forward("GET")

    def do_HEAD(self):
        self._forward("HEAD")

    def _forward(self, method: str) -> None:
        import http.client

        srv = self.server
        path = urllib.parse.urlsplit(self.path).path
        fault = srv.plan.take(path)
        entry = {"path": path, "range": self.headers.get("Range"), "if_match": self.headers.get("If-Match"),
                 "signed": "Authorization" in self.headers, "fault": fault, "status": None}
        srv.plan.record(entry)
        if fault in _S3_ERRORS:
            status, code, message = _S3_ERRORS[fault]
            body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}'
                    f"</Message><RequestId>TESTREQ</RequestId><HostId>TESTHOST</HostId></Error>").encode()
            entry["status"] = status
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        conn = http.client.HTTPConnection(LOOPBACK, srv.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(method, self.path, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            entry["status"] = resp.status
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in _HOP_BY_HOP and k.lower() not in ("server", "date"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(int(resp.getheader("Content-Length") or len(data))))
            self.end_headers()
        finally:
            conn.close()
        if method == "GET":
            _send_body(self, data, fault, entry)


class S3Proxy(_Server):
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        super().__init__(S3ProxyHandler, FaultPlan())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


# -- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawl_root(tmp_path_factory) -> Path:
    """``../shared/crawl`` when present, else the project's own crawl (tests/fixturegen/warcs.py,
    the same two snapshots) padded with image captures so that each file is longer than the
    byte offsets the faults below are injected at."""
    root = SHARED / "crawl"
    if list(root.glob("crawl-data/*/segments/*/warc/*.warc.gz")):
        return root
    from fixturegen.warcs import NEW, OLD, build_crawl

    pad = {(OLD, 0): 13_600_000, (OLD, 1): 9_300_000, (NEW, 0): 5_300_000}
    return build_crawl(tmp_path_factory.mktemp("remote-crawl"), pad=pad).root


@pytest.fixture(scope="module")
def rels(crawl_root) -> list[str]:
    return sorted(str(p.relative_to(crawl_root)).replace(os.sep, "/")
                  for p in crawl_root.glob("crawl-data/*/segments/*/warc/*.warc.gz"))


def record_list(f) -> list[tuple]:
    """Every record as (id, offset, length, block length, block digest, payload digest, error)."""
    return [(r.headers.get("warc-record-id"), r.offset, r.length, r.block_length,
             hashlib.sha1(r.block).hexdigest(), r.headers.get("warc-payload-digest"), r.error)
            for r in iter_records(f)]


@pytest.fixture(scope="module")
def local_records(crawl_root, rels) -> dict[str, list[tuple]]:
    out = {}
    for rel in rels:
        with open(crawl_root / rel, "rb") as f:
            out[rel] = record_list(f)
    return out


@pytest.fixture(scope="module")
def http_server(crawl_root):
    srv = FileServer(crawl_root)
    yield srv
    srv.close()


@pytest.fixture()
def http(http_server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    http_server.plan.reset()
    yield http_server
    http_server.plan.reset()


AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials", "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
AWS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
             "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
             "AWS_CONTAINER_CREDENTIALS_FULL_URI")


@pytest.fixture(scope="module")
def s3_server(crawl_root, rels):
    """moto on loopback with bucket ``commoncrawl`` holding the crawl and its listings, plus the proxy."""
    pytest.importorskip("moto.server")
    import boto3
    from moto.server import ThreadedMotoServer

    mp = pytest.MonkeyPatch()
    for k, v in AWS_ENV.items():
        mp.setenv(k, v)
    for k in AWS_UNSET:
        mp.delenv(k, raising=False)
    port = _free_port()
    moto = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    moto.start()
    try:
        client = boto3.client("s3", endpoint_url=f"http://{LOOPBACK}:{port}", region_name="us-east-1")
        client.create_bucket(Bucket="commoncrawl")
        # public read, as Common Crawl's bucket (anonymous requests are refused otherwise)
        client.put_bucket_policy(Bucket="commoncrawl", Policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
                           "Resource": ["arn:aws:s3:::commoncrawl", "arn:aws:s3:::commoncrawl/*"]}],
        }))
        for rel in rels:
            client.put_object(Bucket="commoncrawl", Key=rel, Body=(crawl_root / rel).read_bytes())
        for snap in SNAPS:
            key = f"crawl-data/{snap}/warc.paths.gz"
            client.put_object(Bucket="commoncrawl", Key=key, Body=(crawl_root / key).read_bytes())
        proxy = S3Proxy(port)
        proxy.moto_url = f"http://{LOOPBACK}:{port}"
        yield proxy
        proxy.close()
    finally:
        moto.stop()
        mp.undo()
        remote._s3_clients.clear()


@pytest.fixture()
def s3(s3_server):
    s3_server.plan.reset()
    remote._s3_clients.clear()
    yield s3_server
    s3_server.plan.reset()


class Sleeps(list):
    """A fake sleep that records its delays."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def read_remote(path: str, config: RemoteConfig = FAST, seed: int = 0):
    sleeps = Sleeps()
    with open_input(path, config, sleep=sleeps, rng=random.Random(seed)) as f:
        records = record_list(f)
        return records, f, sleeps


# -- config and paths -----------------------------------------------------------------------------
def test_remote_config_is_validated_and_frozen():
    with pytest.raises(ValueError, match="retries"):
        RemoteConfig(max_retries=-1)
    with pytest.raises(ValueError, match="backoff"):
        RemoteConfig(backoff_base_s=2, backoff_max_s=1)
    with pytest.raises(ValueError, match="s3_unsigned"):
        RemoteConfig(s3_unsigned="yes")
    with pytest.raises(Exception):
        RemoteConfig().max_retries = 3  # frozen
    assert remote.join_path("https://data.commoncrawl.org/", "/crawl-data/x") == "https://data.commoncrawl.org/crawl-data/x"
    assert remote.join_path("s3://commoncrawl", "crawl-data/x") == "s3://commoncrawl/crawl-data/x"
    assert remote.split_s3("s3://commoncrawl/crawl-data/a/b.gz") == ("commoncrawl", "crawl-data/a/b.gz")
    err = RemoteError("not_found", "https://x/y.warc.gz", "HTTP 404")
    assert isinstance(err, OSError) and "not_found" in str(err) and "https://x/y.warc.gz" in str(err)
    import pickle

    again = pickle.loads(pickle.dumps(RemoteError("remote_error", "s3://b/k", "SlowDown", 4, 123)))
    assert (again.code, again.path, again.retries, again.offset) == ("remote_error", "s3://b/k", 4, 123)


def test_local_stream_counts_and_old_api(crawl_root, rels, local_records):
    path = str(crawl_root / rels[0])
    with inputs_open_input(path) as f:
        assert record_list(f) == local_records[rels[0]]
        assert f.retries == 0 and f.bytes_read == os.path.getsize(path)
    with open_input(Path(path).as_uri()) as f:  # file:// URLs are local paths
        assert record_list(f) == local_records[rels[0]]
    with pytest.raises(FileNotFoundError):
        open_input(str(crawl_root / "missing.warc.gz"))
    with pytest.raises(RemoteError, match="unsupported"):
        open_input("ftp://example.invalid/x.warc.gz")


def test_snapshot_sets_and_expansion():
    ids = SNAPSHOT_SETS["swallow-21"]
    assert len(ids) == 21 == len(set(ids))
    assert ids[0] == "CC-MAIN-2020-40" and ids[-1] == "CC-MAIN-2023-23" and list(ids) == sorted(ids)
    assert expand_snapshots(["swallow-21"]) == list(ids)
    assert expand_snapshots(["CC-MAIN-2023-23", "swallow-21", "CC-MAIN-2024-10"]) == (
        ["CC-MAIN-2023-23"] + [s for s in ids if s != "CC-MAIN-2023-23"] + ["CC-MAIN-2024-10"])
    with pytest.raises(InputError, match="swallow-22"):
        expand_snapshots(["swallow-22"])


def _fake_cc_tree(root: Path, snapshots, files_per_snapshot: int = 5) -> None:
    for snap in snapshots:
        d = root / "crawl-data" / snap
        d.mkdir(parents=True)
        lines = [f"crawl-data/{snap}/segments/{i:04d}/warc/{snap}-{i:05d}.warc.gz" for i in range(files_per_snapshot)]
        (d / "warc.paths.gz").write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))


def test_swallow_21_resolves_and_samples_per_snapshot(tmp_path):
    _fake_cc_tree(tmp_path, SNAPSHOT_SETS["swallow-21"])
    every = resolve_snapshots(["swallow-21"], str(tmp_path))
    assert len(every) == 21 * 5
    two = resolve_snapshots(["swallow-21"], str(tmp_path), max_files=2)
    assert len(two) == 42 and two == sample_per_snapshot(every, 2)
    assert two == resolve_snapshots(["swallow-21"], str(tmp_path), max_files=2)
    assert {f.snapshot for f in two} == set(SNAPSHOT_SETS["swallow-21"])
    for f in two:
        assert f.path == os.path.join(str(tmp_path), f.rel)


def test_swallow_21_over_http(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    _fake_cc_tree(tmp_path, SNAPSHOT_SETS["swallow-21"])
    srv = FileServer(tmp_path)
    try:
        srv.plan.add("CC-MAIN-2021-10/warc.paths.gz", "503", "drop@10")
        local = resolve_snapshots(["swallow-21"], str(tmp_path), max_files=3)
        over_http = resolve_snapshots(["swallow-21"], srv.url, max_files=3, config=FAST)
        assert [(f.snapshot, f.rel) for f in over_http] == [(f.snapshot, f.rel) for f in local]
        assert all(f.path == srv.url + f.rel for f in over_http)
        assert len(srv.plan.requests("CC-MAIN-2021-10/warc.paths.gz")) == 3
    finally:
        srv.close()


def test_resolve_paths_takes_urls_as_given(rels):
    url = "https://data.commoncrawl.org/" + rels[0]
    s3url = "s3://commoncrawl/" + rels[3]
    files = resolve_paths([s3url, url, url])
    assert [(f.snapshot, f.rel, f.path) for f in files] == [
        (SNAPS[0], rels[0], url), (SNAPS[1], rels[3], s3url)]


# -- HTTP ----------------------------------------------------------------------------------------
def test_http_reads_every_record_of_every_file(http, rels, local_records, crawl_root):
    for rel in rels:
        records, f, sleeps = read_remote(http.url + rel)
        assert records == local_records[rel]
        assert f.retries == 0 and not sleeps and f.restarts == 0
        assert f.bytes_read == f.size == os.path.getsize(crawl_root / rel)
        assert [e["range"] for e in http.plan.requests(rel)] == [None]


def _members_with_a_bad_crc() -> bytes:
    """40 records, one gzip member each, with a blank line after each record inside its member
    (so the member's trailer is inflated after the record's last bytes), and the CRC of every
    fifth member damaged."""
    members = []
    for i in range(40):
        block = (f"record {i} ".encode() * (37 * i + 5))[: 200 + 61 * i]
        record = (b"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:%d>\r\n"
                  b"Content-Length: %d\r\n\r\n" % (i, len(block)) + block + b"\r\n\r\n\r\n")
        member = bytearray(gzip.compress(record, mtime=0))
        if i % 5 == 3:
            member[-8] ^= 0x40
        members.append(bytes(member))
    return b"".join(members)


def _read_with_resync(f) -> list:
    out = []
    try:
        for item in iter_records(f, resync=True):
            if hasattr(item, "resumed_at"):
                out.append(("resync", item.code, item.offset, item.resumed_at, item.broken_record))
            else:
                out.append((item.offset, item.length, item.headers.get("warc-record-id"), item.block, item.error))
    except Exception as exc:  # noqa: BLE001 - what ended the file is part of the outcome
        out.append(("error", getattr(exc, "code", type(exc).__name__), getattr(exc, "offset", None)))
    return out


def test_http_reads_come_in_the_chunks_of_a_local_file(tmp_path, monkeypatch):
    """A server that sends a few bytes per write: ``read(n)`` still returns ``n`` bytes
    (until the end), so a damaged gzip member is read as from the local file: its bad CRC
    breaks the same records, at the same offsets, with the same resynchronisations."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    data = _members_with_a_bad_crc()
    (tmp_path / "bad.warc.gz").write_bytes(data)
    srv = FileServer(tmp_path)
    try:
        srv.plan.set_always("bad.warc.gz", "pieces@3")
        with open_input(srv.url + "bad.warc.gz", FAST) as f:
            head = f.read(4096)
            rest = f.read(1 << 20)
        assert head == data[:4096] and rest == data[4096:]  # whole reads, though sent in pieces
        with open(tmp_path / "bad.warc.gz", "rb") as f:
            local = _read_with_resync(f)
        with open_input(srv.url + "bad.warc.gz", FAST) as f:
            over_http = _read_with_resync(f)
    finally:
        srv.close()
    assert over_http == local
    assert sum(1 for r in local if r[0] == "resync") == 8  # every damaged member found
    assert sum(1 for r in local if isinstance(r[0], int)) >= 30


# fault script → retries it must cost
HTTP_FAULTS = {
    "throttled": (["503", "429", "500", "502"], 4),
    "dropped_mid_body": (["drop@100000"], 1),
    "reset_mid_body": (["reset@300000"], 1),
    "dropped_then_range_ignored": (["drop@1000000", "ignore_range"], 1),
    "dropped_then_early_206": (["drop@500000", "early@4096"], 1),
    "dropped_before_any_byte": (["drop@0"], 1),
    "many": (["drop@7", "503", "reset@2000000", "ignore_range+drop@3000000", "429", "early@1+drop@9000000"], 6),
}


@pytest.mark.parametrize("name", sorted(HTTP_FAULTS))
def test_http_faults_resume_without_loss_or_repeats(http, rels, local_records, name):
    faults, retries = HTTP_FAULTS[name]
    rel = rels[0]
    http.plan.add(rel, *faults)
    records, f, sleeps = read_remote(http.url + rel)
    assert records == local_records[rel]
    assert f.retries == retries == len(sleeps)
    reqs = http.plan.requests(rel)
    assert len(reqs) == retries + 1 and not http.plan.queued[rel]
    # each request asks from exactly the bytes already handed out
    handed = 0
    for req, nxt in zip(reqs, reqs[1:] + [None]):
        assert req["range"] == (None if handed == 0 else f"bytes={handed}-"), (req, handed)
        if req["status"] in (200, 206):
            end = req["start"] + req["sent"]
            if "reset" in _parts(req["fault"]) and nxt is not None:
                # a reset may discard bytes in flight: the next request says how many arrived
                got = int(nxt["range"][6:-1]) if nxt["range"] else 0
                assert handed <= got <= end
                handed = got
            else:
                handed = max(handed, end)
    assert handed == f.size
    assert f.restarts == sum("ignore_range" in x for x in faults)


def test_http_reset_resumes_from_what_arrived(http, rels, local_records):
    rel = rels[1]
    http.plan.add(rel, "reset@400000")
    records, f, _ = read_remote(http.url + rel)
    assert records == local_records[rel] and f.retries == 1
    first, second = http.plan.requests(rel)
    start = int(second["range"].split("=")[1].rstrip("-"))
    assert 0 < start <= 400000  # a reset may discard bytes in flight; never more than were sent


def test_http_stall_past_the_timeout_is_retried(http, rels, local_records):
    rel = rels[2]
    http.plan.add(rel, "stall@200000")
    t0 = time.monotonic()
    records, f, _ = read_remote(http.url + rel, replace(FAST, timeout_s=0.4))
    assert records == local_records[rel] and f.retries == 1
    assert http.plan.requests(rel)[1]["range"] == "bytes=200000-"
    assert time.monotonic() - t0 < STALL_S + 5


def test_http_backoff_is_exponential_with_jitter_and_honours_retry_after(http, rels):
    rel = rels[0]
    cfg = RemoteConfig(max_retries=6, backoff_base_s=1.0, backoff_max_s=8.0)
    http.plan.add(rel, "503", "503", "503", "503", "503ra7", "503")
    sleeps = Sleeps()
    with open_input(http.url + rel, cfg, sleep=sleeps, rng=random.Random(42)) as f:
        assert f.read(10)[:2] == b"\x1f\x8b"
        assert f.retries == 6
    rng = random.Random(42)
    caps = [1, 2, 4, 8, 8, 8]
    expected = [c / 2 + rng.random() * c / 2 for c in caps]
    expected[4] = max(expected[4], 7.0)  # Retry-After: 7 (capped at backoff_max_s)
    assert sleeps == pytest.approx(expected)
    assert all(c / 2 <= s <= max(c, 7) for s, c in zip(sleeps, caps))


def test_http_file_that_keeps_failing_raises_and_others_go_on(http, rels, local_records):
    bad = rels[1]
    http.plan.set_always(bad, "503")
    results = {}
    for rel in rels:
        try:
            results[rel] = read_remote(http.url + rel)[0]
        except RemoteError as exc:
            results[rel] = exc
    err = results[bad]
    assert isinstance(err, RemoteError) and err.code == "remote_error"
    assert err.retries == FAST.max_retries and len(http.plan.requests(bad)) == FAST.max_retries + 1
    assert http.url + bad in str(err) and "HTTP 503" in str(err) and err.last_error == "HTTP 503"
    for rel in rels:
        if rel != bad:
            assert results[rel] == local_records[rel]


def test_http_total_retry_budget_bounds_a_file_that_keeps_dropping(http, rels):
    rel = rels[0]
    http.plan.set_always(rel, "drop@50000")  # progress on every attempt: only the total budget stops it
    cfg = replace(FAST, max_total_retries=12)
    with pytest.raises(RemoteError) as info:
        read_remote(http.url + rel, cfg)
    err = info.value
    assert err.code == "remote_error" and err.retries == 12
    assert err.offset == 13 * 50000 and "connection closed after" in err.last_error


@pytest.mark.parametrize("fault,code", [("404", "not_found"), ("410", "not_found"), ("403", "forbidden"),
                                        ("401", "forbidden"), ("400", "remote_error")])
def test_http_permanent_errors_are_not_retried(http, rels, fault, code):
    rel = rels[0]
    http.plan.set_always(rel, fault)
    sleeps = Sleeps()
    with pytest.raises(RemoteError) as info:
        with open_input(http.url + rel, FAST, sleep=sleeps) as f:
            f.read(100)
    assert info.value.code == code and info.value.retries == 0 and not sleeps
    assert len(http.plan.requests(rel)) == 1 and f"HTTP {fault}" in str(info.value)


def test_http_missing_file_is_not_found(http):
    with pytest.raises(RemoteError, match="not_found") as info:
        read_remote(http.url + "crawl-data/CC-MAIN-2023-14/nothing.warc.gz")
    assert info.value.retries == 0


def test_http_object_changed_between_requests_is_an_error(http, rels):
    rel = rels[0]
    http.plan.add(rel, "drop@100000", "etag")
    with pytest.raises(RemoteError, match="changed") as info:
        read_remote(http.url + rel)
    assert info.value.code == "remote_error" and info.value.offset == 100000


def test_http_read_stage_counts_match_the_local_files(http, crawl_root, rels):
    """read_pages over HTTP with faults: the same statistics; a failing file is a failed file."""
    bad = rels[3]
    http.plan.add(rels[0], "drop@123456", "503")
    http.plan.add(rels[2], "reset@5000000", "ignore_range")
    http.plan.set_always(bad, "500")

    def read_all(base, open_fn):
        stats, reports = StatsAccumulator(), {}
        for inp in resolve_snapshots(SNAPS, base, config=FAST):
            report = FileReport(inp.path, inp.rel, inp.snapshot)
            with open_fn(inp.path) as f:
                for _ in read_pages(f, inp, ReadConfig(), Count(ReadStage, stats), report):
                    pass
            reports[inp.rel] = report
        return stats.rows(STAGE_NAMES), reports

    local_rows, local_reports = read_all(str(crawl_root), open_input)
    fast = lambda p: open_input(p, FAST, sleep=Sleeps(), rng=random.Random(1))  # noqa: E731
    rows, reports = read_all(http.url, fast)
    failed = reports.pop(bad)
    assert failed.status == "failed" and "remote_error" in failed.message and http.url + bad in failed.message
    for rel, rep in reports.items():
        assert (rep.status, rep.records, rep.responses, rep.pages) == (
            "ok", local_reports[rel].records, local_reports[rel].responses, local_reports[rel].pages)
    # the other files' counts are exactly the local ones; the failed one counts only what was read
    good = {r: v for r, v in local_reports.items() if r != bad}
    assert sum(r.records for r in reports.values()) == sum(r.records for r in good.values())
    bad_snap = failed.snapshot
    local_read = {(r["snapshot"], r["outcome"], r["reason"]): r["docs"] for r in local_rows if r["stage"] == "read"}
    got_read = {(r["snapshot"], r["outcome"], r["reason"]): r["docs"] for r in rows if r["stage"] == "read"}
    for key, docs in local_read.items():
        if key[0] != bad_snap:
            assert got_read.get(key) == docs


def test_resolve_snapshots_over_http(http, crawl_root):
    http.plan.add("CC-MAIN-2023-23/warc.paths.gz", "503", "drop@20")
    for max_files in (None, 1):
        local = resolve_snapshots(SNAPS, str(crawl_root), max_files)
        got = resolve_snapshots(SNAPS, http.url, max_files, config=FAST)
        assert [(f.snapshot, f.rel) for f in got] == [(f.snapshot, f.rel) for f in local]
        assert all(f.path == http.url + f.rel for f in got)
    assert len(resolve_snapshots(SNAPS, http.url, 1, config=FAST)) == 2
    assert len(http.plan.requests("CC-MAIN-2023-23/warc.paths.gz")) == 2 + 2 + 1
    with pytest.raises(InputError, match="not found.*CC-MAIN-2099-01"):
        resolve_snapshots(["CC-MAIN-2099-01"], http.url, config=FAST)
    http.plan.set_always("CC-MAIN-2023-14/warc.paths.gz", "503")
    with pytest.raises(InputError, match="cannot read snapshot listing.*503"):
        resolve_snapshots(["CC-MAIN-2023-14"], http.url, config=replace(FAST, max_retries=1))


# -- S3 (moto server) ----------------------------------------------------------------------------
def test_s3_reads_every_record_of_every_file(s3, rels, local_records, crawl_root):
    cfg = replace(FAST, s3_endpoint_url=s3.url.rstrip("/"))
    for rel in rels:
        records, f, sleeps = read_remote("s3://commoncrawl/" + rel, cfg)
        assert records == local_records[rel]
        assert f.retries == 0 and not sleeps and f.bytes_read == f.size == os.path.getsize(crawl_root / rel)
    # directly against moto too (no proxy in between)
    records, f, _ = read_remote("s3://commoncrawl/" + rels[0], replace(FAST, s3_endpoint_url=s3.moto_url))
    assert records == local_records[rels[0]]


S3_FAULTS = {
    "slowdown": (["slowdown", "slowdown", "internal"], 3),
    "dropped_mid_body": (["drop@100000"], 1),
    "reset_mid_body": (["reset@250000"], 1),
    "mixed": (["drop@10", "slowdown", "drop@2000000", "internal", "reset@4000000", "drop@1"], 6),
}


@pytest.mark.parametrize("name", sorted(S3_FAULTS))
def test_s3_faults_resume_without_loss_or_repeats(s3, rels, local_records, name):
    faults, retries = S3_FAULTS[name]
    rel = rels[0]
    s3.plan.add(rel, *faults)
    records, f, sleeps = read_remote("s3://commoncrawl/" + rel, replace(FAST, s3_endpoint_url=s3.url.rstrip("/")))
    assert records == local_records[rel]
    assert f.retries == retries == len(sleeps)
    reqs = s3.plan.requests(rel)
    assert len(reqs) == retries + 1 and not s3.plan.queued[rel]
    assert reqs[0]["range"] is None
    for req in reqs[1:]:  # resumed requests: a range, and If-Match on the ETag once bytes were read
        if req["range"]:
            assert re.fullmatch(r"bytes=\d+-", req["range"]) and req["if_match"]


def test_s3_resume_positions_are_exact(s3, rels, local_records):
    rel = rels[1]
    s3.plan.add(rel, "drop@100000", "drop@50000")
    records, f, _ = read_remote("s3://commoncrawl/" + rel, replace(FAST, s3_endpoint_url=s3.url.rstrip("/")))
    assert records == local_records[rel] and f.retries == 2
    assert [r["range"] for r in s3.plan.requests(rel)] == [None, "bytes=100000-", "bytes=150000-"]


def test_s3_file_that_keeps_failing_raises_and_others_go_on(s3, rels, local_records):
    bad = rels[2]
    s3.plan.set_always(bad, "slowdown")
    cfg = replace(FAST, s3_endpoint_url=s3.url.rstrip("/"))
    for rel in rels:
        if rel == bad:
            with pytest.raises(RemoteError) as info:
                read_remote("s3://commoncrawl/" + rel, cfg)
            err = info.value
            assert err.code == "remote_error" and err.retries == FAST.max_retries
            assert "SlowDown" in str(err) and f"s3://commoncrawl/{bad}" in str(err)
        else:
            assert read_remote("s3://commoncrawl/" + rel, cfg)[0] == local_records[rel]


def test_s3_permanent_errors_are_not_retried(s3, rels):
    cfg = replace(FAST, s3_endpoint_url=s3.url.rstrip("/"))
    with pytest.raises(RemoteError) as info:
        read_remote("s3://commoncrawl/crawl-data/CC-MAIN-2023-14/nothing.warc.gz", cfg)
    assert info.value.code == "not_found" and info.value.retries == 0 and "NoSuchKey" in str(info.value)
    with pytest.raises(RemoteError) as info:
        read_remote("s3://no-such-bucket/x.warc.gz", cfg)
    assert info.value.code == "not_found"
    s3.plan.set_always(rels[0], "denied")
    with pytest.raises(RemoteError) as info:
        read_remote("s3://commoncrawl/" + rels[0], cfg)
    assert info.value.code == "forbidden" and info.value.retries == 0 and "AccessDenied" in str(info.value)


def test_s3_signing_auto_signed_and_unsigned(s3, rels, local_records, monkeypatch):
    rel = rels[3]
    url = "s3://commoncrawl/" + rel
    endpoint = s3.url.rstrip("/")
    for unsigned, expect_signed in ((True, False), (False, True), (None, True)):
        remote._s3_clients.clear()
        s3.plan.reset()
        assert read_remote(url, replace(FAST, s3_endpoint_url=endpoint, s3_unsigned=unsigned))[0] == local_records[rel]
        assert [r["signed"] for r in s3.plan.requests(rel)] == [expect_signed]
    # no credentials anywhere: auto falls back to anonymous requests
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    remote._s3_clients.clear()
    s3.plan.reset()
    assert read_remote(url, replace(FAST, s3_endpoint_url=endpoint))[0] == local_records[rel]
    assert [r["signed"] for r in s3.plan.requests(rel)] == [False]
    remote._s3_clients.clear()


def test_s3_endpoint_from_the_environment(s3, rels, local_records, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url.rstrip("/"))
    assert read_remote("s3://commoncrawl/" + rels[0])[0] == local_records[rels[0]]
    assert len(s3.plan.requests(rels[0])) == 1


def test_resolve_snapshots_over_s3(s3, crawl_root):
    cfg = replace(FAST, s3_endpoint_url=s3.url.rstrip("/"))
    s3.plan.add("CC-MAIN-2023-14/warc.paths.gz", "slowdown", "drop@5")
    for max_files in (None, 1):
        local = resolve_snapshots(SNAPS, str(crawl_root), max_files)
        got = resolve_snapshots(SNAPS, "s3://commoncrawl/", max_files, config=cfg)
        assert [(f.snapshot, f.rel) for f in got] == [(f.snapshot, f.rel) for f in local]
        assert all(f.path == "s3://commoncrawl/" + f.rel for f in got)
    with pytest.raises(InputError, match="not found.*s3://commoncrawl/crawl-data/CC-MAIN-2099-01"):
        resolve_snapshots(["CC-MAIN-2099-01"], "s3://commoncrawl", config=cfg)


# -- the pipeline through its command line --------------------------------------------------------
def _run_cli(cc_base: str, out: Path, snapshot: str = "CC-MAIN-2023-14") -> None:
    from jawebcorpus.pipelines.cli import main

    rc = main(["run", "--quiet", "--snapshot", snapshot, "--cc-base", cc_base, "--until", "langid",
               "--output", str(out)])
    assert rc == 0


def _outputs(out: Path) -> tuple:
    import pyarrow.parquet as pq

    stages = json.loads((out / "stats" / "stages.json").read_text(encoding="utf-8"))
    files = read_file_records(str(out / "stats"))
    files = sorted(({k: v for k, v in f.items() if k not in ("path", "retries")} for f in files),
                   key=lambda f: f["warc_file"])
    rows = []
    for part in sorted(glob.glob(str(out / "data" / "**" / "*.parquet"), recursive=True)):
        rows.extend(pq.read_table(part).to_pylist())
    rows.sort(key=lambda r: (r["warc_file"], r["warc_offset"]))
    return stages, files, rows


@pytest.fixture(scope="module")
def local_run(crawl_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("local-run")
    _run_cli(str(crawl_root), out)
    return _outputs(out)


@pytest.mark.slow
def test_cli_run_over_http_with_faults_equals_the_local_run(http, rels, local_run, tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "_default_config", replace(FAST, backoff_base_s=0.001, backoff_max_s=0.002))
    a, b = [r for r in rels if "CC-MAIN-2023-14" in r]
    http.plan.add("CC-MAIN-2023-14/warc.paths.gz", "503")
    http.plan.add(a, "503", "drop@1000000", "429", "reset@6000000", "ignore_range+drop@13000000")
    http.plan.add(b, "drop@100", "early@777+drop@4444444", "500")
    _run_cli(http.url, tmp_path / "http")
    stages, files, rows = _outputs(tmp_path / "http")
    assert rows and stages == local_run[0] and files == local_run[1] and rows == local_run[2]
    assert len(http.plan.requests(a)) == 6 and len(http.plan.requests(b)) == 4
    assert all(f["status"] == "ok" for f in files)


@pytest.mark.slow
def test_cli_run_over_s3_with_faults_equals_the_local_run(s3, rels, local_run, tmp_path, monkeypatch):
    monkeypatch.setattr(remote, "_default_config", replace(FAST, backoff_base_s=0.001, backoff_max_s=0.002))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3.url.rstrip("/"))
    a, b = [r for r in rels if "CC-MAIN-2023-14" in r]
    s3.plan.add("CC-MAIN-2023-14/warc.paths.gz", "slowdown")
    s3.plan.add(a, "slowdown", "drop@2000000", "internal", "reset@7000000")
    s3.plan.add(b, "drop@100", "slowdown", "drop@9000000")
    _run_cli("s3://commoncrawl/", tmp_path / "s3")
    stages, files, rows = _outputs(tmp_path / "s3")
    assert rows and stages == local_run[0] and files == local_run[1] and rows == local_run[2]
    assert len(s3.plan.requests(a)) == 5 and len(s3.plan.requests(b)) == 4


@pytest.mark.slow
def test_cli_run_with_a_file_that_keeps_failing(http, rels, local_run, tmp_path, monkeypatch):
    """The failing file is reported with its path and reason; the other file's rows are all there."""
    monkeypatch.setattr(remote, "_default_config", replace(FAST, backoff_base_s=0.001, backoff_max_s=0.002))
    a, b = [r for r in rels if "CC-MAIN-2023-14" in r]
    http.plan.set_always(b, "503")
    _run_cli(http.url, tmp_path / "http")
    stages, files, rows = _outputs(tmp_path / "http")
    by_file = {f["warc_file"]: f for f in files}
    assert by_file[a]["status"] == "ok"
    assert by_file[b]["status"] == "failed" and by_file[b]["error"] in ("remote_error", "io_error")
    assert "remote_error" in by_file[b]["message"] and "HTTP 503" in by_file[b]["message"]
    assert rows == [r for r in local_run[2] if r["warc_file"] == a]
