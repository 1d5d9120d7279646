"""From the typed statistics of one or more runs to the report document (:mod:`.schema`).

The funnel of every snapshot and of all of them, each quality rule's bite, the NG-term
calibration, the histograms of the written documents, the near-duplicates, the extrapolation
(:mod:`.estimates`) and the cross-checks between the statistics files.  Stage order, the
stages whose character unit changes, the histograms and the quality rules come from the
registry (``jawebcorpus/registry.py``: the stage classes' declarations): a stage the report does not know is
placed before ``write`` and reported like the others.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from typing import Iterable, Sequence

from jawebcorpus.corpus.stats import LENGTH_EDGES, RATIO_BINS, check_accounting
from jawebcorpus.registry import STAGE_NAMES, STAGES
from jawebcorpus.registry import stage as registry_stage

from .estimates import SWALLOW, extrapolate
from .model import DetailRow, ReportError, RunStats, StageRow, Written
from .schema import (DedupReport, DetailSum, Histogram, NgWordsReport, QualityReport, ReasonEntry, Report,
                     RunReport, StageEntry)
from .hygiene import HYGIENE_STAGES, hygiene_section
from .signals import PII_STAGE, QM_HIST, QM_STAGE, pii_section, quality_model_section

__all__ = ["build_report", "report_json", "num_key", "CHAR_UNIT_CHANGES", "WRITE_HISTS", "HIST_STAGES",
           "NO_TEXT_STAGES", "NO_CHARS_IN_STAGES"]

#: Stages whose kept characters are in another unit than what they received (none → HTML → text).
CHAR_UNIT_CHANGES = frozenset(s.name for s in STAGES if s.changes_char_unit)
#: Stages before ``decode`` have no text yet: their characters are 0.
NO_TEXT_STAGES = STAGE_NAMES[: STAGE_NAMES.index("decode")]
#: Stages whose incoming characters are not text (``decode`` receives bytes).
NO_CHARS_IN_STAGES = STAGE_NAMES[: STAGE_NAMES.index("decode") + 1]
#: The histograms of the written documents (``hist:<name>`` details of ``write``), in order.
#: The quality rules, in the reference's order: the quality stage's drop reasons.
RULES = registry_stage("quality").codes("dropped")
WRITE_HISTS = tuple(d.kind[5:] for d in registry_stage("write").details if d.kind.startswith("hist:"))
#: The stages whose histograms the report draws: ``write`` (the written documents) and language
#: ID, which scores every document it sees (``<name>_scored``: the page's language-ID section).
#: The quality model's score has a section of its own (:mod:`.signals`); histograms of stages the
#: report does not know are listed as other details.
HIST_STAGES = ("langid", "write")


def num_key(s: str):
    """Sort key of bin names: numbers in numeric order, then names by their first number."""
    try:
        return (0, float(s), s)
    except (TypeError, ValueError):
        m = re.match(r"\D*(\d+(?:\.\d+)?)", str(s))
        return (1, float(m.group(1)), s) if m else (2, 0.0, str(s))


def _stage_order(run: RunStats) -> list[str]:
    """run.json's stage order, with the registry's stages it does not list where they belong."""
    order = list(run.info.stages)
    if not order:
        order = list(STAGE_NAMES)
    else:
        for s in [s for s in STAGE_NAMES if s not in order]:
            i = STAGE_NAMES.index(s)
            after = [o for o in order if o in STAGE_NAMES and STAGE_NAMES.index(o) < i]
            order.insert(order.index(after[-1]) + 1 if after else 0, s)
    seen = set(order)
    for r in run.stages:  # any unknown stage: just before write
        if r.stage not in seen:
            seen.add(r.stage)
            order.insert(order.index("write") if "write" in order else len(order), r.stage)
    return order


class _StageSums:
    """Running sums of one stage's rows."""

    __slots__ = ("in_docs", "in_bytes", "in_chars", "kept", "removed", "kept_by", "removed_by")

    def __init__(self) -> None:
        self.in_docs = self.in_bytes = self.in_chars = 0
        self.kept = [0, 0, 0]  # docs, chars, bytes
        self.removed = {"dropped": [0, 0], "error": [0, 0]}  # docs, chars
        self.kept_by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.removed_by: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])

    def add(self, r: StageRow) -> None:
        self.in_docs += r.docs
        self.in_bytes += r.bytes
        self.in_chars += r.chars
        if r.outcome == "kept":
            k = self.kept_by[r.reason]
            self.kept[0] += r.docs
            self.kept[1] += r.chars
            self.kept[2] += r.bytes
        else:
            outcome = "dropped" if r.outcome == "dropped" else "error"
            k = self.removed_by[(outcome, r.reason)]
            self.removed[outcome][0] += r.docs
            self.removed[outcome][1] += r.chars
        k[0] += r.docs
        k[1] += r.chars
        k[2] += r.bytes


