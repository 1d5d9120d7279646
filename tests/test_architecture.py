"""The shape of the code: imports run one way, the pure layers never import Beam, modules stay
readable.  (The registry's agreement with the code and docs: tests/test_registry.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: package → the packages it may import from jawebcorpus (imports run one way).  ``registry``
#: (``src/jawebcorpus/registry.py``, the ordered stage classes) sits above corpus, filters and
#: dedup; report and pipelines read it; nothing below may import it.
ALLOWED = {
    "corpus": {"corpus"},
    "dedup": {"corpus", "dedup"},
    "filters": {"corpus", "filters"},
    "registry": {"corpus", "filters", "dedup", "registry"},
    "report": {"corpus", "filters", "registry", "report"},
    "pipelines": {"corpus", "filters", "dedup", "pipelines", "registry", "report"},
}
#: layers that are one module, not a folder
MODULES = {"registry": REPO / "src" / "jawebcorpus" / "registry.py"}
PURE = ("corpus", "filters", "dedup", "registry", "report")
MAX_LINES = 600
LONG_REASON = "Why this module is long:"


def modules(package: str) -> list[Path]:
    if package in MODULES:
        return [MODULES[package]]
    return sorted((REPO / package).rglob("*.py")) if (REPO / package).is_dir() else []


def imported(path: Path) -> set[str]:
    """Every module a file imports, absolute, at any depth (function-level imports included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.parent.relative_to(REPO).parts[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = ["jawebcorpus", *path.parent.relative_to(REPO).parts]
                base = base[: len(base) - (node.level - 1)]
                out.add(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                out.add(node.module)
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_run_one_way(package):
    bad = []
    for path in modules(package):
        for mod in imported(path):
            parts = mod.split(".")
            if parts[0] == "jawebcorpus" and len(parts) > 1 and parts[1] in ALLOWED and parts[1] not in ALLOWED[package]:
                bad.append(f"{path.relative_to(REPO)} imports {mod}")
    assert bad == []


@pytest.mark.parametrize("package", PURE)
def test_the_pure_layers_never_import_beam(package):
    bad = [f"{p.relative_to(REPO)}: {m}" for p in modules(package) for m in imported(p)
           if m == "apache_beam" or m.startswith("apache_beam.")]
    assert bad == []


def test_modules_stay_readable():
    """No module over ≈ 600 lines without the reason in its docstring."""
    long = []
    for package in ALLOWED:
        for path in modules(package):
            text = path.read_text(encoding="utf-8")
            if text.count("\n") > MAX_LINES and LONG_REASON not in (ast.get_docstring(ast.parse(text)) or ""):
                long.append(f"{path.relative_to(REPO)}: {text.count(chr(10))} lines")
    assert long == []


def test_no_test_hooks_in_the_production_path():
    for package in ALLOWED:
        for path in modules(package):
            text = path.read_text(encoding="utf-8")
            assert "JAWEBCORPUS_CRASH" not in text and "_maybe_crash" not in text, path
