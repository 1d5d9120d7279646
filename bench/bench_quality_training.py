#!/usr/bin/env python
"""Which fastText settings separate good from bad Japanese web text: ``train-quality``'s defaults
against alternatives, on the labelled set ``bench/quality_ja/quality_ja.jsonl``.

Split rule (per seed; ``splits``): the set's *genres* (the template family a document was
written from) are shuffled per label with ``random.Random(f"quality_ja:{seed}")``; the first
quarter of the good genres and of the bad genres (rounded) is the TEST split, the next fifth of
the rest the VALIDATION split (used only by autotune), the others TRAIN.  A model never sees a
genre of its test documents: it cannot score well by recognising a template.  Non-autotune
models train on train + validation.

Per configuration and seed: tokenize (``filters.quality_model.tokenize_text``, as the pipeline
does), train with the fastText training build ``train-quality`` uses (one thread, the seed as
fastText's seed, in a child process), score the test documents with the prediction binding the
pipeline uses, ROC AUC of the probability of the good label.  Reported: mean, standard deviation,
min and max over seeds; training wall and CPU time (median).  Baselines on the same test splits:
the 21 Swallow rules' pass/fail (``filters.quality``, swallow-v1 and swallow-light), the number
of rules failed (fewer = better), the hiragana share alone.

``--real`` adds the real-text set ``bench/quality_ja/real_crawl_labels.jsonl`` (labels of
Japanese documents of ``../shared/crawl``, identified by WARC file + offset + record id): every
configuration trained on the whole written set (all genres) and scored on those documents.

Autotune (fastText's ``autotuneValidationFile`` on the validation genres, ``autotuneDuration``
bounded) runs in a child limited to 300 s and 6 GB: its final training with the settings it
found has no bound of its own; a run over either limit counts as failed (``seeds`` column).
``--real`` also measures the scoring cost per real document (tokenization + prediction) next to
trafilatura's extraction of the same pages; ``--cost-only`` measures only that and replaces it
in the results JSON.

    python bench/bench_quality_training.py [--seeds 10] [--autotune-seconds 45] [--only NAME,...] [--real] [--frozen]
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from _common import add_common_args, fmt, freeze_if_asked, table, wait_for_quiet, write_results

from jawebcorpus.filters import quality as q
from jawebcorpus.filters.quality_model import tokenize_text
from jawebcorpus.pipelines.quality_training import _auc, find_trainer, train_quality_model

NAME = "bench_quality_training"
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "quality_ja", "quality_ja.jsonl")
REAL = os.path.join(HERE, "quality_ja", "real_crawl_labels.jsonl")
POS, NEG = "__label__hq", "__label__lq"
TEST_SHARE, VAL_SHARE = 0.25, 0.2

#: ``train_quality_model``'s keyword → fastText's parameter name
_FT_NAMES = {"epoch": "epoch", "lr": "lr", "dim": "dim", "word_ngrams": "wordNgrams", "min_count": "minCount",
             "bucket": "bucket", "loss": "loss", "minn": "minn", "maxn": "maxn"}


def code_defaults() -> dict:
    """``train_quality_model``'s defaults, read from its signature (what ``train-quality`` uses)."""
    sig = inspect.signature(train_quality_model)
    out = {"tokenize": sig.parameters["tokenize"].default}
    for kw, ft in _FT_NAMES.items():
        if kw in sig.parameters:
            out[ft] = sig.parameters[kw].default
    return out


#: ``train-quality``'s defaults before issue 19: the base every alternative below changes
PREVIOUS = {"tokenize": "chars", "epoch": 5, "lr": 0.1, "dim": 64, "wordNgrams": 2, "minCount": 1, "bucket": 2_000_000,
            "loss": "softmax"}


