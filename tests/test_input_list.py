"""``--input-list FILE`` (issue 17, item 4): the list is read inside the pipeline, bounded and
checked entry by entry, so the job graph does not grow with it; a run from a list equals the run
from the same files given with ``--input``; ``jawebcorpus failed-files OUT`` writes the failed
files of a run as such a list."""

from __future__ import annotations

import hashlib
import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jawebcorpus.corpus import inputs
from jawebcorpus.corpus.inputs import InputError, list_entry_files, parse_input_list
from jawebcorpus.pipelines.cli import main


def _entries(text: bytes, chunk: int = 7) -> list[tuple[int, str]]:
    return list(parse_input_list([text[i:i + chunk] for i in range(0, len(text), chunk)], "list.txt"))


def _digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).parts[0] in ("data", "stats", "samples")
            and p.name != "run.json"}


def test_blank_lines_and_comments_are_skipped_and_entries_keep_their_line_numbers():
    text = b"# failed files\n\n  /data/a.warc.gz  \n\t\n#/data/skipped.warc.gz\nhttps://x.example/b.warc.gz\r\n/c"
    assert _entries(text) == [(3, "/data/a.warc.gz"), (6, "https://x.example/b.warc.gz"), (7, "/c")]


@pytest.mark.parametrize("text, why", [
    (b"/a.warc.gz\n/b\x00.warc.gz\n", "line 2 holds a control character"),
    (b"/a.warc.gz\n\xff\xfe.warc.gz\n", "line 2 is not UTF-8"),
    (b"/a.warc.gz\n/" + b"x" * 9000 + b"\n", "line 2 is over 8192 bytes"),
    (b"/" + b"x" * 9000, "line 1 is over 8192 bytes"),  # no line end: refused before it is held whole
])
def test_a_bad_line_refuses_the_list_with_its_line_number(text, why):
    with pytest.raises(InputError, match=why):
        _entries(text)


def test_the_list_is_bounded_in_entries_and_bytes(monkeypatch):
    monkeypatch.setitem(inputs.INPUT_LIST_LIMITS, "entries", 3)
    with pytest.raises(InputError, match="more than 3 entries"):
        _entries(b"/a\n/b\n# c\n/d\n/e\n")
    assert len(_entries(b"/a\n/b\n# c\n/d\n")) == 3
    monkeypatch.setitem(inputs.INPUT_LIST_LIMITS, "bytes", 100)
    with pytest.raises(InputError, match="over 100 bytes"):
        _entries(b"# " + b"-" * 200 + b"\n")


def test_entries_are_checked_as_input_arguments_and_relative_ones_are_the_lists(tmp_path, sample_warcs):
    src = sample_warcs[0]
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / src.name).write_bytes(src.read_bytes())
    got = list_entry_files(f"w/{src.name}", 4, "list.txt", str(tmp_path))
    assert [f.path for f in got] == [str(tmp_path / "w" / src.name)]
    assert len(list_entry_files(str(tmp_path / "w"), 1, "l", None)) == 1  # a folder, as --input takes it
    with pytest.raises(InputError, match=r"input list l, line 9: input path does not exist"):
        list_entry_files(str(tmp_path / "missing.warc.gz"), 9, "l", None)
    with pytest.raises(InputError, match="relative path in a list that is not a local file"):
        list_entry_files("w/x.warc.gz", 2, "https://h/list.txt", None)
    url = "https://data.commoncrawl.org/crawl-data/CC-MAIN-2023-23/segments/1/warc/a.warc.gz"
    [f] = list_entry_files(url, 1, "l", None)  # taken as given, as --input does
    assert (f.path, f.snapshot) == (url, "CC-MAIN-2023-23")


def test_the_job_graph_does_not_grow_with_the_list(tmp_path):
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.pipelines.cli import build_parser, build_spec
    from jawebcorpus.pipelines.run import build_pipeline

    remote = ["--runner=PortableRunner", "--job_endpoint=localhost:1", "--environment_type=EXTERNAL",
              "--environment_config=localhost:2"]
    sizes = []
    for n in (1, 5000):
        lst = tmp_path / "list.txt"
        lst.write_text("".join(f"https://h.example/crawl-data/CC-MAIN-2023-23/segments/{i}/warc/{i:06d}.warc.gz\n"
                               for i in range(n)))
        argv = ["run", "--input-list", str(lst), "--output", str(tmp_path / "out"), *remote]
        args, extra = build_parser().parse_known_args(argv)
        spec = build_spec(args, argv)
        proto = build_pipeline(spec, PipelineOptions(extra)).to_runner_api()
        sizes.append(len(proto.SerializeToString()))
    assert abs(sizes[1] - sizes[0]) <= 256  # compression noise (5,000 URLs in the graph would be ≥ 300 KB)


