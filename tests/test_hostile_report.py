"""``jawebcorpus report DIR`` on damaged and hostile folders (``report/folder.py``).

Every case starts from a real output (the bundled sample run with example documents) and damages
it in code: files that are not regular files inside the folder (FIFOs, devices, links out of it),
files past the size bounds, JSON nested too deep, values of the wrong type or out of range,
sections of the wrong JSON type, bad ``--html`` paths, remote outputs.  The report runs in a
forked worker under a time and memory limit (tests/_bounded.py), so a hang or a memory blow-up is
a failure, not a stuck test run.  What it must do: one line and exit status 2 when the
statistics cannot be trusted; when only examples or Parquet files cannot, the report, saying
what it did not read; never a traceback, never a byte of a file outside the folder.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from _bounded import MB, BoundedRunner

SECRET = "TEXT-FROM-OUTSIDE-THE-FOLDER"


def report_cli(out: str, extra: tuple = (), limits: dict | None = None) -> tuple[int, str, str]:
    """``jawebcorpus report OUT …`` in this process: (exit status, stdout, stderr)."""
    from jawebcorpus.pipelines.cli import main
    from jawebcorpus.report import folder

    saved = dict(folder.LIMITS)
    folder.LIMITS.update(limits or {})
    so, se = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(so), redirect_stderr(se):
            rc = main(["report", out, *extra])
    finally:
        folder.LIMITS.clear()
        folder.LIMITS.update(saved)
    return rc, so.getvalue(), se.getvalue()


@pytest.fixture(scope="module")
def runner():
    r = BoundedRunner(seconds=30, memory=800 * MB)
    yield r
    r.close()


@pytest.fixture(scope="module")
def sample_output(tmp_path_factory) -> Path:
    from jawebcorpus.pipelines.cli import main

    out = tmp_path_factory.mktemp("hostile-report") / "sample"
    assert main(["run", "--sample", "--quiet", "--samples-per-reason", "2", "--output", str(out)]) == 0
    assert (out / "samples" / "quality").is_dir()
    return out


@pytest.fixture()
def out(sample_output, tmp_path) -> Path:
    """A fresh copy of the real output, to damage."""
    dst = tmp_path / "out"
    shutil.copytree(sample_output, dst, symlinks=True)
    return dst


@pytest.fixture()
def outside(tmp_path) -> Path:
    """A file outside the folder that the folder will point at."""
    p = tmp_path / "elsewhere.jsonl"
    p.write_text(json.dumps({"stage": "quality", "reason": "too_short", "url": "https://x.example/",
                             "text": SECRET}) + "\n", encoding="utf-8")
    return p


def run_report(runner, out: Path | str, *extra: str, limits: dict | None = None) -> tuple[int, str, str]:
    (rc, so, se), _seconds, _rss = runner.run(report_cli, str(out), tuple(extra), limits)
    assert "Traceback" not in se
    return rc, so, se


def assert_refused(result, *needles: str) -> str:
    rc, so, se = result
    lines = se.strip().splitlines()
    assert rc == 2 and so == "" and len(lines) == 1 and lines[0].startswith("jawebcorpus: error: "), result
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def assert_reported(result, *skipped: str) -> str:
    """The report was printed, saying it did not read something when ``skipped`` is given."""
    rc, so, se = result
    assert rc == 0 and "where every page and character went" in so, result
    assert ("! not read:" in so) == bool(skipped), so[:1500]
    return so


def skipped_of(runner, out: Path, **kwargs) -> list[str]:
    """What ``--json`` says the report did not read."""
    rc, so, _ = run_report(runner, out, "--json", **kwargs)
    assert rc == 0
    return json.loads(so)["runs"][0]["skipped"]


def assert_skipped(runner, out: Path, *names: str, **kwargs) -> None:
    skipped = skipped_of(runner, out, **kwargs)
    for n in names:
        assert any(n in s for s in skipped), (n, skipped)


def rows(path: Path) -> list:
    return json.loads(path.read_text(encoding="utf-8"))


def write_rows(path: Path, data) -> None:
    path.write_text(json.dumps(data), encoding="utf-8")


# -- the folder as it was: nothing skipped, nothing refused --------------------------------------
def test_an_intact_output_is_reported_with_nothing_skipped(runner, out, tmp_path):
    html = tmp_path / "page.html"
    so = assert_reported(run_report(runner, out, "--html", str(html)))
    assert "not read:" not in so and html.read_text(encoding="utf-8").count('class="sample"') > 0
    rc, so, _ = run_report(runner, out, "--json")
    assert rc == 0 and json.loads(so)["runs"][0]["skipped"] == []


def test_a_link_that_stays_inside_the_folder_is_followed(runner, out):
    (out / "copies").mkdir()
    shutil.move(out / "stats" / "details.json", out / "copies" / "details.json")
    os.symlink("../copies/details.json", out / "stats" / "details.json")
    assert "not read:" not in assert_reported(run_report(runner, out))


# -- only regular files inside the folder -----------------------------------------------------------
@pytest.mark.parametrize("name", ["stages.json", "details.json", "run.json"])
def test_a_statistics_file_linked_to_dev_zero_is_refused(runner, out, name):
    (out / "stats" / name).unlink()
    os.symlink("/dev/zero", out / "stats" / name)
    assert_refused(run_report(runner, out), name, "leaves the folder")


@pytest.mark.parametrize("name", ["stages.json", "details.json"])
def test_a_statistics_file_that_is_a_fifo_is_refused_without_waiting(runner, out, name):
    (out / "stats" / name).unlink()
    os.mkfifo(out / "stats" / name)
    assert_refused(run_report(runner, out), name, "a FIFO")


def test_a_shard_of_file_records_linked_outside_is_refused(runner, out, outside):
    shard = sorted((out / "stats" / "files").iterdir())[0]
    shard.unlink()
    os.symlink(outside, shard)
    assert_refused(run_report(runner, out), shard.name, "leaves the folder")


def test_a_stats_folder_linked_outside_is_refused(runner, out, tmp_path):
    shutil.move(out / "stats", tmp_path / "stats-elsewhere")
    os.symlink(tmp_path / "stats-elsewhere", out / "stats")
    assert_refused(run_report(runner, out), "leaves the folder")


def test_a_sample_linked_outside_is_never_read_or_embedded(runner, out, outside, tmp_path):
    target = out / "samples" / "quality" / "too_short.jsonl"
    target.unlink()
    os.symlink(outside, target)
    html = tmp_path / "page.html"
    so = assert_reported(run_report(runner, out, "--html", str(html)), "too_short.jsonl")
    assert SECRET not in so and SECRET not in html.read_text(encoding="utf-8")
    rc, so, _ = run_report(runner, out, "--json")
    assert rc == 0 and SECRET not in so
    assert_skipped(runner, out, "too_short.jsonl: a symbolic link that leaves the folder")


def test_a_samples_stage_folder_linked_outside_is_skipped(runner, out, tmp_path, outside):
    (tmp_path / "stage").mkdir()
    shutil.copy(outside, tmp_path / "stage" / "too_short.jsonl")
    shutil.rmtree(out / "samples" / "quality")
    os.symlink(tmp_path / "stage", out / "samples" / "quality")
    html = tmp_path / "page.html"
    assert_reported(run_report(runner, out, "--html", str(html)), "samples/quality")
    assert SECRET not in html.read_text(encoding="utf-8")
    assert_skipped(runner, out, "samples/quality: a symbolic link that leaves the folder")


def test_a_fifo_among_the_samples_is_skipped_without_waiting(runner, out, tmp_path):
    os.mkfifo(out / "samples" / "quality" / "stuck.jsonl")
    os.mkfifo(out / "samples" / "stuck-stage")
    html = tmp_path / "page.html"
    assert_reported(run_report(runner, out, "--html", str(html)), "stuck.jsonl", "stuck-stage")
    assert html.stat().st_size > 0
    assert_skipped(runner, out, "stuck.jsonl: a FIFO", "stuck-stage: a FIFO")


def test_parquet_files_that_cannot_be_trusted_are_skipped(runner, out, outside):
    """Without per-file written counts in the records the report reads OUT/data: a FIFO, a link out
    of the folder and a file that is not Parquet there are skipped, the rest is read."""
    for shard in (out / "stats" / "files").iterdir():
        recs = [json.loads(x) for x in shard.read_text(encoding="utf-8").splitlines() if x.strip()]
        shard.write_text("".join(json.dumps({k: v for k, v in r.items() if not k.startswith("written")}) + "\n"
                                 for r in recs), encoding="utf-8")
    snap = next((out / "data").iterdir())
    os.mkfifo(snap / "stuck.parquet")
    os.symlink(outside, snap / "outside.parquet")
    (snap / "garbage.parquet").write_bytes(b"PAR1" + b"\xff" * 100 + b"\xff\xff\xff\x7fPAR1")
    rc, so, _ = run_report(runner, out, "--json")
    run = json.loads(so)["runs"][0]
    assert rc == 0 and run["extrapolation"]["per_file_source"] == "OUT/data (Parquet)"
    assert {s.split(": ")[0].rsplit("/", 1)[1] for s in run["skipped"]} == {"stuck.parquet", "outside.parquet",
                                                                          "garbage.parquet"}


# -- size bounds ------------------------------------------------------------------------------------
def test_a_huge_statistics_file_is_refused_before_it_is_read(runner, out):
    with open(out / "stats" / "details.json", "r+b") as fh:
        fh.truncate(300 * MB)  # sparse: costs no disk, would cost memory if read
    assert_refused(run_report(runner, out), "details.json", "over the limit")


def test_a_huge_sample_file_is_skipped(runner, out):
    with open(out / "samples" / "quality" / "too_short.jsonl", "r+b") as fh:
        fh.truncate(300 * MB)
    assert_reported(run_report(runner, out), "too_short.jsonl")
    assert_skipped(runner, out, "too_short.jsonl: 314,572,800 bytes, over the limit")


def test_the_total_read_is_bounded(runner, out):
    total = sum(p.stat().st_size for p in (out / "stats").rglob("*") if p.is_file())
    assert_refused(run_report(runner, out, limits={"total": total // 2}), "adds up to over")
    samples = sum(p.stat().st_size for p in (out / "samples").rglob("*") if p.is_file())
    limits = {"total": total + samples // 2}
    assert_reported(run_report(runner, out, limits=limits), "not all read")
    assert_skipped(runner, out, "not all read", limits=limits)


def test_a_folder_with_too_many_names_is_refused(runner, out):
    shards = out / "stats" / "files"
    for i in range(30):
        (shards / f"extra-{i}.txt").write_text("")
    assert_refused(run_report(runner, out, limits={"entries": 20}), "more than 20 names")


# -- nesting --------------------------------------------------------------------------------------
def test_json_nested_200000_deep_is_refused(runner, out):
    (out / "stats" / "details.json").write_text("[" * 200_000 + "]" * 200_000)
    assert_refused(run_report(runner, out), "details.json", "nested deeper")


def test_a_file_record_nested_200000_deep_is_refused(runner, out):
    shard = sorted((out / "stats" / "files").iterdir())[0]
    shard.write_text(shard.read_text() + '{"path": ' + "[" * 200_000 + "]" * 200_000 + "}\n")
    assert_refused(run_report(runner, out), shard.name, "nested deeper")


def test_configuration_nested_past_the_bound_is_refused(runner, out):
    run = rows(out / "stats" / "run.json")
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    run["config"]["extra"] = deep
    write_rows(out / "stats" / "run.json", run)
    assert_refused(run_report(runner, out), "run.json", "nested deeper than 32")


def test_a_sample_nested_200000_deep_is_counted_not_parsed(runner, out, tmp_path):
    path = out / "samples" / "quality" / "too_short.jsonl"
    path.write_text("[" * 200_000 + "]" * 200_000 + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    html = tmp_path / "page.html"
    assert "not read:" not in assert_reported(run_report(runner, out, "--html", str(html)))


# -- values of the wrong type or out of range ----------------------------------------------------------
@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", "1e400", "-1", str(2 ** 64), '"abc"', "1.5",
                                   "true", "[1]", '{"a": 1}'])
def test_a_count_out_of_range_is_refused(runner, out, value):
    text = (out / "stats" / "stages.json").read_text(encoding="utf-8")
    data = rows(out / "stats" / "stages.json")
    marker = f'"docs": {data[0]["docs"]}'
    assert marker in text
    (out / "stats" / "stages.json").write_text(text.replace(marker, f'"docs": {value}', 1), encoding="utf-8")
    assert_refused(run_report(runner, out), "stages.json", "row 1", "docs")


@pytest.mark.parametrize("file,key,value", [
    ("stages.json", "reason", [1, 2]), ("stages.json", "stage", {"a": 1}), ("details.json", "name", [[]]),
    ("details.json", "chars", -5), ("files", "records", "abc"), ("files", "snapshot", [1]),
    ("files", "written_docs", 1.5), ("files", "message", {"deep": [1]}),
])
def test_a_field_of_the_wrong_type_is_refused(runner, out, file, key, value):
    if file == "files":
        shard = sorted((out / "stats" / "files").iterdir())[0]
        recs = [json.loads(x) for x in shard.read_text(encoding="utf-8").splitlines() if x.strip()]
        recs[0][key] = value
        shard.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        assert_refused(run_report(runner, out), key)
    else:
        data = rows(out / "stats" / file)
        data[0][key] = value
        write_rows(out / "stats" / file, data)
        assert_refused(run_report(runner, out), file, key)


@pytest.mark.parametrize("key,value", [("seconds", "Infinity"), ("seconds", "1e400"), ("versions", "[1, 2]"),
                                       ("started", "-Infinity")])
def test_run_json_values_out_of_range_are_refused(runner, out, key, value):
    run = rows(out / "stats" / "run.json")
    run[key] = "@@"
    text = json.dumps(run).replace('"@@"', value)
    (out / "stats" / "run.json").write_text(text, encoding="utf-8")
    assert_refused(run_report(runner, out), "run.json")


@pytest.mark.parametrize("section,value", [("quality", {"disabled": 5}), ("quality", {"disabled": [{"a": 1}, None]}),
                                           ("langid", [1, 2]), ("pii", "x"), ("quality_model", {"threshold": "abc"}),
                                           ("ngwords", {"mode": {"a": [1]}})])
def test_configuration_of_an_unexpected_shape_is_shown_not_a_crash(runner, out, tmp_path, section, value):
    run = rows(out / "stats" / "run.json")
    run["config"][section] = value
    run["command"] = {"not": ["a", "list"]}
    write_rows(out / "stats" / "run.json", run)
    assert_reported(run_report(runner, out, "--html", str(tmp_path / "page.html")))


def test_text_that_could_drive_a_terminal_is_replaced(runner, out, tmp_path):
    data = rows(out / "stats" / "stages.json")
    top = max((r for r in data if r["outcome"] == "dropped"), key=lambda r: r["docs"])  # shown in the funnel
    evil = "evil\x1b[2J\x1b]0;title\x07\x9b1m\ud800"
    for r in data:
        if r["reason"] == top["reason"] and r["stage"] == top["stage"]:
            r["reason"] = evil
    write_rows(out / "stats" / "stages.json", data)
    html = tmp_path / "page.html"
    so = assert_reported(run_report(runner, out, "--per-snapshot", "--html", str(html)))
    page = html.read_text(encoding="utf-8")
    assert "evil\ufffd[2J" in so and "evil\ufffd[2J" in page
    for bad in ("\x1b", "\x07", "\x9b", "\ud800"):
        assert bad not in so and bad not in page
    so.encode("utf-8")


# -- sections of the wrong JSON type --------------------------------------------------------------------
@pytest.mark.parametrize("file,content,needle", [
    ("stages.json", "{}", "not a list of rows"), ("stages.json", '"x"', "not a list of rows"),
    ("stages.json", "null", "not a list of rows"), ("stages.json", "[1, 2]", "not a list of rows"),
    ("details.json", '{"a": 1}', "not a list of rows"), ("run.json", "[]", "not an object"),
    ("run.json", "5", "not an object"), ("stages.json", "", "not JSON"), ("stages.json", "[{]", "not JSON"),
    ("stages.json", "\xff\xfe", "not JSON"),
])
def test_a_section_of_the_wrong_json_type_is_refused(runner, out, file, content, needle):
    (out / "stats" / file).write_text(content, encoding="latin-1")
    assert_refused(run_report(runner, out), file, needle)


def test_a_file_record_that_is_not_an_object_is_refused(runner, out):
    shard = sorted((out / "stats" / "files").iterdir())[0]
    shard.write_text(shard.read_text() + "[1, 2]\n")
    assert_refused(run_report(runner, out), "not a list of rows")


def test_legacy_files_json_of_the_wrong_type_is_refused(runner, out):
    shutil.rmtree(out / "stats" / "files")
    (out / "stats" / "files.json").write_text('{"a": 1}')
    assert_refused(run_report(runner, out), "files.json", "not a list of rows")


# -- --html and the folder argument ----------------------------------------------------------------
def test_bad_html_paths_are_refused_before_the_folder_is_read(runner, out, tmp_path):
    assert_refused(run_report(runner, out, "--html", str(tmp_path)), "is a folder")
    assert_refused(run_report(runner, out, "--html", str(tmp_path / "no" / "such" / "page.html")), "does not exist")
    assert_refused(run_report(runner, out, "--html", ""), "needs a file name")
    os.mkfifo(tmp_path / "fifo.html")
    assert_refused(run_report(runner, out, "--html", str(tmp_path / "fifo.html")), "not a regular file")
    assert_refused(run_report(runner, tmp_path / "nothing-here", "--html", str(tmp_path)), "is a folder")
    stages = out / "stats" / "stages.json"
    before = stages.read_bytes()
    assert_refused(run_report(runner, out, "--html", str(stages)), "would overwrite part of the output")
    assert stages.read_bytes() == before
    assert_reported(run_report(runner, out, "--html", str(out / "report.html")))


@pytest.mark.parametrize("url", ["s3://bucket/out", "gs://bucket/out/", "https://example.org/out"])
def test_a_remote_output_is_refused_with_what_to_do(runner, url):
    assert_refused(run_report(runner, url), "reads a local folder")


def test_a_folder_that_is_no_output_is_refused(runner, tmp_path):
    assert_refused(run_report(runner, tmp_path), "no stats/ directory")
    (tmp_path / "stats").write_text("")
    assert_refused(run_report(runner, tmp_path), "no stats/ directory")


def test_a_folder_name_that_is_not_utf8_is_printed_escaped(sample_output, tmp_path):
    """The one case that needs the real standard output (its encoding), so a subprocess."""
    raw = os.fsencode(tmp_path) + b"/out-\xff"
    shutil.copytree(sample_output, os.fsdecode(raw), symlinks=True)
    html = tmp_path / "page.html"
    code = "import sys; from jawebcorpus.pipelines.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run([sys.executable, "-c", code, "report", os.fsdecode(raw), "--html", str(html)],
                          capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert b"out-\\udcff" in proc.stdout and html.stat().st_size > 0
