"""The document record that flows through the stages, and the Parquet output schema."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pyarrow as pa

from .errors import ConfigError

__all__ = ["OutputConfig", "Doc", "OUTPUT_SCHEMA", "output_schema", "host_of", "docs_to_table", "table_to_docs"]


@dataclass(frozen=True)
class OutputConfig:
    compression: str = "zstd"
    row_group_rows: int = 10_000
    #: Write the 21 quality measures as extra columns q_<measure> (re-filter without rerunning).
    quality_measures: bool = False

    def validate(self) -> None:
        if self.compression not in ("zstd", "snappy", "gzip", "none"):
            raise ConfigError("output.compression must be zstd, snappy, gzip or none")


@dataclass(slots=True)
class Doc:
    # Provenance: enough to re-fetch the record by byte range.
    snapshot: str
    warc_file: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    warc_date: str
    url: str
    # HTTP
    http_status: int = -1
    content_type: str = ""
    http_charset: str | None = None
    payload_bytes: int = 0
    # Stage payloads: raw body → decoded HTML → extracted text (earlier ones are released).
    body: bytes | None = None
    html: str | None = None
    text: str | None = None
    # Stage results
    detect_method: str = ""
    codec_hint: str | None = None
    charset: str = ""
    charset_source: str = ""
    replacement_chars: int = 0
    lang: str = ""
    lang_score: float = 0.0
    #: the 21 quality measures (written as ``q_*`` columns when ``output.quality_measures``)
    quality_measures: dict | None = None
    #: share of NG-word characters among Japanese letters
    ng_fraction: float | None = None
    #: a model's quality score (``dedup.tie_break=quality``)
    quality_score: float | None = None
    #: near-duplicate cluster of a survivor (after dedup)
    cluster_size: int | None = None
    cluster_id: str | None = None
    #: text length of a stub that travels without its text (dedup's decision join)
    text_chars: int | None = None

    @property
    def sort_key(self) -> tuple:
        return (self.warc_file, self.warc_offset, self.warc_record_id)


def host_of(url: str) -> str:
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.rstrip(".").lower()


OUTPUT_SCHEMA = pa.schema(
    [
        pa.field("text", pa.large_string(), nullable=True,
                 metadata={"doc": "extracted main text (null when the run stopped before extract)"}),
        pa.field("url", pa.string()),
        pa.field("host", pa.string()),
        pa.field("snapshot", pa.string()),
        pa.field("warc_file", pa.string(), metadata={"doc": "path of the WARC file, relative to the crawl root when known"}),
        pa.field("warc_offset", pa.int64(), metadata={"doc": "byte offset of the record's gzip member"}),
        pa.field("warc_length", pa.int64(), metadata={"doc": "compressed length of the record (-1 unknown)"}),
        pa.field("warc_record_id", pa.string()),
        pa.field("warc_date", pa.string(), metadata={"doc": "WARC-Date, ISO 8601 as in the record"}),
        pa.field("http_status", pa.int32()),
        pa.field("content_type", pa.string()),
        pa.field("charset", pa.string(), nullable=True, metadata={"doc": "codec used to decode the page"}),
        pa.field("charset_source", pa.string(), nullable=True),
        pa.field("replacement_chars", pa.int32(), metadata={"doc": "U+FFFD produced by decoding"}),
        pa.field("detect_method", pa.string()),
        pa.field("lang", pa.string(), nullable=True),
        pa.field("lang_score", pa.float32(), nullable=True, metadata={"doc": "fastText probability of Japanese"}),
        pa.field("num_chars", pa.int64()),
        pa.field("payload_bytes", pa.int64(), metadata={"doc": "HTTP payload bytes of the page"}),
        pa.field("cluster_size", pa.int32(), nullable=True,
                 metadata={"doc": "near-duplicate cluster size (1: unique; null: no dedup stage)"}),
    ],
    metadata={"jawebcorpus.schema": "1"},
)


def output_schema(quality_measures: tuple[tuple[str, str], ...] = ()) -> pa.Schema:
    """The output schema, with ``q_<measure>`` columns when quality measures are written."""
    schema = OUTPUT_SCHEMA
    for name, typ in quality_measures:
        schema = schema.append(pa.field(f"q_{name}", pa.type_for_alias(typ), nullable=True))
    return schema.with_metadata(OUTPUT_SCHEMA.metadata)


def docs_to_table(docs: list[Doc], quality_measures: tuple[tuple[str, str], ...] = ()) -> pa.Table:
    schema = output_schema(quality_measures)
    cols: dict[str, list] = {f.name: [] for f in schema}
    for d in docs:
        text = d.text if d.text is not None else d.html
        cols["text"].append(text)
        cols["url"].append(d.url)
        cols["host"].append(host_of(d.url))
        cols["snapshot"].append(d.snapshot)
        cols["warc_file"].append(d.warc_file)
        cols["warc_offset"].append(d.warc_offset)
        cols["warc_length"].append(d.warc_length)
        cols["warc_record_id"].append(d.warc_record_id)
        cols["warc_date"].append(d.warc_date)
        cols["http_status"].append(d.http_status)
        cols["content_type"].append(d.content_type)
        cols["charset"].append(d.charset or None)
        cols["charset_source"].append(d.charset_source or None)
        cols["replacement_chars"].append(d.replacement_chars)
        cols["detect_method"].append(d.detect_method)
        cols["lang"].append(d.lang or None)
        cols["lang_score"].append(d.lang_score if d.lang else None)
        cols["num_chars"].append(len(text) if text is not None else 0)
        cols["payload_bytes"].append(d.payload_bytes)
        cols["cluster_size"].append(d.cluster_size)
        measures = d.quality_measures or {}
        for name, _ in quality_measures:
            cols[f"q_{name}"].append(measures.get(name))
    return pa.table(cols, schema=schema)


def table_to_docs(table: pa.Table) -> list[Doc]:
    """Documents back from a table written by :func:`docs_to_table` (the per-file checkpoints
    that the dedup stage reads)."""
    q_cols = [n for n in table.column_names if n.startswith("q_")]
    docs = []
    for r in table.to_pylist():
        d = Doc(
            snapshot=r["snapshot"], warc_file=r["warc_file"], warc_offset=r["warc_offset"],
            warc_length=r["warc_length"], warc_record_id=r["warc_record_id"], warc_date=r["warc_date"],
            url=r["url"], http_status=r["http_status"], content_type=r["content_type"],
            payload_bytes=r.get("payload_bytes") or 0, text=r["text"], detect_method=r["detect_method"],
            charset=r["charset"] or "", charset_source=r["charset_source"] or "",
            replacement_chars=r["replacement_chars"], lang=r["lang"] or "",
            lang_score=r["lang_score"] if r["lang_score"] is not None else 0.0,
        )
        if q_cols:
            d.quality_measures = {n[2:]: r[n] for n in q_cols}
        docs.append(d)
    return docs