def _funnel(rows: Iterable[StageRow], order: Sequence[str], top: int) -> list[StageEntry]:
    """The stage entries of one scope (a snapshot, or all): in, kept, dropped, errors, reasons."""
    per: dict[str, _StageSums] = {}
    for r in rows:
        (per.get(r.stage) or per.setdefault(r.stage, _StageSums())).add(r)
    out: list[StageEntry] = []
    prev: StageEntry | None = None
    for name in order:
        s = per.get(name)
        if s is None:
            continue
        n_in = s.in_docs
        in_chars = prev["kept_chars"] if prev is not None else s.in_chars
        kept_docs, kept_chars, kept_bytes = s.kept
        reasons: list[ReasonEntry] = [
            {"outcome": o, "reason": rs, "docs": v[0], "chars": v[1], "bytes": v[2],
             "share": v[0] / n_in if n_in else None}
            for (o, rs), v in sorted(s.removed_by.items(), key=lambda t: (-t[1][0], t[0][0], t[0][1]))]
        st: StageEntry = {
            "stage": name, "in_docs": n_in, "in_bytes": s.in_bytes,
            "kept_docs": kept_docs, "kept_chars": kept_chars, "kept_bytes": kept_bytes,
            "dropped_docs": s.removed["dropped"][0], "dropped_chars": s.removed["dropped"][1],
            "error_docs": s.removed["error"][0], "error_chars": s.removed["error"][1],
            "in_chars": in_chars,
            "kept_share": kept_docs / n_in if n_in else None,
            "chars_share": kept_chars / in_chars if name not in CHAR_UNIT_CHANGES and in_chars else None,
            "reasons": reasons, "top_reasons": reasons[:top],
            "kept_reasons": [{"reason": rs, "docs": v[0], "chars": v[1], "bytes": v[2]}
                             for rs, v in sorted(s.kept_by.items(), key=lambda t: (-t[1][0], t[0]))],
        }
        out.append(st)
        prev = st
    return out


def _histograms(details: Iterable[DetailRow]) -> dict[str, Histogram]:
    acc: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in details:
        if r.kind.startswith("hist:") and r.stage in HIST_STAGES:
            # a stage before write scores every document it sees (threshold included)
            name = r.kind[5:] if r.stage == "write" else f"{r.kind[5:]}_scored"
            v = acc[name][r.name]
            v[0] += r.docs
            v[1] += r.chars
    out: dict[str, Histogram] = {}
    for kind in list(WRITE_HISTS) + sorted(k for k in acc if k not in WRITE_HISTS):
        got = acc.get(kind)
        if kind == "num_chars":
            bins = [str(e) for e in LENGTH_EDGES]
        elif kind in WRITE_HISTS or kind == "lang_score_scored":
            bins = [f"{i / RATIO_BINS:.2f}" for i in range(RATIO_BINS)]
        else:
            bins = []
        if got is None and kind != "num_chars" and kind not in WRITE_HISTS:
            continue
        got = got or {}
        bins += [b for b in sorted(got, key=num_key) if b not in bins]
        bins.sort(key=num_key)
        out[kind] = {"bins": bins, "docs": [got.get(b, [0, 0])[0] for b in bins],
                     "chars": [got.get(b, [0, 0])[1] for b in bins], "total": sum(v[0] for v in got.values())}
    return out


def _details_by(details: Iterable[DetailRow], stage: str, kind: str | None = None) -> dict:
    """{(kind, name): [docs, chars, bytes]} summed over snapshots."""
    acc: dict = defaultdict(lambda: [0, 0, 0])
    for r in details:
        if r.stage == stage and (kind is None or r.kind == kind):
            v = acc[(r.kind, r.name)]
            v[0] += r.docs
            v[1] += r.chars
            v[2] += r.bytes
    return acc


def _stage_entry(funnel: list[StageEntry], stage: str) -> StageEntry | None:
    return next((s for s in funnel if s["stage"] == stage), None)


