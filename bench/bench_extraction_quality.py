#!/usr/bin/env python3
"""Extraction quality against ground truth, CPU time, and the effect on the rest of the funnel,
for each candidate extraction mode (issue 21).

Sets (read in place, never copied):

* ``scrapinghub``: ``../shared/testdata/extraction/scrapinghub``, 181 English article pages with
  their full article body (``articleBody``) as ground truth;
* ``ja``: ``bench/extraction_ja``, 42 Japanese pages of 17 layouts written for this project,
  with their main text as ground truth (README there);
* ``cjk``: ``../shared/testdata/extraction/trafilatura-cjk``, 6 pages (1 Japanese, 5 Chinese)
  with "must contain" / "must not contain" snippets (too few for F1; counted separately);
* ``crawl``: the documents of ``../shared/crawl`` that reach the extract stage in the default
  preset (read, detect, decode as the pipeline does them): no ground truth; CPU time, and the
  funnel after extraction (langid, quality, ngwords, hosts, clean, pii with the default preset's
  settings) for each mode.

Score (``prf``): character n-gram precision / recall / F1.  Both texts are normalised
(``normalise``: NFKC; a list bullet ``-``, ``*``, ``•`` or ``・`` followed by a space at the
start of a line and every ``|`` dropped, since they are the extractors' list and table
markup; then every whitespace character removed), cut into overlapping character n-grams
(n = 3 by default; a normalised text shorter than n is one gram), and compared as multisets:
overlap = Σ min(count in output, count in truth); P = overlap / grams of the output,
R = overlap / grams of the truth, F1 = 2PR / (P + R).  An empty output scores P = R = F1 = 0.
Per set: mean and median of the per-page scores, a 95 % bootstrap interval of the mean (pages
resampled, 2,000 resamples, fixed seed), and for every mode the paired difference of its
per-page F1 to ``swallow`` with its own bootstrap interval (the same resamples for every
mode).  F1 with n = 1 and n = 5 is stored too, to check that the ranking does not hinge on n.

CPU: ``time.process_time()`` of this process around each (mode, set) pass, trafilatura's
caches reset before each pass (``trafilatura.meta.reset_caches``), modes in alternating
order per repeat (forward, reverse, …); medians [min–max] of ``--repeats``, and the ratio to
``swallow`` paired per repeat.  Extractors run in this process (the pipeline runs them in its
extraction child: same CPU for the extraction itself).

Usage::

    pip install resiliparse readability-lxml     # optional candidates (skipped when missing)
    python bench/bench_extraction_quality.py [--repeats 3] [--modes swallow,fast,...] [--no-crawl]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import random
import re
import statistics
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

JA_DIR = Path(__file__).resolve().parent / "extraction_ja"

# -- scoring -------------------------------------------------------------------------------------------
_BULLET = re.compile(r"(?m)^[ \t]*[-*•・][ \t]+")
_WS = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """NFKC; list bullets at line starts and ``|`` dropped; every whitespace character removed."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text)
    t = _BULLET.sub("", t).replace("|", "")
    return _WS.sub("", t)


def grams(text: str | None, n: int = 3) -> collections.Counter:
    """Multiset of the overlapping character n-grams of the normalised text."""
    t = normalise(text)
    if not t:
        return collections.Counter()
    if len(t) < n:
        return collections.Counter([t])
    return collections.Counter(t[i:i + n] for i in range(len(t) - n + 1))


def prf(output: str | None, truth: str, n: int = 3) -> tuple[float, float, float]:
    """Character n-gram (precision, recall, F1) of ``output`` against ``truth`` (module docstring)."""
    g_truth = grams(truth, n)
    if not g_truth:
        raise ValueError("empty ground truth")
    g_out = grams(output, n)
    if not g_out:
        return 0.0, 0.0, 0.0
    overlap = sum((g_out & g_truth).values())
    p = overlap / sum(g_out.values())
    r = overlap / sum(g_truth.values())
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def bootstrap_mean(values: list[float], samples: list[list[int]]) -> tuple[float, float]:
    """95 % interval of the mean of ``values`` over the given resamples (lists of indices)."""
    means = sorted(sum(values[i] for i in idx) / len(idx) for idx in samples)
    return means[int(0.025 * len(means))], means[min(int(0.975 * len(means)), len(means) - 1)]


