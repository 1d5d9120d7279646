"""The sections of the stages beyond Swallow v1: personal data (``pii``) and the quality model.

:func:`pii_section` sums the ``pii`` stage's detail rows per kind (``pii_docs``: documents with a
match and characters matched; ``pii_matches``: matches) and its outcomes (kept ``unchanged`` /
``masked``, dropped ``pii``), with each kind's mode from the run's configuration and its audit
samples (``OUT/samples/pii/found_<kind>.jsonl``).  :func:`quality_model_section` gives the
model's score histogram (``hist:quality_score``) with the threshold and the documents dropped
below it.  Both are ``None`` when the run did not have the stage (``swallow-v1`` has neither).

The stage names, reasons, detail kinds, PII kinds and placeholders come from the stage classes
in the registry (``jawebcorpus/registry.py``).
"""

from __future__ import annotations

from collections import defaultdict

from jawebcorpus.corpus.stats import RATIO_BINS
from jawebcorpus.registry import stage as registry_stage

from .model import RunStats
from .schema import PiiKindEntry, PiiReport, QualityModelReport, StageEntry

__all__ = ["PII_STAGE", "QM_STAGE", "PII_DETAILS", "QM_HIST", "pii_section", "quality_model_section",
           "threshold_position"]

PII_STAGE: str = "pii"
QM_STAGE: str = "quality_model"
_PII = registry_stage(PII_STAGE)
PII_KINDS: tuple[str, ...] = _PII.kinds
PII_PLACEHOLDERS: dict[str, str] = _PII.placeholders
#: the pii stage's detail kinds, as declared: (documents and characters per kind, matches per kind)
PII_DOCS, PII_MATCHES = (d.kind for d in _PII.details)
PII_DETAILS = (PII_DOCS, PII_MATCHES)
#: the quality model's histogram (``hist:quality_score``)
QM_HIST: str = next(d.kind for d in registry_stage(QM_STAGE).details if d.kind.startswith("hist:"))
#: the sample files of the pii stage are ``found_<kind>.jsonl`` (audit examples, not a reason)
PII_SAMPLE_PREFIX: str = _PII.sample_prefix


def _entry(funnel: list[StageEntry], stage: str) -> StageEntry | None:
    return next((s for s in funnel if s["stage"] == stage), None)


def _outcomes(st: StageEntry, stage: str) -> list[dict]:
    """Every declared reason of the stage (and any undeclared one found) with its documents."""
    got = {("kept", r["reason"]): r for r in st["kept_reasons"]}
    got.update({(r["outcome"], r["reason"]): r for r in st["reasons"]})
    out = []
    for r in registry_stage(stage).reasons:
        v = got.pop((r.outcome, r.code), None)
        out.append({"outcome": r.outcome, "reason": r.code, "meaning": r.meaning,
                    "docs": v["docs"] if v else 0, "chars": v["chars"] if v else 0})
    for (outcome, reason), v in sorted(got.items()):
        out.append({"outcome": outcome, "reason": reason, "meaning": "", "docs": v["docs"], "chars": v["chars"]})
    return out


def pii_section(run: RunStats, total: list[StageEntry]) -> PiiReport | None:
    """Personal data found, per kind, and what the stage did with the documents (None: no stage)."""
    st = _entry(total, PII_STAGE)
    if st is None:
        return None
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # kind → matches, docs, chars
    for r in run.details:
        if r.stage != PII_STAGE:
            continue
        if r.kind == PII_MATCHES:
            acc[r.name][0] += r.docs
        elif r.kind == PII_DOCS:
            acc[r.name][1] += r.docs
            acc[r.name][2] += r.chars
    cfg = run.info.config.get(PII_STAGE)
    cfg = cfg if isinstance(cfg, dict) else {}
    samples = {s.reason[len(PII_SAMPLE_PREFIX):]: s for s in run.samples
               if s.stage == PII_STAGE and s.reason.startswith(PII_SAMPLE_PREFIX)}
    n_docs, n_chars = st["in_docs"], st["in_chars"]
    kinds: list[PiiKindEntry] = []
    for kind in list(PII_KINDS) + sorted(k for k in acc if k not in PII_KINDS):
        matches, docs, chars = acc.get(kind, (0, 0, 0))
        mode = cfg.get(kind)
        s = samples.get(kind)
        kinds.append({"kind": kind, "mode": str(mode) if mode is not None else None,
                      "placeholder": PII_PLACEHOLDERS.get(kind), "matches": matches, "docs": docs, "chars": chars,
                      "docs_share": docs / n_docs if n_docs else None,
                      "matches_per_million_chars": matches * 1e6 / n_chars if n_chars else None,
                      "chars_per_million_chars": chars * 1e6 / n_chars if n_chars else None,
                      "samples": {"file": s.file, "count": s.count} if s else None})
    return {"stage": PII_STAGE, "in_docs": n_docs, "in_chars": n_chars,
            "kept_docs": st["kept_docs"], "dropped_docs": st["dropped_docs"], "dropped_chars": st["dropped_chars"],
            "outcomes": _outcomes(st, PII_STAGE),
            "matches": sum(k["matches"] for k in kinds), "chars_matched": sum(k["chars"] for k in kinds),
            "kinds": kinds, "modes_known": bool(cfg)}


