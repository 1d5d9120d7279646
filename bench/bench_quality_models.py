#!/usr/bin/env python
"""Cost of quality models (``filters/quality_model.py``) next to extraction, and the memory of a
worker with two models.

(1) ``time``    the Japanese documents of ``../shared/crawl`` (the bundled sample with
                ``--sample``): per repeat, in one process and interleaved, the time to extract
                every document (trafilatura, in-process, the pipeline's settings) and the time
                each model takes to score the extracted texts (tokenization + ``predict(k=-1)``
                as the stage does).  Medians over ``--repeats``; the ratio scoring / extraction
                per model (target ≤ 10 %).
(2) ``memory``  ``jawebcorpus run`` on the same input without a model, with one and with two
                named models (the binary and the graded one): the peak RSS of the run's
                processes (``RUSAGE_CHILDREN`` of a wrapper whose only children are the run and
                its extraction child), one run each, in one invocation.

The models are trained here with ``train-quality``'s defaults from ``bench/quality_ja``
(946 labelled texts: good/bad for the binary model, grades 0–3 for the graded one), plus a
"published-style" model on raw text (``tokenize=none``, character n-grams 2–4, dim 64) like the
classifiers published for Swallow v2 (whose exact settings are not known here).

    python bench/bench_quality_models.py [--shared ../shared] [--sample] [--repeats 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (BENCH_DIR, add_common_args, apply, crawl_pages, freeze_if_asked, stage, table,
                     wait_for_quiet, write_results)

NAME = "bench_quality_models"


def japanese_documents(pages):
    """(html, text) of the pages that the pipeline's detect, decode, extract and langid keep."""
    from jawebcorpus.corpus.charset import DecodeStage
    from jawebcorpus.corpus.extract import ExtractStage
    from jawebcorpus.filters.jadetect import DetectStage
    from jawebcorpus.filters.langid import LangIdStage
    from jawebcorpus.pipelines.config import PipelineConfig

    cfg = PipelineConfig()
    detect, decode, langid = stage(DetectStage, cfg), stage(DecodeStage, cfg), stage(LangIdStage, cfg)
    extract = stage(ExtractStage, dataclasses.replace(cfg, extract=dataclasses.replace(cfg.extract, isolation="none")))
    out = []
    for doc in pages:
        if apply(detect, doc) is None or apply(decode, doc) is None:
            continue
        html = doc.html
        d = apply(extract, doc)
        if d is None or apply(langid, d) is None:
            continue
        out.append((html, d.text))
    return out, extract


def sample_pages():
    from jawebcorpus.corpus.inputs import resolve_paths
    from jawebcorpus.corpus.read import FileReport, ReadConfig, ReadStage, read_pages
    from jawebcorpus.corpus.stage import Count
    from jawebcorpus.sample import __file__ as sample_init

    count = Count(ReadStage)
    docs = []
    for inp in resolve_paths([os.path.join(os.path.dirname(sample_init), "crawl-data")]):
        with open(inp.path, "rb") as f:
            docs.extend(read_pages(f, inp, ReadConfig(), count, FileReport(inp.path, inp.rel, inp.snapshot)))
    return docs


def train_models(tmp: Path, log) -> dict[str, Path]:
    from jawebcorpus.pipelines.quality_graded import train_graded_model
    from jawebcorpus.pipelines.quality_training import _CHILD, find_trainer, train_quality_model

    rows = [json.loads(x) for x in (BENCH_DIR / "quality_ja" / "quality_ja.jsonl").read_text(encoding="utf-8").splitlines()]
    good = [r["text"] for r in rows if r["label"] == "good"]
    bad = [r["text"] for r in rows if r["label"] == "bad"]
    models = {"binary": tmp / "binary.bin", "graded": tmp / "graded.bin", "raw": tmp / "raw.bin"}
    log("training the binary model (train-quality defaults) …")
    train_quality_model(good, bad, str(models["binary"]), seed=1)
    log("training the graded model (train-quality --labels defaults) …")
    train_graded_model([(r["text"], int(r["grade"])) for r in rows], str(models["graded"]), seed=1)
    log("training the published-style model (raw text, character n-grams 2–4, dim 64) …")
    train = tmp / "raw.txt"
    train.write_text("".join(f"__label__{r['grade']} {r['text'].replace(chr(10), ' ')}\n" for r in rows),
                     encoding="utf-8")
    trainer = find_trainer()
    params = {"epoch": 10, "lr": 0.1, "dim": 64, "wordNgrams": 1, "minn": 2, "maxn": 4, "minCount": 1,
              "bucket": 2_000_000, "loss": "softmax", "thread": 1, "seed": 1, "verbose": 0}
    subprocess.run([sys.executable, "-I", "-c", _CHILD, json.dumps(
        {"trainer_path": trainer["path"], "input": str(train), "output": str(models["raw"]), "params": params})],
        check=True)
    return models


