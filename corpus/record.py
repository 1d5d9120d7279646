"""The document record that flows through the stages, and the Parquet output schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import urlsplit

import pyarrow as pa

from .errors import ConfigError
from .settings import check_settings, setting

__all__ = ["OutputConfig", "Doc", "Column", "OUTPUT_SCHEMA", "output_schema", "host_of", "docs_to_table", "table_to_docs"]


@dataclass(frozen=True)
class OutputConfig:
    compression: str = "zstd"
    row_group_rows: int = setting(10_000, 1, 1_000_000)
    #: Write every document's quality signals as columns (the 21 measures q_<measure>, the
    #: NG-word fraction, script shares, PII counts, the quality model's score): re-filter later
    #: without reading Common Crawl again (docs/schema.md).
    signals: bool = True
    #: Also write the Japanese documents dropped after language ID (quality, ngwords, hosts,
    #: pii, quality_model) to OUT/rejected/, with their stage and reason.
    rejected: bool = False

    def validate(self) -> None:
        if self.compression not in ("zstd", "snappy", "gzip", "none"):
            raise ConfigError("output.compression must be zstd, snappy, gzip or none")
        check_settings(self, "output")


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
    #: PII matches per kind (the pii stage)
    pii_counts: dict | None = None
    #: the quality model's score, the probability of its label (``quality_model`` stage)
    quality_score: float | None = None
    #: shares of hiragana, katakana, kanji and ASCII of the written text (computed at write)
    script_ratios: dict | None = None
    #: (stage, reason) of a document written to OUT/rejected/
    rejected: tuple[str, str] | None = None
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


@dataclass(frozen=True)
class Column:
    """An extra output column (the signal columns, ``pipelines/output.py``): how to read it from
    a document and, for the checkpoint parts the dedup stage reads back, how to restore it."""

    name: str
    type: str  # an Arrow type alias: "float32", "int32", "int64", "float64"
    doc: str
    get: Callable[[Doc], Any]
    put: Callable[[Doc, Any], None] | None = None


def output_schema(columns: tuple[Column, ...] = ()) -> pa.Schema:
    """The output schema, with the extra columns after the fixed ones."""
    schema = OUTPUT_SCHEMA
    for c in columns:
        schema = schema.append(pa.field(c.name, pa.type_for_alias(c.type), nullable=True, metadata={"doc": c.doc}))
    return schema.with_metadata(OUTPUT_SCHEMA.metadata)


def docs_to_table(docs: list[Doc], columns: tuple[Column, ...] = ()) -> pa.Table:
    schema = output_schema(columns)
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
        for c in columns:
            cols[c.name].append(c.get(d))
    return pa.table(cols, schema=schema)


def table_to_docs(table: pa.Table, columns: tuple[Column, ...] = ()) -> list[Doc]:
    """Documents back from a table written by :func:`docs_to_table` (the per-file checkpoints
    that the dedup stage reads); the extra ``columns`` present in the table are restored."""
    present = [c for c in columns if c.put is not None and c.name in table.column_names]
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
        for c in present:
            c.put(d, r[c.name])
        docs.append(d)
    return docs
