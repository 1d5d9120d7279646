"""Before a job reaches a cluster: the workers must get the code, and a dry run builds the job
offline without reading or writing anything (issue 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from jawebcorpus.pipelines.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_a_remote_runner_without_the_code_is_refused_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", "--sample", "--output", str(out), "--runner=FlinkRunner"]) == 2
    err = capsys.readouterr().err
    assert "--sdk_container_image" in err and "docs/runners.md" in err
    assert not out.exists()


@pytest.mark.parametrize("shipping, says", [
    (["--sdk_container_image=registry.example/jawebcorpus:1"], "registry.example/jawebcorpus:1"),
    pytest.param(["--environment_type=EXTERNAL", "--environment_config=localhost:50000"], "EXTERNAL",
                 marks=pytest.mark.slow),
    pytest.param(["--extra_package=dist/jawebcorpus-0.1.0-py3-none-any.whl"], "--extra_package=",
                 marks=pytest.mark.slow),
    pytest.param([], "nothing ships jawebcorpus", marks=pytest.mark.slow),
])
def test_a_dry_run_builds_the_graph_names_how_workers_get_the_code_and_touches_nothing(tmp_path, capsys, shipping, says):
    out = tmp_path / "out"
    assert main(["run", "--sample", "--output", str(out), "--runner=FlinkRunner", "--dry_run=true", *shipping]) == 0
    err = capsys.readouterr().err
    assert "dry run: the job graph has" in err and says in err
    assert not out.exists()


@pytest.mark.slow
def test_dataflow_dry_run_offline_after_installing_the_dataflow_extra(tmp_path):
    """``pip install '.[dataflow]'`` then a Dataflow dry run: the job request is built offline
    (no project, bucket or network is touched) and the command ends with exit 0."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    pip = subprocess.run([str(py), "-m", "pip", "install", "-q", f"{REPO}[dataflow]"], capture_output=True,
                         text=True, timeout=1800)
    if pip.returncode != 0:
        pytest.skip(f"the dataflow extra could not be installed here: {pip.stderr[-500:]}")
    run = subprocess.run(
        [str(venv / "bin" / "jawebcorpus"), "run", "--sample", "--output", "gs://no-such-bucket/out",
         "--runner=DataflowRunner", "--project=no-such-project", "--region=us-central1",
         "--temp_location=gs://no-such-bucket/tmp", "--dry_run=true"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "dry run: the Dataflow job" in run.stderr and "nothing ships jawebcorpus" in run.stderr


def test_the_worker_image_copies_every_package_folder_and_pins_every_dependency():
    """The Dockerfile builds the wheel from the folders pyproject.toml maps to packages (a folder
    left out builds a wheel without that package), and the lock it installs with --no-deps pins
    every runtime dependency of pyproject.toml (one left out is missing on every worker)."""
    import re
    import tomllib

    repo = Path(__file__).resolve().parents[1]
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    folders = {d.split("/")[0] for d in project["tool"]["setuptools"]["package-dir"].values()}
    dockerfile = (repo / "Dockerfile").read_text(encoding="utf-8")
    copied = set(re.findall(r"^COPY (\S+) \./\S+$", dockerfile, re.M))
    assert folders and folders <= copied, f"not copied into the image: {sorted(folders - copied)}"
    lock = (repo / "requirements-lock.txt").read_text(encoding="utf-8").lower()
    pinned = {line.split("==")[0].replace("_", "-") for line in lock.splitlines() if "==" in line}
    wanted = {re.split(r"[<>=!~\[ ]", dep)[0].lower().replace("_", "-") for dep in project["project"]["dependencies"]}
    assert wanted and wanted <= pinned, f"not in requirements-lock.txt: {sorted(wanted - pinned)}"


# -- one Beam everywhere (issue 17, item 1) ---------------------------------------------------------
def _pinned_beam() -> str:
    import re
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    extras = project["project"]["optional-dependencies"]
    pins = {}
    for name in ("dataflow", "aws", "dask", "test"):
        found = [m.group(1) for d in extras[name] for m in [re.fullmatch(r"apache-beam(?:\[[a-z,]+\])?==(\S+)", d)] if m]
        assert len(found) == 1, f"the {name} extra must pin apache-beam exactly once: {extras[name]}"
        pins[name] = found[0]
    assert len(set(pins.values())) == 1, f"the extras pin different Beam versions: {pins}"
    return pins["dataflow"]


def test_the_extras_the_lock_and_the_worker_image_name_one_beam_version():
    import re

    from packaging.specifiers import SpecifierSet

    import tomllib

    beam = _pinned_beam()
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert re.findall(r"^ARG BEAM_VERSION=(\S+)$", dockerfile, re.M) == [beam]
    assert f"-beam{beam}" in dockerfile  # the tag the launcher can check (docs/runners.md)
    lock = (REPO / "requirements-lock.txt").read_text(encoding="utf-8")
    assert re.findall(r"^apache-beam==(\S+)$", lock, re.M) == [beam]
    # every Beam version the lock's header and the docs name (images, job servers, pins) is that one
    docs = (REPO / "docs" / "runners.md").read_text(encoding="utf-8")
    docs = "\n".join(line for line in docs.splitlines() if not line.startswith("jawebcorpus: error:"))  # examples
    for text in (lock, docs):
        named = re.findall(r"apache-beam(?:\[\w+\])?==([\d.]+\d)|beam_python3\.\d+_sdk:([\d.]+\d)|_job_server:([\d.]+\d)",
                           text)
        assert {v for group in named for v in group if v} == {beam}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    core = [d for d in project["project"]["dependencies"] if d.startswith("apache-beam")]
    assert len(core) == 1 and beam in SpecifierSet(core[0][len("apache-beam"):])
    # the tests run on that Beam (the test extra pins it)
    import apache_beam

    assert apache_beam.__version__ == beam, "reinstall: pip install -e '.[test]'"


@pytest.mark.parametrize("image, beam, python", [
    ("apache/beam_python3.11_sdk:2.77.0", "2.77.0", "3.11"),
    ("gcr.io/x/apache/beam_python3.12_sdk:2.78.0rc1@sha256:abc", "2.78.0", "3.12"),
    ("localhost:5000/jawebcorpus:0.1.0-beam2.78.0", "2.78.0", None),
    ("REGION-docker.pkg.dev/P/beam/jawebcorpus:0.1.0", None, None),
    ("registry.example/jawebcorpus:1", None, None),
    ("apache/beam_python3.11_sdk", None, "3.11"),
])
def test_the_beam_and_python_versions_an_image_names(image, beam, python):
    from jawebcorpus.pipelines.jobs import image_versions

    assert image_versions(image) == (beam, python)


def _py() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.parametrize("image_args, refused", [
    (["--environment_type=DOCKER", "--environment_config=apache/beam_python{py}_sdk:2.77.0"], "Apache Beam"),
    (["--sdk_container_image=registry.example/jawebcorpus:0.1.0-beam2.60.0"], "Apache Beam"),
    (["--environment_type=DOCKER", "--environment_option=docker_container_image=apache/beam_python3.99_sdk:{beam}"],
     "Python"),
    (["--sdk_container_image=apache/beam_python{py}_sdk:{beam}"], None),
    (["--sdk_container_image=registry.example/jawebcorpus:0.1.0-beam{beam}"], None),
])
def test_a_remote_launch_against_a_worker_image_of_another_beam_is_refused(tmp_path, capsys, image_args, refused):
    import apache_beam

    args = [a.format(py=_py(), beam=apache_beam.__version__) for a in image_args]
    out = tmp_path / "out"
    base = ["run", "--sample", "--output", str(out), "--runner=FlinkRunner", "--dry_run=true", *args]
    if refused is None:
        assert main(base) == 0
        assert "dry run" in capsys.readouterr().err
        return
    assert main(base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and refused in err[0] and "--allow-beam-mismatch" in err[0]
    assert not out.exists()
    assert main([*base, "--allow-beam-mismatch"]) == 0  # the documented override


def test_an_image_whose_tag_does_not_say_is_launched_with_a_note(tmp_path, capsys):
    assert main(["run", "--sample", "--output", str(tmp_path / "out"), "--runner=FlinkRunner", "--dry_run=true",
                 "--sdk_container_image=registry.example/jawebcorpus:1"]) == 0
    assert "cannot be read from its tag" in capsys.readouterr().err
