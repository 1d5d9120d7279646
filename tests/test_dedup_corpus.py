"""Dedup on real pipeline output: the bundled sample (its manifest marks the ice-lantern
near-duplicate pair and mirror) and ``../shared/crawl`` (re-crawled and mirrored Japanese pages
across two snapshots; skipped when absent)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from jawebcorpus.corpus.record import Doc
from jawebcorpus.dedup.cluster import UnionFind
from jawebcorpus.dedup.minhash import exact_jaccard
from jawebcorpus.pipelines.cli import main as cli

from test_dedup_beam import run_dedup

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def pipeline_docs(out: Path, *inputs: str) -> list[Doc]:
    """Run the corpus pipeline (up to clean) and read its output back as Docs."""
    assert cli(["run", "--quiet", "--until", "clean", *inputs, "--output", str(out)]) == 0
    rows = ds.dataset(out / "data", format="parquet", partitioning="hive").to_table().to_pylist()
    return [Doc(snapshot=r["snapshot"], warc_file=r["warc_file"], warc_offset=r["warc_offset"],
                warc_length=r["warc_length"], warc_record_id=r["warc_record_id"], warc_date=r["warc_date"],
                url=r["url"], text=r["text"]) for r in rows]


def key(d: Doc) -> str:
    return f"{d.snapshot}|{d.url}|{d.warc_record_id}"


def test_sample_ice_lantern_group_keeps_one_newest_copy(tmp_path, manifest):
    docs = pipeline_docs(tmp_path / "run", "--sample")
    group = [c for c in manifest["captures"] if c["expected"] == "dedup:ice-lantern"]
    assert len(group) == 3
    group_urls = {(c["snapshot"], c["url"]) for c in group}
    in_group = [d for d in docs if (d.snapshot, d.url) in group_urls]
    assert len(in_group) == 3, "the sample's duplicates must reach dedup"
    res = run_dedup(docs, tmp_path / "dedup")
    kept = [d for d in in_group if key(d) in res["kept"]]
    assert len(kept) == 1
    assert kept[0].snapshot == "CC-MAIN-2024-18"
    assert res["kept"][key(kept[0])][0] == 3  # cluster size
    # every other page the manifest keeps survives dedup
    others = [d for d in docs if (d.snapshot, d.url) not in group_urls]
    assert all(key(d) in res["kept"] for d in others)
    assert res["stats"][("CC-MAIN-2024-10", "dedup", "dropped", "near_duplicate")][0] == 1
    assert res["stats"][("CC-MAIN-2024-18", "dedup", "dropped", "near_duplicate")][0] == 1
    assert res["details"][("CC-MAIN-2024-10", "dedup", "kept_copy_in", "CC-MAIN-2024-18")][0] == 1


@pytest.mark.slow
@pytest.mark.shared
def test_shared_crawl_recrawled_and_mirrored_pages_found_newest_kept(tmp_path):
    if not (SHARED / "crawl").is_dir():
        pytest.skip("../shared is not present")
    docs = pipeline_docs(tmp_path / "run", "--input", str(SHARED / "crawl"))
    assert len({d.snapshot for d in docs}) == 2
    uf = UnionFind()
    cross = 0
    for i, j in itertools.combinations(range(len(docs)), 2):
        uf.find(i)
        uf.find(j)
        if exact_jaccard(docs[i].text, docs[j].text) >= 0.9:
            uf.union(i, j)
            cross += docs[i].snapshot != docs[j].snapshot
    groups = [g for g in uf.groups().values() if len(g) > 1]
    assert groups and cross > 0, "the crawl has re-crawled / mirrored pages"
    res = run_dedup(docs, tmp_path / "dedup")
    mirrors = 0
    for g in groups:
        survivors = [i for i in g if key(docs[i]) in res["kept"]]
        assert len(survivors) == 1, [docs[i].url for i in g]
        assert docs[survivors[0]].snapshot == max(docs[i].snapshot for i in g)
        assert res["kept"][key(docs[survivors[0]])][0] >= len(g)
        mirrors += any("mirror." in docs[i].url for i in g)
    assert mirrors > 0
    # nothing else was removed
    dup_members = {i for g in groups for i in g}
    assert all(key(docs[i]) in res["kept"] for i in range(len(docs)) if i not in dup_members)