def test_a_run_from_a_list_equals_the_run_from_the_same_files(tmp_path, sample_warcs):
    lst = tmp_path / "list.txt"
    lst.write_text("# the sample\n" + "".join(f"{p}\n" for p in sample_warcs) + f"\n{sample_warcs[0]}\n")
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "--sample", "--quiet", "--output", str(a), "--samples-per-reason", "2"]) == 0
    assert main(["run", "--input-list", str(lst), "--quiet", "--output", str(b), "--samples-per-reason", "2"]) == 0
    mine = _digests(a)
    assert any(k.startswith("data/") for k in mine) and "stats/stages.json" in mine
    assert _digests(b) == mine
    run = json.loads((b / "stats" / "run.json").read_text())
    assert run["input_list"] == str(lst) and run["inputs"] == len(sample_warcs) + 1  # a repeated line counts
    assert run["accounting_problems"] == [] and run["resumed_files"] == 0
    # the same list again: every file resumed, nothing redone
    assert main(["run", "--input-list", str(lst), "--quiet", "--output", str(b), "--samples-per-reason", "2"]) == 0
    assert json.loads((b / "stats" / "run.json").read_text())["resumed_files"] == len(sample_warcs) + 1
    assert _digests(b) == mine


def test_failed_files_lists_the_failed_files_of_a_run_as_an_input_list(tmp_path, sample_warcs, capsys):
    broken = tmp_path / "in" / "broken.warc.gz"
    broken.parent.mkdir()
    broken.write_bytes(b"\x1f\x8b\x08\x00" + b"not a gzip stream" * 10)
    lst = tmp_path / "list.txt"
    lst.write_text(f"{sample_warcs[0]}\n{broken}\n")
    out = tmp_path / "out"
    assert main(["run", "--input-list", str(lst), "--quiet", "--output", str(out)]) == 0
    capsys.readouterr()
    assert main(["failed-files", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed == f"{broken}\n"
    (tmp_path / "failed.txt").write_text(printed)
    assert main(["failed-files", str(out), "--error", "no_such_error"]) == 0
    assert capsys.readouterr().out == ""
    again = tmp_path / "again"
    assert main(["run", "--input-list", str(tmp_path / "failed.txt"), "--quiet", "--output", str(again)]) == 0
    summary = json.loads((again / "stats" / "files_summary.json").read_text())
    assert (summary["files"], summary["failed_files"]) == (1, 1)
    assert main(["failed-files", str(tmp_path / "nothing-here")]) == 2


def test_a_list_over_https(tmp_path, sample_warcs):
    served = tmp_path / "served"
    served.mkdir()
    (served / "list.txt").write_text("".join(f"{p}\n" for p in sample_warcs))
    srv = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(served)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/list.txt"
        a, b = tmp_path / "a", tmp_path / "b"
        assert main(["run", "--input-list", url, "--quiet", "--output", str(b)]) == 0
        assert main(["run", "--sample", "--quiet", "--output", str(a)]) == 0
        assert _digests(b) == _digests(a)
        # a list the server does not have: one line, exit 2
        assert main(["run", "--input-list", url + ".missing", "--quiet", "--output", str(tmp_path / "c")]) == 2
    finally:
        srv.shutdown()


@pytest.mark.parametrize("args, says", [
    (["--input-list", "{tmp}/absent.txt"], "input list not found"),
    (["--input-list", "{tmp}/list.txt", "--sample"], "give exactly one of"),
    (["--input-list", "{tmp}/list.txt", "--max-files", "1"], "--max-files applies to"),
    (["--input-list", "{tmp}/bad.txt"], "refused: line 2 holds a control character"),
    (["--input-list", "{tmp}/missing-entry.txt"], "line 1: input path does not exist"),
    (["--input-list", "{tmp}/out/list.txt"], "is or contains the input"),
])
def test_bad_lists_are_one_line_and_exit_2(tmp_path, capsys, sample_warcs, args, says):
    (tmp_path / "list.txt").write_text(f"{sample_warcs[0]}\n")
    (tmp_path / "bad.txt").write_text(f"{sample_warcs[0]}\n/x\x07y.warc.gz\n")
    (tmp_path / "missing-entry.txt").write_text(f"{tmp_path}/nope.warc.gz\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "list.txt").write_text(f"{sample_warcs[0]}\n")
    argv = ["run", "--quiet", "--output", str(tmp_path / "out"), *(a.format(tmp=tmp_path) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0], err
    assert not (tmp_path / "out" / "data").exists()
