"""``corpus/inputs.py``, ``pipelines/config.py`` and ``corpus/stats.py``."""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import os
import random
import shutil
from pathlib import Path

import pytest

from jawebcorpus.pipelines.config import (
    PRESETS, ConfigError, PipelineConfig, ReadConfig, apply_overrides, get_preset,
)
from jawebcorpus.corpus.inputs import (
    UNKNOWN_SNAPSHOT, InputError, InputFile, resolve_paths, resolve_snapshots, sample_per_snapshot,
    snapshot_from_path,
)
from jawebcorpus.corpus.stats import (
    StatsAccumulator, check_accounting, final_outcomes, rows_in_order,
)
from jawebcorpus.corpus.stage import Count
from jawebcorpus.corpus.read import FileReport, ReadStage, read_pages
from jawebcorpus.sample import CRAWL_ROOT, SNAPSHOTS
from jawebcorpus.registry import STAGE_NAMES


# -- inputs ----------------------------------------------------------------------------------
def listing(root: Path, snapshot: str) -> list[str]:
    with gzip.open(root / "crawl-data" / snapshot / "warc.paths.gz", "rt", encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def test_resolve_paths_directory(sample_warcs):
    files = resolve_paths([str(CRAWL_ROOT)])
    assert [f.path for f in files] == sorted(str(p) for p in sample_warcs)
    assert [f.snapshot for f in files] == list(SNAPSHOTS)
    for f in files:
        assert f.rel.startswith(f"crawl-data/{f.snapshot}/") and f.path.endswith(f.rel)


def test_resolve_paths_glob_file_and_duplicates(sample_warcs):
    pattern = str(CRAWL_ROOT / "crawl-data" / "*" / "segments" / "*" / "warc" / "*.warc.gz")
    by_glob = resolve_paths([pattern])
    by_file = resolve_paths([str(p) for p in reversed(sample_warcs)] + [str(sample_warcs[0])])
    assert by_glob == by_file == resolve_paths([str(CRAWL_ROOT)])
    assert len(by_glob) == len(sample_warcs)
    recursive = resolve_paths([str(CRAWL_ROOT / "**" / "*.warc.gz")])
    assert recursive == by_glob


def test_resolve_paths_errors_name_the_path(tmp_path):
    missing = str(tmp_path / "no-such.warc.gz")
    with pytest.raises(InputError, match="no-such.warc.gz"):
        resolve_paths([missing])
    with pytest.raises(InputError, match="nothing-matches"):
        resolve_paths([str(tmp_path / "nothing-matches-*.warc.gz")])
    empty = tmp_path / "empty-dir"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "notes.txt").write_text("not a warc")
    with pytest.raises(InputError, match="empty-dir"):
        resolve_paths([str(empty)])
    assert issubclass(InputError, ValueError)


def test_resolve_paths_outside_a_crawl_tree(tmp_path, sample_warcs):
    dst = tmp_path / "loose" / "some.warc.gz"
    dst.parent.mkdir()
    shutil.copy(sample_warcs[0], dst)
    (tmp_path / "loose" / ".hidden.warc.gz").write_bytes(b"")
    [f] = resolve_paths([str(tmp_path / "loose")])
    assert f.snapshot == UNKNOWN_SNAPSHOT and f.path == str(dst)
    assert f.rel == str(dst).replace(os.sep, "/")


def test_snapshot_from_path():
    assert snapshot_from_path("s3://commoncrawl/crawl-data/CC-MAIN-2023-14/segments/x/warc/y.warc.gz") == "CC-MAIN-2023-14"
    assert snapshot_from_path("crawl-data/CC-MAIN-2024-10/segments/a/warc/b.warc.gz") == "CC-MAIN-2024-10"
    assert snapshot_from_path("/data/CC-MAIN-2024-10/file.warc.gz") is None
    assert snapshot_from_path("/data/crawl-data/CC-MAIN-24-10/x.warc.gz") is None
    for p in Path(CRAWL_ROOT).glob("crawl-data/*/segments/*/warc/*.warc.gz"):
        assert snapshot_from_path(str(p)) == p.parts[-5]


@pytest.mark.shared
def test_resolve_snapshots_from_the_shared_crawl(shared_dir):
    root = shared_dir / "crawl"
    snaps = ["CC-MAIN-2023-23", "CC-MAIN-2023-14"]
    files = resolve_snapshots(snaps, str(root))
    expected = sorted(rel for s in snaps for rel in listing(root, s))
    assert [f.rel for f in files] == expected
    for f in files:
        assert Path(f.path).is_file() and f.path == os.path.join(str(root), f.rel)
        assert f.snapshot == snapshot_from_path(f.rel)


