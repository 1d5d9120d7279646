"""What keeps the dedup stage's per-worker work bounded at full size: hot groups split by size,
hot-key sets sized from the input, the band index sharded by size and streamed, typed messages
with a compact coder, every setting reachable from the configuration."""

from __future__ import annotations

import pickle
import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam import coders
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.record import Doc
from jawebcorpus.dedup.cluster import (
    BLOOM_SHARD_LOG2, MAX_SPLIT, BloomFilter, HotKeys, KeepPolicy, bloom_log2_for, group_add, group_merge,
    hot_level, id_key64, parent_group_messages, split_of, sub_key, sub_keys,
)
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.dedup.minhash import SignatureSpec
from jawebcorpus.pipelines.config import apply_overrides, get_preset
from jawebcorpus.pipelines.dedup import Dedup
from jawebcorpus.pipelines.dedup_hot import HotKeySet
from jawebcorpus.pipelines.dedup_index import WriteIndex, index_files, index_shard_count, read_index_file
from jawebcorpus.pipelines.dedup_messages import (
    Changed, ChildLabel, ClusterSize, DocEntry, DropFor, GroupLabel, GroupMin, GroupRecord, Label, Lower, Member,
    MemberLabel, Msg, MsgCoder, NewLabel, OldLabel, ParentEdge, Want,
)
from jawebcorpus.pipelines.run import local_runner

from test_dedup_beam import NEW, OLD, check_accounting, dedup_of, expected_survivors, mk, run_dedup
from test_dedup_signatures import ja_text


# -- split levels ---------------------------------------------------------------------------------
def test_hot_groups_are_split_to_about_cap_members_per_sub_key_whatever_their_size():
    cap, salts = 64, 64
    assert hot_level(64, cap, salts) == 0 and hot_level(65, cap, salts) == 1
    for count in (65, 4096, 4097, 10**5, 10**7, 10**9):
        level = hot_level(count, cap, salts)
        split = split_of(level, salts)
        assert count <= cap * split or split * salts > MAX_SPLIT  # ≈ cap members per sub-key …
        assert split < max(count, salts)  # … without replicating more than the group itself
    assert hot_level(10**7, cap, salts) == 3
    assert hot_level(10**3, 4, 1) == 1  # one salt: no split at all, never a loop
    # members spread evenly over the sub-keys of their level
    rng = random.Random(0)
    nodes = [bytes([1]) + rng.randbytes(14) for _ in range(64 * 4096)]
    for level in (1, 2):
        subs = {}
        for n in nodes:
            s = sub_key(n, level, salts)
            subs[s] = subs.get(s, 0) + 1
        assert set(subs) == set(sub_keys(level, salts))
        mean = len(nodes) / split_of(level, salts)
        assert max(subs.values()) < 3 * mean + 10
    assert list(sub_keys(0, salts)) == [0] and sub_key(nodes[0], 0, salts) == 0


def test_hot_keys_bloom_for_level_1_exact_levels_above():
    rng = np.random.default_rng(1)
    keys = rng.integers(-2**63, 2**63 - 1, 20000, dtype=np.int64)
    log2 = bloom_log2_for(len(keys), 30)
    assert 2**log2 >= 16 * len(keys) and 2**(log2 - 1) < 16 * len(keys)
    assert bloom_log2_for(10**12, 30) == 30 and bloom_log2_for(0, 30) == 10
    bloom = BloomFilter(log2).add(keys[:19990])
    hk = HotKeys.build(bloom, [(int(k), 2 + i % 3) for i, k in enumerate(keys[19990:])])
    levels = hk.levels_many(keys)
    assert (levels[:19990] == 1).all() and levels[19990:].tolist() == [2 + i % 3 for i in range(10)]
    assert [hk.level(int(k)) for k in keys[19985:]] == levels[19985:].tolist()
    others = rng.integers(-2**63, 2**63 - 1, 50000, dtype=np.int64)
    assert hk.levels_many(others).mean() < 0.01  # false positives: level 1, rarely
    assert pickle.loads(pickle.dumps(hk)).levels_many(keys).tolist() == levels.tolist()


def test_keys_over_2_63_keep_every_bit():
    # a list of Python ints mixing values over 2**63 with smaller ones: NumPy would make it a
    # float64 array (a hub key went missing from its Bloom filter that way)
    keys = [10589691380514718297, 1217186571219972967, -5, 2**64 - 1]
    assert BloomFilter.as_u64(keys).tolist() == [k & (2**64 - 1) for k in keys]
    bf = BloomFilter(12).add(keys)
    assert all(k in bf for k in keys) and bf.contains_many(keys).all()
    assert np.array_equal(BloomFilter.positions_for(keys, 12), BloomFilter.positions_for(np.array(
        [k & (2**64 - 1) for k in keys], dtype=np.uint64), 12))
    assert id_key64(bytes(7) + b"\xff" * 8) == -1 and id_key64(bytes(7) + b"\x00" * 7 + b"\x05") == 5


