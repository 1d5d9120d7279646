"""The statistics report: where every page and character of a corpus build went, stage by stage.

``jawebcorpus report OUT [OUT2 ...]`` reads what a run wrote under ``OUT/stats/``
(``stages.json``, ``details.json``, ``files.json``, ``run.json``), the example documents under
``OUT/samples/`` when there are any, and the per-file row counts of the Parquet output under
``OUT/data/`` (for the sampling error of the extrapolation), and renders

- :func:`render_text`: the funnel at 80 columns (several outputs side by side);
- :func:`build_report` → JSON (``--json``): the same numbers for machines;
- :func:`render_html`: one self-contained HTML page (inline CSS and SVG, nothing fetched).

Pure Python (the standard library; pyarrow only to read ``OUT/data`` when present); it does not
import Apache Beam.  ``docs/report.md`` explains how to read it.
"""

from __future__ import annotations

import gzip
import html
import json
import math
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field

from jawebcorpus.corpus.stats import LENGTH_EDGES, RATIO_BINS, STAGES, check_accounting

__all__ = [
    "ReportError", "RunStats", "load_run", "build_report", "render_text", "render_html", "report_json",
    "SWALLOW", "STAGE_ORDER", "estimate_total", "t95",
]

#: Pipeline order, including stages this version of the pipeline may not have yet (dedup).
STAGE_ORDER = ("read", "detect", "decode", "extract", "langid", "quality", "ngwords", "hosts", "clean",
               "dedup", "write")
#: Stages whose kept characters are in another unit than what they received (none → HTML → text).
CHAR_UNIT_CHANGES = frozenset({"read", "detect", "decode", "extract"})
#: Swallow's 21 quality rules in the reference's order (the pipeline's ``filters.quality.RULES``).
QUALITY_RULES = (
    "too_short", "dup_line_frac", "dup_sentence_frac", "dup_line_chars", "dup_sentence_chars",
    "top_2gram", "top_3gram", "top_4gram", "dup_5gram", "dup_6gram", "dup_7gram", "dup_8gram",
    "dup_9gram", "dup_10gram", "low_hiragana", "high_katakana", "low_japanese", "few_japanese_letters",
    "sentence_length", "long_sentence", "ellipsis_sentences",
)
HIST_KINDS = ("num_chars", "hiragana", "katakana", "kanji", "ascii", "lang_score")
HIST_TITLES = {
    "num_chars": "document length (characters)", "hiragana": "hiragana share", "katakana": "katakana share",
    "kanji": "kanji share", "ascii": "ASCII share", "lang_score": "language-ID score (probability of Japanese)",
}

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


class ReportError(Exception):
    """An output directory cannot be reported on (no statistics, unreadable JSON)."""


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


# ================================================================================================
# Loading one output directory
# ================================================================================================
@dataclass
class RunStats:
    """What one output directory holds (statistics, samples index, per-file written counts)."""

    path: str
    name: str
    run: dict
    stages: list[dict]
    details: list[dict]
    files: list[dict]
    samples: dict = field(default_factory=dict)      # (stage, reason) -> {"file", "count"}
    samples_dir: str | None = None
    written_per_file: dict | None = None              # (snapshot, warc_file) -> [docs, chars]
    written_source: str = ""                          # where written_per_file came from

    @property
    def preset(self) -> str:
        return str(self.run.get("preset") or (self.run.get("config") or {}).get("preset") or "?")

    @property
    def label(self) -> str:
        return f"{self.name} ({self.preset})"


def _read_json(path: str, default=None, required: bool = False):
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        if required:
            raise ReportError(f"{path} not found: is this the --output directory of a jawebcorpus run?") from None
        return default
    except (OSError, ValueError) as exc:
        raise ReportError(f"cannot read {path}: {exc}") from None


def _scan_samples(out: str) -> tuple[str | None, dict]:
    """``OUT/samples/<stage>/<reason>.jsonl`` → {(stage, reason): {"file", "count"}}."""
    root = os.path.join(out, "samples")
    if not os.path.isdir(root):
        return None, {}
    found = {}
    for stage in sorted(os.listdir(root)):
        sdir = os.path.join(root, stage)
        if not os.path.isdir(sdir):
            continue
        for name in sorted(os.listdir(sdir)):
            if not name.endswith(".jsonl") or name.startswith("."):
                continue
            path = os.path.join(sdir, name)
            reason = name[: -len(".jsonl")]
            count = 0
            try:
                with open(path, "rb") as fh:
                    for line in fh:
                        if line.strip():
                            if count == 0:
                                try:  # the file name may be a sanitised form of the reason
                                    first = json.loads(line)
                                    if isinstance(first, dict) and first.get("reason"):
                                        reason = str(first["reason"])
                                except ValueError:
                                    pass
                            count += 1
            except OSError:
                continue
            found[(stage, reason)] = {"file": path, "count": count}
    return root, found


def _written_from_files(files: list[dict]) -> dict | None:
    """Per-file written documents/characters, when files.json carries them."""
    for kd, kc in (("written_docs", "written_chars"), ("written", "written_chars"), ("kept_docs", "kept_chars")):
        if files and all(kd in f and kc in f for f in files):
            return {(f["snapshot"], f["warc_file"]): [int(f[kd] or 0), int(f[kc] or 0)] for f in files}
    return None


def _constant_column(md, schema, name: str):
    """The single value of a column according to the row-group statistics, or None."""
    idx = schema.get_field_index(name)
    if idx < 0:
        return None
    value = None
    for i in range(md.num_row_groups):
        st = md.row_group(i).column(idx).statistics
        if st is None or not st.has_min_max or st.min != st.max or (value is not None and st.min != value):
            return None
        if st.null_count:
            return None
        value = st.min
    return value


def _written_from_parquet(out: str) -> dict | None:
    """Per-file written documents/characters from the Parquet output (``warc_file``, ``num_chars``).

    A part file holds one WARC file's documents: its ``snapshot`` and ``warc_file`` are read from
    the row-group statistics and only ``num_chars`` is read; other files are grouped in full.
    """
    data = os.path.join(out, "data")
    if not os.path.isdir(data):
        return None
    try:
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the package
        return None
    result: dict = {}
    try:
        for root, dirs, names in os.walk(data):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for n in sorted(names):
                if not n.endswith(".parquet") or n.startswith("."):
                    continue
                pf = pq.ParquetFile(os.path.join(root, n))
                md, schema = pf.metadata, pf.schema_arrow
                if md.num_rows == 0:
                    continue
                snap, wf = _constant_column(md, schema, "snapshot"), _constant_column(md, schema, "warc_file")
                if snap is not None and wf is not None:
                    col = pf.read(columns=["num_chars"], use_threads=False).column(0)
                    v = result.setdefault((snap, wf), [0, 0])
                    v[0] += md.num_rows
                    v[1] += int(pc.sum(col).as_py() or 0)
                    continue
                t = pf.read(columns=["snapshot", "warc_file", "num_chars"])
                agg = t.group_by(["snapshot", "warc_file"]).aggregate([("num_chars", "count"), ("num_chars", "sum")])
                for s_, w_, c_, n_ in zip(agg.column("snapshot").to_pylist(), agg.column("warc_file").to_pylist(),
                                          agg.column("num_chars_count").to_pylist(),
                                          agg.column("num_chars_sum").to_pylist()):
                    v = result.setdefault((s_, w_), [0, 0])
                    v[0] += int(c_ or 0)
                    v[1] += int(n_ or 0)
    except Exception:  # a foreign or damaged file: no per-file figures rather than no report
        return None
    return result


def load_run(out: str, read_data: bool = True) -> RunStats:
    """Read an output directory of ``jawebcorpus run``."""
    out = os.path.normpath(out)
    stats = os.path.join(out, "stats")
    if not os.path.isdir(stats):
        raise ReportError(f"{out}: no stats/ directory: is this the --output directory of a jawebcorpus run?")
    stages = _read_json(os.path.join(stats, "stages.json"), required=True)
    details = _read_json(os.path.join(stats, "details.json"), default=[]) or []
    files = _read_json(os.path.join(stats, "files.json"), default=[]) or []
    run = _read_json(os.path.join(stats, "run.json"), default={}) or {}
    if not isinstance(stages, list):
        raise ReportError(f"{stats}/stages.json is not a list of rows")
    samples_dir, samples = _scan_samples(out)
    rs = RunStats(path=out, name=os.path.basename(os.path.abspath(out)) or out, run=run, stages=stages,
                  details=details, files=files, samples=samples, samples_dir=samples_dir)
    per = _written_from_files(files)
    if per is not None:
        rs.written_per_file, rs.written_source = per, "files.json"
    elif read_data:
        per = _written_from_parquet(out)
        if per is not None:
            rs.written_per_file, rs.written_source = per, "OUT/data (Parquet)"
    return rs


# ================================================================================================
# Building the report model (plain JSON-ready dicts)
# ================================================================================================
def _stage_order(run: RunStats) -> list[str]:
    order = [s for s in (run.run.get("stages") or []) if isinstance(s, str)]
    base = [s for s in STAGE_ORDER if s not in order]
    if not order:
        order = list(STAGE_ORDER)
        for s in STAGES:
            if s not in order:
                order.insert(order.index("write"), s)
    else:
        # Keep run.json's order; put known stages it does not list where they belong.
        for s in base:
            i = STAGE_ORDER.index(s)
            after = [o for o in order if o in STAGE_ORDER and STAGE_ORDER.index(o) < i]
            order.insert(order.index(after[-1]) + 1 if after else 0, s)
    seen = set(order)
    for r in run.stages:  # any unknown stage: just before write
        st = r.get("stage")
        if st not in seen:
            seen.add(st)
            order.insert(order.index("write") if "write" in order else len(order), st)
    return order


