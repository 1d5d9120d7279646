#!/usr/bin/env python
"""Charset decoding of Japanese pages: our cascade vs trafilatura's own decoding.

Pages: every Japanese file of ``testdata/encoding/chardet`` (``labels.tsv``: SHIFT_JIS, CP932,
EUC-JP, iso-2022-jp; no HTTP header, some declare nothing) and every Japanese document the
slow path (see ``bench_detect.py``) found in ``crawl`` (with its HTTP ``Content-Type``).

Decoders:

* ``ours`` — ``corpus.charset.decode_html(body, http_charset, hint)`` with the hint the detect
  stage gives (``filters.jadetect.detect_japanese(body).codec_hint``), as the pipeline runs it;
* ``ours, no hint`` — the same without the detection hint;
* ``trafilatura`` — ``trafilatura.utils.decode_file(body)`` (what ``trafilatura.extract(bytes)``
  does: UTF-8, else charset_normalizer guesses; it ignores HTTP and ``<meta>`` declarations).

Reference ("true codec"): for chardet files the labelled codec family (Shift_JIS → the best of
cp932/shift_jis/shift_jis_2004, EUC-JP → euc_jp/euc_jis_2004/euc_jisx0213, ISO-2022-JP →
iso2022_jp/_2/_ext); for crawl pages (no label) the Japanese codec with the fewest U+FFFD, ties
broken by the most hiragana (UTF-16 only with a BOM).  Differences are also counted with the
characters that the JIS and Microsoft tables map differently folded together (Shift_JIS read
as ``shift_jis`` gives 〜 U+301C where CP932 gives ～ U+FF5E: not garbled, but not the same
text either), and a leading BOM ignored.  A decode is **garbled** when the true decode has hiragana and it
has none, or when it has more U+FFFD than the true decode.  The same test is applied to the
extracted text: trafilatura on our decoded string vs trafilatura on the raw bytes, each
against trafilatura on the true decode.  Decoding time per page (CPU time of the process,
robust to other work on the machine): mean over the pages, median [min–max] over repeats (extraction is run once, untimed).

    python bench/bench_charset.py [--shared ../shared] [--repeats 5] [--no-cache]
"""

from __future__ import annotations

import argparse
import csv
import logging
import os
import re
import sys
import time

from _common import (add_common_args, check_shared, crawl_pages, fmt_range, freeze_if_asked, pct,
                     slow_path, summary, table, wait_for_quiet, write_results)

NAME = "bench_charset"
JA_LABELS = {
    "SHIFT_JIS": ("cp932", "shift_jis", "shift_jis_2004"),
    "CP932": ("cp932", "shift_jis", "shift_jis_2004"),
    "EUC-JP": ("euc_jp", "euc_jis_2004", "euc_jisx0213"),
    "iso-2022-jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext"),
}
ORACLE_CODECS = ("utf-8", "cp932", "shift_jis_2004", "euc_jp", "euc_jis_2004", "iso2022_jp_2")
_HIRA = re.compile("[\u3041-\u3096]")


def hira(text: str) -> int:
    return len(_HIRA.findall(text))


def _mapping_variants() -> dict[int, str]:
    """Characters the JIS and Microsoft tables map differently (Shift_JIS vs CP932 row 1:
    〜/～, −/－, ‖/∥, ¢/￠, £/￡, ¬/￢, \\/＼, —/―): folded to one form for comparison."""
    fold: dict[int, str] = {}
    for lead in range(0x81, 0x85):
        for trail in range(0x40, 0xFD):
            b = bytes((lead, trail))
            try:
                a, m = b.decode("shift_jis"), b.decode("cp932")
            except UnicodeDecodeError:
                continue
            if a != m and len(a) == len(m) == 1:
                fold[ord(a)] = m
    for a, m in (("\u2014", "\u2015"),):  # EM DASH vs HORIZONTAL BAR (euc_jp vs cp932 row 1)
        fold.setdefault(ord(a), m)
    return fold


_FOLD = _mapping_variants()


def same_text(a: str, b: str, fold: bool = False) -> bool:
    a, b = a.removeprefix("\ufeff"), b.removeprefix("\ufeff")  # a BOM kept or dropped is not a difference
    if fold:
        a, b = a.translate(_FOLD), b.translate(_FOLD)
    return a == b


def true_decode(body: bytes, family) -> tuple[str, str]:
    if body[:2] in (b"\xff\xfe", b"\xfe\xff"):
        family = ("utf-16",)  # any byte pair is a UTF-16 code unit: only with a BOM
    best = None
    for codec in family:
        try:
            text = body.decode(codec, "replace")
        except (LookupError, UnicodeError):
            continue
        score = (text.count("\ufffd"), -hira(text))
        if best is None or score < best[0]:
            best = (score, codec, text)
    return best[2], best[1]


