"""The bundled sample ships inside the wheel, not only in the repository."""

from __future__ import annotations

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
    for pkg in ("corpus", "filters", "dedup", "pipelines"):
        assert f"jawebcorpus/{pkg}/__init__.py" in names
    assert {f"jawebcorpus/ngwords/{c}.txt" for c in ("adult", "gambling", "spam_seo", "violence_discrimination")} <= names
    assert "jawebcorpus/sample/pages/manifest.json" in names