def _funnel(rows: list[dict], order: list[str], top: int) -> list[dict]:
    """The stage entries of one scope (a snapshot, or all): in, kept, dropped, errors, reasons."""
    per: dict[str, dict] = {}
    for r in rows:
        st = per.get(r["stage"])
        if st is None:
            st = per[r["stage"]] = {"stage": r["stage"], "in_docs": 0, "in_bytes": 0,
                                    "kept_docs": 0, "kept_chars": 0, "kept_bytes": 0,
                                    "dropped_docs": 0, "dropped_chars": 0, "error_docs": 0, "error_chars": 0,
                                    "_reasons": defaultdict(lambda: [0, 0, 0]), "_kept": defaultdict(lambda: [0, 0, 0]),
                                    "_in_chars": 0}
        d, c, b = int(r.get("docs") or 0), int(r.get("chars") or 0), int(r.get("bytes") or 0)
        st["in_docs"] += d
        st["in_bytes"] += b
        st["_in_chars"] += c
        outcome = r.get("outcome")
        if outcome == "kept":
            st["kept_docs"] += d
            st["kept_chars"] += c
            st["kept_bytes"] += b
            k = st["_kept"][r.get("reason", "")]
        else:
            outcome = "error" if outcome != "dropped" else "dropped"
            st[f"{outcome}_docs"] += d
            st[f"{outcome}_chars"] += c
            k = st["_reasons"][(outcome, r.get("reason", ""))]
        k[0] += d
        k[1] += c
        k[2] += b
    out = []
    prev = None
    for stage in order:
        st = per.get(stage)
        if st is None:
            continue
        st["in_chars"] = prev["kept_chars"] if prev is not None else st["_in_chars"]
        n_in = st["in_docs"]
        st["kept_share"] = st["kept_docs"] / n_in if n_in else None
        st["chars_share"] = (st["kept_chars"] / st["in_chars"]
                             if stage not in CHAR_UNIT_CHANGES and st["in_chars"] else None)
        reasons = sorted(((o, rs, v) for (o, rs), v in st["_reasons"].items()), key=lambda t: (-t[2][0], t[0], t[1]))
        st["reasons"] = [{"outcome": o, "reason": rs, "docs": v[0], "chars": v[1], "bytes": v[2],
                          "share": v[0] / n_in if n_in else None} for o, rs, v in reasons]
        st["top_reasons"] = st["reasons"][:top]
        st["kept_reasons"] = [{"reason": rs, "docs": v[0], "chars": v[1], "bytes": v[2]}
                              for rs, v in sorted(st["_kept"].items(), key=lambda t: (-t[1][0], t[0]))]
        for k in ("_reasons", "_kept", "_in_chars"):
            del st[k]
        out.append(st)
        prev = st
    return out


def _num_key(s: str):
    try:
        return (0, float(s), s)
    except (TypeError, ValueError):
        m = re.match(r"\D*(\d+(?:\.\d+)?)", str(s))
        return (1, float(m.group(1)), s) if m else (2, 0.0, str(s))


def _histograms(details: list[dict]) -> dict:
    acc: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in details:
        kind = r.get("kind", "")
        if kind.startswith("hist:") and r.get("stage") in ("write", "langid"):
            # the langid stage scores every document it sees (threshold included)
            name = kind[5:] if r.get("stage") == "write" else f"{kind[5:]}_scored"
            v = acc[name][str(r.get("name"))]
            v[0] += int(r.get("docs") or 0)
            v[1] += int(r.get("chars") or 0)
    out = {}
    for kind in list(HIST_KINDS) + sorted(k for k in acc if k not in HIST_KINDS):
        got = acc.get(kind)
        if kind == "num_chars":
            bins = [str(e) for e in LENGTH_EDGES]
        elif kind in HIST_KINDS or kind == "lang_score_scored":
            bins = [f"{i / RATIO_BINS:.2f}" for i in range(RATIO_BINS)]
        else:
            bins = []
        if got is None and kind != "num_chars" and kind not in HIST_KINDS:
            continue
        got = got or {}
        bins += [b for b in sorted(got, key=_num_key) if b not in bins]
        bins.sort(key=_num_key)
        out[kind] = {"bins": bins, "docs": [got.get(b, [0, 0])[0] for b in bins],
                     "chars": [got.get(b, [0, 0])[1] for b in bins], "total": sum(v[0] for v in got.values())}
    return out


def _details_by(details: list[dict], stage: str, kind: str | None = None) -> dict:
    """{(kind, name): [docs, chars, bytes]} summed over snapshots."""
    acc: dict = defaultdict(lambda: [0, 0, 0])
    for r in details:
        if r.get("stage") == stage and (kind is None or r.get("kind") == kind):
            v = acc[(r.get("kind"), r.get("name"))]
            v[0] += int(r.get("docs") or 0)
            v[1] += int(r.get("chars") or 0)
            v[2] += int(r.get("bytes") or 0)
    return acc


def _quality(run: RunStats, total_funnel: list[dict]) -> dict | None:
    st = next((s for s in total_funnel if s["stage"] == "quality"), None)
    if st is None:
        return None
    alone = {name: v for (_k, name), v in _details_by(run.details, "quality", "rule_fails").items()}
    first = {r["reason"]: r for r in st["reasons"] if r["outcome"] == "dropped"}
    disabled = set(((run.run.get("config") or {}).get("quality") or {}).get("disabled") or [])
    names = list(QUALITY_RULES) + sorted((set(alone) | set(first)) - set(QUALITY_RULES))
    n = st["in_docs"]
    rules = []
    for i, name in enumerate(names):
        a = alone.get(name, [0, 0, 0])
        f = first.get(name, {"docs": 0, "chars": 0})
        rules.append({"rule": name, "number": i + 1 if name in QUALITY_RULES else None,
                      "disabled": name in disabled,
                      "alone_docs": a[0], "alone_chars": a[1], "alone_share": a[0] / n if n else None,
                      "first_docs": f["docs"], "first_chars": f["chars"], "first_share": f["docs"] / n if n else None})
    return {"in_docs": n, "in_chars": st["in_chars"], "kept_docs": st["kept_docs"],
            "dropped_docs": st["dropped_docs"], "rules": rules, "has_rule_fails": bool(alone)}


def _ngwords(run: RunStats, total_funnel: list[dict]) -> dict | None:
    st = next((s for s in total_funnel if s["stage"] == "ngwords"), None)
    if st is None:
        return None
    det = _details_by(run.details, "ngwords")
    terms: dict[str, dict] = {}
    for (kind, name), v in det.items():
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
            "mode": ((run.run.get("config") or {}).get("ngwords") or {}).get("mode")}


def _dedup(run: RunStats, funnels: dict, snapshots: list[str]) -> dict | None:
    if not any(r.get("stage") == "dedup" for r in run.stages):
        return None
    per_snap = []
    for snap in snapshots:
        st = next((s for s in funnels[snap] if s["stage"] == "dedup"), None)
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
        if r.get("stage") != "dedup":
            continue
        kind, name, d = r.get("kind"), str(r.get("name")), int(r.get("docs") or 0)
        if kind == "cluster_size":
            clusters[name][0] += d
        elif kind == "cluster_docs":
            clusters[name][1] += d
        elif kind == "kept_copy_in":
            copies[(r.get("snapshot"), name)] += d
        else:
            other.append({"snapshot": r.get("snapshot"), "kind": kind, "name": name, "docs": d,
                          "chars": int(r.get("chars") or 0)})
    bins = sorted(clusters, key=_num_key)
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


def _other_details(run: RunStats) -> list[dict]:
    out = []
    for r in run.details:
        st, kind = r.get("stage"), r.get("kind", "")
        if st in ("quality", "ngwords", "dedup") or (st in ("write", "langid") and kind.startswith("hist:")):
            continue
        out.append(r)
    acc: dict = defaultdict(lambda: [0, 0, 0])
    for r in out:
        v = acc[(r.get("stage"), r.get("kind"), r.get("name"))]
        v[0] += int(r.get("docs") or 0)
        v[1] += int(r.get("chars") or 0)
        v[2] += int(r.get("bytes") or 0)
    order = {s: i for i, s in enumerate(STAGE_ORDER)}
    return [{"stage": k[0], "kind": k[1], "name": k[2], "docs": v[0], "chars": v[1], "bytes": v[2]}
            for k, v in sorted(acc.items(), key=lambda kv: (order.get(kv[0][0], 99), str(kv[0][1]), -kv[1][0]))]


# ---- extrapolation -----------------------------------------------------------------------------
def _listing_count(files: list[dict], snapshot: str) -> tuple[int | None, str | None]:
    """Files in ``crawl-data/<ID>/warc.paths.gz`` next to the local input files, if it exists."""
    tried = set()
    for f in files:
        path, rel = f.get("path") or "", (f.get("warc_file") or "").replace("\\", "/")
        if not path or "://" in path or not rel:
            continue
        p = path.replace("\\", "/")
        if not p.endswith(rel) or "crawl-data/" not in rel:
            continue
        root = p[: -len(rel)]
        listing = os.path.join(root or ".", "crawl-data", snapshot, "warc.paths.gz")
        if listing in tried:
            continue
        tried.add(listing)
        if os.path.isfile(listing):
            try:
                with gzip.open(listing, "rt", encoding="utf-8", errors="replace") as fh:
                    return sum(1 for line in fh if line.strip()), listing
            except (OSError, EOFError):
                continue
    return None, None


def estimate_total(ys: list[float], xs: list[float] | None, n_pop: float, x_per_unit: float | None = None) -> dict:
    """Scale a sample of files (the sampling unit) to a population of ``n_pop`` files.

    Without ``x_per_unit``: the mean-per-file estimator ``N·ȳ``, standard error
    ``N·√((1 − n/N)·s²/n)``.  With it: the ratio estimator ``(Σy/Σx)·N·x_per_unit`` (y per
    capture times the assumed captures of the population), standard error from the residuals
    ``y − R·x``.  The 95 % interval uses Student's t with n − 1 degrees of freedom; with one
    file it cannot be estimated (``half_width`` None).
    """
    n = len(ys)
    out = {"estimate": None, "se": None, "half_width": None, "low": None, "high": None, "rel_error": None}
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


