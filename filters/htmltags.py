"""Reading single tags of untrusted HTML in linear time: a tag's name and attributes.

The opt-out scanner (``filters/optout.py``) reads the ``<meta>`` tags of a page's head and the
licence scanner (``filters/license.py``) the ``<a>`` and ``<link>`` tags around a Creative
Commons URL.  Neither needs a DOM, and neither may cost more than a bounded amount per
character of the page, whatever the page holds (``docs/untrusted-input.md``).

:func:`parse_tag` reads one tag the way the HTML tokenizer does, simplified where it does not
matter here: the tag name is ``<`` followed by a letter and anything up to whitespace, ``/`` or
``>``; attributes are separated by whitespace or ``/``; a name may be followed by ``=`` and a
value, double-quoted, single-quoted (a ``>`` inside quotes does not end the tag) or unquoted;
the first of two attributes with the same name wins; names are compared lower-cased; character
references in values are decoded.  A quote that is never closed runs to the end of the window,
as in the HTML tokenizer (which then drops the tag): the tag is unterminated.

Cost: one regular-expression match per attribute, each with single quantifiers over disjoint
character classes (no nested or adjacent quantifiers over the same characters), so a tag costs
time linear in its length, and every call reads at most ``end - pos`` characters.
"""

from __future__ import annotations

import html as _html
import re
from dataclasses import dataclass

__all__ = ["Tag", "parse_tag", "MAX_ATTRS"]

#: Attributes read per tag; the rest of a longer tag is skipped (still in linear time).
MAX_ATTRS = 256

_NAME = re.compile(r"<([A-Za-z][^\s/>]*)")
# Whitespace and slashes, then an attribute: a name, and optionally '=' and a value.  A double-
# or single-quoted value runs to its closing quote or, unclosed, to the end of the window.
_ATTR = re.compile(
    r"""[\s/]*(?:([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"?|'([^']*)'?|([^\s>]*)))?)?"""
)


@dataclass(frozen=True, slots=True)
class Tag:
    name: str  # lower-cased
    attrs: dict[str, str]  # lower-cased names; values with character references decoded
    start: int  # index of '<'
    end: int  # index after '>' (or the window end when the tag is unterminated)
    closed: bool  # a '>' ended the tag


def _value(raw: str) -> str:
    return _html.unescape(raw) if "&" in raw else raw


def parse_tag(s: str, pos: int, end: int | None = None) -> Tag | None:
    """The tag starting at ``s[pos]`` (which must be ``<``), read no further than ``end``.

    None when no tag starts there (``<`` not followed by a letter).  Reading stops at the ``>``
    that ends the tag; a tag with no such ``>`` before ``end`` is returned with ``closed=False``
    and ``end`` at the window's end.
    """
    if end is None or end > len(s):
        end = len(s)
    m = _NAME.match(s, pos, end)
    if m is None:
        return None
    name = m.group(1).lower()
    attrs: dict[str, str] = {}
    i = m.end()
    n_attrs = 0
    match = _ATTR.match
    while i < end:
        a = match(s, i, end)
        j = a.end()
        if j >= end:
            key = a.group(1)
            if key is not None and n_attrs < MAX_ATTRS:
                attrs.setdefault(key.lower(), _value(a.group(2) or a.group(3) or a.group(4) or ""))
            return Tag(name, attrs, pos, end, False)
        if s[j] == ">" and a.group(1) is None:
            return Tag(name, attrs, pos, j + 1, True)
        key = a.group(1)
        if key is not None:
            if n_attrs < MAX_ATTRS:
                val = a.group(2)
                if val is None:
                    val = a.group(3)
                if val is None:
                    val = a.group(4) or ""
                attrs.setdefault(key.lower(), _value(val))
            n_attrs += 1
        if s[j] == ">":
            return Tag(name, attrs, pos, j + 1, True)
        i = j if j > i else i + 1  # always forward (a match is never empty here: see _ATTR)
    return Tag(name, attrs, pos, end, False)
