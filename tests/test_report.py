"""``jawebcorpus report``: the funnel, the HTML page, side by side, extrapolation, samples, speed."""

from __future__ import annotations

import html
import importlib.util
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from jawebcorpus.registry import STAGE_NAMES
from jawebcorpus.corpus.stats import read_file_records
from jawebcorpus.filters.quality import RULES
from jawebcorpus.pipelines.cli import main
from jawebcorpus.report import build_report, estimate_total, load_run, render_html, render_text, t95

REPO = Path(__file__).resolve().parents[1]
STAGE_ORDER = list(STAGE_NAMES)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_report", REPO / "bench" / "bench_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory) -> Path:
    """A real run of the bundled sample, exactly as a user starts it."""
    out = tmp_path_factory.mktemp("report") / "sample"
    assert main(["run", "--sample", "--quiet", "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def light_out(tmp_path_factory) -> Path:
    """The sample under the swallow-light preset, with example documents per drop reason."""
    out = tmp_path_factory.mktemp("report") / "light"
    assert main(["run", "--sample", "--quiet", "--preset", "swallow-light", "--samples-per-reason", "2",
                 "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def synthetic_out(tmp_path_factory) -> Path:
    """A synthetic statistics directory with a dedup stage, failed files, 60 NG terms, Parquet parts."""
    out = tmp_path_factory.mktemp("report") / "synthetic"
    _bench().make_stats_dir(str(out), files=84, snapshots=3, terms=60, with_data=True)
    return out


def _report(*outs, **kw) -> dict:
    return build_report([load_run(str(o)) for o in outs], **kw)


def _lines_fit(text: str, width: int = 80) -> None:
    long = [(len(line), line) for line in text.splitlines() if len(line) > width]
    assert not long, f"lines over {width} characters: {long[:3]}"


# -- statistics correctness ------------------------------------------------------------------------
def test_written_totals_equal_the_parquet_output(sample_out):
    """The report's "written" figures equal the rows and characters of the Parquet files themselves."""
    import pyarrow.dataset as ds

    table = ds.dataset(str(sample_out / "data"), format="parquet").to_table(columns=["snapshot", "num_chars"])
    truth: dict[str, list[int]] = {}
    for snap, n in zip(table.column("snapshot").to_pylist(), table.column("num_chars").to_pylist()):
        t = truth.setdefault(snap, [0, 0])
        t[0] += 1
        t[1] += n
    assert truth, "the sample run wrote nothing"
    rep = _report(sample_out)
    run = rep["runs"][0]
    got = {s: [v["docs"], v["chars"]] for s, v in run["written"]["per_snapshot"].items()}
    assert got == truth
    assert run["written"]["docs"] == sum(v[0] for v in truth.values()) == table.num_rows
    assert run["written"]["chars"] == sum(v[1] for v in truth.values())
    # the funnel's last row and the per-snapshot funnels say the same
    total = {s["stage"]: s for s in run["funnel"]["total"]}
    assert total["write"]["kept_docs"] == table.num_rows
    for snap, (docs, chars) in truth.items():
        w = next(s for s in run["funnel"]["snapshots"][snap] if s["stage"] == "write")
        assert (w["kept_docs"], w["kept_chars"]) == (docs, chars)
    # the extrapolation's sampled snapshots (all files read: exact) are the same figures
    assert run["extrapolation"]["sampled"]["docs"]["estimate"] == table.num_rows
    # per-file counts (the per-file records, which the write stage fills) add up to the Parquet totals
    rs = load_run(str(sample_out))
    assert rs.written_source == "OUT/stats/files"
    assert sum(v[0] for v in rs.written_per_file.values()) == table.num_rows
    assert sum(v[1] for v in rs.written_per_file.values()) == sum(v[1] for v in truth.values())


def test_funnel_is_consistent_with_stages_and_files(sample_out):
    rows = json.loads((sample_out / "stats" / "stages.json").read_text())
    files = read_file_records(str(sample_out / "stats"))
    run = _report(sample_out)["runs"][0]
    fun = run["funnel"]["total"]
    assert [s["stage"] for s in fun] == [s for s in STAGE_ORDER if any(r["stage"] == s for r in rows)]
    assert fun[0]["in_docs"] == sum(f["records"] for f in files) == run["files"]["records"]
    for prev, st in zip(fun, fun[1:]):
        assert st["in_docs"] == prev["kept_docs"], st["stage"]
        assert st["in_chars"] == prev["kept_chars"], st["stage"]
    for st in fun:
        assert st["kept_docs"] + sum(r["docs"] for r in st["reasons"]) == st["in_docs"]
        assert st["in_docs"] == sum(r["docs"] for r in rows if r["stage"] == st["stage"])
    assert run["accounting_problems"] == []
    assert run["files"]["captures"] == sum(f["responses"] for f in files)


# -- terminal ------------------------------------------------------------------------------------
def test_terminal_report_reads_at_80_columns(sample_out, light_out, synthetic_out, capsys):
    for outs, extra in (([sample_out], []), ([sample_out, light_out], []), ([synthetic_out], ["--per-snapshot"]),
                        ([synthetic_out, sample_out, light_out], ["--top", "6"])):
        assert main(["report", *map(str, outs), *extra]) == 0
        text = capsys.readouterr().out
        _lines_fit(text)
        assert "funnel, all snapshots" in text
    text = render_text(_report(synthetic_out), per_snapshot=True)
    _lines_fit(text)


def test_terminal_report_shows_the_funnel_and_drop_reasons(sample_out, capsys):
    assert main(["report", str(sample_out)]) == 0
    text = capsys.readouterr().out
    run = _report(sample_out)["runs"][0]
    # stages in pipeline order, ending with "written"
    names = [line.split()[0] for line in text.splitlines()
             if line and line.split()[0] in STAGE_ORDER + ["written"] and ("→" in line or line.startswith("written"))]
    assert names == [s if s != "write" else "written" for s in (x["stage"] for x in run["funnel"]["total"])]
    assert f"{run['written']['docs']:,}" in text
    # the largest drop reason of each stage is listed under it, with its count
    for st in run["funnel"]["total"]:
        if st["reasons"]:
            r = st["reasons"][0]
            assert re.search(rf"- {re.escape(r['reason'])}\s+{r['docs']:,}\s", text), r
    assert "documents leaving each stage, per snapshot" in text
    for snap in run["snapshot_ids"]:
        assert snap.replace("CC-MAIN-", "") in text
    assert "extrapolation" in text and "Swallow (21)" in text and "173 M" in text and "312 B" in text
    assert "--samples-per-reason" in text  # no samples in this output: says how to get them


def test_json_output_is_the_same_report(sample_out, capsys):
    assert main(["report", str(sample_out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    again = _report(sample_out)
    data.pop("generated"), again.pop("generated")
    assert data == json.loads(json.dumps(again))
    run = data["runs"][0]
    assert {"funnel", "quality", "ngwords", "histograms", "dedup", "extrapolation", "samples", "written"} <= set(run)
    assert run["label"] == f"{sample_out.name} (default)"


def test_bad_output_directory_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "no stats/ directory" in capsys.readouterr().err
    (tmp_path / "empty" / "stats").mkdir(parents=True)
    assert main(["report", str(tmp_path / "empty")]) == 2
    assert "stages.json not found" in capsys.readouterr().err


def test_report_module_does_not_import_beam():
    code = ("import sys, jawebcorpus.report as r; "
            "assert not any(m == 'apache_beam' or m.startswith('apache_beam.') for m in sys.modules), 'beam'; "
            "assert not any(m.startswith('jawebcorpus.pipelines') for m in sys.modules), 'pipelines'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


# -- the typed model -------------------------------------------------------------------------------
def test_load_run_gives_frozen_typed_rows(light_out):
    import dataclasses

    from jawebcorpus.report.model import DetailRow, FileEntry, StageRow

    rs = load_run(str(light_out))
    stats = light_out / "stats"
    stages = json.loads((stats / "stages.json").read_text())
    details = json.loads((stats / "details.json").read_text())
    files = read_file_records(str(stats))
    run = json.loads((stats / "run.json").read_text())
    assert all(isinstance(r, StageRow) for r in rs.stages) and all(isinstance(r, DetailRow) for r in rs.details)
    assert all(isinstance(f, FileEntry) for f in rs.files)
    # the rows the pipeline writes are complete: loading loses nothing
    assert [r.as_json() for r in rs.stages] == stages
    assert [r.as_json() for r in rs.details] == details
    assert [(f.path, f.snapshot, f.records, f.responses, f.pages, f.ok) for f in rs.files] == \
        [(f["path"], f["snapshot"], f["records"], f["responses"], f["pages"], f["status"] == "ok") for f in files]
    assert rs.info.preset == run["preset"] == "swallow-light" and list(rs.info.stages) == run["stages"]
    assert rs.info.setting("quality", "disabled") == run["config"]["quality"]["disabled"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rs.stages[0].docs = 0
    # samples: in pipeline order, each with the number of documents its file holds
    assert rs.samples and rs.samples_dir == str(light_out / "samples")
    order = [(STAGE_ORDER.index(s.stage), s.reason) for s in rs.samples]
    assert order == sorted(order)
    for s in rs.samples:
        with open(s.file, encoding="utf-8") as fh:
            assert s.count == sum(1 for line in fh if line.strip())


def test_malformed_statistics_are_a_clear_error(sample_out, tmp_path, capsys):
    good = json.loads((sample_out / "stats" / "stages.json").read_text())
    cases = (("stages.json", json.dumps(good[:1] + [{"snapshot": "X", "outcome": "kept"}])),
             ("stages.json", "[1, 2]"), ("files/CC-MAIN-2024-10-99.jsonl", '{"path": "x"}\n{not json\n'),
             ("files.json", '{"path": "x"}'),  # an older output: files.json instead of files/
             ("details.json", '"rows"'), ("run.json", "[1]"))
    for i, (name, content) in enumerate(cases):
        out = tmp_path / f"bad{i}"
        shutil.copytree(sample_out / "stats", out / "stats")
        if name == "files.json":
            shutil.rmtree(out / "stats" / "files")
        (out / "stats" / name).write_text(content)
        assert main(["report", str(out)]) == 2, name
        err = capsys.readouterr().err
        assert err.startswith("jawebcorpus: error:") and name.split("/")[0] in err and "Traceback" not in err


def test_the_report_follows_the_registries(sample_out, tmp_path):
    from importlib import resources

    from jawebcorpus.registry import HISTOGRAMS, STAGES, stage

    run = _report(sample_out)["runs"][0]
    unit = {s.name for s in STAGES if s.changes_char_unit}
    assert unit and any(st["stage"] not in unit for st in run["funnel"]["total"])
    for st in run["funnel"]["total"]:
        # a share of characters only where a stage keeps the unit it received
        assert (st["chars_share"] is None) == (st["stage"] in unit or not st["in_chars"]), st["stage"]
    assert [r["rule"] for r in run["quality"]["rules"]] == list(RULES)
    assert [r["number"] for r in run["quality"]["rules"]] == list(range(1, len(RULES) + 1))
    # the histograms of the written documents are the ones the write stage declares
    written = [d.kind[5:] for d in stage("write").details if d.kind.startswith("hist:")]
    assert written and list(run["histograms"])[: len(written)] == written
    page = render_html(_report(sample_out), str(tmp_path / "r.html"))
    for title in (HISTOGRAMS[h] for h in written):
        assert html.escape(title) in page, title
    # the style sheet is package data, inlined as it is
    css = resources.files("jawebcorpus.report").joinpath("report.css").read_text(encoding="utf-8")
    assert css.strip() and f"<style>\n{css}</style>" in page
    # side by side, the stages stand in the registry's order (a stage added there needs no change here)
    text = render_text(_report(sample_out, sample_out))
    block = text.split("── funnel, all snapshots")[1].split("\n── ")[0]
    rows = [line.split()[0] for line in block.splitlines() if line[:1].strip()]
    ran = [st["stage"] for st in run["funnel"]["total"]]
    assert rows[1:] == ["written" if s == "write" else s for s in STAGE_ORDER if s in ran]


# -- HTML ----------------------------------------------------------------------------------------
_REMOTE = re.compile(r"""(?:\b(?:src|href|srcset|xlink:href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
                     r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""", re.I)


def _assert_self_contained(page: str) -> None:
    assert not _REMOTE.search(page), _REMOTE.search(page).group(0)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "<img" not in page.lower() and "<iframe" not in page.lower()
    assert "<svg" in page and "<style>" in page


def test_html_is_one_self_contained_page_with_the_plots(sample_out, tmp_path, capsys):
    html_path = tmp_path / "report.html"
    assert main(["report", str(sample_out), "--html", str(html_path)]) == 0
    assert str(html_path) in capsys.readouterr().out
    page = html_path.read_text(encoding="utf-8")
    _assert_self_contained(page)
    for sid in ("funnel", "snapshots", "quality", "ngwords", "hist", "langid", "dedup", "extrapolation", "reasons"):
        assert f'id="{sid}"' in page, sid
    assert page.count("<svg") >= 10  # funnel ×2, quality, NG terms, 5 histograms, language ID
    assert "no dedup stage in this run" not in page  # the sample run deduplicates (3 copies → 1)
    for rule in RULES:
        assert rule in page
    terms = json.loads((sample_out / "stats" / "details.json").read_text())
    for t in {r["name"] for r in terms if r["kind"] == "term_matched"}:
        assert t in page
    assert "hiragana share" in page and "language-ID score" in page
    assert "Swallow corpus v1" in page and "312 B" in page and "173 M" in page


def test_html_escapes_what_it_shows(synthetic_out, tmp_path):
    out = tmp_path / "evil"
    shutil.copytree(synthetic_out / "stats", out / "stats")
    rows = json.loads((out / "stats" / "stages.json").read_text())
    for r in rows:
        if r["stage"] == "hosts" and r["outcome"] == "dropped":
            r["reason"] = '<script>alert(1)</script><img src="https://evil.example/x.png">'
            break
    (out / "stats" / "stages.json").write_text(json.dumps(rows))
    det = json.loads((out / "stats" / "details.json").read_text())
    det.append({"snapshot": rows[0]["snapshot"], "stage": "ngwords", "kind": "term_matched",
                "name": "</text><script>x</script>", "docs": 10 ** 9, "chars": 1, "bytes": 0})
    (out / "stats" / "details.json").write_text(json.dumps(det))
    page = render_html(_report(out), str(tmp_path / "r.html"))
    _assert_self_contained(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_dedup_stage_is_reported_generically(synthetic_out, tmp_path):
    run = _report(synthetic_out)["runs"][0]
    stages = [s["stage"] for s in run["funnel"]["total"]]
    assert stages.index("clean") + 1 == stages.index("dedup") == stages.index("write") - 1
    d = run["dedup"]
    assert d is not None and len(d["snapshots"]) == 3
    assert all(s["removed_docs"] > 0 for s in d["snapshots"])
    assert d["cluster_sizes"]["bins"][:4] == ["1", "2", "3-4", "5-8"]  # dedup/cluster.py's buckets, in order
    assert d["kept_copy_in"]["removed_in"] == run["snapshot_ids"]
    page = render_html(_report(synthetic_out), str(tmp_path / "r.html"))
    assert "no dedup stage in this run" not in page
    assert "duplicate-cluster sizes" in page and "near_duplicate" in page and "where the kept copy" in page
    text = render_text(_report(synthetic_out))
    assert re.search(r"^dedup\s", text, re.M) and "near_duplicate" in text
    # the extrapolation says its figures are after dedup (no "before deduplication" note)
    assert "before deduplication" not in text


def test_two_outputs_side_by_side(sample_out, light_out, tmp_path, capsys):
    html_path = tmp_path / "two.html"
    assert main(["report", str(sample_out), str(light_out), "--html", str(html_path)]) == 0
    text = capsys.readouterr().out
    _lines_fit(text)
    assert f"A: {sample_out.name} (default)" in text and f"B: {light_out.name} (swallow-light)" in text
    assert "settings that differ" in text and "quality.disabled" in text
    # one row per stage carrying both runs' figures
    a, b = (_report(o)["runs"][0]["written"]["docs"] for o in (sample_out, light_out))
    assert re.search(rf"^written\s+{a:,}\s.*\s{b:,}\s", text, re.M)
    page = html_path.read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert f"{sample_out.name} (default)" in page and f"{light_out.name} (swallow-light)" in page
    assert page.count('<div class="panel">') >= 2 * 10
    assert "(off)" in page  # rules switched off by swallow-light are marked in its panel


def test_an_early_stop_reports_what_ran(tmp_path, capsys):
    out = tmp_path / "until"
    assert main(["run", "--sample", "--quiet", "--until", "extract", "--output", str(out)]) == 0
    assert main(["report", str(out), "--html", str(tmp_path / "u.html")]) == 0
    text = capsys.readouterr().out
    _lines_fit(text)
    run = _report(out)["runs"][0]
    assert [s["stage"] for s in run["funnel"]["total"]] == ["read", "detect", "decode", "opt_out", "license", "extract",
                                                          "write"]
    assert run["quality"] is None and run["ngwords"] is None
    page = (tmp_path / "u.html").read_text(encoding="utf-8")
    assert "no quality stage in this run" in page and "no ngwords stage in this run" in page


# -- samples -------------------------------------------------------------------------------------
def test_samples_are_linked_relative_to_the_html_and_embedded(light_out, tmp_path, capsys):
    samples = sorted((light_out / "samples").glob("*/*.jsonl"))
    assert samples, "run --samples-per-reason wrote no samples"
    html_path = tmp_path / "sub" / "report.html"
    html_path.parent.mkdir()
    assert main(["report", str(light_out), "--html", str(html_path)]) == 0
    text = capsys.readouterr().out
    assert str(light_out / "samples") in text
    page = html_path.read_text(encoding="utf-8")
    links = re.findall(r'href="([^"#][^"]*\.jsonl)"', page)
    assert links
    for link in links:
        assert not link.startswith("/") and "://" not in link
        assert (html_path.parent / link).resolve().is_file(), link
    assert {(html_path.parent / ln).resolve() for ln in links} == {p.resolve() for p in samples}
    first = json.loads(samples[0].read_text(encoding="utf-8").splitlines()[0])
    assert html.escape(first["url"]) in page  # embedded, as text (never fetched)
    _assert_self_contained(page)


# -- extrapolation -------------------------------------------------------------------------------
def test_estimators():
    # mean per file, finite population correction, Student's t
    e = estimate_total([10, 20, 30], [100, 100, 100], 100)
    assert e["estimate"] == pytest.approx(2000)
    se = 100 * math.sqrt((1 - 3 / 100) * 100 / 3)
    assert e["se"] == pytest.approx(se)
    assert e["half_width"] == pytest.approx(4.303 * se)
    # ratio estimator: y per capture × captures of the population
    r = estimate_total([10, 20, 30], [100, 200, 300], 50, x_per_unit=1000)
    assert r["estimate"] == pytest.approx(0.1 * 50 * 1000) and r["half_width"] == pytest.approx(0)
    r = estimate_total([10, 25, 30], [100, 200, 300], 50, x_per_unit=1000)
    assert r["half_width"] > 0
    # one file: no error; all files: exact
    assert estimate_total([7], [100], 90000)["half_width"] is None
    ex = estimate_total([1, 2], [5, 5], 2)
    assert ex["half_width"] == 0 and ex["exact"] and ex["estimate"] == 3
    assert t95(1) == pytest.approx(12.706) and t95(10 ** 6) == pytest.approx(1.96, abs=1e-3)
    assert t95(45) == pytest.approx(2.014, abs=0.005)


def test_extrapolation_uses_the_snapshot_listing(sample_out):
    ex = _report(sample_out)["runs"][0]["extrapolation"]
    import gzip

    for row in ex["snapshots"]:
        assert row["files_source"] == "listing" and os.path.isfile(row["listing"])
        with gzip.open(row["listing"], "rt") as fh:
            assert row["files_in_snapshot"] == sum(1 for line in fh if line.strip())
        assert row["method"] == "complete" and row["docs"]["estimate"] == row["docs_written"]
    assert ex["projected"]["snapshots"] == 21
    assert ex["projected"]["docs"]["estimate"] == pytest.approx(ex["sampled"]["docs"]["estimate"] * 21 / 2)
    assert not any("before deduplication" in n for n in ex["notes"])  # the sample run deduplicates


def test_extrapolation_to_common_crawl_scale(sample_out, capsys):
    assert main(["report", str(sample_out), "--files-per-snapshot", "90000"]) == 0
    text = capsys.readouterr().out
    _lines_fit(text)
    rep = _report(sample_out, files_per_snapshot=90000)
    for row in rep["runs"][0]["extrapolation"]["snapshots"]:
        # sample files hold ~16 captures, real ones ~39,000: scaled per capture
        assert row["method"] == "per capture" and row["files_source"] == "--files-per-snapshot"
        ratio = row["docs_written"] / row["captures_read"]
        assert row["docs"]["estimate"] == pytest.approx(ratio * 90000 * 39000)
        assert row["input_pages"]["estimate"] == 90000 * 39000
        assert row["docs"]["half_width"] is None  # one file per snapshot
        assert "cannot be estimated" in row["error_note"]
    assert "cannot be estimated" in text and "scaled per capture" in text


def test_extrapolation_interval_from_many_files(synthetic_out):
    rep = _report(synthetic_out)
    ex = rep["runs"][0]["extrapolation"]
    for row in ex["snapshots"]:
        assert row["files_source"] == "assumed" and row["files_in_snapshot"] == 90000
        assert row["method"] == "per file"  # synthetic files hold ≈ 39,000 captures
        d = row["docs"]
        assert d["half_width"] > 0 and d["low"] < d["estimate"] < d["high"]
        n = row["files_read"]
        assert d["estimate"] == pytest.approx(90000 * row["docs_written"] / n)
        assert "95 %" in row["error_note"]
    pr = ex["projected"]
    assert pr["snapshots"] == 21 and pr["docs"]["half_width"] > 0


# -- speed ---------------------------------------------------------------------------------------
def _time_report(out: Path, tmp_path: Path) -> float:
    t0 = time.perf_counter()
    rep = build_report([load_run(str(out))])
    text = render_text(rep)
    page = render_html(rep, str(tmp_path / "big.html"))
    seconds = time.perf_counter() - t0
    _lines_fit(text)
    _assert_self_contained(page)
    return seconds


def test_report_on_a_larger_stats_directory_is_fast(tmp_path):
    out = tmp_path / "mid"
    _bench().make_stats_dir(str(out), files=500, snapshots=21, terms=300, with_data=True)
    assert _time_report(out, tmp_path) < 10


@pytest.mark.slow
def test_report_on_thousands_of_warc_files_renders_in_seconds(tmp_path):
    out = tmp_path / "big"
    info = _bench().make_stats_dir(str(out), files=5000, snapshots=21, terms=400, with_data=True)
    seconds = _time_report(out, tmp_path)
    assert seconds < 15, f"report took {seconds:.1f}s"
    run = build_report([load_run(str(out))])["runs"][0]
    assert run["written"]["docs"] == info["written_docs"] and run["files"]["total"] == 5000


# -- headless Chromium -----------------------------------------------------------------------------
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _png_colours(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct colours in a sample of pixels) of a PNG."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as im:
            im = im.convert("RGB")
            w, h = im.size
            small = im.resize((max(1, w // 2), max(1, h // 2)))
            return w, h, len(small.getcolors(maxcolors=1 << 24) or [])
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    colour_type = None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, _depth, colour_type = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = {2: 3, 6: 4}.get(colour_type, 3)
    stride = w * bpp + 1
    colours = set()
    for y in range(0, h, 7):  # unfiltered values of sampled rows are enough to see variety
        row = raw[y * stride + 1:(y + 1) * stride]
        for x in range(0, len(row) - bpp, bpp * 5):
            colours.add(row[x:x + 3])
    return w, h, len(colours)


@pytest.mark.slow
def test_html_renders_in_headless_chromium(sample_out, light_out, tmp_path):
    chromium = _chromium()
    if chromium is None:
        pytest.skip("chromium not found (Debian: apt-get install -y chromium; .ci/run installs it)")
    html_path = tmp_path / "report.html"
    assert main(["report", str(sample_out), str(light_out), "--html", str(html_path)]) == 0
    shot = tmp_path / "shot.png"
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,4000", f"--screenshot={shot}",
           html_path.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert shot.is_file(), f"no screenshot: {proc.returncode} {proc.stderr[-2000:]}"
    assert shot.stat().st_size > 60_000
    w, h, colours = _png_colours(shot)
    assert (w, h) == (1280, 4000)
    assert colours > 200, f"only {colours} colours: the plots did not render"


def test_statistics_files_are_cross_checked(sample_out, tmp_path):
    assert _report(sample_out)["runs"][0]["stats_warnings"] == []
    out = tmp_path / "tampered"
    shutil.copytree(sample_out / "stats", out / "stats")
    det = json.loads((out / "stats" / "details.json").read_text())
    hist = next(r for r in det if r["kind"] == "hist:kanji")
    hist["docs"] += 1
    alone = next(r for r in det if r["kind"] == "rule_fails")
    alone["docs"] = 0
    (out / "stats" / "details.json").write_text(json.dumps(det))
    warnings = _report(out)["runs"][0]["stats_warnings"]
    assert any("histogram hist:kanji" in w for w in warnings)
    stages = json.loads((out / "stats" / "stages.json").read_text())
    if any(r["stage"] == "quality" and r["reason"] == alone["name"] for r in stages):
        assert any(f"quality rule {alone['name']}" in w for w in warnings)
    text = render_text(_report(out))
    assert "! statistics:" in text
    _lines_fit(text)


# -- personal data (issue 12) --------------------------------------------------------------------
def _pii_truth(out: Path) -> tuple[dict, int, dict]:
    """Per kind (matches, documents, characters) from details.json; characters entering pii (what
    the stage before it kept); the pii stage's documents per reason: all from the files themselves."""
    from jawebcorpus.report.signals import PII_STAGE

    det = json.loads((out / "stats" / "details.json").read_text())
    per: dict = {}
    for r in det:
        if r["stage"] == PII_STAGE:
            v = per.setdefault(r["name"], [0, 0, 0])
            if r["kind"] == "pii_matches":
                v[0] += r["docs"]
            else:
                v[1] += r["docs"]
                v[2] += r["chars"]
    rows = json.loads((out / "stats" / "stages.json").read_text())
    order = json.loads((out / "stats" / "run.json").read_text())["stages"]
    before = order[order.index(PII_STAGE) - 1]
    in_chars = sum(r["chars"] for r in rows if r["stage"] == before and r["outcome"] == "kept")
    reasons: dict = {}
    for r in rows:
        if r["stage"] == PII_STAGE:
            reasons[r["reason"]] = reasons.get(r["reason"], 0) + r["docs"]
    return per, in_chars, reasons


def test_pii_section_counts_every_kind(light_out, tmp_path, capsys):
    from jawebcorpus.filters.pii import KINDS, PLACEHOLDERS

    per, in_chars, reasons = _pii_truth(light_out)
    assert per and in_chars  # the sample has a page with an e-mail address and two phone numbers
    assert main(["report", str(light_out), "--json"]) == 0
    p = json.loads(capsys.readouterr().out)["runs"][0]["pii"]
    assert [k["kind"] for k in p["kinds"]][: len(KINDS)] == list(KINDS)
    config = json.loads((light_out / "stats" / "run.json").read_text())["config"]["pii"]
    for k in p["kinds"]:
        m, d, c = per.get(k["kind"], (0, 0, 0))
        assert (k["matches"], k["docs"], k["chars"]) == (m, d, c), k["kind"]
        assert k["matches_per_million_chars"] == pytest.approx(m * 1e6 / in_chars)
        assert k["mode"] == config[k["kind"]] and k["placeholder"] == PLACEHOLDERS[k["kind"]]
    assert p["in_chars"] == in_chars and p["matches"] == sum(v[0] for v in per.values())
    assert {o["reason"]: o["docs"] for o in p["outcomes"] if o["docs"]} == {r: n for r, n in reasons.items() if n}
    assert p["kept_docs"] + p["dropped_docs"] == sum(reasons.values())
    # the audit examples: linked and named, never shown (they hold the personal data itself)
    found = sorted((light_out / "samples" / "pii").glob("found_*.jsonl"))
    assert found and {k["kind"] for k in p["kinds"] if k["samples"]} == {f.stem[len("found_"):] for f in found}
    spans = [json.loads(line)["span"] for f in found for line in f.read_text(encoding="utf-8").splitlines()]
    html_path = tmp_path / "r.html"
    assert main(["report", str(light_out), "--html", str(html_path)]) == 0
    text = capsys.readouterr().out
    _lines_fit(text)
    block = text.split("── personal data found (pii)")[1].split("\n── ")[0]
    for k in p["kinds"]:
        assert re.search(rf"^{k['kind']}\s+{k['mode']}\s+{k['matches']:,}\s+{k['docs']:,}\s", block, re.M), k
    assert "found_<kind>.jsonl" in block
    page = html_path.read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert 'id="pii"' in page and "Personal data found" in page
    for f in found:
        assert f'href="{os.path.relpath(f, tmp_path)}"' in page
    for span in spans:
        assert span not in page and span not in text


def test_pii_modes_come_from_the_configuration_and_the_section_needs_the_stage(sample_out, tmp_path, capsys):
    out = tmp_path / "modes"
    shutil.copytree(sample_out / "stats", out / "stats")
    run = json.loads((out / "stats" / "run.json").read_text())
    run["config"]["pii"]["phone"] = "drop"
    (out / "stats" / "run.json").write_text(json.dumps(run))
    kinds = {k["kind"]: k for k in _report(out)["runs"][0]["pii"]["kinds"]}
    assert kinds["phone"]["mode"] == "drop" and kinds["email"]["mode"] == run["config"]["pii"]["email"]
    del run["config"]["pii"]  # an output that does not record it
    (out / "stats" / "run.json").write_text(json.dumps(run))
    p = _report(out)["runs"][0]["pii"]
    assert not p["modes_known"] and all(k["mode"] is None for k in p["kinds"])
    # without the stage (swallow-v1 has it off): no section anywhere
    stages = json.loads((out / "stats" / "stages.json").read_text())
    assert any(r["stage"] == "pii" for r in stages)
    (out / "stats" / "stages.json").write_text(json.dumps([r for r in stages if r["stage"] != "pii"]))
    det = json.loads((out / "stats" / "details.json").read_text())
    (out / "stats" / "details.json").write_text(json.dumps([r for r in det if r["stage"] != "pii"]))
    report = _report(out)
    assert report["runs"][0]["pii"] is None and report["runs"][0]["accounting_problems"] == []
    assert "personal data" not in render_text(report)
    assert 'id="pii"' not in render_html(report, str(tmp_path / "r.html"))


# -- the quality model's score (issue 12) -------------------------------------------------------
def _with_quality_model(src: Path, dst: Path, threshold: float, scores: list[float]) -> Path:
    """A copy of ``src``'s statistics with a quality_model stage after pii: each document it
    received gets the next score of ``scores``, and those below ``threshold`` are dropped (what
    filters/quality_model.py does); the stages after it lose the dropped documents' share."""
    from jawebcorpus.corpus.stats import ratio_bin

    shutil.copytree(src / "stats", dst / "stats")
    rows = json.loads((dst / "stats" / "stages.json").read_text())
    det = json.loads((dst / "stats" / "details.json").read_text())
    run = json.loads((dst / "stats" / "run.json").read_text())
    run["stages"].insert(run["stages"].index("pii") + 1, "quality_model")
    run["config"]["quality_model"].update(path="/models/hq.bin", threshold=threshold)
    it = iter(scores * 100)
    for snap in sorted({r["snapshot"] for r in rows}):
        n = sum(r["docs"] for r in rows if r["snapshot"] == snap and r["stage"] == "pii" and r["outcome"] == "kept")
        got = [next(it) for _ in range(n)]
        for s in got:
            det.append({"snapshot": snap, "stage": "quality_model", "kind": "hist:quality_score",
                        "name": ratio_bin(s), "docs": 1, "chars": 100, "bytes": 0})
        low = sum(1 for s in got if s < threshold)
        rows.append({"snapshot": snap, "stage": "quality_model", "outcome": "kept", "reason": "scored",
                     "docs": n - low, "chars": 0, "bytes": 0})
        if low:
            rows.append({"snapshot": snap, "stage": "quality_model", "outcome": "dropped",
                         "reason": "quality_model_below", "docs": low, "chars": 0, "bytes": 0})
    (dst / "stats" / "stages.json").write_text(json.dumps(rows))
    (dst / "stats" / "details.json").write_text(json.dumps(det))
    (dst / "stats" / "run.json").write_text(json.dumps(run))
    return dst


def _check_quality_model_section(out: Path, tmp_path: Path, capsys) -> dict:
    """The section agrees with stages.json and details.json; the threshold is on the chart."""
    from jawebcorpus.report.signals import QM_STAGE

    rows = json.loads((out / "stats" / "stages.json").read_text())
    det = json.loads((out / "stats" / "details.json").read_text())
    thr = json.loads((out / "stats" / "run.json").read_text())["config"]["quality_model"]["threshold"]
    scored = sum(r["docs"] for r in rows if r["stage"] == QM_STAGE)
    dropped = sum(r["docs"] for r in rows if r["stage"] == QM_STAGE and r["reason"] == "quality_model_below")
    assert main(["report", str(out), "--json"]) == 0
    model = json.loads(capsys.readouterr().out)["runs"][0]
    q = model["quality_model"]
    assert q["threshold"] == thr and q["in_docs"] == scored and q["dropped_docs"] == dropped
    assert q["histogram"]["total"] == scored == sum(r["docs"] for r in det if r["kind"] == "hist:quality_score")
    # no longer among the other details
    assert not any(r["stage"] == QM_STAGE for r in model["other_details"])
    assert main(["report", str(out), "--html", str(tmp_path / "q.html")]) == 0
    text = capsys.readouterr().out
    _lines_fit(text)
    block = text.split("── quality model score")[1].split("\n── ")[0]
    lines = block.splitlines()
    marker = next(i for i, line in enumerate(lines) if "threshold" in line and "quality_model_below" in line)
    bins = {float(line.split()[0]): i for i, line in enumerate(lines) if re.match(r"^\d\.\d\d\s", line)}
    assert bins and all((i < marker) == (b < thr) for b, i in bins.items())  # the marker sits at the threshold
    page = (tmp_path / "q.html").read_text(encoding="utf-8")
    _assert_self_contained(page)
    assert 'id="qmodel"' in page and 'class="threshold"' in page and f"threshold {thr:g}" in page
    return q


def test_quality_model_score_with_the_threshold_visible(sample_out, tmp_path, capsys):
    from jawebcorpus.report.signals import threshold_position

    out = _with_quality_model(sample_out, tmp_path / "qm", 0.6, [0.12, 0.58, 0.61, 0.83, 0.97, 0.4])
    q = _check_quality_model_section(out, tmp_path, capsys)
    assert 0 < q["dropped_docs"] < q["in_docs"]
    assert q["below_threshold_bins_docs"] == q["dropped_docs"]  # 0.6 is a bin edge
    assert _report(out)["runs"][0]["stats_warnings"] == []
    bins = q["histogram"]["bins"]
    assert threshold_position(bins, 0.6) == 12.0 and threshold_position(bins, 0.625) == pytest.approx(12.5)
    assert threshold_position(bins, 0.0) == 0.0 and threshold_position(bins, 1.0) == len(bins)
    assert threshold_position(bins, None) is None
    # a histogram that does not count what the stage scored is flagged
    det = json.loads((out / "stats" / "details.json").read_text())
    next(r for r in det if r["kind"] == "hist:quality_score")["docs"] += 1
    (out / "stats" / "details.json").write_text(json.dumps(det))
    assert any("quality model's score histogram" in w for w in _report(out)["runs"][0]["stats_warnings"])


@pytest.mark.slow
def test_quality_model_section_of_a_real_run(sample_out, tmp_path, capsys):
    """A small model trained from the sample's own pages, a run with it, the report of that run."""
    from jawebcorpus.filters.quality_model import QualityModel, QualityModelConfig
    from jawebcorpus.pipelines.quality_training import TrainerNotFound, find_trainer

    try:
        find_trainer()
    except TrainerNotFound as exc:
        pytest.skip(f"no fastText training build: {exc}")
    import pyarrow.dataset as ds
    from _sample_model import train_sample_model

    from jawebcorpus.corpus.stats import RATIO_BINS

    model = tmp_path / "hq.bin"
    train_sample_model(model, epoch=25)
    # a threshold on the bin edge nearest the median score of the sample's written documents,
    # so that the run drops some documents and keeps others
    texts = ds.dataset(sample_out / "data", format="parquet", partitioning="hive").to_table().column("text")
    qm = QualityModel(QualityModelConfig(path=str(model), label="hq"))
    scores = sorted(qm.score(t) for t in texts.to_pylist())
    thr = round(scores[len(scores) // 2] * RATIO_BINS) / RATIO_BINS
    out = tmp_path / "out"
    assert main(["run", "--sample", "--quiet", "--output", str(out), "--quality-model", str(model),
                 "--quality-model-threshold", str(thr)]) == 0
    q = _check_quality_model_section(out, tmp_path, capsys)
    assert q["below_threshold_bins_docs"] == q["dropped_docs"] and q["dropped_docs"] > 0
    assert q["model"] == str(model) and q["label"] == "__label__hq"


# -- no secret printed from an output's run.json (issue 12) ---------------------------------------
SECRETS = ("XYZsecret987", "abcTOKEN123", "pa55w0rdQ", "deadbeefSIG", "hunter2cred")


def test_no_secret_from_an_old_run_json_is_printed(sample_out, tmp_path, capsys):
    """An output written by a version that did not redact: the report redacts again."""
    outs = []
    for name, extra in (("old", "one"), ("old2", "two")):
        out = tmp_path / name
        shutil.copytree(sample_out / "stats", out / "stats")
        run = json.loads((out / "stats" / "run.json").read_text())
        run["command"] = ["jawebcorpus", "run", f"--s3_secret_access_key={SECRETS[0]}", "--token", SECRETS[1],
                          "--input", f"https://alice:{SECRETS[2]}@crawl.example/{extra}/",
                          f"--cc-base=https://data.example/x.warc.gz?X-Amz-Signature={SECRETS[3]}&a={extra}",
                          "--output", str(out)]
        run["config"]["quality_model"]["path"] = f"s3://bucket/{extra}.bin?X-Amz-Signature={SECRETS[3]}"
        run["config"].setdefault("remote", {})["s3_secret_access_key"] = SECRETS[4] + extra
        (out / "stats" / "run.json").write_text(json.dumps(run))
        shard = sorted((out / "stats" / "files").glob("*.jsonl"))[0]
        recs = [json.loads(line) for line in shard.read_text().splitlines() if line.strip()]
        recs[0]["path"] = f"https://alice:{SECRETS[2]}@crawl.example/{extra}.warc.gz?sig={SECRETS[3]}"
        shard.write_text("".join(json.dumps(r) + "\n" for r in recs))
        outs.append(str(out))
    shown = []
    for args in (outs[:1], outs, [*outs, "--json"], [*outs, "--html", str(tmp_path / "r.html")]):
        assert main(["report", *args]) == 0
        shown.append(capsys.readouterr().out)
    shown.append((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert "settings that differ" in shown[1]  # the differing settings are printed …
    assert "quality_model.path" in shown[1] and "<redacted>" in shown[1]  # … redacted
    for what in shown:
        for secret in SECRETS:
            assert secret not in what
    data = json.loads(shown[2])
    cmd = data["runs"][0]["command"]
    assert "--s3_secret_access_key=<redacted>" in cmd and cmd[cmd.index("--token") + 1] == "<redacted>"
    assert "https://<redacted>@crawl.example/one/" in cmd
    assert "command: <code>" in shown[4] and "--token &lt;redacted&gt;" in shown[4]


def test_redaction_lives_in_corpus():
    from jawebcorpus.corpus import redact
    from jawebcorpus.corpus import remote
    from jawebcorpus.pipelines import spec

    assert spec.redact_args is redact.redact_args and spec.SECRET_OPTION_RE is redact.SECRET_OPTION_RE
    assert remote.display_path is redact.display_path
    # settings named like secrets are hidden, ordinary ones (quality_model.tokenize) are not
    cfg = {"remote": {"s3_secret_access_key": "k", "api_token": "t", "s3_unsigned": None},
           "quality_model": {"tokenize": "chars", "path": "https://u:p@h.example/m.bin?sig=1"},
           "clean": {"footer_keywords": ["お問い合わせ"]}}
    assert redact.redact_value(cfg) == {
        "remote": {"s3_secret_access_key": "<redacted>", "api_token": "<redacted>", "s3_unsigned": None},
        "quality_model": {"tokenize": "chars", "path": "https://<redacted>@h.example/m.bin?<redacted>"},
        "clean": {"footer_keywords": ["お問い合わせ"]}}
    assert cfg["remote"]["api_token"] == "t"  # a copy, the input is unchanged
    assert redact.redact_text("failed: https://u:p@h.example/x?sig=1 (403)") == \
        "failed: https://<redacted>@h.example/x?<redacted> (403)"
