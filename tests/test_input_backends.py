"""One path abstraction for every input (corpus/fs.py): local, http(s):// and s3:// through the
package's own streams, any other scheme through a registered backend — the pipeline registers
Apache Beam's file systems (pipelines/storage.py: BeamInput), so a scheme Beam serves is read
as input (--input, --cc-base, --input-list) with no code of its own.

The generic path is tested with a real Beam file system: Beam's LocalFileSystem under a test
scheme (``jwctest://``), registered the way Beam registers every file system (by subclassing).
``gs://`` itself: this machine has Beam's GCS file system without its client library, so it is
refused with what to install; a backend registered for ``gs`` serves it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.localfilesystem import LocalFileSystem

from jawebcorpus.corpus import fs, remote
from jawebcorpus.corpus.inputs import InputError, resolve_paths
from jawebcorpus.corpus.stats import read_file_records
from jawebcorpus.pipelines import storage
from jawebcorpus.pipelines.cli import main

SCHEME = "jwctest"


class RootedFileSystem(LocalFileSystem):
    """Beam's local file system under the scheme ``jwctest://``: ``jwctest://a/b`` is ``ROOT/a/b``."""

    ROOT = "/nonexistent"

    @classmethod
    def scheme(cls):
        return SCHEME

    def _local(self, path: str) -> str:
        return os.path.join(self.ROOT, path[len(SCHEME) + 3:])

    def open(self, path, mime_type="application/octet-stream", compression_type=CompressionTypes.AUTO):
        return super().open(self._local(path), mime_type, compression_type)

    def exists(self, path):
        return super().exists(self._local(path))

    def metadata(self, path):
        return super().metadata(self._local(path))


