"""Ranges of numeric settings, declared next to the field they bound.

A setting is valid only if a run with it can produce a corpus: every number of every
configuration section is finite and inside a documented range, checked with the rest of the
configuration before anything is written.  A field declares its range with :func:`setting`::

    timeout_s: float = setting(5.0, 0.1, 3600)

and the section's ``validate`` calls :func:`check_settings`.  :func:`declared_ranges` lists every
declared range (``docs/configuration.md`` states them; a test keeps the two equal).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

__all__ = ["Range", "setting", "check_settings", "declared_ranges"]


@dataclass(frozen=True)
class Range:
    """``lo ≤ value ≤ hi`` (``lo < value`` with ``lo_open``); ``integer``: an ``int``;
    ``optional``: ``None`` is allowed too; ``also``: single values allowed outside the range
    (e.g. 0 meaning "automatic")."""

    lo: float
    hi: float
    integer: bool = False
    lo_open: bool = False
    optional: bool = False
    also: tuple = ()

    def describe(self) -> str:
        lo, hi = _number(self.lo), _number(self.hi)
        text = f"{'an integer' if self.integer else 'a number'} in {'(' if self.lo_open else '['}{lo}, {hi}]"
        if self.also:
            text = " or ".join(str(v) for v in self.also) + " or " + text
        if self.optional:
            text += " or unset"
        return text

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is outside the range (None: it is inside)."""
        if value is None:
            return None if self.optional else "unset"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "not a number"
        if self.integer and not isinstance(value, int):
            return "not an integer"
        if isinstance(value, float) and not math.isfinite(value):
            return "not finite"
        if value in self.also:
            return None
        below = value <= self.lo if self.lo_open else value < self.lo
        if below or value > self.hi:
            return "out of range"
        return None

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`ConfigError` naming ``name`` when ``value`` is outside the range."""
        if self.problem(value) is not None:
            shown = repr(value) if not isinstance(value, int) or abs(value) < 10**30 else f"an integer of {len(str(abs(value)))} digits"
            raise ConfigError(f"{name} must be {self.describe()}, not {shown}")


def _number(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() and abs(v) < 1e16 else f"{v:g}"


def setting(default: Any, lo: float, hi: float, **kwargs) -> Any:
    """A dataclass field with ``default`` whose values must lie in ``Range(lo, hi, **kwargs)``;
    ``integer`` is implied by an ``int`` default."""
    kwargs.setdefault("integer", isinstance(default, int) and not isinstance(default, bool))
    return field(default=default, metadata={"range": Range(lo, hi, **kwargs)})


def declared_ranges(cls_or_obj) -> dict[str, Range]:
    """``{field name: Range}`` of a configuration dataclass."""
    return {f.name: f.metadata["range"] for f in dataclasses.fields(cls_or_obj) if "range" in f.metadata}


def check_settings(obj, section: str) -> None:
    """Every field of ``obj`` with a declared range is inside it; every ``bool`` field is a bool."""
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        rng = f.metadata.get("range")
        if rng is not None:
            rng.check(f"{section}.{f.name}", value)
        elif f.type in (bool, "bool") and not isinstance(value, bool):
            raise ConfigError(f"{section}.{f.name} must be true or false, not {value!r}")
