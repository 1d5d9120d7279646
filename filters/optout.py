"""Opt-out signals: pages whose publisher reserves text-and-data mining or AI use (pure Python).

Signals read (the value of :attr:`OptOut.signal`, in this order of priority)
---------------------------------------------------------------------------
========================== =======================================================================
signal                     where
========================== =======================================================================
``tdm-reservation``        HTTP response header ``tdm-reservation: 1`` (W3C TDMRep, Final Report
                           of 2024; ``tdm-policy: <URL>`` recorded in :attr:`OptOut.tdm_policy`)
``meta-tdm-reservation``   ``<meta name="tdm-reservation" content="1">`` in the page (with
                           ``<meta name="tdm-policy" content="<URL>">``)
``x-robots-tag:noai``      the ``noai`` directive in an ``X-Robots-Tag`` response header, bare
                           (``X-Robots-Tag: noai, noimageai``) or for a user agent
                           (``X-Robots-Tag: otherbot: noindex, noai``)
``meta-robots:noai``       ``noai`` in ``<meta name="robots" content="…">``, or in a ``<meta>``
                           named after a user agent (``<meta name="ccbot" content="noai">``)
========================== =======================================================================

Rules (each is a test in ``tests/test_optout.py``)
-------------------------------------------------
* **TDMRep** values: ``1`` reserves, ``0`` does not; any other value is a protocol error and
  counts as unset (the spec's rule).  The page's ``<meta>`` supersedes the HTTP header
  (the spec's processing priority: header, then HTML metadata, each superseding what came
  before, and an absent value does not reset an earlier one), so ``tdm-reservation: 1`` in the
  header with ``<meta name="tdm-reservation" content="0">`` is *not* an opt-out, and the reverse
  is.  Within one technique a repeated field counts as reserved when any of its valid values
  is ``1``.  The site-wide ``/.well-known/tdmrep.json`` is not read: it is not part of the page's
  capture.  ``tdm-policy`` is recorded only with a reservation (the spec: not processed
  otherwise); the page's policy wins over the header's, as the reservation does.
* **noai** (the DeviantArt convention of 2022, used by other publishers since): the token
  ``noai``, case-insensitive, among the comma- or space-separated directives.  ``noimageai``
  alone is not an opt-out (images are not our data), nor are ``noindex``, ``nofollow``,
  ``none``, ``noarchive`` or ``nosnippet`` (they are about search engines).
* **Which user agents count: all of them.**  The directive is about what may be done with the
  content, and whoever trains on this corpus is not a crawler that the publisher could have
  named; a publisher that writes ``noai`` for any agent has said the content is not for AI use.
  The agent is recorded (:attr:`OptOut.agent`, None when the directive names no agent), so a
  stricter or looser policy can be applied from the column.  In a header, ``name:`` before
  directives names an agent unless the name is a directive that takes a value
  (``max-snippet``, ``max-image-preview``, ``max-video-preview``, ``unavailable_after``).
* **Which ``<meta>`` names count**: ``robots``, and any other name that can be a user agent's
  (letters, digits, ``-``, ``_``, ``.``; not one of the standard metadata names such as
  ``description``, ``keywords``, ``author``, ``generator``, ``viewport``) **whose content is only
  robots directives** (every token a known directive: ``noai``, ``noindex``, ``max-snippet:…``
  …), so a description or keyword list that mentions "noai" is not an opt-out.  This follows
  the robots meta tag's own rule, where the name is ``robots`` or a crawler's user agent.
* **Where in the page**: ``<meta>`` tags in the first :data:`HEAD_SCAN_CHARS` characters
  (512 Ki; on ``../shared/crawl`` the last robots ``<meta>`` starts at 264,601 and 99 % start
  before 118,064), outside comments, ``<script>`` and ``<style>``.  ``http-equiv`` metas are not
  read (neither convention uses them).

Cost and bounds: the page prefix is read once, left to right: a search for the next ``<!--``,
``<script``, ``<style`` or ``<meta`` (case-insensitive), a jump over a comment or script to its
end, and :func:`filters.htmltags.parse_tag` of a ``<meta>`` tag only when its text up to the
first ``>`` mentions ``noai`` or ``tdm-`` in any case (the rest are skipped after one
``str.find``).  Each character is read a bounded number of times; header values are read up to
8 KiB each, at most 64 relevant headers.  ``tests/test_optout.py`` runs 100,000 repeated
partial tags under the limits of ``tests/_bounded.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from .htmltags import parse_tag

__all__ = ["OptOut", "SIGNALS", "HEAD_SCAN_CHARS", "find_opt_out", "header_opt_out", "html_opt_out",
           "robots_directives"]

SIGNALS: tuple[str, ...] = ("tdm-reservation", "meta-tdm-reservation", "x-robots-tag:noai", "meta-robots:noai")
HEAD_SCAN_CHARS = 512 * 1024
_MAX_HEADER_VALUE = 8 * 1024
_MAX_HEADERS = 64
_MAX_CONTENT = 8 * 1024

#: Directives of the robots meta tag and X-Robots-Tag (Google's and Bing's lists, and the
#: noai convention); a token of a ``<meta>`` named after an agent must be one of these.
ROBOTS_DIRECTIVES = frozenset({
    "all", "none", "index", "noindex", "follow", "nofollow", "noarchive", "nocache", "nosnippet",
    "noodp", "noydir", "notranslate", "noimageindex", "indexifembedded", "nositelinkssearchbox",
    "max-snippet", "max-image-preview", "max-video-preview", "unavailable_after", "noai", "noimageai",
})
_VALUED = frozenset({"max-snippet", "max-image-preview", "max-video-preview", "unavailable_after"})
#: Standard and widespread ``<meta name>`` values that are not user agents.
_NOT_AGENTS = frozenset({
    "description", "keywords", "author", "generator", "viewport", "application-name", "theme-color",
    "color-scheme", "referrer", "creator", "publisher", "copyright", "rating", "format-detection",
    "msapplication-tilecolor", "msapplication-tileimage", "msapplication-config", "apple-mobile-web-app-title",
    "apple-mobile-web-app-capable", "apple-mobile-web-app-status-bar-style", "mobile-web-app-capable",
    "google-site-verification", "msvalidate.01", "yandex-verification", "csrf-token", "csrf-param",
    "title", "subject", "abstract", "topic", "summary", "classification", "category", "language",
    "news_keywords", "twitter:card", "twitter:title", "twitter:description", "thumbnail", "date",
    "tdm-reservation", "tdm-policy",
})
_AGENT_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_SPLIT = re.compile(r"[\s,]+")
#: The next place of interest in a page's head: a comment, a script or style element, a meta tag.
_NEXT = re.compile(r"<(?:!--|[sS][cC][rR][iI][pP][tT](?=[\s/>])|[sS][tT][yY][lL][eE](?=[\s/>])|[mM][eE][tT][aA](?=[\s/>]))")
_END_SCRIPT = re.compile(r"</[sS][cC][rR][iI][pP][tT]")
_END_STYLE = re.compile(r"</[sS][tT][yY][lL][eE]")


@dataclass(frozen=True, slots=True)
class OptOut:
    """A page's opt-out: what the stage drops (reason ``opt_out``) or records (column ``opt_out``)."""

    #: the deciding signal, the first of :data:`SIGNALS` that holds
    signal: str
    #: every signal that holds, in the order of :data:`SIGNALS`
    signals: tuple[str, ...]
    #: the user agent a ``noai`` was written for (lower-cased); None when it names none (or for
    #: the TDMRep signals, which name none)
    agent: str | None = None
    #: the TDMRep policy URL of a reservation, as written (at most 2,048 characters)
    tdm_policy: str | None = None