def resamples(n: int, count: int = 2000, seed: int = 20261207) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(n) for _ in range(n)] for _ in range(count)]


def snippet_score(output: str | None, must: list[str], must_not: list[str]) -> tuple[int, int]:
    """(snippets of ``must`` found, snippets of ``must_not`` absent), on normalised text."""
    t = normalise(output)
    return (sum(normalise(s) in t for s in must), sum(normalise(s) not in t for s in must_not))


# -- modes ---------------------------------------------------------------------------------------------
#: Swallow v1's call (corpus/extract.py TRAFILATURA_OPTIONS): the base of every trafilatura mode.
BASE = {"include_comments": False, "include_tables": False}
FAST_ABOVE_CHARS = 500_000  # the default preset's extract.fast_above_chars

TRAFILATURA_MODES = {
    "swallow": {},  # swallow-v1 preset: fast_above_chars=0
    "fast": {"fast": True},
    "precision": {"favor_precision": True},
    "recall": {"favor_recall": True},
    "fast_precision": {"fast": True, "favor_precision": True},
    "fast_recall": {"fast": True, "favor_recall": True},
    "tables": {"include_tables": True},
    "fast_tables": {"fast": True, "include_tables": True},
}

MODE_ARGS = {name: f"trafilatura.extract(html, {', '.join(f'{k}={v}' for k, v in {**BASE, **kw}.items())})"
             for name, kw in TRAFILATURA_MODES.items()}
MODE_ARGS["default"] = (f"trafilatura.extract(html, include_comments=False, include_tables=False, "
                        f"fast=len(html) > {FAST_ABOVE_CHARS:,}) (the default preset today)")
MODE_ARGS["fast_recall_capped"] = (f"trafilatura.extract(html, include_comments=False, include_tables=False, fast=True, "
                                   f"favor_recall=len(html) <= {FAST_ABOVE_CHARS:,})")
MODE_ARGS["resiliparse"] = ("resiliparse.extract.html2text.extract_plain_text(HTMLTree.parse(html), main_content=True, "
                            "comments=False, alt_texts=False, list_bullets=False)")
MODE_ARGS["readability"] = "lxml.html.fromstring(readability.Document(html).summary(html_partial=True)).text_content()"
MODE_ARGS["justext"] = ("paragraphs of justext.justext(html, <union of all jusText stoplists>) that are not boilerplate "
                        "(as trafilatura's fallback builds its stoplist)")
MODE_ARGS["baseline"] = "trafilatura.baseline(html)[1] (lower bound)"
MODE_ARGS["html2txt"] = "trafilatura.html2txt(html) (all text of the body: the precision floor)"

ORDER = ["swallow", "default", "fast", "precision", "recall", "fast_precision", "fast_recall", "fast_recall_capped", "tables",
         "fast_tables", "resiliparse", "readability", "justext", "baseline", "html2txt"]


