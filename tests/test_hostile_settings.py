"""Hostile input, round 2 (issue 16): options, settings and assets checked before the run starts.

Every class answers with one line ``jawebcorpus: error: …``, exit 2, and nothing written:

1. damaged assets: fastText files walked byte by byte before the library sees them (built here
   in code, and the real lid.176.ftz cut short), a band index whose every part is checked, a
   ``--ut1-dir`` that is no UT1 list;
2. settings out of range: every declared range of every configuration section (nan, ±inf,
   just outside, absurdly large), and the Beam settings we rely on;
3. unknown options (ours or Beam's) refused with the closest known name;
4. paths: bytes that are not UTF-8, empty paths, schemes input cannot be read from; one
   "is this remote?" for the whole project;
7. ``train-quality --where`` literals and expressions that cannot be used: exit 2.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from _fasttext_bin import model_bytes
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.settings import declared_ranges
from jawebcorpus.filters.fasttext_check import ModelFileError, check_model, check_model_file
from jawebcorpus.filters.langid import default_model_path
from jawebcorpus.pipelines.cli import main

REPO = Path(__file__).resolve().parents[1]


def run_cli(capsys, out: Path, *args: str) -> str:
    """``jawebcorpus run --sample --output OUT ARGS``: exit 2, one error line, nothing written;
    that line."""
    rc = main(["run", "--sample", "--quiet", "--output", str(out), *args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("jawebcorpus: error:")]
    assert rc == 2, err[-2000:]
    assert len(lines) == 1 and "Traceback" not in err, err[-2000:]
    assert not os.path.lexists(out), "something was written"
    return lines[0]


# -- 1. damaged fastText files ---------------------------------------------------------------------
def _lid() -> bytes:
    return Path(default_model_path()).read_bytes()


GOOD = model_bytes()
_DICT_END = GOOD.index(b"__label__en\0") + len(b"__label__en\0") + 9  # end of the last dictionary entry
CRAFTED = {
    "empty": b"",
    "text": b"__label__ja \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n" * 50,
    "wrong magic": struct.pack("<i", 1234) + GOOD[4:],
    "format version 13": GOOD[:4] + struct.pack("<i", 13) + GOOD[8:],
    "negative dimension": model_bytes(dim=-5),
    "not a classifier": model_bytes(model=1),
    "unknown loss": model_bytes(loss=9),
    "billions of words": model_bytes(size=2_000_000_000, nwords=1_999_999_998),
    "dictionary counts disagree": model_bytes(size=4),
    "no label": model_bytes(labels=()),
    "labels before words": model_bytes(nwords=1, nlabels=4),
    "cut inside the dictionary": GOOD[:_DICT_END - 12],
    "cut inside a matrix": GOOD[:-9],
    "matrix of 10^9 rows": GOOD[:_DICT_END + 1] + struct.pack("<qq", 10**9, 4),
    "matrix of the wrong width": model_bytes(input_shape=(11, 3)),
    "too few input rows": model_bytes(input_shape=(2, 4)),
    "output rows != labels": model_bytes(output_shape=(3, 4)),
    "bucket 0 with n-grams": model_bytes(bucket=0, maxn=3, minn=2, input_shape=(3, 4)),
    "pruned but not quantised": model_bytes(prune=0),
    "pruning index beyond the file": model_bytes(prune=10**12),
    "bad quantisation flag": model_bytes(quant_flag=7),
    "bytes after the model": GOOD + b"\0" * 16,
    "weights that are not numbers": model_bytes(weight=math.nan),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_fasttext_files_are_refused_before_fasttext_sees_them(tmp_path, name):
    path = tmp_path / "m.bin"
    path.write_bytes(CRAFTED[name])
    with pytest.raises(ModelFileError) as exc:
        check_model(str(path), "quality model")
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("cut", [0, 8, 63, 100, 5000, 400_000, -1])
def test_the_real_language_model_cut_short_is_refused(tmp_path, cut):
    data = _lid()
    path = tmp_path / "lid.ftz"
    path.write_bytes(data[:cut] if cut >= 0 else data[:-1])
    with pytest.raises(ModelFileError, match="usable fastText model"):
        check_model(str(path), "language-ID model")


def test_valid_models_pass_and_their_labels_are_read(tmp_path):
    info = check_model(default_model_path(), "language-ID model", "__label__ja")
    assert info.quantised and len(info.labels) == 176 and "__label__ja" in info.labels
    path = tmp_path / "m.bin"
    path.write_bytes(model_bytes(word_ngrams=2, minn=2, maxn=3))
    info = check_model(str(path), "quality model", "__label__en")
    assert not info.quantised and info.labels == ("__label__ja", "__label__en") and info.dim == 4
    with pytest.raises(ModelFileError, match="no label __label__hq"):
        check_model(str(path), "quality model", "__label__hq")


def test_a_header_claiming_billions_is_refused_in_bounded_memory(tmp_path):
    """The walk runs under a 256 MB address-space limit: the claims of the header are never
    allocated (fastText itself hangs or reserves gigabytes on these files)."""
    for name in ("billions of words", "matrix of 10^9 rows", "cut inside the dictionary"):
        path = tmp_path / f"{len(name)}.bin"
        path.write_bytes(CRAFTED[name])
        code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (256 << 20, 256 << 20)); "
                "from jawebcorpus.filters.fasttext_check import check_model_file, ModelFileError\n"
                "try:\n    check_model_file(open(sys.argv[1], 'rb'), int(sys.argv[2]))\n"
                "except ModelFileError as e:\n    print('refused:', e)")
        r = subprocess.run([sys.executable, "-c", code, str(path), str(path.stat().st_size)],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stdout.startswith("refused:"), (name, r.stdout, r.stderr[-500:])


def test_the_walk_reads_in_chunks_and_seeks_over_matrices(tmp_path, monkeypatch):
    """Reads are bounded by the chunk size whatever the file claims."""
    from jawebcorpus.filters import fasttext_check

    monkeypatch.setattr(fasttext_check, "CHUNK", 4096)
    sizes = []

    class Spy:
        def __init__(self, fh):
            self.fh = fh

        def read(self, n):
            sizes.append(n)
            return self.fh.read(n)

        def seek(self, n):
            return self.fh.seek(n)

    with open(default_model_path(), "rb") as fh:
        check_model_file(Spy(fh), os.path.getsize(default_model_path()))
    assert max(sizes) <= 4096 and sum(sizes) < os.path.getsize(default_model_path())


@pytest.mark.parametrize("name", ["empty", "billions of words", "cut inside the dictionary", "bucket 0 with n-grams",
                                  "matrix of 10^9 rows", "negative dimension"])
@pytest.mark.parametrize("option", ["--langid-model", "--quality-model"])
def test_a_damaged_model_is_one_line_and_exit_2_before_the_run(tmp_path, capsys, name, option):
    path = tmp_path / "model.bin"
    path.write_bytes(CRAFTED[name])
    line = run_cli(capsys, tmp_path / "out", option, str(path))
    assert str(path) in line and ("model" in line)


def test_models_without_the_needed_label_are_refused(tmp_path, capsys):
    path = tmp_path / "m.bin"
    path.write_bytes(model_bytes(labels=("__label__en", "__label__fr")))
    assert "no label __label__ja" in run_cli(capsys, tmp_path / "a", "--langid-model", str(path))
    assert "no label __label__hq" in run_cli(capsys, tmp_path / "b", "--quality-model", str(path))


def test_a_damaged_model_on_s3_is_refused_before_the_run(s3_endpoint, tmp_path, capsys):
    _, client, s3_args = s3_endpoint
    client.put_object(Bucket="corpus", Key="bad/lid.bin", Body=CRAFTED["billions of words"])
    line = run_cli(capsys, tmp_path / "out", "--langid-model", "s3://corpus/bad/lid.bin", *s3_args)
    assert "s3://corpus/bad/lid.bin" in line and "dictionary" in line


def test_the_workers_loader_walks_the_file_too(tmp_path):
    """A file replaced after the launcher's check is still refused where it is loaded."""
    from jawebcorpus.filters.langid import LanguageIdentifier
    from jawebcorpus.filters.quality_model import QualityModel, QualityModelConfig

    path = tmp_path / "m.bin"
    path.write_bytes(CRAFTED["billions of words"])
    with pytest.raises(ModelFileError):
        LanguageIdentifier(str(path))
    with pytest.raises(ModelFileError):
        QualityModel(QualityModelConfig(path=str(path)))


