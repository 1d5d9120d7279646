"""Every group the run's pipeline forms, and the most one group can hold.

A runner that does not stream a ``GroupByKey`` value (Flink's batch translation, Spark; Dataflow
streams it) holds each key's values as one in-memory list, so every grouping step of the graph
is declared here with its bound: a ``GroupByKey`` or ``CoGroupByKey`` (the values under one key),
a combiner (``CombinePerKey``, ``CombineGlobally``, ``Distinct``, ``Top``, ``Count``: the
runner folds values into an accumulator, lifted before the shuffle; the bound is the
accumulator's), or a ``Reshuffle`` (random keys: about one value each).

``tests/test_groups.py`` builds the pipeline's graphs (one and two workers, with and without
dedup, the band index, samples, snapshot listings) and checks that every ``GroupByKey`` in them
is declared here — a new grouping step without a declared bound fails the test — and that every
entry still exists; ``docs/scaling.md`` ("Groups and their bounds") shows the same table.

``step`` is the step's full label in the run's graph (``fnmatch`` pattern: ``round_*`` for every
round), matched by the step itself or any transform inside it.  ``local_only`` steps are built
only for Beam's local runner with one worker, which holds every collection in memory anyway;
never for a runner with more workers.  Nothing here imports Beam.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

__all__ = ["Grouping", "GROUPS", "grouping_of"]


@dataclass(frozen=True)
class Grouping:
    step: str
    kind: str  # GroupByKey | CoGroupByKey | combiner | Reshuffle
    key: str
    most: str  # the most one key (one accumulator) holds
    bound_by: str = ""  # the setting or constant that bounds it
    local_only: bool = False

    def matches(self, label: str) -> bool:
        return fnmatch.fnmatchcase(label, self.step) or fnmatch.fnmatchcase(label, self.step + "/*")


_DW = "dedup_and_write"
_DD = f"{_DW}/dedup"
_ST = "finalize/statistics"
_RANDOM = "about 1 value (random keys)"

GROUPS: tuple[Grouping, ...] = (
    # -- reading the input ---------------------------------------------------------------------
    Grouping("skip_committed/join_committed", "CoGroupByKey", "checkpoint name",
             "the input files of that name (1, more only when a path is listed twice) + ≤ 2 checkpoints "
             "(`.json`, `.retry.json`)"),
    Grouping("skip_committed/spread_prefixes", "Reshuffle", "random", _RANDOM),
    Grouping("process_files/spread_files", "Reshuffle", "random", _RANDOM),
    Grouping("all_committed", "combiner", "none (global)", "one count"),
    # -- dedup: band groups ----------------------------------------------------------------------
    Grouping(f"{_DW}/checkpointed_parts/spread_patterns", "Reshuffle", "random", _RANDOM),
    Grouping(f"{_DW}/checkpointed_parts/spread", "Reshuffle", "random", _RANDOM),
    Grouping(f"{_DD}/index_files", "Reshuffle", "random", _RANDOM),
    Grouping(f"{_DD}/band_groups", "combiner", "band key",
             "member count + the `group_cap` smallest node ids (≈ 1 KB)", "dedup.group_cap"),
    Grouping(f"{_DD}/group_hot", "GroupByKey", "(hot band key, sub-key)",
             "≈ `group_cap` members on average + the group minimum: a group of n members is split over "
             "`hot_salts**l` sub-keys, n ≤ group_cap · hot_salts**l (largest measured 45, computed ≤ 104 up "
             "to 10⁹ members; above ≈ 1.07 × 10⁹ members n / 2²⁴)", "dedup.group_cap, dedup.hot_salts"),
    Grouping(f"{_DD}/*/count_level_1", "combiner", "none (global)", "one count"),
    Grouping(f"{_DD}/*/bloom_shards", "combiner", "Bloom shard",
             "one shard's bits: 2²³ bits (1 MiB)", "BLOOM_SHARD_LOG2"),
    Grouping(f"{_DD}/*/assemble", "combiner", "none (global)",
             "the Bloom filter, ≤ 2**bloom_max_log2_bits bits (128 MiB), + the exact keys of level ≥ 2 "
             "(≤ entries / (group_cap · hot_salts))", "dedup.bloom_max_log2_bits"),
    Grouping(f"{_DD}/*/gather", "combiner", "none (global)",
             "every hot key's (key, count) (the local runner's one worker holds them anyway)", local_only=True),
    Grouping(f"{_DD}/distinct_edges", "combiner", "star edge", "nothing (one edge per key)"),
    # -- dedup: components -------------------------------------------------------------------------
    Grouping(f"{_DD}/initial_labels", "combiner", "node id", "(label, in-degree)"),
    Grouping(f"{_DD}/round_01_group_child", "GroupByKey", "child node id",
             "≤ `bands` parent edges (40) + 1 label", "dedup.bands"),
    Grouping(f"{_DD}/round_01_group_parent", "GroupByKey", "(parent, sub-key)",
             "≈ `group_cap` children + 1 label (hub parents split as hot band keys)",
             "dedup.group_cap, dedup.hot_salts"),
    Grouping(f"{_DD}/round_*_update", "combiner", "node id", "(label, label before the round)"),
    Grouping(f"{_DD}/round_*_frontier_set", "combiner", "none (global)",
             "the Bloom filter of the nodes changed in the previous round: its set bits while few, at most "
             "2**bloom_max_log2_bits bits (128 MiB)", "dedup.bloom_max_log2_bits"),
    Grouping(f"{_DD}/finish_frontier_set", "combiner", "none (global)",
             "the Bloom filter of the nodes changed in the last round: its set bits while few, at most "
             "2**bloom_max_log2_bits bits (128 MiB)", "dedup.bloom_max_log2_bits"),
    Grouping(f"{_DD}/round_*_group_member", "GroupByKey", "child node id",
             "≤ `bands` label requests + 1 changed label", "dedup.bands"),
    Grouping(f"{_DD}/finish_group_member", "GroupByKey", "child node id",
             "≤ `bands` label requests + 1 changed label", "dedup.bands"),
    Grouping(f"{_DD}/round_*_group_active", "GroupByKey", "(parent, sub-key)",
             "1 group record (≈ `group_cap` children) + ≤ its members' labels + 1 state",
             "dedup.group_cap, dedup.hot_salts"),
    Grouping(f"{_DD}/finish_group_active", "GroupByKey", "(parent, sub-key)",
             "1 group record (≈ `group_cap` children) + ≤ its members' labels + 1 state",
             "dedup.group_cap, dedup.hot_salts"),
    Grouping(f"{_DD}/finish_union_find", "combiner", "none (global)",
             "≤ `finish_max_nodes` node ids (1,000,000 ≈ 200 MB), else the run stops (LimitError)",
             "dedup.finish_max_nodes"),
    Grouping(f"{_DD}/final_labels", "combiner", "node id", "one label"),
    Grouping(f"{_DD}/gather_edges", "GroupByKey", "none (one key)",
             "every star edge (the local runner's one worker holds them anyway)", local_only=True),
    Grouping(f"{_DD}/cluster_sizes", "combiner", "survivor node id", "one count"),
    # -- dedup: decisions, index, final write ----------------------------------------------------
    Grouping(f"{_DD}/join_decisions", "GroupByKey", "node id",
             "the copies of one record (same snapshot, URL, WARC-Record-ID and text length: normally 1, "
             "stubs without text) + 1 decision + 1 cluster size"),
    Grouping(f"{_DD}/write_index/count_rows", "combiner", "none (global)", "one count"),
    Grouping(f"{_DD}/write_index/group_shards", "GroupByKey", "index shard",
             "≈ `index_rows_per_shard` rows (100,000; band keys are uniform hashes: the largest of n shards "
             "≈ mean + √(2 mean ln n), +1.6 % at 4 × 10⁵ shards), streamed to Parquet",
             "dedup.index_rows_per_shard"),
    # -- boilerplate lines (boilerplate.enabled; pipelines/boilerplate.py) --------------------------
    Grouping(f"{_DW}/boilerplate/host_samples", "combiner", "host",
             "a bottom-k sample of the host's pages: ≤ `sample_docs` pages × `max_lines_per_doc` 64-bit line "
             "hashes (256 × 512 × 8 B = 1 MiB)", "boilerplate.sample_docs, boilerplate.max_lines_per_doc"),
    Grouping(f"{_DW}/boilerplate/line_counts", "combiner", "(snapshot, removed line)", "2 sums"),
    Grouping(f"{_DW}/boilerplate/top_lines", "combiner", "snapshot", "the `top_lines` most removed lines (50)",
             "boilerplate.top_lines"),
    Grouping(f"{_DW}/group_by_file", "GroupByKey", "(snapshot, input file)",
             "the surviving documents of one input file, stubs without text (≈ 0.5 KB; ≈ 2,000 Japanese "
             "documents in a Common Crawl WARC file of ≈ 39,000 records)"),
    Grouping(f"{_DW}/pick_dedup_samples", "combiner", "(stage, reason)", "`--samples-per-reason` samples",
             "--samples-per-reason"),
    # -- statistics ---------------------------------------------------------------------------------
    Grouping("finalize/checkpoints/spread_patterns", "Reshuffle", "random", _RANDOM),
    Grouping("finalize/checkpoints/spread", "Reshuffle", "random", _RANDOM),
    Grouping(f"{_ST}/one_per_file", "combiner", "input file", "one checkpoint"),
    Grouping(f"{_ST}/sum_stats", "combiner", "(snapshot, stage, outcome, reason)", "3 sums"),
    Grouping(f"{_ST}/sum_details", "combiner", "(snapshot, stage, kind, name)", "3 sums"),
    Grouping(f"{_ST}/join_written", "CoGroupByKey", "input file", "its report + its written counts (2 values)"),
    Grouping(f"{_ST}/files_per_snapshot", "combiner", "snapshot", "one count"),
    Grouping(f"{_ST}/group_file_records", "GroupByKey", "(snapshot, shard)",
             "≈ 10,000 file records (≈ 0.5 KB each): 16 shards per snapshot, ceil(files / 10,000) above "
             "160,000 files", "FILE_RECORDS_PER_SHARD"),
    Grouping(f"{_ST}/gather_statistics", "combiner", "none (global)",
             "the summed stage and detail rows (keys, not files) + the file summary (≤ 100 failed files): "
             "≈ 130 KB"),
    Grouping(f"{_ST}/pick_samples", "combiner", "(stage, reason)", "`--samples-per-reason` samples",
             "--samples-per-reason"),
    # -- the run's last step (pipelines/finish.py) -------------------------------------------------
    Grouping("finish_run/count_written", "combiner", "none (global)", "one count"),
    Grouping("finish_run/resumed_files", "combiner", "none (global)", "one sum"),
)


def grouping_of(label: str) -> list[Grouping]:
    """The declared groupings a ``GroupByKey`` of this full label belongs to (one, when declared)."""
    return [g for g in GROUPS if g.matches(label)]
