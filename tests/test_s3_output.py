"""Output to s3:// through Beam's file systems, against moto in server mode on loopback."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from jawebcorpus.pipelines.cli import main

pytestmark = pytest.mark.slow


def _digest(client, prefix: str) -> dict[str, str]:
    out = {}
    for obj in client.list_objects_v2(Bucket="corpus", Prefix=prefix).get("Contents", []):
        key = obj["Key"][len(prefix):]
        if key.startswith(("data/", "stats/stages.json", "stats/details.json")):
            body = client.get_object(Bucket="corpus", Key=obj["Key"])["Body"].read()
            out[key] = hashlib.sha256(body).hexdigest()
    return out


def test_output_to_s3_equals_local_output_and_resumes(s3_endpoint, tmp_path):
    _, client, beam_s3 = s3_endpoint
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