# -- 1. the band index -------------------------------------------------------------------------------
def _part(path: Path, rows: int = 3, *, columns: dict | None = None, spec_json: bytes | None = None,
          drop: str | None = None) -> None:
    """A band index part in the format --write-index writes; ``columns`` replaces arrays,
    ``spec_json`` the stored spec, ``drop`` leaves a column out."""
    from jawebcorpus.dedup.cluster import KeepPolicy
    from jawebcorpus.dedup.minhash import SignatureSpec
    from jawebcorpus.pipelines.dedup_index import index_schema

    schema = index_schema(SignatureSpec(), KeepPolicy("longer"))
    arrays = {"band_key": pa.array(range(rows), pa.int64()), "band": pa.array([i % 40 for i in range(rows)], pa.uint16()),
              "doc_id": pa.array([b"d%d" % i for i in range(rows)], pa.binary()),
              "snapshot": pa.array(["CC-MAIN-2024-10"] * rows, pa.string())}
    arrays.update(columns or {})
    fields = [pa.field(n, arrays[n].type) for n in arrays if n != drop]
    meta = dict(schema.metadata)
    if spec_json is not None:
        meta[b"jawebcorpus.dedup.spec"] = spec_json
    table = pa.Table.from_arrays([arrays[f.name] for f in fields], schema=pa.schema(fields, metadata=meta))
    pq.write_table(table, path, compression="zstd")