@pytest.fixture()
def rooted(tmp_path, sample_warcs, monkeypatch):
    """A crawl under ``jwctest://cc/``: the sample's files, copied; the local copy's root."""
    root = tmp_path / "store"
    for w in sample_warcs:
        rel = w.as_posix()[w.as_posix().index("crawl-data/"):]
        (root / "cc" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(w, root / "cc" / rel)
    crawl = Path(sample_warcs[0].as_posix()[: sample_warcs[0].as_posix().index("crawl-data/")])
    for listing in crawl.glob("crawl-data/*/warc.paths.gz"):
        shutil.copy(listing, root / "cc" / listing.relative_to(crawl))
    monkeypatch.setattr(RootedFileSystem, "ROOT", str(root))
    storage.serve_input()
    return root / "cc"


def _urls(local_root: Path) -> list[str]:
    return sorted(f"{SCHEME}://cc/{p.relative_to(local_root).as_posix()}" for p in local_root.rglob("*.warc.gz"))


def _digests(out: Path) -> dict[str, str]:
    """The corpus and its statistics (the file records name the paths read: left out)."""
    files = sorted(p for p in (out / "data").rglob("*") if p.is_file()) + [out / "stats" / "stages.json"]
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_a_scheme_no_backend_serves_is_refused_and_a_registered_one_is_read(rooted):
    url = _urls(rooted)[0]
    backend = storage.BeamInput()
    fs.unregister(backend)
    try:
        with pytest.raises(InputError, match=f"no file system for {SCHEME}:// input is installed"):
            resolve_paths([url])
    finally:
        storage.serve_input()
    assert fs.backend_for(url) == backend and fs.backend_for("/x") is not backend
    assert fs.backend_for("s3://b/k") is fs.backend_for("https://h/p") is fs.backend_for("/x")  # the own streams
    assert [f.path for f in resolve_paths([url])] == [url]
    local = rooted / url[len(f"{SCHEME}://cc/"):]
    assert fs.read_bytes(url) == local.read_bytes()
    assert fs.exists(url) is True and fs.exists(url + ".missing") is False and fs.exists("https://h/p") is None
    with fs.open_input(url + ".missing") as f, pytest.raises(remote.RemoteError) as exc:
        f.read(10)
    assert exc.value.code == "not_found"


def test_input_on_a_beam_file_system_equals_the_same_files_read_locally(rooted, tmp_path):
    local_out, beam_out = tmp_path / "local", tmp_path / "beam"
    assert main(["run", "--quiet", "--input", str(rooted), "--output", str(local_out)]) == 0
    assert main(["run", "--quiet", "--input", *_urls(rooted), "--output", str(beam_out)]) == 0
    assert _digests(beam_out) == _digests(local_out)
    records = read_file_records(str(beam_out / "stats"))
    assert {r["path"] for r in records} == set(_urls(rooted)) and all(r["status"] == "ok" for r in records)


def test_a_crawl_base_and_an_input_list_on_a_beam_file_system(rooted, tmp_path):
    local_out = tmp_path / "local"
    assert main(["run", "--quiet", "--input", str(rooted), "--output", str(local_out)]) == 0
    snapshots = sorted(p.name for p in (rooted / "crawl-data").iterdir())
    listed = tmp_path / "listed"
    assert main(["run", "--quiet", *(a for s in snapshots for a in ("--snapshot", s)), "--cc-base", f"{SCHEME}://cc/",
                 "--output", str(listed)]) == 0
    assert _digests(listed) == _digests(local_out)
    (rooted / "list.txt").write_text("\n".join(["# on the store", *_urls(rooted)]) + "\n")
    from_list = tmp_path / "from-list"
    assert main(["run", "--quiet", "--input-list", f"{SCHEME}://cc/list.txt", "--output", str(from_list)]) == 0
    assert _digests(from_list) == _digests(local_out)


def test_a_missing_file_on_a_beam_file_system_is_a_failed_file_not_a_failed_run(rooted, tmp_path):
    out = tmp_path / "out"
    missing = f"{SCHEME}://cc/crawl-data/CC-MAIN-2024-10/segments/x/warc/missing.warc.gz"
    assert main(["run", "--quiet", "--input", _urls(rooted)[0], missing, "--output", str(out)]) == 0
    records = {r["path"]: r for r in read_file_records(str(out / "stats"))}
    assert records[missing]["status"] == "failed" and records[missing]["error"] == "not_found"
    assert records[_urls(rooted)[0]]["status"] == "ok"


def test_gs_input_needs_a_file_system_for_it(tmp_path, capsys, rooted):
    """gs:// is read through Beam's GCS file system once its client is installed
    (jawebcorpus[dataflow]); without it the run is refused before anything is written."""
    url = "gs://bucket/crawl-data/CC-MAIN-2024-10/segments/1/warc/x.warc.gz"
    if not storage.has_file_system(url):
        assert main(["run", "--quiet", "--input", url, "--output", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert "no file system for gs:// input is installed" in err and "jawebcorpus[dataflow]" in err, err
        assert main(["run", "--quiet", "--snapshot", "CC-MAIN-2024-10", "--cc-base", "gs://bucket/cc/",
                     "--output", str(tmp_path / "o")]) == 2
        assert "no file system for gs:// input" in capsys.readouterr().err
        assert not (tmp_path / "o").exists()

    class GsOnTheRootedStore:
        """A backend for gs:// (what BeamInput is where the GCS client is installed): the bucket
        is the test store, read through the same Beam file system."""

        def serves(self, scheme):
            return scheme == "gs"

        def open(self, path, config=None):
            return storage.BeamInputStream(path.replace("gs://bucket/", f"{SCHEME}://cc/", 1))

        def exists(self, path):
            return None

    backend = GsOnTheRootedStore()
    fs.register(backend)
    try:
        gs = [u.replace(f"{SCHEME}://cc/", "gs://bucket/") for u in _urls(rooted)]
        out, local_out = tmp_path / "gs", tmp_path / "local"
        assert main(["run", "--quiet", "--input", *gs, "--output", str(out)]) == 0
        assert main(["run", "--quiet", "--input", str(rooted), "--output", str(local_out)]) == 0
        assert _digests(out) == _digests(local_out)
    finally:
        fs.unregister(backend)
