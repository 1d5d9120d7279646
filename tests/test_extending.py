"""The stage contract end to end (docs/extending.md): a filter with its own reasons and an output
column is one class.  The class below is defined here, put into the registry for the test, and
runs through ``process_file``, the Beam pipeline, the statistics, the Parquet output and the
report like the stages that ship."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import pyarrow.parquet as pq
import pytest

from jawebcorpus import registry
from jawebcorpus.corpus.charset import DecodeStage
from jawebcorpus.corpus.extract import ExtractStage
from jawebcorpus.corpus.inputs import resolve_paths
from jawebcorpus.corpus.process import FileResult, process_file
from jawebcorpus.corpus.read import FileReport, ReadStage
from jawebcorpus.corpus.record import OUTPUT_SCHEMA, docs_to_table
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import Asset, Column, Count, DetailKind, LocalResources, Reason, Stage
from jawebcorpus.corpus.stats import check_accounting
from jawebcorpus.pipelines import config as pipeline_config
from jawebcorpus.pipelines.cli import main

MAX_LINE = 200


class LongLinesStage(Stage):
    """long_lines: drops a document with a line longer than MAX_LINE characters (menus and
    tables flattened into one line); the longest line is its column."""

    name = "long_lines"
    summary = "documents with a line longer than 200 characters"
    reasons = (
        *Reason.kept("no line longer than the limit", "short_lines"),
        *Reason.dropped("a line longer than the limit", "long_line"),
    )
    details = (DetailKind("longest_line", "length bucket", "documents by their longest line"),)

    @classmethod
    def columns(cls, settings) -> tuple[Column, ...]:
        return (Column("longest_line", "int32", "characters of the longest line (long_lines)"),)

    def apply(self, doc, count):
        text = doc.text or ""
        longest = max(len(line) for line in text.split("\n"))
        doc.signals["longest_line"] = longest
        count.detail("longest_line", "over" if longest > MAX_LINE else "within", chars=len(text))
        if longest > MAX_LINE:
            count.dropped("long_line", chars=len(text))
            return None
        count.kept("short_lines", chars=len(text))
        return doc


@pytest.fixture()
def registered(monkeypatch):
    """The registry with LongLinesStage after clean (what its one entry in STAGES does)."""
    stages = list(registry.STAGES)
    stages.insert(registry.STAGE_NAMES.index("clean") + 1, LongLinesStage)
    monkeypatch.setattr(registry, "STAGES", tuple(stages))
    monkeypatch.setattr(registry, "STAGE_NAMES", tuple(s.name for s in stages))
    monkeypatch.setattr(registry, "PER_FILE_STAGES", tuple(s.name for s in stages if s.per_file))
    monkeypatch.setattr(registry, "_BY_NAME", {s.name: s for s in stages})
    return LongLinesStage


def test_the_class_is_the_declaration():
    assert LongLinesStage.outcome_of("long_line") == "dropped" and LongLinesStage.outcome_of("short_lines") == "kept"
    assert LongLinesStage.outcome_of("stage_exception") == "error"  # every per-file stage can fail on one document
    assert LongLinesStage.outcome_of("too_long") is None
    count = Count(LongLinesStage).bind("S", 1)
    with pytest.raises(ValueError, match="not declared"):
        count.dropped("too_long")


def test_the_stage_runs_in_process_file(sample_warcs):
    cfg = dataclasses.replace(pipeline_config.PipelineConfig(), extract=dataclasses.replace(
        pipeline_config.PipelineConfig().extract, isolation="none"))
    resources = LocalResources()
    reader = ReadStage()
    reader.setup(cfg, resources)
    stages = [DecodeStage(), ExtractStage(), LongLinesStage()]
    for st in stages:
        st.setup(cfg, resources)
    inp = resolve_paths([str(sample_warcs[0])])[0]
    report = FileReport(inp.path, inp.rel, inp.snapshot)
    try:
        result = process_file(lambda count: reader.read(inp, count, report), stages, FileResult(report))
    finally:
        for st in stages:
            st.teardown()
    rows = result.stats.rows(("read", "decode", "extract", "long_lines"))
    assert check_accounting(rows, ("read", "decode", "extract", "long_lines")) == []
    mine = {(r["outcome"], r["reason"]): r["docs"] for r in rows if r["stage"] == "long_lines"}
    assert mine.get(("kept", "short_lines")) and mine.get(("dropped", "long_line")), mine
    assert all(d.signals["longest_line"] <= MAX_LINE for d in result.docs)
    table = docs_to_table(result.docs, LongLinesStage.columns(None))
    assert table.schema.names == [*OUTPUT_SCHEMA.names, "longest_line"]
    assert table.column("longest_line").to_pylist() == [d.signals["longest_line"] for d in result.docs]


def test_one_registry_entry_makes_it_a_stage_of_the_run(registered, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--sample", "--write-rejected", "--output", str(out)]) == 0
    run = json.loads((out / "stats" / "run.json").read_text())
    assert run["stages"][run["stages"].index("clean") + 1] == "long_lines"
    rows = json.loads((out / "stats" / "stages.json").read_text())
    assert check_accounting(rows, registry.STAGE_NAMES) == []
    mine = {(r["outcome"], r["reason"]) for r in rows if r["stage"] == "long_lines"}
    assert mine == {("kept", "short_lines"), ("dropped", "long_line")}
    details = json.loads((out / "stats" / "details.json").read_text())
    assert {d["name"] for d in details if d["stage"] == "long_lines" and d["kind"] == "longest_line"} == {"over", "within"}
    written = pq.read_table(sorted((out / "data").rglob("*.parquet"))[0])
    assert written.schema.names[-3:] == ["quality_score", "license", "longest_line"]  # new columns after the others
    assert max(written.column("longest_line").to_pylist()) <= MAX_LINE
    rejected = [pq.read_table(p) for p in (out / "rejected").rglob("*.parquet")]
    dropped = [r for t in rejected for r in t.to_pylist() if r["rejected_stage"] == "long_lines"]
    assert dropped and all(r["rejected_reason"] == "long_line" and r["longest_line"] > MAX_LINE for r in dropped)
    # --until accepts it, and the report lists it in the funnel
    assert main(["run", "--quiet", "--sample", "--until", "long_lines", "--output", str(tmp_path / "until")]) == 0
    capsys.readouterr()
    assert main(["report", str(out)]) == 0
    assert "long_lines" in capsys.readouterr().out


@dataclass(frozen=True)
class LongLinesConfig:
    max_line: int = setting(200, 1, 1_000_000)
    #: a list of lines that never count (an asset: local or on object storage)
    allowed_lines: str | None = None

    def validate(self) -> None:
        check_settings(self, "long_lines")


def test_its_settings_become_a_section_of_the_configuration_and_its_assets_are_checked(registered, monkeypatch,
                                                                                       tmp_path):
    from jawebcorpus.pipelines import checks

    monkeypatch.setattr(LongLinesStage, "settings", LongLinesConfig)
    monkeypatch.setattr(LongLinesStage, "assets", classmethod(
        lambda cls, settings: (Asset("allowed-lines list", settings.allowed_lines),)))
    sections = registry.settings_sections()
    assert ("long_lines", LongLinesConfig) in sections
    cls = pipeline_config.compose(sections)
    cfg = pipeline_config.apply_overrides(cls(), ["long_lines.max_line=80"]).validate()
    assert cfg.long_lines.max_line == 80 and LongLinesStage.settings_in(cfg).max_line == 80
    with pytest.raises(pipeline_config.ConfigError, match="long_lines.max_line"):
        pipeline_config.apply_overrides(cls(), ["long_lines.max_line=0"]).validate()
    # the launcher checks every asset a stage declares: on an installed file system, existing
    missing = pipeline_config.apply_overrides(cls(), [f"long_lines.allowed_lines={tmp_path / 'none.txt'}"])
    assert [a.what for a in registry.assets(missing)] == ["allowed-lines list"]
    with pytest.raises(pipeline_config.ConfigError, match="allowed-lines list not found"):
        checks.check_assets(missing)
    with pytest.raises(pipeline_config.ConfigError, match="allowed-lines list foo://b/x: no file system for foo://"):
        checks.check_file_systems(pipeline_config.apply_overrides(cls(), ["long_lines.allowed_lines=foo://b/x"]))
    (tmp_path / "none.txt").write_text("")
    checks.check_assets(missing)
