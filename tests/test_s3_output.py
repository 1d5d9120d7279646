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


def _all_keys(client, prefix: str = "") -> set[str]:
    keys, token = set(), None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = client.list_objects_v2(Bucket="corpus", Prefix=prefix, **kw)
        keys |= {o["Key"] for o in page.get("Contents", [])}
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def test_overwrite_on_s3_replaces_the_earlier_output_and_touches_nothing_beside_it(s3_endpoint, tmp_path, capsys):
    """Issue 17, item 2: a rerun with another configuration and --overwrite removes the earlier
    run's objects (data, statistics, checkpoints, markers) under the output prefix only."""
    _, client, beam_s3 = s3_endpoint
    out = "s3://corpus/ow"
    assert main(["run", "--sample", "--quiet", "--output", out, *beam_s3]) == 0
    for key in ("ow-2/data/keep.parquet", "ow2/stats/keep.json", "owl.json", "ow/notes.txt"):
        client.put_object(Bucket="corpus", Key=key, Body=b"not the run's")
    first = _all_keys(client, "ow/")
    old_fp = {k.split("/")[2] for k in first if k.startswith("ow/_checkpoints/")}
    assert len(old_fp) == 1 and any(k.startswith("ow/data/") for k in first)
    # another configuration without --overwrite: refused, nothing changes
    assert main(["run", "--sample", "--quiet", "--output", out, "--preset", "swallow-v1", *beam_s3]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert _all_keys(client, "ow/") == first
    assert main(["run", "--sample", "--quiet", "--output", out, "--preset", "swallow-v1", "--overwrite", *beam_s3]) == 0
    after = _all_keys(client, "ow/")
    new_fp = {k.split("/")[2] for k in after if k.startswith("ow/_checkpoints/")}
    assert new_fp and not new_fp & old_fp
    assert {k for k in after if k.startswith("ow/_runs/")} == {f"ow/_runs/{fp}.json" for fp in new_fp}
    assert "ow/_lock.json" not in after and "ow/notes.txt" in after
    # the output is exactly the swallow-v1 run's: what a fresh local run writes
    local = tmp_path / "local"
    assert main(["run", "--sample", "--quiet", "--output", str(local), "--preset", "swallow-v1"]) == 0
    want = {"ow/" + p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file()
            and p.relative_to(local).parts[0] in ("data", "stats")}
    assert {k for k in after if k.split("/")[1] in ("data", "stats")} == want
    assert _all_keys(client) >= {"ow-2/data/keep.parquet", "ow2/stats/keep.json", "owl.json"}


def test_an_input_list_on_s3(s3_endpoint, tmp_path, sample_warcs):
    """Issue 17, item 4: the list itself on s3:// (read inside the pipeline through the S3 reader)."""
    _, client, beam_s3 = s3_endpoint
    client.put_object(Bucket="corpus", Key="lists/sample.txt",
                      Body="".join(f"{p}\n" for p in sample_warcs).encode())
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "--input-list", "s3://corpus/lists/sample.txt", "--quiet", "--output", str(b), *beam_s3]) == 0
    assert main(["run", "--sample", "--quiet", "--output", str(a)]) == 0
    digest = {p.relative_to(a).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in a.rglob("*")
              if p.is_file() and p.relative_to(a).parts[0] in ("data", "stats") and p.name != "run.json"}
    assert digest and digest == {p.relative_to(b).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                                 for p in b.rglob("*") if p.is_file() and p.relative_to(b).parts[0] in ("data", "stats")
                                 and p.name != "run.json"}
    assert main(["run", "--input-list", "s3://corpus/lists/absent.txt", "--quiet", "--output", str(tmp_path / "c"),
                 *beam_s3]) == 2
