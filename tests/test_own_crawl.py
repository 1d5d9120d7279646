"""The whole pipeline on the project's own crawl (``tests/fixturegen/warcs.py``): two
Common-Crawl-shaped snapshots built from text written for the project, every capture stating
what the pipeline must do with it, re-crawled and mirrored pages across the snapshots; and the
reader's edge-case files through the command line.  What ``test_pipeline_e2e.py``,
``test_dedup_corpus.py`` and ``test_inputs_config_stats.py`` check on ``../shared``, without it.

The per-file stages run here as plain Python (``process_file``, as each Beam worker runs them);
dedup through its reference (union-find over shared band keys); the command line (Beam) runs
on the edge cases, and (slow) on the crawl.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from fixturegen.warcs import NEW, OLD, SNAPSHOTS
from jawebcorpus.corpus.inputs import resolve_paths, resolve_snapshots, sample_per_snapshot, snapshot_from_path
from jawebcorpus.corpus.process import FileResult, process_file
from jawebcorpus.corpus.stage import LocalResources
from jawebcorpus.registry import FILE_ERRORS, file_stages, reason_outcome
from jawebcorpus.corpus.stats import check_accounting
from jawebcorpus.corpus.read import FileReport, ReadStage
from jawebcorpus.dedup.cluster import KeepPolicy
from jawebcorpus.pipelines.cli import main
from jawebcorpus.pipelines.config import PipelineConfig, apply_overrides
from jawebcorpus.registry import stage as stage_class

from test_dedup_beam import expected_survivors
from test_pipeline_e2e import load_stats, output_digest
from jawebcorpus.registry import STAGE_NAMES


def _key(doc) -> tuple[str, str]:
    return (doc.snapshot, doc.url)


@pytest.fixture(scope="module")
def per_file(own_crawl):
    """Every file of the crawl through the per-file stages, in process: {rel: FileResult}."""
    cfg = apply_overrides(PipelineConfig(), ["extract.isolation=none"])
    resources = LocalResources()
    reader = ReadStage()
    reader.setup(cfg, resources)
    stages = []
    for name in file_stages("clean")[1:]:
        st = stage_class(name)()
        st.setup(cfg, resources)
        stages.append(st)
    out = {}
    try:
        for inp in resolve_paths([str(own_crawl.root)]):
            report = FileReport(inp.path, inp.rel, inp.snapshot)
            out[inp.rel] = process_file(lambda count: reader.read(inp, count, report), stages, FileResult(report),
                                        samples_per_reason=10**6)
    finally:
        for st in stages:
            st.teardown()
    assert sorted(out) == own_crawl.files
    return out


# -- layout and snapshot resolution ------------------------------------------------------------
def test_resolve_snapshots_from_the_own_crawl(own_crawl):
    root = str(own_crawl.root)
    files = resolve_snapshots([NEW, OLD], root)
    assert [f.rel for f in files] == own_crawl.files
    for f in files:
        assert Path(f.path).is_file() and f.path == os.path.join(root, f.rel)
        assert f.snapshot == snapshot_from_path(f.rel)
    one = resolve_snapshots(list(SNAPSHOTS), root, max_files=1)
    assert one == resolve_snapshots([NEW, OLD], root, max_files=1) == resolve_snapshots(list(SNAPSHOTS), root, 1)
    assert sorted(f.snapshot for f in one) == list(SNAPSHOTS)
    assert resolve_snapshots(list(SNAPSHOTS), root, max_files=10) == files
    assert sample_per_snapshot(resolve_paths([os.path.join(root, "crawl-data")]), 1) == one


# -- per-file stages -----------------------------------------------------------------------------
def test_every_capture_ends_as_expected(own_crawl, per_file):
    by_url = own_crawl.by_url()
    kept = {_key(d) for r in per_file.values() for d in r.docs}
    dropped = {(s["snapshot"], s["url"]): (s["stage"], s["reason"]) for r in per_file.values() for s in r.samples}
    read_drops = Counter()
    for r in per_file.values():
        for (_snap, stage, outcome, reason), (docs, _c, _b) in r.stats.items():
            if stage == "read" and outcome != "kept" and not reason.endswith("_record"):
                read_drops[reason] += docs
    assert kept | set(dropped) <= set(by_url)
    for (snap, url), cap in by_url.items():
        where = dropped.get((snap, url))
        if cap.expect == "kept":
            assert (snap, url) in kept, (cap.key, where)
        elif cap.expect == "not_kept":
            assert (snap, url) not in kept, cap.key
        elif cap.expect == "langid":
            assert where is not None and where[0] == "langid", (cap.key, where)
        elif cap.expect.startswith("read:"):
            assert (snap, url) not in kept and where is None, cap.key  # read drops are counted, not sampled
        else:
            assert where == tuple(cap.expect.split(":")), (cap.key, where)
    assert read_drops == Counter(c.expect[5:] for c in own_crawl.captures if c.expect.startswith("read:"))
    # the crawl exercises every stage's decisions
    stages = {c.expect.split(":")[0] for c in own_crawl.captures}
    assert {"kept", "read", "detect", "langid", "quality", "ngwords", "hosts"} <= stages


def test_accounting_and_file_reports(own_crawl, per_file):
    for rel, r in per_file.items():
        rows = r.stats.rows(file_stages("clean"))
        assert check_accounting(rows, file_stages("clean")) == [], rel
        rep = r.report
        caps = [c for c in own_crawl.captures if rel.startswith(f"crawl-data/{c.snapshot}/") and rel.endswith(f"{c.file:05d}.warc.gz")]
        assert (rep.status, rep.records, rep.responses) == ("ok", 1 + 3 * len(caps), len(caps)), rel
        for row in rows:
            assert reason_outcome(row["stage"], row["reason"]) == row["outcome"], row


def test_kept_pages_hold_their_text_decoded_from_every_encoding(own_crawl, per_file):
    by_url = own_crawl.by_url()
    charsets = {}
    for r in per_file.values():
        for d in r.docs:
            cap = by_url[_key(d)]
            assert d.text and all(s in d.text for s in cap.text), cap.key
            assert "\ufffd" not in d.text and "<" not in d.text
            charsets[cap.key] = d.charset
    assert charsets["cycling-sjis"] == "cp932" and charsets["stars-iso2022jp"] == "iso2022_jp_2"
    assert charsets["miso-eucjp-undeclared"] in ("euc_jp", "euc_jis_2004")
    assert charsets["sample-page-http10-eucjp"] in ("euc_jp", "euc_jis_2004")
    text = {by_url[_key(d)].key: d.text for r in per_file.values() for d in r.docs}
    assert "①窓口" in text["cycling-sjis"]  # cp932-only characters survive
    assert "，" not in text["sample-punctuation"] and "、" in text["sample-punctuation"]  # cleaned
    assert "人気の記事ランキング" not in text["pottery-boilerplate"]


def test_dedup_keeps_one_copy_of_each_page_from_the_newest_snapshot(own_crawl, per_file):
    """Re-crawled (one sentence edited), mirrored and re-encoded copies: one survivor per
    group, from the newest snapshot; every other page survives."""
    from jawebcorpus.dedup.config import DedupConfig

    docs = [d for rel in sorted(per_file) for d in per_file[rel].docs]
    cfg = DedupConfig()
    kept, sizes = expected_survivors(docs, cfg.spec(), KeepPolicy(cfg.tie_break))
    by_url = own_crawl.by_url()
    groups: dict[str, list] = {}
    for d in docs:
        cap = by_url[_key(d)]
        if cap.group:
            groups.setdefault(cap.group, []).append(d)
    assert sorted(groups) == ["cycling", "library", "miso", "stars"]
    survivors = {f"{d.snapshot}|{d.url}|{d.warc_record_id}" for d in docs} & kept
    for name, members in groups.items():
        alive = [d for d in members if f"{d.snapshot}|{d.url}|{d.warc_record_id}" in survivors]
        assert len(alive) == 1 and alive[0].snapshot == NEW, name
        assert sizes[f"{alive[0].snapshot}|{alive[0].url}|{alive[0].warc_record_id}"] == len(members)
    grouped = {id(d) for m in groups.values() for d in m}
    assert all(f"{d.snapshot}|{d.url}|{d.warc_record_id}" in survivors for d in docs if id(d) not in grouped)


# -- the command line (Beam) ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawl_run(own_crawl, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("own-run") / "out"
    assert main(["run", "--quiet", "--input", str(own_crawl.root), "--output", str(out)]) == 0
    return out


@pytest.mark.slow
def test_own_crawl_end_to_end(own_crawl, crawl_run):
    rows, files = load_stats(crawl_run)
    assert check_accounting(rows, STAGE_NAMES) == []
    assert sorted(f["warc_file"] for f in files) == own_crawl.files and all(f["status"] == "ok" for f in files)
    table = ds.dataset(crawl_run / "data", format="parquet", partitioning="hive").to_table()
    got = {(r["snapshot"], r["url"]) for r in table.select(["snapshot", "url"]).to_pylist()}
    expected = set()
    groups: dict[str, list] = {}
    for c in own_crawl.captures:
        if c.expect == "kept" and c.group is None:
            expected.add((c.snapshot, c.url))
        elif c.group:
            groups.setdefault(c.group, []).append(c)
    for members in groups.values():  # the newest copy survives; ties: the longer text
        newest = [c for c in members if c.snapshot == NEW]
        assert len(newest) == 1
        expected.add((newest[0].snapshot, newest[0].url))
    assert got == expected
    dropped = sum(r["docs"] for r in rows if r["stage"] == "dedup" and r["reason"] == "near_duplicate")
    assert dropped == sum(len(m) - 1 for m in groups.values())
    per_snap = {s: sum(r["docs"] for r in rows if r["snapshot"] == s and r["stage"] == "read") for s in SNAPSHOTS}
    assert per_snap == {s: sum(1 + 3 * sum(c.snapshot == s and c.file == i for c in own_crawl.captures)
                               for i in (0, 1)) for s in SNAPSHOTS}


@pytest.mark.slow
def test_own_crawl_same_output_with_two_worker_processes(own_crawl, crawl_run, tmp_path):
    out = tmp_path / "two"
    assert main(["run", "--quiet", "--input", str(own_crawl.root), "--output", str(out),
                 "--direct_num_workers=2", "--direct_running_mode=multi_processing"]) == 0
    assert output_digest(out) == output_digest(crawl_run)


def test_bad_input_is_counted_never_a_crash(edge_cases, tmp_path, capsys):
    """The reader's edge cases through the command line: each file ends ok, or not ok with a
    documented error class; every record is accounted for; --strict fails the run."""
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for case in edge_cases:
        p = folder / case.name
        p.write_bytes(case.data)
        paths.append(str(p))
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--input", *paths, "--output", str(out), "--until", "detect"]) == 0
    err = capsys.readouterr().err
    rows, reports = load_stats(out)
    assert check_accounting(rows, ("read", "detect")) == []
    assert len(reports) == len(paths)
    by_name = {Path(r["path"]).name: r for r in reports}
    for case in edge_cases:
        rep = by_name[case.name]
        if case.error:
            # the file did not read to its end: failed (or read on past the fault, where the
            # reader can resynchronise) with a documented error class
            assert rep["status"] != "ok" and rep["error"] in FILE_ERRORS, (case.name, rep)
            if rep["status"] == "failed":
                assert f"failed file: {rep['path']}" in err
        else:
            assert rep["status"] == "ok" and rep["records"] == len(case.records), (case.name, rep)
    assert by_name["edge.arc"]["error"] == "arc_not_supported"
    assert by_name["edge.warc.lz4"]["error"] == "unsupported_compression"
    assert by_name["clipped.warc.gz"]["error"] == "truncated_gzip"
    for r in rows:
        assert reason_outcome(r["stage"], r["reason"]) == r["outcome"], r
    # the clipped file's cut record is counted once, as an error
    assert any(r["reason"] == "truncated_gzip" and r["outcome"] == "error" for r in rows)
    assert main(["run", "--quiet", "--input", *paths, "--output", str(out), "--until", "detect",
                 "--overwrite", "--strict"]) == 1
    json.dumps(reports)  # plain data