#: width of a score bin (``corpus.stats.ratio_bin``)
BIN_WIDTH = 1.0 / RATIO_BINS
_EPS = 1e-9


def _num(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def threshold_position(bins: list[str], threshold: float | None, width: float = BIN_WIDTH) -> float | None:
    """Where the threshold falls on the histogram's x axis, in bins from the left edge (2.5 =
    halfway through the third bin); None without a threshold or bins.  ``width``: of a bin."""
    if threshold is None or not bins:
        return None
    eps = _EPS * max(1.0, width / BIN_WIDTH)
    for i, lo in enumerate(_num(b) for b in bins):
        if lo is None or threshold < lo - eps:
            return float(i)
        if threshold < lo + width - eps:
            return i + max(0.0, threshold - lo) / width
    return float(len(bins))


def _number(x) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else None


def _model_entry(run: RunStats, st: StageEntry, hist_kind: str, model, label: str, thr, reason: str,
                 top: float) -> QualityModelReport:
    """One model's histogram, threshold and drops (the unnamed model's or a named one's)."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in run.details:
        if r.stage == QM_STAGE and r.kind == hist_kind:
            acc[r.name][0] += r.docs
            acc[r.name][1] += r.chars
    width = top / RATIO_BINS
    bins = [f"{i * width:.2f}" for i in range(RATIO_BINS)]
    bins += sorted((b for b in acc if b not in bins), key=lambda b: (_num(b) is None, _num(b) or 0.0, b))
    docs = [acc.get(b, [0, 0])[0] for b in bins]
    # documents in the bins wholly below the threshold: all that it dropped when it is a bin edge
    below = sum(d for b, d in zip(bins, docs)
                if thr is not None and _num(b) is not None and _num(b) + width <= thr + _EPS)
    n = st["in_docs"]
    mine = [r for r in st["reasons"] if r["outcome"] == "dropped" and r["reason"] == reason]
    dropped = sum(r["docs"] for r in mine)
    outcomes = [o for o in _outcomes(st, QM_STAGE) if o["outcome"] != "dropped" or o["reason"] == reason]
    if not any(o["reason"] == reason for o in outcomes):
        outcomes.append({"outcome": "dropped", "reason": reason, "meaning": "", "docs": 0, "chars": 0})
    return {"stage": QM_STAGE, "hist_kind": hist_kind, "model": model, "label": label,
            "threshold": thr, "threshold_position": threshold_position(bins, thr, width),
            "in_docs": n, "kept_docs": st["kept_docs"], "dropped_docs": dropped,
            "dropped_chars": sum(r["chars"] for r in mine), "dropped_share": dropped / n if n else None,
            "outcomes": outcomes,
            "histogram": {"bins": bins, "docs": docs, "chars": [acc.get(b, [0, 0])[1] for b in bins],
                          "total": sum(docs)},
            "below_threshold_bins_docs": below if thr is not None else None}


def quality_model_section(run: RunStats, total: list[StageEntry]) -> QualityModelReport | None:
    """Each quality model's score distribution, its threshold and what it dropped (None: no
    stage).  The section's own fields are its first model's (the unnamed one when set);
    ``models`` lists every model, named ones with their column (``quality_<name>``)."""
    st = _entry(total, QM_STAGE)
    if st is None:
        return None
    cfg = run.info.config.get(QM_STAGE)
    cfg = cfg if isinstance(cfg, dict) else {}
    entries: list[QualityModelReport] = []
    named = [m for m in (cfg.get("models") or []) if isinstance(m, dict) and isinstance(m.get("name"), str)]
    if cfg.get("path") or not named:
        e = _model_entry(run, st, QM_HIST, cfg.get("path"), cfg.get("label"), _number(cfg.get("threshold")),
                         "quality_model_below", 1.0)
        e["outcomes"] = _outcomes(st, QM_STAGE) if not named else e["outcomes"]
        e.update(name=None, column="quality_score", reads=None)
        entries.append(e)
    for m in named:
        col = f"quality_{m['name']}"
        scales = sorted({r.name for r in run.details if r.stage == QM_STAGE and r.kind == f"scale:{col}"})
        how, _, what = (scales[0] if scales else "label:?").partition(":")
        top = (_num(what) or 1.0) if how == "expected" else 1.0
        top = top if 0 < top <= 1000 else 1.0
        reads = f"expected grade 0–{top:g}" if how == "expected" else f"probability of {what}"
        e = _model_entry(run, st, f"hist:{col}", m.get("path"), m.get("label"), _number(m.get("threshold")),
                         f"quality_model_below_{m['name']}", top)
        e.update(name=m["name"], column=col, reads=reads)
        entries.append(e)
    first = dict(entries[0])
    if len(entries) > 1:  # the stage's drops, every model's
        first.update(dropped_docs=st["dropped_docs"], dropped_chars=st["dropped_chars"],
                     dropped_share=st["dropped_docs"] / st["in_docs"] if st["in_docs"] else None)
    first["models"] = entries
    return first
