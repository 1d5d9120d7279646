"""The Beam dedup stage: synthetic clusters against the union-find reference, hot band keys,
bounded rounds, runner independence and the incremental band index."""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections import Counter
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.corpus.record import Doc
from jawebcorpus.dedup.cluster import KeepPolicy, reference_clusters
from jawebcorpus.dedup.config import DedupConfig
from jawebcorpus.dedup.lsh import band_keys
from jawebcorpus.dedup.minhash import SignatureSpec, signatures
from jawebcorpus.pipelines.dedup import Dedup, read_index_spec
from jawebcorpus.pipelines.run import local_runner

from test_dedup_signatures import edit, ja_text

OLD, NEW, NEWER = "CC-MAIN-2023-14", "CC-MAIN-2023-23", "CC-MAIN-2024-10"


def mk(snapshot: str, i: int, text: str, url: str | None = None, quality: float | None = None) -> Doc:
    d = Doc(snapshot=snapshot, warc_file=f"crawl-data/{snapshot}/f.warc.gz", warc_offset=i * 1000,
            warc_length=900, warc_record_id=f"<urn:uuid:{snapshot}-{i}>", warc_date="2023-01-01T00:00:00Z",
            url=url or f"https://site{i}.example.jp/page.html", text=text, payload_bytes=3 * len(text) + 100)
    if quality is not None:
        d.signals["quality_score"] = quality
    return d


def _key(d: Doc) -> str:
    return f"{d.snapshot}|{d.url}|{d.warc_record_id}"


def dedup_of(**kw) -> Dedup:
    """``Dedup`` with the ``dedup.*`` settings among ``kw`` in its DedupConfig, the rest as arguments."""
    names = {f.name for f in dataclasses.fields(DedupConfig)}
    return Dedup(DedupConfig(**{k: v for k, v in kw.items() if k in names}),
                 **{k: v for k, v in kw.items() if k not in names})


def run_dedup(docs: list[Doc], out: Path, beam_args: tuple[str, ...] = (), **kw) -> dict:
    """Run Dedup (``kw``: settings and arguments, :func:`dedup_of`); returns {"kept": {key:
    (cluster_size, cluster_id)}, "stats": {...}, "details": {...}}."""
    out.mkdir(parents=True, exist_ok=True)
    opts = PipelineOptions(list(beam_args))
    with beam.Pipeline(runner=local_runner(opts), options=opts) as p:
        res = p | "docs" >> beam.Create(docs, reshuffle=False) | "dedup" >> dedup_of(**kw)
        # self-contained lambdas: worker processes cannot import this test module
        res.docs | "dump_docs" >> beam.Map(lambda d: json.dumps({
            "key": f"{d.snapshot}|{d.url}|{d.warc_record_id}", "cluster_size": d.cluster_size,
            "cluster_id": d.cluster_id})) | "write_docs" >> beam.io.WriteToText(str(out / "docs"))
        for name in ("stats", "details"):
            (res[name]
             | f"sum_{name}" >> beam.CombinePerKey(lambda vs: tuple(map(sum, zip(*vs))))
             | f"dump_{name}" >> beam.Map(lambda kv: json.dumps([list(kv[0]), list(kv[1])]))
             | f"write_{name}" >> beam.io.WriteToText(str(out / name)))
    result = {"kept": {}, "stats": {}, "details": {}}
    for f in sorted(os.listdir(out)):
        for line in (out / f).read_text().splitlines():
            if f.startswith("docs"):
                r = json.loads(line)
                result["kept"][r["key"]] = (r["cluster_size"], r["cluster_id"])
            else:
                k, v = json.loads(line)
                bucket = result["stats" if f.startswith("stats") else "details"]
                prev = bucket.get(tuple(k), (0, 0, 0))
                bucket[tuple(k)] = tuple(a + b for a, b in zip(prev, v))
    return result


def expected_survivors(docs: list[Doc], spec: SignatureSpec, policy: KeepPolicy) -> tuple[set[str], dict[str, int]]:
    """Union-find over shared band keys; the survivor of each component is its smallest node id."""
    nodes = [policy.node_id(d.snapshot, d.url, d.warc_record_id, len(d.text), d.signals.get("quality_score"))
             for d in docs]
    keys = band_keys(signatures([d.text for d in docs], spec), spec)
    ref = reference_clusters(nodes, [k.tolist() for k in keys])
    sizes = Counter(ref.values())
    by_node = {n: d for n, d in zip(nodes, docs)}
    kept = {_key(by_node[n]) for n in nodes if ref[n] == n}
    return kept, {_key(by_node[r]): s for r, s in sizes.items()}


