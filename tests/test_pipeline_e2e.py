"""End-to-end runs of the Beam pipeline through the command line."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from warcio.archiveiterator import ArchiveIterator

from jawebcorpus.corpus.stats import check_accounting, final_outcomes, read_file_records
from jawebcorpus.pipelines.cli import main, sample_dir
from jawebcorpus.sample import load_manifest, warc_paths
from jawebcorpus.registry import STAGE_NAMES

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REQUIRED_COLUMNS = {
    "text", "url", "host", "snapshot", "warc_file", "warc_offset", "warc_length",
    "warc_record_id", "warc_date", "charset", "lang_score", "num_chars",
}


def need_shared() -> Path:
    if not (SHARED / "crawl").is_dir():
        pytest.skip("../shared is not present")
    return SHARED


def run_cli(*args: str) -> int:
    return main(["run", "--quiet", *args])


def load_stats(out: Path) -> tuple[list[dict], list[dict]]:
    rows = json.loads((out / "stats" / "stages.json").read_text())
    files = read_file_records(str(out / "stats"))
    return rows, files


def output_digest(out: Path) -> dict[str, str]:
    files = sorted(p for p in (out / "data").rglob("*") if p.is_file())
    files += [out / "stats" / "stages.json", out / "stats" / "files_summary.json"]
    files += sorted((out / "stats" / "files").glob("*.jsonl"))
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    assert run_cli("--sample", "--output", str(out)) == 0
    return out


def test_sample_output_is_readable_parquet_with_the_schema(sample_run):
    dataset = ds.dataset(sample_run / "data", format="parquet", partitioning="hive")
    table = dataset.to_table()
    assert REQUIRED_COLUMNS <= set(table.column_names)
    assert table.num_rows > 0
    parts = sorted((sample_run / "data").rglob("*.parquet"))
    for part in parts:
        assert part.name.startswith("part-")
        assert part.parent.name.startswith("snapshot=CC-MAIN-")
        assert pq.ParquetFile(part).metadata.row_group(0).column(0).compression == "ZSTD"
    # nothing else (no temporary or half-written file) is visible
    assert all(p.name.startswith("part-") for p in (sample_run / "data").rglob("*") if p.is_file())
    rows = table.to_pylist()
    for r in rows:
        assert r["num_chars"] == len(r["text"])
        assert 0.5 <= r["lang_score"] <= 1.0


def test_sample_accounting_matches_the_warc_files(sample_run):
    rows, files = load_stats(sample_run)
    assert check_accounting(rows, STAGE_NAMES) == []
    records_per_snapshot: dict[str, int] = {}
    for path in warc_paths():
        snap = re.search(r"CC-MAIN-\d{4}-\d{2}", str(path)).group(0)
        with open(path, "rb") as fh:
            records_per_snapshot[snap] = records_per_snapshot.get(snap, 0) + sum(1 for _ in ArchiveIterator(fh))
    finals = final_outcomes(rows, STAGE_NAMES)
    assert {s: f["read"] for s, f in finals.items()} == records_per_snapshot
    for snap, f in finals.items():
        assert f["read"] == f["kept"] + f["dropped"] + f["error"]
    written = sum(r["docs"] for r in rows if r["stage"] == "write")
    assert written == ds.dataset(sample_run / "data", format="parquet").count_rows()
    assert all(f["status"] == "ok" for f in files)


# manifest "expected" → the (stage, reason) rows that must count it
EXPECTED_DROPS = {
    "reject:non_200": {("read", "http_status")},
    "reject:non_html": {("read", "not_html")},
    "reject:binary": {("read", "binary_body")},
    "reject:language": {("detect", "no_japanese_signal"), ("langid", "below_threshold"), ("langid", "too_few_kana")},
    "reject:too_short": {("quality", "too_short")},
    "reject:hiragana_ratio": {("quality", "low_hiragana")},
    "reject:duplicate_lines": {("quality", "dup_line_frac")},
    "reject:ng_words": {("ngwords", "ng_fraction")},
    "reject:host": {("hosts", "host_suffix")},
}
# manifest "dedup:<group>": all but one copy per group are dropped as near-duplicates


def test_sample_keeps_the_good_pages_and_drops_each_bad_one_at_its_stage(sample_run):
    captures = load_manifest()["captures"]
    table = ds.dataset(sample_run / "data", format="parquet", partitioning="hive").to_table()
    got = {(r["snapshot"], r["url"]) for r in table.select(["snapshot", "url"]).to_pylist()}
    for c in captures:
        if c["expected"].startswith("dedup:"):
            continue
        kept = (c["snapshot"], c["url"]) in got
        assert kept == (c["expected"] == "keep"), (c["url"], c["expected"])
    # each near-duplicate group keeps exactly one copy, from the newest snapshot
    groups: dict[str, list[dict]] = {}
    for c in captures:
        if c["expected"].startswith("dedup:"):
            groups.setdefault(c["expected"], []).append(c)
    assert groups
    for name, members in groups.items():
        kept = [c for c in members if (c["snapshot"], c["url"]) in got]
        assert len(kept) == 1, name
        assert kept[0]["snapshot"] == max(c["snapshot"] for c in members)
    rows, _ = load_stats(sample_run)
    for expected, places in EXPECTED_DROPS.items():
        for snap in {c["snapshot"] for c in captures}:
            want = sum(1 for c in captures if c["expected"] == expected and c["snapshot"] == snap)
            counted = sum(r["docs"] for r in rows if r["snapshot"] == snap and r["outcome"] == "dropped"
                          and (r["stage"], r["reason"]) in places)
            # reasons shared by several expectations (language) are checked as a lower bound
            assert counted >= want, (expected, snap, counted, want)
    assert sum(r["docs"] for r in rows if r["stage"] == "write") == len(got)


def test_every_row_can_be_refetched_by_byte_range(sample_run):
    table = ds.dataset(sample_run / "data", format="parquet", partitioning="hive").to_table()
    root = Path(sample_dir()).parent
    for r in table.to_pylist():
        with open(root / r["warc_file"], "rb") as fh:
            fh.seek(r["warc_offset"])
            member = fh.read(r["warc_length"])
        rec = next(iter(ArchiveIterator(io.BytesIO(gzip.decompress(member)))))
        assert rec.rec_headers.get_header("WARC-Record-ID") == r["warc_record_id"]
        assert rec.rec_headers.get_header("WARC-Target-URI") == r["url"]
        assert rec.rec_headers.get_header("WARC-Date") == r["warc_date"]


def test_every_reason_of_a_run_is_declared_in_the_registry(sample_run):
    """(docs/stages.md equals the registry: tests/test_registry.py.)"""
    from jawebcorpus.registry import reason_outcome

    rows, _ = load_stats(sample_run)
    for r in rows:
        assert reason_outcome(r["stage"], r["reason"]) == r["outcome"], r


def test_huggingface_datasets_reads_the_output(sample_run):
    datasets = pytest.importorskip("datasets")
    files = sorted(str(p) for p in (sample_run / "data").rglob("*.parquet"))
    d = datasets.load_dataset("parquet", data_files=files, split="train")
    assert d.num_rows == ds.dataset(sample_run / "data", format="parquet").count_rows()
    assert REQUIRED_COLUMNS <= set(d.column_names)


def test_beam_counters_mirror_the_statistics(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.pipelines.config import PipelineConfig
    from jawebcorpus.pipelines.run import run_pipeline
    from jawebcorpus.pipelines.spec import RunSpec

    out = tmp_path / "out"
    spec = RunSpec(PipelineConfig(), str(out), inputs=tuple(resolve_paths([sample_dir()])))
    result = run_pipeline(spec, PipelineOptions([]))
    assert result.problems == []
    expected: dict[str, int] = {}
    for r in result.rows:
        key = f"{r['stage']}/{r['outcome']}.{r['reason']}.docs"
        expected[key] = expected.get(key, 0) + r["docs"]
    got = {k: v for k, v in result.counters.items() if k.endswith(".docs")}
    assert got == expected


def test_until_stops_after_the_named_stage(tmp_path):
    out = tmp_path / "out"
    assert run_cli("--sample", "--until", "extract", "--output", str(out)) == 0
    rows, _ = load_stats(out)
    assert not any(r["stage"] in ("langid", "quality", "clean") for r in rows)
    assert check_accounting(rows, STAGE_NAMES) == []
    table = ds.dataset(out / "data", format="parquet").to_table()
    assert table.num_rows == sum(r["docs"] for r in rows if r["stage"] == "extract" and r["outcome"] == "kept")
    assert table.column("lang_score").null_count == table.num_rows


def test_other_configuration_in_the_output_is_refused_without_overwrite(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("--sample", "--output", str(out)) == 0
    before = output_digest(out)
    # the same command again: every file is complete, nothing is redone, same results
    assert run_cli("--sample", "--output", str(out)) == 0
    assert output_digest(out) == before
    # another configuration must not reuse these results silently
    assert run_cli("--sample", "--preset", "swallow-light", "--output", str(out)) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert run_cli("--sample", "--preset", "swallow-light", "--overwrite", "--output", str(out)) == 0
    assert json.loads((out / "stats" / "run.json").read_text())["preset"] == "swallow-light"


def test_a_crashed_run_resumes_to_the_same_output(tmp_path):
    """Kill a run after its first committed file (like a machine failure), rerun the same
    command: completed files are skipped and the output equals an uninterrupted run's."""
    import subprocess
    import sys

    whole, crashed = tmp_path / "whole", tmp_path / "crashed"
    assert run_cli("--sample", "--output", str(whole)) == 0
    # The same run as the command line builds it, killed right after its first commit: the local
    # runner calls the DoFn in this process, which finds the commit function in its module.
    crash_run = (
        "import os, sys\n"
        "from apache_beam.options.pipeline_options import PipelineOptions\n"
        "from jawebcorpus.pipelines import cli, run, transforms\n"
        "commit = transforms.commit_file\n"
        "def commit_then_die(*args, **kwargs):\n"
        "    commit(*args, **kwargs)\n"
        "    os._exit(17)\n"
        "transforms.commit_file = commit_then_die\n"
        "args, extra = cli.build_parser().parse_known_args(sys.argv[1:])\n"
        "run.run_pipeline(cli.build_spec(args, sys.argv), PipelineOptions(extra))\n"
    )
    args = ["run", "--sample", "--quiet", "--output", str(crashed)]
    first = subprocess.run([sys.executable, "-c", crash_run, *args], capture_output=True, text=True, timeout=600)
    assert first.returncode == 17, first.stderr[-2000:]
    checkpoints = list((crashed / "_checkpoints").rglob("*.json"))
    assert len(checkpoints) == 1  # one file committed before the crash
    cmd = [sys.executable, "-m", "jawebcorpus", *args]
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr
    assert json.loads((crashed / "stats" / "run.json").read_text())["resumed_files"] == 1
    assert output_digest(crashed) == output_digest(whole)


