"""The terminal report: the funnel at 80 columns, several outputs side by side.

:func:`render_text` reads the report document (:mod:`.schema`) and returns lines of at most
``width`` characters: the runs, the settings that differ, the funnel with each stage's largest
drop reasons, documents and characters per snapshot, the extrapolation and where the examples are.
"""

from __future__ import annotations

import json
import os
import re

from jawebcorpus.registry import STAGE_NAMES

from .analysis import NO_TEXT_STAGES
from .estimates import SWALLOW, Estimate
from .fmt import bar, fit, fmt_int, fmt_pct, fmt_short, fmt_si, stage_label, wrap
from .hygiene import hygiene_lines
from .schema import PiiReport, QualityModelReport, Report, RunReport, StageEntry

__all__ = ["render_text"]


def _reason_rows(st: StageEntry, top: int) -> list[dict]:
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
    return "–" if stage in NO_TEXT_STAGES and not chars else fmt_si(chars)


def _funnel_block(model: RunReport, scope: str, width: int, top: int) -> list[str]:
    stages = model["funnel"]["total"] if scope == "total" else model["funnel"]["snapshots"][scope]
    lines = [f"{'stage':<8} {'docs in':>11}   {'docs out':>11} {'kept':>6} {'':10} {'chars out':>10} {'kept':>6}"]
    for st in stages:
        name = stage_label(st["stage"])
        chars = _chars_cell(st["stage"], st["kept_chars"])
        if st["stage"] == "write" and not st["dropped_docs"] and not st["error_docs"]:
            lines.append(f"{name:<8} {'':>11}   {fmt_int(st['kept_docs']):>11} {'':>6} {'':10} {chars:>10}")
            continue
        lines.append(
            f"{name:<8} {fmt_int(st['in_docs']):>11} → {fmt_int(st['kept_docs']):>11} "
            f"{fmt_pct(st['kept_share']):>6} {bar(st['kept_share'])} {chars:>10} {fmt_pct(st['chars_share']):>6}"
            .rstrip())
        for r in _reason_rows(st, top):
            mark = "!" if r["outcome"] == "error" else "-"
            rc = _chars_cell(st["stage"], r["chars"])
            lines.append(f"  {mark} {fit(r['reason'], 18):<18} {fmt_int(r['docs']):>11} {fmt_pct(r['share']):>6} "
                         f"{'':10} {rc:>10}".rstrip())
    return lines


def _side_by_side_block(models: list[RunReport], scope: str, width: int, top: int) -> list[str]:
    """One funnel, several runs in columns: stages and, under each, the union of their top reasons."""
    lab, colw = 24, 28
    lines = [" " * lab + "".join(fit(f"{m['key']}: {m['label']}", colw - 2).ljust(colw) for m in models).rstrip()]
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
    order.sort(key=lambda s: STAGE_NAMES.index(s) if s in STAGE_NAMES else STAGE_NAMES.index("write") - 0.5)
    for stage in order:
        cells = []
        for stg in per_model:
            st = stg.get(stage)
            if st is None:
                cells.append(f"{'–':>10} {'':>6} {'':>8}  ")
                continue
            share = "" if stage == "write" and not st["dropped_docs"] else fmt_pct(st["kept_share"])
            cells.append(f"{fmt_int(st['kept_docs']):>10} {share:>6} {_chars_cell(stage, st['kept_chars']):>8}  ")
        lines.append((f"{stage_label(stage):<{lab}}" + "".join(cells)).rstrip())
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
            lines.append((f"  {mark} {fit(reason, lab - 4):<{lab - 4}}" + "".join(cells)).rstrip())
    return lines


def _snapshot_matrix(model: RunReport, measure: str, width: int = 80) -> list[str]:
    """Snapshots × stages: documents (or characters) leaving each stage; first column = read in.

    Columns that do not fit in ``width`` continue in a second block below.
    """
    stages = [s["stage"] for s in model["funnel"]["total"]]
    if measure == "chars":  # no characters before decode
        stages = [s for s in stages if s not in NO_TEXT_STAGES]
    cols = ([("read in", None)] if measure == "docs" else []) + [(stage_label(s)[:7], s) for s in stages]
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
        rows.append((fit(label, lab - 1), vals))
    lines = []
    for b in range(0, len(cols), per_block):
        if b:
            lines.append("")
        names = [c[0] for c in cols[b:b + per_block]]
        lines.append(f"{'snapshot':<{lab}}" + "".join(f"{n:>{cw}}" for n in names))
        for label, vals in rows:
            lines.append(f"{label:<{lab}}" + "".join(f"{v:>{cw}}" for v in vals[b:b + per_block]))
    return lines


def _est_text(d: Estimate, interval: bool = True) -> str:
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