def check_accounting(res: dict, docs: list[Doc]) -> None:
    per_snap = Counter(d.snapshot for d in docs)
    seen = Counter()
    for (snap, stage, outcome, reason), (n, _c, _b) in res["stats"].items():
        assert stage == "dedup"
        assert (outcome, reason) in {("kept", "unique"), ("kept", "survivor"), ("dropped", "near_duplicate"),
                                     ("dropped", "indexed_duplicate")}
        seen[snap] += n
    assert seen == per_snap  # every input document has exactly one outcome
    kept_rows = sum(v[0] for (s, st, o, r), v in res["stats"].items() if o == "kept")
    assert kept_rows == len(res["kept"])
    chars = {d.snapshot: 0 for d in docs}
    for d in docs:
        chars[d.snapshot] += len(d.text)
    for snap in per_snap:
        assert sum(v[1] for k, v in res["stats"].items() if k[0] == snap) == chars[snap]


# -- synthetic corpus ----------------------------------------------------------------------------
def synthetic_corpus(seed: int = 11) -> list[Doc]:
    rng = random.Random(seed)
    docs: list[Doc] = []
    i = 0

    def add(snap, text, **kw):
        nonlocal i
        i += 1
        docs.append(mk(snap, i, text, **kw))

    # unique documents
    for _ in range(40):
        add(rng.choice([OLD, NEW]), ja_text(rng, rng.randint(300, 2500)))
    # exact and near duplicates across snapshots (newest must win)
    for _ in range(15):
        base = ja_text(rng, 1500)
        add(OLD, base)
        add(NEW, edit(rng, base, 0.01))
        add(NEW, base)  # exact copy on a mirror
    # chains A ~ B ~ C ~ … : neighbours similar, ends not
    for _ in range(4):
        text = ja_text(rng, 1200)
        for k in range(7):
            add([OLD, NEW, NEWER][k % 3], text)
            text = text[60:] + ja_text(rng, 60)  # slide: consecutive J ≈ 0.9, distant ones fall off
    return docs


@pytest.fixture(scope="module")
def corpus():
    return synthetic_corpus()


@pytest.fixture(scope="module")
def corpus_run(corpus, tmp_path_factory):
    return run_dedup(corpus, tmp_path_factory.mktemp("synthetic"))


def test_survivors_match_union_find_reference(corpus, corpus_run):
    kept, sizes = expected_survivors(corpus, SignatureSpec(), KeepPolicy())
    assert set(corpus_run["kept"]) == kept
    for key, (size, _cid) in corpus_run["kept"].items():
        assert size == sizes[key]
    check_accounting(corpus_run, corpus)
    # some clusters really are chains that need several label-propagation rounds
    rounds = [k[3] for k in corpus_run["details"] if k[2] == "rounds"]
    assert "round_01" in rounds
    assert not any(k[2] == "exact_finish" for k in corpus_run["details"])  # settled within the rounds


def test_newest_copy_is_kept_across_snapshots(corpus, corpus_run):
    kept = corpus_run["kept"]
    # every near/exact duplicate triple keeps a CC-MAIN-2023-23 copy, never the older one
    triples = [corpus[40 + 3 * t: 43 + 3 * t] for t in range(15)]
    for old, near, exact in triples:
        assert _key(old) not in kept
        assert (_key(near) in kept) + (_key(exact) in kept) == 1
    # tie-break "longer": the exact copy (same length as the old text) vs the edited one (same length) →
    # then the stable id; either way exactly one and it is from NEW
    stats = corpus_run["stats"]
    assert stats[(OLD, "dedup", "dropped", "near_duplicate")][0] >= 15


def test_details_report_cluster_sizes_and_where_the_kept_copy_is(corpus_run):
    det = corpus_run["details"]
    kept_total = sum(v[0] for k, v in corpus_run["stats"].items() if k[2] == "kept")
    assert sum(v[0] for k, v in det.items() if k[2] == "cluster_size") == kept_total
    assert det[(OLD, "dedup", "kept_copy_in", NEW)][0] >= 15
    assert any(k[2] == "cluster_size" and k[3] == "3-4" for k in det)


