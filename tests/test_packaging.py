"""The bundled sample ships inside the wheel, not only in the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_contains_the_sample_crawl_and_the_ng_lists(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("jawebcorpus-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    warcs = [n for n in names if n.startswith("jawebcorpus/sample/crawl-data/") and n.endswith(".warc.gz")]
    listings = [n for n in names if n.endswith("warc.paths.gz")]
    assert len(warcs) == 2 and len(listings) == 2
    for pkg in ("corpus", "filters", "dedup", "pipelines", "report"):
        assert f"jawebcorpus/{pkg}/__init__.py" in names
    assert "jawebcorpus/report/report.css" in names  # the HTML report's style sheet
    assert {f"jawebcorpus/ngwords/{c}.txt" for c in ("adult", "gambling", "spam_seo", "violence_discrimination")} <= names
    assert "jawebcorpus/sample/pages/manifest.json" in names
    assert "jawebcorpus/pipelines/prompts/edu-ja-v1.txt" in names  # jawebcorpus annotate's prompt
    if shutil.which("cc") or shutil.which("gcc"):  # detection's byte scans in C, built with the wheel
        assert any(n.startswith("jawebcorpus/filters/_jascan") for n in names), sorted(names)


@pytest.mark.slow
def test_regular_install_runs_the_sample_from_the_checkout_root(tmp_path):
    """``pip install .`` (not editable), then ``jawebcorpus run --sample`` started in the checkout
    root: nothing in the checkout may shadow the installed package, the extraction child included."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    # Dependencies come from the surrounding environment; only the package itself is installed here.
    proc = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(REPO)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    where = subprocess.run([str(py), "-c", "import jawebcorpus.corpus.extract as m; print(m.__file__)"],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert str(venv) in where.stdout, f"imported from the checkout, not the install: {where.stdout}"
    out = tmp_path / "out"
    run = subprocess.run([str(venv / "bin" / "jawebcorpus"), "run", "--sample", "--quiet", "--output", str(out)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert list((out / "data").rglob("*.parquet")), "no output written"
    page = tmp_path / "report.html"  # the report reads its style sheet from the installed package
    rep = subprocess.run([str(venv / "bin" / "jawebcorpus"), "report", str(out), "--html", str(page)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert rep.returncode == 0, rep.stderr[-2000:]
    assert "<style>\n:root{" in page.read_text(encoding="utf-8")