def load(models: dict[str, Path]):
    from jawebcorpus.filters.quality_model import ModelSlot, QualityModel, QualityModelConfig

    out = {}
    for name, path in models.items():
        tok = "none" if name == "raw" else "auto"
        slot = ModelSlot(name, str(path), f"quality_{name}", "", "", "auto", "__label__hq", None, tok)
        out[name] = QualityModel(QualityModelConfig(), slot=slot)
    return out


def time_all(docs, extract, scorers, repeats: int, log) -> dict:
    texts = [t for _, t in docs]
    times: dict[str, list[float]] = {"extract": [], **{n: [] for n in scorers}}
    for rep in range(repeats):
        busy = wait_for_quiet(log=log)
        t0 = time.perf_counter()
        for html, _ in docs:
            extract.extractor.extract(html)  # what the extract stage does per document
        times["extract"].append(time.perf_counter() - t0)
        for name, m in scorers.items():
            t0 = time.perf_counter()
            for t in texts:
                m.score(t)
            times[name].append(time.perf_counter() - t0)
        log(f"  repeat {rep + 1}: extract {times['extract'][-1]:.2f} s; "
            + ", ".join(f"{n} {times[n][-1]:.3f} s" for n in scorers) + (f" (busy {busy:.0%})" if busy else ""))
    return times


PEAK_WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                "sys.stderr.write(r.stderr[-2000:]); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
                "sys.exit(r.returncode)")


def peak_rss_mb(input_args: list[str], model_args: list[str], tmp: Path, tag: str) -> float:
    out = tmp / f"run-{tag}"
    cmd = [sys.executable, "-c", PEAK_WRAPPER, sys.executable, "-m", "jawebcorpus", "run", "--quiet", *input_args,
           "--output", str(out), *model_args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        sys.exit(f"run {tag} failed: {r.stderr[-1000:]}")
    return int(r.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--sample", action="store_true", help="the bundled sample instead of ../shared/crawl")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    freeze_if_asked(args)
    log = print
    pages = sample_pages() if args.sample else crawl_pages(args.shared)
    docs, extract = japanese_documents(pages)
    chars = sum(len(t) for _, t in docs)
    log(f"{len(docs)} Japanese documents, {chars:,} characters of text")
    with tempfile.TemporaryDirectory(prefix="bench-qm-") as tmpd:
        tmp = Path(tmpd)
        models = train_models(tmp, log)
        sizes = {n: p.stat().st_size for n, p in models.items()}
        scorers = load(models)
        times = time_all(docs, extract, scorers, args.repeats, log)
        med = {k: statistics.median(v) for k, v in times.items()}
        inp = ["--sample"] if args.sample else ["--input", os.path.join(args.shared, "crawl")]
        log("peak RSS: runs without a model, with one, with two …")
        rss = {
            "none": peak_rss_mb(inp, [], tmp, "none"),
            "one": peak_rss_mb(inp, ["--quality-model", f"binary={models['binary']}"], tmp, "one"),
            "two": peak_rss_mb(inp, ["--quality-model", f"binary={models['binary']}",
                                     "--quality-model", f"graded={models['graded']}"], tmp, "two"),
        }
    rows = [["extraction (trafilatura)", f"{1000 * med['extract'] / len(docs):.2f}", "100 %", "–"]]
    for n in scorers:
        rows.append([f"model {n} ({scorers[n].mode}, tokenize {scorers[n].tokenize})",
                     f"{1000 * med[n] / len(docs):.3f}", f"{100 * med[n] / med['extract']:.1f} %",
                     f"{sizes[n] / 1e6:.0f}"])
    print(table(["per document (median of repeats)", "ms", "of extraction", "model MB"], rows))
    print(table(["run", "peak RSS MB"], [["no quality model", f"{rss['none']:.0f}"],
                                         ["one model (binary)", f"{rss['one']:.0f}"],
                                         ["two models (binary + graded)", f"{rss['two']:.0f}"]]))
    path = write_results(NAME, {
        "input": "sample" if args.sample else "shared/crawl", "documents": len(docs), "characters": chars,
        "repeats": args.repeats, "seconds": times, "median_seconds": med,
        "ratio_to_extraction": {n: med[n] / med["extract"] for n in scorers},
        "model_bytes": sizes, "modes": {n: [scorers[n].mode, scorers[n].tokenize] for n in scorers},
        "peak_rss_mb": rss,
    }, args.out)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