def _quality(run: RunStats, total_funnel: list[StageEntry]) -> QualityReport | None:
    st = _stage_entry(total_funnel, "quality")
    if st is None:
        return None
    alone = {name: v for (_k, name), v in _details_by(run.details, "quality", "rule_fails").items()}
    first = {r["reason"]: r for r in st["reasons"] if r["outcome"] == "dropped"}
    disabled = run.info.setting("quality", "disabled")
    disabled = {x for x in disabled if isinstance(x, str)} if isinstance(disabled, list) else set()
    names = list(RULES) + sorted((set(alone) | set(first)) - set(RULES))
    n = st["in_docs"]
    rules = []
    for i, name in enumerate(names):
        a = alone.get(name, [0, 0, 0])
        f = first.get(name, {"docs": 0, "chars": 0})
        rules.append({"rule": name, "number": i + 1 if name in RULES else None,
                      "disabled": name in disabled,
                      "alone_docs": a[0], "alone_chars": a[1], "alone_share": a[0] / n if n else None,
                      "first_docs": f["docs"], "first_chars": f["chars"], "first_share": f["docs"] / n if n else None})
    return {"in_docs": n, "in_chars": st["in_chars"], "kept_docs": st["kept_docs"],
            "dropped_docs": st["dropped_docs"], "rules": rules, "has_rule_fails": bool(alone)}


def _ngwords(run: RunStats, total_funnel: list[StageEntry]) -> NgWordsReport | None:
    st = _stage_entry(total_funnel, "ngwords")
    if st is None:
        return None
    terms: dict[str, dict] = {}
    for (kind, name), v in _details_by(run.details, "ngwords").items():
        if kind not in ("term_matched", "term_removed"):
            continue
        t = terms.setdefault(name, {"term": name, "matched_docs": 0, "matched_chars": 0,
                                    "removed_docs": 0, "removed_chars": 0})
        pre = "matched" if kind == "term_matched" else "removed"
        t[f"{pre}_docs"] += v[0]
        t[f"{pre}_chars"] += v[1]
    n = st["in_docs"]
    for t in terms.values():
        t["removed_share"] = t["removed_docs"] / n if n else None
        t["matched_share"] = t["matched_docs"] / n if n else None
    ordered = sorted(terms.values(), key=lambda t: (-t["removed_docs"], -t["matched_docs"], t["term"]))
    return {"in_docs": n, "dropped_docs": st["dropped_docs"], "dropped_chars": st["dropped_chars"],
            "terms": ordered, "terms_removing": sum(1 for t in ordered if t["removed_docs"]),
            "mode": run.info.setting("ngwords", "mode")}


def _dedup(run: RunStats, funnels: dict[str, list[StageEntry]], snapshots: list[str]) -> DedupReport | None:
    if not run.has_stage("dedup"):
        return None
    per_snap = []
    for snap in snapshots:
        st = _stage_entry(funnels[snap], "dedup")
        if st is None:
            continue
        per_snap.append({"snapshot": snap, "in_docs": st["in_docs"], "removed_docs": st["dropped_docs"],
                         "removed_chars": st["dropped_chars"], "kept_docs": st["kept_docs"],
                         "removed_share": st["dropped_docs"] / st["in_docs"] if st["in_docs"] else None,
                         "reasons": st["reasons"]})
    clusters: dict = defaultdict(lambda: [0, 0])   # bucket -> [clusters (survivors), documents in them]
    copies: dict = defaultdict(int)                 # (snapshot of the removed copy, where the kept one is)
    other = []
    for r in run.details:
        if r.stage != "dedup":
            continue
        if r.kind == "cluster_size":
            clusters[r.name][0] += r.docs
        elif r.kind == "cluster_docs":
            clusters[r.name][1] += r.docs
        elif r.kind == "kept_copy_in":
            copies[(r.snapshot, r.name)] += r.docs
        else:
            other.append({"snapshot": r.snapshot, "kind": r.kind, "name": r.name, "docs": r.docs, "chars": r.chars})
    bins = sorted(clusters, key=num_key)
    has_docs = any(v[1] for v in clusters.values())
    kept_in = sorted({k for _s, k in copies}, key=lambda k: (k.startswith("published:"), k))
    return {"snapshots": per_snap,
            "cluster_sizes": {"bins": bins, "clusters": [clusters[b][0] for b in bins],
                              "documents": [clusters[b][1] for b in bins] if has_docs else None}
            if bins else None,
            "kept_copy_in": {"removed_in": [s for s in snapshots if any(c[0] == s for c in copies)],
                             "kept_in": kept_in,
                             "docs": {f"{a}\t{b}": n for (a, b), n in sorted(copies.items())}} if copies else None,
            "other_details": other}


#: Stages whose details have a section of their own (the rest are listed under "other details").
_OWN_SECTION = ("quality", "ngwords", "dedup", PII_STAGE, QM_STAGE, *HYGIENE_STAGES)


