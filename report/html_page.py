"""The HTML report: one self-contained page (inline CSS and SVG; no scripts, fonts or images fetched).

:func:`render_html` reads the report document (:mod:`.schema`): the runs, the funnel (plots and
table, per snapshot too), each quality rule's bite, the NG-term calibration, the histograms of
the written documents, the language-ID score, the near-duplicates, the personal data found and
the quality model's score (:mod:`.html_signals`), the extrapolation next to
Swallow, the drop reasons with example documents, and the other details.  Several runs are
panels side by side on shared scales.  The style sheet is ``report.css`` (package data), inlined
verbatim; the charts come from :mod:`.svg`.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from functools import lru_cache
from importlib import resources

from jawebcorpus.registry import HISTOGRAMS

from .analysis import NO_CHARS_IN_STAGES, NO_TEXT_STAGES, WRITE_HISTS, num_key
from .estimates import SWALLOW
from .folder import sample_examples
from .fmt import fmt_int, fmt_pct, fmt_short, fmt_si, stage_label
from .html_signals import pii_html, pii_xmax, quality_model_html, quality_model_ymax
from .hygiene import hygiene_html
from .schema import Report, RunReport, StageEntry
from .signals import PII_STAGE, QM_STAGE
from .svg import DROP, KEPT, esc, legend, nice, svg_hbars, svg_hist

__all__ = ["render_html"]

#: The written documents' histograms in the "length and scripts" grid (the language-ID score has
#: a section of its own).
_WRITTEN_HISTS = tuple(k for k in WRITE_HISTS if k != "lang_score")
#: Stages with a section of their own in the page: their drop reasons are shown open.
_SECTION_STAGES = ("langid", "quality", "ngwords", "dedup", PII_STAGE, QM_STAGE)


@lru_cache(maxsize=1)
def _css() -> str:
    return resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")


def _panels(models: list[RunReport], body, wide: bool = False) -> str:
    """One panel per run, side by side (``wide``: one below the other, for wide tables)."""
    parts = ['<div class="panels wide">' if wide else '<div class="panels">']
    for m in models:
        parts.append(f'<div class="panel"><h3><span class="key">{esc(m["key"])}</span>{esc(m["label"])}</h3>')
        parts.append(body(m))
        parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def _funnel_svg(stages: list[StageEntry], xmax_docs: float) -> str:
    rows = []
    for st in stages:
        note = f"{fmt_int(st['kept_docs'])}"
        if st["stage"] != "write" or st["dropped_docs"]:
            note += f" · {fmt_pct(st['kept_share'])}"
        rows.append((stage_label(st["stage"]), [st["in_docs"], st["kept_docs"]], note,
                     f"{st['stage']}: {fmt_int(st['in_docs'])} in, {fmt_int(st['kept_docs'])} kept"))
    return (legend([("entering the stage", "#cbd5e0"), ("kept", KEPT)])
            + svg_hbars(rows, [("entering", "#cbd5e0"), ("kept", KEPT)], xmax_docs, log=True, fmt=fmt_short,
                        note_w=150, label_w=80, width=540, overlay=True))


def _chars_svg(stages: list[StageEntry], xmax: float) -> str:
    rows = []
    for st in stages:
        if st["stage"] in NO_TEXT_STAGES:
            continue
        note = fmt_si(st["kept_chars"])
        if st["chars_share"] is not None and st["chars_share"] < 1:
            note += f" · {fmt_pct(st['chars_share'])}"
        elif st["stage"] == "decode":
            note += " HTML"
        elif st["stage"] == "extract":
            note += " text"
        rows.append((stage_label(st["stage"]), [st["kept_chars"]], note))
    return svg_hbars(rows, [("characters", "#dd6b20")], xmax, log=True, fmt=fmt_short, note_w=130, label_w=80,
                     width=520)


def _funnel_table(stages: list[StageEntry], samples: dict, rel) -> str:
    h = ['<div class="scroll"><table><tr><th class="l">stage</th><th>docs in</th><th>docs out</th><th>kept</th>'
         '<th>chars in</th><th>chars out</th><th>kept</th><th class="l">top drop reasons</th></tr>']
    for st in stages:
        reasons = []
        for r in st["top_reasons"]:
            link = ""
            s = samples.get((st["stage"], r["reason"]))
            if s:
                link = f' <a href="{esc(rel(s["file"]))}">examples</a>'
            cls = "warn" if r["outcome"] == "error" else ""
            reasons.append(f'<span class="{cls}">{esc(r["reason"])}</span> {fmt_int(r["docs"])} '
                           f'({fmt_pct(r["share"])}){link}')
        more = len(st["reasons"]) - len(st["top_reasons"])
        if more > 0:
            reasons.append(f'<span class="small">+{more} more</span>')
        cin = "–" if st["stage"] in NO_CHARS_IN_STAGES else fmt_si(st["in_chars"])
        cout = "–" if st["stage"] in NO_TEXT_STAGES else fmt_si(st["kept_chars"])
        h.append(f'<tr><td class="l">{esc(stage_label(st["stage"]))}</td><td>{fmt_int(st["in_docs"])}</td>'
                 f'<td>{fmt_int(st["kept_docs"])}</td><td>{fmt_pct(st["kept_share"])}</td><td>{cin}</td>'
                 f'<td>{cout}</td><td>{fmt_pct(st["chars_share"])}</td><td class="l">{"<br>".join(reasons)}</td></tr>')
    h.append("</table></div>")
    return "".join(h)


def _snapshot_matrix_html(m: RunReport) -> str:
    stages = [s["stage"] for s in m["funnel"]["total"]]
    h = ['<div class="scroll"><table><tr><th class="l">snapshot</th><th>read in</th>']
    h += [f"<th>{esc(stage_label(s))}</th>" for s in stages]
    h.append("<th>written chars</th><th>kept of captures</th></tr>")
    for snap in m["snapshot_ids"] + ["total"]:
        fun = m["funnel"]["total"] if snap == "total" else m["funnel"]["snapshots"].get(snap, [])
        by = {s["stage"]: s for s in fun}
        cls = ' class="sum"' if snap == "total" else ""
        cells = [f'<td class="k">{esc(snap)}</td>'
                 f'<td>{fmt_int(fun[0]["in_docs"]) if fun else "–"}</td>']
        for st in stages:
            s = by.get(st)
            title = f' title="{esc(fmt_pct(s["kept_share"]))} kept"' if s else ""
            cells.append(f"<td{title}>{fmt_int(s['kept_docs']) if s else '–'}</td>")
        w = by.get("write")
        ex = next((r for r in m["extrapolation"]["snapshots"] if r["snapshot"] == snap), None)
        cap = ex["captures_read"] if ex else (m["files"]["captures"] if snap == "total" else 0)
        cells.append(f"<td>{fmt_si(w['kept_chars']) if w else '–'}</td>")
        cells.append(f"<td>{fmt_pct(w['kept_docs'] / cap) if w and cap else '–'}</td>")
        h.append(f"<tr{cls}>{''.join(cells)}</tr>")
    h.append("</table></div>")
    return "".join(h)


def _quality_html(m: RunReport, xmax: float) -> str:
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


def _ngwords_html(m: RunReport, top_terms: int, xmax: float) -> str:
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
            f'{"; matching mode " + esc(ng["mode"]) if ng.get("mode") else ""}. '
            f'Top {len(shown)} terms by documents removed.</p>')
    if not ng["terms_removing"]:
        head += '<p class="small">no document was removed: the bars show documents containing each term.</p>'
    svg = svg_hbars(rows, [("documents containing the term", "#f6ad55"), ("documents removed", DROP)], xmax,
                    fmt=fmt_short, label_w=130, bar_h=8, gap=4, note_w=120)
    table = ['<details><summary>all terms</summary><div class="scroll"><table><tr><th class="l">term</th>'
             '<th>docs matched</th><th>chars matched</th><th>docs removed</th><th>share of entering</th>'
             '<th>chars removed</th></tr>']
    for t in terms:
        table.append(f'<tr><td class="l">{esc(t["term"])}</td><td>{fmt_int(t["matched_docs"])}</td>'
                     f'<td>{fmt_int(t["matched_chars"])}</td><td>{fmt_int(t["removed_docs"])}</td>'
                     f'<td>{fmt_pct(t["removed_share"])}</td><td>{fmt_int(t["removed_chars"])}</td></tr>')
    table.append("</table></div></details>")
    return head + svg + "".join(table)


def _hist_html(m: RunReport, ymax: dict) -> str:
    hs = m["histograms"]
    total = hs.get("num_chars", {}).get("total", 0)
    if not total:
        return '<div class="empty">no histograms in details.json (documents written: ' + fmt_int(m["written"]["docs"]) + ")</div>"
    parts = ['<div class="grid2">']
    for kind in _WRITTEN_HISTS:
        h = hs.get(kind)
        if not h:
            continue
        labels = [fmt_short(int(b)) if kind == "num_chars" else b for b in h["bins"]]
        every = 2 if kind == "num_chars" else 4
        parts.append(svg_hist(labels, h["docs"], ymax.get(kind, 1), title=HISTOGRAMS[kind], xlabels_every=every,
                              color="#2b6cb0" if kind == "num_chars" else "#319795"))
    parts.append("</div>")
    return "".join(parts)


def _langid_html(m: RunReport, ymax: float) -> str:
    scored = m["histograms"].get("lang_score_scored")
    h = scored if scored and scored["total"] else m["histograms"].get("lang_score")
    if not h or not h["total"]:
        return '<div class="empty">no language-ID score histogram in details.json</div>'
    langid = m["config"].get("langid")
    thr = langid.get("threshold") if isinstance(langid, dict) else None
    who = "every document language ID scored" if h is scored else "written documents"
    note = f'<p class="small">{who} by fastText probability of Japanese'
    note += f"; threshold {thr}" if thr is not None else ""
    low = sum(d for b, d in zip(h["bins"], h["docs"]) if num_key(b)[1] < 0.9)
    note += f"; {fmt_pct(low / h['total'])} below 0.90.</p>"
    return note + svg_hist(h["bins"], h["docs"], ymax, title=HISTOGRAMS["lang_score"], width=560, height=170,
                           color="#805ad5")


def _dedup_html(m: RunReport, ymax_c: float, xmax_r: float) -> str:
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

        t += [f'<th style="white-space:nowrap" title="{esc(k)}">{esc(short(k))}</th>' for k in kc["kept_in"]]
        t.append("</tr>")
        for a in kc["removed_in"]:
            cells = []
            for b in kc["kept_in"]:
                n = kc["docs"].get(a + chr(9) + b, 0)
                cells.append(f'<td>{fmt_short(n)}</td>' if n else '<td class="small">·</td>')
            t.append(f'<tr><td class="k">{esc(short(a))}</td>' + "".join(cells) + "</tr>")
        t.append("</table></div>")
        parts.append("".join(t))
    if d["other_details"]:
        agg: dict = defaultdict(int)
        for r in d["other_details"]:
            agg[(r["kind"], r["name"])] += r["docs"]
        parts.append('<details><summary>other dedup details</summary><table><tr><th class="l">kind</th>'
                     '<th class="l">name</th><th>count</th></tr>' + "".join(
                         f'<tr><td class="l">{esc(k)}</td><td class="l">{esc(n)}</td><td>{fmt_int(v)}</td></tr>'
                         for (k, n), v in sorted(agg.items())) + "</table></details>")
    return "".join(parts)


def _extrap_html(m: RunReport, sw: dict) -> str:
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
        notes = "<br>".join(esc(t) for t in [r["error_note"]] + r["notes"])
        h.append(f'<tr><td class="k">{esc(r["snapshot"])}</td><td>{fmt_int(r["files_read"])} / '
                 f'{fmt_int(r["files_in_snapshot"])} <span class="small">{esc(src_name[r["files_source"]])}</span></td>'
                 f'<td>{fmt_int(r["captures_read"])}</td><td>{cell(r["input_pages"], False)}</td>'
                 f'<td>{cell(r["docs"])}</td><td>{cell(r["chars"])}</td><td>{fmt_pct(kept)}</td>'
                 f'<td>{fmt_int(cpd)}</td><td class="note">{esc(r["method"])}: {notes}</td></tr>')
    for key, label in (("sampled", f"sampled snapshots ({ex['sampled']['snapshots']})"),
                       ("projected", f"all {ex['projected']['snapshots']} snapshots (projected)")):
        if key == "projected" and ex["projected"]["factor"] <= 1:
            continue
        d = ex[key]
        kept = d["docs"]["estimate"] / d["input_pages"]["estimate"] if d["input_pages"]["estimate"] else None
        cpd = d["chars"]["estimate"] / d["docs"]["estimate"] if d["docs"]["estimate"] else None
        h.append(f'<tr class="sum"><td class="l">{esc(label)}</td><td></td><td></td>'
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
             f'<td>≈ {fmt_int(sw["chars_per_page"])}</td><td class="note">{esc(sw["source"])}</td></tr>')
    h.append("</table></div>")
    for t in ex["notes"]:
        h.append(f'<p class="small">{esc(t)}</p>')
    return "".join(h)


def _reasons_html(m: RunReport, rel, embed: int) -> str:
    samples = {(s["stage"], s["reason"]): s for s in m["samples"]["reasons"]}
    parts = []
    if m["samples"]["dir"]:
        parts.append(f'<p class="small">examples: {fmt_int(m["samples"]["documents"])} documents for '
                     f'{len(samples)} reasons under <code>{esc(rel(m["samples"]["dir"]))}/</code></p>')
    else:
        parts.append('<p class="small">no OUT/samples/ in this output: run with <code>--samples-per-reason N</code> '
                     'to keep example documents for every drop reason.</p>')
    for st in m["funnel"]["total"]:
        if not st["reasons"]:
            continue
        removed = st["dropped_docs"] + st["error_docs"]
        share = fmt_pct(removed / st["in_docs"] if st["in_docs"] else None)
        parts.append(f'<details{" open" if st["stage"] in _SECTION_STAGES else ""}>'
                     f'<summary><b>{esc(st["stage"])}</b>: {fmt_int(removed)} of '
                     f'{fmt_int(st["in_docs"])} removed ({share})</summary>')
        parts.append('<div class="scroll"><table><tr><th class="l">reason</th><th>outcome</th><th>docs</th>'
                     '<th>share</th><th>chars</th><th>bytes</th><th class="l">examples</th></tr>')
        for r in st["reasons"]:
            s = samples.get((st["stage"], r["reason"]))
            ex = ""
            if s:
                ex = f'<a href="{esc(rel(s["file"]))}">{fmt_int(s["count"])} in {esc(os.path.basename(s["file"]))}</a>'
                docs = sample_examples(m["samples"]["dir"], s["file"], embed) if embed else []
                if docs:
                    ex += "<details><summary>show</summary>"
                    for o in docs:
                        meta = (f'{esc(o.get("url"))}\n{esc(o.get("warc_file"))} @ {esc(o.get("warc_offset"))}'
                                f'+{esc(o.get("warc_length"))}')
                        ex += f'<div class="sample"><b>{meta}</b>\n{esc(o.get("text"))}</div>'
                    ex += "</details>"
            parts.append(f'<tr><td class="l">{esc(r["reason"])}</td><td class="{"warn" if r["outcome"] == "error" else ""}">'
                         f'{esc(r["outcome"])}</td><td>{fmt_int(r["docs"])}</td><td>{fmt_pct(r["share"])}</td>'
                         f'<td>{fmt_si(r["chars"])}</td><td>{fmt_si(r["bytes"])}</td><td class="l">{ex}</td></tr>')
        parts.append("</table></div></details>")
    # examples the tables above do not show (a stage may keep examples of what it kept or changed)
    shown = {(st["stage"], r["reason"]) for st in m["funnel"]["total"] for r in st["reasons"]}
    rest = [s for s in m["samples"]["reasons"] if (s["stage"], s["reason"]) not in shown]
    if rest:
        parts.append('<p class="small">other examples: ' + ", ".join(
            f'<a href="{esc(rel(s["file"]))}">{esc(s["stage"])}/{esc(s["reason"])}</a> ({fmt_int(s["count"])})'
            for s in rest) + "</p>")
    return "".join(parts)


def _other_html(m: RunReport) -> str:
    rows = m["other_details"]
    parts = []
    if rows:
        parts.append('<table><tr><th class="l">stage</th><th class="l">kind</th><th class="l">name</th>'
                     '<th>docs</th><th>chars</th></tr>')
        for r in rows[:200]:
            parts.append(f'<tr><td class="l">{esc(r["stage"])}</td><td class="l">{esc(r["kind"])}</td>'
                         f'<td class="l">{esc(r["name"])}</td><td>{fmt_int(r["docs"])}</td><td>{fmt_int(r["chars"])}</td></tr>')
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
            parts.append(f'<tr><td class="l">{esc(fl["path"])}</td><td class="l">{esc(fl["error"])}</td>'
                         f'<td class="l">{esc(fl["message"])}</td></tr>')
        parts.append("</table></details>")
    return "".join(parts)


def _run_info_html(m: RunReport) -> str:
    v = m["versions"]
    vs = ", ".join(f"{k} {x}" for k, x in v.items() if x)
    probs = "".join(f'<p class="warn">accounting: {esc(p)}</p>' for p in m["accounting_problems"])
    probs += "".join(f'<p class="warn">statistics: {esc(p)}</p>' for p in m["stats_warnings"][:50])
    probs += "".join(f'<p class="warn">not read: {esc(p)}</p>' for p in m["skipped"][:50])
    ok = '<span class="pill ok">every record accounted for</span>' if not m["accounting_problems"] else \
        '<span class="pill warn">accounting problems</span>'
    c = m["command"]  # redacted when loaded (model.py)
    cmd = f'<br>command: <code>{esc(" ".join(map(str, c)) if isinstance(c, list) else c)}</code>' if c else ""
    ok += (' <span class="pill ok">statistics files agree</span>' if not m["stats_warnings"] else
           ' <span class="pill warn">statistics files disagree</span>')
    return (f'<p class="small"><code>{esc(m["dir"])}</code><br>preset <b>{esc(m["preset"])}</b> · fingerprint '
            f'{esc(m["fingerprint"])} · {len(m["snapshot_ids"])} snapshots · {fmt_int(m["files"]["total"])} WARC files '
            f'· runner {esc(m["runner"])} · {esc(m["seconds"])} s · started {esc(m["started"])}<br>{esc(vs)}{cmd}</p>'
            f'<p>{fmt_int(m["files"]["captures"])} captures → <b>{fmt_int(m["written"]["docs"])}</b> documents '
            f'({fmt_pct(m["written"]["share_of_captures"])}), <b>{fmt_si(m["written"]["chars"])}</b> characters '
            f'{ok}</p>{probs}')


def render_html(report: Report, html_path: str | None = None, *, top_terms: int = 30, embed_samples: int = 3) -> str:
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
    q_max = min(1.0, nice(q_max))
    ng_max = max([t["matched_docs"] for m in models if m["ngwords"] for t in m["ngwords"]["terms"][:top_terms]] + [1])
    h_max = {k: max([max(m["histograms"].get(k, {}).get("docs") or [0]) for m in models] + [1])
             for k in (*WRITE_HISTS, "lang_score_scored")}
    d_rm = max([s["removed_share"] or 0 for m in models if m["dedup"] for s in m["dedup"]["snapshots"]] + [0.01])
    d_cs = max([max([v for b, v in zip(m["dedup"]["cluster_sizes"]["bins"],
                                       m["dedup"]["cluster_sizes"]["documents"] or m["dedup"]["cluster_sizes"]["clusters"])
                     if b != "1"] or [0])
                for m in models if m["dedup"] and m["dedup"]["cluster_sizes"]] + [1])
    sw = report["swallow"]
    title = "jawebcorpus report: " + ", ".join(m["label"] for m in models)
    P = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
         '<meta name="viewport" content="width=device-width,initial-scale=1">',
         f"<title>{esc(title)}</title><style>\n{_css()}</style></head><body>",
         f'<header><h1>Where every page and character went</h1><p>{esc(", ".join(m["key"] + ": " + m["label"] for m in models))}'
         f' · generated {esc(report["generated"])}</p></header>']

    single = len(models) == 1

    def section(sid, heading, note, body, out=None):
        out = P if out is None else out
        out.append(f'<section id="{sid}"><h2>{esc(heading)}</h2>')
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

    has_pii, has_qm = any(m["pii"] for m in models), any(m["quality_model"] for m in models)
    nav = [("funnel", "funnel"), ("snapshots", "per snapshot"), ("quality", "quality rules"),
           ("ngwords", "NG terms"), ("hist", "length & scripts"), ("langid", "language ID"),
           ("dedup", "near-duplicates")] + ([("pii", "personal data")] if has_pii else []) + \
        ([("qmodel", "quality model")] if has_qm else []) + \
        ([("hygiene", "opt-outs & licences")] if any(m.get("hygiene") for m in models) else []) + [
           ("extrapolation", "extrapolation"), ("reasons", "drop reasons"), ("other", "other")]
    P.append('<nav>' + " · ".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in nav) + "</nav><main>")
    section("runs", "Runs", "", _panels(models, _run_info_html))
    if report["config_differences"]:
        t = ['<div class="scroll"><table><tr><th class="l">setting</th>' +
             "".join(f'<th class="l">{esc(m["key"])}: {esc(m["label"])}</th>' for m in models) + "</tr>"]
        for d in report["config_differences"]:
            t.append(f'<tr><td class="l">{esc(d["setting"])}</td>' +
                     "".join(f'<td class="l">{esc(json.dumps(v, ensure_ascii=False))}</td>' for v in d["values"]) + "</tr>")
        t.append("</table></div>")
        section("settings", "Settings that differ", "", "".join(t))
    section("funnel", "Funnel: where the documents and characters went",
            "Left: documents entering (grey) and kept by (blue) each stage, log scale; <i>read</i> counts every "
            "WARC record (requests and metadata too), the later stages HTML pages. Right: characters kept, log scale "
            "(HTML at <i>decode</i>, extracted text from <i>extract</i> on). The percentages are the shares of what "
            "entered the stage. The table gives the numbers and each stage's largest drop reasons.",
            _panels(models, lambda m: '<div class="duo"><div>' + _funnel_svg(m["funnel"]["total"], xmax_docs)
                    + "</div><div>" + legend([("characters kept", "#dd6b20")])
                    + _chars_svg(m["funnel"]["total"], xmax_chars) + "</div></div>"
                    + _funnel_table(m["funnel"]["total"], samples_of(m), rel)))
    section("snapshots", "Per snapshot",
            "Documents leaving each stage, per snapshot (hover a cell for the share kept); open a snapshot for its "
            "funnel with drop reasons.",
            _panels(models, lambda m: _snapshot_matrix_html(m) + "".join(
                f'<details><summary>funnel of {esc(s)}</summary>'
                f'{_funnel_table(m["funnel"]["snapshots"][s], samples_of(m), rel)}</details>'
                for s in m["snapshot_ids"]), wide=True))
    pair(("quality", "Quality rules: each rule's bite",
          "<b>alone</b>: documents the rule rejects on its own, whether or not an earlier rule already did "
          "(details.json <code>rule_fails</code>); <b>first failing</b>: documents dropped with this rule as "
          "the reason (the first failing rule in the reference's order). A large bite alone but little as first "
          "failing means the rule overlaps with earlier ones.",
          legend([("alone", "#dd6b20"), ("first failing", KEPT)]) + _panels(models, lambda m: _quality_html(m, q_max))),
         ("ngwords", "NG-term calibration",
          "Per term: documents containing it (<code>term_matched</code>) and, of those, documents the NG-word stage "
          "removed (<code>term_removed</code>). A term harmless in context (C4's グロ in グローバル) that shows up in "
          "many removed documents wipes out innocent pages.",
          legend([("documents containing the term", "#f6ad55"), ("documents removed", DROP)])
          + _panels(models, lambda m: _ngwords_html(m, top_terms, ng_max))))
    section("hist", "Written documents: length and scripts",
            "Documents written, by length (lower bin edge, characters; bins double) and by the share of hiragana, "
            "katakana, kanji and ASCII among their characters (bins of 0.05). Side-by-side panels share the y scale.",
            _panels(models, lambda m: _hist_html(m, h_max)))
    pair(("langid", "Language-ID score", "", _panels(models, lambda m: _langid_html(m, max(h_max["lang_score"], h_max["lang_score_scored"])))),
         ("dedup", "Near-duplicates", "", _panels(models, lambda m: _dedup_html(m, d_cs, nice(d_rm)))))
    signal_secs = []
    if has_pii:
        signal_secs.append((
            "pii", "Personal data found",
            "Per kind: matches (<code>pii_matches</code>), documents with a match and characters matched "
            "(<code>pii_docs</code>), and matches per million characters of the text entering the stage; the mode "
            "of each kind (<i>mask</i>: replaced by its placeholder, <i>drop</i>: the document is dropped with "
            "reason <code>pii</code>, <i>off</i>: not looked for) is the run's <code>pii</code> configuration.",
            _panels(models, lambda m: pii_html(m, rel, pii_xmax(models)))))
    if has_qm:
        signal_secs.append((
            "qmodel", "Quality model score",
            "Every document each quality model scored, by the probability of its label (bins of 0.05) or its "
            "expected grade (20 bins up to the top grade); the dashed line is the model's threshold; red bins lie "
            "wholly below it (dropped).",
            _panels(models, lambda m: quality_model_html(m, quality_model_ymax(models)))))
    if signal_secs:
        pair(*signal_secs)
    if any(m.get("hygiene") for m in models):
        section("hygiene", "Opt-outs, licences, contamination, boilerplate",
                "Pages whose publisher reserves text-and-data mining or AI use, per deciding signal and snapshot "
                "(<code>opt_out</code>); the written documents per Creative Commons licence (<code>license</code> "
                "column); documents holding a benchmark item, per benchmark (<code>decontaminate</code>); the most removed boilerplate lines (<code>boilerplate</code>).", _panels(models, hygiene_html))
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


