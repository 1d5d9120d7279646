"""Hot keys of the dedup stage as a side input sized from the input, built without one big step.

A *hot* key is a band key shared by more than ``group_cap`` documents, or a parent with more than
``group_cap`` children in label propagation.  Its group is split over sub-keys
(:func:`jawebcorpus.dedup.cluster.hot_level`); the members of a group learn that they must split
from :class:`~jawebcorpus.dedup.cluster.HotKeys`, a side input:

* level-1 keys (nearly all hot keys) in a Bloom filter of ``2**n`` bits, ``n`` from their number
  (:func:`~jawebcorpus.dedup.cluster.bloom_log2_for`: 16–32 bits per key, at most
  ``2**bloom_max_log2_bits``), unless ``bloom_log2_bits`` fixes it;
* keys of level 2 and up, exactly, with their level (groups over ``cap · salts`` members: few).

Building it (:class:`HotKeySet`) never puts the filter's inputs on one worker: a count of the
level-1 keys (a combiner) sizes the filter; each bundle turns its keys into bit positions and
emits them per shard of :data:`~jawebcorpus.dedup.cluster.BLOOM_SHARD_LOG2` bits; one combiner
key per shard ORs them (sparse position lists until they are larger than the shard's 1 MiB of
bits) — that is the fan-out; a last combine places the finished shards side by side.  Its
accumulator is the filter itself, the one thing every worker holds anyway as the side input.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np
from apache_beam.pvalue import AsSingleton
from apache_beam.transforms.window import GlobalWindows

from jawebcorpus.dedup.cluster import BLOOM_SHARD_LOG2, BloomFilter, HotKeys, bloom_log2_for, hot_level

__all__ = ["HotKeySet", "hot_keys_in_one_step"]

_FLUSH_KEYS = 1 << 16


def _shard_log2(log2_bits: int) -> int:
    return min(log2_bits, BLOOM_SHARD_LOG2)


class _BloomBitsFn(beam.DoFn):
    """Level-1 hot keys → ``(shard, (log2_bits, sorted distinct bit offsets in the shard))``,
    a batch of keys at a time."""

    def start_bundle(self):
        self.keys: list[int] = []
        self.log2_bits = None

    def process(self, key, log2_bits: int):
        self.log2_bits = log2_bits
        self.keys.append(key)
        if len(self.keys) >= _FLUSH_KEYS:
            yield from self._flush(lambda v: v)

    def finish_bundle(self):
        yield from self._flush(GlobalWindows.windowed_value)

    def _flush(self, wrap):
        if not self.keys:
            return
        keys, self.keys = self.keys, []
        log2 = self.log2_bits
        pos = np.unique(BloomFilter.positions_for(keys, log2).ravel())
        shard_log2 = _shard_log2(log2)
        shards = pos >> np.uint64(shard_log2)
        offsets = (pos & np.uint64((1 << shard_log2) - 1)).astype(np.uint32)
        cuts = np.flatnonzero(np.diff(shards)) + 1
        for part_shards, part in zip(np.split(shards, cuts), np.split(offsets, cuts)):
            if part.size:
                yield wrap((int(part_shards[0]), (log2, part)))


class _ShardBitsFn(beam.CombineFn):
    """OR of one shard's bits: sparse offsets while they are few, the shard's words after."""

    def create_accumulator(self):
        return (None, None, [])  # log2_bits, dense words or None, sparse offset arrays

    def add_input(self, acc, value):
        log2, offsets = value
        return self._compact((log2, acc[1], acc[2] + [offsets]))

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for log2, dense, sparse in accs:
            if log2 is None:
                continue
            if dense is not None:
                cur = out[1] if out[1] is not None else np.zeros_like(dense)
                out = (log2, cur | dense, out[2])
            out = self._compact((log2, out[1], out[2] + sparse))
        return out

    @staticmethod
    def _words(log2: int) -> int:
        return 1 << (_shard_log2(log2) - 6) if log2 >= 6 else 1

    def _compact(self, acc):
        log2, dense, sparse = acc
        if not sparse:
            return acc
        n = sum(a.size for a in sparse)
        words = self._words(log2)
        if dense is not None or n > 2 * words:
            if dense is None:
                dense = np.zeros(words, dtype=np.uint64)
            for a in sparse:
                a = a.astype(np.uint64)
                np.bitwise_or.at(dense, (a >> np.uint64(6)).astype(np.int64), np.left_shift(np.uint64(1), a & np.uint64(63)))
            return (log2, dense, [])
        if len(sparse) > 8:
            return (log2, None, [np.unique(np.concatenate(sparse))])
        return acc

    def extract_output(self, acc):
        log2, dense, sparse = acc
        if log2 is None:
            return (None, None)
        if dense is None:
            dense = np.zeros(self._words(log2), dtype=np.uint64)
        acc = self._compact((log2, dense, sparse))
        return (log2, acc[1])


class _AssembleHotKeysFn(beam.CombineFn):
    """Finished Bloom shards and the exact high-level keys → one :class:`HotKeys`."""

    def create_accumulator(self):
        return (None, {}, [])  # log2_bits, {shard: words}, [(key, level)]

    def add_input(self, acc, item):
        kind, value = item
        log2, shards, high = acc
        if kind == "bloom":
            shard, (shard_log2_bits, words) = value
            if shard_log2_bits is not None:
                shards[shard] = words
                log2 = shard_log2_bits
        else:
            high.append(value)
        return (log2, shards, high)

    def merge_accumulators(self, accs):
        log2, shards, high = None, {}, []
        for lg, sh, hi in accs:
            log2 = lg if lg is not None else log2
            shards.update(sh)
            high.extend(hi)
        return (log2, shards, high)

    def extract_output(self, acc):
        log2, shards, high = acc
        bloom = BloomFilter.from_shards(log2, shards, BLOOM_SHARD_LOG2) if log2 is not None else BloomFilter(6)
        return HotKeys.build(bloom, high)


def hot_keys_in_one_step(counted, cap: int, salts: int, fixed_log2: int, max_log2: int) -> HotKeys:
    """:class:`HotKeySet`'s result from every ``(key, member count)`` at once: the filter sized
    and filled from the same level-1 keys (an empty one when there are none, as the assembled
    one), the same exact high-level keys, so :meth:`HotKeys.level` answers alike."""
    level1, high = [], []
    for key, count in counted:
        level = hot_level(count, cap, salts)
        if level == 1:
            level1.append(key)
        elif level >= 2:
            high.append((key, level))
    bloom = BloomFilter(fixed_log2 or bloom_log2_for(len(level1), max_log2)).add(level1) if level1 else BloomFilter(6)
    return HotKeys.build(bloom, high)


class HotKeySet(beam.PTransform):
    """``(key, member count)`` of groups over ``cap`` → a singleton :class:`HotKeys` (keys are 64-bit
    integers, signed or not)."""

    def __init__(self, cap: int, salts: int, bloom_log2_bits: int = 0, bloom_max_log2_bits: int = 30,
                 one_worker: bool = False):
        super().__init__()
        self.cap = cap
        self.salts = salts
        self.bloom_log2_bits = bloom_log2_bits
        self.bloom_max_log2_bits = bloom_max_log2_bits
        # one_worker (Beam's local runner with one worker, which holds every collection anyway):
        # the same HotKeys built in one step from the gathered (key, count) pairs
        self.one_worker = one_worker

    def expand(self, counted):
        cap, salts, fixed, max_log2 = self.cap, self.salts, self.bloom_log2_bits, self.bloom_max_log2_bits
        if self.one_worker:
            return (counted
                    | "gather" >> beam.combiners.ToList()
                    | "build" >> beam.Map(hot_keys_in_one_step, cap, salts, fixed, max_log2))
        levels = counted | "levels" >> beam.Map(lambda kc: (kc[0], hot_level(kc[1], cap, salts)))
        level1 = levels | "level_1" >> beam.FlatMap(lambda kl: [kl[0]] if kl[1] == 1 else [])
        high = levels | "level_2_up" >> beam.FlatMap(lambda kl: [("high", kl)] if kl[1] >= 2 else [])
        log2 = (
            level1
            | "count_level_1" >> beam.combiners.Count.Globally()
            | "bloom_size" >> beam.Map(lambda n: fixed or bloom_log2_for(n, max_log2))
        )
        shards = (
            level1
            | "bloom_bits" >> beam.ParDo(_BloomBitsFn(), AsSingleton(log2))
            | "bloom_shards" >> beam.CombinePerKey(_ShardBitsFn())
            | "tag_shards" >> beam.Map(lambda kv: ("bloom", kv))
        )
        return (shards, high) | "parts" >> beam.Flatten() | "assemble" >> beam.CombineGlobally(_AssembleHotKeysFn())
