"""The stage registry (jawebcorpus/registry.py: the stage classes and their declarations),
docs/stages.md and the code agree, in both directions."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from jawebcorpus import registry
from jawebcorpus.corpus.process import FileResult, process_file
from jawebcorpus.corpus.read import RECORD_TYPE_REASONS, FileReport
from jawebcorpus.corpus.stage import Count, LocalResources, Stage
from jawebcorpus.corpus.stats import StatsAccumulator, check_accounting
from jawebcorpus.filters.langid import LangIdStage
from jawebcorpus.filters.quality import RULE_MEASURE, QualityStage

REPO = Path(__file__).resolve().parents[1]
CODE_DIRS = ("corpus", "filters", "dedup", "pipelines")
COMMON = {"stage_exception"}  # declared for every per-file stage, documented once in the intro


def docs_sections() -> dict[str, str]:
    """``## stage`` sections of docs/stages.md → their text."""
    text = (REPO / "docs" / "stages.md").read_text(encoding="utf-8")
    parts = re.split(r"^## (\w+)\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def docs_tables() -> dict[str, set[tuple[str, str]]]:
    """``## stage`` sections of docs/stages.md → {(outcome, code)} from their tables."""
    text = (REPO / "docs" / "stages.md").read_text(encoding="utf-8")
    out: dict[str, set[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^## (\w+)\s*$", line)
        if m:
            current = m.group(1)
            out[current] = set()
            continue
        m = re.match(r"^\| (kept|dropped|error) \| (.*?) \|", line)
        if m and current:
            for code in re.findall(r"`([^`]+)`", m.group(2)):
                out[current].add((m.group(1), code))
    return out


def declared(stage: type[Stage]) -> set[tuple[str, str]]:
    return {(r.outcome, r.code) for r in stage.reasons if r.code not in COMMON}


#: Assignments that declare codes (the stages' ``reasons``, the read stage's file errors, the
#: quality rules): their strings do not count as code that emits them.
DECLARATIONS = {"reasons", "details", "FILE_ERRORS", "file_errors", "_RULES"}


def source_literals() -> set[str]:
    """Every string constant in the code, outside the declarations themselves."""
    found: set[str] = set()
    for d in CODE_DIRS:
        for path in (REPO / d).glob("*.py"):
            todo = [ast.parse(path.read_text(encoding="utf-8"))]
            while todo:
                node = todo.pop()
                if isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if any(isinstance(t, ast.Name) and t.id in DECLARATIONS for t in targets):
                        continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found.add(node.value)
                todo.extend(ast.iter_child_nodes(node))
    return found


def test_docs_has_a_section_per_stage_in_registry_order():
    assert list(docs_tables()) == list(registry.STAGE_NAMES)


@pytest.mark.parametrize("name", registry.STAGE_NAMES)
def test_docs_rows_equal_the_registry(name):
    assert docs_tables()[name] == declared(registry.stage(name))


@pytest.mark.parametrize("name", registry.STAGE_NAMES)
def test_docs_name_every_detail_kind_and_column_of_the_stage(name):
    """Each detail kind a stage declares, and each output column, is named in its section."""
    st, text = registry.stage(name), docs_sections()[name]
    assert [d.kind for d in st.details if f"`{d.kind}`" not in text] == []
    columns = [c.name for c in st.columns(st.settings() if st.settings else None)]
    shown = set(re.findall(r"`([a-z_<>]+)`", text))
    missing = [c for c in columns if c not in shown and not any(
        "<" in s and re.fullmatch(re.sub(r"<\w+>", r"\\w+", s), c) for s in shown)]
    assert missing == []


def test_docs_intro_documents_the_common_reasons():
    text = (REPO / "docs" / "stages.md").read_text(encoding="utf-8").split("\n## ")[0]
    for code in COMMON:
        assert f"`{code}`" in text
    for st in registry.STAGES:
        assert all(st.reason(c) for c in COMMON) == st.per_file, st.name


def test_file_errors_are_documented():
    text = (REPO / "docs" / "stages.md").read_text(encoding="utf-8")
    para = text[text.index("File error classes:"):]
    para = para[: para.index("\n\n")]
    listed = set(re.findall(r"`([a-z_]+)`", para))
    read_errors = set(registry.stage("read").codes("error"))
    assert listed <= set(registry.FILE_ERRORS)
    assert set(registry.FILE_ERRORS) <= listed | read_errors


def test_every_declared_code_occurs_in_the_code():
    """Back: a reason nobody can emit is a stale entry."""
    literals = source_literals()
    missing = [(s.name, c) for s in registry.STAGES for c in s.codes() if c not in literals | COMMON]
    # clean's kept reasons join what changed ("punctuation+footer"): each part is a literal
    missing = [(s, c) for s, c in missing if not (s == "clean" and set(c.split("+")) <= literals)]
    # quality drops with the name of the failing rule; filters/quality.py implements each rule's
    # measure in RULE_MEASURE, whose n-gram rule names are built (f"top_{n}gram", f"dup_{n}gram")
    missing = [(s, c) for s, c in missing if not (s == "quality" and c in RULE_MEASURE)]
    assert missing == []
    assert all(code in literals for code in registry.FILE_ERRORS)


def test_every_reason_counted_in_the_code_is_declared():
    """Forth: every ``count.kept/dropped/error("literal")`` names a declared reason of its stage."""
    calls = re.compile(r"count\.(kept|dropped|error)\(\s*\"([^\"]+)\"")
    for d in ("corpus", "filters"):
        for path in (REPO / d).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            names = re.findall(r"^\s+name = \"(\w+)\"", text, re.M)
            for outcome, code in calls.findall(text):
                if code in COMMON:  # declared by the Stage base class for every per-file stage
                    continue
                assert any(registry.reason_outcome(n, code) == outcome for n in names), (path.name, outcome, code)


def test_dynamic_reason_sources_are_declared():
    from jawebcorpus.corpus import extract, http, warc
    from jawebcorpus.filters import clean, jadetect, quality

    assert all(registry.reason_outcome("read", r) == "dropped" for r in RECORD_TYPE_REASONS.values())
    src = Path(warc.__file__).read_text() + Path(http.__file__).read_text()
    codes = set(re.findall(r"WarcReadError\(\s*\"(\w+)\"", src)) | set(re.findall(r"return \"(\w+)\"", src))
    assert codes and codes <= set(registry.FILE_ERRORS)
    record_errors = set(re.findall(r"error = (?:error or )?\"(\w+)\"", src))
    assert record_errors and all(registry.reason_outcome("read", c) == "error" for c in record_errors)
    methods = set(re.findall(r"\"((?:kana|html|title)_\w+|off)\"", Path(jadetect.__file__).read_text()))
    assert methods and all(registry.reason_outcome("detect", m) == "kept" for m in methods)
    outcomes = set(re.findall(r"ExtractResult\(\"(\w+)\"", Path(extract.__file__).read_text())) - {"ok"}
    assert outcomes == {c for c in registry.stage("extract").codes() if c != "extracted"} - COMMON
    assert quality.RULES == registry.stage("quality").codes("dropped")
    for punct in (0, 1):
        for footer in (0, 1):
            r = clean.CleanResult("x", punct, footer)
            assert registry.reason_outcome("clean", r.reason) == "kept"
    assert registry.reason_outcome("hosts", "ut1_adult") == "dropped"
    assert registry.reason_outcome("decode", "cp932:meta+overruled") == "kept"


def test_every_stage_is_a_stage_class_that_declares_itself():
    for st in registry.STAGES:
        assert issubclass(st, Stage) and st.name and st.summary and st.reasons, st
        assert registry.stage(st.name) is st
    # the per-file stages after read apply themselves; dedup and write are the Beam graph's
    for name in registry.PER_FILE_STAGES[1:]:
        assert registry.stage(name).apply is not Stage.apply, name
    assert [s.name for s in registry.STAGES if not s.per_file] == ["boilerplate", "dedup", "write"]
    assert registry.STAGES[0].name == "read" and registry.STAGES[-1].name == "write"


def test_until_and_run_stages_come_from_the_registry():
    assert registry.run_stages("clean")[-1] == "write"
    assert registry.run_stages("dedup")[-2:] == ("dedup", "write")
    assert registry.file_stages("dedup") == registry.PER_FILE_STAGES
    with pytest.raises(ValueError):
        registry.run_stages("write")


# -- the count protocol ----------------------------------------------------------------------------
def test_count_refuses_an_undeclared_reason_or_a_wrong_outcome():
    c = Count(LangIdStage).bind("CC-MAIN-2024-10", 10)
    with pytest.raises(ValueError):
        c.dropped("not_a_reason")
    with pytest.raises(ValueError):
        c.kept("too_few_kana")  # declared, but as dropped
    c.dropped("too_few_kana", chars=5)
    assert dict(c.stats.items()) == {("CC-MAIN-2024-10", "langid", "dropped", "too_few_kana"): (1, 5, 10)}


class _Boom(QualityStage):
    def apply(self, doc, count):
        if doc.warc_offset == 1:
            count.kept("passed", chars=3)  # an outcome recorded, then the stage fails
            raise ZeroDivisionError("bug")
        count.kept("passed")
        return doc


def test_a_stage_that_raises_costs_one_document_and_the_accounting_holds():
    from jawebcorpus.corpus.record import Doc

    def read(count):
        for i in range(3):
            count.bind("S", 7).kept("html")
            yield Doc("S", "f.warc.gz", i, 1, f"<urn:{i}>", "", "https://x.example/", text="t")

    result = process_file(read, [_Boom()], FileResult(FileReport("p", "f.warc.gz", "S")), samples_per_reason=5)
    assert [d.warc_offset for d in result.docs] == [0, 2]
    rows = result.stats.rows(("read", "quality"))
    assert check_accounting(rows, ("read", "quality")) == []
    assert {(r["outcome"], r["reason"], r["docs"]) for r in rows if r["stage"] == "quality"} == {
        ("kept", "passed", 2), ("error", "stage_exception", 1)}
    assert [s["reason"] for s in result.samples] == ["stage_exception"]


def test_shared_resources_build_each_object_once():
    res = LocalResources()
    made = []
    a = res.get(("m", 1), lambda: made.append(1) or object())
    b = res.get(("m", 1), lambda: made.append(1) or object())
    assert a is b and made == [1]
    assert isinstance(StatsAccumulator(), StatsAccumulator)