def test_group_merge_streams_and_keeps_the_cap_smallest():
    rng = random.Random(2)
    ids = [bytes([1]) + rng.randbytes(8) for _ in range(5000)]
    accs = []
    for i in range(0, 5000, 7):
        acc = (0, [])
        for x in ids[i:i + 7] + ids[i:i + 2]:  # duplicates inside a bundle and across
            acc = group_add(acc, x, 16)
        accs.append(acc)
    count, smallest = group_merge(iter(accs), 16)  # a one-pass iterator is enough
    assert count == 5000 + sum(len(ids[i:i + 2]) for i in range(0, 5000, 7))
    assert smallest == sorted(set(ids))[:16]


def test_parent_group_messages_reads_a_reiterable_without_holding_it():
    children = [(b"\x01c", b"\x01c"), (b"\x01b", b"\x01a"), (b"\x01d", b"\x01d")]
    out = list(parent_group_messages(b"\x01p", b"\x01p", children))
    assert out == [(b"\x01p", b"\x01a"), (b"\x01c", b"\x01a"), (b"\x01d", b"\x01a")]
    assert list(parent_group_messages(b"\x01p", b"\x01p", [])) == []


# -- hot-key sets in Beam ------------------------------------------------------------------------
def _run_hot_key_set(path, counted, **kw):
    opts = PipelineOptions([])
    with beam.Pipeline(runner=local_runner(opts), options=opts) as p:
        _ = (p | beam.Create(counted) | HotKeySet(**kw)
             | beam.Map(lambda hk: open(str(path), "wb").write(pickle.dumps(hk))))
    with open(path, "rb") as fh:
        return pickle.load(fh)


def test_hot_key_set_is_sized_from_the_number_of_hot_keys_and_built_in_shards(tmp_path):
    rng = np.random.default_rng(3)
    keys = [int(k) for k in rng.integers(-2**63, 2**63 - 1, 5000, dtype=np.int64)]
    # 5,000 level-1 keys (count 100), 3 of level 2 (≤ 64·64² members), 1 of level 3
    counted = [(k, 100) for k in keys] + [(11, 5000), (12, 200_000), (13, 262_144), (14, 10**7)]
    hk = _run_hot_key_set(tmp_path / "a", counted, cap=64, salts=64, bloom_max_log2_bits=30)
    assert hk.bloom.log2_bits == bloom_log2_for(5000, 30) == 17
    assert (hk.levels_many(np.array(keys, dtype=np.int64)) == 1).all()  # no false negatives
    assert [hk.level(k) for k in (11, 12, 13, 14)] == [2, 2, 2, 3]
    assert hk.high_keys.size == 4
    # the same keys, filter fixed and larger than one shard: assembled from several shards
    big = _run_hot_key_set(tmp_path / "b", counted, cap=64, salts=64, bloom_log2_bits=BLOOM_SHARD_LOG2 + 1)
    assert big.bloom.log2_bits == BLOOM_SHARD_LOG2 + 1
    assert (big.levels_many(np.array(keys, dtype=np.int64)) == 1).all()
    expect = BloomFilter(BLOOM_SHARD_LOG2 + 1).add(np.array(keys, dtype=np.int64))
    assert np.array_equal(big.bloom.words, expect.words)  # sharded build = the filter itself
    # none at all: an empty set
    empty = _run_hot_key_set(tmp_path / "c", [(1, 5)], cap=64, salts=64)
    assert empty.level(1) == 0 and empty.nbytes < 64