@pytest.mark.shared
def test_resolve_snapshots_max_files_is_deterministic(shared_dir):
    root = str(shared_dir / "crawl")
    snaps = ["CC-MAIN-2023-14", "CC-MAIN-2023-23"]
    one = resolve_snapshots(snaps, root, max_files=1)
    assert one == resolve_snapshots(list(reversed(snaps)), root, max_files=1)
    assert one == resolve_snapshots(snaps, root, max_files=1)
    assert sorted(f.snapshot for f in one) == snaps
    for f in one:
        assert f.rel in listing(shared_dir / "crawl", f.snapshot)
    assert resolve_snapshots(snaps, root, max_files=10) == resolve_snapshots(snaps, root)
    # picking per snapshot from resolved paths chooses the same files
    everything = resolve_paths([os.path.join(root, "crawl-data")])
    assert sample_per_snapshot(everything, 1) == one


def test_resolve_snapshots_on_the_sample():
    files = resolve_snapshots(list(SNAPSHOTS), str(CRAWL_ROOT))
    assert [f.rel for f in files] == [rel for s in SNAPSHOTS for rel in listing(CRAWL_ROOT, s)]
    assert files == resolve_paths([str(CRAWL_ROOT)])


def test_resolve_snapshots_errors(tmp_path):
    with pytest.raises(InputError, match="CC-MAIN-2099-99"):
        resolve_snapshots(["CC-MAIN-2099-99"], str(CRAWL_ROOT))
    with pytest.raises(InputError, match="2024-10-extra"):
        resolve_snapshots(["CC-MAIN-2024-10-extra"], str(CRAWL_ROOT))
    bad = tmp_path / "crawl-data" / "CC-MAIN-2024-10"
    bad.mkdir(parents=True)
    (bad / "warc.paths.gz").write_bytes(b"not gzip")
    with pytest.raises(InputError, match="warc.paths.gz"):
        resolve_snapshots(["CC-MAIN-2024-10"], str(tmp_path))


def test_input_files_sort_by_snapshot_then_path():
    a = InputFile("CC-MAIN-2024-18", "crawl-data/CC-MAIN-2024-18/a", "/a")
    b = InputFile("CC-MAIN-2024-10", "crawl-data/CC-MAIN-2024-10/z", "/z")
    assert sorted([a, b]) == [b, a]


# -- config ----------------------------------------------------------------------------------
def test_presets_validate_and_differ():
    assert set(PRESETS) >= {"default", "swallow-v1"}
    for name, cfg in PRESETS.items():
        assert get_preset(name) is cfg
        assert cfg.validate() is cfg
    assert get_preset("swallow-v1").detect.mode == "swallow"
    assert get_preset("default").fingerprint() != get_preset("swallow-v1").fingerprint()
    with pytest.raises(ConfigError, match="swallow-v1"):
        get_preset("swallow-v2")


def test_fingerprint_ignores_the_preset_name_only():
    a = PipelineConfig()
    assert dataclasses.replace(a, preset="renamed").fingerprint() == a.fingerprint()
    assert apply_overrides(a, ["langid.threshold=0.6"]).fingerprint() != a.fingerprint()


#: swallow-v1's fingerprint as the version before issues 19-21 (commit 1f7ddb8d) computed it: an
#: interrupted swallow-v1 run of that version resumes with this one (its output is the same).
SWALLOW_V1_FINGERPRINT_1F7DDB8D = "ee08dccf42d3989f"


def test_later_settings_hash_only_where_they_change_something():
    v1 = get_preset("swallow-v1")
    assert v1.fingerprint() == SWALLOW_V1_FINGERPRINT_1F7DDB8D
    # the stages added later, turned on, and a mode other than Swallow's call, do change it
    for override in ("opt_out.enabled=true", "license.enabled=true", "boilerplate.enabled=true",
                     "extract.mode=fast_recall", "extract.mode=fast"):
        assert apply_overrides(v1, [override]).fingerprint() != v1.fingerprint(), override
    with_items = dataclasses.replace(v1, decontaminate=dataclasses.replace(v1.decontaminate, files=("items.jsonl",)))
    assert with_items.fingerprint() != v1.fingerprint()
    # a setting of a stage that is off changes nothing it could produce, so nothing in the hash
    assert apply_overrides(v1, ["opt_out.action=flag"]).fingerprint() == v1.fingerprint()
    on = apply_overrides(v1, ["opt_out.enabled=true"])
    assert apply_overrides(on, ["opt_out.action=flag"]).fingerprint() != on.fingerprint()