_BLOCKS = ("p", "div", "br", "li", "dt", "dd", "tr", "pre", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table")


def _lines(text: str) -> str:
    """One line per block, no blank lines: the layout of trafilatura's text, which the quality
    rules' line measures expect (a blank line counts as a duplicate line there)."""
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def build_modes(names: list[str]) -> dict:
    """name → function(html) → text or None; candidates that are not installed are left out."""
    import logging

    import trafilatura

    # "not valid HTML" on feeds, per page; htmldate's reset_caches complains about one function
    for name in ("trafilatura", "htmldate"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    modes = {}
    for name in names:
        if name in TRAFILATURA_MODES:
            kw = {**BASE, **TRAFILATURA_MODES[name]}
            modes[name] = lambda html, kw=kw: trafilatura.extract(html, **kw)
        elif name == "default":
            modes[name] = lambda html: trafilatura.extract(html, fast=len(html) > FAST_ABOVE_CHARS, **BASE)
        elif name == "fast_recall_capped":
            modes[name] = lambda html: trafilatura.extract(html, fast=True, favor_recall=len(html) <= FAST_ABOVE_CHARS,
                                                           **BASE)
        elif name == "resiliparse":
            try:
                from resiliparse.extract.html2text import extract_plain_text
                from resiliparse.parse.html import HTMLTree
            except ImportError:
                print("resiliparse not installed: skipped (pip install resiliparse)")
                continue
            modes[name] = lambda html: _lines(extract_plain_text(HTMLTree.parse(html), main_content=True, comments=False,
                                                                 alt_texts=False, list_bullets=False))
        elif name == "readability":
            try:
                import lxml.html
                from readability import Document
            except ImportError:
                print("readability-lxml not installed: skipped (pip install readability-lxml)")
                continue
            logging.getLogger("readability").setLevel(logging.ERROR)
            def readability_text(html):
                tree = lxml.html.fromstring(Document(html).summary(html_partial=True))
                for el in tree.iter(*_BLOCKS):  # a line per block, as trafilatura writes them
                    el.tail = "\n" + (el.tail or "")
                return _lines(tree.text_content())

            modes[name] = readability_text
        elif name == "justext":
            import justext

            stop = frozenset().union(*(justext.get_stoplist(lang) for lang in justext.get_stoplists()))
            modes[name] = lambda html, stop=stop: "\n".join(
                p.text for p in justext.justext(html, stop) if not p.is_boilerplate)
        elif name == "baseline":
            modes[name] = lambda html: trafilatura.baseline(html)[1]
        elif name == "html2txt":
            modes[name] = lambda html: trafilatura.html2txt(html)
        else:
            raise SystemExit(f"unknown mode {name!r}; known: {', '.join(ORDER)}")
    return modes


# -- sets ----------------------------------------------------------------------------------------------
def _decode(body: bytes) -> str:
    from jawebcorpus.corpus.charset import decode_html

    return decode_html(body, None, None).text


def load_scrapinghub(shared: str) -> list[dict]:
    root = os.path.join(shared, "testdata", "extraction", "scrapinghub")
    truth = json.load(open(os.path.join(root, "ground-truth.json"), encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        with gzip.open(os.path.join(root, "html", f"{key}.html.gz")) as fh:
            pages.append({"id": key, "html": _decode(fh.read()), "truth": truth[key]["articleBody"]})
    return pages


def load_ja() -> list[dict]:
    truth = json.load(open(JA_DIR / "ground-truth.json", encoding="utf-8"))
    return [{"id": k, "html": (JA_DIR / v["file"]).read_text(encoding="utf-8"), "truth": v["text"],
             "layout": v["layout"], "kind": v["kind"]} for k, v in sorted(truth.items())]


def load_cjk(shared: str) -> list[dict]:
    root = os.path.join(shared, "testdata", "extraction", "trafilatura-cjk")
    spec = json.load(open(os.path.join(root, "cjk_evaldata_subset.json"), encoding="utf-8"))
    pages = []
    for url, v in sorted(spec.items()):
        with open(os.path.join(root, v["file"]), "rb") as fh:
            pages.append({"id": v["file"], "url": url, "html": _decode(fh.read()), "with": v["with"],
                          "without": v["without"]})
    return pages


def load_crawl(shared: str) -> list:
    """The documents of the crawl that reach extract in the default preset (decoded HTML)."""
    from _common import apply, crawl_pages, stage

    from jawebcorpus.registry import stage as stage_class

    detect, decode = stage(stage_class("detect")), stage(stage_class("decode"))
    docs = []
    for doc in crawl_pages(shared):
        doc = apply(detect, doc)
        doc = apply(decode, doc) if doc is not None else None
        if doc is not None:
            docs.append(doc)
    return docs


# -- running -------------------------------------------------------------------------------------------
def run_pass(fn, htmls: list[str]) -> tuple[list[float], list, int]:
    """One pass of one mode over one set: (CPU s per page, outputs, exceptions)."""
    from trafilatura.meta import reset_caches

    reset_caches()
    outs, times, errors = [], [], 0
    clock = time.process_time
    for html in htmls:
        c0 = clock()
        try:
            outs.append(fn(html))
        except Exception:  # an extractor failing on a page: an empty output, counted
            outs.append(None)
            errors += 1
        times.append(clock() - c0)
    return times, outs, errors


def score_set(pages: list[dict], outputs: dict, samples: list[list[int]]) -> dict:
    res = {}
    base = None
    for mode, outs in outputs.items():
        per = [prf(o, p["truth"]) for o, p in zip(outs, pages)]
        f1 = [x[2] for x in per]
        row = {
            "precision_mean": statistics.fmean(x[0] for x in per), "recall_mean": statistics.fmean(x[1] for x in per),
            "f1_mean": statistics.fmean(f1), "f1_median": statistics.median(f1),
            "f1_mean_ci95": bootstrap_mean(f1, samples),
            "precision_median": statistics.median(x[0] for x in per), "recall_median": statistics.median(x[1] for x in per),
            "empty": sum(1 for o in outs if not normalise(o)),
            "chars_out": sum(len(o or "") for o in outs),
            "f1_mean_n1": statistics.fmean(prf(o, p["truth"], 1)[2] for o, p in zip(outs, pages)),
            "f1_mean_n5": statistics.fmean(prf(o, p["truth"], 5)[2] for o, p in zip(outs, pages)),
            "per_page_f1": {p["id"]: round(x, 4) for p, x in zip(pages, f1)},
        }
        if mode == "swallow":
            base = f1
        if base is not None:
            diff = [a - b for a, b in zip(f1, base)]
            row["delta_f1_vs_swallow"] = statistics.fmean(diff)
            row["delta_f1_ci95"] = bootstrap_mean(diff, samples)
            row["pages_better_worse_same"] = (sum(d > 0.005 for d in diff), sum(d < -0.005 for d in diff),
                                              sum(abs(d) <= 0.005 for d in diff))
        res[mode] = row
    return res


def by_group(pages: list[dict], outputs: dict, key: str) -> dict:
    """Mean F1 per layout (or kind) of the Japanese set."""
    groups = sorted({p[key] for p in pages})
    return {mode: {g: round(statistics.fmean(prf(o, p["truth"])[2] for o, p in zip(outs, pages) if p[key] == g), 3)
                   for g in groups} for mode, outs in outputs.items()}


def funnel(docs: list, outputs: dict) -> dict:
    """Each mode's texts through the default preset's stages after extract."""
    import dataclasses

    from _common import stage

    from jawebcorpus.corpus.stage import Count
    from jawebcorpus.registry import stage as stage_class

    names = ["langid", "quality", "ngwords", "hosts", "clean", "pii"]
    stages = [(n, stage(stage_class(n))) for n in names]
    kept_by_mode, res = {}, {}
    for mode, outs in outputs.items():
        row = {"reach_extract": len(docs), "extract_empty": 0, "kept_after": {}, "dropped": collections.Counter()}
        kept, chars = set(), 0
        for i, (doc, text) in enumerate(zip(docs, outs)):
            if not text or not text.strip():
                row["extract_empty"] += 1
                continue
            d = dataclasses.replace(doc, html=None, text=text)
            for n, st in stages:
                count = Count(type(st))
                d = st.apply(d, count.bind(d.snapshot, d.payload_bytes))
                if d is None:
                    row["dropped"][f"{n}:{count.reason}"] += 1
                    break
                row["kept_after"][n] = row["kept_after"].get(n, 0) + 1
            if d is not None:
                kept.add(i)
                chars += len(d.text)
        row["kept"] = len(kept)
        row["chars_out"] = chars
        row["dropped"] = dict(row["dropped"].most_common())
        kept_by_mode[mode] = kept
        res[mode] = row
    base = kept_by_mode.get("swallow")
    if base is not None:
        for mode, kept in kept_by_mode.items():
            res[mode]["kept_not_by_swallow"] = len(kept - base)
            res[mode]["lost_vs_swallow"] = len(base - kept)
    return res


def main() -> None:
    import _common as C

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    C.add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3)")
    ap.add_argument("--modes", default=",".join(ORDER), help="comma-separated modes (default: all)")
    ap.add_argument("--no-crawl", action="store_true", help="leave out the crawl set (CPU and funnel)")
    args = ap.parse_args()
    C.freeze_if_asked(args)
    names = [m.strip() for m in args.modes.split(",") if m.strip()]
    for ref in ("default", "swallow"):  # the references of the ratios and differences
        if ref not in names:
            names.insert(0, ref)
    modes = build_modes(names)
    order = [m for m in ORDER if m in modes]

    sets = {"scrapinghub": load_scrapinghub(args.shared), "ja": load_ja(), "cjk": load_cjk(args.shared)}
    crawl_docs = [] if args.no_crawl else load_crawl(args.shared)
    if crawl_docs:
        sets["crawl"] = [{"id": d.url, "html": d.html} for d in crawl_docs]
    print("sets: " + ", ".join(f"{k} {len(v)} pages" for k, v in sets.items()))
    htmls = {k: [p["html"] for p in v] for k, v in sets.items()}

    # warm-up: imports and first-call set-up of every extractor, untimed
    for fn in modes.values():
        run_pass(fn, htmls["ja"][:3])

    cpu_sets = [*sets, *(["crawl_small"] if crawl_docs else [])]
    small = [len(h) <= FAST_ABOVE_CHARS for h in htmls.get("crawl", [])]
    cpu = {m: {s: [] for s in cpu_sets} for m in order}
    page_cpu = {m: [] for m in order}
    outputs = {s: {} for s in sets}
    errors = {m: {} for m in order}
    busy = []
    for r in range(args.repeats):
        busy.append(C.wait_for_quiet())
        for m in (order if r % 2 == 0 else order[::-1]):
            for s in sets:
                times, outs, errs = run_pass(modes[m], htmls[s])
                cpu[m][s].append(sum(times))
                if s == "crawl":
                    cpu[m]["crawl_small"].append(sum(t for t, ok in zip(times, small) if ok))
                    page_cpu[m].append(times)
                if r == 0:
                    outputs[s][m], errors[m][s] = outs, errs
                elif outs != outputs[s][m]:
                    errors[m][f"{s}_nondeterministic"] = True
        print(f"repeat {r + 1}/{args.repeats} done")

    samples_by_set = {s: resamples(len(sets[s])) for s in ("scrapinghub", "ja")}
    quality = {s: score_set(sets[s], {m: outputs[s][m] for m in order}, samples_by_set[s]) for s in ("scrapinghub", "ja")}
    ja_layout = by_group(sets["ja"], {m: outputs["ja"][m] for m in order}, "layout")
    cjk = {}
    for m in order:
        found = sum(snippet_score(o, p["with"], p["without"])[0] for o, p in zip(outputs["cjk"][m], sets["cjk"]))
        absent = sum(snippet_score(o, p["with"], p["without"])[1] for o, p in zip(outputs["cjk"][m], sets["cjk"]))
        ja_found = sum(snippet_score(o, p["with"], p["without"])[0] for o, p in zip(outputs["cjk"][m], sets["cjk"])
                       if "nhk" in p["id"])
        ja_absent = sum(snippet_score(o, p["with"], p["without"])[1] for o, p in zip(outputs["cjk"][m], sets["cjk"])
                        if "nhk" in p["id"])
        cjk[m] = {"must_found": found, "must_total": sum(len(p["with"]) for p in sets["cjk"]),
                  "must_not_absent": absent, "must_not_total": sum(len(p["without"]) for p in sets["cjk"]),
                  "nhk_found": ja_found, "nhk_absent": ja_absent, "empty": sum(1 for o in outputs["cjk"][m] if not normalise(o))}
    cpu_summary = {}
    for m in order:
        cpu_summary[m] = {}
        for s in cpu_sets:
            ratio = [a / b for a, b in zip(cpu[m][s], cpu["swallow"][s])]
            ratio_d = [a / b for a, b in zip(cpu[m][s], cpu["default"][s])] if "default" in cpu else []
            npages = sum(small) if s == "crawl_small" else len(sets[s])
            cpu_summary[m][s] = {**C.summary(cpu[m][s]), "ratio_to_swallow": C.summary(ratio),
                                 "ratio_to_default": C.summary(ratio_d),
                                 "ms_per_page": statistics.median(cpu[m][s]) / npages * 1000}
        if page_cpu[m]:
            per_page = [statistics.median(ts) for ts in zip(*page_cpu[m])]
            cpu_summary[m]["crawl_page_ms"] = {"median": statistics.median(per_page) * 1000,
                                               "max": max(per_page) * 1000,
                                               "largest_page_share": max(per_page) / sum(per_page)}
    fun = funnel(crawl_docs, {m: outputs["crawl"][m] for m in order}) if crawl_docs else {}

    # -- print -------------------------------------------------------------------------------------------
    for s in ("scrapinghub", "ja"):
        print(f"\n{s}: {len(sets[s])} pages, character 3-gram P/R/F1 (means; F1 95 % bootstrap interval; "
              "ΔF1 = paired difference to swallow)")
        rows = []
        for m in order:
            q = quality[s][m]
            d = q.get("delta_f1_vs_swallow", 0.0)
            lo, hi = q.get("delta_f1_ci95", (0.0, 0.0))
            rows.append([m, f"{q['precision_mean']:.3f}", f"{q['recall_mean']:.3f}",
                         f"{q['f1_mean']:.3f} [{q['f1_mean_ci95'][0]:.3f}–{q['f1_mean_ci95'][1]:.3f}]",
                         f"{q['f1_median']:.3f}", f"{d:+.3f} [{lo:+.3f}–{hi:+.3f}]",
                         "/".join(map(str, q.get("pages_better_worse_same", ("", "", "")))), q["empty"],
                         f"{cpu_summary[m][s]['median']:.2f}", f"{cpu_summary[m][s]['ratio_to_swallow']['median']:.2f}",
                         f"{cpu_summary[m][s]['ratio_to_default']['median']:.2f}"])
        print(C.table(["mode", "P", "R", "F1 [95 % CI]", "F1 median", "ΔF1 [95 % CI]", "better/worse/same", "empty",
                       "CPU s", "× swallow", "× default"], rows))
    print("\ncjk snippets (found of 'must contain' / absent of 'must not contain'; NHK page alone)")
    print(C.table(["mode", "must", "must not", "NHK must", "NHK must not", "empty"],
                  [[m, f"{c['must_found']}/{c['must_total']}", f"{c['must_not_absent']}/{c['must_not_total']}",
                    f"{c['nhk_found']}/3", f"{c['nhk_absent']}/3", c["empty"]] for m, c in cjk.items()]))
    if crawl_docs:
        print(f"\ncrawl: {len(crawl_docs)} documents reach extract (default preset); CPU s (all pages, and the "
              f"{sum(small)} of at most {FAST_ABOVE_CHARS:,} characters) and the funnel after extract")
        rows = []
        for m in order:
            f, c, c2 = fun[m], cpu_summary[m]["crawl"], cpu_summary[m]["crawl_small"]
            rows.append([m, f"{c['median']:.2f} [{c['min']:.2f}–{c['max']:.2f}]", f"{c['ratio_to_swallow']['median']:.2f}",
                         f"{c2['median']:.2f} [{c2['min']:.2f}–{c2['max']:.2f}]", f"{c2['ratio_to_default']['median']:.2f}",
                         f"{cpu_summary[m]['crawl_page_ms']['median']:.1f}",
                         f["extract_empty"], f["kept_after"].get("langid", 0), f["kept_after"].get("quality", 0), f["kept"],
                         f"{f['chars_out']:,}", f.get("lost_vs_swallow", ""), f.get("kept_not_by_swallow", "")])
        print(C.table(["mode", "CPU s", "× swallow", "CPU s ≤ 500k", "× default", "ms/page median", "empty", "after langid", "after quality", "kept", "chars out",
                       "lost vs swallow", "new vs swallow"], rows))
    print("\nJapanese set, mean F1 by layout")
    layouts = sorted(next(iter(ja_layout.values())))
    print(C.table(["mode", *layouts], [[m, *(f"{ja_layout[m][g]:.2f}" for g in layouts)] for m in order]))

    payload = {
        "sets": {k: len(v) for k, v in sets.items()}, "modes": {m: MODE_ARGS[m] for m in order},
        "repeats": args.repeats, "busy_before_repeat": busy,
        "score": "character 3-gram multiset P/R/F1 over normalise() text; see the module docstring",
        "quality": quality, "ja_by_layout": ja_layout, "cjk_snippets": cjk, "cpu_s": cpu, "cpu_summary": cpu_summary,
        "errors": errors, "funnel": fun,
    }
    print("\nwrote", C.write_results("bench_extraction_quality", payload, args.out))


if __name__ == "__main__":
    main()