def configs(defaults: dict, autotune_s: int) -> list[dict]:
    """``{"name", "group", "tokenize", "params"}``: full fastText settings (no autotune) or
    ``{"autotune": seconds}``.  Alternatives change :data:`PREVIOUS`; ``defaults`` is what the
    code has now (``code_defaults``)."""
    c = []

    def add(name, group, tokenize=None, base=PREVIOUS, **params):
        full = {k: v for k, v in base.items() if k != "tokenize"}
        c.append({"name": name, "group": group, "tokenize": tokenize or base["tokenize"],
                  "params": {"autotune": params["autotune"]} if "autotune" in params else {**full, **params}})

    add("defaults (the code's now)", "defaults", base=defaults)
    add("previous defaults (chars wordNgrams=2 epoch=5)", "defaults")
    for tok in ("chars", "words"):
        for n in (1, 2, 3):
            add(f"{tok} wordNgrams={n} epoch=25", "n-grams", tok, wordNgrams=n, epoch=25)
    add("words wordNgrams=2 minn=1 maxn=2 epoch=25", "subwords", "words", wordNgrams=2, minn=1, maxn=2, epoch=25)
    add("words wordNgrams=2 minn=2 maxn=4 epoch=25", "subwords", "words", wordNgrams=2, minn=2, maxn=4, epoch=25)
    add("none minn=2 maxn=4 epoch=25", "subwords", "none", wordNgrams=1, minn=2, maxn=4, epoch=25)
    for tok, epochs in (("chars", (10, 15, 50)), ("words", (5, 10, 50))):
        for e in epochs:
            add(f"{tok} wordNgrams=2 epoch={e}", "epochs", tok, wordNgrams=2, epoch=e)
    add("chars wordNgrams=1 epoch=10", "epochs", "chars", wordNgrams=1, epoch=10)
    add("chars wordNgrams=3 epoch=10", "epochs", "chars", wordNgrams=3, epoch=10)
    add("chars wordNgrams=2 epoch=10 lr=0.3", "lr", "chars", wordNgrams=2, epoch=10, lr=0.3)
    add("chars wordNgrams=2 epoch=25 lr=0.05", "lr", "chars", wordNgrams=2, epoch=25, lr=0.05)
    for lr in (0.05, 0.5, 1.0):
        add(f"words wordNgrams=2 epoch=25 lr={lr}", "lr", "words", wordNgrams=2, epoch=25, lr=lr)
    add("chars wordNgrams=2 epoch=10 dim=16", "dim", "chars", wordNgrams=2, epoch=10, dim=16)
    add("chars wordNgrams=2 epoch=25 dim=16", "dim", "chars", wordNgrams=2, epoch=25, dim=16)
    for dim in (16, 100):
        add(f"words wordNgrams=2 epoch=25 dim={dim}", "dim", "words", wordNgrams=2, epoch=25, dim=dim)
    for tok in ("chars", "words"):
        add(f"{tok} wordNgrams=2 epoch=25 bucket=200000", "bucket", tok, wordNgrams=2, epoch=25, bucket=200_000)
    for tok in ("chars", "words"):
        add(f"{tok} autotune {autotune_s}s", "autotune", tok, autotune=autotune_s)
    return c


def fasttext_params(c: dict, seed: int) -> dict:
    """The keyword arguments of ``fasttext.train_supervised`` for configuration ``c``: one thread
    (reproducible), the seed of the split."""
    p = c["params"]
    if "autotune" in p:
        return {"autotuneDuration": p["autotune"], "thread": 1, "seed": seed, "verbose": 0}
    return {**p, "thread": 1, "seed": seed, "verbose": 0}