@pytest.mark.parametrize(
    "item, section, name, value",
    [
        ("read.max_record_bytes=2048", "read", "max_record_bytes", 2048),
        ("read.only_2xx=false", "read", "only_2xx", False),
        ("read.only_2xx=YES", "read", "only_2xx", True),
        ("detect.mode=swallow", "detect", "mode", "swallow"),
        ("detect.min_kana= 3 ", "detect", "min_kana", 3),
        ("extract.timeout_s=2", "extract", "timeout_s", 2.0),
        ("extract.fast=1", "extract", "fast", True),
        ("langid.threshold=0.75", "langid", "threshold", 0.75),
        ("langid.model_path=/models/lid.176.bin", "langid", "model_path", "/models/lid.176.bin"),
        ("langid.model_path=none", "langid", "model_path", None),
        ("output.compression=snappy", "output", "compression", "snappy"),
    ],
)
def test_apply_overrides_converts_types(item, section, name, value):
    base = PipelineConfig()
    cfg = apply_overrides(base, [item])
    got = getattr(getattr(cfg, section), name)
    assert got == value and type(got) is type(value)
    assert base == PipelineConfig()  # the original is untouched (frozen)
    cfg.validate()


def test_apply_overrides_in_order():
    cfg = apply_overrides(PipelineConfig(), ["detect.min_kana=3", "detect.min_kana=7", "langid.threshold=0.9"])
    assert cfg.detect.min_kana == 7 and cfg.langid.threshold == 0.9


@pytest.mark.parametrize(
    "item, match",
    [
        ("read.no_such=1", "no_such"),
        ("nosection.x=1", "nosection"),
        ("preset.x=1", "preset"),
        ("threshold=0.5", "section.field=value"),
        ("langid.threshold", "section.field=value"),
        ("langid.threshold=high", "langid.threshold"),
        ("read.max_record_bytes=1.5", "read.max_record_bytes"),
        ("read.only_2xx=maybe", "read.only_2xx"),
    ],
)
def test_apply_overrides_rejects_bad_items(item, match):
    with pytest.raises(ConfigError, match=match):
        apply_overrides(PipelineConfig(), [item])


@pytest.mark.parametrize(
    "item",
    [
        "read.max_record_bytes=100",
        "detect.mode=fast",
        "detect.min_kana=0",
        "extract.timeout_s=0",
        "extract.isolation=thread",
        "langid.threshold=1.5",
        "langid.min_kana_ratio=-0.1",
        "output.compression=lz4",
    ],
)
def test_validate_rejects_out_of_range_values(item):
    cfg = apply_overrides(PipelineConfig(), [item])
    with pytest.raises(ConfigError):
        cfg.validate()


def test_config_round_trips_through_a_dict():
    cfg = apply_overrides(get_preset("swallow-v1"), ["extract.timeout_s=3"])
    d = cfg.to_dict()
    assert d["preset"] == "swallow-v1" and d["extract"]["timeout_s"] == 3.0
    assert set(d) == {"preset", "read", "detect", "opt_out", "license", "extract", "langid", "quality", "ngwords",
                      "hosts", "clean", "pii", "quality_model", "decontaminate", "boilerplate", "dedup", "output"}


# -- stats -----------------------------------------------------------------------------------
def sample_stats(sample_warcs) -> tuple[StatsAccumulator, list[FileReport]]:
    """Real counts: the read stage over the bundled sample."""
    stats = StatsAccumulator()
    reports = []
    for inp in resolve_paths([str(CRAWL_ROOT)]):
        report = FileReport(inp.path, inp.rel, inp.snapshot)
        with open(inp.path, "rb") as f:
            for _ in read_pages(f, inp, ReadConfig(), Count(ReadStage, stats), report):
                pass
        reports.append(report)
    return stats, reports


def test_read_stage_accounts_for_every_record(sample_warcs):
    stats, reports = sample_stats(sample_warcs)
    rows = stats.rows(STAGE_NAMES)
    assert check_accounting(rows, STAGE_NAMES) == []
    fin = final_outcomes(rows, STAGE_NAMES)
    for r in reports:
        assert r.status == "ok"
        assert fin[r.snapshot]["read"] == r.records
        # warcio counts the same records
        from warcio.archiveiterator import ArchiveIterator

        with open(r.path, "rb") as f:
            assert r.records == sum(1 for _ in ArchiveIterator(f))


