"""The dedup stage's settings (``dedup.*``): signature spec, survivor policy, clustering bounds."""

from __future__ import annotations

from dataclasses import dataclass

from jawebcorpus.corpus.errors import ConfigError

from .cluster import TIE_BREAKS
from .minhash import SignatureSpec

__all__ = ["DedupConfig"]


@dataclass(frozen=True)
class DedupConfig:
    """MinHash-LSH near-duplicate removal across every snapshot of a run (docs/dedup.md)."""

    enabled: bool = True
    shingle_size: int = 5
    normalization: str = "none"  # none | nfkc | nfkc_casefold_width
    num_perm: int = 800
    bands: int = 40
    rows: int = 20
    #: After "newest snapshot first": longer | quality | none; then a stable id.
    tie_break: str = "longer"
    max_rounds: int = 10

    def spec(self) -> SignatureSpec:
        return SignatureSpec(shingle_size=self.shingle_size, normalization=self.normalization,
                             num_perm=self.num_perm, bands=self.bands, rows=self.rows)

    def validate(self) -> None:
        if self.tie_break not in TIE_BREAKS:
            raise ConfigError(f"dedup.tie_break must be one of {', '.join(TIE_BREAKS)}")
        if self.max_rounds < 1:
            raise ConfigError("dedup.max_rounds must be at least 1")
        try:
            self.spec().validate()
        except ValueError as exc:
            raise ConfigError(f"dedup: {exc}") from None