def load(path: str = DATA) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def splits(docs: list[dict], seed: int) -> dict[str, list[int]]:
    """Indices of the train / val / test documents for ``seed`` (see the module docstring)."""
    rng = random.Random(f"quality_ja:{seed}")
    role = {}
    for label in ("good", "bad"):
        genres = sorted({d["genre"] for d in docs if d["label"] == label})
        rng.shuffle(genres)
        n_test = max(1, round(TEST_SHARE * len(genres)))
        n_val = max(1, round(VAL_SHARE * (len(genres) - n_test)))
        for i, g in enumerate(genres):
            role[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    out = {"train": [], "val": [], "test": []}
    for i, d in enumerate(docs):
        out[role[d["genre"]]].append(i)
    return out


_CHILD = r"""
import json, sys
a = json.loads(sys.argv[1])
if a["trainer_path"]:
    sys.path.insert(0, a["trainer_path"])
import fasttext
m = fasttext.train_supervised(input=a["input"], **a["params"])
m.save_model(a["output"])
print(json.dumps({k: getattr(m, k) for k in ("epoch", "lr", "dim", "wordNgrams", "minn", "maxn", "minCount", "bucket",
                                             "loss") if hasattr(m, k)}, default=str))
"""


def _write(path: str, lines: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(x + "\n" for x in lines)


#: autotune's search is bounded by autotuneDuration, its final training with the best settings
#: is not (fastText searches dim up to 1000 and bucket up to 10 M): a wall-clock limit and an
#: address-space limit on the child keep it from taking the shared machine
AUTOTUNE_TIMEOUT_S = 300
AUTOTUNE_MAX_BYTES = 6 << 30


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (AUTOTUNE_MAX_BYTES, AUTOTUNE_MAX_BYTES))


def train_and_score(trainer: dict, tmp: str, params: dict, train: list[str], val: list[str] | None,
                    test: list[str], seed: int) -> dict:
    """Train on labelled lines, return the test probabilities of the good label and the timing."""
    import fasttext

    rng = random.Random(seed)
    train = list(train)
    rng.shuffle(train)
    tr, va, model = (os.path.join(tmp, n) for n in ("train.txt", "val.txt", "model.bin"))
    _write(tr, train)
    p = dict(params)
    if val is not None:
        _write(va, val)
        p["autotuneValidationFile"] = va
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    retries = 0
    auto = "autotuneValidationFile" in p
    while True:
        try:
            r = subprocess.run([sys.executable, "-I", "-c", _CHILD,
                                json.dumps({"trainer_path": trainer["path"], "input": tr, "output": model, "params": p})],
                               capture_output=True, text=True, preexec_fn=_limit_memory if auto else None,
                               timeout=AUTOTUNE_TIMEOUT_S if auto else None)
        except subprocess.TimeoutExpired:
            return {"failed": f"autotune did not finish in {AUTOTUNE_TIMEOUT_S} s (its final training is unbounded)",
                    "wall_s": time.perf_counter() - t0, "retries": retries}
        # autotune's final training can diverge ("Encountered NaN", a fastText autotune failure with
        # a large learning rate it picked): run the search again with another seed, at most twice
        if r.returncode != 0 and auto and "NaN" in r.stderr and retries < 2:
            retries += 1
            p["seed"] = p.get("seed", 0) + 1000
            continue
        break
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        if auto:
            return {"failed": f"autotune exited {r.returncode}: {(r.stderr.strip().splitlines() or [''])[-1][:200]}",
                    "wall_s": wall, "retries": retries}
        raise RuntimeError(f"training failed: {r.stderr.strip()[-500:]}")
    chosen = json.loads(r.stdout.strip().splitlines()[-1])
    m = fasttext.load_model(model)

    def prob(line: str) -> float:
        labels, probs = m.predict(line, k=-1, threshold=0.0)
        return next((float(min(max(pr, 0.0), 1.0)) for lab, pr in zip(labels, probs) if lab == POS), 0.0)

    return {"scores": [prob(x) for x in test], "wall_s": wall,
            "cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "model_bytes": os.path.getsize(model), "chosen": chosen, "retries": retries}


def auc_of(docs: list[dict], idx: list[int], scores: list[float]) -> float | None:
    pos = [s for i, s in zip(idx, scores) if docs[i]["label"] == "good"]
    neg = [s for i, s in zip(idx, scores) if docs[i]["label"] == "bad"]
    return _auc(pos, neg)


def hard_auc(docs: list[dict], idx: list[int], scores: list[float]) -> float | None:
    """AUC over the (good, bad) pairs of which at least one document is a hard case (messy but
    useful good, or well-formed but worthless bad): P(good scores higher), ties count half."""
    good = [(s, docs[i]["kind"] == "hard") for i, s in zip(idx, scores) if docs[i]["label"] == "good"]
    bad = [(s, docs[i]["kind"] == "hard") for i, s in zip(idx, scores) if docs[i]["label"] == "bad"]
    won = n = 0.0
    for sg, hg in good:
        for sb, hb in bad:
            if hg or hb:
                n += 1
                won += 1.0 if sg > sb else 0.5 if sg == sb else 0.0
    return won / n if n else None


def baselines(docs: list[dict]) -> dict[str, list[float]]:
    """Per document: rule-based scores (higher = more likely good)."""
    v1, light, nfail, hira = [], [], [], []
    for d in docs:
        m = q.measure(d["text"])
        r1 = q.evaluate_measures(m, q.SWALLOW_V1)
        v1.append(1.0 if r1.passed else 0.0)
        light.append(1.0 if q.evaluate_measures(m, q.SWALLOW_LIGHT).passed else 0.0)
        nfail.append(-float(len(r1.failed)))
        hira.append(float(m["hiragana_frac"]))
    return {"swallow-v1 rules pass/fail": v1, "swallow-light rules pass/fail": light,
            "swallow-v1 rules failed (fewer = better)": nfail, "hiragana share": hira}


def summarize(vals: list[float]) -> dict:
    vals = [v for v in vals if v is not None]
    if not vals:
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0, "values": []}
    return {"mean": statistics.mean(vals), "sd": statistics.stdev(vals) if len(vals) > 1 else 0.0,
            "min": min(vals), "max": max(vals), "n": len(vals), "values": vals}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap)
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--seeds", type=int, default=10, help="splits (seeds 0 … N-1; default 10)")
    ap.add_argument("--autotune-seconds", type=int, default=45, help="autotuneDuration per model (default 45)")
    ap.add_argument("--only", help="comma-separated configuration names (default: all)")
    ap.add_argument("--real", action="store_true", help="also score the real-text labels (needs ../shared)")
    ap.add_argument("--real-seeds", type=int, default=3, help="trainings per configuration for --real (default 3)")
    ap.add_argument("--cost-only", action="store_true",
                    help="only measure the scoring cost on the real texts and replace it in the results JSON")
    args = ap.parse_args(argv)
    freeze_if_asked(args)
    if args.cost_only:
        return cost_only(args)

    docs = load(args.data)
    trainer = find_trainer()
    defaults = code_defaults()
    cfgs = configs(defaults, args.autotune_seconds)
    if args.only:
        want = {x.strip() for x in args.only.split(",")}
        cfgs = [c for c in cfgs if c["name"] in want]
    print(f"{len(docs)} documents ({sum(d['label'] == 'good' for d in docs)} good); code defaults: {defaults}")
    tok_cache: dict[str, list[str]] = {}

    def lines(tok: str) -> list[str]:
        if tok not in tok_cache:
            t0 = time.perf_counter()
            tok_cache[tok] = [tokenize_text(d["text"], tok) for d in docs]
            print(f"tokenized ({tok}) in {time.perf_counter() - t0:.1f} s")
        return tok_cache[tok]

    def lab(i: int) -> str:
        return POS if docs[i]["label"] == "good" else NEG

    base = baselines(docs)
    results = {c["name"]: {"config": c, "auc": [], "auc_hard": [], "wall_s": [], "cpu_s": [], "model_bytes": [],
                           "chosen": [], "retries": [], "failures": []} for c in cfgs}
    base_res = {k: [] for k in base}
    base_hard = {k: [] for k in base}
    split_info = []
    for seed in range(args.seeds):
        sp = splits(docs, seed)
        test = sp["test"]
        split_info.append({"seed": seed, "test_genres": sorted({docs[i]["genre"] for i in test}),
                           "val_genres": sorted({docs[i]["genre"] for i in sp["val"]}),
                           **{k: len(v) for k, v in sp.items()}})
        for k, sc in base.items():
            base_res[k].append(auc_of(docs, test, [sc[i] for i in test]))
            base_hard[k].append(hard_auc(docs, test, [sc[i] for i in test]))
        busy = wait_for_quiet(max_busy=0.5, timeout_s=20, log=lambda *_: None)
        order = cfgs if seed % 2 == 0 else cfgs[::-1]
        for c in order:
            toks = lines(c["tokenize"])
            params = fasttext_params(c, seed)
            if "autotuneDuration" in params:
                train_idx, val = sp["train"], [f"{lab(i)} {toks[i]}" for i in sp["val"]]
            else:
                train_idx, val = sp["train"] + sp["val"], None
            with tempfile.TemporaryDirectory(prefix="bqt-") as tmp:
                r = train_and_score(trainer, tmp, params, [f"{lab(i)} {toks[i]}" for i in train_idx if toks[i]], val,
                                    [toks[i] for i in test], seed)
            res = results[c["name"]]
            if "failed" in r:
                res["failures"].append({"seed": seed, "why": r["failed"]})
                res["auc"].append(None)
                res["auc_hard"].append(None)
                continue
            res["auc"].append(auc_of(docs, test, r["scores"]))
            res["auc_hard"].append(hard_auc(docs, test, r["scores"]))
            for k in ("wall_s", "cpu_s", "model_bytes", "chosen", "retries"):
                res[k].append(r[k])
        print(f"seed {seed}: test genres {split_info[-1]['test_genres']} (busy before {busy})")
        print("  " + "; ".join(f"{n}: " + ("failed" if r["auc"][-1] is None else f"{r['auc'][-1]:.3f}")
                               for n, r in results.items()), flush=True)

    rows, out_cfgs = [], []

    def med(xs, scale=1.0):
        return statistics.median(xs) * scale if xs else None

    def f3(x):
        return "–" if x is None else f"{x:.3f}"

    for name, r in results.items():
        s = summarize(r["auc"])
        hard = [x for x in r["auc_hard"] if x is not None]
        entry = {"name": name, "group": r["config"]["group"], "tokenize": r["config"]["tokenize"],
                 "params": r["config"]["params"], "auc": s,
                 "auc_hard": summarize(hard) if hard else None,
                 "train_wall_s_median": med(r["wall_s"]), "train_cpu_s_median": med(r["cpu_s"]),
                 "model_mb_median": med(r["model_bytes"], 1e-6), "chosen": r["chosen"],
                 "autotune_retries": sum(r["retries"]), "failures": r["failures"]}
        out_cfgs.append(entry)
        rows.append([name, f3(s["mean"]), f3(s["sd"]), f"{f3(s['min'])}–{f3(s['max'])}",
                     f3(entry["auc_hard"]["mean"]) if hard else "–", f"{s['n']}/{len(r['auc'])}",
                     fmt(entry["train_wall_s_median"], 1), fmt(entry["train_cpu_s_median"], 1),
                     fmt(entry["model_mb_median"], 0)])
    out_base = []
    for k, v in base_res.items():
        s = summarize(v)
        whole = _auc([x for x, d in zip(base[k], docs) if d["label"] == "good"],
                     [x for x, d in zip(base[k], docs) if d["label"] == "bad"])
        h = summarize(base_hard[k])
        out_base.append({"name": k, "auc": s, "auc_hard": h, "auc_whole_set": whole})
        rows.append([k, f3(s["mean"]), f3(s["sd"]), f"{f3(s['min'])}–{f3(s['max'])}", f3(h["mean"]),
                     f"{s['n']}/{len(v)}", "–", "–", "–"])
    print()
    print(table(["configuration", "AUC mean", "sd", "min–max", "hard pairs", "seeds", "train s", "CPU s", "MB"], rows))
    for b in out_base:
        print(f"{b['name']}: AUC on the whole set {b['auc_whole_set']:.3f}")

    payload = {"data": {"file": os.path.relpath(args.data, os.path.dirname(HERE)), "documents": len(docs),
                        "good": sum(d["label"] == "good" for d in docs)},
               "split_rule": "genres per label shuffled with random.Random(f'quality_ja:{seed}'); first "
                             f"{TEST_SHARE:.0%} test, next {VAL_SHARE:.0%} of the rest validation (autotune only)",
               "seeds": args.seeds, "splits": split_info, "code_defaults": defaults,
               "trainer": trainer.get("package"), "autotune_seconds": args.autotune_seconds,
               "configurations": out_cfgs, "baselines": out_base}
    if args.real:
        payload["real"] = real_text(args, docs, cfgs, defaults, trainer, lines, lab)
    path = write_results(NAME, payload, args.out)
    print(f"→ {path}")
    return 0