def test_merge_is_order_independent(sample_warcs):
    stats, _ = sample_stats(sample_warcs)
    items = list(stats.items())
    assert len(items) >= 5
    # split the real counts into per-worker parts (one document each), merge in many orders
    parts = []
    for key, (docs, chars, nbytes) in items:
        for i in range(docs):
            part = StatsAccumulator()
            part.add(*key, 1, chars if i == 0 else 0, nbytes if i == 0 else 0)
            parts.append(part)
    expected = stats.rows(STAGE_NAMES)
    rng = random.Random(7)
    for _ in range(5):
        rng.shuffle(parts)
        merged = StatsAccumulator()
        for p in parts:
            merged.merge(p)
        assert merged.rows(STAGE_NAMES) == expected
    # merging a mapping (as Beam combiners hand them over) is the same
    merged = StatsAccumulator()
    merged.merge(dict(items))
    assert merged.rows(STAGE_NAMES) == expected
    # tree-shaped merges
    left, right = StatsAccumulator(), StatsAccumulator()
    for i, p in enumerate(parts):
        (left if i % 2 else right).merge(p)
    right.merge(left)
    assert right.rows(STAGE_NAMES) == expected


def test_rows_are_in_pipeline_order():
    acc = StatsAccumulator()
    for stage, outcome in itertools.product(reversed(STAGE_NAMES), ("error", "dropped", "kept")):
        acc.add("S", stage, outcome, "r")
    rows = acc.rows(STAGE_NAMES)
    assert [r["stage"] for r in rows[::3]] == list(STAGE_NAMES)
    assert [r["outcome"] for r in rows[:3]] == ["kept", "dropped", "error"]
    assert rows_in_order(acc.items(), STAGE_NAMES) == rows
    drained = acc.drain()
    assert len(acc) == 0 and len(drained) == len(rows)


def test_check_accounting_catches_an_injected_imbalance(sample_warcs):
    stats, _ = sample_stats(sample_warcs)
    rows = stats.rows(STAGE_NAMES)
    assert check_accounting(rows, STAGE_NAMES) == []
    snaps = sorted({r["snapshot"] for r in rows})
    kept = {s: sum(r["docs"] for r in rows if r["snapshot"] == s and r["stage"] == "read"
                   and r["outcome"] == "kept") for s in snaps}
    assert all(kept.values())

    def with_decode(counts: dict[str, int]) -> StatsAccumulator:
        acc = StatsAccumulator()
        acc.merge(stats)
        for s, n in counts.items():
            acc.add(s, "decode", "kept", "utf-8:http", n)
        return acc

    # every page read goes on: balanced
    assert check_accounting(with_decode(kept).rows(STAGE_NAMES), STAGE_NAMES) == []
    snap = snaps[0]
    # one page lost between read and decode
    lost = check_accounting(with_decode({**kept, snap: kept[snap] - 1}).rows(STAGE_NAMES), STAGE_NAMES)
    # both checks fire: the hand-over and the total (kept + dropped + errors < records)
    assert len(lost) == 2 and all(p.startswith(snap) for p in lost)
    assert "stage decode received" in lost[0] and "records read" in lost[1]
    # one page counted twice
    dup = check_accounting(with_decode({**kept, snap: kept[snap] + 1}).rows(STAGE_NAMES), STAGE_NAMES)
    assert len(dup) == 2 and all(p.startswith(snap) for p in dup)
    # the other snapshot is not blamed
    assert not any(p.startswith(snaps[-1]) for p in lost + dup) or len(snaps) == 1


def test_check_accounting_on_a_two_stage_imbalance():
    acc = StatsAccumulator()
    acc.add("S", "read", "kept", "html", 10)
    acc.add("S", "read", "dropped", "not_html", 5)
    acc.add("S", "detect", "kept", "kana_utf8", 4)
    acc.add("S", "detect", "dropped", "no_japanese_signal", 6)
    assert check_accounting(acc.rows(STAGE_NAMES), STAGE_NAMES) == []
    assert final_outcomes(acc.rows(STAGE_NAMES), STAGE_NAMES)["S"] == {"read": 15, "kept": 4, "dropped": 11, "error": 0}
    acc.add("S", "detect", "error", "boom", 1)  # one more than read passed on
    problems = check_accounting(acc.rows(STAGE_NAMES), STAGE_NAMES)
    assert len(problems) == 2  # detect received 11 but read kept 10; and the total is off
    assert any("detect received 11" in p for p in problems)