def _other_details(run: RunStats) -> list[DetailSum]:
    acc: dict = defaultdict(lambda: [0, 0, 0])
    for r in run.details:
        if r.stage in _OWN_SECTION or (r.stage in HIST_STAGES and r.kind.startswith("hist:")) or (
                r.stage == "write" and r.kind == "license"):
            continue
        v = acc[(r.stage, r.kind, r.name)]
        v[0] += r.docs
        v[1] += r.chars
        v[2] += r.bytes
    order = {s: i for i, s in enumerate(STAGE_NAMES)}
    return [{"stage": k[0], "kind": k[1], "name": k[2], "docs": v[0], "chars": v[1], "bytes": v[2]}
            for k, v in sorted(acc.items(), key=lambda kv: (order.get(kv[0][0], 99), str(kv[0][1]), -kv[1][0]))]


def _stats_checks(run: RunStats, funnels: dict[str, list[StageEntry]], snapshots: list[str]) -> list[str]:
    """Cross-checks between stages.json, details.json and the per-file records (empty when consistent)."""
    out = []
    det: dict = defaultdict(lambda: defaultdict(int))
    for r in run.details:
        det[r.snapshot][(r.stage, r.kind, r.name)] += r.docs
    files: dict = defaultdict(lambda: [0, 0])
    for f in run.files:
        v = files[f.snapshot]
        v[0] += f.records
        v[1] += f.pages
    for snap in snapshots:
        by = {s["stage"]: s for s in funnels.get(snap, [])}
        d = det.get(snap, {})
        w = by.get("write")
        hist: dict = defaultdict(int)
        for (stage, kind, _name), n in d.items():
            if stage == "write" and kind and kind.startswith("hist:"):
                hist[kind] += n
        for kind, n in sorted(hist.items()):
            if w and n != w["kept_docs"]:
                out.append(f"{snap}: histogram {kind} counts {n:,} documents, {w['kept_docs']:,} were written")
        q = by.get("quality")
        alone = {name: n for (stage, kind, name), n in d.items() if stage == "quality" and kind == "rule_fails"}
        if q and alone:
            for r in q["reasons"]:
                if r["outcome"] == "dropped" and r["docs"] > alone.get(r["reason"], 0):
                    out.append(f"{snap}: quality rule {r['reason']} is the first failing rule of {r['docs']:,} "
                               f"documents but rejects only {alone.get(r['reason'], 0):,} alone")
        ng = by.get("ngwords")
        if ng:
            for (stage, kind, name), n in d.items():
                if stage == "ngwords" and kind == "term_removed" and n > ng["dropped_docs"]:
                    out.append(f"{snap}: NG term {name!r} removed {n:,} documents, the stage dropped {ng['dropped_docs']:,}")
        qm = by.get(QM_STAGE)
        scored = sum(n for (stage, kind, _name), n in d.items() if stage == QM_STAGE and kind == QM_HIST)
        if qm and scored != qm["in_docs"]:
            out.append(f"{snap}: the quality model's score histogram counts {scored:,} documents, "
                       f"{qm['in_docs']:,} were scored")
        for (stage, kind, name), n in d.items():
            # only in statistics of runs before the exact finish (since then dedup always converges)
            if stage == "dedup" and kind == "not_converged" and n:
                out.append(f"{snap}: dedup clustering did not converge ({name}: {n:,}; a run of this version "
                           "finishes the clusters exactly)")
        rd = by.get("read")
        if rd and snap in files and run.files:
            rec, pages = files[snap]
            if rec != rd["in_docs"]:
                out.append(f"{snap}: {run.files_source} counts {rec:,} records, stages.json read {rd['in_docs']:,}")
            if pages != rd["kept_docs"]:
                out.append(f"{snap}: {run.files_source} counts {pages:,} HTML pages, "
                           f"stages.json read kept {rd['kept_docs']:,}")
    return out


