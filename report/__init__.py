"""The statistics report: where every page and character of a corpus build went, stage by stage.

``jawebcorpus report OUT [OUT2 ...]`` reads what a run wrote under ``OUT/stats/``
(``stages.json``, ``details.json``, ``run.json`` and the per-file records ``files/*.jsonl``),
the example documents under ``OUT/samples/`` when there are any, and the per-file row counts of
the Parquet output under ``OUT/data/`` (for the sampling error of the extrapolation), and renders

- :func:`render_text`: the funnel at 80 columns (several outputs side by side);
- :func:`build_report` → JSON (``--json``, :func:`report_json`): the same numbers for machines;
- :func:`render_html`: one self-contained HTML page (inline CSS and SVG, nothing fetched).

Modules: :mod:`.model` loads an output directory into frozen dataclasses (:func:`load_run` →
:class:`RunStats`); :mod:`.analysis` builds the report document (:mod:`.schema`) from them, with
:mod:`.estimates` for the extrapolation and :mod:`.signals` for the ``pii`` and ``quality_model``
stages; :mod:`.terminal` and :mod:`.html_page` (with :mod:`.html_signals`, charts in :mod:`.svg`,
style in ``report.css``) render it; :mod:`.fmt` formats numbers for both.  Stages,
reasons, histograms, quality rules and PII kinds come from the stage classes of the registry
(``jawebcorpus/registry.py``).  What ``run.json`` holds is redacted again
(``corpus/redact.py``): an older output may hold a secret.

Pure Python (the standard library; pyarrow only to read ``OUT/data`` when present); it imports
``corpus`` and the registry, never Apache Beam or ``pipelines``.  ``docs/report.md`` explains how
to read it.
"""

from __future__ import annotations

from .analysis import build_report, report_json
from .estimates import SWALLOW, estimate_total, t95
from .html_page import render_html
from .model import ReportError, RunStats, load_run
from .terminal import render_text

__all__ = [
    "ReportError", "RunStats", "load_run", "build_report", "render_text", "render_html", "report_json",
    "SWALLOW", "estimate_total", "t95",
]
