"""Estimates: from the WARC files a run read to whole snapshots, with 95 % intervals.

Files are the sampling unit.  :func:`estimate_total` scales what the sampled files gave to the
files of a snapshot (mean per file, or per capture when the sampled files are much smaller than
real Common Crawl files), with a Student-t interval (:func:`t95`) from the variation between
files; :func:`extrapolate` does it per snapshot, sums the sampled snapshots and projects them to
``snapshots_total`` snapshots (two-stage: the variation between snapshots is added).  ``SWALLOW``
is the reference the report compares with.  ``docs/report.md`` explains the method.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from typing import Mapping, Sequence, TypedDict

from jawebcorpus.corpus.inputs import SNAPSHOT_RE

from .folder import listing_entries
from .model import FileEntry, RunStats, Written

__all__ = ["SWALLOW", "Estimate", "t95", "estimate_total", "interval", "extrapolate"]

#: The Swallow corpus as built (``../shared/docs/swallow-reference.md``).
SWALLOW = {
    "snapshots": 21,
    "input_pages": 63_352_266_406,        # official page counts of the 21 snapshots (≈ 63.4 B)
    "output_pages": 173_000_000,          # ≈ 173 M
    "output_chars": 312_100_000_000,      # ≈ 312.1 B
    "kept_share": 0.0027,                 # 0.27 % of input pages
    "chars_per_page": 1800,
    "captures_per_file": 39_000,          # ≈ 39,000 pages per WARC file (one 2023-23 file: 39,135)
    "files_per_snapshot": 90_000,         # ≈ 90,000 WARC files per snapshot
    "deduplicated": True,
    "source": "Okazaki et al. 2024 (arXiv 2404.17733); ../shared/docs/swallow-reference.md",
}

# Two-sided 95 % quantiles of Student's t by degrees of freedom.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042)


class _Estimate(TypedDict):
    estimate: float | None
    se: float | None  # standard error
    half_width: float | None  # of the 95 % interval; None: cannot be estimated
    low: float | None
    high: float | None
    rel_error: float | None  # half_width / estimate


class Estimate(_Estimate, total=False):
    """A total with its 95 % interval, as ``--json`` writes it (``exact``: every file was read)."""

    exact: bool


def _unknown() -> Estimate:
    return {"estimate": None, "se": None, "half_width": None, "low": None, "high": None, "rel_error": None}


def t95(df: int) -> float:
    """Two-sided 95 % quantile of Student's t with ``df`` degrees of freedom (df ≥ 1)."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= 30:
        return _T95[df - 1]
    # Between the tabulated points, t is close to linear in 1/df: 2.042 (30), 2.000 (60), 1.960 (∞).
    for lo, tlo, hi, thi in ((30, 2.042, 60, 2.000), (60, 2.000, 120, 1.980)):
        if df <= hi:
            w = (1 / df - 1 / hi) / (1 / lo - 1 / hi)
            return thi + w * (tlo - thi)
    return 1.960 + (1.980 - 1.960) * 120 / df


def estimate_total(ys: Sequence[float], xs: Sequence[float] | None, n_pop: float,
                   x_per_unit: float | None = None) -> Estimate:
    """Scale a sample of files (the sampling unit) to a population of ``n_pop`` files.

    Without ``x_per_unit``: the mean-per-file estimator ``N·ȳ``, standard error
    ``N·√((1 − n/N)·s²/n)``.  With it: the ratio estimator ``(Σy/Σx)·N·x_per_unit`` (y per
    capture times the assumed captures of the population), standard error from the residuals
    ``y − R·x``.  The 95 % interval uses Student's t with n − 1 degrees of freedom; with one
    file it cannot be estimated (``half_width`` None).
    """
    n = len(ys)
    out = _unknown()
    if n == 0 or n_pop <= 0:
        return out
    fpc = max(0.0, 1.0 - n / n_pop)
    if x_per_unit is None:
        mean = sum(ys) / n
        est = n_pop * mean
        var = sum((y - mean) ** 2 for y in ys) / (n - 1) if n > 1 else None
        se = n_pop * math.sqrt(fpc * var / n) if var is not None else None
    else:
        sx = sum(xs)
        if sx <= 0:
            return out
        ratio = sum(ys) / sx
        pop_x = n_pop * x_per_unit
        est = ratio * pop_x
        if n > 1:
            xbar = sx / n
            s2 = sum((y - ratio * x) ** 2 for y, x in zip(ys, xs)) / (n - 1)
            se = pop_x * math.sqrt(fpc * s2 / n) / xbar
        else:
            se = None
    out["estimate"] = est
    if fpc == 0.0:  # every file of the population was read
        se = 0.0
        out["exact"] = True
    if se is not None:
        hw = t95(n - 1) * se if se > 0 else 0.0
        out.update(se=se, half_width=hw, low=max(0.0, est - hw), high=est + hw,
                   rel_error=hw / est if est else None)
    return out