def _index(root: Path, second: dict | None = None, damage=None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    _part(root / "part-a-00000-of-00002.parquet")
    _part(root / "part-a-00001-of-00002.parquet", **(second or {}))
    if damage:
        p = root / "part-a-00001-of-00002.parquet"
        p.write_bytes(damage(p.read_bytes()))
    return root


INDEXES = {
    "second part cut short": dict(damage=lambda b: b[: len(b) // 2]),
    "second part garbage": dict(damage=lambda b: b"PAR1" + b"\0" * 100),
    "band stored as int32": dict(second={"columns": {"band": pa.array([1, 2, 3], pa.int32())}}),
    "band_key stored as strings": dict(second={"columns": {"band_key": pa.array(["1", "2", "3"])}}),
    "null rows": dict(second={"columns": {"doc_id": pa.array([b"x", None, b"z"], pa.binary())}}),
    "a missing column": dict(second={"drop": "snapshot"}),
    "spec JSON is a list": dict(second={"spec_json": b"[1, 2, 3]"}),
    "spec JSON of the wrong types": dict(second={"spec_json": b'{"shingle_size": "5", "num_perm": [800]}'}),
    "spec JSON nested 20000 deep": dict(second={"spec_json": b"[" * 20_000 + b"]" * 20_000}),
    "spec JSON of 200 kB": dict(second={"spec_json": b"[" + b"0," * 100_000 + b"0]"}),
    "spec that is not UTF-8": dict(second={"spec_json": b"\xff\xfe{"}),
    "band beyond the spec's bands": dict(second={"columns": {"band": pa.array([0, 1, 4000], pa.uint16())}}),
}


@pytest.mark.parametrize("name", sorted(INDEXES))
def test_every_part_of_a_band_index_is_checked(tmp_path, name):
    from jawebcorpus.dedup.minhash import SignatureSpec
    from jawebcorpus.pipelines.dedup_index import check_index_spec

    check_index_spec(str(_index(tmp_path / "good")), SignatureSpec())  # the undamaged index passes
    bad = _index(tmp_path / "bad", **INDEXES[name])
    with pytest.raises(ValueError, match="part-a-00001-of-00002") as exc:
        check_index_spec(str(bad), SignatureSpec())
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("name", ["second part cut short", "null rows", "spec JSON is a list", "a missing column"])
def test_a_damaged_band_index_is_one_line_and_exit_2_before_the_run(tmp_path, capsys, name):
    bad = _index(tmp_path / "bad", **INDEXES[name])
    assert "band index" in run_cli(capsys, tmp_path / "out", "--against", str(bad))


def test_the_workers_reader_refuses_null_rows_and_wrong_columns(tmp_path):
    from jawebcorpus.pipelines.dedup_index import read_index_file

    _part(tmp_path / "n.parquet", columns={"snapshot": pa.array(["a", None, "c"])})
    with pytest.raises(ValueError, match="null"):
        list(read_index_file(str(tmp_path / "n.parquet")))
    _part(tmp_path / "t.parquet", columns={"band": pa.array([1, 2, 3], pa.int64())})
    with pytest.raises(ValueError, match="column band is int64"):
        list(read_index_file(str(tmp_path / "t.parquet")))


# -- 1. a UT1 folder that is no UT1 list ---------------------------------------------------------------
def test_a_ut1_dir_that_is_no_ut1_list_is_refused(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "is not a UT1 list" in run_cli(capsys, tmp_path / "o1", "--ut1-dir", str(empty))
    other = tmp_path / "other"
    (other / "adult").mkdir(parents=True)
    (other / "adult" / "urls").write_text("a.example\n")
    assert "is not a UT1 list" in run_cli(capsys, tmp_path / "o2", "--ut1-dir", str(other))
    odd = tmp_path / "odd"
    (odd / "adult" / "domains").mkdir(parents=True)  # a folder where the list belongs
    assert "adult/domains is not a regular file" in run_cli(capsys, tmp_path / "o3", "--ut1-dir", str(odd))
    fifo = tmp_path / "fifo"
    (fifo / "gambling").mkdir(parents=True)
    os.mkfifo(fifo / "gambling" / "domains")  # opening it would wait for a writer forever
    assert "gambling/domains is not a regular file" in run_cli(capsys, tmp_path / "o4", "--ut1-dir", str(fifo))
    assert "hosts.ut1_categories" in run_cli(capsys, tmp_path / "o5", "--ut1-dir", str(empty),
                                             "--set", "hosts.ut1_categories=../../etc")


def test_broken_ng_word_lists_are_refused_before_the_run(tmp_path, capsys):
    lists = tmp_path / "ng"
    lists.mkdir()
    for c in ("adult", "violence_discrimination", "gambling", "spam_seo"):
        (lists / f"{c}.txt").write_text("x\n", encoding="utf-8")  # a one-character term
    assert "NG-word lists" in run_cli(capsys, tmp_path / "out", "--set", f"ngwords.lists_dir={lists}")


# -- 2. settings -----------------------------------------------------------------------------------
def _sections():
    """(name, dataclass) of every configuration section with declared ranges, and the run's own."""
    from jawebcorpus.corpus.remote import RemoteConfig
    from jawebcorpus.pipelines.config import PipelineConfig
    from jawebcorpus.pipelines.spec import RunSpec

    out = [(f.name, f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
           for f in dataclasses.fields(PipelineConfig) if f.name != "preset"]
    return [*out, ("remote", RemoteConfig()), ("run", RunSpec)]


def _bad_values(rng) -> list:
    bad = [math.nan, math.inf, -math.inf, 10**21, -(10**21), "5", True]
    step = 1 if rng.integer else max(abs(rng.hi) * 1e-6, 1e-9)
    bad += [rng.hi + step]
    if rng.lo_open:
        bad.append(rng.lo)
    elif rng.lo - step not in rng.also:
        bad.append(rng.lo - step)
    if rng.integer:
        bad.append(float(rng.lo) + 0.5)
    return bad


CASES = [(section, name, rng) for section, obj in _sections() for name, rng in declared_ranges(obj).items()]


def test_every_numeric_setting_declares_a_range():
    """No int or float field of a configuration section is left without a range."""
    missing = []
    for section, obj in _sections():
        ranged = declared_ranges(obj)
        for f in dataclasses.fields(obj):
            if str(f.type).replace(" | None", "") in ("int", "float") and f.name not in ranged:
                missing.append(f"{section}.{f.name}")
    assert missing == []


@pytest.mark.parametrize("section, name, rng", CASES, ids=[f"{s}.{n}" for s, n, _ in CASES])
def test_values_outside_every_declared_range_are_refused(section, name, rng):
    from jawebcorpus.pipelines.config import PipelineConfig

    for value in _bad_values(rng):
        named = "--samples-per-reason" if name == "samples_per_reason" else name
        with pytest.raises(ConfigError, match=re.escape(named)):
            if section == "remote":
                from jawebcorpus.corpus.remote import RemoteConfig

                RemoteConfig(**{name: value})
            elif section == "run":
                from jawebcorpus.pipelines.spec import RunSpec

                RunSpec(config=PipelineConfig(), output="o", **{name: value})
            else:
                cfg = PipelineConfig()
                sub = dataclasses.replace(getattr(cfg, section), **{name: value})
                dataclasses.replace(cfg, **{section: sub}).validate()


def test_the_defaults_and_the_ends_of_every_range_are_accepted():
    from jawebcorpus.pipelines.config import PRESETS, PipelineConfig

    for cfg in PRESETS.values():
        cfg.validate()
    for section, obj in _sections():
        if section in ("remote", "run"):
            continue
        for name, rng in declared_ranges(obj).items():
            for value in (rng.hi, *(() if rng.lo_open else (rng.lo,))):
                cfg = PipelineConfig()
                sub = getattr(cfg, section)
                if section == "dedup" and name in ("num_perm", "bands", "rows"):
                    continue  # bands × rows = num_perm ties them: checked by the spec
                if section == "quality" and name.endswith("avg_sentence_len"):
                    continue  # min ≤ max ties them
                try:
                    dataclasses.replace(cfg, **{section: dataclasses.replace(sub, **{name: value})}).validate()
                except ConfigError as exc:
                    pytest.fail(f"{section}.{name}={value}: {exc}")


def test_docs_state_every_range():
    """docs/configuration.md's range table lists exactly the declared ranges."""
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = text.split("## Ranges", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z_]+\.[a-z_0-9]+)` \| (.+?) \|$", table, re.M))
    expected = {f"{s}.{n}": r.describe() for s, n, r in CASES}
    assert rows == expected


@pytest.mark.parametrize("args, named", [
    (["--set", "extract.timeout_s=nan"], "extract.timeout_s"),
    (["--extract-timeout", "inf"], "extract.timeout_s"),
    (["--set", "extract.memory_limit_mb=0"], "extract.memory_limit_mb"),
    (["--set", "extract.memory_limit_mb=-1"], "extract.memory_limit_mb"),
    (["--set", "dedup.shingle_size=1000000000000000000"], "dedup.shingle_size"),
    (["--set", "output.row_group_rows=0"], "output.row_group_rows"),
    (["--samples-per-reason", str(10**21)], "--samples-per-reason"),
    (["--max-files", str(10**7)], "--max-files"),
    (["--direct_num_workers=-3"], "--direct_num_workers"),
    (["--direct_num_workers=100000"], "--direct_num_workers"),
    (["--direct_running_mode=threads"], "--direct_running_mode"),
    (["--remote-timeout", "nan"], "--remote-timeout"),
    (["--remote-retries", "-1"], "--remote-retries"),
    (["--langid-threshold", "nan"], "langid.threshold"),
    (["--quality-model-threshold", "inf", "--quality-model", "m.bin"], "quality_model.threshold"),
])
def test_a_setting_out_of_range_is_one_line_and_exit_2(tmp_path, capsys, args, named):
    assert named in run_cli(capsys, tmp_path / "out", *args)


def test_beams_auto_worker_count_is_accepted():
    from apache_beam.options.pipeline_options import PipelineOptions

    from jawebcorpus.pipelines.checks import check_beam_options

    for n in (0, 1, 2, 256):  # 0: one worker per CPU (Beam's FnApiRunner)
        check_beam_options(PipelineOptions([f"--direct_num_workers={n}"]))


# -- 3. unknown options ------------------------------------------------------------------------------
def test_a_misspelt_option_is_named_with_its_closest_match(tmp_path, capsys):
    line = run_cli(capsys, tmp_path / "out", "--overwirte")
    assert "--overwirte" in line and "did you mean --overwrite" in line
    line = run_cli(capsys, tmp_path / "out", "--direct_num_worker=2")
    assert "--direct_num_worker" in line and "--direct_num_workers" in line
    assert "--no_such_thing" in run_cli(capsys, tmp_path / "out", "--no_such_thing", "value")


def _documented_commands() -> list[list[str]]:
    """Every ``jawebcorpus run`` command of the README's and docs' code blocks, as arguments
    (continuation lines joined, comments and ``...`` left out)."""
    import shlex

    commands = []
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        blocks, block, lang = [], None, ""
        for line in path.read_text(encoding="utf-8").splitlines():  # fenced blocks, opening and closing paired
            if line.lstrip().startswith("```"):
                if block is None:
                    block, lang = [], line.strip()[3:].strip()
                else:
                    if lang in ("", "sh", "bash", "console"):
                        blocks.append("\n".join(block) + "\n")
                    block = None
            elif block is not None:
                block.append(line)
        for block in blocks:
            for line in block.replace("\\\n", " ").splitlines():
                line = line.strip()
                if line.startswith("jawebcorpus run"):
                    args = [a for a in shlex.split(line, comments=True)[2:] if a != "..."]
                    commands.append(args if "--output" in args else [*args, "--output", "out/"])
    return commands


def test_the_documented_beam_options_pass_through():
    """Every documented command line passes the unknown-option check (Dataflow, Flink, Spark,
    portable and local runner options among them)."""
    from jawebcorpus.pipelines.checks import unknown_options
    from jawebcorpus.pipelines.cli import build_parser

    commands = _documented_commands()
    seen = {a.split("=")[0] for c in commands for a in c if a.startswith("--")}
    assert {"--direct_num_workers", "--job_endpoint", "--temp_location", "--flink_master", "--spark_master_url",
            "--sdk_container_image", "--autoscaling_algorithm", "--environment_config"} <= seen
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and isinstance(a.choices, dict))
    ours = [s for a in sub.choices["run"]._actions for s in a.option_strings]
    for args in commands:
        _, extra = parser.parse_known_args(["run", *args])
        assert unknown_options(extra, ours) is None, args
    assert unknown_options(["--runner", "PortableRunner", "--experiments=a", "--experiments=b", "--save_main_session",
                            "--dry_run=true", "--s3_endpoint_url=http://127.0.0.1:1", "--project", "p"], ours) is None


# -- 4. paths ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("option", ["--input", "--output", "--langid-model", "--against", "--ut1-dir"])
def test_a_path_that_is_not_utf8_is_refused(tmp_path, capsys, option):
    bad = os.fsdecode(os.fsencode(str(tmp_path)) + b"/x\xff.bin")  # a surrogate-escaped byte, as argv gives it
    args = ["--output", bad] if option == "--output" else [option, bad]
    out = tmp_path / "out"
    rc = main(["run", "--quiet", *(["--sample"] if option != "--input" else []),
               *(["--output", str(out)] if option != "--output" else []), *args])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("jawebcorpus: error:") == 1 and "not UTF-8" in err and "\\xff" in err, err
    assert "Traceback" not in err and not out.exists() and not os.path.lexists(bad)


@pytest.mark.parametrize("option", ["--output", "--against", "--langid-model", "--quality-model", "--ut1-dir",
                                    "--write-index", "--input"])
def test_an_empty_path_is_refused(tmp_path, capsys, option):
    """An empty --langid-model would silently mean the default model, an empty --against no index."""
    out = tmp_path / "out"
    if option == "--output":
        rc = main(["run", "--quiet", "--sample", "--output", ""])
    elif option == "--input":
        rc = main(["run", "--quiet", "--input", " ", "--output", str(out)])
    else:
        rc = main(["run", "--quiet", "--sample", "--output", str(out), option, ""])
    err = capsys.readouterr().err
    assert rc == 2 and "an empty path" in err and "Traceback" not in err, err
    assert not out.exists()


def test_an_input_scheme_without_a_file_system_is_refused_with_the_schemes_that_work(tmp_path, capsys):
    """foo:// (no file system anywhere; gs:// without its client: tests/test_input_backends.py)."""
    rc = main(["run", "--quiet", "--snapshot", "CC-MAIN-2024-10", "--cc-base", "foo://bucket/cc/", "--output",
               str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "no file system for foo:// input is installed" in err and "s3://" in err
    rc = main(["run", "--quiet", "--input", "foo://bucket/x.warc.gz", "--output", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "does not exist" not in err and "no file system for foo:// input" in err
    assert not (tmp_path / "o").exists()


def test_output_paths_need_an_installed_file_system(tmp_path, capsys):
    import importlib.util

    for option in ("--write-index", "--against", "--quality-model"):
        line = run_cli(capsys, tmp_path / "out", option, "foo://bucket/x")
        assert "no file system for foo://" in line and option.strip("-").split("-")[0] in line
    try:
        gcs = importlib.util.find_spec("google.cloud.storage") is not None
    except ModuleNotFoundError:
        gcs = False
    if not gcs:  # Beam's GCS file system is registered without its client and fails on first use
        rc = main(["run", "--quiet", "--sample", "--output", "gs://bucket/out"])
        err = capsys.readouterr().err
        assert rc == 2 and "no file system for gs://" in err and "jawebcorpus[dataflow]" in err, err


def test_a_file_url_output_is_a_local_folder(tmp_path):
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--sample", "--until", "read", "--output", out.as_uri()]) == 0
    assert (out / "stats" / "stages.json").is_file()


def test_one_rule_decides_what_is_remote():
    from apache_beam.io.filesystems import FileSystems

    from jawebcorpus.corpus import paths, remote
    from jawebcorpus.corpus.stage import Resources
    from jawebcorpus.pipelines import storage

    cases = ["gs://b/k", "s3://b/k", "https://h/p", "HTTP://h/p", "hdfs://n/p", "azfs://a/c/p", "file:///tmp/x",
             "/tmp/x", "rel/a://b", "C:\\x", "", "x+y.z://p"]
    for p in cases:
        beam = FileSystems.get_scheme(p) not in (None, "file")
        assert paths.is_remote(p) == beam == (not storage.is_local(p)) == remote.is_remote(p), p
    assert paths.local_path("file:///tmp/a%20b") == "/tmp/a b"
    with pytest.raises(ValueError, match="remote storage"):
        Resources().local_path("gs://bucket/lid.bin")  # was treated as remote by one check, not another


def test_a_file_url_input_is_read_as_a_local_file(sample_warcs):
    from jawebcorpus.corpus.inputs import resolve_paths

    local = resolve_paths([str(sample_warcs[0])])
    assert resolve_paths([Path(sample_warcs[0]).as_uri()]) == local


# -- 7. train-quality --where --------------------------------------------------------------------------
@pytest.fixture()
def run_dir(tmp_path) -> Path:
    data = tmp_path / "run" / "data" / "snapshot=CC-MAIN-2024-10"
    data.mkdir(parents=True)
    pq.write_table(pa.table({"text": ["a", "b"], "q_too_short": [0, 1], "host": ["a.jp", "b.jp"]}),
                   data / "part-0.parquet")
    return tmp_path / "run"


@pytest.mark.parametrize("expr, message", [
    ("q_too_short == 99999999999999999999999", "does not fit in 64 bits"),
    ("q_too_short > -9223372036854775809", "does not fit in 64 bits"),
    ("q_too_short < 1e999", "too large"),
    ("host > 5", "does not fit the columns"),
    ("q_too_short == 'x'", "does not fit the columns"),
    ("q_too_short ==", "ends after a comparison"),
    ("__import__('os')", "unknown column"),
    ("q_too_short == 1 ; x", "cannot read the expression"),
])
def test_where_expressions_that_cannot_be_used_exit_2(tmp_path, capsys, run_dir, expr, message):
    from jawebcorpus.pipelines import train_quality

    neg = tmp_path / "neg.txt"
    neg.write_text("x\n", encoding="utf-8")
    rc = train_quality.main(["--run", str(run_dir), "--positive-where", expr, "--negative", str(neg),
                             "--output", str(tmp_path / "m.bin")])
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "m.bin").exists()


def test_64_bit_literals_still_work():
    from jawebcorpus.pipelines.train_quality import parse_where

    parse_where("q_too_short < 9223372036854775807 and q_too_short > -9223372036854775808", {"q_too_short"})
    parse_where("q_too_short > 1e300", {"q_too_short"})


def test_training_settings_out_of_range_exit_2(tmp_path, capsys):
    from jawebcorpus.pipelines import train_quality

    pos, neg = tmp_path / "p.txt", tmp_path / "n.txt"
    pos.write_text("a\n", encoding="utf-8")
    neg.write_text("b\n", encoding="utf-8")
    for args in (["--lr", "nan"], ["--dim", "0"], ["--epoch", "1000000000"], ["--bucket", str(10**12)],
                 ["--holdout", "nan"], ["--threshold", "inf"]):
        rc = train_quality.main(["--positive", str(pos), "--negative", str(neg), "--output", str(tmp_path / "m.bin"),
                                 *args])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith("error:") and "Traceback" not in err, (args, err)
    assert not (tmp_path / "m.bin").exists()


def test_json_of_a_spec_must_be_an_object():
    from jawebcorpus.dedup.minhash import SignatureSpec

    for raw in ("[1, 2]", "5", '"x"', "null"):
        with pytest.raises(ValueError, match="JSON object"):
            SignatureSpec.from_json(raw)
    assert SignatureSpec.from_json(json.dumps(SignatureSpec().to_dict())) == SignatureSpec()
