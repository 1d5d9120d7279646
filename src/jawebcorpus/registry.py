"""The registry: the pipeline's stages, in order.

:data:`STAGES` is the ordered tuple of the stage classes (``corpus/stage.py``: each declares its
name, reasons, details, settings and columns on itself).  Everything else is derived from it:
the statistics' row order, the Beam graph's per-file chain (``pipelines/transforms.py``),
``--until`` (:func:`until_choices`), the composed configuration and its ``--set`` sections
(``pipelines/config.py``), the Parquet signal columns (:func:`signal_columns`), the report's
stage list and histogram titles (``report/``), and ``docs/stages.md`` (``tests/test_registry.py``
checks that the page, the classes and the code agree, both ways).

This module sits above ``corpus/``, ``filters/`` and ``dedup/`` (it imports their stage
classes); ``report/`` and ``pipelines/`` read it; nothing below imports it.  Adding a stage is
one class (with its declaration) and one entry in :data:`STAGES`; see ``docs/extending.md``.
"""

from __future__ import annotations

from typing import Any

from jawebcorpus.corpus.charset import DecodeStage
from jawebcorpus.corpus.extract import ExtractStage
from jawebcorpus.corpus.read import ReadStage
from jawebcorpus.corpus.record import WriteStage
from jawebcorpus.corpus.stage import OUTCOMES, Asset, Column, Stage
from jawebcorpus.dedup.config import DedupStage
from jawebcorpus.filters.boilerplate import BoilerplateStage
from jawebcorpus.filters.clean import CleanStage
from jawebcorpus.filters.hosts import HostsStage
from jawebcorpus.filters.hygiene import DecontamStage, LicenseStage, OptOutStage
from jawebcorpus.filters.jadetect import DetectStage
from jawebcorpus.filters.langid import LangIdStage
from jawebcorpus.filters.ngwords import NgWordsStage
from jawebcorpus.filters.pii import PiiStage
from jawebcorpus.filters.quality import QualityStage
from jawebcorpus.filters.quality_model import QualityModelStage

__all__ = [
    "STAGES", "STAGE_NAMES", "PER_FILE_STAGES", "OUTCOMES", "FILE_ERRORS", "FILE_STATUSES", "HISTOGRAMS",
    "COLUMN_ORDER", "stage", "reason_outcome", "is_declared", "until_choices", "run_stages", "file_stages",
    "is_enabled", "signal_columns", "settings_sections", "assets",
]

#: The stages in pipeline order.  ``read`` … ``quality_model`` run per file (``per_file``);
#: ``dedup`` and ``write`` are the Beam graph's, after every file is committed.
STAGES: tuple[type[Stage], ...] = (
    ReadStage, DetectStage, DecodeStage, OptOutStage, LicenseStage, ExtractStage, LangIdStage, QualityStage,
    NgWordsStage, HostsStage, CleanStage, PiiStage, QualityModelStage, DecontamStage, BoilerplateStage, DedupStage,
    WriteStage,
)

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
#: The stages each WARC file goes through before it is committed.
PER_FILE_STAGES: tuple[str, ...] = tuple(s.name for s in STAGES if s.per_file)
_BY_NAME = {s.name: s for s in STAGES}
if len(_BY_NAME) != len(STAGES):
    raise RuntimeError("two stages share a name")

#: Why reading a whole WARC file failed (file records' ``error``) and how it ended (``status``).
FILE_ERRORS: dict[str, str] = ReadStage.file_errors
FILE_STATUSES: tuple[str, ...] = ReadStage.file_statuses

#: The histograms the stages write (details kind ``hist:<name>``) with their titles in the report.
HISTOGRAMS: dict[str, str] = {
    d.kind[len("hist:"):]: d.title for s in STAGES for d in s.details if d.kind.startswith("hist:") and d.title
}

#: The order of the signal columns in the output: by stage, in this order, then the columns of
#: any other stage in pipeline order.  It is the pipeline order but for ``write``, whose script
#: shares sit after ``ngwords``'s column: where they were when the schema was first written
#: (``jawebcorpus.schema`` 1), so parts written before and after read the same.  A new stage's
#: columns go after all of these (the opt-out, licence and decontamination columns came after the
#: quality model's score).
COLUMN_ORDER: tuple[str, ...] = ("quality", "ngwords", "write", "pii", "quality_model", "opt_out", "license",
                                 "decontaminate", "boilerplate")


def stage(name: str) -> type[Stage]:
    """The stage class of that name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(STAGE_NAMES)}") from None


def reason_outcome(stage_name: str, code: str) -> str | None:
    """The declared outcome of a reason code at a stage (None when it is not declared)."""
    st = _BY_NAME.get(stage_name)
    return st.outcome_of(code) if st else None


def is_declared(stage_name: str, outcome: str, code: str) -> bool:
    return reason_outcome(stage_name, code) == outcome


def until_choices() -> tuple[str, ...]:
    """What ``--until`` accepts: every stage but ``write`` (which always runs)."""
    return tuple(n for n in STAGE_NAMES if n != "write")


def is_enabled(st: type[Stage], config: Any = None) -> bool:
    """An optional stage runs when its setting (``enabled_by``) is true in ``config``; without a
    configuration every stage counts as enabled."""
    return st.enabled(config)


def run_stages(until: str, config: Any = None) -> tuple[str, ...]:
    """Every stage of a run that stops after ``until``, in order (``write`` always ends it);
    optional stages that ``config`` turns off are left out."""
    if until not in until_choices():
        raise ValueError(f"--until must be one of {', '.join(until_choices())}, not {until!r}")
    last = stage(until)
    if not last.enabled(config):
        raise ValueError(f"--until {until}: the stage is turned off by the configuration "
                         f"({last.config_section()}.{last.enabled_by})")
    names = tuple(s.name for s in STAGES[: STAGE_NAMES.index(until) + 1] if s.enabled(config))
    return names if names[-1] == "write" else (*names, "write")


def file_stages(until: str, config: Any = None) -> tuple[str, ...]:
    """The stages each file goes through before its commit (the per-file part of a run)."""
    return tuple(n for n in run_stages(until, config) if stage(n).per_file)


def settings_sections() -> tuple[tuple[str, type], ...]:
    """``(section, settings class)`` of every stage with settings, in pipeline order: the
    sections of the pipeline configuration (``pipelines/config.py`` composes them)."""
    return tuple((s.config_section(), s.settings) for s in STAGES if s.settings is not None)


def signal_columns(config: Any) -> tuple[Column, ...]:
    """The stages' output columns a run writes (``output.signals``; docs/schema.md), in
    :data:`COLUMN_ORDER`: every stage's, whether or not it runs (null where it did not), so
    every part of a configuration has the same schema."""
    if not config.output.signals:
        return ()
    order = [stage(n) for n in COLUMN_ORDER] + [s for s in STAGES if s.name not in COLUMN_ORDER]
    cols = tuple(c for s in order for c in s.columns(s.settings_in(config)))
    names = [c.name for c in cols]
    if len(set(names)) != len(names):
        raise RuntimeError(f"two stages declare the same output column: {sorted({n for n in names if names.count(n) > 1})}")
    return cols


def assets(config: Any) -> tuple[Asset, ...]:
    """The files and folders the configuration names (every stage's that are set, in pipeline
    order): the launcher checks them before the run (``pipelines/checks.py``)."""
    return tuple(a for s in STAGES for a in s.assets(s.settings_in(config)) if a.path)
