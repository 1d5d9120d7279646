"""The report's corpus-hygiene section (issue 20): opt-outs, licences, contamination, boilerplate.

:func:`hygiene_section` sums the detail rows of the ``opt_out``, ``license``, ``decontaminate``
stages and the write stage's ``license`` rows into one JSON-ready dict (None
when none of those stages ran); :func:`hygiene_lines` is its terminal text and
:func:`hygiene_html` its HTML panel.

* opt-outs: pages dropped (or flagged) per deciding signal and per snapshot, with the share of
  the pages entering the stage;
* licences: the written documents and characters per licence (an openly licensed subset is a
  filter on the ``license`` column), and the pages that declared one;
* contamination: documents per benchmark;
* boilerplate: characters removed and the most removed lines (``removed_line`` rows).
"""

from __future__ import annotations

import html as html_lib
from collections import defaultdict

from .fmt import fmt_int, fmt_pct, fmt_si, wrap
from .model import RunStats
from .schema import StageEntry

__all__ = ["hygiene_section", "hygiene_lines", "hygiene_html", "HYGIENE_STAGES"]

HYGIENE_STAGES = ("opt_out", "license", "decontaminate", "boilerplate")


def _entry(funnel: list[StageEntry], stage: str) -> StageEntry | None:
    return next((s for s in funnel if s["stage"] == stage), None)


def _reason(st: StageEntry, outcome: str, reason: str) -> int:
    rows = st["kept_reasons"] if outcome == "kept" else [r for r in st["reasons"] if r["outcome"] == outcome]
    return sum(r["docs"] for r in rows if r["reason"] == reason)


def _sum(run: RunStats, stage: str, kind: str) -> dict[str, list[int]]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in run.details:
        if r.stage == stage and r.kind == kind:
            acc[r.name][0] += r.docs
            acc[r.name][1] += r.chars
    return acc


def _sorted(acc: dict[str, list[int]], key: str) -> list[dict]:
    return [{key: k, "docs": v[0], "chars": v[1]} for k, v in sorted(acc.items(), key=lambda kv: (-kv[1][0], kv[0]))]


def hygiene_section(run: RunStats, total: list[StageEntry], snapshots: dict[str, list[StageEntry]]) -> dict | None:
    """Opt-outs, licences and contamination of one run (None: none of the stages ran)."""
    cfg = run.info.config if isinstance(run.info.config, dict) else {}
    out: dict = {"opt_out": None, "license": None, "decontaminate": None, "boilerplate": None}
    st = _entry(total, "opt_out")
    if st is not None:
        per_snap = []
        for snap, funnel in sorted(snapshots.items()):
            s = _entry(funnel, "opt_out")
            if s is None:
                continue
            n = _reason(s, "dropped", "opt_out") + _reason(s, "kept", "opt_out_flagged")
            per_snap.append({"snapshot": snap, "pages": s["in_docs"], "opt_out": n,
                             "share": n / s["in_docs"] if s["in_docs"] else None})
        found = _reason(st, "dropped", "opt_out") + _reason(st, "kept", "opt_out_flagged")
        action = (cfg.get("opt_out") or {}).get("action") if isinstance(cfg.get("opt_out"), dict) else None
        out["opt_out"] = {"action": action, "pages": st["in_docs"], "opt_out": found,
                          "dropped": _reason(st, "dropped", "opt_out"), "flagged": _reason(st, "kept", "opt_out_flagged"),
                          "share": found / st["in_docs"] if st["in_docs"] else None,
                          "per_signal": _sorted(_sum(run, "opt_out", "opt_out_signal"), "signal"),
                          "tdm_policy": sum(v[0] for v in _sum(run, "opt_out", "tdm_policy").values()),
                          "per_snapshot": per_snap}
    st = _entry(total, "license")
    if st is not None:
        written = _sorted(_sum(run, "write", "license"), "license")
        out["license"] = {"pages": st["in_docs"], "licensed_pages": _reason(st, "kept", "licensed"),
                          "pages_per_license": _sorted(_sum(run, "license", "page_license"), "license"),
                          "written": written, "written_docs": sum(w["docs"] for w in written),
                          "written_chars": sum(w["chars"] for w in written)}
    st = _entry(total, "decontaminate")
    if st is not None:
        mode = (cfg.get("decontaminate") or {}).get("mode") if isinstance(cfg.get("decontaminate"), dict) else None
        out["decontaminate"] = {"mode": mode, "docs": st["in_docs"], "chars": st["in_chars"],
                                "dropped": _reason(st, "dropped", "contaminated"),
                                "flagged": _reason(st, "kept", "contamination_flagged"),
                                "per_benchmark": _sorted(_sum(run, "decontaminate", "benchmark"), "benchmark")}
    st = _entry(total, "boilerplate")
    if st is not None:
        kept_chars = sum(r["chars"] for r in st["kept_reasons"])
        dropped_chars = st["dropped_chars"]
        # characters removed: what entered, less what it kept and the emptied documents' text
        removed = max(0, st["in_chars"] - kept_chars - dropped_chars)
        lines = _sorted(_sum(run, "boilerplate", "removed_line"), "line")
        out["boilerplate"] = {"docs": st["in_docs"], "chars_in": st["in_chars"], "chars_removed": removed + dropped_chars,
                              "share_removed": (removed + dropped_chars) / st["in_chars"] if st["in_chars"] else None,
                              "docs_changed": _reason(st, "kept", "lines_removed"),
                              "docs_emptied": _reason(st, "dropped", "emptied"), "top_lines": lines[:50]}
    return out if any(v is not None for v in out.values()) else None


