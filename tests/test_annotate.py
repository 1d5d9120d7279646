"""``jawebcorpus annotate`` (issue 19.3) against a chat-completions server on loopback
(tests/_chat_server.py) and the output of a real run of the bundled sample: sampling, the
label file, hostile answers, retries, timeouts, a server that dies, JSON mode, the key."""

from __future__ import annotations

import email.utils
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _chat_server import ChatServer, Reply, completion, document_of, expected_score, graded  # noqa: E402

from jawebcorpus.pipelines.annotate_client import retry_after_seconds  # noqa: E402
from jawebcorpus.pipelines.annotate_prompt import load_prompt, parse_reply  # noqa: E402
from jawebcorpus.pipelines.annotate_sample import allocate, cut_text, open_run, select  # noqa: E402
from jawebcorpus.pipelines.cli import main  # noqa: E402

KEY = "sk-test-" + hashlib.sha256(b"annotate leak check").hexdigest()[:32]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("annotate") / "run"
    assert main(["run", "--sample", "--quiet", "--output", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def run_docs(sample_run) -> dict:
    """doc text → the run's row."""
    rows = ds.dataset(sample_run / "data", format="parquet", partitioning="hive").to_table().to_pylist()
    assert len(rows) == 15
    return {r["text"]: r for r in rows}


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def annotate(run: Path, server_url: str, output: Path, *extra: str) -> int:
    return main(["annotate", "--run", str(run), "--endpoint", server_url, "--model", "test-model",
                 "--output", str(output), *extra])


def lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- the answer parser, Retry-After, the cut ----------------------------------------------------
@pytest.mark.parametrize("content, score, how", [
    ('{"score": 2, "reason": "説明がある"}', 2, "json"),
    ('```json\n{"score": 3, "reason": "教材"}\n```', 3, "json"),
    ('{"score": 0}', 0, "json"),
    ('{"score": "1"}', 1, "json"),
    ('{"score": 2.0}', 2, "json"),
    ('この文章は手順を説明している。\n{"score": 1, "reason": "浅い"}', 1, "json"),
    ("<think>考える</think>\n{\"score\": 3}", 3, "json"),
    ("説明は丁寧で正確です。\n評価: 2", 2, "final_line"),
    ("理由: 日記である。\n評価：１", 1, "final_line"),
    ("Reasoning ...\nscore: 3", 3, "final_line"),
    ("**Score**: 0", 0, "final_line"),
    ("reason\nスコア = 2点", 2, "final_line"),
])
def test_usable_answers(content, score, how):
    v = parse_reply(content)
    assert (v.score, v.parsed_from, v.problem) == (score, how, None)


@pytest.mark.parametrize("content", [
    '{"score": 7}', '{"score": "3.5"}', '{"score": 3.5}', '{"score": -1}', '{"score": true}', '{"score": null}',
    '{"score": [2]}', '{"reason": "no score"}', '[2]', "2", "教育的価値は高いと思います。", "評価: 5", "評価: 2.5",
    "score: 3\nthat is my answer", '{"score": 1} {"score": 3}', "", "   ", "<think>unfinished",
    "Score: 2 or 3",
])
def test_unusable_answers_are_never_guessed(content):
    v = parse_reply(content)
    assert v.score is None and v.problem


def test_retry_after_seconds_and_http_date():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("-5") is None
    now = time.time()
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert 28 <= retry_after_seconds(date, now=now) <= 30
    assert retry_after_seconds(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert retry_after_seconds("9" * 40) == 10 ** 7  # bounded


def test_texts_are_cut_after_a_sentence():
    text = "一文目です。" * 10 + "「二文目。」" + "あ" * 100
    cut, was = cut_text(text, 80)
    assert was and cut.endswith("。」") and len(cut) <= 80 and text.startswith(cut)
    assert cut_text("短い。", 80) == ("短い。", False)
    hard, was = cut_text("あ" * 200, 80)  # no sentence end: a hard cut
    assert was and hard == "あ" * 80


def test_the_package_prompt_is_versioned_and_japanese():
    p = load_prompt("edu-ja")
    assert p.name == "edu-ja-v1" and load_prompt("edu-ja-v1") == p
    raw = (Path(__file__).resolve().parents[1] / "pipelines" / "prompts" / "edu-ja-v1.txt").read_bytes()
    assert p.sha256 == hashlib.sha256(raw).hexdigest()
    assert "0から3" in p.template and '"score"' in p.template and p.template.count("{{TEXT}}") == 1
    assert p.render("本文X{{TEXT}}") .count("本文X{{TEXT}}") == 1


# -- sampling -------------------------------------------------------------------------------------
def _synthetic_run(root: Path, order: int = 0) -> list:
    """A run-shaped folder: 3 snapshots of 300/600/900 documents; in each, one host holds half
    the documents.  ``order`` changes how they are split into files and ordered, not what they are."""
    docs = []
    for s, n in (("CC-MAIN-2024-10", 300), ("CC-MAIN-2024-18", 600), ("CC-MAIN-2024-22", 900)):
        for i in range(n):
            host = "big.example.jp" if i % 2 == 0 else f"h{i // 2 % 211}.example.jp"
            docs.append({"snapshot": s, "text": f"{s} 文書 {i}。", "url": f"https://{host}/{i}", "host": host,
                         "warc_file": f"crawl-data/{s}/w-{i % 5}.warc.gz", "warc_offset": i * 1000,
                         "warc_record_id": f"<urn:uuid:{s}-{i}>", "num_chars": 10 + i % 50})
    for s in {d["snapshot"] for d in docs}:
        mine = [d for d in docs if d["snapshot"] == s]
        if order:
            mine = mine[::-1]
        folder = root / "data" / f"snapshot={s}"
        folder.mkdir(parents=True)
        parts = 2 + order * 3
        for k in range(parts):
            rows = [{k2: v for k2, v in d.items() if k2 != "snapshot"} for d in mine[k::parts]]
            pq.write_table(pa.Table.from_pylist(rows), folder / f"part-{k}.parquet")
    return docs


def _reference(docs, n, seed, cap_of) -> set:
    """The documented definition, directly: per snapshot its proportional share of the documents
    with the smallest keyed BLAKE2b hashes, at most ``cap`` per host (a host's smallest)."""
    counts = {}
    for d in docs:
        counts[d["snapshot"]] = counts.get(d["snapshot"], 0) + 1
    quotas = allocate(counts, n)
    out = set()
    for s, q in quotas.items():
        ranked = sorted(docs_of for docs_of in (
            (int.from_bytes(hashlib.blake2b(f"{d['warc_file']}\n{d['warc_offset']}\n{d['warc_record_id']}".encode(),
                                            digest_size=8, key=seed.to_bytes(8, "big")).digest(), "big"),
             d["warc_file"], d["warc_offset"], d["warc_record_id"], d["host"]) for d in docs if d["snapshot"] == s))
        per_host, taken = {}, 0
        for key, wf, off, rid, host in ranked:
            if taken == q:
                break
            if per_host.get(host, 0) < cap_of(q):
                per_host[host] = per_host.get(host, 0) + 1
                out.add((wf, off, rid))
                taken += 1
    return out


def _picked(selection) -> set:
    return {c.rank[1:] for c in selection.chosen}


def test_sampling_is_proportional_capped_per_host_and_reproducible(tmp_path):
    docs = _synthetic_run(tmp_path / "a")
    _synthetic_run(tmp_path / "b", order=1)  # the same documents, other files, other order
    run_a, run_b = open_run(str(tmp_path / "a"), None), open_run(str(tmp_path / "b"), None)
    sel = select(run_a, 300, seed=7)
    assert sel.quotas == {"CC-MAIN-2024-10": 50, "CC-MAIN-2024-18": 100, "CC-MAIN-2024-22": 150}
    assert sel.taken() == sel.quotas and sel.per_host == {"CC-MAIN-2024-10": 1, "CC-MAIN-2024-18": 1,
                                                          "CC-MAIN-2024-22": 2}
    hosts = {}
    for c in sel.chosen:
        hosts[(c.snapshot, c.host)] = hosts.get((c.snapshot, c.host), 0) + 1
    assert max(v for (s, h), v in hosts.items()) <= 2
    assert hosts[("CC-MAIN-2024-10", "big.example.jp")] == 1  # half the snapshot, one document
    assert _picked(sel) == _reference(docs, 300, 7, lambda q: max(1, -(-q // 100)))
    assert _picked(select(run_b, 300, seed=7)) == _picked(sel)          # file order does not matter
    assert _picked(select(run_a, 300, seed=8)) != _picked(sel)          # the seed does
    capped = select(run_a, 120, seed=3, per_host=10)
    assert _picked(capped) == _reference(docs, 120, 3, lambda q: 10)
    big = sum(c.host == "big.example.jp" for c in capped.chosen)
    assert 0 < big <= 30


def test_a_tight_cap_leaves_a_shortfall_not_a_bias(tmp_path):
    _synthetic_run(tmp_path)
    sel = select(open_run(str(tmp_path), None), 1500, seed=0, per_host=1)
    # one document per host: each snapshot gives what its hosts allow (212 hosts at most)
    assert sel.taken() == {"CC-MAIN-2024-10": 151, "CC-MAIN-2024-18": 212, "CC-MAIN-2024-22": 212}


def test_where_narrows_the_sample(tmp_path):
    _synthetic_run(tmp_path)
    run = open_run(str(tmp_path), "num_chars >= 50")
    sel = select(run, 40, seed=1, per_host=100)
    assert sum(sel.counts.values()) == 1800 // 50 * 10
    rows = ds.dataset(tmp_path / "data", format="parquet", partitioning="hive").to_table().to_pylist()
    chars = {(r["warc_file"], r["warc_offset"], r["warc_record_id"]): r["num_chars"] for r in rows}
    assert len(sel.chosen) == 40 and all(chars[c.rank[1:]] >= 50 for c in sel.chosen)


# -- end to end on a real run -----------------------------------------------------------------
def test_labels_of_a_real_run_are_complete_and_belong_to_their_documents(sample_run, run_docs, tmp_path, capsys):
    out = tmp_path / "labels.jsonl"
    with ChatServer(latency=0.1) as srv:
        t0 = time.monotonic()
        assert annotate(sample_run, srv.url, out, "--sample", "15", "--concurrency", "5") == 0
        took = time.monotonic() - t0
    got = lines(out)
    assert len(got) == 15 and len({g["doc_id"] for g in got}) == 15
    assert srv.max_in_flight > 1 and took < 0.1 * 15  # requests overlapped (one at a time: ≥ 1.5 s)
    prompt = load_prompt("edu-ja")
    for g in got:
        row = run_docs[g["text"]]  # the text is the document's (short enough not to be cut)
        assert (g["snapshot"], g["warc_file"], g["warc_offset"], g["warc_record_id"], g["url"], g["host"]) == (
            row["snapshot"], row["warc_file"], row["warc_offset"], row["warc_record_id"], row["url"], row["host"])
        assert g["status"] == "ok" and g["score"] == expected_score(g["text"]) and isinstance(g["score"], int)
        assert g["reason"] == f"テスト: {g['text'][:10]}" and g["parsed_from"] == "json"
        assert (g["prompt"], g["prompt_sha256"], g["model"]) == ("edu-ja-v1", prompt.sha256, "test-model")
        assert g["text_chars"] == len(g["text"]) == g["doc_chars"] and g["truncated"] is False
        assert g["usage"] == {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions" and "Authorization" not in req["headers"]
    assert req["json"]["model"] == "test-model" and req["json"]["response_format"] == {"type": "json_object"}
    assert req["json"]["temperature"] == 0 and req["json"]["max_tokens"] == 512
    assert prompt.render(document_of(req["json"]["messages"][0]["content"])) == req["json"]["messages"][0]["content"]
    err = capsys.readouterr().err
    assert "sample of 15 from 15 documents" in err and "1,800 tokens" in err and "ETA" in err
    # what a graded training reads: the text field (train-quality's JSONL reader) and the score
    from jawebcorpus.pipelines.train_quality import iter_file_texts

    assert sorted(iter_file_texts(str(out), "text")) == sorted(run_docs)


def test_cut_texts_and_a_stratified_sample_of_the_real_run(sample_run, run_docs, tmp_path):
    out = tmp_path / "labels.jsonl"
    with ChatServer() as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "6", "--max-chars", "300", "--seed", "5",
                        "--quiet") == 0
    got = lines(out)
    assert sorted(g["snapshot"] for g in got) == ["CC-MAIN-2024-10"] * 3 + ["CC-MAIN-2024-18"] * 3
    for g in got:
        full = next(t for t, r in run_docs.items() if r["warc_record_id"] == g["warc_record_id"])
        assert g["truncated"] and g["text"] == cut_text(full, 300)[0] and g["text"][-1] in "。！？!?」"
        assert g["doc_chars"] == len(full) and g["score"] == expected_score(g["text"])
    assert sorted(srv.documents()) == sorted(g["text"] for g in got)


def _hostile(server, req, headers) -> Reply:
    texts = server.state["texts"]
    kind = texts.index(document_of(req["messages"][0]["content"]))
    ok = completion
    return [
        lambda: Reply(body=ok('{"score": 1, "reason": "ok"}')),
        lambda: Reply(body=ok('```json\n{"score": 3}\n```')),
        lambda: Reply(body=ok("丁寧な説明。\n評価：２")),
        lambda: Reply(body=ok("Reasoning.\nscore: 3")),
        lambda: Reply(body=ok('{"score": 7, "reason": "out of range"}')),
        lambda: Reply(body=ok('{"score": "3.5"}')),
        lambda: Reply(body=ok("とても教育的な文章だと思います。")),
        lambda: Reply(body=b'{"choices": [{"message": {"content": "{\\"score\\": 1}"'),  # invalid JSON
        lambda: Reply(body=b'\xff\xfe{"choices": []}'),                                     # not UTF-8
        lambda: Reply(body=b'{"id": "x", "usage": {"total_tokens": 3}}'),                 # no choices
        lambda: Reply(body=ok(None)),                                                      # content null
        lambda: Reply(body=b" " * (2 << 20)),                                              # too large
        lambda: Reply(body=b"[" * (2 << 20), no_length=True),                              # too large, streamed
        lambda: Reply(body=ok('{"score": true}')),
        lambda: Reply(body=ok('{"score": 1} と {"score": 2}')),
    ][kind]()


def test_hostile_answers_cost_one_item_each(sample_run, run_docs, tmp_path):
    out = tmp_path / "labels.jsonl"
    srv = ChatServer(_hostile)
    srv.state["texts"] = sorted(run_docs)
    with srv:
        assert annotate(sample_run, srv.url, out, "--sample", "15", "--concurrency", "4", "--quiet") == 0
    by_kind = {srv.state["texts"].index(g["text"]): g for g in lines(out)}
    assert len(by_kind) == 15
    expect = ["ok", "ok", "ok", "ok", "unusable", "unusable", "unusable", "bad_response", "bad_response",
              "bad_response", "bad_response", "bad_response", "bad_response", "unusable", "unusable"]
    assert [by_kind[k]["status"] for k in range(15)] == expect
    assert [by_kind[k]["score"] for k in range(4)] == [1, 3, 2, 3]
    assert [by_kind[k]["parsed_from"] for k in range(4)] == ["json", "json", "final_line", "final_line"]
    assert all(by_kind[k]["score"] is None and by_kind[k]["error"] for k in range(4, 15))
    assert "outside 0–3" in by_kind[4]["error"] and "larger than 1,048,576 bytes" in by_kind[11]["error"]
    assert by_kind[8]["error"] == "the response is not UTF-8" and by_kind[7]["error"] == "the response is not JSON"
    assert by_kind[4]["reply"] == '{"score": 7, "reason": "out of range"}'


def test_429_and_503_are_retried_honouring_retry_after(sample_run, tmp_path):
    def behave(server, req, headers):
        text = document_of(req["messages"][0]["content"])
        with server.lock:
            n = server.state.setdefault(text, 0)
            server.state[text] = n + 1
        if n == 0:
            if expected_score(text) % 2:
                return Reply(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "1"})
            return Reply(429, b"{}", {"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)})
        if n == 1:
            return Reply(503, b"busy")
        return graded(server, req, headers)

    out = tmp_path / "labels.jsonl"
    with ChatServer(behave) as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "4", "--concurrency", "2", "--backoff", "0.05",
                        "--quiet") == 0
    got = lines(out)
    assert [g["status"] for g in got] == ["ok"] * 4 and all(g["attempts"] == 3 for g in got)
    for g in got:
        times = [r["time"] for r in srv.requests if document_of(r["json"]["messages"][0]["content"]) == g["text"]]
        assert len(times) == 3
        assert times[1] - times[0] >= 0.95  # Retry-After: 1 s at least (the date form: 1–2 s)


def test_retries_give_up_with_the_last_error(sample_run, tmp_path):
    out = tmp_path / "labels.jsonl"
    with ChatServer(lambda s, r, h: Reply(500, b'{"error": {"message": "model crashed"}}')) as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "2", "--retries", "2", "--backoff", "0.01",
                        "--quiet") == 0
    got = lines(out)
    assert len(srv.requests) == 6 and all(g["status"] == "failed" and g["attempts"] == 3 for g in got)
    assert all(g["error"] == "HTTP 500: model crashed (after 3 attempts)" and g["http_status"] == 500 for g in got)


def test_slow_and_trickling_servers_time_out(sample_run, tmp_path):
    def behave(server, req, headers):
        with server.lock:
            server.state["n"] = server.state.get("n", 0) + 1
            n = server.state["n"]
        if n == 1:
            return Reply(body=completion('{"score": 1}'), delay=5)
        if n == 2:
            return Reply(body=completion('{"score": 1}'), trickle=0.05)  # ≈ 10 s for the body
        return graded(server, req, headers)

    out = tmp_path / "labels.jsonl"
    with ChatServer(behave) as srv:
        t0 = time.monotonic()
        assert annotate(sample_run, srv.url, out, "--sample", "4", "--concurrency", "2", "--timeout", "0.5",
                        "--retries", "0", "--quiet") == 0
        took = time.monotonic() - t0
    got = lines(out)
    timed_out = [g for g in got if g["status"] == "failed"]
    assert len(timed_out) == 2 and all("no complete answer within 0.5 s" in g["error"] for g in timed_out)
    assert sum(g["status"] == "ok" for g in got) == 2 and took < 3


def test_a_server_that_dies_mid_run_then_the_rerun_completes(sample_run, tmp_path, capsys):
    def dies(server, req, headers):
        with server.lock:
            server.state["n"] = server.state.get("n", 0) + 1
            if server.state["n"] > 6:
                server.kill()
                return Reply(drop=True)
        return graded(server, req, headers)

    out = tmp_path / "labels.jsonl"
    args = ["--sample", "15", "--concurrency", "2", "--retries", "1", "--backoff", "0.01", "--stop-after-failures", "3"]
    srv = ChatServer(dies).start()
    try:
        assert annotate(sample_run, srv.url, out, *args) == 1
    finally:
        srv.stop()
    err = capsys.readouterr().err
    assert "stopped: 3 documents in a row got no answer" in err and "rerun the same command" in err
    first = lines(out)
    ok_before = {g["doc_id"] for g in first if g["status"] == "ok"}
    assert 4 <= len(ok_before) <= 6 and len(first) < 15
    with ChatServer() as again:
        assert annotate(sample_run, again.url, out, *args) == 0
    final = lines(out)
    ok = [g for g in final if g["status"] == "ok"]
    assert len(ok) == 15 and len({g["doc_id"] for g in ok}) == 15
    assert len(again.requests) == 15 - len(ok_before)  # only what had no usable answer
    assert not {g["doc_id"] for g in lines(out)[len(first):]} & ok_before
    with ChatServer() as third:  # nothing left to ask
        assert annotate(sample_run, third.url, out, *args) == 0
    assert third.requests == [] and len(lines(out)) == len(final)


def test_json_mode_is_dropped_when_the_server_refuses_it(sample_run, tmp_path, capsys):
    def no_json_mode(server, req, headers):
        if "response_format" in req:
            return Reply(400, b'{"error": {"message": "response_format is not supported"}}')
        return Reply(body=completion("説明。\n評価: 3"))

    out = tmp_path / "labels.jsonl"
    with ChatServer(no_json_mode) as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "8", "--concurrency", "2") == 0
    got = lines(out)
    assert [(g["status"], g["score"], g["json_mode"]) for g in got] == [("ok", 3, False)] * 8
    with_format = sum("response_format" in r["json"] for r in srv.requests)
    assert 1 <= with_format <= 2 and len(srv.requests) == 8 + with_format
    assert capsys.readouterr().err.count("refused response_format") == 1
    with ChatServer(no_json_mode) as srv:  # --json-mode off never sends it
        assert annotate(sample_run, srv.url, tmp_path / "off.jsonl", "--sample", "3", "--json-mode", "off",
                        "--quiet") == 0
    assert not any("response_format" in r["json"] for r in srv.requests) and len(srv.requests) == 3


def test_the_api_key_is_sent_and_never_written(sample_run, tmp_path, monkeypatch, capfd):
    def echo(server, req, headers):
        auth = headers.get("Authorization", "")
        with server.lock:
            server.state["n"] = server.state.get("n", 0) + 1
            n = server.state["n"]
        if n % 3 == 1:
            return Reply(500, json.dumps({"error": {"message": f"bad header {auth}"}}).encode())
        if n % 3 == 2:
            return Reply(body=completion(json.dumps({"score": 2, "reason": f"echo {auth}"})))
        return Reply(body=completion(f"{auth} is your key\nscore: 9"))

    monkeypatch.setenv("MY_LLM_KEY", KEY)
    out = tmp_path / "labels.jsonl"
    with ChatServer(echo) as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "6", "--api-key-env", "MY_LLM_KEY",
                        "--backoff", "0.01", "--retries", "1") == 0
    assert {r["headers"]["Authorization"] for r in srv.requests} == {f"Bearer {KEY}"}
    deny = lambda s, r, h: Reply(401, json.dumps({"error": {"message": f"no {h.get('Authorization')}"}}).encode())
    with ChatServer(deny) as srv:  # a refused key stops the run; its message echoes the header
        assert annotate(sample_run, srv.url, tmp_path / "denied.jsonl", "--sample", "3",
                        "--api-key-env", "MY_LLM_KEY") == 1
    monkeypatch.setenv("BROKEN_KEY", KEY + "\n")
    assert annotate(sample_run, "http://127.0.0.1:9/v1", tmp_path / "x.jsonl", "--sample", "1",
                    "--api-key-env", "BROKEN_KEY") == 2
    captured = capfd.readouterr()
    text = out.read_text(encoding="utf-8")
    assert "[api key]" in text and text.count('"status":"ok"') >= 1
    assert "the server refused the credentials (HTTP 401: no Bearer [api key])" in captured.err
    for where in (text, captured.out, captured.err, (tmp_path / "denied.jsonl").read_text(encoding="utf-8")):
        assert KEY not in where and KEY[8:] not in where


@pytest.mark.parametrize("args, says", [
    (["--endpoint", "ftp://127.0.0.1/v1"], "http:// or https://"),
    (["--endpoint", "http://user:pw@127.0.0.1/v1"], "credentials"),
    (["--endpoint", "http:///v1"], "no host"),
    (["--endpoint", "http://127.0.0.1:99999/v1"], "port"),
    (["--sample", "0"], "--sample must be"),
    (["--sample", "2000000"], "--sample must be"),
    (["--concurrency", "0"], "--concurrency must be"),
    (["--concurrency", "1000"], "--concurrency must be"),
    (["--timeout", "inf"], "--timeout must be"),
    (["--timeout", "nan"], "--timeout must be"),
    (["--timeout", "0"], "--timeout must be"),
    (["--retries", "-1"], "--retries must be"),
    (["--max-wait", "-1"], "--max-wait must be"),
    (["--max-chars", "10"], "--max-chars must be"),
    (["--max-response-bytes", "10"], "--max-response-bytes must be"),
    (["--temperature", "5"], "--temperature must be"),
    (["--per-host", "0"], "--per-host must be"),
    (["--prompt", "no-such-prompt"], "no such prompt"),
    (["--prompt", "{bad}"], "placeholder {{TEXT}} exactly once"),
    (["--prompt", "{twice}"], "not 2 times"),
    (["--where", "no_such_column > 1"], "unknown column"),
    (["--where", "num_chars >"], "--where"),
    (["--where", "url > 3"], "does not fit"),
    (["--where", "num_chars > 1000000"], "no document of"),
    (["--model", ""], "--model"),
    (["--api-key-env", "NOT-A-NAME"], "--api-key-env"),
    (["--api-key-env", "SURELY_UNSET_ANNOTATE_KEY"], "not set"),
    (["--output", "{dir}"], "is a folder"),
    (["--output", "{missing}/labels.jsonl"], "does not exist"),
    (["--run", "{missing}"], "no data/ folder"),
    (["--model", "m\udcff"], "not UTF-8"),
    (["--endpoint", "http://127.0.0.1/v1\udcff"], "not UTF-8"),
    (["--seed", "-1"], "--seed must be"),
])
def test_bad_options_are_refused_before_any_request(sample_run, tmp_path, capsys, args, says):
    (tmp_path / "bad.txt").write_text("評価してください。", encoding="utf-8")
    (tmp_path / "twice.txt").write_text("{{TEXT}} と {{TEXT}}", encoding="utf-8")
    (tmp_path / "dir").mkdir()
    subst = {"{bad}": str(tmp_path / "bad.txt"), "{twice}": str(tmp_path / "twice.txt"), "{dir}": str(tmp_path / "dir")}
    args = [subst.get(a, a).replace("{missing}", str(tmp_path / "missing")) for a in args]
    out = tmp_path / "labels.jsonl"
    with ChatServer() as srv:
        base = {"--run": str(sample_run), "--endpoint": srv.url, "--model": "m", "--output": str(out), "--sample": "3"}
        for k in args[::2]:
            base.pop(k, None)
        argv = ["annotate", *[x for kv in base.items() for x in kv], *args]
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert says in err and err.strip().count("\n") == 0 and err.startswith("jawebcorpus: error: ")
    assert srv.requests == [] and not out.exists()


def test_resume_cuts_a_torn_line_and_refuses_other_labels(sample_run, tmp_path, capsys):
    out = tmp_path / "labels.jsonl"
    with ChatServer() as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "5", "--quiet") == 0
    with open(out, "ab") as fh:
        fh.write('{"format":1,"doc_id":"abc","text":"途中'.encode())  # killed mid-write
    with ChatServer() as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "9") == 0
    assert "cut off a torn last line" in capsys.readouterr().err
    got = lines(out)  # every line parses
    assert len(got) == 9 and len({g["doc_id"] for g in got}) == 9 and len(srv.requests) == 4
    before = out.read_bytes()
    with ChatServer() as srv:  # another model into the same file: refused, nothing asked or written
        assert main(["annotate", "--run", str(sample_run), "--endpoint", srv.url, "--model", "other-model",
                     "--output", str(out), "--sample", "15"]) == 2
        prompt = tmp_path / "mine.txt"
        prompt.write_text("採点して: {{TEXT}}", encoding="utf-8")
        assert annotate(sample_run, srv.url, out, "--sample", "15", "--prompt", str(prompt)) == 2
    assert srv.requests == [] and out.read_bytes() == before
    assert "never mixed in one file" in capsys.readouterr().err
    foreign = tmp_path / "foreign.jsonl"
    foreign.write_text('{"text": "x", "label": 1}\n', encoding="utf-8")
    assert annotate(sample_run, "http://127.0.0.1:9/v1", foreign, "--sample", "1") == 2
    with open(out, "ab") as fh:  # a run still writing the file holds its lock
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        assert annotate(sample_run, "http://127.0.0.1:9/v1", out, "--sample", "15") == 2
    assert "being written by another" in capsys.readouterr().err


def test_a_user_prompt_file_is_named_and_hashed(sample_run, tmp_path):
    prompt = tmp_path / "my-edu.txt"
    prompt.write_bytes("次の文章を0〜3で評価し、最後の行に「評価: N」と書いてください。\n\n{{TEXT}}\n".encode())
    out = tmp_path / "labels.jsonl"
    with ChatServer(lambda s, r, h: Reply(body=completion("評価: 1"))) as srv:
        assert annotate(sample_run, srv.url, out, "--sample", "2", "--prompt", str(prompt), "--quiet") == 0
    got = lines(out)
    assert {(g["prompt"], g["prompt_sha256"], g["score"]) for g in got} == {
        ("file:my-edu.txt", hashlib.sha256(prompt.read_bytes()).hexdigest(), 1)}
    sent = srv.requests[0]["json"]["messages"][0]["content"]
    assert sent.startswith("次の文章を0〜3で評価し") and sent.endswith("\n") and got[0]["text"] in sent


def test_the_command_does_not_start_beam_and_dry_run_sends_nothing(sample_run, tmp_path):
    code = ("import sys; from jawebcorpus.pipelines.cli import main; "
            f"rc = main(['annotate', '--run', {str(sample_run)!r}, '--endpoint', sys.argv[1], '--model', 'm', "
            f"'--output', {str(tmp_path / 'l.jsonl')!r}, '--sample', '7', '--dry-run']); "
            "print(rc, 'apache_beam' in sys.modules)")
    with ChatServer() as srv:
        proc = subprocess.run([sys.executable, "-c", code, srv.url], capture_output=True, text=True, timeout=120,
                              env={**os.environ, "OPENAI_API_KEY": ""})
    assert proc.stdout.split() == ["0", "False"], proc.stderr
    assert "dry run: 7 documents would be asked" in proc.stderr and srv.requests == []
    assert not (tmp_path / "l.jsonl").exists()  # a dry run writes nothing


def test_the_docs_state_every_option_range():
    import re

    from jawebcorpus.pipelines.annotate import RANGES

    text = (Path(__file__).resolve().parents[1] / "docs" / "annotate.md").read_text(encoding="utf-8")
    table = text.split("### Option ranges", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(--[a-z-]+)` \| (.+?) \|$", table, re.M))
    assert rows == {"--" + k.replace("_", "-"): r.describe() for k, r in RANGES.items()}


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made in code (cryptography comes with moto)."""
    x509 = pytest.importorskip("cryptography.x509")
    import datetime
    import ipaddress

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "annotate test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_https_is_verified(sample_run, tmp_path, monkeypatch, capsys):
    import ssl

    cert, key = _self_signed(tmp_path)
    srv = ChatServer()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.httpd.socket = ctx.wrap_socket(srv.httpd.socket, server_side=True)
    with srv:
        url = srv.url.replace("http://", "https://")
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-bundle.pem"))  # the CA is not trusted
        assert annotate(sample_run, url, tmp_path / "untrusted.jsonl", "--sample", "3", "--quiet") == 1
        assert "cannot be verified" in capsys.readouterr().err and srv.requests == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert annotate(sample_run, url, tmp_path / "labels.jsonl", "--sample", "3", "--quiet") == 0
    assert [g["status"] for g in lines(tmp_path / "labels.jsonl")] == ["ok"] * 3 and len(srv.requests) == 3
