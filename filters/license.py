"""Licences: the Creative Commons licence a page declares with ``rel="license"`` (pure Python).

What counts
-----------
A link to a Creative Commons licence or public-domain tool, in an ``<a>`` or ``<link>`` tag whose
``rel`` holds the token ``license`` (``rel`` is a space-separated token list: ``rel="license
noopener"`` counts; the RDFa form ``cc:license`` counts too).  Attribute order, quoting and case
do not matter.  A link to creativecommons.org *without* ``rel="license"`` is not a declaration
(sites link the licence chooser, the CC blog, a licence they discuss, …) and gives nothing.

The URL (``http``/``https``, ``//``, with or without ``www.``, any case, a ``?query`` or
``#fragment`` ignored, a Wayback Machine copy ``web.archive.org/web/<timestamp>/<url>`` unwrapped)
is normalised to a lower-case identifier, SPDX's where SPDX has one:

================================================ ==========================================
URL path (after ``creativecommons.org``)          identifier
================================================ ==========================================
``/licenses/by/4.0/``, ``…/deed.ja``, ``…/legalcode``  ``cc-by-4.0``
``/licenses/by-nc-sa/2.1/jp/`` (a ported licence)  ``cc-by-nc-sa-2.1-jp``
``/licenses/by-nd-nc/1.0/`` (1.0's element order)   ``cc-by-nc-nd-1.0``
``/licenses/nc-sa/1.0/`` (1.0 without BY)          ``cc-nc-sa-1.0``
``/publicdomain/zero/1.0/``                         ``cc0-1.0``
``/publicdomain/mark/1.0/``                         ``pdm-1.0``
``/licenses/publicdomain/``                         ``cc-pddc`` (the retired PD dedication)
================================================ ==========================================

Licence elements are ``by``, ``nc``, ``nd``, ``sa`` (written in that order; ``nd`` and ``sa``
never together); versions 1.0, 2.0, 2.1, 2.5, 3.0, 4.0; a port is a jurisdiction code (two
letters, optionally ``-xx``, or ``scotland``, ``igo``) and only before 4.0; after the version or
port only ``deed``, ``deed.<language>``, ``legalcode``, ``legalcode.<language>`` or ``rdf``.
Anything else (a licence URL missing its version, the sampling licences, a typo with a space
inside) is not recognised.

A link inside an HTML comment is not a declaration (a licence the author took out of the page).

**When a page declares several licences**: the first in document order wins
(:attr:`LicenseResult.license`); every distinct one is kept in :attr:`LicenseResult.licenses`
so a stricter reader can treat a page with conflicting declarations (a site licence and a
different one on an embedded article) as unlicensed.

Cost and bounds: the page is searched for ``creativecommons.org`` (case-insensitive) and only
the tag around each occurrence is read (:func:`filters.htmltags.parse_tag`, from the nearest
``<`` at most :data:`TAG_WINDOW` characters before it).  A region of the page is read as a tag
at most once (each tag search starts after the end of the last tag read), the comments are
walked once, forward, at most :data:`MAX_CANDIDATES` occurrences are looked at, and the page is
read up to :data:`SCAN_CHARS`; so the cost is linear in the page and bounded per page.
Occurrences are found with ``str.find`` (see :func:`_cc_starts`): 9 µs a page on the Japanese
pages of ``../shared/crawl``, where a case-insensitive regular expression took 10 times as long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .htmltags import parse_tag

__all__ = ["LicenseResult", "find_license", "normalise_cc_url", "SCAN_CHARS", "TAG_WINDOW", "MAX_CANDIDATES"]

SCAN_CHARS = 8 * 1024 * 1024
TAG_WINDOW = 4096
MAX_CANDIDATES = 1000

_CC_RE = re.compile(r"creativecommons\.org", re.I)
_URL_RE = re.compile(
    r"(?:https?:)?//(?:www\.)?creativecommons\.org(/[^?#\s]*)", re.I)
_WAYBACK_RE = re.compile(r"(?:https?:)?//web\.archive\.org/web/[0-9]{1,14}[a-z_]{0,4}/", re.I)
_VERSIONS = frozenset({"1.0", "2.0", "2.1", "2.5", "3.0", "4.0"})
_ELEMENT_ORDER = ("by", "nc", "nd", "sa")
_PORT_RE = re.compile(r"[a-z]{2}(?:-[a-z]{2})?|scotland|igo")
_TAIL_RE = re.compile(r"(?:deed|legalcode)(?:\.[a-z]{2,3}(?:[-_][a-z0-9]{2,8}){0,2})?|rdf|legalcode\.txt")


@dataclass(frozen=True, slots=True)
class LicenseResult:
    #: the page's licence: the first declared in document order
    license: str
    #: every distinct licence declared, in document order
    licenses: tuple[str, ...]
    #: the tag that declared :attr:`license` (``a`` or ``link``)
    tag: str


def _elements(code: str) -> str | None:
    parts = code.split("-")
    if not parts or len(set(parts)) != len(parts) or not set(parts) <= set(_ELEMENT_ORDER):
        return None
    if "nd" in parts and "sa" in parts:
        return None
    return "-".join(e for e in _ELEMENT_ORDER if e in parts)


def normalise_cc_url(url: str) -> str | None:
    """The identifier of a Creative Commons licence URL, or None (see the module's table)."""
    url = url.strip()
    w = _WAYBACK_RE.match(url)
    if w:
        url = url[w.end():]
        if url[:2] != "//" and "://" not in url[:8]:
            url = "//" + url
    m = _URL_RE.match(url)
    if m is None:
        return None
    segs = [s for s in m.group(1).lower().split("/")]
    # drop the empty segment after a trailing slash; an empty segment inside is malformed
    if segs and segs[0] == "":
        segs = segs[1:]
    if segs and segs[-1] == "":
        segs = segs[:-1]
    if not segs or "" in segs:
        return None
    if segs[0] == "publicdomain":
        if len(segs) >= 3 and segs[1] in ("zero", "mark") and segs[2] == "1.0" and _tail_ok(segs[3:]):
            return "cc0-1.0" if segs[1] == "zero" else "pdm-1.0"
        return None
    if segs[0] != "licenses" or len(segs) < 2:
        return None
    if segs[1] == "publicdomain":
        return "cc-pddc" if _tail_ok(segs[2:]) else None
    if len(segs) < 3:
        return None
    elements = _elements(segs[1])
    version = segs[2]
    if elements is None or version not in _VERSIONS:
        return None
    rest = segs[3:]
    port = None
    if rest and not _TAIL_RE.fullmatch(rest[0]):
        if version == "4.0" or not _PORT_RE.fullmatch(rest[0]):
            return None
        port, rest = rest[0], rest[1:]
    if not _tail_ok(rest):
        return None
    ident = f"cc-{elements}-{version}"
    return f"{ident}-{port}" if port else ident


def _tail_ok(rest: list[str]) -> bool:
    return not rest or (len(rest) == 1 and _TAIL_RE.fullmatch(rest[0]) is not None)


def _cc_starts(html: str, end: int):
    """Starts of ``creativecommons.org`` (any case) in ``html[:end]``, in order.

    Candidates are found with ``str.find`` of ``ommons.`` and ``OMMONS.`` (memchr speed; a
    case-insensitive regular expression reads every character in Python's engine, 10× slower on
    the shared crawl) and confirmed with the case-insensitive pattern; a mixed-case ``OMMONS``
    (``CreativeCommOns.org``) is not looked for.  Each needle's next position is kept, so every
    find moves forward: linear in the page, however many candidates it holds."""
    nxt = {"ommons.": html.find("ommons.", 9, end), "OMMONS.": html.find("OMMONS.", 9, end)}
    while True:
        live = [(p, k) for k, p in nxt.items() if p >= 0]
        if not live:
            return
        p, k = min(live)
        nxt[k] = html.find(k, p + 1, end)
        j = p - 9  # where "creativecommons" would start
        if _CC_RE.match(html, j, end):
            yield j


def _rel_is_license(rel: str) -> bool:
    return any(t in ("license", "cc:license") for t in rel.lower().split())


def find_license(html: str | bytes | None, scan_chars: int = SCAN_CHARS) -> LicenseResult | None:
    """The Creative Commons licence the page declares with ``rel="license"``, or None.

    ``html``: the decoded page, or its bytes (decoded as UTF-8 with replacement: the URLs and
    attributes read are ASCII)."""
    if not html:
        return None
    if isinstance(html, (bytes, bytearray, memoryview)):
        html = bytes(html[:scan_chars]).decode("utf-8", "replace")
    end = min(len(html), scan_chars)
    found: list[str] = []
    first_tag = ""
    last_end = 0
    looked = 0
    walked = comment_until = 0  # comments are known up to ``walked``; the last one ends at ``comment_until``
    for i in _cc_starts(html, end):
        if i < last_end:
            continue
        # inside a comment?  Walk the comments that start between the place walked to and i;
        # the walk only moves forward, so the page is walked once whatever the candidates
        while walked < i:
            c = html.find("<!--", walked, i)
            if c < 0:
                walked = i
                break
            close = html.find("-->", c + 4, end)
            comment_until = walked = end if close < 0 else close + 3
        if i < comment_until:
            continue
        looked += 1
        if looked > MAX_CANDIDATES:
            break
        lt = html.rfind("<", max(last_end, i - TAG_WINDOW), i)
        if lt < 0:
            continue
        tag = parse_tag(html, lt, min(end, lt + TAG_WINDOW))
        if tag is None:
            continue
        last_end = tag.end
        if tag.end <= i or tag.name not in ("a", "link"):
            continue
        if not _rel_is_license(tag.attrs.get("rel", "")):
            continue
        ident = normalise_cc_url(tag.attrs.get("href", ""))
        if ident is None:
            continue
        if not found:
            first_tag = tag.name
        if ident not in found:
            found.append(ident)
    if not found:
        return None
    return LicenseResult(found[0], tuple(found), first_tag)
