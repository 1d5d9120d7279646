"""Every GroupByKey of the run's graph has a declared bound (pipelines/groups.py), the table has no
stale entry, docs/scaling.md shows it, and the bounds that are numbers hold."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.pipeline import PipelineVisitor

from jawebcorpus.dedup.cluster import KeepPolicy
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.dedup.minhash import SignatureSpec
from jawebcorpus.pipelines import cli, run
from jawebcorpus.pipelines.config import get_preset
from jawebcorpus.pipelines.dedup_index import WriteIndex, index_shard_count
from jawebcorpus.pipelines.groups import GROUPS, grouping_of
from jawebcorpus.pipelines.output import FILE_RECORDS_PER_SHARD, file_record_shard, file_record_shards

REPO = Path(__file__).resolve().parents[1]


def group_labels(argv: list[str], beam_args: list[str]) -> list[str]:
    """Full labels of every GroupByKey (primitive) in the run's graph for this command line."""
    args, extra = cli.build_parser().parse_known_args(argv)
    p = run.build_pipeline(cli.build_spec(args, argv), PipelineOptions(extra + beam_args))
    found = []

    class V(PipelineVisitor):
        def visit_transform(self, node):
            if isinstance(node.transform, beam.GroupByKey):
                found.append(node.full_label)

    p.visit(V())
    return found


@pytest.fixture(scope="module")
def graphs(tmp_path_factory) -> dict[str, list[str]]:
    tmp = tmp_path_factory.mktemp("graphs")
    index = tmp / "index"
    opts = PipelineOptions([])
    with beam.Pipeline(runner=run.local_runner(opts), options=opts) as p:
        _ = p | beam.Create([(1, 0, b"\x01" + bytes(14), "CC-MAIN-2024-10")]) | WriteIndex(
            str(index), "t", SignatureSpec(), KeepPolicy(), shards=2)  # two files: Create reshuffles them
    out = str(tmp / "out")
    two = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"]
    runs = {
        "two workers, everything": (["run", "--sample", "--output", out, "--samples-per-reason", "2",
                                     "--write-index", str(tmp / "new"), "--against", str(index)], two),
        "two workers, snapshot listing": (["run", "--snapshot", "CC-MAIN-2024-10", "--output", out], two),
        "two workers, no dedup": (["run", "--sample", "--output", out, "--until", "langid",
                                   "--samples-per-reason", "1"], two),
        "one worker, everything": (["run", "--sample", "--output", out, "--samples-per-reason", "2",
                                    "--write-index", str(tmp / "new"), "--against", str(index)], []),
        "one worker, max_rounds 1": (["run", "--sample", "--output", out, "--set", "dedup.max_rounds=1"], []),
        "two workers, boilerplate lines": (["run", "--sample", "--output", out, "--set", "boilerplate.enabled=true"], two),
    }
    return {name: group_labels(argv, beam_args) for name, (argv, beam_args) in runs.items()}


def test_every_group_of_the_graph_is_declared_once(graphs):
    undeclared = {}
    for name, labels in graphs.items():
        for label in labels:
            found = grouping_of(label)
            if len(found) != 1:
                undeclared.setdefault(label, (name, [g.step for g in found]))
    assert undeclared == {}, "declare each grouping step with its bound in pipelines/groups.py"


def test_the_table_has_no_stale_entry_and_local_only_steps_stay_local(graphs):
    used = Counter(g.step for labels in graphs.values() for label in labels for g in grouping_of(label))
    assert {g.step for g in GROUPS} - set(used) == set()
    for name, labels in graphs.items():
        local = {g.step for label in labels for g in grouping_of(label) if g.local_only}
        assert not local if name.startswith("two workers") else True, (name, local)
    assert any(g.local_only for label in graphs["one worker, everything"] for g in grouping_of(label))
    # the distributed graph has every round's joins: 10 rounds by default
    rounds = {re.search(r"round_(\d\d)", label).group(1) for label in graphs["two workers, everything"]
              if "round_" in label}
    assert rounds == {f"{r:02d}" for r in range(1, 11)}


def test_every_entry_names_its_bound_and_the_settings_exist():
    settings = {f"{section}.{k}" for section in ("dedup", "boilerplate") for k in get_preset("default").to_dict()[section]}
    constants = {"BLOOM_SHARD_LOG2", "FILE_RECORDS_PER_SHARD", "--samples-per-reason"}
    for g in GROUPS:
        assert g.most and g.key and g.kind in ("GroupByKey", "CoGroupByKey", "combiner", "Reshuffle"), g
        for name in filter(None, (s.strip() for s in g.bound_by.split(","))):
            assert name in settings | constants, (g.step, name)


def test_docs_scaling_shows_the_table():
    text = (REPO / "docs" / "scaling.md").read_text(encoding="utf-8")
    section = text[text.index("## Groups and their bounds"):]
    section = section[: section.find("\n## ", 1) if "\n## " in section[1:] else None]
    documented = set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.M))
    assert documented == {g.step for g in GROUPS}


# -- the bounds that are numbers ----------------------------------------------------------------------
def test_index_shards_hold_about_index_rows_per_shard_rows():
    per = DedupConfig().index_rows_per_shard
    assert per == 100_000
    for rows, fixed in ((10, 0), (99_999, 0), (4 * 10**10, 0), (4 * 10**10, 16), (5_000, 200)):
        assert rows / index_shard_count(rows, fixed, per) <= per
    # rows go to band_key mod n, band keys being uniform hashes: the largest of 20 shards of
    # 2,000,000 rows stays within 2 % of 100,000
    rng = random.Random(3)
    n = index_shard_count(2_000_000, 0, per)
    counts = Counter(rng.getrandbits(64) % n for _ in range(2_000_000))
    assert n == 20 and max(counts.values()) < 1.02 * per


def test_file_record_shards_hold_at_most_about_ten_thousand_records():
    assert file_record_shards(1) == 16 and file_record_shards(160_000) == 16  # as before: same output files
    assert file_record_shards(160_001) == 17 and file_record_shards(1_600_000) == 160
    for files in (7, 160_000, 1_600_000, 10**8):
        assert files / file_record_shards(files) <= max(FILE_RECORDS_PER_SHARD, files / 16)
    records = [{"snapshot": "X", "warc_file": f"f{i}.warc.gz"} for i in range(400_000)]
    counts = Counter(file_record_shard(r, len(records)) for r in records)
    assert len(counts) == 40 and max(counts.values()) < 1.05 * FILE_RECORDS_PER_SHARD
    assert file_record_shard(records[0]) == file_record_shard(records[0], 100)  # small snapshots: 16, as before