def interval(est: float, hw: float | None) -> Estimate:
    """An estimate with a given 95 % half width (None: unknown)."""
    return {"estimate": est, "se": None if hw is None else hw / 1.96, "half_width": hw,
            "low": None if hw is None else max(0.0, est - hw), "high": None if hw is None else est + hw,
            "rel_error": (hw / est if est else None) if hw is not None else None}


_MAX_LISTINGS_TRIED = 16


def _listing_count(files: Sequence[FileEntry], snapshot: str) -> tuple[int | None, str | None]:
    """Files in ``crawl-data/<ID>/warc.paths.gz`` next to the local input files, if it exists.

    The paths come from the per-file records, so from the folder: the snapshot must be a
    snapshot id, and at most a few places are tried."""
    if not SNAPSHOT_RE.match(snapshot):
        return None, None
    tried = set()
    for f in files:
        path, rel = f.path or "", (f.warc_file or "").replace("\\", "/")
        if not path or "://" in path or not rel:
            continue
        p = path.replace("\\", "/")
        if not p.endswith(rel) or "crawl-data/" not in rel:
            continue
        root = p[: -len(rel)]
        listing = os.path.join(root or ".", "crawl-data", snapshot, "warc.paths.gz")
        if listing in tried:
            continue
        if len(tried) >= _MAX_LISTINGS_TRIED:
            break
        tried.add(listing)
        n = listing_entries(listing)  # a regular file, within a listing's bounds (report/folder.py)
        if n is not None:
            return n, listing
    return None, None


def _snapshot_row(run: RunStats, snap: str, files: list[FileEntry], written: Written,
                  files_per_snapshot: int | None, captures_per_file: int) -> dict:
    """One snapshot: its files read scaled to the files of the snapshot."""
    docs_w, chars_w = written
    per = run.written_per_file
    n = len(files)
    captures = [f.responses for f in files]
    listing_n, listing = _listing_count(files, snap)
    if files_per_snapshot:
        n_pop, n_src = files_per_snapshot, "--files-per-snapshot"
    elif listing_n:
        n_pop, n_src = listing_n, "listing"
    else:
        n_pop, n_src = SWALLOW["files_per_snapshot"], "assumed"
    notes = []
    if n_pop < n:
        notes.append(f"{n} files read but the snapshot has {n_pop}: using {n}")
        n_pop = n
    mean_x = sum(captures) / n if n else 0
    census = n_src == "listing" and n == n_pop
    method = "per file"
    if n_src != "listing" and mean_x and not (0.5 <= mean_x / captures_per_file <= 2.0):
        method = "per capture"
        notes.append(f"sampled files hold {mean_x:,.0f} captures on average, real Common Crawl files "
                     f"≈ {captures_per_file:,}: scaled per capture")
    if census:
        method = "complete"
    failed = sum(1 for f in files if not f.ok)
    if failed:
        notes.append(f"{failed} of {n} files failed part-way: their captures count as read")
    if n == 0:
        return {
            "snapshot": snap, "files_read": 0, "files_failed": 0, "files_in_snapshot": n_pop,
            "files_source": n_src, "listing": None, "method": "none", "captures_read": 0,
            "docs_written": docs_w, "chars_written": chars_w, "input_pages": _unknown(), "docs": _unknown(),
            "chars": _unknown(), "notes": [],
            "error_note": f"no {run.files_source} entries for this snapshot: it cannot be extrapolated"}
    # Per-file written figures (the sampling unit); without them, only the point estimate.
    if per is not None:
        ys_d = [per.get((snap, f.warc_file), (0, 0))[0] for f in files]
        ys_c = [per.get((snap, f.warc_file), (0, 0))[1] for f in files]
        if sum(ys_d) != docs_w or sum(ys_c) != chars_w:
            notes.append(f"per-file counts from {run.written_source} ({sum(ys_d):,} documents, "
                         f"{sum(ys_c):,} characters) differ from stages.json ({docs_w:,}, {chars_w:,})")
        per_file_ok = True
    else:
        ys_d = [docs_w / n] * n
        ys_c = [chars_w / n] * n
        per_file_ok = False
    xpu = captures_per_file if method == "per capture" else None
    if method != "per capture":
        est_in = estimate_total(captures, captures, n_pop)
    else:
        est_in = _unknown()
        est_in["estimate"] = float(n_pop * captures_per_file)
    est_d = estimate_total(ys_d, captures, n_pop, xpu)
    est_c = estimate_total(ys_c, captures, n_pop, xpu)
    if not per_file_ok and not census:
        for e in (est_d, est_c):
            e.update(se=None, half_width=None, low=None, high=None, rel_error=None)
    if census:
        error_note = "all files of the snapshot's listing were read: no sampling error"
    elif not per_file_ok:
        error_note = ("sampling error unknown: per-file written counts need OUT/data (Parquet) "
                      f"or per-file counts in {run.files_source}")
    elif n < 2:
        error_note = "one file read: the sampling error cannot be estimated"
    else:
        error_note = f"95 % interval from {n} files (t with {n - 1} degree{'s' if n > 2 else ''} of freedom)"
    return {
        "snapshot": snap, "files_read": n, "files_failed": failed, "files_in_snapshot": n_pop,
        "files_source": n_src, "listing": listing, "method": method,
        "captures_read": sum(captures), "docs_written": docs_w, "chars_written": chars_w,
        "input_pages": est_in, "docs": est_d, "chars": est_c, "error_note": error_note, "notes": notes,
    }