def test_unreadable_input_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "no-such-dir" / "x.warc.gz"
    assert run_cli("--input", str(missing), "--output", str(tmp_path / "out")) == 2
    assert str(missing) in capsys.readouterr().err


def test_progress_is_shown_on_stderr_unless_quiet(tmp_path, capsys):
    assert main(["run", "--sample", "--output", str(tmp_path / "a")]) == 0
    err = capsys.readouterr().err
    assert "files 2/2" in err and "captures" in err and "Japanese docs" in err
    assert main(["run", "--sample", "--quiet", "--output", str(tmp_path / "b")]) == 0
    assert capsys.readouterr().err == ""


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for opt in ("--sample", "--input", "--snapshot", "--cc-base", "--max-files", "--output", "--until",
                "--preset", "--set", "--strict", "--quiet", "--runner"):
        assert opt in text
    assert "e.g." in text and "examples:" in text


def test_snapshot_resolution_from_warc_paths(tmp_path):
    shared = need_shared()
    out = tmp_path / "out"
    assert run_cli("--snapshot", "CC-MAIN-2023-14", "--snapshot", "CC-MAIN-2023-23",
                   "--cc-base", str(shared / "crawl"), "--max-files", "1", "--until", "detect",
                   "--output", str(out)) == 0
    _, files = load_stats(out)
    assert len(files) == 2
    assert {f["snapshot"] for f in files} == {"CC-MAIN-2023-14", "CC-MAIN-2023-23"}
    assert all(f["warc_file"].startswith("crawl-data/") for f in files)


