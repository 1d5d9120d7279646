"""Statistics types: per (snapshot, stage, outcome, reason) counts of documents, characters, bytes.

Every input record ends in exactly one outcome: ``kept`` by the last stage that ran, or
``dropped`` with a reason code, or ``error`` with an error class, at some stage.  Kept rows
carry the stage's sub-category as their reason (for example the detection method, or the
charset), so a stage's kept documents are the sum of its kept rows, and they are exactly the
documents the next stage receives.

Measures of a row: ``docs``; ``chars``, the text characters of the documents as they leave
the stage when kept, or as they entered it when dropped (0 before decoding); ``bytes``, the
record block bytes at ``read`` and the HTTP payload bytes from ``detect`` on.

Counts are sums, so merging partial counts from any number of workers in any order gives the
same totals: the statistics do not depend on the runner or the parallelism.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Mapping

__all__ = [
    "OUTCOMES", "OUTCOME_KEYS", "DETAIL_KEYS", "StatsAccumulator", "rows_in_order",
    "check_accounting", "final_outcomes", "iter_file_records", "read_file_records", "SCRIPTS", "script_ratios",
    "ratio_bin", "length_bin", "histogram_bins",
]

#: The outcomes of a record at a stage, in the order rows are listed.
OUTCOMES = ("kept", "dropped", "error")
#: Key names of outcome rows (stages.json) and of detail rows (details.json).
OUTCOME_KEYS = ("snapshot", "stage", "outcome", "reason")
DETAIL_KEYS = ("snapshot", "stage", "kind", "name")


class StatsAccumulator:
    """Mutable per-worker counts; cheap to update once per document."""

    __slots__ = ("_counts", "last")

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, str, str], list[int]] = {}
        #: The key of the latest ``add``: a stage function adds exactly one outcome per
        #: document, so after it returns this says what happened to that document.
        self.last: tuple[str, str, str, str] | None = None

    def add(self, snapshot: str, stage: str, outcome: str, reason: str,
            docs: int = 1, chars: int = 0, nbytes: int = 0) -> None:
        key = (snapshot, stage, outcome, reason)
        self.last = key
        c = self._counts.get(key)
        if c is None:
            self._counts[key] = [docs, chars, nbytes]
        else:
            c[0] += docs
            c[1] += chars
            c[2] += nbytes

    def merge(self, other: "StatsAccumulator | Mapping") -> None:
        items = other.items() if isinstance(other, StatsAccumulator) else other.items()
        for (snap, stage, outcome, reason), (d, c, b) in items:
            self.add(snap, stage, outcome, reason, d, c, b)

    def items(self) -> Iterable[tuple[tuple[str, str, str, str], tuple[int, int, int]]]:
        return ((k, tuple(v)) for k, v in self._counts.items())

    def drain(self) -> list[tuple[tuple[str, str, str, str], tuple[int, int, int]]]:
        out = [(k, tuple(v)) for k, v in self._counts.items()]
        self._counts.clear()
        return out

    def __len__(self) -> int:
        return len(self._counts)

    def rows(self, stages: Iterable[str], names: tuple[str, ...] | None = None) -> list[dict]:
        items = ((k, tuple(v)) for k, v in self._counts.items())
        return rows_in_order(items, stages, names) if names else rows_in_order(items, stages)


def _stage_index(stages: list[str], stage: str) -> int:
    try:
        return stages.index(stage)
    except ValueError:
        return len(stages)


def rows_in_order(items, stages: Iterable[str], names: tuple[str, ...] = OUTCOME_KEYS) -> list[dict]:
    """JSON-ready rows, in pipeline order (``stages``: the registry's order of the stage names):
    snapshot, stage order, outcome order, reason.

    ``names`` labels the four key fields (:data:`DETAIL_KEYS` for detail rows).
    """
    order = list(stages)
    merged: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for key, vals in items:
        m = merged[tuple(key)]
        for i in range(3):
            m[i] += vals[i]
    keys = sorted(
        merged,
        key=lambda k: (k[0], _stage_index(order, k[1]), k[1], OUTCOMES.index(k[2]) if k[2] in OUTCOMES else 9, k[2], k[3]),
    )
    return [
        {names[0]: k[0], names[1]: k[1], names[2]: k[2], names[3]: k[3],
         "docs": merged[k][0], "chars": merged[k][1], "bytes": merged[k][2]}
        for k in keys
    ]


def _per_stage(rows: list[dict], stages: Iterable[str]):
    order = list(stages)
    for r in rows:
        if r["stage"] not in order:
            order.append(r["stage"])
    per: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        st = per.setdefault(r["snapshot"], {}).setdefault(
            r["stage"], {"in": 0, "kept": 0, "dropped": 0, "error": 0}
        )
        st["in"] += r["docs"]
        st[r["outcome"] if r["outcome"] in OUTCOMES else "error"] += r["docs"]
    return order, per


def final_outcomes(rows: list[dict], stages: Iterable[str]) -> dict[str, dict[str, int]]:
    """Per snapshot: records read, and documents kept (by the last stage that ran), dropped, errored."""
    order, per = _per_stage(rows, stages)
    out = {}
    for snap, st in per.items():
        ran = [s for s in order if s in st]
        out[snap] = {
            "read": st.get("read", {}).get("in", 0),
            "kept": st[ran[-1]]["kept"] if ran else 0,
            "dropped": sum(v["dropped"] for v in st.values()),
            "error": sum(v["error"] for v in st.values()),
        }
    return out


def check_accounting(rows: list[dict], stages: Iterable[str]) -> list[str]:
    """Problems with the accounting (empty when every record has exactly one outcome).

    Checks, per snapshot, that each stage received exactly what the stage before it kept, and
    that the records read equal kept (last stage) + dropped + errors.
    """
    problems = []
    order, per = _per_stage(rows, stages)
    for snap, st in per.items():
        ran = [s for s in order if s in st]
        for prev, stage in zip(ran, ran[1:]):
            if st[stage]["in"] != st[prev]["kept"]:
                problems.append(
                    f"{snap}: stage {stage} received {st[stage]['in']} documents "
                    f"but {prev} kept {st[prev]['kept']}"
                )
    for snap, f in final_outcomes(rows, stages).items():
        total = f["kept"] + f["dropped"] + f["error"]
        if f["read"] != total:
            problems.append(
                f"{snap}: {f['read']} records read but kept {f['kept']} + dropped {f['dropped']} "
                f"+ errors {f['error']} = {total}"
            )
    return problems


# -- fixed-bin histograms of the written documents (mergeable: counts per bin) --------------------
#: Length bins (characters): lower edges, doubling from 100.
LENGTH_EDGES = (0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 102400)
#: Ratio bins: [0, 0.05), [0.05, 0.1), … [0.95, 1.0].
RATIO_BINS = 20


def ratio_bin(x: float) -> str:
    """Lower edge of the 0.05-wide bin holding x in [0, 1]."""
    i = min(int(x * RATIO_BINS), RATIO_BINS - 1) if x > 0 else 0
    return f"{i / RATIO_BINS:.2f}"


def length_bin(n: int) -> str:
    lo = 0
    for edge in LENGTH_EDGES:
        if n >= edge:
            lo = edge
    return str(lo)


#: The scripts whose shares of a written text are measured (:func:`script_ratios`'s keys).
SCRIPTS = ("hiragana", "katakana", "kanji", "ascii")


def script_ratios(text: str) -> dict[str, float]:
    """Shares of hiragana, katakana, kanji and ASCII among all characters of a text."""
    import numpy as np

    n = len(text)
    if not n:
        return {"hiragana": 0.0, "katakana": 0.0, "kanji": 0.0, "ascii": 0.0}
    c = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    hira = np.count_nonzero((c >= 0x3041) & (c <= 0x3096))
    kata = np.count_nonzero((c >= 0x30A1) & (c <= 0x30FA))
    kanji = (np.count_nonzero((c >= 0x3400) & (c <= 0x9FFF)) + np.count_nonzero((c >= 0xF900) & (c <= 0xFAFF))
             + np.count_nonzero((c == 0x3005) | (c == 0x3007) | (c == 0x303B)))
    ascii_ = np.count_nonzero(c < 0x80)
    return {"hiragana": int(hira) / n, "katakana": int(kata) / n, "kanji": int(kanji) / n, "ascii": int(ascii_) / n}


def histogram_bins(text: str, lang_score: float | None, ratios: dict | None = None) -> list[tuple[str, str]]:
    """(kind, bin) pairs of one written document: kind ``hist:<measure>``, bin = lower edge
    (``ratios``: its :func:`script_ratios`, when already computed)."""
    out = [("hist:num_chars", length_bin(len(text)))]
    for name, value in (ratios if ratios is not None else script_ratios(text)).items():
        out.append((f"hist:{name}", ratio_bin(value)))
    if lang_score is not None:
        out.append(("hist:lang_score", ratio_bin(lang_score)))
    return out


# -- per-file records (OUT/stats/files/*.jsonl) ---------------------------------------------------
def iter_file_records(stats_dir: str):
    """The per-file records of a run, shard by shard (one JSON object per input file), without
    holding them all: ``OUT/stats/files/*.jsonl`` (or ``files.json`` of older outputs)."""
    import json
    import os

    shards = os.path.join(stats_dir, "files")
    if os.path.isdir(shards):
        for name in sorted(os.listdir(shards)):
            if name.endswith(".jsonl"):
                with open(os.path.join(shards, name), encoding="utf-8") as fh:
                    for line in fh:
                        if line.strip():
                            yield json.loads(line)
        return
    legacy = os.path.join(stats_dir, "files.json")
    if os.path.exists(legacy):
        with open(legacy, encoding="utf-8") as fh:
            yield from json.load(fh)


def read_file_records(stats_dir: str) -> list[dict]:
    """Every per-file record, in (snapshot, warc_file, path) order (small runs, tests, tools)."""
    return sorted(iter_file_records(stats_dir), key=lambda r: (r["snapshot"], r["warc_file"], r["path"]))
