"""Assets and the band index on object storage (issues 11.3 and 12.3), against a real S3 API:
moto in server mode on loopback (fixture ``s3_endpoint`` in conftest.py).

The run reads the language-ID model, a UT1 blocklist, the NG-word lists, a quality model and a
band index from ``s3://`` and must write exactly what it writes with local copies of the same
files; a missing remote asset is one line and exit 2 before anything is processed; each remote
file is downloaded once per machine, never per document.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.pipelines import storage
from jawebcorpus.pipelines.cli import main

BUCKET = "corpus"
COMPARED = ("data/", "stats/stages.json", "stats/details.json")


def run(*args: str) -> int:
    return main(["run", "--quiet", *args])


def upload(client, local: Path, prefix: str) -> str:
    """Upload a file, or a folder's files (relative keys), under ``prefix``; its s3:// path."""
    files = [local] if local.is_file() else sorted(p for p in local.rglob("*") if p.is_file())
    for f in files:
        key = prefix if local.is_file() else f"{prefix}/{f.relative_to(local).as_posix()}"
        client.put_object(Bucket=BUCKET, Key=key, Body=f.read_bytes())
    return f"s3://{BUCKET}/{prefix}"


def digest(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.relative_to(out).as_posix().startswith(COMPARED)}


def stage_rows(out: Path) -> dict[tuple[str, str, str], int]:
    """Documents per (stage, outcome, reason), summed over snapshots."""
    out_rows: dict[tuple[str, str, str], int] = {}
    for r in json.loads((out / "stats" / "stages.json").read_text()):
        key = (r["stage"], r["outcome"], r["reason"])
        out_rows[key] = out_rows.get(key, 0) + r["docs"]
    return out_rows


@pytest.fixture()
def fresh_asset_cache(tmp_path, monkeypatch) -> Path:
    """The per-machine asset cache (under the temporary directory) starts empty."""
    root = tmp_path / "machine-tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root / "jawebcorpus-assets"


@pytest.fixture()
def remote_opens(monkeypatch) -> list[str]:
    """Every remote path opened for reading through Beam's FileSystems, in order."""
    opened: list[str] = []
    real = FileSystems.open

    def counting(path, *args, **kwargs):
        if not storage.is_local(path):
            opened.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(FileSystems, "open", staticmethod(counting))
    return opened


# -- the assets, local and on S3 ---------------------------------------------------------------
@pytest.fixture(scope="module")
def assets(s3_endpoint, tmp_path_factory) -> dict:
    """Local copies and ``s3://`` paths of the language-ID model, a UT1 blocklist and the NG-word
    lists.  The blocklist lists the host of a page the sample keeps, so it changes the output."""
    from jawebcorpus.filters.langid import default_model_path
    from jawebcorpus.sample import load_manifest

    _, client, _ = s3_endpoint
    root = tmp_path_factory.mktemp("assets")
    model = root / "lid.176.ftz"
    shutil.copyfile(default_model_path(), model)

    kept = [c for c in load_manifest()["captures"] if c["expected"] == "keep" and c["snapshot"] == "CC-MAIN-2024-18"]
    host = urlsplit(kept[0]["url"]).hostname.removeprefix("www.")
    ut1 = root / "ut1"
    for category, domains in {"adult": [host, "adult-example.com"], "gambling": ["casino-example.jp"],
                              "not_selected": ["example.org"]}.items():
        (ut1 / category).mkdir(parents=True)
        (ut1 / category / "domains").write_text("\n".join(domains) + "\n", encoding="utf-8")

    ng = root / "ngwords"
    ng.mkdir()
    for item in resources.files("jawebcorpus.ngwords").iterdir():
        if item.name.endswith(".txt"):
            (ng / item.name).write_bytes(item.read_bytes())
    assert any(ng.iterdir())

    return {
        "local": {"langid": model, "ut1": ut1, "ngwords": ng},
        "remote": {"langid": upload(client, model, "assets/models/lid.176.ftz"),
                   "ut1": upload(client, ut1, "assets/ut1"),
                   "ngwords": upload(client, ng, "assets/ngwords")},
        "blocked_host": host,
    }