@pytest.mark.parametrize("fixed", [0, BLOOM_SHARD_LOG2 + 1])
def test_hot_key_set_in_one_step_is_the_same_set(tmp_path, fixed):
    """HotKeySet(one_worker=True) (one local worker: built from the gathered pairs) gives the
    filter bit for bit and the high-level keys of the sharded build."""
    rng = np.random.default_rng(5)
    keys = [int(k) for k in rng.integers(-2**63, 2**63 - 1, 3000, dtype=np.int64)]
    counted = [(k, 65 + i % 500) for i, k in enumerate(keys)] + [(21, 9000), (22, 10**7), (23, 3)]
    kw = {"cap": 64, "salts": 64, "bloom_log2_bits": fixed}
    a = _run_hot_key_set(tmp_path / "a", counted, **kw)
    b = _run_hot_key_set(tmp_path / "b", counted, one_worker=True, **kw)
    assert a.bloom.log2_bits == b.bloom.log2_bits and np.array_equal(a.bloom.words, b.bloom.words)
    assert np.array_equal(a.high_keys, b.high_keys) and np.array_equal(a.high_levels, b.high_levels)
    assert a.bloom.words.any() and a.high_keys.size == 2 and b.level(23) == 0
    none = [_run_hot_key_set(tmp_path / f"n{i}", [(1, 5)], cap=64, salts=64, one_worker=bool(i)) for i in (0, 1)]
    assert none[0].bloom.log2_bits == none[1].bloom.log2_bits and none[1].level(1) == 0


# -- the stage: splitting changes nothing in the result -------------------------------------------
def _largest_groups(docs, path, labels, **kw) -> dict[str, int]:
    """Run Dedup; the most values under one key of each named GroupByKey (a measuring branch)."""
    from apache_beam.pipeline import PipelineVisitor

    opts = PipelineOptions([])
    p = beam.Pipeline(runner=local_runner(opts), options=opts)
    _ = p | beam.Create(docs, reshuffle=False) | "dedup" >> dedup_of(**kw)
    found = {}

    class V(PipelineVisitor):
        def visit_transform(self, node):
            name = node.full_label.split("/", 1)[-1]
            if node.full_label.startswith("dedup/") and name in labels:
                found[name] = node.outputs[None]

    p.visit(V())
    for name, pc in found.items():
        _ = (pc | f"size_{name}" >> beam.Map(lambda kv: sum(1 for _ in kv[1]))
             | f"max_{name}" >> beam.combiners.Top.Of(1)
             | f"write_{name}" >> beam.Map(lambda top, n=name: open(f"{path}-{n}", "w").write(str(top[0]))))
    p.run().wait_until_finish()
    return {name: int(open(f"{path}-{name}").read()) for name in found}


def test_hot_groups_and_hubs_are_really_split(tmp_path):
    rng = random.Random(21)
    boiler = ja_text(rng, 700)
    docs = [mk([OLD, NEW][i % 2], i, boiler + ja_text(rng, 10)) for i in range(60)]
    docs += [mk(OLD, 1000 + i, ja_text(rng, 700)) for i in range(10)]
    # group_cap 4, hot_salts 2: the boilerplate's band groups (60 members) and its survivor (a
    # parent of 59) are split over 2**4 sub-keys
    assert hot_level(60, 4, 2) == 4
    kept, sizes = expected_survivors(docs, SignatureSpec(), KeepPolicy())
    split = run_dedup(docs, tmp_path / "split", group_cap=4, hot_salts=2)
    assert set(split["kept"]) == kept
    assert {k: v[0] for k, v in split["kept"].items()} == {k: sizes[k] for k in kept}
    assert any(k[2] == "band_groups" and k[3] == "hot" for k in split["details"])
    check_accounting(split, docs)
    largest = _largest_groups(docs, tmp_path / "m", {"group_hot", "round_01_group_parent"}, group_cap=4,
                              hot_salts=2, max_rounds=1)
    # 60 members (or 59 children + the label) would be one key unsplit; 16 sub-keys hold ≈ 4 each
    assert 0 < largest["group_hot"] <= 16 and 0 < largest["round_01_group_parent"] <= 16, largest


# -- typed messages ------------------------------------------------------------------------------
def test_messages_round_trip_compactly_through_their_coder():
    kv = coders.registry.get_coder(beam.typehints.Tuple[bytes, Msg])
    node, label = bytes([1]) + bytes(range(14)), bytes([1]) + bytes(range(20, 34))
    doc = Doc(snapshot=NEW, warc_file="f.warc.gz", warc_offset=1, warc_length=2, warc_record_id="<r>",
              warc_date="2024-01-01T00:00:00Z", url="https://a.example.jp/", text=None, text_chars=9,
              payload_bytes=10)
    msgs = [Member(node), GroupMin(node), ParentEdge(node), Label(label), ChildLabel(node, label), NewLabel(label),
            OldLabel(label), DropFor(label), ClusterSize(123456), DocEntry(doc, b"\x00" * 16), DocEntry(doc, None),
            Changed(label, node), Want(node, (2 << 32) | 4095), MemberLabel(node, label, node),
            GroupRecord((node, label, node), label), GroupRecord((), label), GroupLabel(label), Lower(label, node)]
    fallback = coders.FastPrimitivesCoder()
    for m in msgs:
        back = kv.decode(kv.encode((node, m)))[1]
        assert type(back) is type(m) and back == m
        assert pickle.loads(pickle.dumps(m)) == m
        if not isinstance(m, DocEntry):  # tag byte + fields: smaller than a pickled named tuple
            assert len(kv.encode((node, m))) < len(fallback.encode((node, m)))
    assert len(kv.encode((node, Label(label)))) == 1 + len(node) + 1 + 1 + len(label)
    assert isinstance(kv.get_impl(), object) and MsgCoder() == MsgCoder()
    match ChildLabel(node, label):
        case ChildLabel(child, lab):
            assert (child, lab) == (node, label)