def _extrap_lines(model: RunReport, sw: dict, width: int) -> list[str]:
    ex = model["extrapolation"]
    lines = [f"{'snapshot':<16}{'files read':>15} {'input pages':>11} {'documents':>16} {'characters':>16}"]
    for r in ex["snapshots"]:
        src = {"listing": "L", "assumed": "A", "--files-per-snapshot": "F"}[r["files_source"]]
        files = f"{fmt_short(r['files_read'])}/{fmt_short(r['files_in_snapshot'])} {src}"
        lines.append(f"{fit(r['snapshot'], 15):<16}{files:>15} {_est_text(r['input_pages'], False):>11} "
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
    lines.extend(wrap(f"kept {fmt_pct(kept)} of input pages, {fmt_int(cpd)} characters a document "
                       f"(Swallow: {fmt_pct(sw['kept_share'])}, ≈ {sw['chars_per_page']:,})", width))
    methods = sorted({r["method"] for r in ex["snapshots"]})
    lines.extend(wrap(f"files in snapshot: L = its warc.paths.gz, A = assumed {SWALLOW['files_per_snapshot']:,}, "
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
        lines.extend(wrap(f"· {t}", width, "  "))
    return [fit(x, width) for x in lines]


def _pii_lines(p: PiiReport, samples_dir: str | None, width: int) -> list[str]:
    """Personal data per kind: matches, documents, characters, matches per million characters."""
    outcomes = ", ".join(f"{fmt_int(o['docs'])} {o['reason']}" if o["outcome"] == "kept" else
                         f"{fmt_int(o['docs'])} {o['outcome']} ({o['reason']})"
                         for o in p["outcomes"] if o["docs"] or o["outcome"] != "error")
    lines = wrap(f"{fmt_int(p['in_docs'])} documents ({fmt_si(p['in_chars'])} characters) entered {p['stage']}: "
                 f"{outcomes}; {fmt_int(p['matches'])} matches, {fmt_int(p['chars_matched'])} characters", width)
    lines.append(f"{'kind':<10} {'mode':<5} {'matches':>9} {'docs':>9} {'share':>6} {'chars':>9} {'per M chars':>11}")
    for k in p["kinds"]:
        lines.append(f"{fit(k['kind'], 10):<10} {fit(k['mode'] or '?', 5):<5} {fmt_int(k['matches']):>9} "
                     f"{fmt_int(k['docs']):>9} {fmt_pct(k['docs_share']):>6} {fmt_int(k['chars']):>9} "
                     f"{_per_million(k['matches_per_million_chars']):>11}")
    lines.extend(wrap("per M chars = matches per million characters entering the stage; mode from run.json"
                      + ("" if p["modes_known"] else " (not recorded: ?)"), width, "  "))
    found = [k for k in p["kinds"] if k["samples"]]
    if found:
        where = os.path.join(samples_dir or "OUT/samples", p["stage"], "found_<kind>.jsonl")
        counts = ", ".join(f"{k['kind']} {k['samples']['count']}" for k in found)
        lines.extend(wrap(f"examples: {where} ({counts}); "
                          "they hold the personal data itself: delete them after the audit", width, "  "))
    return lines


def _per_million(x) -> str:
    if x is None:
        return "–"
    return "0" if x == 0 else f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def _quality_model_lines(q: QualityModelReport, width: int) -> list[str]:
    """The model's score histogram, one row per bin, with a marker row at the threshold."""
    thr = q["threshold"]
    reads = q.get("reads") or f"label {q['label'] or '?'}"
    head = (f"{fmt_int(q['in_docs'])} documents scored by {q['model'] or '?'} ({reads}); "
            + (f"threshold {thr:g}: {fmt_int(q['dropped_docs'])} dropped ({fmt_pct(q['dropped_share'])}), "
               f"{fmt_int(q['kept_docs'])} kept" if thr is not None else "no threshold: every document kept"))
    lines = wrap(head, width)
    h = q["histogram"]
    if not h["total"]:
        return lines + ["  (no score histogram in details.json)"]
    nz = [i for i, d in enumerate(h["docs"]) if d]
    pos = q["threshold_position"]
    lo, hi = nz[0], nz[-1]
    if pos is not None:  # the threshold is always on the chart
        lo, hi = min(lo, max(0, int(pos) - 1)), max(hi, min(len(h["bins"]) - 1, int(pos)))
    top = max(h["docs"])
    lines.append(f"{'score':<6} {'documents':>11} {'share':>6}")
    for i in range(lo, hi + 1):
        if pos is not None and i == int(pos):
            inside = "" if pos == int(pos) else f" (inside the {h['bins'][i]} bin)"
            lines.append((f"{'─' * 6} ▲ dropped ({_below_reason(q)}) · threshold {thr:g}{inside} · ▼ kept "
                          + "─" * width)[:width])
        d = h["docs"][i]
        lines.append(f"{h['bins'][i]:<6} {fmt_int(d):>11} {fmt_pct(d / h['total']):>6} "
                     f"{bar(d / top, 30).rstrip('░') if d else ''}".rstrip())
    if pos is not None and int(pos) > hi:
        lines.append((f"{'─' * 6} ▲ dropped ({_below_reason(q)}) · threshold {thr:g} " + "─" * width)[:width])
    return lines


def _below_reason(q: QualityModelReport) -> str:
    return next((o["reason"] for o in q["outcomes"] if o["outcome"] == "dropped"), "dropped")


def render_text(report: Report, width: int = 80, per_snapshot: bool = False, html_path: str | None = None) -> str:
    """The terminal report; every line at most ``width`` characters."""
    models = report["runs"]
    top = report["options"]["top"]
    L: list[str] = []

    def rule(title: str):
        L.append("")
        L.append(fit(f"── {title} " + "─" * max(0, width - len(title) - 4), width))

    L.append(fit("jawebcorpus report: where every page and character went", width))
    for m in models:
        f = m["files"]
        fp = m["fingerprint"] or "?"
        L.extend(wrap(f"{m['key']}: {m['dir']} · preset {m['preset']} · fingerprint {fp}", width, "   "))
        L.extend("   " + x for x in wrap(
            f"{len(m['snapshot_ids'])} snapshots · {fmt_int(f['total'])} WARC files "
            f"({fmt_int(f['failed'])} failed) · {fmt_int(f['records'])} records · "
            f"{fmt_int(f['captures'])} captures → {fmt_int(m['written']['docs'])} documents "
            f"({fmt_pct(m['written']['share_of_captures'])} of captures), "
            f"{fmt_si(m['written']['chars'])} characters written", width - 3, ""))
        for p in m["accounting_problems"]:
            L.extend(wrap(f"   ! accounting: {p}", width, "     "))
        for p in m["stats_warnings"][:5]:
            L.extend(wrap(f"   ! statistics: {p}", width, "     "))
        if len(m["stats_warnings"]) > 5:
            L.append(f"   ! … and {len(m['stats_warnings']) - 5} more (see --json: stats_warnings)")
        for p in m["skipped"][:5]:
            L.extend(wrap(f"   ! not read: {p}", width, "     "))
        if len(m["skipped"]) > 5:
            L.append(f"   ! … and {len(m['skipped']) - 5} more not read (see --json: skipped)")
        for fl in f["failed_list"][:5]:
            name = os.path.basename(str(fl["path"] or ""))
            L.extend(wrap(f"   ! failed file: {fl['snapshot']} {name}: {fl['error']}", width, "     "))
        if f["failed"] > 5:
            where = "files/" if os.path.isdir(os.path.join(m["dir"], "stats", "files")) else "files.json"
            L.append(f"   ! … and {f['failed'] - 5} more failed files (see stats/{where})")
    if report["config_differences"]:
        rule("settings that differ")
        for d in report["config_differences"][:12]:
            vals = " | ".join(f"{m['key']} {json.dumps(v, ensure_ascii=False)}" for m, v in zip(models, d["values"]))
            L.extend(wrap(f"{d['setting']}: {vals}", width, "    "))
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
        L.extend(wrap("kept = share of the documents entering the stage; characters are HTML at "
                       "decode, text from extract on; - = dropped, ! = error; k, M, B = thousand, million, "
                       "billion", width))
    for m in models:
        tag = "" if len(models) == 1 else f" ({m['key']})"
        rule(f"documents leaving each stage, per snapshot{tag}")
        L.extend(_snapshot_matrix(m, "docs"))
        rule(f"characters leaving each stage, per snapshot{tag}")
        L.extend(_snapshot_matrix(m, "chars"))
    for m in models:
        tag = "" if len(models) == 1 else f" ({m['key']})"
        if m["pii"] is not None:
            rule(f"personal data found ({m['pii']['stage']}){tag}")
            L.extend(_pii_lines(m["pii"], m["samples"]["dir"], width))
        if m["quality_model"] is not None:
            for q in m["quality_model"].get("models") or [m["quality_model"]]:  # each model: its histogram
                named = f" {q['name']}, column {q['column']}" if q.get("name") else ""
                rule(f"quality model score ({m['quality_model']['stage']}{named}){tag}")
                L.extend(_quality_model_lines(q, width))
        if m.get("hygiene"):
            rule(f"opt-outs, licences, contamination, boilerplate{tag}")
            L.extend(hygiene_lines(m["hygiene"], width))
    for m in models:
        rule("extrapolation to whole snapshots" + ("" if len(models) == 1 else f" ({m['key']})"))
        L.extend(_extrap_lines(m, report["swallow"], width))
    rule("examples of dropped documents")
    for m in models:
        s = m["samples"]
        tag = "" if len(models) == 1 else f"{m['key']}: "
        if s["dir"]:
            L.extend(wrap(f"{tag}{s['dir']}/<stage>/<reason>.jsonl: {fmt_int(s['documents'])} documents, "
                           f"{len(s['reasons'])} reasons", width, "  "))
        else:
            L.extend(wrap(f"{tag}none (run with --samples-per-reason N to keep examples)", width, "  "))
    if html_path:
        L.append("")
        L.extend(wrap(f"HTML report: {html_path}", width))
    return "\n".join(fit(x.rstrip(), width) for x in L) + "\n"

