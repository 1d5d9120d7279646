"""Inline SVG charts for the HTML page: horizontal bars and histograms, nothing fetched.

Every text shown goes through :func:`esc`.  Charts side by side share their scale (``xmax`` /
``ymax``), so panels compare at a glance.
"""

from __future__ import annotations

import html
import math

from .fmt import fit, fmt_int, fmt_pct, fmt_short

__all__ = ["KEPT", "DROP", "MARK", "esc", "legend", "nice", "svg_hbars", "svg_hist"]

#: Colours of kept and dropped documents, and of a threshold line.
KEPT, DROP, MARK = "#2b6cb0", "#e53e3e", "#1a202c"


def esc(s) -> str:
    """HTML-escaped text (quotes too); None is empty."""
    return html.escape("" if s is None else str(s), quote=True)


def legend(items) -> str:
    """A colour legend of (name, colour) items."""
    return '<div class="legend">' + "".join(f'<span><i style="background:{c}"></i>{esc(n)}</span>' for n, c in items) + "</div>"


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
                       f'{esc(fmt(v))}</text>')
    for i, row in enumerate(rows):
        label, values, note = row[0], row[1], row[2]
        title = row[3] if len(row) > 3 else None
        y = top + i * row_h
        ty = y + n_series * bar_h / 2 + 4
        out.append(f'<text x="{label_w - 6}" y="{ty:.1f}" font-size="12" text-anchor="end" fill="#2d3748">'
                   f'{esc(fit(str(label), 24))}</text>')
        maxx = x0
        for j, ((sname, color), v) in enumerate(zip(series, values)):
            w = scale(v) * plot_w
            if v and w < 1.5:
                w = 1.5
            by = y + (0 if overlay else j * bar_h)
            tip = f"<title>{esc(label)} · {esc(sname)}: {esc(fmt(v))}</title>" if v is not None else ""
            out.append(f'<rect x="{x0}" y="{by}" width="{w:.1f}" height="{bar_h - 2}" fill="{color}" rx="2">{tip}</rect>')
            maxx = max(maxx, x0 + w)
        if note:
            out.append(f'<text x="{maxx + 5:.1f}" y="{ty:.1f}" font-size="11" fill="#4a5568">{esc(note)}</text>')
        if title:
            out.append(f"<title>{esc(title)}</title>")
    out.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{height - 2}" stroke="#a0aec0"/>')
    out.append("</svg>")
    return "".join(out)


def svg_hist(labels: list[str], values: list[float], ymax: float, *, color: str = KEPT, width: int = 300,
             height: int = 150, title: str = "", xlabels_every: int = 4, yfmt=fmt_short,
             mark_at: float | None = None, mark_label: str = "", colors: list[str] | None = None) -> str:
    """Vertical bars with a shared y maximum (for side-by-side comparison).

    ``mark_at``: a vertical line at that position on the x axis, in bars from the left edge
    (a threshold), labelled ``mark_label``; ``colors``: one colour per bar instead of ``color``.
    """
    left, bottom, top = 40, 24, 30 if title else 8
    pw, ph = width - left - 8, height - bottom - top
    yt = _ticks(ymax, 3, integer=True) if ymax > 0 else [0.0]
    ymax = yt[-1] if yt[-1] > 0 else 1.0
    n = max(1, len(values))
    bw = pw / n
    out = [_svg_open(width, height)]
    if title:
        out.append(f'<text x="{left}" y="13" font-size="12" font-weight="600" fill="#2d3748">{esc(title)}</text>')
    for v in yt:
        y = top + ph - (v / ymax * ph if ymax else 0)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#edf2f7"/>')
        out.append(f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end" fill="#718096">{esc(yfmt(v))}</text>')
    for i, (lab, v) in enumerate(zip(labels, values)):
        h = (v / ymax * ph) if ymax else 0
        if v and h < 1:
            h = 1
        x = left + i * bw
        fill = colors[i] if colors and i < len(colors) else color
        out.append(f'<rect x="{x + 0.5:.1f}" y="{top + ph - h:.1f}" width="{max(bw - 1, 0.5):.1f}" height="{h:.1f}" '
                   f'fill="{fill}"><title>{esc(lab)}: {fmt_int(v)}</title></rect>')
        if i % xlabels_every == 0:
            out.append(f'<text x="{x + bw / 2:.1f}" y="{height - bottom + 13}" font-size="10" text-anchor="middle" '
                       f'fill="#718096">{esc(lab)}</text>')
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{width - 8}" y2="{top + ph}" stroke="#a0aec0"/>')
    if mark_at is not None:
        mx = left + max(0.0, min(float(mark_at), n)) * bw
        anchor = "end" if mx > left + pw * 0.6 else "start"
        tx = mx - 4 if anchor == "end" else mx + 4
        out.append(f'<line class="threshold" x1="{mx:.1f}" y1="{top - 4}" x2="{mx:.1f}" y2="{top + ph}" '
                   f'stroke="{MARK}" stroke-width="2" stroke-dasharray="5,3"/>')
        if mark_label:
            out.append(f'<text x="{tx:.1f}" y="{top + 8}" font-size="11" text-anchor="{anchor}" fill="{MARK}">'
                       f'{esc(mark_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def nice(x: float) -> float:
    """A round axis maximum ≥ x (1, 2, 2.5, 5 × 10^k)."""
    if x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** k >= x * 0.999:
            return m * 10 ** k
    return 10 ** (k + 1)
