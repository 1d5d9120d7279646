"""The real-text labels: Japanese documents of ``../shared/crawl`` labelled in place.

``real_crawl_labels.jsonl`` holds, per WARC response record, its identifiers (``warc_file``
relative to the crawl folder, ``warc_offset``, ``record_id``), the SHA-256 of the text it was
labelled on, the label (good / bad / mixed) and grade, and a short description in English —
never the text.  :func:`load_real` reads the crawl, decodes and extracts each labelled record
the way it was labelled (``corpus.charset.decode_html`` then ``corpus.extract.trafilatura_extract``)
and returns one entry per distinct text, ``mixed`` ones left out (they are neither).  A record
whose text no longer hashes the same (another trafilatura version) is kept and counted.
"""

from __future__ import annotations

import hashlib
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = os.path.join(HERE, "real_crawl_labels.jsonl")


def read_labels(path: str = LABELS) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def load_real(shared: str, path: str = LABELS, log=print) -> list[dict]:
    """``[{"text", "label", "grade", "record_id", "same_text", "html"}]`` for the good and bad
    records (one per distinct text; ``html``: the decoded page); ``[]`` without ``shared/crawl``."""
    if not os.path.isdir(os.path.join(shared, "crawl")):
        return []
    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import trafilatura_extract
    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.corpus.read import FileReport, ReadConfig, ReadStage, read_pages
    from jawebcorpus.corpus.stage import Count

    want = {(r["warc_file"], r["warc_offset"]): r for r in read_labels(path)}
    out, seen, found = [], set(), 0
    count = Count(ReadStage)
    for inp in resolve_paths([os.path.join(shared, "crawl")]):
        rep = FileReport(inp.path, inp.rel, inp.snapshot)
        with open(inp.path, "rb") as f:
            for d in read_pages(f, inp, ReadConfig(), count, rep):
                lab = want.get((d.warc_file, d.warc_offset))
                if lab is None or d.warc_record_id != lab["record_id"]:
                    continue
                found += 1
                html = decode_html(d.body, d.http_charset).text
                text = trafilatura_extract(html) or ""
                sha = hashlib.sha256(text.encode()).hexdigest()
                key = lab["text_sha256"]
                if lab["label"] == "mixed" or key in seen:
                    continue
                seen.add(key)
                out.append({"text": text, "label": lab["label"], "grade": lab["grade"], "record_id": lab["record_id"],
                            "same_text": sha == key, "html": html})
    changed = sum(not r["same_text"] for r in out)
    log(f"real-text labels: {found} of {len(want)} records found, {len(out)} distinct good/bad texts"
        + (f", {changed} extracted differently than when labelled" if changed else ""))
    return out
