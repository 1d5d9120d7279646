"""MinHash signatures per second per core, 800 permutations, 2,000-character Japanese documents:
jawebcorpus (one-permutation hashing + optimal densification, NumPy) side by side with
datasketch's MinHash (``update``, ``update_batch``, ``bulk``) and rensa (``RMinHash``,
``CMinHash``, per document and its bulk matrix API), in one run; plus each one's estimation
error (mean absolute error vs the exact Jaccard similarity of the 5-gram sets) on pairs with
controlled edits.

datasketch and rensa are benchmark-only (``pip install datasketch rensa``), not project
dependencies; a missing one is reported and skipped.

    python bench/bench_minhash.py [--docs 400] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, fmt, summary, table, wait_for_quiet, write_results  # noqa: E402

NUM_PERM = 800
N = 5


def load_sentences(shared: str) -> list[str]:
    path = os.path.join(shared, "testdata", "langid", "lingua", "sentences", "ja.txt")
    with open(path, encoding="utf-8") as fh:
        return [s.strip() for s in fh if s.strip()]


def make_docs(sentences: list[str], n: int, chars: int = 2000, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        parts, size = [], 0
        while size < chars:
            s = rng.choice(sentences)
            parts.append(s)
            size += len(s)
        docs.append("".join(parts)[:chars])
    return docs


def edit(rng: random.Random, text: str, rate: float, alphabet: str) -> str:
    chars = list(text)
    i = 0
    while i < len(chars):
        if rng.random() < rate / 4:
            for j in range(i, min(i + 4, len(chars))):
                chars[j] = rng.choice(alphabet)
            i += 4
        else:
            i += 1
    return "".join(chars)


def shingles(text: str) -> list[str]:
    return [text[i:i + N] for i in range(max(len(text) - N + 1, 1))]


def shingle_set(text: str) -> set[str]:
    return set(shingles(text))


# -- the methods: each takes a list of texts and returns a (len, NUM_PERM) array ------------------
def method_ours():
    from jawebcorpus.dedup.minhash import SignatureSpec, signatures

    spec = SignatureSpec()
    return lambda texts: signatures(texts, spec)


def method_datasketch(api: str):
    from datasketch import MinHash

    def run(texts):
        out = []
        if api == "update":
            for t in texts:
                m = MinHash(num_perm=NUM_PERM, seed=1)
                for s in set(shingles(t)):
                    m.update(s.encode("utf-8"))
                out.append(m.hashvalues)
        elif api == "update_batch":
            for t in texts:
                m = MinHash(num_perm=NUM_PERM, seed=1)
                m.update_batch([s.encode("utf-8") for s in set(shingles(t))])
                out.append(m.hashvalues)
        elif api == "bulk":
            ms = MinHash.bulk([[s.encode("utf-8") for s in set(shingles(t))] for t in texts], num_perm=NUM_PERM, seed=1)
            out = [m.hashvalues for m in ms]
        return np.asarray(out)

    return run


def method_rensa(kind: str):
    import rensa

    cls = rensa.RMinHash if kind.startswith("R") else rensa.CMinHash

    def run(texts):
        if kind.endswith("bulk"):
            sets = [shingles(t) for t in texts]
            if cls is rensa.RMinHash:
                mats = cls.digests_from_token_sets(sets, NUM_PERM, 42)
            else:
                mats = cls.digests_from_token_sets(sets, NUM_PERM, 42)
            return np.asarray(mats, dtype=np.uint64)
        out = []
        for t in texts:
            m = cls(num_perm=NUM_PERM, seed=42)
            m.update(shingles(t))
            out.append(m.digest())
        return np.asarray(out, dtype=np.uint64)

    return run


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--docs", type=int, default=400, help="documents per timing run (fast methods)")
    ap.add_argument("--slow-docs", type=int, default=60, help="documents per timing run for datasketch update")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-seconds", type=float, default=1.0, help="CPU seconds per repeat, at least")
    ap.add_argument("--pairs", type=int, default=200, help="pairs for the estimation error")
    args = ap.parse_args(argv)

    sentences = load_sentences(args.shared)
    docs = make_docs(sentences, args.docs)
    alphabet = "".join(sorted(set("".join(sentences))))[:3000]
    rng = random.Random(7)
    pairs = []
    for i in range(args.pairs):
        base = make_docs(sentences, 1, seed=1000 + i)[0]
        other = edit(rng, base, rng.uniform(0.0, 0.25), alphabet)
        pairs.append((base, other))
    exact = []
    for a, b in pairs:
        sa, sb = shingle_set(a), shingle_set(b)
        exact.append(len(sa & sb) / len(sa | sb))
    exact = np.asarray(exact)

    methods = {"jawebcorpus OPH (numpy)": (method_ours, ())}
    missing = {}
    try:
        import datasketch  # noqa: F401

        methods["datasketch update"] = (method_datasketch, ("update",))
        methods["datasketch update_batch"] = (method_datasketch, ("update_batch",))
        methods["datasketch bulk"] = (method_datasketch, ("bulk",))
    except ImportError as exc:
        missing["datasketch"] = str(exc)
    try:
        import rensa  # noqa: F401

        methods["rensa RMinHash"] = (method_rensa, ("R",))
        methods["rensa RMinHash bulk"] = (method_rensa, ("R-bulk",))
        methods["rensa CMinHash"] = (method_rensa, ("C",))
    except ImportError as exc:
        missing["rensa"] = str(exc)

    results = {}
    for name, (factory, fargs) in methods.items():
        fn = factory(*fargs)
        n = args.slow_docs if name == "datasketch update" else args.docs
        fn(docs[:5])  # warm up
        rates, walls, busy = [], [], []
        for _ in range(args.repeats):
            busy.append(wait_for_quiet(log=lambda *_: None))
            t0 = time.process_time()
            w0 = time.perf_counter()
            done = 0
            while True:  # at least --min-seconds of CPU per repeat, so fast methods are timed fairly
                fn(docs[:n])
                done += n
                if time.process_time() - t0 >= args.min_seconds:
                    break
            rates.append(done / (time.process_time() - t0))  # per core: CPU time of this process
            walls.append(done / (time.perf_counter() - w0))
        sigs = fn([p[0] for p in pairs] + [p[1] for p in pairs])
        a, b = sigs[: len(pairs)], sigs[len(pairs):]
        est = (a == b).mean(axis=1)
        err = np.abs(est - exact)
        results[name] = {"docs_per_s": summary(rates), "docs_per_s_wall": summary(walls), "busy_before": busy,
                         "docs": n, "mae": float(err.mean()),
                         "max_abs_err": float(err.max()), "bias": float((est - exact).mean())}
        print(f"  {name}: {statistics.median(rates):,.0f} docs/s, MAE {err.mean():.4f}", flush=True)

    ours = results["jawebcorpus OPH (numpy)"]["docs_per_s"]["median"]
    rows = []
    for name, r in results.items():
        rows.append([name, fmt(r["docs_per_s"]["median"], 0), fmt(r["docs_per_s"]["min"], 0),
                     fmt(r["docs_per_s"]["max"], 0), f"{ours / r['docs_per_s']['median']:.1f}×",
                     f"{r['mae']:.4f}", f"{r['max_abs_err']:.3f}"])
    print(f"\n{len(docs[0])}-character Japanese documents, {NUM_PERM} permutations, one process "
          f"(CPU time), median of {args.repeats}; error on {len(pairs)} pairs, exact J "
          f"{exact.min():.2f}–{exact.max():.2f}")
    print(table(["method", "docs/s", "min", "max", "ours is", "MAE vs exact J", "max err"], rows))
    for k, v in missing.items():
        print(f"not measured: {k} ({v})")
    ds_best = max((r["docs_per_s"]["median"] for k, r in results.items() if k.startswith("datasketch")), default=None)
    rensa_best = max((r["docs_per_s"]["median"] for k, r in results.items() if k.startswith("rensa")), default=None)
    verdict = {
        "ours_docs_per_s": ours,
        "x_fastest_datasketch": ours / ds_best if ds_best else None,
        "x_fastest_rensa": ours / rensa_best if rensa_best else None,
    }
    print(verdict)
    path = write_results("bench_minhash", {
        "num_perm": NUM_PERM, "shingle": N, "doc_chars": len(docs[0]), "repeats": args.repeats,
        "pairs": len(pairs), "exact_jaccard_range": [float(exact.min()), float(exact.max())],
        "results": results, "missing": missing, "verdict": verdict,
        "versions": {m: _version(m) for m in ("datasketch", "rensa", "numpy")},
    }, args.out)
    print(f"wrote {path}")


def _version(name):
    try:
        from importlib.metadata import version

        return version(name)
    except Exception:
        return None


if __name__ == "__main__":
    main()
