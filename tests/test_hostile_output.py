"""Hostile input on the output side (issue 9): names from records used as paths, documents that
share an identity, runs that collide in one output folder, secrets on the command line, and
failures of the environment.  Every crafted input is built here, in code."""

from __future__ import annotations

import errno
import gzip
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from jawebcorpus.corpus.stats import check_accounting, read_file_records
from jawebcorpus.pipelines.cli import main
from jawebcorpus.registry import STAGE_NAMES

PAGES = Path(__file__).resolve().parents[1] / "src" / "jawebcorpus" / "sample" / "pages"


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def warc_record(rtype: str, headers: dict[str, str], block: bytes) -> bytes:
    head = "WARC/1.0\r\n" + f"WARC-Type: {rtype}\r\n"
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return head.encode("utf-8", "surrogateescape") + block + b"\r\n\r\n"


def http_response(body: bytes, ctype: str = "text/html; charset=utf-8") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def response(url: str, body: bytes, record_id: str | None = None, ctype: str = "text/html; charset=utf-8") -> bytes:
    h = {"WARC-Target-URI": url, "WARC-Date": "2024-03-01T00:00:00Z",
         "Content-Type": "application/http; msgtype=response"}
    if record_id is not None:
        h["WARC-Record-ID"] = record_id
    return warc_record("response", h, http_response(body, ctype))


def warcinfo(is_part_of: str) -> bytes:
    block = f"isPartOf: {is_part_of}\r\nformat: WARC File Format 1.0\r\n".encode("utf-8", "surrogateescape")
    return warc_record("warcinfo", {"Content-Type": "application/warc-fields"}, block)


def gz(*records: bytes) -> bytes:
    """One gzip member holding all of ``records``."""
    return gzip.compress(b"".join(records), mtime=0)


def run(*args: str) -> int:
    return main(["run", "--quiet", *args])


def all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


# -- 1. names from the data used as paths ---------------------------------------------------------
@pytest.mark.parametrize("name", ["x/../../..", "CC-MAIN\x002024-10", "A" * 300, "../evil", ".hidden"])
def test_a_hostile_isPartOf_never_names_a_folder(tmp_path, name):
    crawl = tmp_path / "in"
    crawl.mkdir()
    warc = crawl / "hostile.warc.gz"
    warc.write_bytes(gz(warcinfo(name)) + gz(response("https://a.example.jp/", page("ja_travel_kyoto_utf8.html"),
                                                      "<urn:uuid:1>")))
    out = tmp_path / "work" / "out"
    before = all_files(tmp_path)
    assert run("--input", str(warc), "--output", str(out), "--until", "detect") == 0
    created = all_files(tmp_path) - before
    assert created and all(out in p.parents for p in created), sorted(map(str, created))
    rows = json.loads((out / "stats" / "stages.json").read_text())
    assert check_accounting(rows, STAGE_NAMES) == []
    assert {(r["outcome"], r["reason"]) for r in rows if r["stage"] == "read"} >= {("error", "bad_snapshot_name")}
    table = ds.dataset(out / "data", format="parquet", partitioning="hive").to_table()
    assert table.column("snapshot").to_pylist() == ["unknown"]


def test_safe_names_never_leave_their_folder():
    from jawebcorpus.pipelines.output import part_name, safe_name

    for value in ["../x", "a/b", "x\x00y", "." * 5, "A" * 500, "ok-1.2_+", "日本語"]:
        s = safe_name(value)
        assert "/" not in s and "\x00" not in s and not s.startswith(".") and len(s) <= 130
    assert safe_name("CC-MAIN-2024-10") == "CC-MAIN-2024-10"
    assert safe_name("a/b") != safe_name("a_b")  # changed values never collide with clean ones
    assert "/" not in part_name("../../" + "x" * 400 + ".warc.gz") and len(part_name("y" * 400)) < 160


# -- 7. two records, one identity -----------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("record_id", [None, "<urn:uuid:same>"])
def test_two_records_in_one_member_with_the_same_or_no_id_are_both_written(tmp_path, record_id):
    crawl = tmp_path / "crawl-data" / "CC-MAIN-2024-10" / "segments" / "1" / "warc"
    crawl.mkdir(parents=True)
    warc = crawl / "two.warc.gz"
    warc.write_bytes(gz(response("https://one.example.jp/", page("ja_travel_kyoto_utf8.html"), record_id),
                        response("https://two.example.jp/", page("ja_cooking_nikujaga_utf8.html"), record_id)))
    out = tmp_path / "out"
    assert run("--input", str(warc), "--output", str(out)) == 0  # exit 3 was the bug (accounting)
    rows = json.loads((out / "stats" / "stages.json").read_text())
    assert check_accounting(rows, STAGE_NAMES) == []
    written = sum(r["docs"] for r in rows if r["stage"] == "write" and r["outcome"] == "kept")
    urls = ds.dataset(out / "data", format="parquet", partitioning="hive").to_table().column("url").to_pylist()
    assert written == len(urls) == 2 and sorted(urls) == ["https://one.example.jp/", "https://two.example.jp/"]