def _tdm_value(value: str) -> int | None:
    v = value.strip().strip('"').strip()
    return 1 if v == "1" else 0 if v == "0" else None  # anything else: a protocol error, unset


def robots_directives(value: str) -> list[tuple[str | None, str]]:
    """``(agent or None, directive)`` pairs of an ``X-Robots-Tag`` value, lower-cased.

    ``"otherbot: noindex, noai"`` → ``[("otherbot", "noindex"), ("otherbot", "noai")]``; an agent
    applies to the directives after it, up to the next agent.  ``max-snippet: 20`` is a directive
    with a value, not an agent.
    """
    out: list[tuple[str | None, str]] = []
    agent: str | None = None
    for piece in value[:_MAX_HEADER_VALUE].split(","):
        piece = piece.strip().lower()
        if not piece:
            continue
        head, colon, rest = piece.partition(":")
        head = head.strip()
        if colon and head not in _VALUED and _AGENT_NAME.fullmatch(head):
            agent = head
            piece = rest.strip()
        elif colon and head in _VALUED:
            out.append((agent, head))
            continue
        for tok in _SPLIT.split(piece):
            if tok:
                out.append((agent, tok))
    return out


def header_opt_out(headers: Iterable[tuple[str, str]] | Mapping[str, str] | None,
                   ) -> tuple[int | None, str | None, list[str | None]]:
    """From HTTP response headers as ``(name, value)`` pairs (every occurrence, in order):
    ``(tdm-reservation 1/0/None, tdm-policy or None, agents with noai (None: no agent))``."""
    reservation: int | None = None
    policy: str | None = None
    noai: list[str | None] = []
    seen = 0
    if isinstance(headers, Mapping):  # a dict has lost repeated headers, but read what it has
        headers = headers.items()
    for name, value in headers or ():
        key = name.strip().lower()
        if key not in ("tdm-reservation", "tdm-policy", "x-robots-tag"):
            continue
        seen += 1
        if seen > _MAX_HEADERS:
            break
        value = value[:_MAX_HEADER_VALUE]
        if key == "tdm-reservation":
            v = _tdm_value(value)
            if v is not None:
                reservation = max(reservation or 0, v)
        elif key == "tdm-policy":
            if policy is None and value.strip():
                policy = value.strip()[:2048]
        else:
            noai += [agent for agent, d in robots_directives(value) if d == "noai"]
    return reservation, policy, noai


