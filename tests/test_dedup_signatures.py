"""dedup/: shingles, MinHash signatures (OPH + densification), band keys, spec, b/r optimiser,
survivor policy and the pure clustering helpers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from jawebcorpus.dedup.cluster import (
    BloomFilter, KeepPolicy, UnionFind, group_add, group_edges, group_merge, is_published,
    propagate_labels, published_id, reference_clusters, size_bucket, snapshot_of, unpublished_id,
)
from jawebcorpus.dedup.lsh import band_keys, detection_probability
from jawebcorpus.dedup.minhash import (
    SignatureSpec, exact_jaccard, false_negative_area, false_positive_area, jaccard_estimate,
    optimal_bands_rows, signatures,
)
from jawebcorpus.dedup.shingle import SENTINEL, batch_shingle_hashes, normalize, shingle_hashes, shingle_set

KANA = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
KANJI = "日本語文章東京大阪京都駅前店今日明日天気新聞社会経済政治学校先生生徒時間場所問題"


def ja_text(rng: random.Random, n: int) -> str:
    out = []
    while len(out) < n:
        w = rng.randint(1, 4)
        src = KANJI if rng.random() < 0.35 else KANA
        out.extend(rng.choice(src) for _ in range(w))
        if rng.random() < 0.08:
            out.append("。")
    return "".join(out[:n])


def edit(rng: random.Random, text: str, rate: float) -> str:
    """Replace about ``rate`` of the characters (in runs), so the Jaccard similarity drops."""
    chars = list(text)
    i = 0
    while i < len(chars):
        if rng.random() < rate / 3:
            for j in range(i, min(i + 3, len(chars))):
                chars[j] = rng.choice(KANA + KANJI)
            i += 3
        else:
            i += 1
    return "".join(chars)


# -- shingles ------------------------------------------------------------------------------------
def test_shingle_hashes_are_per_window_and_independent_of_batching():
    rng = random.Random(1)
    texts = [ja_text(rng, n) for n in (0, 1, 4, 5, 6, 50, 2000)]
    h_all, counts = batch_shingle_hashes(texts)
    assert counts.tolist() == [1, 1, 1, 1, 2, 46, 1996]
    parts = np.split(h_all, np.cumsum(counts)[:-1])
    for t, part in zip(texts, parts):
        assert np.array_equal(part, shingle_hashes(t))
    # equal windows hash equal, different windows differently
    h = shingle_hashes("あいうえおあいうえお")
    assert h[0] == h[5] and len(set(h.tolist())) == 5


def test_short_documents_have_one_padded_shingle_and_empty_text_a_fixed_placeholder():
    assert len(shingle_hashes("")) == 1
    assert shingle_hashes("")[0] == shingle_hashes("")[0]
    assert shingle_hashes("abc")[0] != shingle_hashes("abcd")[0] != shingle_hashes("")[0]
    # padding uses a value no real character has: "ab" + pad is not "ab\U0010ffff…"
    assert shingle_hashes("ab")[0] != shingle_hashes("ab\U0010ffff\U0010ffff\U0010ffff")[0]
    assert SENTINEL == 0x110000
    sigs = signatures(["", "", "abc", "abc", "abd", "abcde"])
    assert np.array_equal(sigs[0], sigs[1]) and np.array_equal(sigs[2], sigs[3])
    assert jaccard_estimate(sigs[2], sigs[4]) == 0.0
    assert len(set(sigs[2].tolist())) == 1  # one shingle: every entry is its value
    assert shingle_set("abc") == {"abc"} and exact_jaccard("abc", "abc") == 1.0


def test_normalisations():
    assert normalize("ＡＢＣ１２３ｶﾀｶﾅ", "nfkc") == "ABC123カタカナ"
    assert normalize("ＡＢＣ Straße", "nfkc_casefold_width") == "abc strasse"
    assert normalize("ＡＢＣ", "none") == "ＡＢＣ"
    with pytest.raises(ValueError):
        normalize("x", "lower")
    s_none = SignatureSpec()
    s_nfkc = SignatureSpec(normalization="nfkc")
    a, b = "ＡＢＣＤＥＦＧＨ日本語の文章", "ABCDEFGH日本語の文章"
    assert jaccard_estimate(*signatures([a, b], s_nfkc)) == 1.0
    assert jaccard_estimate(*signatures([a, b], s_none)) < 0.5
    assert s_nfkc.unicode_version and s_none.unicode_version is None


# -- signatures ----------------------------------------------------------------------------------
PINNED_TEXT = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"


def test_signature_values_are_pinned():
    """The spec is the specification: these values must never change for spec_version 1."""
    spec = SignatureSpec()
    sig = signatures([PINNED_TEXT], spec)[0]
    assert sig.dtype == np.uint32 and sig.shape == (800,)
    assert sig[:6].tolist() == PINNED_SIG
    assert int(band_keys(sig, spec)[0, 0]) == PINNED_BAND0
    assert spec.fingerprint() == PINNED_FINGERPRINT
    assert int(shingle_hashes(PINNED_TEXT)[0]) == PINNED_SHINGLE0


PINNED_SIG = [2687334957, 2870921700, 522193842, 2056888300, 1730638941, 4287138785]
PINNED_BAND0 = 2015428516720240425
PINNED_FINGERPRINT = "2e2e966f78276808"
PINNED_SHINGLE0 = 2712059795795587590


def test_signatures_deterministic_across_batches_and_orders():
    rng = random.Random(2)
    texts = [ja_text(rng, rng.randint(0, 3000)) for _ in range(60)]
    a = signatures(texts)
    b = signatures(texts, batch_size=7)
    c = signatures(texts[::-1])[::-1]
    assert np.array_equal(a, b) and np.array_equal(a, c)
    for i in (0, 17, 59):
        assert np.array_equal(signatures([texts[i]])[0], a[i])


def test_seed_changes_signatures():
    t = ja_text(random.Random(3), 500)
    assert not np.array_equal(signatures([t], SignatureSpec(seed=0)), signatures([t], SignatureSpec(seed=1)))


def test_estimation_error_against_exact_jaccard():
    rng = random.Random(4)
    errs = []
    for _ in range(120):
        base = ja_text(rng, 2000)
        other = edit(rng, base, rng.uniform(0.0, 0.15))
        j = exact_jaccard(base, other)
        est = float(jaccard_estimate(*signatures([base, other])))
        errs.append(abs(est - j))
        assert abs(est - j) < 0.08, (j, est)
    # 800 entries: σ ≤ 0.018; the mean absolute error of k-permutation MinHash would be ≈ 0.011
    assert np.mean(errs) < 0.015, np.mean(errs)


def test_densification_fills_every_bin_for_short_documents():
    rng = random.Random(5)
    for n in (6, 20, 100, 300):
        t = ja_text(rng, n)
        sig = signatures([t])[0]
        # every value is one of the document's shingle values
        vals = set((shingle_hashes(t) & np.uint64(0xFFFFFFFF)).tolist())
        assert set(sig.tolist()) <= vals
    # similar short documents still estimate sensibly
    a = ja_text(rng, 200)
    b = a[:150] + ja_text(rng, 50)
    assert abs(float(jaccard_estimate(*signatures([a, b]))) - exact_jaccard(a, b)) < 0.15


# -- band keys ---------------------------------------------------------------------------------
def test_band_keys_depend_on_band_index_and_rows():
    spec = SignatureSpec()
    sig = np.zeros((1, 800), np.uint32)
    keys = band_keys(sig, spec)[0]
    assert len(set(keys.tolist())) == 40  # same rows, different bands: different keys
    sig2 = sig.copy()
    sig2[0, 25] = 1  # band 1
    keys2 = band_keys(sig2, spec)[0]
    assert (keys != keys2).tolist() == [i == 1 for i in range(40)]
    with pytest.raises(ValueError):
        band_keys(np.zeros((1, 10), np.uint32), spec)


def test_detection_probability():
    assert detection_probability(0.9, 40, 20) == pytest.approx(0.994, abs=0.001)
    assert detection_probability(0.8, 40, 20) == pytest.approx(0.37, abs=0.01)
    assert detection_probability(0.85, 40, 20) == pytest.approx(0.79, abs=0.01)
    assert SignatureSpec().threshold == pytest.approx(0.832, abs=0.001)


# -- spec ----------------------------------------------------------------------------------------
def test_spec_round_trip_fingerprint_and_validation():
    s = SignatureSpec(normalization="nfkc", seed=7)
    assert SignatureSpec.from_dict(s.to_dict()) == s
    assert SignatureSpec.from_json(s.to_json()) == s
    assert s.fingerprint() == SignatureSpec.from_json(s.to_json()).fingerprint()
    assert s.fingerprint() != SignatureSpec().fingerprint()
    assert set(s.differences(SignatureSpec())) == {"normalization", "seed", "unicode_version"}
    with pytest.raises(ValueError, match="bands × rows"):
        SignatureSpec(bands=30, rows=20)
    with pytest.raises(ValueError, match="normalization"):
        SignatureSpec(normalization="upper")
    with pytest.raises(ValueError, match="hash_family"):
        SignatureSpec(hash_family="murmur3")
    with pytest.raises(ValueError, match="unknown"):
        SignatureSpec.from_dict({**SignatureSpec().to_dict(), "extra": 1})
    with pytest.raises(ValueError):
        SignatureSpec(shingle_size=0)


def test_threshold_optimiser_matches_brute_force():
    for t in (0.5, 0.7, 0.83, 0.9):
        b, r = optimal_bands_rows(t, 800)
        assert b * r == 800
        best = min(
            ((0.5 * false_positive_area(t, bb, 800 // bb) + 0.5 * false_negative_area(t, bb, 800 // bb)), bb)
            for bb in range(1, 801) if 800 % bb == 0
        )
        assert b == best[1]
    # the effective threshold is near the target
    b, r = optimal_bands_rows(0.83, 800)
    assert abs((1 / b) ** (1 / r) - 0.83) < 0.05
    # not exact: b × r ≤ num_perm
    b, r = optimal_bands_rows(0.8, 128, exact=False)
    assert b * r <= 128
    # weighting false negatives more lowers the threshold
    b1, r1 = optimal_bands_rows(0.8, 800, 0.5, 0.5)
    b2, r2 = optimal_bands_rows(0.8, 800, 0.1, 0.9)
    assert (1 / b2) ** (1 / r2) <= (1 / b1) ** (1 / r1)
    spec = SignatureSpec.for_threshold(0.83)
    assert spec.bands * spec.rows == 800
    with pytest.raises(ValueError):
        optimal_bands_rows(1.5)


# -- policy and node ids -------------------------------------------------------------------------
def test_keep_policy_orders_newest_then_tiebreak_then_stable_id():
    p = KeepPolicy("longer")
    old_long = p.node_id("CC-MAIN-2023-14", "u1", "r1", 5000)
    new_short = p.node_id("CC-MAIN-2023-23", "u2", "r2", 100)
    new_long = p.node_id("CC-MAIN-2023-23", "u3", "r3", 900)
    other = p.node_id("unknown", "u4", "r4", 10000)
    assert new_long < new_short < old_long < other
    assert p.node_id("CC-MAIN-2024-10", "u", "r", 1) < p.node_id("CC-MAIN-2023-50", "u", "r", 1)
    assert p.node_id("CC-MAIN-2100-01", "u", "r", 1) < p.node_id("CC-MAIN-2024-51", "u", "r", 1)
    q = KeepPolicy("quality")
    assert q.node_id("CC-MAIN-2023-23", "a", "r", quality=0.9) < q.node_id("CC-MAIN-2023-23", "b", "r", quality=0.1)
    assert q.node_id("CC-MAIN-2023-23", "a", "r", quality=-1.0) > q.node_id("CC-MAIN-2023-23", "b", "r", quality=0.0)
    assert q.node_id("CC-MAIN-2023-23", "a", "r", quality=float("nan")) > q.node_id("CC-MAIN-2023-23", "b", "r", quality=-1e300)
    n = KeepPolicy("none")
    a, b = n.node_id("CC-MAIN-2023-23", "a", "r", 1), n.node_id("CC-MAIN-2023-23", "a", "r", 99999)
    assert a == b  # no tie-break: only the stable id decides
    assert n.node_id("CC-MAIN-2023-23", "a", "r") != n.node_id("CC-MAIN-2023-23", "b", "r")
    with pytest.raises(ValueError):
        KeepPolicy("shortest")
    # non-CC snapshot names: after every CC snapshot, descending by name
    assert p.node_id("zz-crawl", "u", "r", 1) < p.node_id("aa-crawl", "u", "r", 1)
    assert p.node_id("abc", "u", "r", 1) < p.node_id("ab", "u", "r", 1)


def test_node_ids_decode_to_their_snapshot_and_published_ids_win():
    p = KeepPolicy()
    for snap in ("CC-MAIN-2023-14", "CC-MAIN-2024-18", "unknown", "日本-crawl"):
        node = p.node_id(snap, "https://x/", "<urn:1>", 123)
        assert snapshot_of(node) == snap
        pub = published_id(node)
        assert is_published(pub) and not is_published(node)
        assert snapshot_of(pub) == snap and unpublished_id(pub) == node
        assert pub < p.node_id("CC-MAIN-2999-01", "u", "r", 10**9)


# -- clustering helpers --------------------------------------------------------------------------
def test_capped_group_accumulator_is_order_independent():
    rng = random.Random(6)
    ids = [bytes([1]) + rng.randbytes(8) for _ in range(300)]
    for cap in (4, 64, 1000):
        expect = sorted(ids)[:cap]
        for _ in range(5):
            rng.shuffle(ids)
            chunks = [ids[i:i + 37] for i in range(0, len(ids), 37)]
            accs = []
            for ch in chunks:
                acc = (0, [])
                for x in ch:
                    acc = group_add(acc, x, cap)
                accs.append(acc)
            count, smallest = group_merge(accs, cap)
            assert count == 300 and smallest == expect
    assert list(group_edges([b"a", b"b", b"c"])) == [(b"b", b"a"), (b"c", b"a")]


def test_bloom_filter_has_no_false_negatives():
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    bf = BloomFilter(18).add(keys[:2500])
    bf2 = BloomFilter(18).add(keys[2500:])
    bf.merge(bf2)
    assert all(int(k) in bf for k in keys)
    assert bf.contains_many(keys).all()
    others = rng.integers(0, 2**63, 20000, dtype=np.uint64)
    assert bf.contains_many(others).mean() < 0.01
    assert [int(k) in bf for k in others[:200]] == bf.contains_many(others[:200]).tolist()


def test_size_buckets():
    assert [size_bucket(n) for n in (1, 2, 3, 4, 5, 8, 9, 1024, 1025, 10**6)] == [
        "1", "2", "3-4", "3-4", "5-8", "5-8", "9-16", "257-1024", "1025-4096", "16385+"]


def test_label_propagation_reference_converges_to_union_find():
    rng = random.Random(7)
    nodes = [bytes([1]) + rng.randbytes(4) for _ in range(200)]
    edges = set()
    for _ in range(150):
        a, b = rng.sample(nodes, 2)
        edges.add((max(a, b), min(a, b)))
    labels, changed = propagate_labels(edges, 30)
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    for n in labels:
        assert labels[n] == uf.find(n)
    assert changed[-1] == 0
    # a chain needs several rounds; a bound too small leaves labels changing
    chain = [bytes([1, i]) for i in range(8)]
    cedges = {(chain[i + 1], chain[i]) for i in range(7)}
    _, ch = propagate_labels(cedges, 2)
    assert ch[-1] > 0
    lab, ch = propagate_labels(cedges, 10)
    assert set(lab.values()) == {chain[0]} and ch[-1] == 0


def test_reference_clusters_joins_on_shared_keys():
    a, b, c, d = (bytes([1, i]) for i in range(4))
    ref = reference_clusters([a, b, c, d], [[1, 2], [2, 3], [3, 9], [7]])
    assert ref == {a: a, b: a, c: a, d: d}


def test_shingle_hash_follows_its_written_definition():
    """Recompute the hash from the module docstring's definition with plain Python integers."""
    from jawebcorpus.dedup.shingle import POLY_BASE

    M = (1 << 64) - 1

    def fmix(x):
        x ^= x >> 33
        x = (x * 0xFF51AFD7ED558CCD) & M
        x ^= x >> 33
        x = (x * 0xC4CEB9FE1A85EC53) & M
        x ^= x >> 33
        return x

    def h(shingle: list[int], seed: int) -> int:
        p = 0
        for c in shingle:
            p = (p * int(POLY_BASE) + c) & M
        return fmix(p ^ fmix((seed + 0x632BE59BD9B4E019) & M))

    for text, seed in ((PINNED_TEXT, 0), ("日本語", 3), ("", 0)):
        cps = [ord(c) for c in text] + [SENTINEL] * max(0, 5 - len(text))
        expect = [h(cps[i:i + 5], seed) for i in range(len(cps) - 4)]
        assert shingle_hashes(text, seed=seed).tolist() == expect
    assert int(POLY_BASE) == 0x9E3779B97F4A7C15 | 1


def test_oph_bins_and_values_follow_the_definition():
    """Entry i = min over shingles in bin i of the low 32 bits, for the non-empty bins."""
    text = ja_text(random.Random(9), 3000)
    h = [int(x) for x in shingle_hashes(text)]
    bins: dict[int, int] = {}
    for x in h:
        b = ((x >> 32) * 800) >> 32
        bins[b] = min(bins.get(b, 1 << 32), x & 0xFFFFFFFF)
    sig = signatures([text])[0]
    assert all(int(sig[b]) == v for b, v in bins.items())
    assert len(bins) < 800  # some bins were empty and got densified
