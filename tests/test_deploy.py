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
