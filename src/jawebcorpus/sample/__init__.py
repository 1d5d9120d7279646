"""Bundled sample crawl (synthetic, Common-Crawl-shaped) for tests and demos.

See README.md in this directory.  ``CRAWL_ROOT`` is the directory that holds
``crawl-data/<SNAPSHOT>/warc.paths.gz`` (the equivalent of the Common Crawl
bucket root); ``MANIFEST`` describes every capture and what a correct
pipeline should do with it.
"""
from __future__ import annotations

import json
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
CRAWL_ROOT = SAMPLE_DIR
PAGES_DIR = SAMPLE_DIR / "pages"
MANIFEST = PAGES_DIR / "manifest.json"
SNAPSHOTS = ("CC-MAIN-2024-10", "CC-MAIN-2024-18")


def load_manifest() -> dict:
    """Return the parsed ``pages/manifest.json``."""
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def warc_paths() -> list[Path]:
    """Absolute paths of the sample WARC files, oldest snapshot first."""
    return sorted(CRAWL_ROOT.glob("crawl-data/*/segments/*/warc/*.warc.gz"))