def _sum(rows: list[dict], key: str) -> Estimate:
    """The sampled snapshots together (independent samples: variances add)."""
    if not rows or any(r[key]["estimate"] is None for r in rows):
        return _unknown()
    est = sum(r[key]["estimate"] or 0 for r in rows)
    hws = [r[key]["half_width"] for r in rows]
    hw = math.sqrt(sum(h * h for h in hws)) if rows and all(h is not None for h in hws) else None
    out = interval(est, hw)
    if rows and all(r[key].get("exact") for r in rows):
        out["exact"] = True
    return out


def _project(rows: list[dict], key: str, snapshots_total: int) -> Estimate:
    """Projected to ``snapshots_total`` snapshots, the sampled ones being a sample of those (two-stage)."""
    if not rows or any(r[key]["estimate"] is None for r in rows):
        return _unknown()
    s_n, s_tot = len(rows), max(snapshots_total, len(rows))
    vals = [r[key]["estimate"] or 0 for r in rows]
    est = s_tot * sum(vals) / s_n if s_n else 0.0
    hws = [r[key]["half_width"] for r in rows]
    if s_n == s_tot:
        return _sum(rows, key)
    if s_n < 2 or any(h is None for h in hws):
        return interval(est, None)
    mean = sum(vals) / s_n
    between = s_tot * math.sqrt((1 - s_n / s_tot) * sum((v - mean) ** 2 for v in vals) / (s_n - 1) / s_n)
    within2 = (s_tot / s_n) * sum(h * h for h in hws)
    return interval(est, math.sqrt((t95(s_n - 1) * between) ** 2 + within2))


def extrapolate(run: RunStats, written: Mapping[str, Written], snapshots: Sequence[str],
                files_per_snapshot: int | None, captures_per_file: int, snapshots_total: int) -> dict:
    """The ``extrapolation`` of a run: per snapshot, the sampled snapshots, the projection.

    ``written``: documents and characters written per snapshot (the funnel's write stage).
    """
    by_snap: dict[str, list[FileEntry]] = defaultdict(list)
    for f in run.files:
        by_snap[f.snapshot].append(f)
    has_dedup = run.has_stage("dedup")
    rows = [_snapshot_row(run, snap, by_snap.get(snap, []), written.get(snap, Written(0, 0)),
                          files_per_snapshot, captures_per_file) for snap in snapshots]
    keys = ("input_pages", "docs", "chars")
    sampled = {"snapshots": len(rows), **{k: _sum(rows, k) for k in keys}}
    s_tot = max(snapshots_total, len(rows))
    projected = {"snapshots": s_tot, "factor": s_tot / len(rows) if rows else 1.0,
                 **{k: _project(rows, k, snapshots_total) for k in keys}}
    notes = [] if has_dedup else ["this run has no dedup stage: its figures are before deduplication, Swallow's after"]
    if rows and s_tot > len(rows):
        notes.append(
            f"projection to {s_tot} snapshots: {len(rows)} sampled snapshot{'s' if len(rows) > 1 else ''} "
            + ("scaled up; the variation between snapshots cannot be estimated from one snapshot"
               if len(rows) < 2 else "scaled up; the interval adds the variation between the sampled snapshots "
               f"(t with {len(rows) - 1} degree{'s' if len(rows) > 2 else ''} of freedom)"))
    return {
        "snapshots": rows, "sampled": sampled, "projected": projected,
        "captures_per_file": captures_per_file, "snapshots_total": snapshots_total,
        "per_file_source": run.written_source or None, "deduplicated": has_dedup, "notes": notes,
    }
