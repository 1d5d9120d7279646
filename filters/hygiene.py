"""The corpus-hygiene stages (issue 20): ``opt_out``, ``license``, ``decontaminate``.

They apply the plain scanners of :mod:`.optout`, :mod:`.license` and :mod:`.decontam` to the
documents (``docs/filters.md``, "Corpus hygiene"; ``docs/stages.md`` for their reasons):

* ``opt_out`` (after ``decode``: it needs the page and the response headers the read stage
  kept, ``Doc.http_signals``): a page that reserves text-and-data mining or AI use is dropped
  (reason ``opt_out``) or, with ``opt_out.action=flag``, kept with the signal in the ``opt_out``
  column and the TDMRep policy in ``tdm_policy``.  Detail rows ``opt_out_signal`` count the
  deciding signal per snapshot.
* ``license`` (after ``opt_out``): the Creative Commons licence the page declares
  (``rel="license"``) in the ``license`` column; the ``write`` stage counts the written
  documents and characters per licence (detail ``license``).
* ``decontaminate`` (the last per-file stage, on the final text; on with ``--decontaminate
  FILE``): a document that contains a benchmark item is dropped (reason ``contaminated``) or,
  with ``decontaminate.mode=flag``, kept with the items in the ``contamination`` column.  Detail
  rows ``benchmark`` count the documents per benchmark.  The index is built once per worker
  process from every file (``resources.get``).

All three are off in the ``swallow-v1`` preset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.corpus.stage import Asset, Column, Count, DetailKind, Reason, Resources, Stage

from .decontam import BenchmarkIndex, DecontamConfig, read_items
from .license import find_license
from .optout import find_opt_out

__all__ = ["OptOutConfig", "OptOutStage", "LicenseConfig", "LicenseStage", "DecontamStage", "load_index",
           "OPT_OUT_OFF", "LICENSE_OFF"]


@dataclass(frozen=True)
class OptOutConfig:
    #: look for opt-out signals at all (false: the stage is not part of the run)
    enabled: bool = True
    #: ``drop`` (reason opt_out) or ``flag`` (kept, with the ``opt_out`` and ``tdm_policy`` columns)
    action: str = "drop"

    def validate(self) -> "OptOutConfig":
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"opt_out.enabled must be true or false, not {self.enabled!r}")
        if self.action not in ("drop", "flag"):
            raise ConfigError(f"opt_out.action must be drop or flag, not {self.action!r}")
        return self


OPT_OUT_OFF = OptOutConfig(enabled=False)


class OptOutStage(Stage):
    """opt_out: pages whose publisher reserves text-and-data mining or AI use (TDMRep, noai)."""

    name = "opt_out"
    summary = "pages that reserve text-and-data mining or AI use (TDMRep, noai)"
    chars = "characters of the decoded HTML"
    settings = OptOutConfig
    enabled_by = "enabled"
    fingerprint_when_on = True
    reasons = (
        *Reason.kept("no opt-out signal", "no_opt_out"),
        *Reason.kept("an opt-out signal, kept because opt_out.action=flag (the opt_out column names it)",
                     "opt_out_flagged"),
        *Reason.dropped("an opt-out signal (tdm-reservation: 1 header or meta, noai in X-Robots-Tag or a robots "
                        "meta)", "opt_out"),
    )
    details = (DetailKind("opt_out_signal", "signal", "pages with an opt-out, by the deciding signal "
                          "(tdm-reservation, meta-tdm-reservation, x-robots-tag:noai, meta-robots:noai)"),
               DetailKind("tdm_policy", "recorded", "opt-out pages whose reservation names a TDMRep policy"))

    @classmethod
    def columns(cls, settings: OptOutConfig | None) -> tuple[Column, ...]:
        if settings is None or settings.action != "flag":
            return ()  # dropped pages are not in the output: the column would always be null
        return (Column("opt_out", "string", "the deciding opt-out signal of a page kept with opt_out.action=flag "
                                            "(null: none)"),
                Column("tdm_policy", "string", "the TDMRep policy URL of a reservation (null: none named)"))

    def setup(self, config: Any, resources: Resources) -> None:
        self.cfg: OptOutConfig = config.opt_out

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        html = doc.html or ""
        found = find_opt_out(doc.http_signals, html)
        if found is None:
            count.kept("no_opt_out", chars=len(html))
            return doc
        count.detail("opt_out_signal", found.signal, chars=len(html), nbytes=doc.payload_bytes)
        if found.tdm_policy:
            count.detail("tdm_policy", "recorded", chars=len(html), nbytes=doc.payload_bytes)
        if self.cfg.action == "drop":
            count.dropped("opt_out", chars=len(html))
            return None
        doc.signals["opt_out"] = found.signal
        doc.signals["tdm_policy"] = found.tdm_policy
        count.kept("opt_out_flagged", chars=len(html))
        return doc


@dataclass(frozen=True)
class LicenseConfig:
    #: read the licence a page declares (false: the stage is not part of the run)
    enabled: bool = True

    def validate(self) -> "LicenseConfig":
        if not isinstance(self.enabled, bool):
            raise ConfigError(f"license.enabled must be true or false, not {self.enabled!r}")
        return self


LICENSE_OFF = LicenseConfig(enabled=False)


class LicenseStage(Stage):
    """license: the Creative Commons licence a page declares with rel="license" (never drops)."""

    name = "license"
    summary = "the Creative Commons licence a page declares (rel=\"license\"), as a column"
    chars = "characters of the decoded HTML"
    settings = LicenseConfig
    enabled_by = "enabled"
    fingerprint_when_on = True
    reasons = (
        *Reason.kept("the page declares a Creative Commons licence (the license column)", "licensed"),
        *Reason.kept("no licence declared", "unlicensed"),
    )
    details = (DetailKind("page_license", "licence identifier", "pages declaring the licence, HTML characters "
                          "(the written documents per licence: the write stage's license rows)"),)

    @classmethod
    def columns(cls, settings: LicenseConfig | None) -> tuple[Column, ...]:
        return (Column("license", "string", "the Creative Commons licence the page declares with rel=\"license\" "
                                            "(cc-by-4.0, cc0-1.0 …; null: none)"),)

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        html = doc.html or ""
        found = find_license(html)
        if found is None:
            count.kept("unlicensed", chars=len(html))
            return doc
        doc.signals["license"] = found.license
        count.detail("page_license", found.license, chars=len(html), nbytes=doc.payload_bytes)
        count.kept("licensed", chars=len(html))
        return doc


# -- decontamination ---------------------------------------------------------------------------------
def load_index(cfg: DecontamConfig, local_paths: list[str] | None = None) -> BenchmarkIndex:
    """The index of every item of ``cfg.files`` (read from ``local_paths``, their local copies,
    when given); raises ConfigError on a file that cannot be used or holds no item."""
    paths = list(local_paths) if local_paths is not None else list(cfg.files)

    def items():
        for shown, path in zip(cfg.files, paths):
            n = 0
            with open(path, "rb") as fh:
                for n, item in enumerate(read_items(fh, shown), 1):
                    yield item
            if not n:
                raise ConfigError(f"--decontaminate {shown}: no item in the file")

    return BenchmarkIndex.build(items(), cfg)


class DecontamStage(Stage):
    """decontaminate: documents that contain a benchmark item (--decontaminate FILE)."""

    name = "decontaminate"
    summary = "documents that contain an evaluation benchmark item (--decontaminate FILE)"
    settings = DecontamConfig
    enabled_by = "files"
    fingerprint_when_on = True
    reasons = (
        *Reason.kept("no benchmark item found", "clean"),
        *Reason.kept("holds a benchmark item, kept because decontaminate.mode=flag (the contamination column)",
                     "contamination_flagged"),
        *Reason.dropped("holds at least decontaminate.min_coverage of a benchmark item's character n-grams",
                        "contaminated"),
    )
    details = (DetailKind("benchmark", "benchmark name", "documents holding an item of the benchmark (a document "
                          "is counted for each benchmark it holds an item of)"),)

    @classmethod
    def columns(cls, settings: DecontamConfig | None) -> tuple[Column, ...]:
        if settings is None or not settings.files or settings.mode != "flag":
            return ()
        return (Column("contamination", "string", "the benchmark items a document holds, as JSON "
                                                  "[{benchmark, id, coverage}] (null: none)"),)

    @classmethod
    def assets(cls, settings: DecontamConfig | None) -> tuple[Asset, ...]:
        return tuple(Asset("--decontaminate file", p) for p in (settings.files if settings else ()))

    def setup(self, config: Any, resources: Resources) -> None:
        cfg: DecontamConfig = config.decontaminate
        self.cfg = cfg
        local = [resources.local_path(p) for p in cfg.files]  # outside get: it holds the resources' lock
        self.index: BenchmarkIndex = resources.get(("decontaminate", cfg), lambda: load_index(cfg, local))

    def apply(self, doc: Doc, count: Count) -> Doc | None:
        text = doc.text or ""
        found = self.index.match(text)
        if not found:
            count.kept("clean", chars=len(text))
            return doc
        for bench in sorted({c.benchmark for c in found}):
            count.detail("benchmark", bench, chars=len(text), nbytes=doc.payload_bytes)
        if self.cfg.mode == "drop":
            count.dropped("contaminated", chars=len(text))
            return None
        doc.signals["contamination"] = json.dumps(
            [{"benchmark": c.benchmark, "id": c.item_id, "coverage": round(c.coverage, 3)} for c in found],
            ensure_ascii=False)
        count.kept("contamination_flagged", chars=len(text))
        return doc
