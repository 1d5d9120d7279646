"""Number and text formatting shared by the terminal and the HTML renderer."""

from __future__ import annotations

__all__ = ["fmt_int", "fmt_si", "fmt_short", "fmt_pct", "bar", "fit", "wrap", "stage_label"]


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


def fmt_pct(x) -> str:
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


def bar(x, width: int = 10) -> str:
    """A share as a bar of ``width`` cells, in eighths."""
    if x is None:
        return " " * width
    x = min(max(x, 0.0), 1.0)
    eighths = int(round(x * width * 8))
    if x > 0 and eighths == 0:
        eighths = 1
    full, part = divmod(eighths, 8)
    s = "█" * full + ("" if part == 0 else "▏▎▍▌▋▊▉"[part - 1])
    return s + "░" * (width - len(s))


def fit(s: str, width: int) -> str:
    """Cut to ``width`` characters, with an ellipsis."""
    return s if len(s) <= width else s[: max(0, width - 1)] + "…"


def stage_label(stage: str) -> str:
    return "written" if stage == "write" else stage


def wrap(text: str, width: int, indent: str = "") -> list[str]:
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
    return [fit(x, width) for x in lines]