def test_too_few_rounds_still_give_exact_clusters(tmp_path):
    """One round is not enough for a chain: the exact finish joins what the rounds left, so the
    survivors, cluster sizes and ids are those of the union-find reference and of a run whose rounds
    converged; the detail rows say how many labels the finish changed."""
    docs = hub_corpus()
    full = run_dedup(docs, tmp_path / "full")
    res = run_dedup(docs, tmp_path / "one", max_rounds=1)
    kept, sizes = expected_survivors(docs, SignatureSpec(), KeepPolicy())
    assert set(res["kept"]) == kept and res["kept"] == full["kept"]
    assert all(size == sizes[key] for key, (size, _cid) in res["kept"].items())
    assert res["stats"] == full["stats"]
    finished = sum(v[0] for k, v in res["details"].items() if k[2] == "exact_finish")
    later = sum(v[0] for k, v in full["details"].items() if k[2] == "rounds" and k[3] != "round_01")
    assert 0 < finished <= later  # what rounds 2 … did, the finish did at once
    assert not any(k[2] in ("exact_finish", "not_converged") for k in full["details"])
    check_accounting(res, docs)


def long_chain(length: int = 9) -> list[Doc]:
    """Sliding windows of one text where (checked with the band keys) only neighbours share a
    band: a path graph; its survivor (the newest copy) sits at one end."""
    spec = SignatureSpec()
    for seed in range(100, 200):
        rng = random.Random(seed)
        text = ja_text(rng, 1500 + 110 * length)
        texts = [text[110 * k: 110 * k + 1500] for k in range(length)]
        keys = band_keys(signatures(texts, spec), spec)
        share = [[bool((keys[a] == keys[b]).any()) for b in range(length)] for a in range(length)]
        if all(share[k][k + 1] for k in range(length - 1)) and not any(
                share[a][b] for a in range(length) for b in range(a + 2, length)):
            return [mk(NEWER if k == 0 else OLD, 500 + k, t) for k, t in enumerate(texts)]
    raise AssertionError("no path-shaped chain found")


def test_long_chain_is_one_cluster_whatever_the_rounds(tmp_path):
    """A path of 9 documents whose ends share nothing: one cluster, one survivor (the newest),
    with 8 rounds (labels settle in round 4; rounds 5 … 8 have nothing to do) and with 1 or 2
    rounds (the exact finish joins the rest)."""
    docs = long_chain()
    res = run_dedup(docs, tmp_path / "ok", max_rounds=8)
    assert res["kept"] == {_key(docs[0]): (len(docs), res["kept"][_key(docs[0])][1])}
    rounds = {k[3]: v[0] for k, v in res["details"].items() if k[2] == "rounds"}
    assert sorted(rounds) == ["round_01", "round_02", "round_03", "round_04"], rounds  # settled in round 4
    assert not any(k[2] == "exact_finish" for k in res["details"])
    for max_rounds in (1, 2):
        short = run_dedup(docs, tmp_path / f"short{max_rounds}", max_rounds=max_rounds)
        assert short["kept"] == res["kept"] and short["stats"] == res["stats"]
        got = {k[3]: v[0] for k, v in short["details"].items() if k[2] == "rounds"}
        assert got == {r: n for r, n in rounds.items() if int(r[-2:]) <= max_rounds}  # the same rounds, then …
        finish = sum(v[0] for k, v in short["details"].items() if k[2] == "exact_finish")
        assert 0 < finish < len(docs)  # … the labels still wrong, set at once
        check_accounting(short, docs)


@pytest.mark.slow
def test_hot_band_key_shared_by_thousands_of_documents(tmp_path):
    rng = random.Random(12)
    boiler = ja_text(rng, 800)
    docs = []
    # 2,500 pages: the same boilerplate plus a short unique tail → they share many bands
    for i in range(2500):
        snap = [OLD, NEW][i % 2]
        docs.append(mk(snap, i, boiler + ja_text(rng, 12)))
    for i in range(2500, 2600):
        docs.append(mk(OLD, i, ja_text(rng, 800)))
    res = run_dedup(docs, tmp_path, group_cap=16, hot_salts=8)
    kept, sizes = expected_survivors(docs, SignatureSpec(), KeepPolicy())
    assert set(res["kept"]) == kept
    assert len(kept) < 150
    hot = sum(v[0] for k, v in res["details"].items() if k[2] == "band_groups" and k[3] == "hot")
    assert hot > 0, "the hot path was not exercised"
    for key, (size, _) in res["kept"].items():
        assert size == sizes[key]
    # the survivor of the boilerplate cluster is from the newest snapshot
    big = max(res["kept"].items(), key=lambda kv: kv[1][0])
    assert big[0].startswith(NEW) and big[1][0] >= 2400
    check_accounting(res, docs)