def _train_small_quality_model(path: Path) -> None:
    """A small fastText classifier from the sample's pages (tests/_sample_model.py)."""
    from _sample_model import train_sample_model

    train_sample_model(path)


@pytest.fixture(scope="module")
def quality_model(s3_endpoint, tmp_path_factory) -> dict:
    """A quality model trained here (skipped without a fastText training build), local and on S3
    (the model and its training record next to it)."""
    from jawebcorpus.filters.quality_model import record_path
    from jawebcorpus.pipelines.quality_training import TrainerNotFound, find_trainer

    try:
        find_trainer()
    except TrainerNotFound as exc:
        pytest.skip(f"no fastText training build ({exc}); python -m jawebcorpus.pipelines.train_quality "
                    "--install-trainer installs one")
    _, client, _ = s3_endpoint
    model = tmp_path_factory.mktemp("quality") / "hq.bin"
    _train_small_quality_model(model)
    remote = upload(client, model, "assets/quality/hq.bin")
    upload(client, Path(record_path(str(model))), "assets/quality/hq.bin.json")
    return {"local": model, "remote": remote}


@pytest.fixture(scope="module")
def band_index(s3_endpoint, tmp_path_factory) -> dict:
    """A band index written by a first run (``--write-index``) over the sample's first snapshot,
    local and on S3."""
    from jawebcorpus.sample import warc_paths

    _, client, _ = s3_endpoint
    root = tmp_path_factory.mktemp("index")
    first = [p for p in warc_paths() if "CC-MAIN-2024-10" in str(p)]
    assert len(first) == 1
    assert run("--input", str(first[0]), "--output", str(root / "first"), "--write-index", str(root / "index")) == 0
    parts = sorted((root / "index").glob("*.parquet"))
    assert parts
    return {"local": root / "index", "remote": upload(client, root / "index", "assets/index")}


# -- a missing remote asset --------------------------------------------------------------------
@pytest.mark.parametrize("option, what", [
    ("--langid-model=s3://corpus/missing/lid.176.ftz", "language-ID model"),
    ("--ut1-dir=s3://corpus/missing/ut1", "UT1 blocklist directory"),
    ("--set=ngwords.lists_dir=s3://corpus/missing/ngwords", "NG-word lists directory"),
    ("--quality-model=s3://corpus/missing/hq.bin", "quality model"),
    ("--against=s3://corpus/missing/index", "index"),
])
def test_missing_remote_asset_is_one_line_and_exit_2_before_processing(s3_endpoint, tmp_path, capsys, option, what):
    _, _, s3_args = s3_endpoint
    out = tmp_path / "out"
    assert run("--sample", "--output", str(out), option, *s3_args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("jawebcorpus: error:")]
    assert len(lines) == 1, err
    assert what in lines[0] and "s3://corpus/missing/" in lines[0]
    assert "Traceback" not in err
    assert not out.exists()  # nothing was processed or written