def real_text(args, docs, cfgs, defaults, trainer, lines, lab) -> dict:
    """Train each configuration on the whole written set, score the labelled real documents."""
    sys.path.insert(0, os.path.join(HERE, "quality_ja"))
    from real_crawl import load_real  # noqa: E402

    real = load_real(args.shared)
    if not real:
        print("real-text labels: ../shared not found, skipped")
        return {}
    rdocs = [{"label": r["label"], "kind": "real"} for r in real]
    base = baselines([{"text": r["text"]} for r in real])
    out = {"documents": len(real), "good": sum(r["label"] == "good" for r in real), "configurations": [],
           "baselines": {k: _auc([s for s, r in zip(v, real) if r["label"] == "good"],
                                 [s for s, r in zip(v, real) if r["label"] == "bad"]) for k, v in base.items()}}
    first: dict[str, list[float]] = {}  # seed 0's scores per configuration (for paired intervals)
    for c in cfgs:
        toks = lines(c["tokenize"])
        rt = [tokenize_text(r["text"], c["tokenize"]) for r in real]
        aucs = []
        for seed in range(args.real_seeds):
            params = fasttext_params(c, seed)
            val = None
            idx = list(range(len(docs)))
            if "autotuneDuration" in params:
                sp = splits(docs, seed)
                idx, val = sp["train"] + sp["test"], [f"{lab(i)} {toks[i]}" for i in sp["val"]]
            with tempfile.TemporaryDirectory(prefix="bqt-") as tmp:
                r = train_and_score(trainer, tmp, params, [f"{lab(i)} {toks[i]}" for i in idx if toks[i]], val, rt, seed)
            aucs.append(None if "failed" in r else auc_of(rdocs, list(range(len(real))), r["scores"]))
            if seed == 0 and "failed" not in r:
                first[c["name"]] = r["scores"]
        s = summarize(aucs)
        out["configurations"].append({"name": c["name"], "auc": s})
        print(f"real: {c['name']}: " + ("failed" if s["mean"] is None else f"{s['mean']:.3f} (sd {s['sd']:.3f})")
              + f", {s['n']} of {len(aucs)} trained", flush=True)
    for k, v in out["baselines"].items():
        print(f"real: {k}: {v:.3f}")
    ref = next((c["name"] for c in cfgs if c["name"].startswith("previous defaults")), None)
    if ref in first:
        y = [r["label"] == "good" for r in real]
        for entry in out["configurations"]:
            if entry["name"] in first and entry["name"] != ref:
                entry["delta_vs_previous_ci95"] = paired_bootstrap(y, first[entry["name"]], first[ref])
                lo, hi = entry["delta_vs_previous_ci95"]
                print(f"real: {entry['name']}: AUC − previous defaults' (seed 0), 95 % bootstrap interval "
                      f"[{lo:+.3f}, {hi:+.3f}]")
    out["scoring_cost"] = scoring_cost(docs, real, cost_configs(cfgs), trainer, lab)
    return out