def test_quality_tie_break(tmp_path):
    rng = random.Random(13)
    base = ja_text(rng, 1000)
    docs = [mk(NEW, 1, base, quality=0.2), mk(NEW, 2, base, quality=0.9), mk(NEW, 3, base, quality=0.5),
            mk(OLD, 4, base, quality=1.0)]
    res = run_dedup(docs, tmp_path, tie_break="quality")
    assert set(res["kept"]) == {_key(docs[1])}
    assert res["kept"][_key(docs[1])][0] == 4


def test_same_document_twice_keeps_one(tmp_path):
    text = ja_text(random.Random(14), 600)
    d = mk(NEW, 1, text)
    res = run_dedup([d, mk(NEW, 1, text)], tmp_path)
    assert len(res["kept"]) == 1
    assert res["stats"][(NEW, "dedup", "dropped", "near_duplicate")][0] == 1


def test_empty_input(tmp_path):
    res = run_dedup([], tmp_path / "run", write_index=str(tmp_path / "index"), index_shards=2)
    assert res["kept"] == {} and res["stats"] == {}
    # an empty index is still an index: its spec can be checked and runs can go against it
    assert read_index_spec(str(tmp_path / "index")) == SignatureSpec()
    assert len(list((tmp_path / "index").glob("*.parquet"))) == 2


# -- incremental mode ----------------------------------------------------------------------------
def test_incremental_index_round_trip(tmp_path):
    rng = random.Random(15)
    first = [mk(OLD, i, ja_text(rng, 900)) for i in range(30)]
    first.append(mk(OLD, 99, first[0].text))  # a duplicate inside the first run
    index = tmp_path / "index"
    r1 = run_dedup(first, tmp_path / "r1", write_index=str(index), index_tag="run1", index_shards=4)
    assert len(r1["kept"]) == 30
    files = sorted(index.glob("*.parquet"))
    assert files and all(f.name.startswith("part-run1-") for f in files)
    assert read_index_spec(str(index)) == SignatureSpec()
    import pyarrow.parquet as pq

    table = pq.read_table(index)
    assert table.num_rows == 30 * 40
    assert b"jawebcorpus.dedup.spec" in pq.read_schema(files[0]).metadata

    # a new (newer!) snapshot: copies of published documents go, even though newer
    second = [mk(NEW, 100 + i, edit(rng, first[i].text, 0.005)) for i in range(5)]
    second += [mk(NEW, 200 + i, ja_text(rng, 900)) for i in range(10)]
    second.append(mk(NEW, 300, second[-1].text))  # a duplicate among the new documents
    index2 = tmp_path / "index2"
    r2 = run_dedup(second, tmp_path / "r2", against_index=str(index), write_index=str(index2), index_tag="run2")
    assert all(_key(d) not in r2["kept"] for d in second[:5])
    assert r2["stats"][(NEW, "dedup", "dropped", "indexed_duplicate")][0] == 5
    assert r2["stats"][(NEW, "dedup", "dropped", "near_duplicate")][0] == 1
    assert len(r2["kept"]) == 10
    assert r2["details"][(NEW, "dedup", "kept_copy_in", f"published:{OLD}")][0] == 5
    check_accounting(r2, second)
    # the extended index holds the old survivors and the new ones
    assert pq.read_table(index2).num_rows == (30 + 10) * 40

    # a third run against the extended index: the second run's survivors are published too
    third = [mk(NEWER, 400, second[6].text), mk(NEWER, 401, first[10].text), mk(NEWER, 402, ja_text(rng, 900))]
    r3 = run_dedup(third, tmp_path / "r3", against_index=str(index2))
    assert set(r3["kept"]) == {_key(third[2])}


def test_index_with_another_spec_is_refused(tmp_path):
    rng = random.Random(16)
    index = tmp_path / "index"
    run_dedup([mk(OLD, i, ja_text(rng, 500)) for i in range(3)], tmp_path / "r1",
              num_perm=128, bands=16, rows=8, write_index=str(index))
    with pytest.raises(ValueError) as exc:
        Dedup(DedupConfig(), against_index=str(index))
    msg = str(exc.value)
    assert "num_perm: 128 vs 800" in msg and "bands: 16 vs 40" in msg and "rows: 8 vs 20" in msg
    with pytest.raises(ValueError, match="no Parquet files"):
        Dedup(against_index=str(tmp_path / "nowhere"))