def _bad_input_files(shared: Path) -> list[str]:
    warc_dir = shared / "testdata" / "warc"
    return sorted(str(p) for p in warc_dir.rglob("*") if p.is_file() and p.name != "LICENSE")


def test_bad_input_is_counted_never_a_crash(tmp_path, capsys):
    shared = need_shared()
    files = _bad_input_files(shared)
    out = tmp_path / "out"
    assert run_cli("--input", *files, "--output", str(out)) == 0
    err = capsys.readouterr().err
    rows, reports = load_stats(out)
    assert check_accounting(rows, STAGE_NAMES) == []
    assert len(reports) == len(files)
    by_name = {Path(r["path"]).name: r for r in reports}
    assert by_name["clipped.warc.gz"]["error"] == "truncated_gzip"
    assert by_name["example.arc"]["error"] == "arc_not_supported"
    assert by_name["block-sized-records.warc.lz4"]["error"] == "unsupported_compression"
    assert by_name["warcfile.warc.gz"]["status"] == "ok"
    failed = [r for r in reports if r["status"] == "failed"]
    assert failed and all(r["error"] and r["message"] for r in failed)
    for r in failed:
        assert f"failed file: {r['path']}" in err
    from jawebcorpus.registry import FILE_ERRORS, reason_outcome

    for r in failed:
        assert r["error"] in FILE_ERRORS
    for r in rows:
        assert reason_outcome(r["stage"], r["reason"]) == r["outcome"], r
    # the truncated file's partial record is counted as an error
    assert any(r["reason"] == "truncated_gzip" and r["outcome"] == "error" for r in rows)
    # --strict turns failed files into a non-zero exit
    assert run_cli("--input", *files, "--output", str(out), "--overwrite", "--strict") == 1