def cost_only(args) -> int:
    """``--cost-only``: the scoring cost again, written into the existing results JSON."""
    sys.path.insert(0, os.path.join(HERE, "quality_ja"))
    from real_crawl import load_real  # noqa: E402

    path = args.out or os.path.join(HERE, "results", f"{NAME}.json")
    with open(path, encoding="utf-8") as fh:
        res = json.load(fh)
    docs = load(args.data)
    real = load_real(args.shared)
    if not real:
        sys.exit("--cost-only needs ../shared/crawl")

    def lab(i: int) -> str:
        return POS if docs[i]["label"] == "good" else NEG

    cost = scoring_cost(docs, real, cost_configs(configs(code_defaults(), args.autotune_seconds)), find_trainer(), lab)
    cost["command"] = [sys.executable, *sys.argv]
    res.setdefault("real", {})["scoring_cost"] = cost
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    print(f"→ {path}")
    return 0


def cost_configs(cfgs: list[dict]) -> list[dict]:
    """Whose scoring cost is measured: the two defaults and MeCab words (the tokenization costs)."""
    return [c for c in cfgs if c["group"] == "defaults" or c["name"] == "words wordNgrams=2 epoch=25"]


def paired_bootstrap(y: list[bool], a: list[float], b: list[float], n: int = 2000, seed: int = 0) -> list[float]:
    """95 % interval of AUC(a) − AUC(b) on the same documents: documents resampled with
    replacement within each class (the class sizes stay), ``n`` times."""
    rng = random.Random(seed)
    pos = [i for i, v in enumerate(y) if v]
    neg = [i for i, v in enumerate(y) if not v]
    d = []
    for _ in range(n):
        p = [rng.choice(pos) for _ in pos]
        q = [rng.choice(neg) for _ in neg]
        d.append(_auc([a[i] for i in p], [a[i] for i in q]) - _auc([b[i] for i in p], [b[i] for i in q]))
    d.sort()
    return [d[int(0.025 * n)], d[int(0.975 * n) - 1]]