def _meta_noai(name: str, content: str) -> tuple[bool, str | None]:
    """(noai holds, agent) for one ``<meta name content>``."""
    tokens = [t for t in _SPLIT.split(content[:_MAX_CONTENT].lower()) if t]
    if "noai" not in tokens:
        return False, None
    if name == "robots":
        return True, None
    if name in _NOT_AGENTS or not _AGENT_NAME.fullmatch(name):
        return False, None
    # a meta named after an agent: every token must be a robots directive (or a directive's value)
    for t in tokens:
        base = t.split(":", 1)[0]
        if base not in ROBOTS_DIRECTIVES and not (t[:1].isdigit() or t[:1] == "-" or t in ("large", "standard")):
            return False, None
    return True, name


def html_opt_out(html: str | bytes | None, scan_chars: int = HEAD_SCAN_CHARS) -> tuple[int | None, str | None, list[str | None]]:
    """From the page's ``<meta>`` tags: ``(tdm-reservation 1/0/None, tdm-policy, agents with noai)``."""
    if not html:
        return None, None, []
    if isinstance(html, (bytes, bytearray, memoryview)):
        html = bytes(html[:scan_chars * 4]).decode("utf-8", "replace")
    end = min(len(html), scan_chars)
    reservation: int | None = None
    policy: str | None = None
    noai: list[str | None] = []
    pos = 0
    search = _NEXT.search
    while pos < end:
        m = search(html, pos, end)
        if m is None:
            break
        start = m.start()
        kind = html[start + 1:start + 3]
        if kind == "!-":
            close = html.find("-->", m.end(), end)
            if close < 0:
                break  # the rest of the window is a comment
            pos = close + 3
            continue
        if kind[0] in "sS":
            closer = (_END_SCRIPT if kind[1] in "cC" else _END_STYLE).search(html, m.end(), end)
            if closer is None:
                break
            pos = closer.end()
            continue
        # <meta: read it only when its text mentions noai or tdm- (one find and a short slice)
        gt = html.find(">", m.end(), end)
        raw = html[m.end():gt if gt >= 0 else end].lower()
        if "noai" not in raw and "tdm-" not in raw and raw.count('"') % 2 == 0 and raw.count("'") % 2 == 0:
            if gt < 0:
                break
            pos = gt + 1
            continue
        tag = parse_tag(html, start, end)
        pos = tag.end if tag is not None and tag.end > start else m.end()
        if tag is None:
            continue
        name = tag.attrs.get("name", "").strip().lower()
        content = tag.attrs.get("content", "")
        if name == "tdm-reservation":
            v = _tdm_value(content)
            if v is not None:
                reservation = max(reservation or 0, v)
        elif name == "tdm-policy":
            if policy is None and content.strip():
                policy = content.strip()[:2048]
        elif name:
            hit, agent = _meta_noai(name, content)
            if hit:
                noai.append(agent)
    return reservation, policy, noai


def find_opt_out(headers: Iterable[tuple[str, str]] | Mapping[str, str] | None = None, html: str | bytes | None = None,
                 scan_chars: int = HEAD_SCAN_CHARS) -> OptOut | None:
    """The page's opt-out, or None.

    ``headers``: the HTTP response headers as ``(name, value)`` pairs, every occurrence of a
    repeated header included (a dict keeping the first of each name would lose the second
    ``X-Robots-Tag``); ``html``: the decoded page (``str``), or its bytes (decoded as UTF-8 with
    replacement for the scan: the tags read are ASCII).
    """
    h_res, h_pol, h_noai = header_opt_out(headers)
    m_res, m_pol, m_noai = html_opt_out(html, scan_chars)
    signals = []
    agent = None
    policy = None
    # TDMRep: the page's meta supersedes the header; an absent value resets nothing
    if m_res is not None:
        if m_res == 1:
            signals.append("meta-tdm-reservation")
            if h_res == 1:
                signals.insert(0, "tdm-reservation")
            policy = m_pol or h_pol
    elif h_res == 1:
        signals.append("tdm-reservation")
        policy = h_pol
    if h_noai:
        signals.append("x-robots-tag:noai")
    if m_noai:
        signals.append("meta-robots:noai")
    if not signals:
        return None
    if not signals[0].endswith("tdm-reservation"):
        agents = h_noai if h_noai else m_noai
        agent = None if None in agents else agents[0]
    return OptOut(signals[0], tuple(signals), agent, policy)
