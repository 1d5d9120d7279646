"""Shared fixtures: the bundled sample crawl and ``../shared`` (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (read-only test material); the test is skipped when it is not there."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def shared_crawl_files(shared_dir: Path) -> list[Path]:
    """The WARC files of ``../shared/crawl`` (4 files, two snapshots)."""
    files = sorted((shared_dir / "crawl").glob("crawl-data/*/segments/*/warc/*.warc.gz"))
    if not files:
        pytest.skip("../shared/crawl holds no WARC file")
    return files


@pytest.fixture(scope="session")
def sample_warcs() -> list[Path]:
    from jawebcorpus.sample import warc_paths

    paths = warc_paths()
    assert paths, "the bundled sample crawl is missing"
    return paths


@pytest.fixture(scope="session")
def manifest() -> dict:
    from jawebcorpus.sample import load_manifest

    return load_manifest()