def hygiene_lines(h: dict, width: int) -> list[str]:
    """The terminal lines of the section."""
    L: list[str] = []
    o = h.get("opt_out")
    if o is not None:
        L.extend(wrap(f"opt-out ({o['action'] or '?'}): {fmt_int(o['opt_out'])} of {fmt_int(o['pages'])} pages "
                      f"({fmt_pct(o['share'])}); {fmt_int(o['tdm_policy'])} name a TDMRep policy", width, "  "))
        for s in o["per_signal"]:
            L.append(f"  {s['signal']:<24} {fmt_int(s['docs']):>8} pages")
        for s in o["per_snapshot"]:
            L.append(f"  {s['snapshot']:<24} {fmt_int(s['opt_out']):>8} of {fmt_int(s['pages'])} ({fmt_pct(s['share'])})")
    lic = h.get("license")
    if lic is not None:
        L.extend(wrap(f"licences: {fmt_int(lic['licensed_pages'])} of {fmt_int(lic['pages'])} pages declare one; "
                      f"written: {fmt_int(lic['written_docs'])} documents, {fmt_si(lic['written_chars'])} characters",
                      width, "  "))
        for w in lic["written"]:
            L.append(f"  {w['license']:<24} {fmt_int(w['docs']):>8} docs {fmt_si(w['chars']):>8} chars")
    d = h.get("decontaminate")
    if d is not None:
        n = d["dropped"] + d["flagged"]
        L.extend(wrap(f"contamination ({d['mode'] or '?'}): {fmt_int(n)} of {fmt_int(d['docs'])} documents hold a "
                      f"benchmark item", width, "  "))
        for b in d["per_benchmark"]:
            L.append(f"  {b['benchmark'][:40]:<40} {fmt_int(b['docs']):>8} docs")
    b = h.get("boilerplate")
    if b is not None:
        L.extend(wrap(f"boilerplate lines: {fmt_si(b['chars_removed'])} of {fmt_si(b['chars_in'])} characters removed "
                      f"({fmt_pct(b['share_removed'])}); {fmt_int(b['docs_changed'])} documents lost lines, "
                      f"{fmt_int(b['docs_emptied'])} emptied; most removed:", width, "  "))
        for t in b["top_lines"][:10]:
            L.extend(wrap(f"{fmt_int(t['docs']):>7} docs  {t['line'][:100]}", width, "                "))
    return L


def hygiene_html(m: dict) -> str:
    """One run's panel: the same numbers as tables."""
    h = m.get("hygiene")
    if not h:
        return '<div class="empty">no opt-out, licence, decontamination or boilerplate stage in this run</div>'
    esc = html_lib.escape
    P: list[str] = []

    def table(title: str, head: list[str], rows: list[list]) -> None:
        P.append(f"<h4>{esc(title)}</h4><table><tr>" + "".join(f'<th class="l">{esc(x)}</th>' for x in head) + "</tr>")
        for r in rows:
            P.append("<tr>" + "".join(f'<td class="l">{esc(str(x))}</td>' for x in r) + "</tr>")
        P.append("</table>")

    o = h.get("opt_out")
    if o is not None:
        table(f"Opt-outs ({o['action'] or '?'}): {fmt_int(o['opt_out'])} of {fmt_int(o['pages'])} pages",
              ["signal", "pages"], [[s["signal"], fmt_int(s["docs"])] for s in o["per_signal"]])
        table("Opt-outs per snapshot", ["snapshot", "opt-out", "pages", "share"],
              [[s["snapshot"], fmt_int(s["opt_out"]), fmt_int(s["pages"]), fmt_pct(s["share"])] for s in o["per_snapshot"]])
    lic = h.get("license")
    if lic is not None:
        table(f"Licences of the written documents ({fmt_int(lic['licensed_pages'])} pages declared one)",
              ["licence", "documents", "characters"],
              [[w["license"], fmt_int(w["docs"]), fmt_si(w["chars"])] for w in lic["written"]])
    d = h.get("decontaminate")
    if d is not None:
        table(f"Contamination ({d['mode'] or '?'}): {fmt_int(d['dropped'] + d['flagged'])} of {fmt_int(d['docs'])} documents",
              ["benchmark", "documents"], [[b["benchmark"], fmt_int(b["docs"])] for b in d["per_benchmark"]])
    b = h.get("boilerplate")
    if b is not None:
        table(f"Boilerplate lines: {fmt_si(b['chars_removed'])} characters removed ({fmt_pct(b['share_removed'])}), "
              f"{fmt_int(b['docs_changed'])} documents changed", ["most removed line", "documents", "characters"],
              [[t["line"], fmt_int(t["docs"]), fmt_si(t["chars"])] for t in b["top_lines"]])
    return "".join(P)