# -- runners -------------------------------------------------------------------------------------
@pytest.mark.slow
def test_same_survivors_in_process_and_with_two_worker_processes(corpus, tmp_path):
    a = run_dedup(corpus, tmp_path / "a", group_cap=4, hot_salts=3)
    b = run_dedup(corpus, tmp_path / "b", ("--direct_num_workers=2", "--direct_running_mode=multi_processing"),
                  group_cap=4, hot_salts=3)
    assert a == b
    c = run_dedup(corpus, tmp_path / "c")
    assert a["kept"] == c["kept"]


# -- one local worker: the rounds in one step --------------------------------------------------------------
def hub_corpus(seed: int = 17) -> list[Doc]:
    """Clusters larger than a small cap, chained ones among them: hot band groups, hub parents
    (in-degree over the cap) and labels that travel several rounds."""
    rng = random.Random(seed)
    docs = []
    for c in range(3):
        base = ja_text(rng, 900)
        for i in range(14):
            docs.append(mk([OLD, NEW, NEWER][(c + i) % 3], 1000 * c + i, edit(rng, base, 0.01)))
    docs += long_chain(7)
    docs += [mk(NEW, 5000 + i, ja_text(rng, 700)) for i in range(10)]
    return docs


@pytest.mark.parametrize("case", [
    pytest.param("synthetic", marks=pytest.mark.slow), pytest.param("hubs", marks=pytest.mark.slow),
    "hubs_few_rounds", pytest.param("chain_two_rounds", marks=pytest.mark.slow)])
def test_local_graph_equals_the_distributed_graph(case, corpus, tmp_path):
    """Dedup(one_worker=True) (whole band groups, the rounds in one step) gives exactly the documents,
    cluster sizes and ids, statistics and details of the distributed graph: with hot band
    groups and salted hub parents (a small cap), and when the bound stops it before convergence."""
    docs, kw = {
        "synthetic": (corpus, {}),
        "hubs": (hub_corpus(), {"group_cap": 4, "hot_salts": 3}),
        "hubs_few_rounds": (hub_corpus(), {"group_cap": 4, "hot_salts": 3, "max_rounds": 1}),
        "chain_two_rounds": (long_chain(), {"max_rounds": 2}),
    }[case]
    dist = run_dedup(docs, tmp_path / "dist", **kw)
    local = run_dedup(docs, tmp_path / "local", one_worker=True, **kw)
    assert local == dist
    if case.startswith("hubs"):
        assert any(k[2] == "band_groups" and k[3] == "hot" for k in dist["details"]), "no hot group"
    if case in ("hubs_few_rounds", "chain_two_rounds"):
        assert any(k[2] == "exact_finish" for k in dist["details"])  # the finish did the rest
        kept, _sizes = expected_survivors(docs, SignatureSpec(), KeepPolicy())
        assert set(dist["kept"]) == kept


@pytest.mark.slow
def test_local_graph_equals_the_distributed_graph_against_an_index(tmp_path):
    rng = random.Random(18)
    first = [mk(OLD, i, ja_text(rng, 900)) for i in range(12)]
    index = tmp_path / "index"
    run_dedup(first, tmp_path / "r1", write_index=str(index), index_tag="one", index_shards=2)
    second = [mk(NEW, 100 + i, edit(rng, first[i].text, 0.005)) for i in range(4)]
    second += [mk(NEW, 200 + i, ja_text(rng, 900)) for i in range(5)] + [mk(NEW, 300, first[0].text)]
    kw = {"against_index": str(index), "group_cap": 2, "hot_salts": 2}
    dist = run_dedup(second, tmp_path / "dist", write_index=str(tmp_path / "i-dist"), index_tag="t", **kw)
    local = run_dedup(second, tmp_path / "local", write_index=str(tmp_path / "i-local"), index_tag="t",
                      one_worker=True, **kw)
    assert local == dist
    import pyarrow.parquet as pq

    rows = [sorted(pq.read_table(tmp_path / d).to_pylist(), key=lambda r: (r["band_key"], r["doc_id"]))
            for d in ("i-dist", "i-local")]
    assert rows[0] == rows[1] and rows[0]
