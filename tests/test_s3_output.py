"""Output to s3:// through Beam's file systems, against moto in server mode on loopback."""

from __future__ import annotations

import hashlib
import io
import json
import socket

import pytest

from jawebcorpus.pipelines.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture()
def s3_endpoint(monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    for k, v in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
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
        yield url, client
    finally:
        server.stop()


def _digest(client, prefix: str) -> dict[str, str]:
    out = {}
    for obj in client.list_objects_v2(Bucket="corpus", Prefix=prefix).get("Contents", []):
        key = obj["Key"][len(prefix):]
        if key.startswith(("data/", "stats/stages.json", "stats/details.json")):
            body = client.get_object(Bucket="corpus", Key=obj["Key"])["Body"].read()
            out[key] = hashlib.sha256(body).hexdigest()
    return out


def test_output_to_s3_equals_local_output_and_resumes(s3_endpoint, tmp_path):
    url, client = s3_endpoint
    beam_s3 = [f"--s3-endpoint-url={url}", "--s3_access_key_id=testing", "--s3_secret_access_key=testing",
               "--s3_region_name=us-east-1"]
    assert main(["run", "--sample", "--quiet", "--output", "s3://corpus/run", *beam_s3]) == 0
    local = tmp_path / "local"
    assert main(["run", "--sample", "--quiet", "--output", str(local)]) == 0
    remote = _digest(client, "run/")
    want = {str(p.relative_to(local)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in local.rglob("*") if p.is_file()
            and str(p.relative_to(local)).startswith(("data/", "stats/stages.json", "stats/details.json"))}
    assert remote == want and any(k.startswith("data/") for k in remote)
    # the same command again finds the checkpoints on S3: nothing is redone, same output
    assert main(["run", "--sample", "--quiet", "--output", "s3://corpus/run", *beam_s3]) == 0
    run = json.load(io.BytesIO(client.get_object(Bucket="corpus", Key="run/stats/run.json")["Body"].read()))
    assert run["resumed_files"] == 2
    assert _digest(client, "run/") == remote
