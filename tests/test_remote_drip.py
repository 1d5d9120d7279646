"""Servers that drip (``corpus/remote_pace.py``): a deadline and a minimum rate per remote file.

Real servers on loopback: the fault-injecting HTTP file server and the S3 proxy in front of moto
of tests/test_remote.py (fault ``drip@N``: N bytes, then one byte every 20 ms), and raw socket
servers below for what ``http.server`` cannot send (headers and chunk framing that drip, a body
that never ends, silence).  Windows and deadlines are fractions of a second so that the tests
stay fast; what the defaults are for is in docs/configuration.md.
"""

from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from jawebcorpus.corpus import remote, remote_pace
from jawebcorpus.corpus.inputs import InputError, list_snapshot
from jawebcorpus.corpus.remote import RemoteConfig, RemoteError, open_input
from jawebcorpus.corpus.stats import read_file_records
from test_remote import DRIP_S, LOOPBACK, FileServer, S3Proxy, Sleeps

#: Fast retries, a window of 0.3 s of waiting and a minimum of 64 KiB/s: a drip (50 bytes/s) fails
#: after one window, loopback at full speed never does.
PACE = RemoteConfig(max_retries=2, max_total_retries=10, backoff_base_s=0.01, backoff_max_s=0.02, timeout_s=5.0,
                    deadline_s=30.0, min_rate_bytes_s=64 << 10, rate_window_s=0.3)
SAMPLE = Path(__file__).resolve().parents[1] / "src" / "jawebcorpus" / "sample"


def read_all(url: str, config: RemoteConfig = PACE, size: int = 1 << 16, pause: float = 0.0) -> bytes:
    parts = []
    with open_input(url, config, sleep=Sleeps(), rng=random.Random(0)) as f:
        while True:
            data = f.read(size)
            if not data:
                return b"".join(parts)
            parts.append(data)
            if pause:
                time.sleep(pause)  # the reader processing what it got


def too_slow(url: str, config: RemoteConfig = PACE, **kwargs) -> tuple[RemoteError, float]:
    t0 = time.monotonic()
    with pytest.raises(RemoteError) as info:
        read_all(url, config, **kwargs)
    return info.value, time.monotonic() - t0


@pytest.fixture(scope="module")
def blob_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("drip")
    (root / "blob.bin").write_bytes(random.Random(7).randbytes(3 << 20))
    return root


@pytest.fixture()
def files(blob_dir, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = FileServer(blob_dir)
    yield srv
    srv.close()


class RawServer:
    """One loopback listener; every connection is answered by ``script(conn)`` in its own thread."""

    def __init__(self, script):
        self.sock = socket.create_server((LOOPBACK, 0))
        self.script = script
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.sock.getsockname()[1]}/file.warc.gz"

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            conn.recv(65536)  # the request
            self.script(conn, self.stop)
        except OSError:  # the client went away
            pass
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.sock.close()


@pytest.fixture()
def raw_server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    servers = []

    def start(script) -> RawServer:
        servers.append(RawServer(script))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def drip(conn, stop, data: bytes) -> None:
    for i in range(len(data)):
        if stop.wait(DRIP_S):
            return
        conn.sendall(data[i:i + 1])


# -- configuration ----------------------------------------------------------------------------------
@pytest.mark.parametrize("field,value", [
    ("deadline_s", 0), ("deadline_s", -1), ("deadline_s", float("nan")), ("deadline_s", float("inf")),
    ("deadline_s", 10 ** 9), ("min_rate_bytes_s", -1), ("min_rate_bytes_s", 1.5), ("min_rate_bytes_s", 1 << 40),
    ("min_rate_bytes_s", True), ("rate_window_s", 0), ("rate_window_s", float("nan")), ("rate_window_s", 86400),
    ("deadline_s", "60"),
])
def test_pace_settings_are_finite_and_in_range(field, value):
    with pytest.raises(ValueError, match=field):
        RemoteConfig(**{field: value})


def test_defaults_fit_a_common_crawl_file():
    c = RemoteConfig()
    size = 1.2e9  # a large Common Crawl WARC file
    # at the minimum rate, plus processing at 10 MB/s, a file still ends within its deadline
    assert size / c.min_rate_bytes_s + size / 10e6 < c.deadline_s


@pytest.mark.parametrize("args", [["--remote-deadline", "nan"], ["--remote-deadline", "0"],
                                  ["--remote-deadline", "1e9"], ["--remote-min-rate", "-1"],
                                  ["--remote-min-rate", "2000000000"]])