def _config_flat(d, prefix="") -> dict:
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_config_flat(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def _run_model(run: RunStats, top: int, files_per_snapshot, captures_per_file, snapshots_total) -> RunReport:
    order = _stage_order(run)
    snapshots = sorted({r.snapshot for r in run.stages} | {f.snapshot for f in run.files})
    rows_of: dict[str, list[StageRow]] = defaultdict(list)
    for r in run.stages:
        rows_of[r.snapshot].append(r)
    funnels = {snap: _funnel(rows_of.get(snap, ()), order, top) for snap in snapshots}
    total = _funnel(run.stages, order, top)
    failed = [f for f in run.files if not f.ok]
    captures = sum(f.responses for f in run.files)
    written = _stage_entry(total, "write")
    written_of = {}
    for snap in snapshots:
        w = _stage_entry(funnels[snap], "write")
        written_of[snap] = Written(w["kept_docs"], w["kept_chars"]) if w else Written(0, 0)
    problems = check_accounting([r.as_json() for r in run.stages], order)
    if written is None and run.stages:
        problems.append("no write rows: nothing was written")
    sample_list = [{"stage": s.stage, "reason": s.reason, "file": s.file, "count": s.count} for s in run.samples]
    info = run.info
    return {
        "dir": run.path,
        "name": run.name,
        "label": run.label,
        "preset": run.preset,
        "fingerprint": info.fingerprint,
        "until": info.until,
        "runner": info.runner,
        "seconds": info.seconds,
        "started": info.started,
        "versions": info.versions,
        "command": info.command,
        "config": info.config,
        "stages": [s["stage"] for s in total],
        "snapshot_ids": snapshots,
        "files": {"total": len(run.files), "ok": len(run.files) - len(failed), "failed": len(failed),
                  "records": sum(f.records for f in run.files),
                  "captures": captures, "pages": sum(f.pages for f in run.files),
                  "failed_list": [{"path": f.path, "snapshot": f.snapshot, "error": f.error, "message": f.message,
                                   "records": f.records} for f in failed[:200]]},
        "written": {"docs": written["kept_docs"] if written else 0, "chars": written["kept_chars"] if written else 0,
                    "share_of_captures": (written["kept_docs"] / captures) if written and captures else None,
                    "per_snapshot": {snap: {"docs": w.docs, "chars": w.chars} for snap, w in written_of.items()}},
        "funnel": {"total": total, "snapshots": funnels},
        "quality": _quality(run, total),
        "ngwords": _ngwords(run, total),
        "histograms": _histograms(run.details),
        "dedup": _dedup(run, funnels, snapshots),
        "pii": pii_section(run, total),
        "quality_model": quality_model_section(run, total),
        "hygiene": hygiene_section(run, total, funnels),
        "other_details": _other_details(run),
        "samples": {"dir": run.samples_dir, "reasons": sample_list,
                    "documents": sum(s["count"] for s in sample_list)},
        "extrapolation": extrapolate(run, written_of, snapshots, files_per_snapshot, captures_per_file,
                                     snapshots_total),
        "accounting_problems": problems,
        "stats_warnings": _stats_checks(run, funnels, snapshots),
        "skipped": list(run.skipped),
    }


def build_report(runs: Sequence[RunStats], *, top: int = 3, files_per_snapshot: int | None = None,
                 captures_per_file: int = SWALLOW["captures_per_file"],
                 snapshots_total: int = SWALLOW["snapshots"]) -> Report:
    """The report as plain JSON-ready data (what ``--json`` prints)."""
    if not runs:
        raise ReportError("no output directory given")
    for name, value, low, high in (("--top", top, 1, 10 ** 6), ("--files-per-snapshot", files_per_snapshot, 1, 10 ** 9),
                                   ("--captures-per-file", captures_per_file, 1, 10 ** 9),
                                   ("--snapshots-total", snapshots_total, 1, 10 ** 6)):
        if value is not None and (type(value) is not int or not low <= value <= high):
            raise ReportError(f"{name} must be an integer from {low:,} to {high:,}, not {value!r}")
    models = [_run_model(r, top, files_per_snapshot, captures_per_file, snapshots_total) for r in runs]
    # Labels: directory name (+ preset); disambiguate equal names by their parent directory.
    labels = [m["label"] for m in models]
    for i, m in enumerate(models):
        if labels.count(m["label"]) > 1:
            m["label"] = f"{os.path.basename(os.path.dirname(os.path.abspath(m['dir'])))}/{m['label']}"
        m["key"] = chr(ord("A") + i) if i < 26 else f"R{i + 1}"
    differing = []
    if len(models) > 1:
        flats = [_config_flat(m["config"]) for m in models]
        for k in sorted(set().union(*flats)):
            vals = [f.get(k) for f in flats]
            if any(v != vals[0] for v in vals[1:]):
                differing.append({"setting": k, "values": vals})
    return {
        "report": "jawebcorpus statistics report",
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "runs": models,
        "config_differences": differing,
        "swallow": SWALLOW,
        "options": {"top": top, "files_per_snapshot": files_per_snapshot,
                    "captures_per_file": captures_per_file, "snapshots_total": snapshots_total},
    }


def report_json(report: Report) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1) + "\n"