# -- 2. a step after commit that fails costs its file, not every rerun -------------------------------
@pytest.mark.slow
def test_a_final_write_that_fails_is_counted_and_a_rerun_recovers(tmp_path, monkeypatch):
    from jawebcorpus.pipelines import output

    out = tmp_path / "out"
    real = output.write_part
    calls = {"n": 0}

    def failing(cfg, path, docs, details, *rest):
        if details is not None and "CC-MAIN-2024-18" in str(path):  # the final part of one file
            calls["n"] += 1
            raise OSError(errno.EIO, "injected I/O error")
        return real(cfg, path, docs, details, *rest)

    monkeypatch.setattr(output, "write_part", failing)
    import jawebcorpus.pipelines.transforms as transforms
    monkeypatch.setattr(transforms, "write_part", failing)
    assert run("--sample", "--output", str(out)) == 0
    assert calls["n"] == 1
    rows = json.loads((out / "stats" / "stages.json").read_text())
    assert check_accounting(rows, STAGE_NAMES) == []
    failed = [r for r in rows if r["stage"] == "write" and r["reason"] == "write_failed"]
    assert failed and failed[0]["docs"] > 0
    files = read_file_records(str(out / "stats"))
    assert [f["write_error"] for f in files if "write_error" in f] == ["OSError"]
    monkeypatch.setattr(output, "write_part", real)
    monkeypatch.setattr(transforms, "write_part", real)
    assert run("--sample", "--output", str(out)) == 0  # the same command again: everything written
    rows = json.loads((out / "stats" / "stages.json").read_text())
    assert not [r for r in rows if r["reason"] == "write_failed"]


# -- 8. the output folder ----------------------------------------------------------------------------
def test_overwrite_refuses_an_output_that_is_or_holds_the_input(tmp_path, capsys):
    from jawebcorpus.sample import warc_paths

    crawl = tmp_path / "crawl"
    for p in warc_paths():
        dst = crawl / "data" / p.name  # the input lies where --overwrite deletes
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(p.read_bytes())
    before = all_files(crawl)
    for output in (crawl, crawl / "data", tmp_path):
        assert run("--input", str(crawl), "--output", str(output), "--overwrite") == 2
        assert "input" in capsys.readouterr().err
    assert all_files(crawl) == before


def test_a_second_run_into_a_busy_output_is_refused_and_a_crashed_runs_lock_expires(tmp_path):
    from jawebcorpus.pipelines.lock import OutputLock, OutputLocked

    out = tmp_path / "out"
    with OutputLock(str(out), "aaaa"):
        with pytest.raises(OutputLocked, match="in use by another run"):
            other = OutputLock(str(out), "bbbb")
            other._acquire_local()
        # the CLI says so and exits 2, touching nothing
        assert run("--sample", "--output", str(out)) == 2
        assert not (out / "data").exists()
    assert not (out / "_lock.json").exists()
    # a lock left by a dead process (a crash) is taken over at once …
    (out / "_lock.json").write_text(json.dumps({"token": "x", "host": os.uname().nodename, "pid": 2 ** 22 + 17,
                                                "heartbeat": time.time(), "started": time.time()}))
    with OutputLock(str(out)):
        pass
    # … and one from another machine once its heartbeat is older than the time to live
    (out / "_lock.json").write_text(json.dumps({"token": "x", "host": "elsewhere", "pid": 1,
                                                "heartbeat": time.time() - 3600, "started": 0}))
    with OutputLock(str(out), ttl_s=600):
        pass
    (out / "_lock.json").write_text(json.dumps({"token": "x", "host": "elsewhere", "pid": 1,
                                                "heartbeat": time.time(), "started": 0}))
    with pytest.raises(OutputLocked):
        with OutputLock(str(out)):
            pass