def scoring_cost(docs, real, cfgs, trainer, lab, repeats: int = 3) -> dict:
    """CPU time per real document of scoring (tokenization + fastText prediction) with a model of
    each configuration, next to trafilatura's extraction of the same pages (in-process, best of
    ``repeats``; the pipeline extracts in a child process, which adds to extraction, not to
    scoring)."""
    import fasttext

    from jawebcorpus.corpus.extract import trafilatura_extract

    def best(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            fn()
            times.append(time.process_time() - t0)
        return min(times) / len(real)

    extract_s = best(lambda: [trafilatura_extract(r["html"]) for r in real])
    out = {"documents": len(real), "mean_chars": statistics.mean(len(r["text"]) for r in real),
           "extract_ms_per_doc": extract_s * 1e3, "configurations": []}
    print(f"scoring cost on {len(real)} real documents (mean {out['mean_chars']:.0f} characters): "
          f"extraction {extract_s * 1e3:.1f} ms per document")
    for c in cfgs:
        tok = c["tokenize"]
        with tempfile.TemporaryDirectory(prefix="bqt-") as tmp:
            lines = [f"{lab(i)} {tokenize_text(d['text'], tok)}" for i, d in enumerate(docs)]
            train_and_score(trainer, tmp, fasttext_params(c, 0), lines, None, [], 0)
            m = fasttext.load_model(os.path.join(tmp, "model.bin"))
            toks = [tokenize_text(r["text"], tok) for r in real]
            tok_s = best(lambda: [tokenize_text(r["text"], tok) for r in real])
            pred_s = best(lambda: [m.predict(x, k=-1, threshold=0.0) for x in toks])
        row = {"name": c["name"], "tokenize": tok, "tokenize_ms_per_doc": tok_s * 1e3, "predict_ms_per_doc": pred_s * 1e3,
               "share_of_extraction": (tok_s + pred_s) / extract_s}
        out["configurations"].append(row)
        print(f"  {c['name']}: tokenize {tok_s * 1e3:.2f} ms + predict {pred_s * 1e3:.2f} ms per document = "
              f"{100 * row['share_of_extraction']:.1f} % of extraction")
    return out


if __name__ == "__main__":
    sys.exit(main())