def _extrapolation(run: RunStats, funnels: dict, snapshots: list[str], files_per_snapshot: int | None,
                   captures_per_file: int, snapshots_total: int) -> dict:
    by_snap: dict[str, list[dict]] = defaultdict(list)
    for f in run.files:
        by_snap[f.get("snapshot") or "?"].append(f)
    has_dedup = any(r.get("stage") == "dedup" for r in run.stages)
    per = run.written_per_file
    rows = []
    for snap in snapshots:
        files = by_snap.get(snap, [])
        wr = next((s for s in funnels.get(snap, []) if s["stage"] == "write"), None)
        docs_w = wr["kept_docs"] if wr else 0
        chars_w = wr["kept_chars"] if wr else 0
        n = len(files)
        captures = [int(f.get("responses") or 0) for f in files]
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
        failed = sum(1 for f in files if f.get("status") != "ok")
        if failed:
            notes.append(f"{failed} of {n} files failed part-way: their captures count as read")
        if n == 0:
            none = {"estimate": None, "se": None, "half_width": None, "low": None, "high": None, "rel_error": None}
            rows.append({
                "snapshot": snap, "files_read": 0, "files_failed": 0, "files_in_snapshot": n_pop,
                "files_source": n_src, "listing": None, "method": "none", "captures_read": 0,
                "docs_written": docs_w, "chars_written": chars_w, "input_pages": dict(none), "docs": dict(none),
                "chars": dict(none), "notes": [],
                "error_note": "no files.json entries for this snapshot: it cannot be extrapolated"})
            continue
        # Per-file written figures (the sampling unit); without them, only the point estimate.
        if per is not None:
            ys_d = [per.get((snap, f.get("warc_file")), [0, 0])[0] for f in files]
            ys_c = [per.get((snap, f.get("warc_file")), [0, 0])[1] for f in files]
            if sum(ys_d) != docs_w or sum(ys_c) != chars_w:
                notes.append(f"per-file counts from {run.written_source} ({sum(ys_d):,} documents, "
                             f"{sum(ys_c):,} characters) differ from stages.json ({docs_w:,}, {chars_w:,})")
            per_file_ok = True
        else:
            ys_d = [docs_w / n] * n if n else []
            ys_c = [chars_w / n] * n if n else []
            per_file_ok = False
        xpu = captures_per_file if method == "per capture" else None
        est_in = (estimate_total(captures, captures, n_pop) if method != "per capture"
                  else {"estimate": float(n_pop * captures_per_file), "se": None, "half_width": None,
                        "low": None, "high": None, "rel_error": None})
        est_d = estimate_total(ys_d, captures, n_pop, xpu)
        est_c = estimate_total(ys_c, captures, n_pop, xpu)
        if not per_file_ok and not census:
            for e in (est_d, est_c):
                e.update(se=None, half_width=None, low=None, high=None, rel_error=None)
        if census:
            error_note = "all files of the snapshot's listing were read: no sampling error"
        elif not per_file_ok:
            error_note = ("sampling error unknown: per-file written counts need OUT/data (Parquet) "
                          "or per-file counts in files.json")
        elif n < 2:
            error_note = "one file read: the sampling error cannot be estimated"
        else:
            error_note = f"95 % interval from {n} files (t with {n - 1} degree{'s' if n > 2 else ''} of freedom)"
        rows.append({
            "snapshot": snap, "files_read": n, "files_failed": failed, "files_in_snapshot": n_pop,
            "files_source": n_src, "listing": listing, "method": method,
            "captures_read": sum(captures), "docs_written": docs_w, "chars_written": chars_w,
            "input_pages": est_in, "docs": est_d, "chars": est_c, "error_note": error_note, "notes": notes,
        })
    # All sampled snapshots (independent samples: variances add), then projected to
    # ``snapshots_total`` snapshots, the sampled snapshots being a sample of those (two-stage).
    unknown = {"estimate": None, "se": None, "half_width": None, "low": None, "high": None, "rel_error": None}

    def _sum(key):
        if not rows or any(r[key]["estimate"] is None for r in rows):
            return dict(unknown)
        est = sum(r[key]["estimate"] or 0 for r in rows)
        hws = [r[key]["half_width"] for r in rows]
        hw = math.sqrt(sum(h * h for h in hws)) if rows and all(h is not None for h in hws) else None
        out = _interval(est, hw)
        if rows and all(r[key].get("exact") for r in rows):
            out["exact"] = True
        return out

    def _project(key):
        if not rows or any(r[key]["estimate"] is None for r in rows):
            return dict(unknown)
        s_n, s_tot = len(rows), max(snapshots_total, len(rows))
        vals = [r[key]["estimate"] or 0 for r in rows]
        est = s_tot * sum(vals) / s_n if s_n else 0.0
        hws = [r[key]["half_width"] for r in rows]
        if s_n == s_tot:
            return _sum(key)
        if s_n < 2 or any(h is None for h in hws):
            return _interval(est, None)
        mean = sum(vals) / s_n
        between = s_tot * math.sqrt((1 - s_n / s_tot) * sum((v - mean) ** 2 for v in vals) / (s_n - 1) / s_n)
        within2 = (s_tot / s_n) * sum(h * h for h in hws)
        return _interval(est, math.sqrt((t95(s_n - 1) * between) ** 2 + within2))

    sampled = {"snapshots": len(rows), "input_pages": _sum("input_pages"), "docs": _sum("docs"), "chars": _sum("chars")}
    s_tot = max(snapshots_total, len(rows))
    projected = {"snapshots": s_tot, "factor": s_tot / len(rows) if rows else 1.0,
                 "input_pages": _project("input_pages"), "docs": _project("docs"), "chars": _project("chars")}
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


def _interval(est: float, hw: float | None) -> dict:
    return {"estimate": est, "se": None if hw is None else hw / 1.96, "half_width": hw,
            "low": None if hw is None else max(0.0, est - hw), "high": None if hw is None else est + hw,
            "rel_error": (hw / est if est else None) if hw is not None else None}


def _stats_checks(run: RunStats, funnels: dict, snapshots: list[str]) -> list[str]:
    """Cross-checks between stages.json, details.json, files.json and OUT/data (empty when consistent)."""
    out = []
    det: dict = defaultdict(lambda: defaultdict(int))
    for r in run.details:
        det[r.get("snapshot")][(r.get("stage"), r.get("kind"), r.get("name"))] += int(r.get("docs") or 0)
    files: dict = defaultdict(lambda: [0, 0])
    for f in run.files:
        v = files[f.get("snapshot")]
        v[0] += int(f.get("records") or 0)
        v[1] += int(f.get("pages") or 0)
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
        for (stage, kind, name), n in d.items():
            if stage == "dedup" and kind == "not_converged" and n:
                out.append(f"{snap}: dedup clustering did not converge ({name}: {n:,})")
        rd = by.get("read")
        if rd and snap in files and run.files:
            rec, pages = files[snap]
            if rec != rd["in_docs"]:
                out.append(f"{snap}: files.json counts {rec:,} records, stages.json read {rd['in_docs']:,}")
            if pages != rd["kept_docs"]:
                out.append(f"{snap}: files.json counts {pages:,} HTML pages, stages.json read kept {rd['kept_docs']:,}")
    return out


def _config_flat(d, prefix="") -> dict:
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_config_flat(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def _run_model(run: RunStats, top: int, files_per_snapshot, captures_per_file, snapshots_total) -> dict:
    order = _stage_order(run)
    snapshots = sorted({r.get("snapshot", "?") for r in run.stages} | {f.get("snapshot", "?") for f in run.files})
    funnels = {snap: _funnel([r for r in run.stages if r.get("snapshot") == snap], order, top) for snap in snapshots}
    total = _funnel(run.stages, order, top)
    stages_present = [s["stage"] for s in total]
    files_ok = sum(1 for f in run.files if f.get("status") == "ok")
    failed = [f for f in run.files if f.get("status") != "ok"]
    captures = sum(int(f.get("responses") or 0) for f in run.files)
    written = next((s for s in total if s["stage"] == "write"), None)
    problems = check_accounting(run.stages, order)
    if written is None and run.stages:
        problems.append("no write rows: nothing was written")
    sample_list = [{"stage": st, "reason": rs, "file": v["file"], "count": v["count"]}
                   for (st, rs), v in sorted(run.samples.items(), key=lambda kv: (
                       STAGE_ORDER.index(kv[0][0]) if kv[0][0] in STAGE_ORDER else 99, kv[0][1]))]
    cfg = run.run.get("config") or {}
    return {
        "dir": run.path,
        "name": run.name,
        "label": run.label,
        "preset": run.preset,
        "fingerprint": run.run.get("fingerprint"),
        "until": run.run.get("until"),
        "runner": run.run.get("runner"),
        "seconds": run.run.get("seconds"),
        "started": run.run.get("started"),
        "versions": run.run.get("versions") or {},
        "command": run.run.get("command"),
        "config": cfg,
        "stages": stages_present,
        "snapshot_ids": snapshots,
        "files": {"total": len(run.files), "ok": files_ok, "failed": len(failed),
                  "records": sum(int(f.get("records") or 0) for f in run.files),
                  "captures": captures, "pages": sum(int(f.get("pages") or 0) for f in run.files),
                  "failed_list": [{k: f.get(k) for k in ("path", "snapshot", "error", "message", "records")}
                                  for f in failed[:200]]},
        "written": {"docs": written["kept_docs"] if written else 0, "chars": written["kept_chars"] if written else 0,
                    "share_of_captures": (written["kept_docs"] / captures) if written and captures else None,
                    "per_snapshot": {snap: next(({"docs": s["kept_docs"], "chars": s["kept_chars"]}
                                                 for s in funnels[snap] if s["stage"] == "write"),
                                                {"docs": 0, "chars": 0}) for snap in snapshots}},
        "funnel": {"total": total, "snapshots": funnels},
        "quality": _quality(run, total),
        "ngwords": _ngwords(run, total),
        "histograms": _histograms(run.details),
        "dedup": _dedup(run, funnels, snapshots),
        "other_details": _other_details(run),
        "samples": {"dir": run.samples_dir, "reasons": sample_list,
                    "documents": sum(s["count"] for s in sample_list)},
        "extrapolation": _extrapolation(run, funnels, snapshots, files_per_snapshot, captures_per_file,
                                        snapshots_total),
        "accounting_problems": problems,
        "stats_warnings": _stats_checks(run, funnels, snapshots),
    }


def build_report(runs: list[RunStats], *, top: int = 3, files_per_snapshot: int | None = None,
                 captures_per_file: int = SWALLOW["captures_per_file"],
                 snapshots_total: int = SWALLOW["snapshots"]) -> dict:
    """The report as plain JSON-ready data (what ``--json`` prints)."""
    if not runs:
        raise ReportError("no output directory given")
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


def report_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=1) + "\n"


# ================================================================================================
# Number formatting
# ================================================================================================
def fmt_int(n) -> str:
    return "–" if n is None else f"{int(round(n)):,}"


def fmt_si(n, digits: int = 3) -> str:
    """1234 → '1.23 k', 63.4e9 → '63.4 B' (B = billion, as in the reference)."""
    if n is None:
        return "–"
    n = float(n)
    a = abs(n)
    if a < 1000:
        return f"{n:,.0f}"
    for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= div * 0.9995:
            v = n / div
            dec = max(0, digits - len(str(int(abs(v)))))
            s = f"{v:.{dec}f}"
            if float(s) >= 1000 and unit != "T":  # 999.96 k → 1.00 M
                continue
            return f"{s} {unit}"
    return f"{n:,.0f}"


def fmt_short(n) -> str:
    """At most 6 characters: 9,999 · 12.3k · 123k · 1.23M · 12.3B."""
    if n is None:
        return "–"
    n = int(round(n))
    if n < 10000:
        return f"{n:,}"
    for div, unit in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            v = n / div
            s = f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"
            if float(s) >= 1000 and unit != "T":
                continue
            return f"{s}{unit}"
    return str(n)


def fmt_pct(x, whole: bool | None = None) -> str:
    """A share as a percentage that never rounds to 0 % or 100 % unless it is exactly that."""
    if x is None:
        return "–"
    if x <= 0:
        return "0%"
    if x >= 1:
        return "100%"
    p = x * 100
    if p < 0.01:
        return "<0.01%"
    if p < 1:
        s = f"{p:.2f}"
    else:
        s = f"{p:.1f}"
    if float(s) >= 100:
        s = "99.9"
    if float(s) <= 0:
        s = "0.01"
    return f"{s}%"


def _bar(x, width: int = 10) -> str:
    if x is None:
        return " " * width
    x = min(max(x, 0.0), 1.0)
    eighths = int(round(x * width * 8))
    if x > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    s = "█" * full + ("" if part == 0 else "▏▎▍▌▋▊▉"[part - 1])
    return s + "░" * (width - len(s))


def _fit(s: str, width: int) -> str:
    return s if len(s) <= width else s[: max(0, width - 1)] + "…"


def _stage_label(stage: str) -> str:
    return "written" if stage == "write" else stage


