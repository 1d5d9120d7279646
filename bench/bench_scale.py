"""The dedup stage's metadata path at full-size *shapes*: what each step holds per element and
per key, and the memory of the worker, from small to large synthetic inputs.

No text and no signatures: band entries are injected directly below the signature step (the
stage's ``_PrepareFn`` is replaced by a generator of node ids and band keys), so the shapes of
a web-scale run are reachable on one machine.  Per scale ``s`` (``--scales 1,10,100``):

* ``mega``: one band key shared by ``10,000·s`` documents (a boilerplate page; each document
  also has one key of its own) — a hot band key and, after it, a hub parent of in-degree
  ``10,000·s``;
* ``groups``: ``100·s`` band keys shared by 100 documents each (over ``group_cap``: hot keys;
  their minimums are parents of in-degree 99);
* ``hub``: one document that is the minimum of ``10·s`` ordinary groups of 40 (in-degree
  ``400·s`` made of ordinary, not hot, groups);
* ``chains``: ``10·s`` chains of 9 documents where only neighbours share a key (4 rounds);
* ``unique``: ``10,000·s`` documents with 4 keys of their own (most band keys of a real run).

At ``s = 100``: 3 × 10⁶ documents, 8.1 × 10⁶ band entries, 2 × 10⁶ star edges, hot keys of
10⁶ and of 100 members.  Every PCollection of the stage gets a measuring branch (outside
combiners, so combiner lifting is untouched): the largest element (approximate encoded bytes),
and for the outputs of a ``GroupByKey`` the largest number of values under one key.  The run
uses ``--direct_running_mode=multi_processing --direct_num_workers=1``: the SDK worker is a
child process, whose peak RSS is the per-worker memory; the runner process (which holds every
PCollection between stages, as a shuffle service would) is reported apart.

    python bench/bench_scale.py --scales 1,10,100 --name bench_scale_after
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
import typing

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import add_common_args, code_at, sample_peak_rss, table, write_results  # noqa: E402

SNAPS = ("CC-MAIN-2023-06", "CC-MAIN-2023-14", "CC-MAIN-2023-23")
HUB_SNAP = "CC-MAIN-2024-10"  # newer than the rest: the hub document is every group's minimum
N_SHARDS = 64


# -- the synthetic input ---------------------------------------------------------------------------
def shapes(scale: int, chain_len: int = 9) -> dict:
    return {"mega": 10_000 * scale, "groups": 100 * scale, "group_size": 100, "hub_groups": 10 * scale,
            "hub_group_size": 40, "chains": 10 * scale, "chain_len": chain_len, "unique": 10_000 * scale,
            "unique_keys": 4}


def _u64(*parts: int) -> int:
    """A fixed 64-bit key from small integers (signed, as the stage's band keys are)."""
    from jawebcorpus.dedup.shingle import _fmix64_int

    h = 0x243F6A8885A308D3
    for p in parts:
        h = _fmix64_int((h ^ (p & 0xFFFFFFFFFFFFFFFF)) * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF)
    return h - (1 << 64) if h >> 63 else h


def synthetic_docs(shard: int, scale: int, chain_len: int = 9):
    """(snapshot, doc number, band keys) of one shard's documents (deterministic)."""
    s = shapes(scale, chain_len)
    n = 0
    kinds = (
        ("mega", s["mega"], lambda i: [_u64(1), _u64(2, i)]),
        ("groups", s["groups"] * s["group_size"], lambda i: [_u64(3, i // s["group_size"]), _u64(4, i)]),
        ("hub_members", s["hub_groups"] * (s["hub_group_size"] - 1),
         lambda i: [_u64(5, i // (s["hub_group_size"] - 1)), _u64(6, i)]),
        ("chains", s["chains"] * s["chain_len"],
         lambda i: [_u64(7, i // s["chain_len"], i % s["chain_len"]), _u64(7, i // s["chain_len"], i % s["chain_len"] + 1)]),
        ("unique", s["unique"], lambda i: [_u64(8, i, j) for j in range(s["unique_keys"])]),
    )
    for kind, count, keys in kinds:
        for i in range(count):
            if (n + i) % N_SHARDS == shard:
                yield SNAPS[(n + i) % 3], n + i, keys(i)
        n += count
    if shard == 0:  # the hub document: in every hub group
        yield HUB_SNAP, n, [_u64(5, g) for g in range(s["hub_groups"])]


def make_prepare(dd, scale: int, chain_len: int = 9):
    """A stand-in for ``_PrepareFn``: shard numbers in, the stage's three prepare outputs out."""
    import apache_beam as beam
    import numpy as np
    from apache_beam.pvalue import TaggedOutput

    from jawebcorpus.corpus.record import Doc
    from jawebcorpus.dedup.cluster import KeepPolicy

    doc_entry = getattr(dd, "DocEntry", None)

    @beam.typehints.with_output_types(typing.Any)
    class SyntheticPrepareFn(beam.DoFn):
        BANDS = "bands"
        DOC_BANDS = "doc_bands"

        def __init__(self, *args, **kwargs):
            self.keep_keys = args[4] if len(args) > 4 else kwargs.get("keep_keys", False)
            self.policy = KeepPolicy("longer")

        def process(self, shard):
            for snap, i, keys in synthetic_docs(shard, scale, chain_len):
                url, rid = f"https://h{i % 5000}.example.jp/{i}", f"<urn:uuid:{i:012d}>"
                node = self.policy.node_id(snap, url, rid, 1000)
                raw = np.asarray(keys, dtype=np.int64).tobytes()
                for k in keys:
                    yield TaggedOutput(self.BANDS, (k, node))
                yield TaggedOutput(self.DOC_BANDS, (node, raw))
                doc = Doc(snapshot=snap, warc_file=f"crawl-data/{snap}/f{i % 97}.warc.gz", warc_offset=i,
                          warc_length=1000, warc_record_id=rid, warc_date="2023-01-01T00:00:00Z", url=url,
                          text=None, text_chars=1000, payload_bytes=3000)
                kept = raw if self.keep_keys else None
                yield (node, doc_entry(doc, kept)) if doc_entry else (node, ("doc", (doc, kept)))

    return SyntheticPrepareFn


# -- measuring every PCollection ------------------------------------------------------------------
def approx_size(x, depth: int = 0) -> int:
    """Approximate encoded size in bytes (what a coder would write, within a few bytes)."""
    if x is None or isinstance(x, bool):
        return 1
    if isinstance(x, (bytes, str)):
        return len(x) + 1
    if isinstance(x, (int, float)):
        return 8
    if isinstance(x, (tuple, list)):
        return 1 + sum(approx_size(e, depth + 1) for e in x)
    nbytes = getattr(x, "nbytes", None)
    if nbytes is not None:
        return int(nbytes)
    words = getattr(x, "words", None)
    if words is not None:  # a Bloom filter
        return int(words.nbytes)
    try:
        return len(pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return 0


def measure_fn(label: str, grouped: bool):
    import apache_beam as beam
    from apache_beam.metrics import Metrics

    class MeasureFn(beam.DoFn):
        def __init__(self):
            self.size = Metrics.distribution("scale", f"{label}|size")
            self.values = Metrics.distribution("scale", f"{label}|values")
            self.count = Metrics.counter("scale", f"{label}|count")
            self.total = Metrics.counter("scale", f"{label}|bytes")

        def start_bundle(self):
            self.max_size = self.max_values = self.n = self.sum = 0

        def process(self, el):
            self.n += 1
            if not grouped:
                self.sum += approx_size(el)
            if grouped:
                _key, values = el
                nv = size = 0
                for v in values:
                    nv += 1
                    size += approx_size(v)
                self.max_values = max(self.max_values, nv)
                self.max_size = max(self.max_size, size + approx_size(_key))
            else:
                self.max_size = max(self.max_size, approx_size(el))
            return ()

        def finish_bundle(self):
            if self.n:
                self.count.inc(self.n)
                self.total.inc(self.sum)
                self.size.update(self.max_size)
                if grouped:
                    self.values.update(self.max_values)

    return MeasureFn()


def instrument(p, prefix: str = "dedup/"):
    """A measuring branch on every PCollection made under ``prefix`` (not inside combiners)."""
    import apache_beam as beam
    from apache_beam.pipeline import PipelineVisitor

    combine_types = (beam.CombinePerKey, beam.CombineGlobally, beam.CombineValues)
    found = []

    def inside_combine(node) -> bool:
        a = node.parent
        while a is not None:
            if isinstance(a.transform, combine_types) or type(a.transform).__name__ in ("Distinct", "Reshuffle"):
                return True
            a = a.parent
        return False

    class V(PipelineVisitor):
        def visit_transform(self, node):
            if node.full_label.startswith(prefix) and not inside_combine(node):
                grouped = isinstance(node.transform, beam.GroupByKey)
                for tag, pc in node.outputs.items():
                    found.append((node.full_label + ("" if tag is None else f"[{tag}]"), pc, grouped))

        def enter_composite_transform(self, node):
            if node.full_label.startswith(prefix) and (
                    isinstance(node.transform, combine_types) or type(node.transform).__name__ == "Distinct"):
                for tag, pc in node.outputs.items():
                    found.append((node.full_label + ("" if tag is None else f"[{tag}]"), pc, False))
            super().enter_composite_transform(node)

    p.visit(V())
    seen = set()
    for i, (label, pc, grouped) in enumerate(found):
        if id(pc) in seen:
            continue
        seen.add(id(pc))
        short = label[len(prefix):]
        _ = pc | f"measure_{i:03d}" >> beam.ParDo(measure_fn(short, grouped))
    return len(seen)


def grouping_fn(label: str):
    """Counts the elements going into one grouping step and their approximate encoded bytes."""
    import apache_beam as beam
    from apache_beam.metrics import Metrics

    class GroupingInputFn(beam.DoFn):
        def __init__(self):
            self.elements = Metrics.counter("grouping", f"{label}|elements")
            self.bytes = Metrics.counter("grouping", f"{label}|bytes")

        def start_bundle(self):
            self.n = self.size = 0

        def process(self, el):
            self.n += 1
            self.size += approx_size(el)
            return ()

        def finish_bundle(self):
            if self.n:
                self.elements.inc(self.n)
                self.bytes.inc(self.size)

    return GroupingInputFn()


def instrument_groupings(p, prefix: str = "dedup/") -> list[str]:
    """A counting branch on the input of every grouping step under ``prefix``: each ``GroupByKey``
    and each combiner (``CombinePerKey``, ``CombineGlobally``, ``Distinct``: the outermost, whose
    inner ``GroupByKey`` the runner lifts) — what each step shuffles (elements, approximate bytes,
    before any combiner lifting).  Returns the steps' labels."""
    import apache_beam as beam
    from apache_beam.pipeline import PipelineVisitor

    combine_types = (beam.CombinePerKey, beam.CombineGlobally, beam.CombineValues)

    def owner(node):
        best, a = node, node.parent
        while a is not None:
            if a.full_label.startswith(prefix) and (
                    isinstance(a.transform, combine_types) or type(a.transform).__name__ == "Distinct"):
                best = a
            a = a.parent
        return best

    steps: dict = {}

    class V(PipelineVisitor):
        def visit_transform(self, node):
            if isinstance(node.transform, beam.GroupByKey) and node.full_label.startswith(prefix):
                o = owner(node)
                steps.setdefault(o.full_label[len(prefix):], o.inputs[0])

    p.visit(V())
    for i, (label, pc) in enumerate(sorted(steps.items())):
        _ = pc | f"grouping_{i:03d}" >> beam.ParDo(grouping_fn(label))
    return sorted(steps)


def grouping_summary(groupings: dict) -> dict:
    """Totals of a run's grouping steps: all of them, and those of label propagation (the rounds
    and, after issue 17, the finish and the final labels)."""
    out = {}
    for part, keep in (("all", lambda k: True),
                       ("components", lambda k: re.match(r"(round_\d\d|finish_|final_labels)", k) is not None)):
        sel = {k: v for k, v in groupings.items() if keep(k)}
        out[part] = {"steps": len(sel), "steps_with_data": sum(1 for v in sel.values() if v.get("elements")),
                     "elements": sum(v.get("elements", 0) for v in sel.values()),
                     "bytes": sum(v.get("bytes", 0) for v in sel.values())}
    return out


# -- one run ----------------------------------------------------------------------------------------
def run_one(scale: int, max_rounds: int, workers_mode: str, write_index: bool, dedup_kwargs: dict,
            measure: bool = True, chain_len: int = 9) -> dict:
    import apache_beam as beam
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    import jawebcorpus.pipelines.dedup as dd
    from jawebcorpus.pipelines.run import local_runner

    dd._PrepareFn = make_prepare(dd, scale, chain_len)
    peak, stop = sample_peak_rss()
    args = []
    if workers_mode == "multi_processing":
        args = ["--direct_running_mode=multi_processing", "--direct_num_workers=1"]
    opts = PipelineOptions(args)
    tmp = tempfile.mkdtemp(prefix="jawebcorpus-bench-scale-")
    index_dir = os.path.join(tmp, "index") if write_index else None
    p = beam.Pipeline(runner=local_runner(opts), options=opts)
    shards = p | "shards" >> beam.Create(list(range(N_SHARDS))) | "spread" >> beam.Reshuffle()
    from jawebcorpus.dedup.config import DedupConfig

    res = shards | "dedup" >> dd.Dedup(DedupConfig(max_rounds=max_rounds, **dedup_kwargs), write_index=index_dir,
                                        index_tag="bench", carry_text=False)
    _ = res.docs | "count_kept" >> beam.combiners.Count.Globally() | "kept" >> beam.Map(
        lambda n, path=os.path.join(tmp, "kept"): open(path, "w").write(str(n)))
    measured = instrument(p) if measure else 0
    grouping_steps = instrument_groupings(p) if measure else []
    t0 = time.perf_counter()
    result = p.run()
    result.wait_until_finish()
    seconds = time.perf_counter() - t0
    stop.set()  # peak: the runner's and the largest worker's RSS
    steps: dict = {}
    q = result.metrics().query(MetricsFilter().with_namespace("scale"))
    for d in q["distributions"]:
        label, what = d.key.metric.name.rsplit("|", 1)
        v = d.committed or d.attempted
        if v is not None and v.count:
            steps.setdefault(label, {})[f"max_{what}"] = v.max
    for c in q["counters"]:
        label, what = c.key.metric.name.rsplit("|", 1)
        steps.setdefault(label, {})[what] = c.committed if c.committed is not None else c.attempted
    groupings: dict = {k: {} for k in grouping_steps}
    for c in result.metrics().query(MetricsFilter().with_namespace("grouping"))["counters"]:
        label, what = c.key.metric.name.rsplit("|", 1)
        groupings.setdefault(label, {})[what] = c.committed if c.committed is not None else c.attempted
    dedup_counters = {}
    for c in result.metrics().query(MetricsFilter().with_namespace("dedup"))["counters"]:
        name = c.key.metric.name
        if name.startswith(("labels_changed.", "not_converged")):
            dedup_counters[name] = c.committed if c.committed is not None else c.attempted
    index_rows = index_files = 0
    if index_dir and os.path.isdir(index_dir):
        import pyarrow.parquet as pq

        for f in sorted(os.listdir(index_dir)):
            if f.endswith(".parquet"):
                index_files += 1
                index_rows += pq.ParquetFile(os.path.join(index_dir, f)).metadata.num_rows
    kept = int(open(os.path.join(tmp, "kept")).read())
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    s = shapes(scale, chain_len)
    docs = (s["mega"] + s["groups"] * s["group_size"] + s["hub_groups"] * (s["hub_group_size"] - 1) + 1
            + s["chains"] * s["chain_len"] + s["unique"])
    entries = (2 * s["mega"] + 2 * s["groups"] * s["group_size"] + 2 * s["hub_groups"] * (s["hub_group_size"] - 1)
               + s["hub_groups"] + 2 * s["chains"] * s["chain_len"] + s["unique"] * s["unique_keys"])
    return {"scale": scale, "docs": docs, "band_entries": entries, "kept": kept, "seconds": seconds,
            "peak_rss_runner_mib": peak["runner"] / 2**20, "peak_rss_worker_mib": peak["workers"] / 2**20,
            "index_rows": index_rows, "index_files": index_files, "measured_pcollections": measured,
            "mode": workers_mode, "max_rounds": max_rounds, "steps": steps, "groupings": groupings,
            "grouping_totals": grouping_summary(groupings), "dedup_counters": dedup_counters, "chain_len": chain_len}


def bloom_false_positives(counts=(10**5, 10**6, 10**7), probes: int = 200_000) -> list[dict]:
    """Share of keys that are *not* hot but pass the hot-key filter (and so are routed into the
    hot join, and, for hubs, have their label copied to every sub-key each round): the fixed
    2**22-bit filter of before against one sized from the number of hot keys."""
    import numpy as np

    from jawebcorpus.dedup.cluster import BloomFilter, bloom_log2_for

    rng = np.random.default_rng(0)
    out = []
    for n in counts:
        hot = rng.integers(-2**63, 2**63 - 1, n, dtype=np.int64)
        other = rng.integers(-2**63, 2**63 - 1, probes, dtype=np.int64)
        row = {"hot_keys": n}
        for name, log2 in (("fixed_2^22", 22), ("sized", bloom_log2_for(n, 30))):
            bf = BloomFilter(log2)
            for i in range(0, n, 1 << 20):
                bf.add(hot[i:i + (1 << 20)])
            row[name] = {"log2_bits": log2, "mib": (1 << log2) / 8 / 2**20,
                         "false_positive_rate": float(bf.contains_many(other).mean())}
        out.append(row)
    return out


def split_table(cap: int = 64, salts: int = 64,
                counts=(65, 1_000, 4_096, 4_097, 100_000, 262_144, 262_145, 10**6, 10**7, 10**8, 10**9)) -> list[dict]:
    """For a hot group (or hub) of n members: its level, sub-keys, and the mean and the largest
    sub-key (members thrown into the sub-keys uniformly, as the node-id hash does; Poisson
    draws, one per sub-key) — what one worker gets of the group, whatever n."""
    import numpy as np

    from jawebcorpus.dedup.cluster import hot_level, split_of

    rng = np.random.default_rng(0)
    out = []
    for n in counts:
        level = hot_level(n, cap, salts)
        split = split_of(level, salts)
        mean = n / split
        largest = int(rng.poisson(mean, split).max()) if split > 1 else n
        out.append({"members": n, "level": level, "sub_keys": split, "mean": mean, "largest": largest,
                    "before_largest": int(rng.poisson(n / salts, salts).max()) if n > cap else n})
    return out


def collapse(steps: dict) -> dict:
    """Rounds collapsed (round_NN_x → round_*_x, the maximum over rounds)."""
    out: dict = {}
    for label, v in steps.items():
        key = re.sub(r"round_\d\d", "round_*", label)
        cur = out.setdefault(key, {})
        for k, x in v.items():
            cur[k] = max(cur.get(k, 0), x or 0)
    return out


def rounds_table(results: list[dict]) -> str:
    """Before/after: rounds that changed labels, what the finish did, and the grouping steps."""
    rows = []
    for r in results:
        c = r["dedup_counters"]
        rounds = sorted(k for k in c if k.startswith("labels_changed.round_") and c[k])
        t, comp = r["grouping_totals"]["all"], r["grouping_totals"]["components"]
        rows.append([f"s={r['scale']}", r["variant"], f"{r['kept']:,}", rounds[-1].rsplit("_", 1)[1] if rounds else "–",
                     f"{c.get('not_converged', 0):,}", f"{c.get('labels_changed.exact_finish', 0):,}",
                     f"{comp['steps']} ({comp['steps_with_data']})", f"{comp['elements']:,}", f"{comp['bytes'] / 2**20:,.1f}",
                     f"{t['elements']:,}", f"{t['bytes'] / 2**20:,.1f}", f"{r['seconds']:.0f}"])
    return table(["scale", "code", "kept", "last round that changed labels", "not converged", "exact finish",
                  "label-propagation groupings (with data)", "their elements", "their MiB", "all groupings: elements",
                  "MiB", "seconds"], rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap)
    ap.add_argument("--scales", default="1,10,100")
    ap.add_argument("--max-rounds", type=int, default=4)
    ap.add_argument("--mode", choices=("multi_processing", "in_memory"), default="multi_processing")
    ap.add_argument("--no-index", action="store_true", help="do not write the band index")
    ap.add_argument("--name", default="bench_scale", help="result name (bench/results/<name>.json)")
    ap.add_argument("--dedup", default="{}", help="other dedup.* settings (DedupConfig fields) as JSON")
    ap.add_argument("--no-measure", action="store_true", help="no measuring branches (time only)")
    ap.add_argument("--bloom-only", action="store_true", help="only the computed tables (Bloom false positives, split levels)")
    ap.add_argument("--chain-len", type=int, default=9,
                    help="documents per chain (only neighbours share a key; 9: 4 rounds, 42: 21 rounds)")
    ap.add_argument("--before", metavar="COMMIT",
                    help="also run the stage as it was at COMMIT (git archive), side by side, order alternating")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        r = run_one(args.one, args.max_rounds, args.mode, not args.no_index, json.loads(args.dedup), not args.no_measure,
                    args.chain_len)
        print("RESULT " + json.dumps(r))
        return
    fp = bloom_false_positives()
    print(table(["hot keys", "fixed 2^22 bits: false positives", "sized: bits", "sized: false positives"],
                [[f"{r['hot_keys']:,}", f"{100 * r['fixed_2^22']['false_positive_rate']:.2f} %",
                  f"2^{r['sized']['log2_bits']} ({r['sized']['mib'] * 1024:,.0f} KiB)",
                  f"{100 * r['sized']['false_positive_rate']:.2f} %"] for r in fp]))
    splits = split_table()
    print(table(["members of a hot group / children of a hub", "level", "sub-keys", "mean per sub-key",
                 "largest sub-key", "before: largest of 64 salts"],
                [[f"{r['members']:,}", r["level"], f"{r['sub_keys']:,}", f"{r['mean']:.1f}", f"{r['largest']:,}",
                  f"{r['before_largest']:,}"] for r in splits]))
    if args.bloom_only:
        path = write_results(args.name, {"bloom_false_positives": fp, "split_levels": splits}, args.out)
        print(f"wrote {path}")
        return
    results = []
    variants = {"after": dict(os.environ)}
    if args.before:
        variants["before"] = dict(os.environ, PYTHONPATH=code_at(args.before))
    for i, scale in enumerate(int(x) for x in args.scales.split(",")):
        order = list(variants) if i % 2 == 0 else list(variants)[::-1]
        for variant in order:
            print(f"scale {scale}, {variant} …", flush=True)
            cmd = [sys.executable, __file__, "--one", str(scale), "--max-rounds", str(args.max_rounds),
                   "--mode", args.mode, "--dedup", args.dedup, "--chain-len", str(args.chain_len)] + (
                       ["--no-index"] if args.no_index else []) + (["--no-measure"] if args.no_measure else [])
            cp = subprocess.run(cmd, capture_output=True, text=True, env=variants[variant])
            lines = [x for x in cp.stdout.splitlines() if x.startswith("RESULT ")]
            if cp.returncode != 0 or not lines:
                print(cp.stderr[-4000:])
                raise SystemExit(f"scale {scale} ({variant}) failed")
            r = json.loads(lines[-1][len("RESULT "):])
            r["variant"] = variant
            results.append(r)
            print(f"  {r['docs']:,} docs, {r['band_entries']:,} entries: {r['seconds']:.0f} s, worker peak RSS "
                  f"{r['peak_rss_worker_mib']:.0f} MiB, runner {r['peak_rss_runner_mib']:.0f} MiB, kept {r['kept']:,}",
                  flush=True)
    if len(variants) > 1:
        print(rounds_table(results))
    cols = [collapse(r["steps"]) for r in results]
    labels = sorted(set().union(*cols))
    rows = []
    for label in labels:
        row = [label]
        for c in cols:
            v = c.get(label, {})
            row.append(f"{v.get('max_size', 0):,}" + (f" / {v.get('max_values', 0):,}" if "max_values" in v else ""))
        rows.append(row)
    print(table(["step (largest element bytes / values per key)"] + [f"s={r['scale']} {r['variant']}" for r in results],
                rows))
    path = write_results(args.name, {"runner": f"FnApiRunner {args.mode}", "max_rounds": args.max_rounds,
                                     "chain_len": args.chain_len, "before": args.before,
                                     "dedup": json.loads(args.dedup), "results": results,
                                     "bloom_false_positives": fp, "split_levels": splits}, args.out)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
