#!/usr/bin/env python
"""What boilerplate-line removal (``filters/boilerplate.py``) would take from the shared crawl.

The documents: what ``jawebcorpus run --until pii`` writes for ``../shared/crawl`` (the text as
the dedup stage would receive it).  Each host's pages go into a :class:`HostSample`, its frequent
lines are removed from each of its pages (:func:`remove_lines`), at the default thresholds and at
looser ones.  Printed: hosts and pages per host, characters removed, the most removed lines with
the host and an example page, and every page that lost a line, so a reader can check that no
real content goes.

    python bench/bench_boilerplate.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

from _common import add_common_args, table, write_results

from jawebcorpus.corpus.record import host_of
from jawebcorpus.filters.boilerplate import (BoilerplateConfig, HostSample, doc_line_hashes, line_hash,
                                             normalise_line, remove_lines, url_key)

NAME = "bench_boilerplate"


def documents(shared: str) -> list[dict]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="bench-boilerplate-") as tmp:
        subprocess.run([sys.executable, "-m", "jawebcorpus", "run", "--quiet", "--input", os.path.join(shared, "crawl"),
                        "--output", tmp, "--until", "pii"], check=True, stdout=subprocess.DEVNULL)
        files = sorted(glob.glob(os.path.join(tmp, "data", "**", "*.parquet"), recursive=True))
        return pa.concat_tables([pq.read_table(f, columns=["url", "snapshot", "text"]) for f in files]).to_pylist()


def measure(docs: list[dict], cfg: BoilerplateConfig) -> dict:
    samples: dict[str, HostSample] = {}
    for d in docs:
        host = host_of(d["url"])
        samples.setdefault(host, HostSample(cfg.sample_docs)).add(url_key(d["url"]), doc_line_hashes(d["text"] or "", cfg))
    frequent = {h: s.frequent(cfg) for h, s in samples.items()}
    removed_chars = 0
    total_chars = sum(len(d["text"] or "") for d in docs)
    lines: Counter = Counter()
    example: dict[str, str] = {}
    changed = []
    for d in docs:
        text = d["text"] or ""
        host = host_of(d["url"])
        out, n, chars = remove_lines(text, frequent[host], cfg)
        if not n:
            continue
        removed_chars += chars
        changed.append({"url": d["url"], "lines": n, "chars": chars, "left": len(out)})
        for line in text.split("\n"):
            norm = normalise_line(line)
            if cfg.min_line_chars <= len(norm) <= cfg.max_line_chars and line_hash(norm) in frequent[host]:
                key = f"{host}\t{line.strip()}"
                lines[key] += 1
                example.setdefault(key, d["url"])
    return {"hosts": len(samples), "pages_per_host": Counter(len(s.docs) for s in samples.values()),
            "hosts_with_frequent_lines": sum(1 for f in frequent.values() if f),
            "chars": total_chars, "chars_removed": removed_chars,
            "share_removed": removed_chars / total_chars if total_chars else 0.0,
            "docs_changed": len(changed), "docs_emptied": sum(1 for c in changed if not c["left"].__bool__()),
            "top_lines": [{"host": k.split("\t")[0], "line": k.split("\t")[1], "docs": v, "example": example[k]}
                          for k, v in lines.most_common(25)],
            "changed": changed}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    args = ap.parse_args()
    docs = documents(args.shared)
    print(f"{len(docs)} documents after pii, {sum(len(d['text'] or '') for d in docs):,} characters")
    settings = {"default (min_docs 4, min_share 0.3)": BoilerplateConfig(),
                "min_docs 3": dataclasses.replace(BoilerplateConfig(), min_docs=3),
                "min_docs 2": dataclasses.replace(BoilerplateConfig(), min_docs=2)}
    results = {}
    rows = []
    for name, cfg in settings.items():
        r = measure(docs, cfg)
        results[name] = {k: (dict(v) if isinstance(v, Counter) else v) for k, v in r.items()}
        rows.append([name, r["hosts"], r["hosts_with_frequent_lines"], r["docs_changed"], f"{r['chars_removed']:,}",
                     f"{100 * r['share_removed']:.2f} %"])
    pph = defaultdict(int)
    for k, v in results[next(iter(results))]["pages_per_host"].items():
        pph[k] += v
    print("pages per host (sampled):", dict(sorted(pph.items())))
    print(table(["thresholds", "hosts", "hosts with frequent lines", "documents changed", "characters removed",
                 "share"], rows))
    for name, r in results.items():
        if r["top_lines"]:
            print(f"\nmost removed lines, {name}:")
            for t in r["top_lines"]:
                print(f"  {t['docs']:>3} docs  {t['host']}  {t['line'][:80]!r}  e.g. {t['example']}")
    print(f"\nwrote {write_results(NAME, {'documents': len(docs), 'results': results}, args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
