"""The dedup stage's settings (``dedup.*``): signature spec, survivor policy, clustering bounds."""

from __future__ import annotations

from dataclasses import dataclass

from jawebcorpus.corpus.errors import ConfigError

from .cluster import MAX_SPLIT, TIE_BREAKS, KeepPolicy
from .components import FINISH_MAX_NODES, MAX_ROUNDS
from .minhash import SignatureSpec

__all__ = ["DedupConfig"]


@dataclass(frozen=True)
class DedupConfig:
    """MinHash-LSH near-duplicate removal across every snapshot of a run (docs/dedup.md).

    The settings after ``max_rounds`` bound the work per worker (docs/dedup.md, "Bounds"); they
    do not change which documents survive.
    """

    enabled: bool = True
    shingle_size: int = 5
    normalization: str = "none"  # none | nfkc | nfkc_casefold_width
    num_perm: int = 800
    bands: int = 40
    rows: int = 20
    #: After "newest snapshot first": longer | quality | none; then a stable id.
    tie_break: str = "longer"
    #: Label-propagation rounds (1 … 30): a round after the labels settle costs nearly nothing;
    #: what still changes after the last one is finished exactly (finish_max_nodes).
    max_rounds: int = 10
    #: The most node ids the exact finish after the rounds gathers on one worker (≈ 200 bytes each).
    finish_max_nodes: int = FINISH_MAX_NODES
    #: Band groups and parents with more members than this are hot: split over sub-keys.
    group_cap: int = 64
    #: A hot group is split over hot_salts**l sub-keys, the smallest l ≥ 1 that leaves about
    #: group_cap members per sub-key.
    hot_salts: int = 64
    #: Bloom filter of hot keys: 2**n bits; 0 sizes it from the number of hot keys (16–32 bits each).
    bloom_log2_bits: int = 0
    #: Upper bound of a filter sized from the input (2**30 bits = 128 MiB per worker).
    bloom_max_log2_bits: int = 30
    #: Documents per signature batch.
    batch_size: int = 256
    #: --write-index: the least number of Parquet files of the band index (0: from the rows only).
    index_shards: int = 0
    #: --write-index: rows per Parquet file at most (on average; ≈ 2.5 MB of zstd Parquet): the
    #: files are max(index_shards, ceil(rows / index_rows_per_shard)).
    index_rows_per_shard: int = 100_000

    def spec(self) -> SignatureSpec:
        return SignatureSpec(shingle_size=self.shingle_size, normalization=self.normalization,
                             num_perm=self.num_perm, bands=self.bands, rows=self.rows)

    def policy(self) -> KeepPolicy:
        return KeepPolicy(self.tie_break)

    def transform_args(self) -> dict:
        """The keyword arguments of ``jawebcorpus.pipelines.dedup.Dedup`` these settings give
        (``Dedup.from_config`` uses them)."""
        return {
            "spec": self.spec(), "policy": self.policy(), "max_rounds": self.max_rounds,
            "finish_max_nodes": self.finish_max_nodes,
            "group_cap": self.group_cap, "hot_salts": self.hot_salts, "bloom_log2_bits": self.bloom_log2_bits,
            "bloom_max_log2_bits": self.bloom_max_log2_bits, "batch_size": self.batch_size,
            "index_shards": self.index_shards, "index_rows_per_shard": self.index_rows_per_shard,
        }

    def validate(self) -> None:
        if self.tie_break not in TIE_BREAKS:
            raise ConfigError(f"dedup.tie_break must be one of {', '.join(TIE_BREAKS)}")
        if not 1 <= self.max_rounds <= MAX_ROUNDS:
            raise ConfigError(f"dedup.max_rounds must be between 1 and {MAX_ROUNDS} (labels still changing after "
                              "the last round are finished exactly)")
        if not 1 <= self.finish_max_nodes <= 100_000_000:
            raise ConfigError("dedup.finish_max_nodes must be between 1 and 100000000")
        if self.group_cap < 2:
            raise ConfigError("dedup.group_cap must be at least 2")
        if not 1 <= self.hot_salts <= MAX_SPLIT:
            raise ConfigError(f"dedup.hot_salts must be between 1 and {MAX_SPLIT}")
        if self.bloom_log2_bits != 0 and not 10 <= self.bloom_log2_bits <= 34:
            raise ConfigError("dedup.bloom_log2_bits must be 0 (sized from the input) or between 10 and 34")
        if not 10 <= self.bloom_max_log2_bits <= 34:
            raise ConfigError("dedup.bloom_max_log2_bits must be between 10 and 34")
        if self.batch_size < 1:
            raise ConfigError("dedup.batch_size must be at least 1")
        if self.index_shards < 0:
            raise ConfigError("dedup.index_shards must be 0 (from the number of rows) or more")
        if self.index_rows_per_shard < 1:
            raise ConfigError("dedup.index_rows_per_shard must be at least 1")
        try:
            self.spec().validate()
        except ValueError as exc:
            raise ConfigError(f"dedup: {exc}") from None
