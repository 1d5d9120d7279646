#!/usr/bin/env python
"""Language ID on the lingua test sentences: Japanese recall and Chinese/Korean taken for Japanese.

``filters.langid``: a text is Japanese when fastText lid.176's probability of ``ja`` is at least
the threshold (0.3, 0.5 — the default — and 0.7), and, with the kana check, when kana make up
at least ``min_kana_ratio`` = 0.05 of its kana + kanji (``kana_ratio``), exactly as
the langid stage (``filters.langid.LangIdStage``) decides (checked against it at the default settings).

Data: ``testdata/langid/lingua/sentences/<lang>.txt`` (one sentence a line; ja 412, zh 729,
ko 1,000, 11 other languages × 1,000) and ``word-pairs/{ja,zh,ko}.txt`` (two-character items).
Reported: share taken for Japanese per set; top-1 accuracy (top label = the file's language);
CPU µs per sentence for ``predict`` and for ``kana_ratio`` (process CPU time, mean over all
sentences, median [min–max] of repeats).

    python bench/bench_langid.py [--shared ../shared] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _common import (add_common_args, check_shared, fmt_range, freeze_if_asked, pct, summary, table,
                     wait_for_quiet, write_results)

NAME = "bench_langid"
THRESHOLDS = (0.3, 0.5, 0.7)
MIN_KANA_RATIO = 0.05


def read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [line.strip() for line in fh if line.strip()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5, at least 3)")
    args = ap.parse_args()
    freeze_if_asked(args)
    if args.repeats < 3:
        ap.error("--repeats must be at least 3")

    from jawebcorpus.filters.langid import LangIdConfig
    from jawebcorpus.corpus.record import Doc
    from jawebcorpus.filters.langid import LanguageIdentifier, kana_ratio
    from _common import apply, stage

    from jawebcorpus.filters.langid import LangIdStage

    root = check_shared(args.shared, "testdata", "langid", "lingua")
    sent_dir = os.path.join(root, "sentences")
    sets: dict[str, list[str]] = {}
    for name in sorted(os.listdir(sent_dir)):
        if name.endswith(".txt"):
            sets[f"sentences/{name[:-4]}"] = read_lines(os.path.join(sent_dir, name))
    for lang in ("ja", "zh", "ko"):
        path = os.path.join(root, "word-pairs", f"{lang}.txt")
        if os.path.exists(path):
            sets[f"word-pairs/{lang}"] = read_lines(path)

    lid = LanguageIdentifier()
    scored: dict[str, list[tuple[str, float, float]]] = {}
    for key, texts in sets.items():
        scored[key] = [(r.label, r.ja_score, kana_ratio(t)) for t in texts for r in (lid.predict(t),)]

    # Consistency with the pipeline's own decision at the default settings.
    cfg = LangIdConfig()
    langid_stage = stage(LangIdStage)
    mismatches = 0
    for key in ("sentences/ja", "sentences/zh", "word-pairs/zh"):
        for text, (lab, ja, kr) in zip(sets.get(key, []), scored.get(key, [])):
            d = Doc("s", "f", 0, 0, "", "", "", text=text)
            mine = ja >= cfg.threshold and (cfg.min_kana_ratio <= 0 or kr >= cfg.min_kana_ratio)
            mismatches += (apply(langid_stage, d) is not None) != mine

    # Timing: predict and kana_ratio over every sentence, repeats alternated.
    all_sent = [t for k, v in sets.items() if k.startswith("sentences/") for t in v]
    t_pred, t_kana = [], []
    pc = time.process_time  # CPU time of this process: robust to other work on a busy machine
    busy_before = []
    for i in range(args.repeats):
        busy_before.append(wait_for_quiet())
        for what in (("predict", "kana") if i % 2 == 0 else ("kana", "predict")):
            t0 = pc()
            if what == "predict":
                for t in all_sent:
                    lid.predict(t)
                t_pred.append((pc() - t0) / len(all_sent) * 1e6)
            else:
                for t in all_sent:
                    kana_ratio(t)
                t_kana.append((pc() - t0) / len(all_sent) * 1e6)
    us_predict, us_kana = summary(t_pred), summary(t_kana)

    results: dict = {"sets": {}}
    for key, rows in scored.items():
        lang = key.split("/")[1]
        n = len(rows)
        r = {"n": n, "top1_correct": sum(lab == lang for lab, _, _ in rows), "taken_for_japanese": {}}
        for th in THRESHOLDS:
            plain = sum(ja >= th for _, ja, _ in rows)
            kana = sum(ja >= th and kr >= MIN_KANA_RATIO for _, ja, kr in rows)
            r["taken_for_japanese"][str(th)] = {"no_kana_check": plain, "kana_check": kana}
        results["sets"][key] = r
    # Examples: Chinese sentences taken for Japanese at 0.5.
    zh = sets.get("sentences/zh", [])
    results["zh_taken_for_ja_at_0.5"] = [
        {"text": t, "ja_score": round(ja, 3), "kana_ratio": round(kr, 3), "label": lab,
         "kept_with_kana_check": kr >= MIN_KANA_RATIO}
        for t, (lab, ja, kr) in zip(zh, scored.get("sentences/zh", [])) if ja >= 0.5]
    ja_s = sets.get("sentences/ja", [])
    results["ja_missed_at_0.5_with_kana_check"] = [
        {"text": t, "ja_score": round(ja, 3), "kana_ratio": round(kr, 3), "label": lab}
        for t, (lab, ja, kr) in zip(ja_s, scored.get("sentences/ja", [])) if not (ja >= 0.5 and kr >= MIN_KANA_RATIO)]

    # -- print --
    def cell(key, th, check):
        r = results["sets"].get(key)
        if not r:
            return "–"
        k = r["taken_for_japanese"][str(th)]["kana_check" if check else "no_kana_check"]
        return f"{pct(k, r['n'])} ({k}/{r['n']})"

    others = [k for k in results["sets"] if k.startswith("sentences/") and k.split("/")[1] not in ("ja", "zh", "ko")]
    rows = []
    for th in THRESHOLDS:
        for check in (False, True):
            other_n = sum(results["sets"][k]["n"] for k in others)
            other_k = sum(results["sets"][k]["taken_for_japanese"][str(th)]["kana_check" if check else "no_kana_check"]
                          for k in others)
            rows.append([f"{th}", "yes" if check else "no", cell("sentences/ja", th, check),
                         cell("sentences/zh", th, check), cell("sentences/ko", th, check),
                         f"{pct(other_k, other_n, 2)} ({other_k}/{other_n})"])
    print("sentences (lingua): share taken for Japanese")
    print(table(["threshold", "kana check (≥ 0.05)", "ja recall", "zh → ja", "ko → ja",
                 f"{len(others)} other languages → ja"], rows))
    wrows = []
    for th in THRESHOLDS:
        for check in (False, True):
            wrows.append([f"{th}", "yes" if check else "no", cell("word-pairs/ja", th, check),
                          cell("word-pairs/zh", th, check), cell("word-pairs/ko", th, check)])
    print("\nword pairs (lingua, two-character items): share taken for Japanese")
    print(table(["threshold", "kana check", "ja word pairs (recall)", "zh word pairs → ja", "ko word pairs → ja"],
                wrows))
    acc = [[k, results["sets"][k]["n"], pct(results["sets"][k]["top1_correct"], results["sets"][k]["n"])]
           for k in results["sets"]]
    print("\ntop-1 label = the set's language")
    print(table(["set", "n", "top-1 correct"], acc))
    print(f"\nCPU µs per sentence ({len(all_sent):,} sentences, median [min–max] of {args.repeats} repeats): "
          f"predict {fmt_range(us_predict, 1)}, kana_ratio {fmt_range(us_kana, 2)}")
    print(f"the langid stage agrees with this script's decision at the defaults: "
          f"{'yes' if mismatches == 0 else f'NO, {mismatches} mismatches'}")
    zt = results["zh_taken_for_ja_at_0.5"]
    print(f"\nChinese sentences with ja_score ≥ 0.5: {len(zt)}; still kept with the kana check: "
          f"{sum(z['kept_with_kana_check'] for z in zt)}")
    for z in zt[:10]:
        print(f"  {z['ja_score']:.2f} kana {z['kana_ratio']:.2f} {'KEPT' if z['kept_with_kana_check'] else 'dropped'}  {z['text'][:60]}")
    jm = results["ja_missed_at_0.5_with_kana_check"]
    print(f"Japanese sentences not kept at the defaults: {len(jm)}")
    for z in jm[:10]:
        print(f"  {z['ja_score']:.2f} kana {z['kana_ratio']:.2f} [{z['label']}]  {z['text'][:60]}")

    path = write_results(NAME, {
        "params": {"shared": args.shared, "repeats": args.repeats, "busy_before_repeat": busy_before,
                   "thresholds": THRESHOLDS,
                   "min_kana_ratio": MIN_KANA_RATIO, "model": lid.model_path},
        "langid_stage_mismatches": mismatches,
        "us_per_sentence": {"predict": us_predict, "kana_ratio": us_kana, "sentences": len(all_sent)},
        **results,
    }, args.out)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
