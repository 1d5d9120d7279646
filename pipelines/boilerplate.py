"""The boilerplate stage in the Beam graph: lines repeated across a host's pages, removed.

It runs inside :class:`~.transforms.DedupAndWrite`, on the checkpointed documents of every
committed file, before dedup (``filters/boilerplate.py`` has the plain core and the stage's
declaration):

1. ``boilerplate_host_samples``: every document's ``(url key, line hashes)`` (hashes, not texts,
   travel) folded per host into a :class:`HostSample` (a combiner: the bottom-k sample of the
   host's pages, at most ``sample_docs × max_lines_per_doc`` hashes a host);
2. each host's frequent lines (``HostSample.frequent``), for the hosts that have any, as a
   multimap side input (read per host by key, see :func:`host_lines`: a worker does not hold
   every host's lines) of
3. ``boilerplate_remove``: each document without its host's frequent lines (kept
   ``lines_removed`` / ``unchanged``; dropped ``emptied`` when nothing is left), before dedup;
   ``WriteFinalFn`` removes the same lines from the text it reads back from the checkpoint (the
   same function on the same text and lines: the same result);
4. ``boilerplate_line_counts`` / ``boilerplate_top_lines``: documents and characters per
   removed line and snapshot, the ``top_lines`` most removed per snapshot as detail rows
   ``removed_line`` (the report's list).
"""

from __future__ import annotations

import dataclasses

import apache_beam as beam
from apache_beam.pvalue import TaggedOutput

from jawebcorpus.corpus.record import Doc, host_of
from jawebcorpus.corpus.stats import StatsAccumulator
from jawebcorpus.filters.boilerplate import (BoilerplateConfig, HostSample, doc_line_hashes, remove_lines,
                                             removed_lines, url_key)

__all__ = ["Boilerplate", "STAGE", "clean_text", "host_lines"]

STAGE = "boilerplate"
_LINE_CHARS = 200  # a removed line in a detail row, at most


class _HostSampleFn(beam.CombineFn):
    def __init__(self, k: int):
        self.k = k

    def create_accumulator(self):
        return HostSample(self.k)

    def add_input(self, acc, item):
        key, hashes = item
        return acc.add(key, hashes)

    def merge_accumulators(self, accs):
        accs = iter(accs)
        first = next(accs)
        for a in accs:
            first.merge(a)
        return first

    def extract_output(self, acc):
        return acc


def _frequent(kv, cfg: BoilerplateConfig):
    host, sample = kv
    f = sample.frequent(cfg)
    if f:
        yield host, f


def host_lines(frequent, host: str):
    """``host``'s frequent lines in the side input (None: it has none).  The side input is a
    multimap: on the portable runners (the local runner, Dataflow, Flink, Spark) each lookup is
    one read by key through the worker's state API, cached for the bundle, so a worker holds the
    lines of the hosts it meets, not of every host; elsewhere it is a dict of lists (a missing
    key is not inserted)."""
    if frequent is None:
        return None
    values = frequent.get(host, ()) if isinstance(frequent, dict) else frequent[host]
    for f in values:
        return f
    return None


def clean_text(doc: Doc, frequent, cfg: BoilerplateConfig) -> tuple[str, int, int]:
    """``doc``'s text without its host's frequent lines: (text, lines removed, characters removed)."""
    f = host_lines(frequent, host_of(doc.url))
    text = doc.text or ""
    if not f:
        return text, 0, 0
    return remove_lines(text, f, cfg)


class _RemoveFn(beam.DoFn):
    def __init__(self, cfg: BoilerplateConfig):
        self.cfg = cfg

    def process(self, doc: Doc, frequent):
        text = doc.text or ""
        out, n, _ = clean_text(doc, frequent, self.cfg)
        stats = StatsAccumulator()
        if n:
            f = host_lines(frequent, host_of(doc.url))
            for line in removed_lines(text, f, self.cfg):
                yield TaggedOutput("lines", ((doc.snapshot, line[:_LINE_CHARS]), (1, len(line))))
        if n and not out.strip():
            stats.add(doc.snapshot, STAGE, "dropped", "emptied", 1, len(text), doc.payload_bytes)
        elif n:
            stats.add(doc.snapshot, STAGE, "kept", "lines_removed", 1, len(out), doc.payload_bytes)
            yield dataclasses.replace(doc, text=out)
        else:
            stats.add(doc.snapshot, STAGE, "kept", "unchanged", 1, len(text), doc.payload_bytes)
            yield doc
        for key, vals in stats.items():
            yield TaggedOutput("stats", (key, vals))


def _sum_pairs(values):
    docs = chars = 0
    for d, c in values:
        docs += d
        chars += c
    return docs, chars


def _detail_rows(kv):
    snapshot, top = kv
    for docs, chars, line in top:
        yield (snapshot, STAGE, "removed_line", line), (docs, chars, 0)


class Boilerplate(beam.PTransform):
    """documents → (documents without boilerplate lines, stats, details, the frequent lines of
    each host as a side input for the final write)."""

    def __init__(self, cfg: BoilerplateConfig):
        super().__init__()
        self.cfg = cfg

    def expand(self, docs):
        cfg = self.cfg
        frequent = (
            docs
            | "line_hashes" >> beam.Map(lambda d: (host_of(d.url), (url_key(d.url), doc_line_hashes(d.text or "", cfg))))
            | "host_samples" >> beam.CombinePerKey(_HostSampleFn(cfg.sample_docs))
            | "frequent_lines" >> beam.FlatMap(_frequent, cfg)
        )
        side = beam.pvalue.AsMultiMap(frequent)  # read per key (host_lines)
        res = docs | "remove" >> beam.ParDo(_RemoveFn(cfg), side).with_outputs("stats", "lines", main="docs")
        details = (
            res.lines
            | "line_counts" >> beam.CombinePerKey(_sum_pairs)
            | "by_snapshot" >> beam.Map(lambda kv: (kv[0][0], (kv[1][0], kv[1][1], kv[0][1])))
            | "top_lines" >> beam.combiners.Top.PerKey(cfg.top_lines)
            | "detail_rows" >> beam.FlatMap(_detail_rows)
        )
        return res.docs, res.stats, details, side