# -- downloaded once per machine ---------------------------------------------------------------
def test_remote_assets_are_downloaded_once_and_shared(s3_endpoint, assets, fresh_asset_cache, remote_opens,
                                                     monkeypatch):
    """Two stage set-ups in one worker process (two DoFn instances) download each remote file
    once and share the loaded objects; another process on the same machine (new resources)
    finds the files in the machine's cache; an object replaced on the store is fetched again."""
    from jawebcorpus.filters.hosts import HostsStage
    from jawebcorpus.filters.langid import LangIdStage
    from jawebcorpus.filters.ngwords import NgWordsStage
    from jawebcorpus.pipelines.config import apply_overrides, get_preset
    from jawebcorpus.pipelines.transforms import PipelineResources

    url, client, s3_args = s3_endpoint
    monkeypatch.setattr(FileSystems, "_pipeline_options", PipelineOptions([f"--s3_endpoint_url={url}", *s3_args[1:]]))
    remote = assets["remote"]
    cfg = apply_overrides(get_preset("default"), [
        f"langid.model_path={remote['langid']}", f"hosts.ut1_dir={remote['ut1']}",
        f"ngwords.lists_dir={remote['ngwords']}", "hosts.ut1_categories=adult,gambling,games",
        "ngwords.categories=adult,gambling"]).validate()
    worker = PipelineResources()
    stages = []
    for _ in range(2):
        for cls in (LangIdStage, HostsStage, NgWordsStage):
            st = cls()
            st.setup(cfg, worker)
            stages.append(st)
    want = {remote["langid"], f"{remote['ut1']}/adult/domains", f"{remote['ut1']}/gambling/domains"}
    want |= {f"{remote['ngwords']}/{c}.txt" for c in cfg.ngwords.categories}
    assert sorted(remote_opens) == sorted(want)  # each once (games/domains is absent: skipped)
    # the copies are the remote bytes, and the stages use them; one object per worker process
    blocked = stages[1].hosts.check("www." + assets["blocked_host"])
    assert blocked is not None and blocked.reason == "ut1_adult"
    assert stages[0].lid.predict("今日は良い天気ですね。散歩に行きましょう。").label == "ja"
    assert stages[0].lid is stages[3].lid and stages[1].hosts is stages[4].hosts
    assert stages[2].matcher is stages[5].matcher
    # another worker process on the machine: the machine's copy, no download
    LangIdStage().setup(cfg, PipelineResources())
    assert len(remote_opens) == len(want)
    # an object replaced on the store is not served stale from the cache
    client.put_object(Bucket=BUCKET, Key="assets/ut1/gambling/domains", Body=b"casino-example.jp\nbet-example.com\n")
    try:
        st = HostsStage()
        st.setup(cfg, PipelineResources())
        assert st.hosts.check("bet-example.com").reason == "ut1_gambling"
    finally:
        client.put_object(Bucket=BUCKET, Key="assets/ut1/gambling/domains",
                          Body=(assets["local"]["ut1"] / "gambling" / "domains").read_bytes())


# -- the whole run ----------------------------------------------------------------------------
@pytest.mark.slow
def test_run_with_assets_and_index_on_s3_equals_local(s3_endpoint, assets, quality_model, band_index, tmp_path,
                                                       fresh_asset_cache, remote_opens):
    _, _, s3_args = s3_endpoint
    common = ["--sample", "--quality-model-threshold", "0.2", "--samples-per-reason", "1"]

    def where(kind: str) -> list[str]:
        a = {**assets[kind], "quality": quality_model[kind], "index": band_index[kind]}
        return ["--langid-model", str(a["langid"]), "--ut1-dir", str(a["ut1"]),
                "--set", f"ngwords.lists_dir={a['ngwords']}", "--quality-model", str(a["quality"]),
                "--against", str(a["index"])]

    local = tmp_path / "local"
    assert run(*common, "--output", str(local), *where("local")) == 0
    assert not remote_opens
    remote_out = tmp_path / "remote"
    assert run(*common, "--output", str(remote_out), *where("remote"), *s3_args) == 0

    # every asset changed something, so the comparison covers it
    rows = stage_rows(local)
    assert rows.get(("hosts", "dropped", "ut1_adult"), 0) >= 1
    assert rows.get(("ngwords", "dropped", "ng_fraction"), 0) >= 1
    assert rows.get(("langid", "kept", "ja"), 0) >= 1
    assert sum(n for (stage, _, _), n in rows.items() if stage == "quality_model") >= 1
    assert rows.get(("dedup", "dropped", "indexed_duplicate"), 0) >= 1  # near-duplicates of the index's documents

    want = digest(local)
    assert any(k.startswith("data/") for k in want)
    assert digest(remote_out) == want

    # each remote asset read once for the whole run, never once per document; each index part
    # read once by the pipeline, plus its footer twice at launch (the spec check of the command
    # line, then of the dedup stage as the graph is built)
    counts = {p: remote_opens.count(p) for p in set(remote_opens)}
    index_parts = {p for p in counts if p.startswith(band_index["remote"] + "/")}
    assert index_parts and len(index_parts) == len(list(band_index["local"].glob("*.parquet")))
    assert all(n == 1 for p, n in counts.items() if p not in index_parts), counts
    assert all(n <= 3 for p, n in counts.items() if p in index_parts), counts
    assert quality_model["remote"] in counts and assets["remote"]["langid"] in counts