def load_pages(shared: str, use_cache: bool) -> list[dict]:
    pages = []
    root = check_shared(shared, "testdata", "encoding", "chardet")
    with open(os.path.join(root, "labels.tsv"), encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            fam = JA_LABELS.get(row["encoding_label"])
            if not fam:
                continue
            with open(os.path.join(root, row["path"]), "rb") as f:
                body = f.read()
            pages.append({"set": "chardet", "id": row["path"], "label": row["encoding_label"],
                          "body": body, "http_charset": None, "family": fam})
    ref = slow_path(shared, use_cache=use_cache)
    ja = {(r["warc_file"], r["warc_offset"]) for r in ref if r["japanese"]}
    for d in crawl_pages(shared):
        if (d.warc_file, d.warc_offset) in ja:
            pages.append({"set": "crawl", "id": f"{d.url} ({d.snapshot})", "label": None, "body": d.body,
                          "http_charset": d.http_charset, "family": ORACLE_CODECS})
    return pages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5, at least 3)")
    ap.add_argument("--no-cache", action="store_true", help="recompute the slow path")
    args = ap.parse_args()
    freeze_if_asked(args)
    if args.repeats < 3:
        ap.error("--repeats must be at least 3")
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("charset_normalizer").setLevel(logging.CRITICAL)

    import trafilatura
    from trafilatura.utils import decode_file

    from jawebcorpus.corpus.charset import decode_html
    from jawebcorpus.corpus.extract import TRAFILATURA_OPTIONS
    from jawebcorpus.filters.jadetect import detect_japanese

    pages = load_pages(args.shared, not args.no_cache)
    for p in pages:
        p["hint"] = detect_japanese(p["body"]).codec_hint
        p["true_text"], p["true_codec"] = true_decode(p["body"], p["family"])

    decoders = {
        "ours": lambda p: decode_html(p["body"], p["http_charset"], p["hint"]).text,
        "ours, no hint": lambda p: decode_html(p["body"], p["http_charset"]).text,
        "trafilatura decode_file": lambda p: decode_file(p["body"]),
    }
    names = list(decoders)
    pc = time.process_time  # CPU time of this process: robust to other work on a busy machine
    times: dict[str, dict[str, list[float]]] = {n: {"chardet": [], "crawl": [], "all": []} for n in names}
    decoded: dict[str, list[str]] = {}
    busy_before = []
    for i in range(args.repeats):
        busy_before.append(wait_for_quiet())
        for name in (names if i % 2 == 0 else names[::-1]):
            fn = decoders[name]
            per_set = {"chardet": 0.0, "crawl": 0.0}
            out = []
            for p in pages:
                t0 = pc()
                text = fn(p)
                per_set[p["set"]] += pc() - t0
                out.append(text)
            decoded[name] = out
            for s, v in per_set.items():
                times[name][s].append(v)
            times[name]["all"].append(sum(per_set.values()))
        print(f"repeat {i + 1}/{args.repeats} done", flush=True)

    # Extraction, once: on the true decode, on our decoded string, and on the raw bytes.
    print("extracting (trafilatura, in-process, once per page and variant) …", flush=True)
    opts = TRAFILATURA_OPTIONS

    def extract(x):
        try:
            return trafilatura.extract(x, **opts) or ""
        except Exception as exc:  # count, never stop the benchmark
            return f"<extract error {type(exc).__name__}>"

    ext_true = [extract(p["true_text"]) for p in pages]
    ext_ours = [extract(t) for t in decoded["ours"]]
    ext_bytes = [extract(p["body"]) for p in pages]

    def garbled(text: str, ref: str) -> bool:
        return (hira(ref) > 0 and hira(text) == 0) or text.count("\ufffd") > ref.count("\ufffd")

    sets = {"chardet": [k for k, p in enumerate(pages) if p["set"] == "chardet"],
            "crawl": [k for k, p in enumerate(pages) if p["set"] == "crawl"]}
    sets["all"] = sets["chardet"] + sets["crawl"]
    results: dict = {"decoders": {}, "extraction": {}}
    rows = []
    for name in names:
        r = {}
        for s, idx in sets.items():
            bad = [pages[k]["id"] for k in idx if garbled(decoded[name][k], pages[k]["true_text"])]
            diff = [pages[k]["id"] for k in idx if not same_text(decoded[name][k], pages[k]["true_text"])]
            diff_fold = [pages[k]["id"] for k in idx if not same_text(decoded[name][k], pages[k]["true_text"], True)]
            us = summary(t / len(idx) * 1e6 for t in times[name][s]) if idx else summary([])
            r[s] = {"pages": len(idx), "garbled": len(bad), "garbled_ids": bad,
                    "differs_from_true": len(diff), "differs_ids": diff,
                    "differs_beyond_mapping_variants": len(diff_fold), "differs_beyond_mapping_ids": diff_fold,
                    "us_per_page": us}
        results["decoders"][name] = r
        for s in ("chardet", "crawl", "all"):
            rows.append([name, s, r[s]["pages"], r[s]["garbled"], pct(r[s]["garbled"], r[s]["pages"]),
                         r[s]["differs_from_true"], r[s]["differs_beyond_mapping_variants"],
                         fmt_range(r[s]["us_per_page"], 0)])
    ext_rows = []
    for name, ext in (("trafilatura on our decoded text", ext_ours), ("trafilatura on raw bytes", ext_bytes)):
        r = {}
        for s, idx in sets.items():
            usable = [k for k in idx if hira(ext_true[k]) > 0]
            bad = [pages[k]["id"] for k in usable if garbled(ext[k], ext_true[k])]
            same = sum(same_text(ext[k], ext_true[k]) for k in idx)
            same_fold = sum(same_text(ext[k], ext_true[k], True) for k in idx)
            r[s] = {"pages": len(idx), "true_extraction_has_hiragana": len(usable), "garbled": len(bad),
                    "garbled_ids": bad, "identical_to_true": same, "identical_up_to_mapping_variants": same_fold}
        results["extraction"][name] = r
        for s in ("chardet", "crawl", "all"):
            ext_rows.append([name, s, r[s]["true_extraction_has_hiragana"], r[s]["garbled"],
                             pct(r[s]["garbled"], r[s]["true_extraction_has_hiragana"]),
                             f"{r[s]['identical_to_true']}/{r[s]['pages']}",
                             f"{r[s]['identical_up_to_mapping_variants']}/{r[s]['pages']}"])
    same_ours_bytes = sum(same_text(a, b) for a, b in zip(ext_ours, ext_bytes))
    results["extraction"]["ours_equals_bytes"] = same_ours_bytes

    n_ch, n_cr = len(sets["chardet"]), len(sets["crawl"])
    print()
    print(f"{len(pages)} Japanese pages: chardet {n_ch}, crawl {n_cr} (slow-path Japanese documents); "
          f"decode CPU time: mean per page, median [min–max] of {args.repeats} repeats")
    print(table(["decoder", "pages", "n", "garbled", "share", "≠ true decode", "≠ beyond 〜/− variants",
                 "CPU µs/page"], rows))
    print("\nextracted text (trafilatura, Swallow's options), judged against extracting the true decode")
    print(table(["extraction input", "pages", "ref. has hiragana", "garbled", "share", "identical to true",
                 "identical up to 〜/− variants"], ext_rows))
    print(f"trafilatura on our decoded text == trafilatura on raw bytes: {same_ours_bytes}/{len(pages)} pages")
    for name in names:
        ids = results["decoders"][name]["all"]["garbled_ids"]
        if ids:
            print(f"\ngarbled by {name} ({len(ids)}):")
            for i in ids:
                p = next(q for q in pages if q["id"] == i)
                print(f"  {i}  [true {p['true_codec']}, label {p['label'] or '-'}, http {p['http_charset'] or '-'}]")
    for name in ("trafilatura on our decoded text", "trafilatura on raw bytes"):
        ids = results["extraction"][name]["all"]["garbled_ids"]
        if ids:
            print(f"\nextraction garbled, {name} ({len(ids)}): " + ", ".join(ids))

    per_page = [{"set": p["set"], "id": p["id"], "label": p["label"], "http_charset": p["http_charset"],
                 "hint": p["hint"], "true_codec": p["true_codec"], "bytes": len(p["body"]),
                 "true": {"fffd": p["true_text"].count("\ufffd"), "hiragana": hira(p["true_text"])},
                 **{n: {"fffd": decoded[n][k].count("\ufffd"), "hiragana": hira(decoded[n][k]),
                        "garbled": garbled(decoded[n][k], p["true_text"]),
                        "same_as_true": same_text(decoded[n][k], p["true_text"]),
                        "same_up_to_variants": same_text(decoded[n][k], p["true_text"], True)} for n in names},
                 "extracted_chars": {"true": len(ext_true[k]), "ours": len(ext_ours[k]), "bytes": len(ext_bytes[k])},
                 "extracted_hiragana": {"true": hira(ext_true[k]), "ours": hira(ext_ours[k]), "bytes": hira(ext_bytes[k])}}
                for k, p in enumerate(pages)]
    path = write_results(NAME, {
        "params": {"shared": args.shared, "repeats": args.repeats, "busy_before_repeat": busy_before,
                   "extract_options": opts, "chardet_labels": sorted(JA_LABELS), "oracle_codecs": ORACLE_CODECS},
        "pages": {"chardet": n_ch, "crawl": n_cr},
        **results, "raw_times_s": times, "per_page": per_page,
    }, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
