"""The dedup stage: its settings (``dedup.*``: signature spec, survivor policy, clustering bounds)
and its declaration (:class:`DedupStage`; the Beam graph that runs it is ``pipelines/dedup.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.settings import check_settings, setting
from jawebcorpus.corpus.stage import DetailKind, Reason, Stage

from .cluster import MAX_SPLIT, TIE_BREAKS, KeepPolicy
from .components import FINISH_MAX_NODES, MAX_ROUNDS
from .minhash import MAX_NUM_PERM, MAX_SHINGLE_SIZE, SignatureSpec

__all__ = ["DedupConfig", "DedupStage"]


@dataclass(frozen=True)
class DedupConfig:
    """MinHash-LSH near-duplicate removal across every snapshot of a run (docs/dedup.md).

    The settings after ``max_rounds`` bound the work per worker (docs/dedup.md, "Bounds"); they
    do not change which documents survive.
    """

    enabled: bool = True
    shingle_size: int = setting(5, 1, MAX_SHINGLE_SIZE)
    normalization: str = "none"  # none | nfkc | nfkc_casefold_width
    num_perm: int = setting(800, 1, MAX_NUM_PERM)
    bands: int = setting(40, 1, MAX_NUM_PERM)
    rows: int = setting(20, 1, MAX_NUM_PERM)
    #: After "newest snapshot first": longer | quality | quality:NAME | none; then a stable id
    #: (quality: the unnamed quality model's score, else the first named model's).
    tie_break: str = "longer"
    #: Label-propagation rounds (1 … 30): a round after the labels settle costs nearly nothing;
    #: what still changes after the last one is finished exactly (finish_max_nodes).
    max_rounds: int = setting(10, 1, MAX_ROUNDS)
    #: The most node ids the exact finish after the rounds gathers on one worker (≈ 200 bytes each).
    finish_max_nodes: int = setting(FINISH_MAX_NODES, 1, 100_000_000)
    #: Band groups and parents with more members than this are hot: split over sub-keys.
    group_cap: int = setting(64, 2, 1_000_000)
    #: A hot group is split over hot_salts**l sub-keys, the smallest l ≥ 1 that leaves about
    #: group_cap members per sub-key.
    hot_salts: int = setting(64, 1, MAX_SPLIT)
    #: Bloom filter of hot keys: 2**n bits; 0 sizes it from the number of hot keys (16–32 bits each).
    bloom_log2_bits: int = setting(0, 10, 34, also=(0,))
    #: Upper bound of a filter sized from the input (2**30 bits = 128 MiB per worker).
    bloom_max_log2_bits: int = setting(30, 10, 34)
    #: Documents per signature batch.
    batch_size: int = setting(256, 1, 100_000)
    #: --write-index: the least number of Parquet files of the band index (0: from the rows only).
    index_shards: int = setting(0, 0, 100_000)
    #: --write-index: rows per Parquet file at most (on average; ≈ 2.5 MB of zstd Parquet): the
    #: files are max(index_shards, ceil(rows / index_rows_per_shard)).
    index_rows_per_shard: int = setting(100_000, 1, 1_000_000_000)

    def spec(self) -> SignatureSpec:
        return SignatureSpec(shingle_size=self.shingle_size, normalization=self.normalization,
                             num_perm=self.num_perm, bands=self.bands, rows=self.rows)

    def policy(self) -> KeepPolicy:
        return KeepPolicy(self.tie_break.partition(":")[0])

    def validate(self) -> "DedupConfig":
        """Raise :class:`ConfigError` (a ``ValueError``) on a bad setting; return ``self``."""
        if not isinstance(self.tie_break, str) or (
                self.tie_break not in TIE_BREAKS and not re.fullmatch(r"quality:[a-z][a-z0-9_]{0,31}", self.tie_break)):
            raise ConfigError(f"dedup.tie_break must be one of {', '.join(TIE_BREAKS)} or quality:NAME "
                              f"(a named quality model)")
        check_settings(self, "dedup")
        try:
            self.spec().validate()
        except ValueError as exc:
            raise ConfigError(f"dedup: {exc}") from None
        return self


class DedupStage(Stage):
    """dedup: near-duplicate removal across every snapshot of the run, after every file is
    committed (the Beam graph ``pipelines/dedup.py`` runs it; the surviving copy's cluster size
    is the fixed ``cluster_size`` column)."""

    name = "dedup"
    summary = "MinHash-LSH near-duplicate removal across every snapshot of the run"
    settings = DedupConfig
    per_file = False
    reasons = (
        *Reason.kept("no other document shares a band", "unique"),
        *Reason.kept("the kept copy of a cluster of two or more", "survivor"),
        *Reason.dropped("another copy of this run survives", "near_duplicate"),
        *Reason.dropped("a copy was already published (--against INDEX)", "indexed_duplicate"),
    )
    details = (
        DetailKind("cluster_size", "size bucket", "surviving documents by cluster size"),
        DetailKind("cluster_docs", "size bucket", "documents in clusters of that size"),
        DetailKind("kept_copy_in", "snapshot", "snapshot of the surviving copy of dropped documents"),
        DetailKind("band_groups", "shared or hot", "band keys shared by two or more documents"),
        DetailKind("rounds", "round_NN", "documents whose label changed in a propagation round"),
        DetailKind("exact_finish", "labels_changed",
                   "documents whose label the exact finish after the last round changed"),
    )
