"""Typed, validated pipeline configuration with named presets.

A configuration is a frozen dataclass with one section per stage that has settings: the
stages' own settings classes (``Stage.settings``), in the registry's order
(``jawebcorpus/registry.py``), composed here into :class:`PipelineConfig`; so a new stage's
settings are a new section (``--set <stage>.<field>=…``) without an edit here.  Presets
(:data:`PRESETS`) name complete configurations; command-line flags and ``--set
section.field=value`` override single fields.  :meth:`PipelineConfig.validate` runs before any
work starts (each section's ``validate``, then the rules that span sections), and
:meth:`fingerprint` hashes everything that can change results.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from jawebcorpus import registry
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.extract import ExtractConfig
from jawebcorpus.corpus.read import ReadConfig
from jawebcorpus.corpus.record import OutputConfig
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.filters.clean import CleanConfig
from jawebcorpus.filters.hosts import HostsConfig
from jawebcorpus.filters.hygiene import LICENSE_OFF, OPT_OUT_OFF
from jawebcorpus.filters.jadetect import DetectConfig
from jawebcorpus.filters.langid import LangIdConfig
from jawebcorpus.filters.ngwords import NgWordsConfig
from jawebcorpus.filters.pii import PII_OFF, PiiConfig
from jawebcorpus.filters.quality import SWALLOW_LIGHT, SWALLOW_V1, QualityConfig
from jawebcorpus.filters.quality_model import QualityModelConfig

__all__ = [
    "ReadConfig", "DetectConfig", "ExtractConfig", "LangIdConfig", "OutputConfig",
    "QualityConfig", "NgWordsConfig", "HostsConfig", "CleanConfig", "PiiConfig", "QualityModelConfig", "DedupConfig",
    "PipelineConfig", "PRESETS", "get_preset", "ConfigError", "apply_overrides", "compose",
]


def _validate(self) -> "PipelineConfig":
    """Every section's ``validate``, then the rules that span sections; returns ``self``."""
    if self.boilerplate.enabled and not self.dedup.enabled:
        raise ConfigError("boilerplate.enabled=true needs the dedup stage: it runs after every file is committed, "
                          "before dedup (dedup.enabled=false)")
    for f in dataclasses.fields(self):
        sub = getattr(self, f.name)
        if dataclasses.is_dataclass(sub):
            try:
                sub.validate()
            except ConfigError:
                raise
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
    if self.dedup.tie_break.startswith("quality"):  # quality or quality:NAME: the model must be set
        self.quality_model.column_for(self.dedup.tie_break)
    return self


def _to_dict(self) -> dict:
    return dataclasses.asdict(self)


def _fingerprint(self) -> str:
    """Hash of every setting that can change results (the preset name itself does not)."""
    d = self.to_dict()
    d.pop("preset")
    # Settings added later hash only where they change something, so runs of older versions resume:
    # a later stage's section while the stage is off, a field at its default ("fingerprint_when_set")
    # or at the value that was the behaviour before it existed ("fingerprint_omits").
    for s in registry.STAGES:
        if s.fingerprint_when_on and s.settings is not None and not s.enabled(self):
            d.pop(s.config_section(), None)
    for f in dataclasses.fields(self):
        sub = getattr(self, f.name)
        if dataclasses.is_dataclass(sub) and f.name in d:
            for g in dataclasses.fields(sub):
                value = getattr(sub, g.name)
                if ((g.metadata.get("fingerprint_when_set") and value == g.default)
                        or ("fingerprint_omits" in g.metadata and value == g.metadata["fingerprint_omits"])):
                    d[f.name].pop(g.name, None)
    blob = json.dumps(d, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def compose(sections) -> type:
    """The configuration class of ``sections`` (``(section, settings class)``, in order):
    ``preset`` (its name) and one field per section, defaulting to its settings class's defaults."""
    cls = dataclasses.make_dataclass(
        "PipelineConfig",
        [("preset", str, dataclasses.field(default="default")),
         *((section, settings, dataclasses.field(default_factory=settings)) for section, settings in sections)],
        frozen=True,
        namespace={"validate": _validate, "to_dict": _to_dict, "fingerprint": _fingerprint,
                   "__doc__": "The settings of a run: one section per stage (see the module docstring)."},
    )
    cls.__module__ = __name__  # pickled by reference, as a class written here would be
    return cls


#: The pipeline configuration: one section per stage of the registry that has settings.
PipelineConfig = compose(registry.settings_sections())


PRESETS: dict[str, PipelineConfig] = {
    # Kana-based detection, Swallow v1's quality rules, morpheme-aware NG words, parent-domain
    # host matching, Japanese PII masked, every document's quality signals as columns.
    "default": PipelineConfig(),
    # Swallow corpus v1 as built (../shared/docs/swallow-reference.md): its rapid detection
    # rule, trafilatura call, 21 quality rules, naive greedy NG matching, exact host matching
    # with str.endswith suffixes.  Its own language classifier is replaced by fastText.
    "swallow-v1": PipelineConfig(
        preset="swallow-v1",
        detect=DetectConfig(mode="swallow"),
        extract=ExtractConfig(mode="swallow", fast_above_chars=0),
        quality=SWALLOW_V1,
        ngwords=NgWordsConfig(mode="naive"),
        hosts=HostsConfig(suffix_match="string", match="exact"),
        # no PII stage and no signal columns: the output of v1 as built
        pii=PII_OFF,
        output=OutputConfig(signals=False),
        # none of the corpus hygiene of issue 20 (opt-out, licences; decontamination is off
        # unless --decontaminate names a file)
        opt_out=OPT_OUT_OFF,
        license=LICENSE_OFF,
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
        if "." in name and hasattr(sub, "with_model_setting"):  # quality_model.NAME.field: a named model
            cfg = dataclasses.replace(cfg, **{section: sub.with_model_setting(name, value.strip())})
            continue
        if name not in fields:
            raise ConfigError(f"unknown setting {key!r}; {section} has: {', '.join(fields)}")
        try:
            new = _convert(value.strip(), getattr(sub, name), str(fields[name].type))
        except ValueError as exc:
            raise ConfigError(f"bad value for {key}: {exc}") from None
        cfg = dataclasses.replace(cfg, **{section: dataclasses.replace(sub, **{name: new})})
    return cfg