@pytest.mark.slow
def test_two_runs_started_together_never_mix(tmp_path):
    """Two different configurations started at the same moment into one --output: one runs, the
    other is refused (lock or fingerprint), and the output is the first one's, whole."""
    out = tmp_path / "out"
    cmds = [[sys.executable, "-m", "jawebcorpus", "run", "--sample", "--quiet", "--output", str(out), *extra]
            for extra in ([], ["--preset", "swallow-light"])]
    procs: list = [None, None]

    def start(i):
        procs[i] = subprocess.run(cmds[i], capture_output=True, text=True, timeout=600)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], [p.stderr[-500:] for p in procs]
    winner = procs[0] if procs[0].returncode == 0 else procs[1]
    run_info = json.loads((out / "stats" / "run.json").read_text())
    assert run_info["preset"] == ("swallow-light" if "swallow-light" in winner.args else "default")
    assert len(list((out / "_checkpoints").iterdir())) == 1  # one configuration's checkpoints only


# -- 9. secrets --------------------------------------------------------------------------------------
def test_secret_options_are_never_recorded_or_printed(tmp_path, capsys):
    out = tmp_path / "out"
    secret, key = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY", "AKIAIOSFODNN7EXAMPLE"
    assert run("--sample", "--output", str(out), f"--s3_access_key_id={key}", "--s3_secret_access_key", secret,
               "--s3_session_token=tok-123456", "--until", "detect") == 0
    recorded = (out / "stats" / "run.json").read_text()
    assert secret not in recorded and key not in recorded and "tok-123456" not in recorded
    assert "--s3_secret_access_key" in recorded  # the option is recorded, its value is not
    capsys.readouterr()
    assert main(["report", str(out), "--json"]) == 0
    printed = capsys.readouterr().out
    assert secret not in printed and key not in printed


def test_redaction_of_every_form():
    from jawebcorpus.corpus.remote import display_path
    from jawebcorpus.pipelines.spec import redact_args

    signed = "https://bucket.s3.example/x.warc.gz?X-Amz-Credential=AKIA1&X-Amz-Signature=f00d"
    assert display_path(signed) == "https://bucket.s3.example/x.warc.gz?<redacted>"
    assert display_path("https://user:pw@host.example/a") == "https://<redacted>@host.example/a"
    assert display_path("s3://commoncrawl/crawl-data/x.warc.gz") == "s3://commoncrawl/crawl-data/x.warc.gz"
    assert redact_args(["--input", signed, "--cc-base=https://u:p@h.example/"]) == [
        "--input", "https://bucket.s3.example/x.warc.gz?<redacted>", "--cc-base=https://<redacted>@h.example/"]

    args = ["run", "--api-token=abc", "--password", "p", "--aws_secret_access_key", "s", "--key=k", "--output", "o"]
    assert redact_args(args) == ["run", "--api-token=<redacted>", "--password", "<redacted>",
                                 "--aws_secret_access_key", "<redacted>", "--key=<redacted>", "--output", "o"]


# -- 11. errors of the environment ---------------------------------------------------------------------
def test_environment_errors_are_one_clear_line_and_exit_2(tmp_path, capsys):
    afile = tmp_path / "file"
    afile.write_text("x")
    for args in (["--output", str(afile)], ["--output", str(afile / "sub")],
                 ["--output", str(tmp_path / "o"), "--runner=NoSuchRunner"]):
        assert run("--sample", *args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("jawebcorpus: error:") and "Traceback" not in err[0]


@pytest.mark.slow
def test_a_full_disk_is_a_clear_error_and_the_run_resumes(tmp_path, monkeypatch, capsys):
    from jawebcorpus.pipelines import storage

    whole, out = tmp_path / "whole", tmp_path / "out"
    assert run("--sample", "--output", str(whole), "--until", "clean") == 0
    real = storage.atomic_write
    state = {"checkpoints": 0}

    def full_after_one_checkpoint(path, data):
        if "_checkpoints" in str(path) and str(path).endswith(".json"):
            state["checkpoints"] += 1
            if state["checkpoints"] > 1:
                raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    monkeypatch.setattr(storage, "atomic_write", full_after_one_checkpoint)
    assert run("--sample", "--output", str(out), "--until", "clean") == 2
    err = capsys.readouterr().err
    assert "no space left on device" in err and "Traceback" not in err
    monkeypatch.setattr(storage, "atomic_write", real)
    assert run("--sample", "--output", str(out), "--until", "clean") == 0
    assert json.loads((out / "stats" / "run.json").read_text())["resumed_files"] == 1
    for name in ("stages.json", "details.json"):
        assert (out / "stats" / name).read_text() == (whole / "stats" / name).read_text()
