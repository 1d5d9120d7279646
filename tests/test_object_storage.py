"""A folder on object storage is a key prefix (issue 17, item 2): ``storage.remove_tree`` lists the
prefix and deletes what is listed, never a sibling whose name merely starts the same; against
moto's S3 server on loopback (``gs://`` goes through the same code: Beam's FileSystems)."""

from __future__ import annotations

import pytest
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from jawebcorpus.pipelines import storage


def _keys(client) -> set[str]:
    keys, token = set(), None
    while True:
        kw = {"ContinuationToken": token} if token else {}
        page = client.list_objects_v2(Bucket="corpus", **kw)
        keys |= {o["Key"] for o in page.get("Contents", [])}
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


@pytest.fixture
def s3(s3_endpoint):
    url, client, _ = s3_endpoint
    FileSystems.set_options(PipelineOptions([f"--s3_endpoint_url={url}", "--s3_access_key_id=testing",
                                             "--s3_secret_access_key=testing", "--s3_region_name=us-east-1"]))
    for key in _keys(client):
        client.delete_object(Bucket="corpus", Key=key)
    return client


def test_remove_tree_deletes_every_object_under_the_prefix_and_nothing_beside_it(s3, monkeypatch):
    monkeypatch.setattr(storage, "DELETE_BATCH", 7)  # several rounds of listing and deleting
    inside = [f"out/data/snapshot=A/part-{i:02d}.parquet" for i in range(20)] + [
        "out/data/.part.tmp-1", "out/data/x/y/z.json"]
    beside = ["out/data-2/part.parquet", "out/database.json", "out/dat", "out2/data/part.parquet", "out/stats/a.json"]
    for key in inside + beside:
        s3.put_object(Bucket="corpus", Key=key, Body=b"x")
    assert _keys(s3) == set(inside + beside)
    storage.remove_tree("s3://corpus/out/data")
    assert _keys(s3) == set(beside)
    storage.remove_tree("s3://corpus/out/data")  # absent: nothing to do
    storage.remove_tree("s3://corpus/out/dat")  # a file: that object only
    assert _keys(s3) == set(beside) - {"out/dat"}


def test_remove_tree_with_a_trailing_slash_is_the_same_prefix(s3):
    for key in ("run/stats/a.json", "run/stats/files/b.jsonl", "run/stats-old/c.json"):
        s3.put_object(Bucket="corpus", Key=key, Body=b"x")
    storage.remove_tree("s3://corpus/run/stats/")
    assert _keys(s3) == {"run/stats-old/c.json"}
