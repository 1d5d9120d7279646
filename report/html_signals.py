"""The HTML sections of the stages beyond Swallow v1: personal data found, the quality model's score.

:func:`pii_html` is one panel of the "Personal data" section: what the ``pii`` stage did with the
documents and, per kind, its mode, matches, documents, characters and matches per million
characters, with links to the audit examples (``OUT/samples/pii/found_<kind>.jsonl``: linked,
never embedded, since they hold the personal data itself).  :func:`quality_model_html` draws the
score histogram of every document the model scored, the threshold as a line and the bins below
it in the colour of dropped documents.  Both read the report document (:mod:`.schema`).
"""

from __future__ import annotations

import os

from jawebcorpus.registry import HISTOGRAMS

from .fmt import fmt_int, fmt_pct, fmt_si
from .schema import RunReport
from .signals import QM_HIST
from .svg import DROP, KEPT, esc, svg_hbars, svg_hist

__all__ = ["pii_html", "quality_model_html", "pii_xmax", "quality_model_ymax"]


def _per_million(x) -> str:
    if x is None:
        return "–"
    return "0" if x == 0 else f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 1 else f"{x:.2f}"


def pii_xmax(models: list[RunReport]) -> float:
    """The shared scale of the per-kind bars: the largest matches per million characters."""
    return max([k["matches_per_million_chars"] or 0 for m in models if m["pii"] for k in m["pii"]["kinds"]] + [1.0])


def pii_html(m: RunReport, rel, xmax: float) -> str:
    p = m["pii"]
    if p is None:
        return '<div class="empty">no pii stage in this run (the swallow-v1 preset has it off)</div>'
    outcomes = ", ".join(f'{fmt_int(o["docs"])} {esc(o["reason"])}' if o["outcome"] == "kept" else
                         f'{fmt_int(o["docs"])} {esc(o["outcome"])} (<code>{esc(o["reason"])}</code>)'
                         for o in p["outcomes"] if o["docs"] or o["outcome"] != "error")
    parts = [f'<p class="small">{fmt_int(p["in_docs"])} documents ({fmt_si(p["in_chars"])} characters) entered '
             f'<code>{esc(p["stage"])}</code>: {outcomes}. {fmt_int(p["matches"])} matches, '
             f'{fmt_int(p["chars_matched"])} characters matched.</p>']
    rows = [(k["kind"] + ("" if k["mode"] in (None, "mask", "drop") else f' ({k["mode"]})'),
             [k["matches_per_million_chars"] or 0], f'{fmt_int(k["matches"])} matches · {fmt_int(k["docs"])} docs')
            for k in p["kinds"]]
    parts.append(svg_hbars(rows, [("matches per million characters", "#b7791f")], xmax, fmt=_per_million,
                           label_w=120, note_w=130, width=540))
    t = ['<div class="scroll"><table><tr><th class="l">kind</th><th class="l">mode</th><th class="l">placeholder</th>'
         '<th>matches</th><th>docs</th><th>chars</th><th>per M chars</th>'
         '<th class="l">examples</th></tr>']
    for k in p["kinds"]:
        ex = ""
        if k["samples"]:
            ex = (f'<a href="{esc(rel(k["samples"]["file"]))}" title="{esc(os.path.basename(k["samples"]["file"]))}">'
                  f'{fmt_int(k["samples"]["count"])}</a>')
        t.append(f'<tr><td class="l">{esc(k["kind"])}</td><td class="l">{esc(k["mode"] or "?")}</td>'
                 f'<td class="l"><code>{esc(k["placeholder"] or "")}</code></td><td>{fmt_int(k["matches"])}</td>'
                 f'<td>{fmt_int(k["docs"])}</td><td>{fmt_int(k["chars"])}</td>'
                 f'<td>{_per_million(k["matches_per_million_chars"])}</td><td class="l">{ex}</td></tr>')
    t.append("</table></div>")
    parts.append("".join(t))
    if not p["modes_known"]:
        parts.append('<p class="small">run.json does not record the pii configuration: modes unknown (?).</p>')
    if any(k["samples"] for k in p["kinds"]):
        parts.append('<p class="small warn">The example files hold the personal data itself (each span with a little '
                     'context): they are linked, not shown here; delete them after the audit.</p>')
    return "".join(parts)


def quality_model_ymax(models: list[RunReport]) -> float:
    return max([max(q["histogram"]["docs"] or [0]) for m in models if m["quality_model"]
                for q in m["quality_model"].get("models") or [m["quality_model"]]] + [1])


def quality_model_html(m: RunReport, ymax: float) -> str:
    q = m["quality_model"]
    if q is None:
        return '<div class="empty">no quality model in this run (<code>--quality-model PATH</code>)</div>'
    return "".join(_one_model_html(e, ymax) for e in q.get("models") or [q])


def _one_model_html(q, ymax: float) -> str:
    h, thr = q["histogram"], q["threshold"]
    reads = esc(q["reads"]) if q.get("reads") else f'probability of <code>{esc(q["label"] or "?")}</code>'
    named = f'<b>{esc(q["name"])}</b> (column <code>{esc(q["column"])}</code>): ' if q.get("name") else ""
    note = (f'<p class="small">{named}{fmt_int(q["in_docs"])} documents scored by <code>{esc(q["model"] or "?")}</code>, '
            f'{reads}; ')
    below = next((o["reason"] for o in q["outcomes"] if o["outcome"] == "dropped"), "dropped")
    if thr is None:
        note += "no threshold: every document kept.</p>"
    else:
        note += (f'threshold <b>{thr:g}</b> (dashed line): <b>{fmt_int(q["dropped_docs"])}</b> dropped below it '
                 f'({fmt_pct(q["dropped_share"])}, <code>{esc(below)}</code>, {fmt_si(q["dropped_chars"])} '
                 f'characters), {fmt_int(q["kept_docs"])} kept.</p>')
    if not h["total"]:
        return note + f'<div class="empty">no {esc(q["hist_kind"])} rows in details.json</div>'
    pos = q["threshold_position"]
    colors = [DROP if pos is not None and i + 1 <= pos else KEPT for i in range(len(h["bins"]))]
    title = HISTOGRAMS[QM_HIST[len("hist:"):]] if not q.get("name") else f"quality model {q['name']} ({q['reads']})"
    return note + svg_hist(h["bins"], h["docs"], ymax, title=title, width=560,
                           height=190, color=KEPT, colors=colors, mark_at=pos,
                           mark_label=f"threshold {thr:g}" if thr is not None else "")