# ================================================================================================
# Terminal
# ================================================================================================
def _reason_rows(st: dict, top: int) -> list[dict]:
    """The stage's ``top`` largest drop/error reasons, and one row summing the rest."""
    rs = st["reasons"]
    rows = list(rs[:top])
    rest = rs[top:]
    if rest:
        d = sum(r["docs"] for r in rest)
        n = st["in_docs"]
        rows.append({"outcome": "dropped", "reason": f"+{len(rest)} more", "docs": d,
                     "chars": sum(r["chars"] for r in rest), "share": d / n if n else None, "more": True})
    return rows


def _chars_cell(stage: str, chars) -> str:
    return "–" if stage in ("read", "detect") and not chars else fmt_si(chars)


def _funnel_block(model: dict, scope: str, width: int, top: int) -> list[str]:
    stages = model["funnel"]["total"] if scope == "total" else model["funnel"]["snapshots"][scope]
    lines = [f"{'stage':<8} {'docs in':>11}   {'docs out':>11} {'kept':>6} {'':10} {'chars out':>10} {'kept':>6}"]
    for st in stages:
        name = _stage_label(st["stage"])
        chars = _chars_cell(st["stage"], st["kept_chars"])
        if st["stage"] == "write" and not st["dropped_docs"] and not st["error_docs"]:
            lines.append(f"{name:<8} {'':>11}   {fmt_int(st['kept_docs']):>11} {'':>6} {'':10} {chars:>10}")
            continue
        lines.append(
            f"{name:<8} {fmt_int(st['in_docs']):>11} → {fmt_int(st['kept_docs']):>11} "
            f"{fmt_pct(st['kept_share']):>6} {_bar(st['kept_share'])} {chars:>10} {fmt_pct(st['chars_share']):>6}"
            .rstrip())
        for r in _reason_rows(st, top):
            mark = "!" if r["outcome"] == "error" else "-"
            rc = _chars_cell(st["stage"], r["chars"])
            lines.append(f"  {mark} {_fit(r['reason'], 18):<18} {fmt_int(r['docs']):>11} {fmt_pct(r['share']):>6} "
                         f"{'':10} {rc:>10}".rstrip())
    return lines


def _side_by_side_block(models: list[dict], scope: str, width: int, top: int) -> list[str]:
    """One funnel, several runs in columns: stages and, under each, the union of their top reasons."""
    lab, colw = 24, 28
    lines = [" " * lab + "".join(_fit(f"{m['key']}: {m['label']}", colw - 2).ljust(colw) for m in models).rstrip()]
    lines.append(f"{'stage':<{lab}}" + "".join(f"{'docs out':>10} {'kept':>6} {'chars':>8}  " for _ in models).rstrip())
    per_model = []
    for m in models:
        stages = m["funnel"]["total"] if scope == "total" else m["funnel"]["snapshots"].get(scope, [])
        per_model.append({s["stage"]: s for s in stages})
    order = []
    for stg in per_model:
        for s in stg:
            if s not in order:
                order.append(s)
    order.sort(key=lambda s: STAGE_ORDER.index(s) if s in STAGE_ORDER else STAGE_ORDER.index("write") - 0.5)
    for stage in order:
        cells = []
        for stg in per_model:
            st = stg.get(stage)
            if st is None:
                cells.append(f"{'–':>10} {'':>6} {'':>8}  ")
                continue
            share = "" if stage == "write" and not st["dropped_docs"] else fmt_pct(st["kept_share"])
            cells.append(f"{fmt_int(st['kept_docs']):>10} {share:>6} {_chars_cell(stage, st['kept_chars']):>8}  ")
        lines.append((f"{_stage_label(stage):<{lab}}" + "".join(cells)).rstrip())
        # Reasons: the union of each run's top reasons, largest first.
        best: dict[tuple, int] = {}
        for stg in per_model:
            st = stg.get(stage)
            for r in (st["reasons"][:top] if st else []):
                k = (r["outcome"], r["reason"])
                best[k] = max(best.get(k, 0), r["docs"])
        for (outcome, reason), _d in sorted(best.items(), key=lambda kv: (-kv[1], kv[0])):
            cells = []
            for m, stg in zip(models, per_model):
                st = stg.get(stage)
                r = next((x for x in st["reasons"] if (x["outcome"], x["reason"]) == (outcome, reason)), None) \
                    if st else None
                if r is None:
                    off = stage == "quality" and reason in (((m.get("config") or {}).get("quality") or {})
                                                            .get("disabled") or [])
                    cells.append(f"{'off' if off else '0' if st else '–':>10} {'':>6} {'':>8}  ")
                else:
                    cells.append(f"{fmt_int(r['docs']):>10} {fmt_pct(r['share']):>6} "
                                 f"{_chars_cell(stage, r['chars']):>8}  ")
            mark = "!" if outcome == "error" else "-"
            lines.append((f"  {mark} {_fit(reason, lab - 4):<{lab - 4}}" + "".join(cells)).rstrip())
    return lines