@pytest.mark.slow
def test_same_output_on_every_runner_and_worker_count(tmp_path):
    outs = {}
    variants = {
        "in_process": [],
        "two_processes": ["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
        "portable_embed": ["--runner=PortableRunner", "--job_endpoint=embed"],
    }
    for name, extra in variants.items():
        out = tmp_path / name
        assert run_cli("--sample", "--output", str(out), *extra) == 0
        outs[name] = output_digest(out)
    assert outs["in_process"] == outs["two_processes"] == outs["portable_embed"]


@pytest.mark.slow
def test_shared_crawl_end_to_end(tmp_path):
    shared = need_shared()
    out1 = tmp_path / "one"
    assert run_cli("--input", str(shared / "crawl"), "--output", str(out1)) == 0
    rows, files = load_stats(out1)
    assert check_accounting(rows, STAGE_NAMES) == []
    manifest = json.loads((shared / "crawl" / "MANIFEST.json").read_text())
    for snap, info in manifest["snapshots"].items():
        ja = info["captures_by_kind"]["ja"] + info["captures_by_kind"].get("ja-mirror", 0)
        found = sum(r["docs"] for r in rows if r["snapshot"] == snap and r["stage"] == "langid"
                    and r["outcome"] == "kept")
        # the crawl's Japanese captures are found (a few "other" pages are Japanese too)
        assert found >= 0.9 * ja
        responses = sum(f["responses"] for f in files if f["snapshot"] == snap)
        assert responses == sum(info["captures_by_kind"].values())
    out2 = tmp_path / "two"
    assert run_cli("--input", str(shared / "crawl"), "--output", str(out2),
                   "--direct_num_workers=2", "--direct_running_mode=multi_processing") == 0
    assert output_digest(out1) == output_digest(out2)


def test_samples_per_reason_writes_examples_of_each_drop(tmp_path):
    out = tmp_path / "out"
    assert run_cli("--sample", "--samples-per-reason", "1", "--output", str(out)) == 0
    rows, _ = load_stats(out)
    # samples cover every stage after read (records there are not documents yet)
    dropped = {(r["stage"], r["reason"]) for r in rows if r["outcome"] != "kept" and r["stage"] != "read"}
    assert ("dedup", "near_duplicate") in dropped
    assert dropped
    found = {(p.parent.name, p.stem) for p in (out / "samples").rglob("*.jsonl")}
    audit = {f for f in found if f[0] == "pii" and f[1].startswith("found_")}  # masked spans to audit
    assert found - audit == dropped
    assert audit == {("pii", "found_email"), ("pii", "found_phone")}
    root = Path(sample_dir()).parent
    for path in (out / "samples").rglob("*.jsonl"):
        lines = path.read_text().splitlines()
        assert len(lines) == 1
        rec = json.loads(lines[0])
        assert (rec["stage"], rec["reason"]) == (path.parent.name, path.stem)
        with open(root / rec["warc_file"], "rb") as fh:
            fh.seek(rec["warc_offset"])
            member = fh.read(rec["warc_length"])
        warc = next(iter(ArchiveIterator(io.BytesIO(gzip.decompress(member)))))
        assert warc.rec_headers.get_header("WARC-Target-URI") == rec["url"]
        assert rec.get("text") or rec.get("span")


def test_incremental_snapshot_against_a_published_index(tmp_path, capsys):
    """Publish the older snapshot with its band index; a later run over the newer snapshot
    removes its near-duplicates of published documents without touching the old output."""
    root = Path(sample_dir()).parent
    old, new, index = tmp_path / "old", tmp_path / "new", tmp_path / "index"
    assert run_cli("--snapshot", "CC-MAIN-2024-10", "--cc-base", str(root), "--write-index", str(index),
                   "--output", str(old)) == 0
    before = output_digest(old)
    assert list(index.glob("*.parquet"))
    assert run_cli("--snapshot", "CC-MAIN-2024-18", "--cc-base", str(root), "--against", str(index),
                   "--output", str(new)) == 0
    assert output_digest(old) == before
    rows, _ = load_stats(new)
    assert check_accounting(rows, STAGE_NAMES) == []
    indexed = sum(r["docs"] for r in rows if r["stage"] == "dedup" and r["reason"] == "indexed_duplicate")
    # the re-crawled ice-lantern article and its mirror were published in 2024-10
    assert indexed == 2
    table = ds.dataset(new / "data", format="parquet", partitioning="hive").to_table()
    assert not any("ice-lantern" in u for u in table.column("url").to_pylist())
    # an index built with another signature specification is refused before any work
    assert run_cli("--snapshot", "CC-MAIN-2024-18", "--cc-base", str(root), "--against", str(index),
                   "--set", "dedup.num_perm=128", "--set", "dedup.bands=16", "--set", "dedup.rows=8",
                   "--output", str(tmp_path / "other")) == 2
    err = capsys.readouterr().err
    assert "num_perm" in err and "128" in err and "800" in err


@pytest.mark.slow
def test_a_part_without_its_checkpoint_is_not_read_by_a_rerun_with_other_inputs(tmp_path, caplog):
    """A run that stopped between a file's Parquet part and its checkpoint leaves an orphan part.
    A rerun over other inputs (same configuration, so the same checkpoint folder) does not redo
    that file: its part must not reach dedup and the final write (its documents would be written
    without ever being read: an accounting error on every rerun)."""
    import shutil

    import jawebcorpus

    sample = Path(jawebcorpus.__file__).parent / "sample" / "crawl-data"
    kept = next(sample.glob("CC-MAIN-2024-10/segments/*/warc/*.warc.gz"))
    lost = next(sample.glob("CC-MAIN-2024-18/segments/*/warc/*.warc.gz"))
    out = tmp_path / "out"
    assert run_cli("--input", str(lost), "--output", str(out)) == 0
    # the state of a run stopped after the part of `lost` was written, before its checkpoint
    orphans = list((out / "_checkpoints").rglob("*.parquet"))
    assert len(orphans) == 1
    for p in out.iterdir():
        if p.name not in ("_checkpoints", "_runs"):
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    for p in (out / "_checkpoints").rglob("*.json"):
        p.unlink()
    fresh = tmp_path / "fresh"
    assert run_cli("--input", str(kept), "--output", str(fresh)) == 0
    with caplog.at_level("WARNING"):
        assert run_cli("--input", str(kept), "--output", str(out)) == 0
    assert "no checkpoint" in caplog.text and orphans[0].exists()
    assert output_digest(out) == output_digest(fresh)  # nothing of the orphan part
