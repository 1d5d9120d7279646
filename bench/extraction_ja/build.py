#!/usr/bin/env python3
"""Build the Japanese extraction set: ``pages/*.html`` and ``ground-truth.json``.

Every page's main content is written once, as blocks (``content_*.py``), and rendered twice:
into the page's HTML inside a site template (navigation, breadcrumbs, share buttons, ads,
related links, comments, sidebars, footers, cookie banners, as such sites have them) and into
its ground-truth text.  So the ground truth is exactly the text of the content blocks, never a
re-typed copy.  See README.md for what counts as content.

Block kinds (``(kind, value)``):

* content (in the ground truth): ``p`` paragraph, ``h2``/``h3`` heading, ``ul``/``ol`` list,
  ``table`` (first row is the header row), ``dl`` (term, description) pairs, ``pre`` code,
  ``quote`` block quotation, ``br`` lines separated by ``<br>`` (an empty line: ``<br><br>``),
  as many Japanese blogs write, ``post`` (forum: ``(header, body)``, the body is content);
* not content (rendered, left out of the ground truth): ``ad``, ``share``, ``caption``,
  ``related`` (inline links to other articles), ``pullquote``, ``note`` (a template notice).

Inline markup in text: ``[text](href)`` is a link, ``**text**`` is ``<strong>``.

Standard library only, deterministic.  Usage: ``python bench/extraction_ja/build.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import boiler  # noqa: E402  (site templates, in this folder)
from boiler import inline_html, inline_text  # noqa: E402,F401

CONTENT = {"p", "h2", "h3", "ul", "ol", "table", "dl", "pre", "quote", "br", "post"}


def block_text(kind: str, value) -> str:
    """The ground-truth text of one content block (lines joined with newlines)."""
    if kind in ("p", "h2", "h3", "quote"):
        return inline_text(value)
    if kind in ("ul", "ol"):
        return "\n".join(inline_text(v) for v in value)
    if kind == "table":
        return "\n".join(" ".join(inline_text(c) for c in row) for row in value)
    if kind == "dl":
        return "\n".join(f"{inline_text(t)}\n{inline_text(d)}" for t, d in value)
    if kind == "pre":
        return value
    if kind == "br":
        return "\n".join(inline_text(v) for v in value.split("\n") if v.strip())
    if kind == "post":
        return "\n".join(inline_text(v) for v in value[1].split("\n") if v.strip())
    raise ValueError(kind)


def ground_truth(page: dict) -> str:
    return "\n".join(block_text(k, v) for k, v in page["blocks"] if k in CONTENT)


def main() -> None:
    import content_a
    import content_b
    import content_c

    pages = [*content_a.PAGES, *content_b.PAGES, *content_c.PAGES]
    ids = [p["id"] for p in pages]
    if len(set(ids)) != len(ids):
        raise SystemExit("duplicate page ids")
    out_dir = HERE / "pages"
    out_dir.mkdir(exist_ok=True)
    for old in out_dir.glob("*.html"):
        old.unlink()
    truth = {}
    for page in pages:
        doc = boiler.render(page)
        (out_dir / f"{page['id']}.html").write_text(doc, encoding="utf-8")
        truth[page["id"]] = {
            "file": f"pages/{page['id']}.html",
            "layout": page["site"],
            "kind": page["kind"],
            "title": page["title"],
            "text": ground_truth(page),
        }
    (HERE / "ground-truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(pages)} pages, {sum(len(t['text']) for t in truth.values())} characters of ground truth")


if __name__ == "__main__":
    main()