def _snapshot_matrix(model: dict, measure: str, width: int = 80) -> list[str]:
    """Snapshots × stages: documents (or characters) leaving each stage; first column = read in.

    Columns that do not fit in ``width`` continue in a second block below.
    """
    stages = [s["stage"] for s in model["funnel"]["total"]]
    if measure == "chars":  # no characters before decode
        stages = [s for s in stages if s not in ("read", "detect")]
    cols = ([("read in", None)] if measure == "docs" else []) + [(_stage_label(s)[:7], s) for s in stages]
    lab, cw = 8, 8
    per_block = max(1, (width - lab) // cw)
    snaps = model["snapshot_ids"] + ["total"]
    rows = []
    for snap in snaps:
        fun = model["funnel"]["total"] if snap == "total" else model["funnel"]["snapshots"].get(snap, [])
        by = {s["stage"]: s for s in fun}
        vals = []
        for name, st in cols:
            if st is None:
                vals.append(fmt_short(fun[0]["in_docs"]) if fun else "–")
            else:
                s = by.get(st)
                vals.append("–" if s is None else fmt_short(s["kept_docs"] if measure == "docs" else s["kept_chars"]))
        label = "total" if snap == "total" else re.sub(r"^CC-MAIN-", "", snap)
        rows.append((_fit(label, lab - 1), vals))
    lines = []
    for b in range(0, len(cols), per_block):
        if b:
            lines.append("")
        names = [c[0] for c in cols[b:b + per_block]]
        lines.append(f"{'snapshot':<{lab}}" + "".join(f"{n:>{cw}}" for n in names))
        for label, vals in rows:
            lines.append(f"{label:<{lab}}" + "".join(f"{v:>{cw}}" for v in vals[b:b + per_block]))
    return lines


def _est_text(d: dict, interval: bool = True) -> str:
    if d["estimate"] is None:
        return "–"
    s = fmt_si(d["estimate"])
    if not interval:
        return s
    if d["half_width"] is None:
        return s + " ±?"
    if d["half_width"] == 0 and d.get("exact"):
        return s + " exact"
    r = d["rel_error"] or 0
    return s + (f" ±{r * 100:.0f}%" if r >= 0.01 else " ±<1%")


def _extrap_lines(model: dict, sw: dict, width: int) -> list[str]:
    ex = model["extrapolation"]
    lines = [f"{'snapshot':<16}{'files read':>15} {'input pages':>11} {'documents':>16} {'characters':>16}"]
    for r in ex["snapshots"]:
        src = {"listing": "L", "assumed": "A", "--files-per-snapshot": "F"}[r["files_source"]]
        files = f"{fmt_short(r['files_read'])}/{fmt_short(r['files_in_snapshot'])} {src}"
        lines.append(f"{_fit(r['snapshot'], 15):<16}{files:>15} {_est_text(r['input_pages'], False):>11} "
                     f"{_est_text(r['docs']):>16} {_est_text(r['chars']):>16}")
    sa, pr = ex["sampled"], ex["projected"]
    lines.append(f"{'sampled (' + str(sa['snapshots']) + ')':<16}{'':>15} {_est_text(sa['input_pages'], False):>11} "
                 f"{_est_text(sa['docs']):>16} {_est_text(sa['chars']):>16}")
    if pr["factor"] > 1:
        lines.append(f"{'all ' + str(pr['snapshots']) + ' (proj.)':<16}{'':>15} "
                     f"{_est_text(pr['input_pages'], False):>11} {_est_text(pr['docs']):>16} "
                     f"{_est_text(pr['chars']):>16}")
    lines.append(f"{'Swallow (21)':<16}{'':>15} {fmt_si(sw['input_pages']):>11} "
                 f"{fmt_si(sw['output_pages']):>16} {fmt_si(sw['output_chars']):>16}")
    kept = pr["docs"]["estimate"] / pr["input_pages"]["estimate"] if pr["input_pages"]["estimate"] else None
    cpd = pr["chars"]["estimate"] / pr["docs"]["estimate"] if pr["docs"]["estimate"] else None
    lines.extend(_wrap(f"kept {fmt_pct(kept)} of input pages, {fmt_int(cpd)} characters a document "
                       f"(Swallow: {fmt_pct(sw['kept_share'])}, ≈ {sw['chars_per_page']:,})", width))
    methods = sorted({r["method"] for r in ex["snapshots"]})
    lines.extend(_wrap(f"files in snapshot: L = its warc.paths.gz, A = assumed {SWALLOW['files_per_snapshot']:,}, "
                       f"F = --files-per-snapshot; ± = 95 % interval; scaled: {', '.join(methods)}", width, "  "))
    notes = []
    seen = set()
    for r in ex["snapshots"]:
        for t in [r["error_note"]] + r["notes"]:
            if t not in seen:
                seen.add(t)
                notes.append(t)
    notes += ex["notes"]
    for t in notes:
        lines.extend(_wrap(f"· {t}", width, "  "))
    return [_fit(x, width) for x in lines]


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Word-wrap to ``width``; continuation lines start with ``indent``; leading spaces are kept."""
    lead = text[: len(text) - len(text.lstrip(" "))]
    words = text.lstrip(" ").split(" ")
    lines, cur = [], lead
    for w in words:
        cand = f"{cur} {w}" if cur.strip() else cur + w
        if len(cand) > width and cur.strip():
            lines.append(cur)
            cur = indent + w
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return [_fit(x, width) for x in lines]


def render_text(report: dict, width: int = 80, per_snapshot: bool = False, html_path: str | None = None) -> str:
    """The terminal report; every line at most ``width`` characters."""
    models = report["runs"]
    top = report["options"]["top"]
    L: list[str] = []

    def rule(title: str):
        L.append("")
        L.append(_fit(f"── {title} " + "─" * max(0, width - len(title) - 4), width))

    L.append(_fit("jawebcorpus report: where every page and character went", width))
    for m in models:
        f = m["files"]
        fp = m["fingerprint"] or "?"
        L.extend(_wrap(f"{m['key']}: {m['dir']} · preset {m['preset']} · fingerprint {fp}", width, "   "))
        L.extend("   " + x for x in _wrap(
            f"{len(m['snapshot_ids'])} snapshots · {fmt_int(f['total'])} WARC files "
            f"({fmt_int(f['failed'])} failed) · {fmt_int(f['records'])} records · "
            f"{fmt_int(f['captures'])} captures → {fmt_int(m['written']['docs'])} documents "
            f"({fmt_pct(m['written']['share_of_captures'])} of captures), "
            f"{fmt_si(m['written']['chars'])} characters written", width - 3, ""))
        for p in m["accounting_problems"]:
            L.extend(_wrap(f"   ! accounting: {p}", width, "     "))
        for p in m["stats_warnings"][:5]:
            L.extend(_wrap(f"   ! statistics: {p}", width, "     "))
        if len(m["stats_warnings"]) > 5:
            L.append(f"   ! … and {len(m['stats_warnings']) - 5} more (see --json: stats_warnings)")
        for fl in f["failed_list"][:5]:
            name = os.path.basename(str(fl["path"] or ""))
            L.extend(_wrap(f"   ! failed file: {fl['snapshot']} {name}: {fl['error']}", width, "     "))
        if f["failed"] > 5:
            L.append(f"   ! … and {f['failed'] - 5} more failed files (see stats/files.json)")
    if report["config_differences"]:
        rule("settings that differ")
        for d in report["config_differences"][:12]:
            vals = " | ".join(f"{m['key']} {json.dumps(v, ensure_ascii=False)}" for m, v in zip(models, d["values"]))
            L.extend(_wrap(f"{d['setting']}: {vals}", width, "    "))
        if len(report["config_differences"]) > 12:
            L.append(f"… {len(report['config_differences']) - 12} more (see --json)")

    groups = [models] if len(models) == 1 else [models[i:i + 2] for i in range(0, len(models), 2)]
    scopes = ["total"]
    all_snaps = []
    for m in models:
        all_snaps += [s for s in m["snapshot_ids"] if s not in all_snaps]
    if per_snapshot:
        scopes += all_snaps
    for scope in scopes:
        title = "funnel, all snapshots" if scope == "total" else f"funnel, {scope}"
        for g in groups:
            rule(title + ("" if len(models) == 1 else f" ({', '.join(m['key'] for m in g)})"))
            if len(models) == 1:
                L.extend(_funnel_block(g[0], scope, width, top))
            else:
                L.extend(_side_by_side_block(g, scope, width, top))
    if len(models) == 1:
        L.extend(_wrap("kept = share of the documents entering the stage; characters are HTML at "
                       "decode, text from extract on; - = dropped, ! = error; k, M, B = thousand, million, "
                       "billion", width))
    for m in models:
        tag = "" if len(models) == 1 else f" ({m['key']})"
        rule(f"documents leaving each stage, per snapshot{tag}")
        L.extend(_snapshot_matrix(m, "docs"))
        rule(f"characters leaving each stage, per snapshot{tag}")
        L.extend(_snapshot_matrix(m, "chars"))
    for m in models:
        rule("extrapolation to whole snapshots" + ("" if len(models) == 1 else f" ({m['key']})"))
        L.extend(_extrap_lines(m, report["swallow"], width))
    rule("examples of dropped documents")
    for m in models:
        s = m["samples"]
        tag = "" if len(models) == 1 else f"{m['key']}: "
        if s["dir"]:
            L.extend(_wrap(f"{tag}{s['dir']}/<stage>/<reason>.jsonl: {fmt_int(s['documents'])} documents, "
                           f"{len(s['reasons'])} reasons", width, "  "))
        else:
            L.extend(_wrap(f"{tag}none (run with --samples-per-reason N to keep examples)", width, "  "))
    if html_path:
        L.append("")
        L.extend(_wrap(f"HTML report: {html_path}", width))
    return "\n".join(_fit(x.rstrip(), width) for x in L) + "\n"


# ================================================================================================
# HTML
# ================================================================================================
PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#805ad5", "#c53030", "#319795", "#b7791f", "#d53f8c")
KEPT, DROP, ERR, MUTED = "#2b6cb0", "#e53e3e", "#805ad5", "#a0aec0"

CSS = """
:root{--fg:#1a202c;--muted:#4a5568;--line:#e2e8f0;--bg:#f7fafc;--kept:#2b6cb0;--drop:#e53e3e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK JP","Noto Sans JP",
"Hiragino Sans","Yu Gothic","Meiryo","IPAGothic","IPAPGothic",sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1a365d;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#cbd5e0}
main{padding:8px 28px 40px;max-width:1800px}
section{margin-top:22px}
h2{font-size:18px;border-bottom:2px solid #1a365d;padding-bottom:4px;margin:0 0 6px}
h3{font-size:15px;margin:0 0 6px}
p.note{color:var(--muted);margin:4px 0 10px;max-width:1100px}
.panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:14px}
.panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
.panel h3 .key{display:inline-block;background:#1a365d;color:#fff;border-radius:4px;padding:0 6px;margin-right:6px}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px}
.pair{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:0 22px;align-items:start}
nav{padding:8px 28px;background:#2a4365;font-size:13px}
nav a{color:#e2e8f0;text-decoration:none}
.duo{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:14px;align-items:start}
svg{width:100%;height:auto;display:block}
svg text{font-family:inherit}
table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}
th,td{padding:3px 6px;border-bottom:1px solid var(--line);text-align:right;vertical-align:top}
td{white-space:nowrap}
td.l{white-space:normal}
td.k{text-align:left}
td.note{white-space:normal;min-width:220px;text-align:left;font-size:12px;color:var(--muted)}
td.nw{white-space:nowrap}
.panels.wide{grid-template-columns:minmax(0,1fr)}
th{background:#edf2f7;font-weight:600}
td.l,th.l{text-align:left}
tr.sum td{font-weight:600;background:#f7fafc}
.pill{display:inline-block;border-radius:9px;padding:0 7px;font-size:12px;background:#edf2f7;color:#2d3748}
.pill.warn{background:#fed7d7;color:#742a2a}
.pill.ok{background:#c6f6d5;color:#22543d}
.small{font-size:12px;color:var(--muted)}
details{margin:6px 0}
summary{cursor:pointer;color:#2c5282}
.sample{border-left:3px solid #cbd5e0;padding:4px 8px;margin:6px 0;background:#f7fafc;white-space:pre-wrap;
word-break:break-all;font-size:12px;max-height:220px;overflow:auto}
.warn{color:#c53030}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;border-radius:2px}
.empty{color:var(--muted);font-style:italic;padding:10px 0}
.scroll{overflow-x:auto}
"""


def _e(s) -> str:
    return html.escape("" if s is None else str(s), quote=True)


def _legend(items) -> str:
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{_e(n)}</span>' for n, c in items) + "</div>"


def _ticks(xmax: float, n: int = 5, integer: bool = False) -> list[float]:
    """Round tick values 0 … ≥ xmax (steps of 1, 2, 2.5 or 5 × 10^k; whole numbers for counts)."""
    if xmax <= 0:
        return [0.0]
    raw = xmax / n
    k = math.floor(math.log10(raw))
    steps = (1, 2, 5, 10) if integer else (1, 2, 2.5, 5, 10)
    step = next(m * 10 ** k for m in steps if m * 10 ** k >= raw * 0.999)
    if integer:
        step = max(1.0, step)
    out, v = [0.0], 0.0
    while v < xmax * 0.9999:
        v = round(v + step, 12)
        out.append(v)
    return out


def _svg_open(width: int, height: int) -> str:
    # Drawn at most ~1.3× its design size, so text stays legible and never balloons in wide panels.
    return (f'<svg viewBox="0 0 {width} {height}" role="img" '
            f'style="max-width:{int(width * 1.3)}px">')


def svg_hbars(rows: list[tuple], series: list[tuple[str, str]], xmax: float, *, log: bool = False,
              width: int = 560, label_w: int = 150, bar_h: int = 13, gap: int = 7, note_w: int = 120,
              ticks: bool = True, fmt=fmt_pct, overlay: bool = False) -> str:
    """Horizontal bars: rows = (label, [value per series], annotation, title); shared ``xmax``.

    ``overlay``: the series are drawn on top of each other (the first one behind), not grouped.
    """
    n_series = 1 if overlay else len(series)
    row_h = n_series * bar_h + gap
    top = 18 if ticks else 2
    height = top + len(rows) * row_h + 4
    plot_w = width - label_w - note_w - 8

    def scale(v):
        if v is None or v <= 0 or xmax <= 0:
            return 0.0
        if log:
            return max(0.0, min(1.0, math.log10(v + 1) / math.log10(xmax + 1)))
        return min(1.0, v / xmax)

    if ticks and xmax > 0 and not log:
        xmax = _ticks(xmax)[-1]
    out = [_svg_open(width, height)]
    x0 = label_w
    if ticks and xmax > 0:
        if log:
            tv = [10 ** k for k in range(0, int(math.log10(xmax + 1)) + 1)]
            if len(tv) > 7:
                tv = tv[::2]
        else:
            tv = _ticks(xmax)
        for v in tv:
            x = x0 + scale(v) * plot_w if v else x0
            out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 2}" stroke="#edf2f7"/>')
            out.append(f'<text x="{x:.1f}" y="{top - 7}" font-size="10" fill="#718096" text-anchor="middle">'
                       f'{_e(fmt(v))}</text>')
    for i, row in enumerate(rows):
        label, values, note = row[0], row[1], row[2]
        title = row[3] if len(row) > 3 else None
        y = top + i * row_h
        ty = y + n_series * bar_h / 2 + 4
        out.append(f'<text x="{label_w - 6}" y="{ty:.1f}" font-size="12" text-anchor="end" fill="#2d3748">'
                   f'{_e(_fit(str(label), 24))}</text>')
        maxx = x0
        for j, ((sname, color), v) in enumerate(zip(series, values)):
            w = scale(v) * plot_w
            if v and w < 1.5:
                w = 1.5
            by = y + (0 if overlay else j * bar_h)
            tip = f"<title>{_e(label)} · {_e(sname)}: {_e(fmt(v))}</title>" if v is not None else ""
            out.append(f'<rect x="{x0}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}" rx="2">{tip}</rect>')
            maxx = max(maxx, x0 + w)
        if note:
            out.append(f'<text x="{maxx + 5:.1f}" y="{ty:.1f}" font-size="11" fill="#4a5568">{_e(note)}</text>')
        if title:
            out.append(f"<title>{_e(title)}</title>")
    out.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{height - 2}" stroke="#a0aec0"/>')
    out.append("</svg>")
    return "".join(out)


def svg_hist(labels: list[str], values: list[float], ymax: float, *, color: str = KEPT, width: int = 300,
             height: int = 150, title: str = "", xlabels_every: int = 4, yfmt=fmt_short,
             mark_from: float | None = None) -> str:
    """Vertical bars with a shared y maximum (for side-by-side comparison)."""
    left, bottom, top = 40, 24, 30 if title else 8
    pw, ph = width - left - 8, height - bottom - top
    yt = _ticks(ymax, 3, integer=True) if ymax > 0 else [0.0]
    ymax = yt[-1] if yt[-1] > 0 else 1.0
    n = max(1, len(values))
    bw = pw / n
    out = [_svg_open(width, height)]
    if title:
        out.append(f'<text x="{left}" y="13" font-size="12" font-weight="600" fill="#2d3748">{_e(title)}</text>')
    for v in yt:
        y = top + ph - (v / ymax * ph if ymax else 0)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#edf2f7"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end" fill="#718096">{_e(yfmt(v))}</text>')
    for i, (lab, v) in enumerate(zip(labels, values)):
        h = (v / ymax * ph) if ymax else 0
        if v and h < 1:
            h = 1
        x = left + i * bw
        out.append(f'<rect x="{x + 0.5:.1f}" y="{top + ph - h:.1f}" width="{max(bw - 1, 0.5):.1f}" height="{h:.1f}" '
                   f'fill="{color}"><title>{_e(lab)}: {fmt_int(v)}</title></rect>')
        if i % xlabels_every == 0:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 13}" font-size="10" text-anchor="middle" '
                       f'fill="#718096">{_e(lab)}</text>')
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{width - 8}" y2="{top + ph}" stroke="#a0aec0"/>')
    out.append("</svg>")
    return "".join(out)


def _panels(models: list[dict], body, wide: bool = False) -> str:
    """One panel per run, side by side (``wide``: one below the other, for wide tables)."""
    parts = ['<div class="panels wide">' if wide else '<div class="panels">']
    for m in models:
        parts.append(f'<div class="panel"><h3><span class="key">{_e(m["key"])}</span>{_e(m["label"])}</h3>')
        parts.append(body(m))
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _funnel_svg(stages: list[dict], xmax_docs: float) -> str:
    rows = []
    for st in stages:
        note = f"{fmt_int(st['kept_docs'])}"
        if st["stage"] != "write" or st["dropped_docs"]:
            note += f" · {fmt_pct(st['kept_share'])}"
        rows.append((_stage_label(st["stage"]), [st["in_docs"], st["kept_docs"]], note,
                     f"{st['stage']}: {fmt_int(st['in_docs'])} in, {fmt_int(st['kept_docs'])} kept"))
    return (_legend([("entering the stage", "#cbd5e0"), ("kept", KEPT)])
            + svg_hbars(rows, [("entering", "#cbd5e0"), ("kept", KEPT)], xmax_docs, log=True, fmt=fmt_short,
                        note_w=150, label_w=80, width=540, overlay=True))


def _chars_svg(stages: list[dict], xmax: float) -> str:
    rows = []
    for st in stages:
        if st["stage"] in ("read", "detect"):
            continue
        note = fmt_si(st["kept_chars"])
        if st["chars_share"] is not None and st["chars_share"] < 1:
            note += f" · {fmt_pct(st['chars_share'])}"
        elif st["stage"] == "decode":
            note += " HTML"
        elif st["stage"] == "extract":
            note += " text"
        rows.append((_stage_label(st["stage"]), [st["kept_chars"]], note))
    return svg_hbars(rows, [("characters", "#dd6b20")], xmax, log=True, fmt=fmt_short, note_w=130, label_w=80,
                     width=520)


def _funnel_table(stages: list[dict], samples: dict, rel) -> str:
    h = ['<div class="scroll"><table><tr><th class="l">stage</th><th>docs in</th><th>docs out</th><th>kept</th>'
         '<th>chars in</th><th>chars out</th><th>kept</th><th class="l">top drop reasons</th></tr>']
    for st in stages:
        reasons = []
        for r in st["top_reasons"]:
            link = ""
            s = samples.get((st["stage"], r["reason"]))
            if s:
                link = f' <a href="{_e(rel(s["file"]))}">examples</a>'
            cls = "warn" if r["outcome"] == "error" else ""
            reasons.append(f'<span class="{cls}">{_e(r["reason"])}</span> {fmt_int(r["docs"])} '
                           f'({fmt_pct(r["share"])}){link}')
        more = len(st["reasons"]) - len(st["top_reasons"])
        if more > 0:
            reasons.append(f'<span class="small">+{more} more</span>')
        cin = "–" if st["stage"] in ("read", "detect", "decode") else fmt_si(st["in_chars"])
        cout = "–" if st["stage"] in ("read", "detect") else fmt_si(st["kept_chars"])
        h.append(f'<tr><td class="l">{_e(_stage_label(st["stage"]))}</td><td>{fmt_int(st["in_docs"])}</td>'
                 f'<td>{fmt_int(st["kept_docs"])}</td><td>{fmt_pct(st["kept_share"])}</td><td>{cin}</td>'
                 f'<td>{cout}</td><td>{fmt_pct(st["chars_share"])}</td><td class="l">{"<br>".join(reasons)}</td></tr>')
    h.append("</table></div>")
    return "".join(h)


def _snapshot_matrix_html(m: dict) -> str:
    stages = [s["stage"] for s in m["funnel"]["total"]]
    h = ['<div class="scroll"><table><tr><th class="l">snapshot</th><th>read in</th>']
    h += [f"<th>{_e(_stage_label(s))}</th>" for s in stages]
    h.append("<th>written chars</th><th>kept of captures</th></tr>")
    for snap in m["snapshot_ids"] + ["total"]:
        fun = m["funnel"]["total"] if snap == "total" else m["funnel"]["snapshots"].get(snap, [])
        by = {s["stage"]: s for s in fun}
        cls = ' class="sum"' if snap == "total" else ""
        cells = [f'<td class="k">{_e(snap)}</td>'
                 f'<td>{fmt_int(fun[0]["in_docs"]) if fun else "–"}</td>']
        for st in stages:
            s = by.get(st)
            title = f' title="{_e(fmt_pct(s["kept_share"]))} kept"' if s else ""
            cells.append(f"<td{title}>{fmt_int(s['kept_docs']) if s else '–'}</td>")
        w = by.get("write")
        ex = next((r for r in m["extrapolation"]["snapshots"] if r["snapshot"] == snap), None)
        cap = ex["captures_read"] if ex else (m["files"]["captures"] if snap == "total" else 0)
        cells.append(f"<td>{fmt_si(w['kept_chars']) if w else '–'}</td>")
        cells.append(f"<td>{fmt_pct(w['kept_docs'] / cap) if w and cap else '–'}</td>")
        h.append(f"<tr{cls}>{''.join(cells)}</tr>")
    h.append("</table></div>")
    return "".join(h)


def _quality_html(m: dict, xmax: float) -> str:
    q = m["quality"]
    if q is None:
        return '<div class="empty">no quality stage in this run</div>'
    rows = []
    for r in q["rules"]:
        num = f"{r['number']}. " if r["number"] else ""
        label = f"{num}{r['rule']}" + (" (off)" if r["disabled"] else "")
        note = "disabled" if r["disabled"] and not (r["alone_docs"] or r["first_docs"]) else \
            f"{fmt_int(r['alone_docs'])} / {fmt_int(r['first_docs'])}"
        rows.append((label, [r["alone_share"] or 0, r["first_share"] or 0], note))
    head = (f'<p class="small">{fmt_int(q["in_docs"])} documents entered quality, {fmt_int(q["dropped_docs"])} '
            f'dropped ({fmt_pct(q["dropped_docs"] / q["in_docs"] if q["in_docs"] else None)}). '
            "Bar length = share of the documents entering quality; numbers = documents alone / first.</p>")
    if not q["has_rule_fails"]:
        head += '<p class="small warn">details.json has no rule_fails rows: only the first failing rule is shown.</p>'
    return head + svg_hbars(rows, [("alone", "#dd6b20"), ("first failing", KEPT)], xmax, width=560,
                            label_w=175, bar_h=8, gap=4, note_w=70)


def _ngwords_html(m: dict, top_terms: int, xmax: float) -> str:
    ng = m["ngwords"]
    if ng is None:
        return '<div class="empty">no ngwords stage in this run</div>'
    terms = ng["terms"]
    if not terms:
        return (f'<div class="empty">no NG term matched in {fmt_int(ng["in_docs"])} documents</div>')
    shown = terms[:top_terms]
    rows = [(t["term"], [t["matched_docs"], t["removed_docs"]],
             f"{fmt_int(t['removed_docs'])} removed / {fmt_int(t['matched_docs'])}") for t in shown]
    head = (f'<p class="small">{fmt_int(ng["in_docs"])} documents entered, {fmt_int(ng["dropped_docs"])} removed '
            f'({fmt_pct(ng["dropped_docs"] / ng["in_docs"] if ng["in_docs"] else None)}); '
            f'{len(terms)} terms matched, {ng["terms_removing"]} of them in removed documents'
            f'{"; matching mode " + _e(ng["mode"]) if ng.get("mode") else ""}. '
            f'Top {len(shown)} terms by documents removed.</p>')
    if not ng["terms_removing"]:
        head += '<p class="small">no document was removed: the bars show documents containing each term.</p>'
    svg = svg_hbars(rows, [("documents containing the term", "#f6ad55"), ("documents removed", DROP)], xmax,
                    fmt=fmt_short, label_w=130, bar_h=8, gap=4, note_w=120)
    table = ['<details><summary>all terms</summary><div class="scroll"><table><tr><th class="l">term</th>'
             '<th>docs matched</th><th>chars matched</th><th>docs removed</th><th>share of entering</th>'
             '<th>chars removed</th></tr>']
    for t in terms:
        table.append(f'<tr><td class="l">{_e(t["term"])}</td><td>{fmt_int(t["matched_docs"])}</td>'
                     f'<td>{fmt_int(t["matched_chars"])}</td><td>{fmt_int(t["removed_docs"])}</td>'
                     f'<td>{fmt_pct(t["removed_share"])}</td><td>{fmt_int(t["removed_chars"])}</td></tr>')
    table.append("</table></div></details>")
    return head + svg + "".join(table)


def _hist_html(m: dict, ymax: dict) -> str:
    hs = m["histograms"]
    total = hs.get("num_chars", {}).get("total", 0)
    if not total:
        return '<div class="empty">no histograms in details.json (documents written: ' + fmt_int(m["written"]["docs"]) + ")</div>"
    parts = ['<div class="grid2">']
    for kind in ("num_chars", "hiragana", "katakana", "kanji", "ascii"):
        h = hs.get(kind)
        if not h:
            continue
        labels = [fmt_short(int(b)) if kind == "num_chars" else b for b in h["bins"]]
        every = 2 if kind == "num_chars" else 4
        parts.append(svg_hist(labels, h["docs"], ymax.get(kind, 1), title=HIST_TITLES[kind], xlabels_every=every,
                              color="#2b6cb0" if kind == "num_chars" else "#319795"))
    parts.append("</div>")
    return "".join(parts)


def _langid_html(m: dict, ymax: float) -> str:
    scored = m["histograms"].get("lang_score_scored")
    h = scored if scored and scored["total"] else m["histograms"].get("lang_score")
    if not h or not h["total"]:
        return '<div class="empty">no language-ID score histogram in details.json</div>'
    thr = ((m["config"].get("langid") or {}).get("threshold"))
    who = "every document language ID scored" if h is scored else "written documents"
    note = f'<p class="small">{who} by fastText probability of Japanese'
    note += f"; threshold {thr}" if thr is not None else ""
    low = sum(d for b, d in zip(h["bins"], h["docs"]) if _num_key(b)[1] < 0.9)
    note += f"; {fmt_pct(low / h['total'])} below 0.90.</p>"
    return note + svg_hist(h["bins"], h["docs"], ymax, title=HIST_TITLES["lang_score"], width=560, height=170,
                           color="#805ad5")


def _dedup_html(m: dict, ymax_c: float, xmax_r: float) -> str:
    d = m["dedup"]
    if d is None:
        return '<div class="empty">no dedup stage in this run</div>'
    parts = []
    rows = [(s["snapshot"], [s["removed_share"] or 0],
             f"{fmt_int(s['removed_docs'])} of {fmt_int(s['in_docs'])}") for s in d["snapshots"]]
    parts.append('<p class="small">duplicates removed per snapshot (share of the documents entering dedup)</p>')
    parts.append(svg_hbars(rows, [("removed", DROP)], xmax_r, label_w=130, note_w=130))
    cs = d["cluster_sizes"]
    if cs:
        keep = [i for i, b in enumerate(cs["bins"]) if b != "1"]
        single = sum(c for b, c in zip(cs["bins"], cs["clusters"]) if b == "1")
        vals = cs["documents"] if cs["documents"] else cs["clusters"]
        what = "documents in clusters" if cs["documents"] else "clusters"
        parts.append(f'<p class="small">duplicate clusters by size (documents per cluster); bars: {what}'
                     f'{"; " + fmt_int(single) + " documents had no near-duplicate" if single else ""}.</p>')
        parts.append(svg_hist([cs["bins"][i] for i in keep], [vals[i] for i in keep], ymax_c,
                              title=f"duplicate-cluster sizes ({what})", width=560, height=170,
                              xlabels_every=max(1, len(keep) // 8), color="#c53030"))
    else:
        parts.append('<p class="small">details.json has no dedup cluster_size rows.</p>')
    kc = d.get("kept_copy_in")
    if kc:
        t = ['<p class="small">where the kept copy of each removed duplicate is (rows: snapshot of the removed '
             'copy; columns: snapshot of the kept one; <i>published:</i> = an earlier release)</p>'
             '<div class="scroll"><table><tr><th class="l">removed in</th>']
        def short(x):
            return re.sub(r"CC-MAIN-", "", x)

        t += [f'<th style="white-space:nowrap" title="{_e(k)}">{_e(short(k))}</th>' for k in kc["kept_in"]]
        t.append("</tr>")
        for a in kc["removed_in"]:
            cells = []
            for b in kc["kept_in"]:
                n = kc["docs"].get(a + chr(9) + b, 0)
                cells.append(f'<td>{fmt_short(n)}</td>' if n else '<td class="small">·</td>')
            t.append(f'<tr><td class="k">{_e(short(a))}</td>' + "".join(cells) + "</tr>")
        t.append("</table></div>")
        parts.append("".join(t))
    if d["other_details"]:
        agg: dict = defaultdict(int)
        for r in d["other_details"]:
            agg[(r["kind"], r["name"])] += r["docs"]
        parts.append('<details><summary>other dedup details</summary><table><tr><th class="l">kind</th>'
                     '<th class="l">name</th><th>count</th></tr>' + "".join(
                         f'<tr><td class="l">{_e(k)}</td><td class="l">{_e(n)}</td><td>{fmt_int(v)}</td></tr>'
                         for (k, n), v in sorted(agg.items())) + "</table></details>")
    return "".join(parts)


def _extrap_html(m: dict, sw: dict) -> str:
    ex = m["extrapolation"]

    def cell(d, interval=True):
        if d["estimate"] is None:
            return "–"
        s = fmt_si(d["estimate"])
        if interval and d["half_width"] is not None:
            if d["half_width"] == 0 and d.get("exact"):
                s += ' <span class="small">exact</span>'
            else:
                s += (f'<br><span class="small">{fmt_si(d["low"])} – {fmt_si(d["high"])}'
                      f' (±{d["rel_error"] * 100:.1f}%)</span>')
        elif interval:
            s += '<br><span class="small">± ?</span>'
        return s

    h = ['<div class="scroll"><table><tr><th class="l">scope</th><th>WARC files read / in snapshot</th>'
         '<th>captures read</th><th>input pages (est.)</th><th>documents (est.)</th><th>characters (est.)</th>'
         '<th>kept of pages</th><th>chars / doc</th><th class="l">scaling</th></tr>']
    src_name = {"listing": "warc.paths.gz", "assumed": "assumed", "--files-per-snapshot": "--files-per-snapshot"}
    for r in ex["snapshots"]:
        kept = r["docs"]["estimate"] / r["input_pages"]["estimate"] if r["input_pages"]["estimate"] else None
        cpd = r["chars"]["estimate"] / r["docs"]["estimate"] if r["docs"]["estimate"] else None
        notes = "<br>".join(_e(t) for t in [r["error_note"]] + r["notes"])
        h.append(f'<tr><td class="k">{_e(r["snapshot"])}</td><td>{fmt_int(r["files_read"])} / '
                 f'{fmt_int(r["files_in_snapshot"])} <span class="small">{_e(src_name[r["files_source"]])}</span></td>'
                 f'<td>{fmt_int(r["captures_read"])}</td><td>{cell(r["input_pages"], False)}</td>'
                 f'<td>{cell(r["docs"])}</td><td>{cell(r["chars"])}</td><td>{fmt_pct(kept)}</td>'
                 f'<td>{fmt_int(cpd)}</td><td class="note">{_e(r["method"])}: {notes}</td></tr>')
    for key, label in (("sampled", f"sampled snapshots ({ex['sampled']['snapshots']})"),
                       ("projected", f"all {ex['projected']['snapshots']} snapshots (projected)")):
        if key == "projected" and ex["projected"]["factor"] <= 1:
            continue
        d = ex[key]
        kept = d["docs"]["estimate"] / d["input_pages"]["estimate"] if d["input_pages"]["estimate"] else None
        cpd = d["chars"]["estimate"] / d["docs"]["estimate"] if d["docs"]["estimate"] else None
        h.append(f'<tr class="sum"><td class="l">{_e(label)}</td><td></td><td></td>'
                 f'<td>{cell(d["input_pages"], False)}</td><td>{cell(d["docs"])}</td><td>{cell(d["chars"])}</td>'
                 f'<td>{fmt_pct(kept)}</td><td>{fmt_int(cpd)}</td><td class="note">'
                 f'{"×" + format(ex["projected"]["factor"], ".1f") + " of the sampled" if key == "projected" else "sum"}'
                 f'</td></tr>')
    h.append(f'<tr class="sum"><td class="l">Swallow, per snapshot (avg.)</td><td>≈ {fmt_int(sw["files_per_snapshot"])}</td>'
             f'<td></td><td>{fmt_si(sw["input_pages"] / sw["snapshots"])}</td>'
             f'<td>{fmt_si(sw["output_pages"] / sw["snapshots"])}</td><td>{fmt_si(sw["output_chars"] / sw["snapshots"])}</td>'
             f'<td>{fmt_pct(sw["kept_share"])}</td><td>≈ {fmt_int(sw["chars_per_page"])}</td>'
             f'<td class="note">after dedup</td></tr>')
    h.append(f'<tr class="sum"><td class="l">Swallow corpus v1 (21 snapshots)</td><td></td><td></td>'
             f'<td>{fmt_si(sw["input_pages"])}</td><td>{fmt_si(sw["output_pages"])}</td>'
             f'<td>{fmt_si(sw["output_chars"])}</td><td>{fmt_pct(sw["kept_share"])}</td>'
             f'<td>≈ {fmt_int(sw["chars_per_page"])}</td><td class="note">{_e(sw["source"])}</td></tr>')
    h.append("</table></div>")
    for t in ex["notes"]:
        h.append(f'<p class="small">{_e(t)}</p>')
    return "".join(h)


def _read_examples(path: str, k: int = 3, clip: int = 600) -> list[dict]:
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                if isinstance(obj, dict):
                    out.append(obj)
                if len(out) >= k:
                    break
    except OSError:
        pass
    for o in out:
        t = str(o.get("text") or "")
        o["text"] = t[:clip] + ("…" if len(t) > clip else "")
    return out


def _reasons_html(m: dict, rel, embed: int) -> str:
    samples = {(s["stage"], s["reason"]): s for s in m["samples"]["reasons"]}
    parts = []
    if m["samples"]["dir"]:
        parts.append(f'<p class="small">examples: {fmt_int(m["samples"]["documents"])} documents for '
                     f'{len(samples)} reasons under <code>{_e(rel(m["samples"]["dir"]))}/</code></p>')
    else:
        parts.append('<p class="small">no OUT/samples/ in this output: run with <code>--samples-per-reason N</code> '
                     'to keep example documents for every drop reason.</p>')
    for st in m["funnel"]["total"]:
        if not st["reasons"]:
            continue
        removed = st["dropped_docs"] + st["error_docs"]
        share = fmt_pct(removed / st["in_docs"] if st["in_docs"] else None)
        parts.append(f'<details{" open" if st["stage"] in ("quality", "langid", "ngwords", "dedup") else ""}>'
                     f'<summary><b>{_e(st["stage"])}</b>: {fmt_int(removed)} of '
                     f'{fmt_int(st["in_docs"])} removed ({share})</summary>')
        parts.append('<div class="scroll"><table><tr><th class="l">reason</th><th>outcome</th><th>docs</th>'
                     '<th>share</th><th>chars</th><th>bytes</th><th class="l">examples</th></tr>')
        for r in st["reasons"]:
            s = samples.get((st["stage"], r["reason"]))
            ex = ""
            if s:
                ex = f'<a href="{_e(rel(s["file"]))}">{fmt_int(s["count"])} in {_e(os.path.basename(s["file"]))}</a>'
                docs = _read_examples(s["file"], embed) if embed else []
                if docs:
                    ex += "<details><summary>show</summary>"
                    for o in docs:
                        meta = (f'{_e(o.get("url"))}\n{_e(o.get("warc_file"))} @ {_e(o.get("warc_offset"))}'
                                f'+{_e(o.get("warc_length"))}')
                        ex += f'<div class="sample"><b>{meta}</b>\n{_e(o.get("text"))}</div>'
                    ex += "</details>"
            parts.append(f'<tr><td class="l">{_e(r["reason"])}</td><td class="{"warn" if r["outcome"] == "error" else ""}">'
                         f'{_e(r["outcome"])}</td><td>{fmt_int(r["docs"])}</td><td>{fmt_pct(r["share"])}</td>'
                         f'<td>{fmt_si(r["chars"])}</td><td>{fmt_si(r["bytes"])}</td><td class="l">{ex}</td></tr>')
        parts.append("</table></div></details>")
    return "".join(parts)


def _other_html(m: dict) -> str:
    rows = m["other_details"]
    parts = []
    if rows:
        parts.append('<table><tr><th class="l">stage</th><th class="l">kind</th><th class="l">name</th>'
                     '<th>docs</th><th>chars</th></tr>')
        for r in rows[:200]:
            parts.append(f'<tr><td class="l">{_e(r["stage"])}</td><td class="l">{_e(r["kind"])}</td>'
                         f'<td class="l">{_e(r["name"])}</td><td>{fmt_int(r["docs"])}</td><td>{fmt_int(r["chars"])}</td></tr>')
        parts.append("</table>")
    else:
        parts.append('<div class="empty">no other detail rows</div>')
    f = m["files"]
    parts.append(f'<p class="small">{fmt_int(f["total"])} WARC files: {fmt_int(f["ok"])} ok, '
                 f'{fmt_int(f["failed"])} failed; {fmt_int(f["records"])} records, {fmt_int(f["captures"])} '
                 f'captures, {fmt_int(f["pages"])} HTML pages.</p>')
    if f["failed_list"]:
        parts.append('<details><summary>failed files</summary><table><tr><th class="l">file</th>'
                     '<th class="l">error</th><th class="l">message</th></tr>')
        for fl in f["failed_list"]:
            parts.append(f'<tr><td class="l">{_e(fl["path"])}</td><td class="l">{_e(fl["error"])}</td>'
                         f'<td class="l">{_e(fl["message"])}</td></tr>')
        parts.append("</table></details>")
    return "".join(parts)


def _run_info_html(m: dict) -> str:
    v = m["versions"]
    vs = ", ".join(f"{k} {x}" for k, x in v.items() if x)
    probs = "".join(f'<p class="warn">accounting: {_e(p)}</p>' for p in m["accounting_problems"])
    probs += "".join(f'<p class="warn">statistics: {_e(p)}</p>' for p in m["stats_warnings"][:50])
    ok = '<span class="pill ok">every record accounted for</span>' if not m["accounting_problems"] else \
        '<span class="pill warn">accounting problems</span>'
    ok += (' <span class="pill ok">statistics files agree</span>' if not m["stats_warnings"] else
           ' <span class="pill warn">statistics files disagree</span>')
    return (f'<p class="small"><code>{_e(m["dir"])}</code><br>preset <b>{_e(m["preset"])}</b> · fingerprint '
            f'{_e(m["fingerprint"])} · {len(m["snapshot_ids"])} snapshots · {fmt_int(m["files"]["total"])} WARC files '
            f'· runner {_e(m["runner"])} · {_e(m["seconds"])} s · started {_e(m["started"])}<br>{_e(vs)}</p>'
            f'<p>{fmt_int(m["files"]["captures"])} captures → <b>{fmt_int(m["written"]["docs"])}</b> documents '
            f'({fmt_pct(m["written"]["share_of_captures"])}), <b>{fmt_si(m["written"]["chars"])}</b> characters '
            f'{ok}</p>{probs}')


def render_html(report: dict, html_path: str | None = None, *, top_terms: int = 30, embed_samples: int = 3) -> str:
    """One self-contained HTML page: inline CSS and SVG, no scripts, fonts or images fetched."""
    models = report["runs"]
    base = os.path.dirname(os.path.abspath(html_path)) if html_path else os.getcwd()

    def rel(p: str) -> str:
        try:
            r = os.path.relpath(os.path.abspath(p), base)
        except ValueError:  # another drive (Windows)
            r = os.path.abspath(p)
        return r.replace(os.sep, "/")

    def samples_of(m):
        return {(s["stage"], s["reason"]): s for s in m["samples"]["reasons"]}

    # Shared scales, so panels side by side compare at a glance.
    xmax_docs = max((s["in_docs"] for m in models for s in m["funnel"]["total"]), default=1)
    xmax_chars = max((s["kept_chars"] for m in models for s in m["funnel"]["total"]), default=1)
    q_max = max([r["alone_share"] or 0 for m in models if m["quality"] for r in m["quality"]["rules"]] +
                [r["first_share"] or 0 for m in models if m["quality"] for r in m["quality"]["rules"]] + [0.01])
    q_max = min(1.0, _nice(q_max))
    ng_max = max([t["matched_docs"] for m in models if m["ngwords"] for t in m["ngwords"]["terms"][:top_terms]] + [1])
    h_max = {k: max([max(m["histograms"].get(k, {}).get("docs") or [0]) for m in models] + [1])
             for k in (*HIST_KINDS, "lang_score_scored")}
    d_rm = max([s["removed_share"] or 0 for m in models if m["dedup"] for s in m["dedup"]["snapshots"]] + [0.01])
    d_cs = max([max([v for b, v in zip(m["dedup"]["cluster_sizes"]["bins"],
                                       m["dedup"]["cluster_sizes"]["documents"] or m["dedup"]["cluster_sizes"]["clusters"])
                     if b != "1"] or [0])
                for m in models if m["dedup"] and m["dedup"]["cluster_sizes"]] + [1])
    sw = report["swallow"]
    title = "jawebcorpus report: " + ", ".join(m["label"] for m in models)
    P = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width,initial-scale=1">',
         f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
         f'<header><h1>Where every page and character went</h1><p>{_e(", ".join(m["key"] + ": " + m["label"] for m in models))}'
         f' · generated {_e(report["generated"])}</p></header>']

    single = len(models) == 1

    def section(sid, heading, note, body, out=None):
        out = P if out is None else out
        out.append(f'<section id="{sid}"><h2>{_e(heading)}</h2>')
        if note:
            out.append(f'<p class="note">{note}</p>')
        out.append(body)
        out.append("</section>")

    def pair(*secs):
        """One run: related sections side by side; several runs: one below the other (their panels
        already stand side by side)."""
        if single:
            P.append('<div class="pair">')
        for sec in secs:
            section(*sec)
        if single:
            P.append("</div>")

    nav = [("funnel", "funnel"), ("snapshots", "per snapshot"), ("quality", "quality rules"),
           ("ngwords", "NG terms"), ("hist", "length & scripts"), ("langid", "language ID"),
           ("dedup", "near-duplicates"), ("extrapolation", "extrapolation"), ("reasons", "drop reasons"),
           ("other", "other")]
    P.append('<nav>' + " · ".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in nav) + "</nav><main>")
    section("runs", "Runs", "", _panels(models, _run_info_html))
    if report["config_differences"]:
        t = ['<div class="scroll"><table><tr><th class="l">setting</th>' +
             "".join(f'<th class="l">{_e(m["key"])}: {_e(m["label"])}</th>' for m in models) + "</tr>"]
        for d in report["config_differences"]:
            t.append(f'<tr><td class="l">{_e(d["setting"])}</td>' +
                     "".join(f'<td class="l">{_e(json.dumps(v, ensure_ascii=False))}</td>' for v in d["values"]) + "</tr>")
        t.append("</table></div>")
        section("settings", "Settings that differ", "", "".join(t))
    section("funnel", "Funnel: where the documents and characters went",
            "Left: documents entering (grey) and kept by (blue) each stage, log scale; <i>read</i> counts every "
            "WARC record (requests and metadata too), the later stages HTML pages. Right: characters kept, log scale "
            "(HTML at <i>decode</i>, extracted text from <i>extract</i> on). The percentages are the shares of what "
            "entered the stage. The table gives the numbers and each stage's largest drop reasons.",
            _panels(models, lambda m: '<div class="duo"><div>' + _funnel_svg(m["funnel"]["total"], xmax_docs)
                    + "</div><div>" + _legend([("characters kept", "#dd6b20")])
                    + _chars_svg(m["funnel"]["total"], xmax_chars) + "</div></div>"
                    + _funnel_table(m["funnel"]["total"], samples_of(m), rel)))
    section("snapshots", "Per snapshot",
            "Documents leaving each stage, per snapshot (hover a cell for the share kept); open a snapshot for its "
            "funnel with drop reasons.",
            _panels(models, lambda m: _snapshot_matrix_html(m) + "".join(
                f'<details><summary>funnel of {_e(s)}</summary>'
                f'{_funnel_table(m["funnel"]["snapshots"][s], samples_of(m), rel)}</details>'
                for s in m["snapshot_ids"]), wide=True))
    pair(("quality", "Quality rules: each rule's bite",
          "<b>alone</b>: documents the rule rejects on its own, whether or not an earlier rule already did "
          "(details.json <code>rule_fails</code>); <b>first failing</b>: documents dropped with this rule as "
          "the reason (the first failing rule in the reference's order). A large bite alone but little as first "
          "failing means the rule overlaps with earlier ones.",
          _legend([("alone", "#dd6b20"), ("first failing", KEPT)]) + _panels(models, lambda m: _quality_html(m, q_max))),
         ("ngwords", "NG-term calibration",
          "Per term: documents containing it (<code>term_matched</code>) and, of those, documents the NG-word stage "
          "removed (<code>term_removed</code>). A term harmless in context (C4's グロ in グローバル) that shows up in "
          "many removed documents wipes out innocent pages.",
          _legend([("documents containing the term", "#f6ad55"), ("documents removed", DROP)])
          + _panels(models, lambda m: _ngwords_html(m, top_terms, ng_max))))
    section("hist", "Written documents: length and scripts",
            "Documents written, by length (lower bin edge, characters; bins double) and by the share of hiragana, "
            "katakana, kanji and ASCII among their characters (bins of 0.05). Side-by-side panels share the y scale.",
            _panels(models, lambda m: _hist_html(m, h_max)))
    pair(("langid", "Language-ID score", "", _panels(models, lambda m: _langid_html(m, max(h_max["lang_score"], h_max["lang_score_scored"])))),
         ("dedup", "Near-duplicates", "", _panels(models, lambda m: _dedup_html(m, d_cs, _nice(d_rm)))))
    section("extrapolation", "Extrapolation to whole snapshots, next to Swallow",
            "Files are the sampling unit: the documents and characters written per sampled WARC file are scaled to "
            "the files of the snapshot (its <code>warc.paths.gz</code> when it is next to the input, else "
            f"--files-per-snapshot, default {SWALLOW['files_per_snapshot']:,}), with a 95 % interval from the "
            "variance between files (Student's t). When the sampled files are much smaller than real Common Crawl "
            f"files (≈ {SWALLOW['captures_per_file']:,} captures), the figures are scaled per capture instead "
            "(ratio estimator). The projection to all snapshots adds the variation between the sampled snapshots.",
            _panels(models, lambda m: _extrap_html(m, sw), wide=True))
    section("reasons", "Drop reasons and examples", "",
            _panels(models, lambda m: _reasons_html(m, rel, embed_samples), wide=True))
    section("other", "Other details and files", "", _panels(models, _other_html, wide=True))
    P.append('<p class="small">jawebcorpus report · statistics from OUT/stats/*.json · docs/report.md explains '
             "every plot.</p></main></body></html>")
    return "\n".join(P) + "\n"


def _nice(x: float) -> float:
    """A round axis maximum ≥ x (1, 2, 2.5, 5 × 10^k)."""
    if x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** k >= x * 0.999:
            return m * 10 ** k
    return 10 ** (k + 1)