def test_every_join_of_the_stage_uses_the_message_coder():
    from apache_beam.pipeline import PipelineVisitor

    p = beam.Pipeline()
    _ = p | beam.Create([]) | "dedup" >> Dedup(DedupConfig(max_rounds=2))
    seen = {}

    class V(PipelineVisitor):
        def visit_transform(self, node):
            if isinstance(node.transform, beam.GroupByKey) and node.full_label.split("/")[1] in (
                    "group_hot", "round_01_group_child", "round_01_group_parent", "join_decisions",
                    "round_02_group_member", "round_02_group_active", "finish_group_member", "finish_group_active"):
                seen[node.full_label] = coders.registry.get_coder(next(iter(node.inputs)).element_type)

    p.visit(V())
    assert len(seen) == 8
    assert all(isinstance(c.coders()[1], MsgCoder) for c in seen.values()), seen


# -- the band index ------------------------------------------------------------------------------
def test_index_shards_from_the_row_count_and_streams_rows(tmp_path, monkeypatch):
    import jawebcorpus.pipelines.dedup_index as di

    monkeypatch.setattr(di, "BATCH_ROWS", 100)  # several row groups per file
    assert index_shard_count(0, 0, 1000) == 1 and index_shard_count(2500, 0, 1000) == 3
    assert index_shard_count(500, 16, 1000) == 16 and index_shard_count(10**10, 16, 1000) == 10**7  # at least 16
    rng = random.Random(4)
    rows = [(rng.getrandbits(64) - 2**63, i % 40, bytes([1]) + rng.randbytes(14), NEW) for i in range(2500)]
    out = tmp_path / "index"
    opts = PipelineOptions([])
    with beam.Pipeline(runner=local_runner(opts), options=opts) as p:
        _ = p | beam.Create(rows) | WriteIndex(str(out), "t", SignatureSpec(), KeepPolicy(), 0, 1000)
    files = index_files(str(out))
    assert [f.rsplit("/", 1)[1] for f in files] == [f"part-t-{s:05d}-of-00003.parquet" for s in range(3)]
    import pyarrow.parquet as pq

    assert all(pq.ParquetFile(f).metadata.num_row_groups >= 2 for f in files)
    back = [r for f in files for r in read_index_file(f, SignatureSpec())]
    assert sorted(back) == sorted(rows)
    with pytest.raises(ValueError, match="different signature spec"):
        list(read_index_file(files[0], SignatureSpec(num_perm=128, bands=16, rows=8)))


# -- configuration -------------------------------------------------------------------------------
def test_every_dedup_bound_is_a_setting_and_reaches_the_transform():
    cfg = apply_overrides(get_preset("default"), [
        "dedup.group_cap=16", "dedup.hot_salts=8", "dedup.bloom_log2_bits=26", "dedup.bloom_max_log2_bits=28",
        "dedup.batch_size=64", "dedup.index_shards=5", "dedup.index_rows_per_shard=1000", "dedup.max_rounds=3",
    ]).validate()
    d = Dedup(cfg.dedup, write_index="x", carry_text=False)
    c = d.config
    assert (c.group_cap, c.hot_salts, c.bloom_log2_bits, c.bloom_max_log2_bits, c.batch_size, c.index_shards,
            c.index_rows_per_shard, c.max_rounds, d.carry_text) == (16, 8, 26, 28, 64, 5, 1000, 3, False)
    assert d.spec == cfg.dedup.spec() and d.policy == KeepPolicy(cfg.dedup.tie_break)
    for bad in ("group_cap=1", "hot_salts=0", "bloom_log2_bits=5", "bloom_max_log2_bits=40", "batch_size=0",
                "index_shards=-1", "index_rows_per_shard=0"):
        with pytest.raises(ConfigError):
            apply_overrides(get_preset("default"), [f"dedup.{bad}"]).validate()