def test_bad_pace_options_are_refused_before_anything_is_written(args, tmp_path, capsys):
    from jawebcorpus.pipelines.cli import main

    out = tmp_path / "out"
    assert main(["run", "--sample", "--quiet", "--output", str(out), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("jawebcorpus: error:") and "remote" in err[0]
    assert not out.exists()


# -- HTTP ----------------------------------------------------------------------------------------
def test_a_body_that_drips_fails_after_one_window(files):
    files.plan.set_always("blob.bin", "drip@100000")
    err, seconds = too_slow(files.url + "blob.bin")
    assert err.code == "remote_too_slow" and "bytes/s" in err.last_error and "--remote-min-rate" in str(err)
    assert 100000 <= err.offset < 100000 + 200 and err.retries == 0
    assert seconds < PACE.rate_window_s + 2


def test_the_same_server_at_full_speed_passes(files, blob_dir):
    assert read_all(files.url + "blob.bin") == (blob_dir / "blob.bin").read_bytes()


def test_slow_processing_is_not_a_slow_server(files, blob_dir):
    """The reader takes 3 s over 3 MB (1 MB/s, under the 4 MiB/s asked) while loopback delivers at
    once: only waiting for the server counts, so the file is read."""
    cfg = replace(PACE, min_rate_bytes_s=4 << 20, rate_window_s=0.05)
    t0 = time.monotonic()
    assert read_all(files.url + "blob.bin", cfg, size=1 << 15, pause=0.03) == (blob_dir / "blob.bin").read_bytes()
    assert time.monotonic() - t0 > 20 * cfg.rate_window_s


def test_a_drip_is_seen_however_large_the_reads(files):
    """A read of 1 MiB does not wait for 1 MiB to drip in: the pace is checked at every network read."""
    files.plan.set_always("blob.bin", "drip@5000")
    err, seconds = too_slow(files.url + "blob.bin", size=1 << 20)
    assert err.code == "remote_too_slow" and seconds < PACE.rate_window_s + 2


def test_headers_that_drip(raw_server):
    srv = raw_server(lambda conn, stop: drip(conn, stop, b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 60000 + b"\r\n"))
    err, seconds = too_slow(srv.url)
    assert err.code == "remote_too_slow" and err.offset == 0 and seconds < PACE.rate_window_s + 2


def test_chunk_framing_that_drips(raw_server):
    def script(conn, stop):
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        drip(conn, stop, b"0" * 60000 + b"5\r\n")

    err, seconds = too_slow(raw_server(script).url)
    assert err.code == "remote_too_slow" and err.offset == 5 and seconds < PACE.rate_window_s + 2


def test_the_deadline_bounds_a_server_that_is_fast_enough_but_never_ends(raw_server):
    def script(conn, stop):  # 1.6 MB/s (the minimum is 64 KiB/s), with no end
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        while not stop.wait(0.01):
            conn.sendall(b"x" * 16384)

    cfg = replace(PACE, deadline_s=0.8)
    err, seconds = too_slow(raw_server(script).url, cfg)
    assert err.code == "remote_too_slow" and "deadline of 0.8 s" in err.last_error and err.offset > 100000
    assert cfg.deadline_s <= seconds < cfg.deadline_s + 2


def test_a_silent_server_is_retried_as_before(raw_server):
    """A read that times out is a transient failure (retried), not waiting that counts against the rate."""
    srv = raw_server(lambda conn, stop: stop.wait(5))
    cfg = replace(PACE, timeout_s=0.2, rate_window_s=0.01, min_rate_bytes_s=1 << 30)
    err, _ = too_slow(srv.url, cfg)
    assert err.code == "remote_error" and err.retries == cfg.max_retries and srv.connections == cfg.max_retries + 1


def test_backoff_never_outlives_the_deadline(files):
    files.plan.set_always("blob.bin", "503")
    sleeps = Sleeps()
    cfg = replace(PACE, backoff_base_s=10.0, backoff_max_s=20.0, deadline_s=2.0)
    with pytest.raises(RemoteError) as info:
        with open_input(files.url + "blob.bin", cfg, sleep=sleeps) as f:
            f.read(100)
    assert info.value.code == "remote_too_slow" and "next retry" in info.value.last_error
    assert sleeps == [] and len(files.plan.requests("blob.bin")) == 1


def test_the_snapshot_listing_is_bounded_too(files, blob_dir):
    listing = blob_dir / "crawl-data" / "CC-MAIN-2024-10" / "warc.paths.gz"
    listing.parent.mkdir(parents=True, exist_ok=True)
    listing.write_bytes((SAMPLE / "crawl-data" / "CC-MAIN-2024-10" / "warc.paths.gz").read_bytes())
    files.plan.set_always("warc.paths.gz", "drip@10")
    t0 = time.monotonic()
    with pytest.raises(InputError, match="remote_too_slow"):
        list_snapshot("CC-MAIN-2024-10", files.url, config=PACE)
    assert time.monotonic() - t0 < PACE.rate_window_s + 2
    files.plan.reset()
    assert len(list_snapshot("CC-MAIN-2024-10", files.url, config=PACE)) == 1


# -- S3: moto, behind the proxy of tests/test_remote.py ------------------------------------------
@pytest.fixture()
def s3_drip(s3_endpoint, blob_dir, monkeypatch):
    url, client, _args = s3_endpoint
    client.put_object(Bucket="corpus", Key="crawl/blob.bin", Body=(blob_dir / "blob.bin").read_bytes())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    proxy = S3Proxy(int(url.rsplit(":", 1)[1]))
    remote._s3_clients.clear()
    yield proxy, replace(PACE, s3_endpoint_url=proxy.url.rstrip("/"), s3_unsigned=False)
    proxy.close()
    remote._s3_clients.clear()


def test_s3_that_drips(s3_drip, blob_dir):
    proxy, cfg = s3_drip
    assert read_all("s3://corpus/crawl/blob.bin", cfg) == (blob_dir / "blob.bin").read_bytes()
    pools = remote._s3_client(cfg)._endpoint.http_session._pool_classes_by_scheme  # the client's responses are paced
    assert all(pools[s].ConnectionCls.response_class is remote_pace.PacedHTTPResponse for s in ("http", "https"))
    proxy.plan.set_always("blob.bin", "drip@70000")
    err, seconds = too_slow("s3://corpus/crawl/blob.bin", cfg, size=1 << 20)
    # (urllib3 reads until it has the 1 MiB asked for: what arrived of it is not handed out, offset 0)
    assert err.code == "remote_too_slow" and "bytes/s" in err.last_error and seconds < cfg.rate_window_s + 2
    err, _ = too_slow("s3://corpus/crawl/blob.bin", cfg, size=1 << 16)
    assert err.code == "remote_too_slow" and err.offset == 1 << 16


# -- the pipeline: the file fails with its reason, the run goes on, a rerun tries it again ------------
def test_a_run_goes_on_past_a_dripping_file_and_a_rerun_reads_it(monkeypatch, tmp_path):
    from jawebcorpus.pipelines.cli import main

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setattr(remote, "_default_config", replace(PACE, rate_window_s=0.3))
    srv = FileServer(SAMPLE)
    try:
        slow = "CC-MAIN-2024-18"
        srv.plan.set_always(f"{slow}/segments/1713571200000.18/warc/CC-MAIN-20240420000000-20240420020000-00000.warc.gz",
                            "drip@30000")
        cmd = ["run", "--quiet", "--snapshot", "CC-MAIN-2024-10", "--snapshot", slow, "--cc-base", srv.url,
               "--until", "langid", "--remote-min-rate", "65536", "--remote-deadline", "120",
               "--output", str(tmp_path / "out")]
        t0 = time.monotonic()
        assert main(cmd) == 0
        assert time.monotonic() - t0 < 60
        recs = {r["snapshot"]: r for r in read_file_records(str(tmp_path / "out" / "stats"))}
        assert recs["CC-MAIN-2024-10"]["status"] == "ok" and recs["CC-MAIN-2024-10"]["pages"] > 0
        assert recs[slow]["status"] == "failed" and recs[slow]["error"] == "remote_too_slow"
        assert "65,536 bytes/s" in recs[slow]["message"]
        srv.plan.reset()
        assert main(cmd) == 0  # the same command: the failed file is read again
        recs = {r["snapshot"]: r for r in read_file_records(str(tmp_path / "out" / "stats"))}
        assert all(r["status"] == "ok" for r in recs.values()) and recs[slow]["pages"] > 0
        local = tmp_path / "local"
        assert main(["run", "--quiet", "--input", str(SAMPLE), "--until", "langid", "--output", str(local)]) == 0
        stages = [json.loads((d / "stats" / "stages.json").read_text()) for d in (tmp_path / "out", local)]
        assert stages[0] == stages[1]
    finally:
        srv.close()
    assert os.path.isdir(tmp_path / "out" / "data")
