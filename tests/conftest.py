"""Shared fixtures: the bundled sample crawl and ``../shared`` (skipped cleanly when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` (read-only test material); the test is skipped when it is not there."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not present")
    return SHARED


@pytest.fixture(scope="session")
def shared_crawl_files(shared_dir: Path) -> list[Path]:
    """The WARC files of ``../shared/crawl`` (4 files, two snapshots)."""
    files = sorted((shared_dir / "crawl").glob("crawl-data/*/segments/*/warc/*.warc.gz"))
    if not files:
        pytest.skip("../shared/crawl holds no WARC file")
    return files


@pytest.fixture(scope="session")
def sample_warcs() -> list[Path]:
    from jawebcorpus.sample import warc_paths

    paths = warc_paths()
    assert paths, "the bundled sample crawl is missing"
    return paths


@pytest.fixture(scope="session")
def manifest() -> dict:
    from jawebcorpus.sample import load_manifest

    return load_manifest()


# -- the project's own fixtures (tests/fixturegen/): built in code, no ../shared needed ---------
@pytest.fixture(scope="session")
def own_crawl(tmp_path_factory):
    """A Common-Crawl-shaped crawl of two snapshots built from text written for the project
    (``fixturegen.warcs.build_crawl``); every capture says what the pipeline must do with it."""
    from fixturegen.warcs import build_crawl

    return build_crawl(tmp_path_factory.mktemp("own-crawl"))


@pytest.fixture(scope="session")
def own_crawl_files(own_crawl) -> list[Path]:
    return [own_crawl.path(rel) for rel in own_crawl.files]


@pytest.fixture(scope="session")
def edge_cases():
    """Small WARC files for the reader's framing cases, each with what reading it must give."""
    from fixturegen.warcs import edge_case_files

    return edge_case_files()


@pytest.fixture(scope="session")
def labelled_pages():
    """Japanese pages in every Japanese encoding and CJK confusers, with true codec and text."""
    from fixturegen.pages import charset_pages

    return charset_pages()


# -- an S3 API on loopback: moto in server mode -------------------------------------------------
@pytest.fixture(scope="module")
def s3_endpoint():
    """``(url, client, args)``: moto's S3 server on a free loopback port with an empty bucket
    ``corpus``, a boto3 client for it, and the ``jawebcorpus run`` arguments that point the
    pipeline (and Beam's S3 file system) at it; test credentials only (nothing real is used)."""
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    import socket

    with pytest.MonkeyPatch.context() as mp:
        for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_DEFAULT_REGION": "us-east-1"}.items():
            mp.setenv(k, v)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        url = f"http://127.0.0.1:{port}"
        client = boto3.client("s3", endpoint_url=url, region_name="us-east-1")
        client.create_bucket(Bucket="corpus")
        try:
            yield url, client, [f"--s3-endpoint-url={url}", "--s3_access_key_id=testing",
                                "--s3_secret_access_key=testing", "--s3_region_name=us-east-1"]
        finally:
            server.stop()

