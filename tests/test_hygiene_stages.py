"""The corpus-hygiene stages wired into the pipeline (issue 20): opt_out, license, decontaminate.

A crawl of the project's own Japanese articles (tests/fixturegen) with opt-out signals in the
HTTP headers and the page, licence links, and benchmark items written for the project embedded
in pages, run through the real Beam pipeline (the CLI), in drop and flag modes; the
``swallow-v1`` preset runs none of these stages."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from fixturegen.benchitems import items as bench_items
from fixturegen.pages import article_html
from fixturegen.texts import JA_ARTICLES
from fixturegen.warcs import capture, gz, http_response, warcinfo
from jawebcorpus import registry
from jawebcorpus.corpus.http import parse_response
from jawebcorpus.corpus.stats import check_accounting
from jawebcorpus.pipelines.cli import main
from jawebcorpus.report import build_report, load_run

SNAP = "CC-MAIN-2031-05"
POLICY = "https://www.minato-shinbun.example.jp/tdm-policy.json"
ITEM = next(i for i in bench_items() if i["benchmark"] == "JSQuAD-like")


def _page(name: str, head: str = "", extra: list[str] = (), link: str = "") -> bytes:
    title, paras = JA_ARTICLES[name]
    html = article_html(title, paras, declare="UTF-8", declared_as="meta", lang="ja", extra=list(extra))
    html = html.replace("</head>", head + "\n</head>").replace("</article>", link + "\n</article>")
    return html.encode("utf-8")


#: (key, article, extra response headers, <head> addition, extra lines, licence link, expected)
PAGES = [
    ("plain", "library", [], "", [], "", "kept"),
    ("xrobots-agent", "cycling", [("X-Robots-Tag", "noindex"), ("X-Robots-Tag", "otherbot: nofollow, noai")],
     "", [], "", "x-robots-tag:noai"),
    ("tdm-meta", "miso", [], f'<meta name="tdm-reservation" content="1"><meta name="tdm-policy" content="{POLICY}">',
     [], "", "meta-tdm-reservation"),
    ("tdm-header", "stars", [("TDM-Reservation", "1"), ("tdm-policy", POLICY)], "", [], "", "tdm-reservation"),
    ("robots-meta", "sento", [], '<meta name="robots" content="noai, noimageai">', [], "", "meta-robots:noai"),
    # look-alikes: not opt-outs
    ("lookalike", "pottery", [("X-Robots-Tag", "noindex, nofollow"), ("tdm-reservation", "0")],
     '<meta name="robots" content="noimageai"><meta name="description" content="noai についての記事">', [], "", "kept"),
    ("header-1-meta-0", "tram", [("tdm-reservation", "1")], '<meta name="tdm-reservation" content="0">', [], "", "kept"),
    ("licensed", "winter", [], "", [], '<p>この記事は<a rel="license" href="http://creativecommons.org/licenses/by-sa/4.0/deed.ja">'
     "CC BY-SA 4.0</a>で提供されています。</p>", "kept"),
    ("contaminated", "library", [], "", ITEM["text"].split("\n"), "", "contaminated"),
]


def build(root: Path) -> Path:
    name = "CC-MAIN-20310101000000-20310101020000-00000.warc.gz"
    members = [gz(warcinfo(SNAP, name, "2031-01-01T00:00:00Z"))]
    for n, (key, art, headers, head, extra, link, _) in enumerate(PAGES):
        body = _page(art, head, extra, link)
        block, payload = http_response(body, content_type="text/html; charset=UTF-8", extra=headers)
        url = f"https://{key}.example.jp/articles/{n}.html"
        members += [gz(r) for r in capture(SNAP, url, f"2031-01-01T00:{n:02d}:00Z", block, payload)]
    path = root / "crawl-data" / SNAP / "segments" / "1" / "warc" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(members))
    return root


@pytest.fixture(scope="module")
def crawl(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("hygiene"))


@pytest.fixture(scope="module")
def items_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("items") / "bench.jsonl"
    p.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in bench_items()), encoding="utf-8")
    return p


def _rows(out: Path, name: str) -> list[dict]:
    return json.loads((out / "stats" / name).read_text())


def _written(out: Path) -> list[dict]:
    return [r for f in sorted((out / "data").rglob("*.parquet")) for r in pq.read_table(f).to_pylist()]


def test_every_occurrence_of_the_signal_headers_is_kept():
    block, _ = http_response(b"<html></html>", extra=[("X-Robots-Tag", "noindex"), ("x-robots-tag", "noai"),
                                                      ("TDM-Policy", POLICY), ("Server", "x")])
    resp = parse_response(block, 1 << 20)
    assert resp.signal_headers == (("x-robots-tag", "noindex"), ("x-robots-tag", "noai"), ("tdm-policy", POLICY))
    assert resp.headers["x-robots-tag"] == "noindex"  # the dict still keeps the first


def test_drop_mode_license_and_decontamination(crawl, items_file, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--input", str(crawl), "--output", str(out), "--set", "dedup.enabled=false",
                 "--decontaminate", str(items_file), "--samples-per-reason", "5"]) == 0
    rows = _rows(out, "stages.json")
    assert check_accounting(rows, registry.STAGE_NAMES) == []
    got = {(r["stage"], r["outcome"], r["reason"]): r["docs"] for r in rows}
    assert got[("opt_out", "dropped", "opt_out")] == 4
    assert got[("opt_out", "kept", "no_opt_out")] == 5
    assert got[("license", "kept", "licensed")] == 1
    assert got[("decontaminate", "dropped", "contaminated")] == 1
    details = _rows(out, "details.json")
    signals = {d["name"]: d["docs"] for d in details if d["stage"] == "opt_out" and d["kind"] == "opt_out_signal"}
    assert signals == {"x-robots-tag:noai": 1, "meta-tdm-reservation": 1, "tdm-reservation": 1, "meta-robots:noai": 1}
    assert {d["snapshot"] for d in details if d["kind"] == "opt_out_signal"} == {SNAP}
    assert [d["docs"] for d in details if d["kind"] == "tdm_policy"] == [2]
    assert {d["name"]: d["docs"] for d in details if d["stage"] == "decontaminate"} == {"JSQuAD-like": 1}
    lic = [d for d in details if d["stage"] == "write" and d["kind"] == "license"]
    assert [(d["name"], d["docs"]) for d in lic] == [("cc-by-sa-4.0", 1)] and lic[0]["chars"] > 100
    written = _written(out)
    urls = {r["url"].split("/")[2].split(".")[0] for r in written}
    assert urls == {"plain", "lookalike", "header-1-meta-0", "licensed"}
    assert {r["url"].split("/")[2].split(".")[0]: r["license"] for r in written}["licensed"] == "cc-by-sa-4.0"
    assert sum(r["license"] is not None for r in written) == 1
    assert "opt_out" not in written[0] and "contamination" not in written[0]  # drop mode: no always-null column
    assert (out / "samples" / "opt_out" / "opt_out.jsonl").exists()
    # the report's section: opt-outs per signal and snapshot, licences written, contamination per benchmark
    h = build_report([load_run(str(out))])["runs"][0]["hygiene"]
    assert h["opt_out"]["opt_out"] == 4 and h["opt_out"]["dropped"] == 4 and h["opt_out"]["action"] == "drop"
    assert {s["signal"]: s["docs"] for s in h["opt_out"]["per_signal"]} == signals
    assert h["opt_out"]["per_snapshot"] == [{"snapshot": SNAP, "pages": 9, "opt_out": 4, "share": 4 / 9}]
    assert [(w["license"], w["docs"]) for w in h["license"]["written"]] == [("cc-by-sa-4.0", 1)]
    assert h["decontaminate"]["per_benchmark"][0]["benchmark"] == "JSQuAD-like" and h["decontaminate"]["dropped"] == 1
    assert main(["report", str(out)]) == 0


def test_flag_modes_keep_them_with_columns(crawl, items_file, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--input", str(crawl), "--output", str(out), "--set", "dedup.enabled=false",
                 "--set", "opt_out.action=flag", "--set", "decontaminate.mode=flag",
                 "--decontaminate", str(items_file)]) == 0
    rows = _rows(out, "stages.json")
    got = {(r["stage"], r["outcome"], r["reason"]): r["docs"] for r in rows}
    assert got[("opt_out", "kept", "opt_out_flagged")] == 4 and ("opt_out", "dropped", "opt_out") not in got
    assert got[("decontaminate", "kept", "contamination_flagged")] == 1
    written = {r["url"].split("/")[2].split(".")[0]: r for r in _written(out)}
    assert len(written) == len(PAGES)
    for key, *_, expect in PAGES:
        r = written[key]
        if expect in ("kept", "contaminated"):
            assert r["opt_out"] is None, key
        else:
            assert r["opt_out"] == expect, key
    assert written["tdm-meta"]["tdm_policy"] == POLICY and written["tdm-header"]["tdm_policy"] == POLICY
    assert written["xrobots-agent"]["tdm_policy"] is None
    found = json.loads(written["contaminated"]["contamination"])
    # the item's passage is half of every question on it: the other questions on it match too
    assert found[0]["id"] == ITEM["id"] and found[0]["coverage"] == 1.0
    assert {f["benchmark"] for f in found} == {"JSQuAD-like"} and all(f["coverage"] >= 0.5 for f in found)
    assert all(r["contamination"] is None for k, r in written.items() if k != "contaminated")


def test_swallow_v1_runs_none_of_them(crawl, items_file, tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--input", str(crawl), "--output", str(out), "--preset", "swallow-v1",
                 "--set", "dedup.enabled=false"]) == 0
    run = json.loads((out / "stats" / "run.json").read_text())
    assert not {"opt_out", "license", "decontaminate"} & set(run["stages"])
    assert not {r["stage"] for r in _rows(out, "stages.json")} & {"opt_out", "license", "decontaminate"}
    assert not [d for d in _rows(out, "details.json") if d["kind"] == "license"]


@pytest.mark.parametrize("content, why", [
    (None, "not found"),
    (b"", "no item"),
    (b"\n\n  \n", "no item"),
    (b"\xff\xfe\x00bad bytes\n", "not UTF-8"),
    (b'{"text": "ok"}\n{"nope": 1}\n', "line 2 has no \"text\""),
    ("短い\nはい\n".encode(), "shorter than decontaminate.n"),
])
def test_a_bad_items_file_is_refused_before_the_run(crawl, tmp_path, capsys, content, why):
    p = tmp_path / "items.jsonl"
    if content is not None:
        p.write_bytes(content)
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--input", str(crawl), "--output", str(out), "--decontaminate", str(p)]) == 2
    err = capsys.readouterr().err.strip()
    assert why in err and len(err.splitlines()) == 1, err
    assert not out.exists() or not any(out.rglob("*.parquet"))


def test_bad_settings_are_refused(crawl, tmp_path, capsys):
    for bad in ("opt_out.action=keep", "decontaminate.mode=mask", "opt_out.enabled=maybe"):
        assert main(["run", "--quiet", "--input", str(crawl), "--output", str(tmp_path / "o"), "--set", bad]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.slow
@pytest.mark.shared
def test_the_shared_crawl_through_the_pipeline(shared_dir, items_file, tmp_path):
    """The real crawl, every hygiene stage on (opt-outs and contamination flagged): no document of
    it holds one of the written benchmark items, and its opt-out pages (the six `noai` pages are
    not Japanese) never reach the stage."""
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--input", str(shared_dir / "crawl"), "--output", str(out),
                 "--set", "opt_out.action=flag", "--set", "decontaminate.mode=flag",
                 "--decontaminate", str(items_file)]) == 0
    rows = _rows(out, "stages.json")
    assert check_accounting(rows, registry.STAGE_NAMES) == []
    got = defaultdict(int)
    for r in rows:
        got[(r["stage"], r["outcome"], r["reason"])] += r["docs"]
    assert got[("decontaminate", "kept", "clean")] >= 50 and got[("decontaminate", "kept", "contamination_flagged")] == 0
    assert got[("opt_out", "kept", "no_opt_out")] >= 100 and got[("opt_out", "kept", "opt_out_flagged")] == 0
    assert all(r["contamination"] is None and r["opt_out"] is None for r in _written(out))


# -- boilerplate lines (after every file, before dedup) ----------------------------------------------
TAGLINE = "みなと町だより・地域のできごとを毎週お届けします。"  # on every page of the host
ON_THREE = "今週の担当は編集部の佐藤です。ご意見をお寄せください。"  # on 3 of 8 pages: stays
BP_SNAP = "CC-MAIN-2031-09"


def build_host(root: Path) -> Path:
    name = "CC-MAIN-20310301000000-20310301020000-00000.warc.gz"
    members = [gz(warcinfo(BP_SNAP, name, "2031-03-01T00:00:00Z"))]
    for n, art in enumerate(JA_ARTICLES):
        title, paras = JA_ARTICLES[art]
        paras = [[TAGLINE]] + paras + ([[ON_THREE]] if n < 3 else [])
        html = article_html(title, paras, declare="UTF-8", declared_as="meta", lang="ja").encode()
        block, payload = http_response(html, content_type="text/html; charset=UTF-8")
        members += [gz(r) for r in capture(BP_SNAP, f"https://machi.example.jp/{art}.html",
                                            f"2031-03-01T00:{n:02d}:00Z", block, payload)]
    path = root / "crawl-data" / BP_SNAP / "segments" / "1" / "warc" / name
    path.parent.mkdir(parents=True)
    path.write_bytes(b"".join(members))
    return root


@pytest.fixture(scope="module")
def host_crawl(tmp_path_factory) -> Path:
    return build_host(tmp_path_factory.mktemp("host"))


def test_boilerplate_lines_are_learned_per_host_and_removed(host_crawl, tmp_path):
    plain, cleaned = tmp_path / "plain", tmp_path / "cleaned"
    assert main(["run", "--quiet", "--input", str(host_crawl), "--output", str(plain)]) == 0
    assert main(["run", "--quiet", "--input", str(host_crawl), "--output", str(cleaned),
                 "--set", "boilerplate.enabled=true", "--samples-per-reason", "2"]) == 0
    before = {r["url"]: r for r in _written(plain)}
    after = {r["url"]: r for r in _written(cleaned)}
    assert len(before) == len(after) == len(JA_ARTICLES)
    for url, r in before.items():
        assert TAGLINE in r["text"]
        # exactly the tagline's line goes; everything else (the line on 3 of 8 pages too) stays
        want = "\n".join(line for line in r["text"].split("\n") if line.strip() != TAGLINE)
        assert after[url]["text"] == want and after[url]["num_chars"] == len(want)
    assert sum(ON_THREE in r["text"] for r in after.values()) == 3
    rows = _rows(cleaned, "stages.json")
    assert check_accounting(rows, registry.STAGE_NAMES) == []
    got = {(r["stage"], r["outcome"], r["reason"]): (r["docs"], r["chars"]) for r in rows}
    removed = sum(len(r["text"]) - len(after[u]["text"]) for u, r in before.items())
    assert got[("boilerplate", "kept", "lines_removed")] == (8, sum(len(r["text"]) for r in after.values()))
    assert got[("dedup", "kept", "unique")][0] == 8
    run = json.loads((cleaned / "stats" / "run.json").read_text())
    assert run["stages"][run["stages"].index("boilerplate") + 1] == "dedup"
    details = [d for d in _rows(cleaned, "details.json") if d["stage"] == "boilerplate"]
    assert [(d["name"], d["docs"]) for d in details] == [(TAGLINE, 8)]
    h = build_report([load_run(str(cleaned))])["runs"][0]["hygiene"]["boilerplate"]
    assert h["chars_removed"] == removed and h["top_lines"][0]["line"] == TAGLINE and h["docs_changed"] == 8


def test_boilerplate_needs_dedup(host_crawl, tmp_path, capsys):
    for extra in (["--set", "dedup.enabled=false"], ["--until", "boilerplate"]):
        assert main(["run", "--quiet", "--input", str(host_crawl), "--output", str(tmp_path / "o"),
                     "--set", "boilerplate.enabled=true", *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert "boilerplate" in err and len(err.splitlines()) == 1, err


def test_the_boilerplate_lines_are_read_per_host_not_held_whole():
    """Each host's frequent lines reach the removal, the final write and the samples as a multimap
    side input: on the portable runners a worker reads one host's lines by key through the state
    API (cached for the bundle), so its memory does not grow with the number of hosts."""
    from collections import defaultdict

    import apache_beam as beam
    from apache_beam.portability import common_urns
    from apache_beam.portability.api import beam_runner_api_pb2
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner
    from apache_beam.testing.util import assert_that, equal_to

    from jawebcorpus.filters.boilerplate import BoilerplateConfig
    from jawebcorpus.pipelines.boilerplate import Boilerplate, host_lines

    # the graph: every side input of the removal step is a multimap
    p = beam.Pipeline()
    _, _, _, side = p | beam.Create([]) | "boilerplate" >> Boilerplate(BoilerplateConfig(enabled=True))
    assert isinstance(side, beam.pvalue.AsMultiMap)
    patterns = []
    for t in p.to_runner_api().components.transforms.values():
        if t.spec.urn == common_urns.primitives.PAR_DO.urn and t.unique_name.startswith("boilerplate/remove/"):
            payload = beam_runner_api_pb2.ParDoPayload.FromString(t.spec.payload)
            patterns += [s.access_pattern.urn for s in payload.side_inputs.values()]
    assert patterns == [common_urns.side_inputs.MULTIMAP.urn]  # AsDict would be an iterable, held whole

    # a real run on the local (portable) runner: a host's lines by key, None for a host without
    lines = frozenset({1, 2})
    with beam.Pipeline(runner=FnApiRunner()) as q:
        kv = q | "lines" >> beam.Create([("a.example.jp", lines), ("b.example.jp", frozenset({3}))])
        got = (q | "hosts" >> beam.Create(["a.example.jp", "c.example.jp"])
               | beam.Map(lambda h, s: (h, host_lines(s, h)), beam.pvalue.AsMultiMap(kv)))
        assert_that(got, equal_to([("a.example.jp", lines), ("c.example.jp", None)]))
    # the same function on a materialised multimap (a dict of lists) inserts nothing
    held = defaultdict(list, {"a.example.jp": [lines]})
    assert host_lines(held, "a.example.jp") == lines and host_lines(held, "c.example.jp") is None
    assert list(held) == ["a.example.jp"] and host_lines(None, "a.example.jp") is None
