"""The document record that flows through the stages, the Parquet output schema, and the write stage.

A :class:`Doc` carries its provenance, its payload (raw body → decoded HTML → extracted text)
and ``signals``: the values of the output columns the stages add (``Stage.columns``: the 21
quality measures, the NG-word share, PII counts, the quality model's score …).  The Parquet
schema is the fixed columns of :data:`FIXED_COLUMNS` (one entry per column: its type, its doc
string, the document attribute it holds) followed by the run's signal columns
(``registry.signal_columns``); :func:`docs_to_table` and :func:`table_to_docs` convert both
ways (the per-file checkpoint parts the dedup stage reads back restore ``doc.signals``).
:class:`WriteStage` declares the ``write`` stage, which the Beam graph implements
(``pipelines/output.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

import pyarrow as pa

from .errors import ConfigError
from .settings import check_settings, setting
from .stage import Column, DetailKind, Reason, Stage
from .stats import SCRIPTS

__all__ = ["OutputConfig", "Doc", "FixedColumn", "FIXED_COLUMNS", "OUTPUT_SCHEMA", "output_schema", "host_of",
           "docs_to_table", "table_to_docs", "WriteStage"]


@dataclass(frozen=True)
class OutputConfig:
    compression: str = "zstd"
    row_group_rows: int = setting(10_000, 1, 1_000_000)
    #: Write every document's quality signals as columns (the columns the stages declare: the
    #: 21 measures q_<measure>, the NG-word fraction, script shares, PII counts, the quality
    #: model's score): re-filter later without reading Common Crawl again (docs/schema.md).
    signals: bool = True
    #: Also write the Japanese documents dropped after language ID (quality, ngwords, hosts,
    #: pii, quality_model, decontaminate) to OUT/rejected/, with their stage and reason.
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
    #: the opt-out headers of the response, every occurrence (``HttpResponse.signal_headers``)
    http_signals: tuple[tuple[str, str], ...] = ()
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
    #: the values of the stages' output columns (``Stage.columns``), by column name; written
    #: when ``output.signals`` (null where absent)
    signals: dict[str, Any] = field(default_factory=dict)
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


@dataclass(frozen=True)
class FixedColumn:
    """A column every output part has: the one declaration of its name, type and doc string,
    how it is read from a document and the attribute it is restored to."""

    name: str
    type: pa.DataType
    doc: str | None = None
    #: the :class:`Doc` attribute it holds (None: derived from others, not read back)
    attr: str | None = None
    #: its value for a document (default: the attribute)
    get: Callable[[Doc], Any] | None = None
    #: the attribute's value when the column is null
    null_as: Any = None

    def value(self, doc: Doc) -> Any:
        return self.get(doc) if self.get is not None else getattr(doc, self.attr)

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=True, metadata={"doc": self.doc} if self.doc else None)


def _text(d: Doc) -> str | None:
    return d.text if d.text is not None else d.html


def _or_null(attr: str) -> Callable[[Doc], Any]:
    return lambda d: getattr(d, attr) or None


FIXED_COLUMNS: tuple[FixedColumn, ...] = (
    FixedColumn("text", pa.large_string(), "extracted main text (null when the run stopped before extract)", "text",
                get=_text),
    FixedColumn("url", pa.string(), attr="url"),
    FixedColumn("host", pa.string(), get=lambda d: host_of(d.url)),
    FixedColumn("snapshot", pa.string(), attr="snapshot"),
    FixedColumn("warc_file", pa.string(), "path of the WARC file, relative to the crawl root when known", "warc_file"),
    FixedColumn("warc_offset", pa.int64(), "byte offset of the record's gzip member", "warc_offset"),
    FixedColumn("warc_length", pa.int64(), "compressed length of the record (-1 unknown)", "warc_length"),
    FixedColumn("warc_record_id", pa.string(), attr="warc_record_id"),
    FixedColumn("warc_date", pa.string(), "WARC-Date, ISO 8601 as in the record", "warc_date"),
    FixedColumn("http_status", pa.int32(), attr="http_status"),
    FixedColumn("content_type", pa.string(), attr="content_type"),
    FixedColumn("charset", pa.string(), "codec used to decode the page", "charset", get=_or_null("charset"), null_as=""),
    FixedColumn("charset_source", pa.string(), attr="charset_source", get=_or_null("charset_source"), null_as=""),
    FixedColumn("replacement_chars", pa.int32(), "U+FFFD produced by decoding", "replacement_chars"),
    FixedColumn("detect_method", pa.string(), attr="detect_method"),
    FixedColumn("lang", pa.string(), attr="lang", get=_or_null("lang"), null_as=""),
    FixedColumn("lang_score", pa.float32(), "fastText probability of Japanese", "lang_score",
                get=lambda d: d.lang_score if d.lang else None, null_as=0.0),
    FixedColumn("num_chars", pa.int64(), get=lambda d: len(t) if (t := _text(d)) is not None else 0),
    FixedColumn("payload_bytes", pa.int64(), "HTTP payload bytes of the page", "payload_bytes", null_as=0),
    FixedColumn("cluster_size", pa.int32(), "near-duplicate cluster size (1: unique; null: no dedup stage)",
                "cluster_size"),
)
OUTPUT_SCHEMA = pa.schema([c.field() for c in FIXED_COLUMNS], metadata={"jawebcorpus.schema": "1"})
_FIXED_NAMES = frozenset(c.name for c in FIXED_COLUMNS)


def output_schema(columns: tuple[Column, ...] = ()) -> pa.Schema:
    """The output schema, with the stages' columns (``columns``) after the fixed ones."""
    schema = OUTPUT_SCHEMA
    for c in columns:
        schema = schema.append(pa.field(c.name, pa.type_for_alias(c.type), nullable=True, metadata={"doc": c.doc}))
    return schema.with_metadata(OUTPUT_SCHEMA.metadata)


def docs_to_table(docs: list[Doc], columns: tuple[Column, ...] = ()) -> pa.Table:
    """The documents as a table of :func:`output_schema` (``columns``: from ``doc.signals``)."""
    cols: dict[str, list] = {c.name: [c.value(d) for d in docs] for c in FIXED_COLUMNS}
    for c in columns:
        cols[c.name] = [d.signals.get(c.name) for d in docs]
    return pa.table(cols, schema=output_schema(columns))


def table_to_docs(table: pa.Table) -> list[Doc]:
    """Documents back from a table written by :func:`docs_to_table` (the per-file checkpoints
    that the dedup stage reads): the fixed columns to their attributes, every other column that
    holds a value to ``doc.signals``."""
    names = table.column_names
    fixed = [c for c in FIXED_COLUMNS if c.attr is not None and c.name in names]
    extra = [n for n in names if n not in _FIXED_NAMES]
    docs = []
    for r in table.to_pylist():
        d = Doc(**{c.attr: c.null_as if r[c.name] is None else r[c.name] for c in fixed})
        for n in extra:
            if r[n] is not None:
                d.signals[n] = r[n]
        docs.append(d)
    return docs


# -- the write stage ---------------------------------------------------------------------------
def _hist(measure: str, title: str | None) -> DetailKind:
    return DetailKind(f"hist:{measure}", "bin lower edge", title or f"the {measure} of every document written",
                      title=title)


class WriteStage(Stage):
    """write: one Parquet part per input WARC file (implemented by the Beam graph,
    ``pipelines/output.py``); its settings are the ``output`` section.  The script shares of
    the written text are its columns; its histograms describe the written documents."""

    name = "write"
    summary = "one Parquet part per input WARC file"
    settings = OutputConfig
    section = "output"
    per_file = False
    reasons = (
        *Reason.kept("the document is in the output", "written"),
        *Reason.error("the final part of its WARC file could not be written (the error class is in the file "
                      "records as write_error); a rerun of the same command tries again", "write_failed"),
    )
    details = (
        _hist("num_chars", "document length (characters)"),
        _hist("hiragana", "hiragana share"),
        _hist("katakana", "katakana share"),
        _hist("kanji", "kanji share"),
        _hist("ascii", "ASCII share"),
        DetailKind("hist:lang_score", "bin lower edge", "language-ID score (probability of Japanese)"),
        DetailKind("license", "licence identifier", "documents written per licence their page declares (the "
                   "license column; only when the license stage ran and found one), their characters"),
    )

    @classmethod
    def columns(cls, settings: OutputConfig) -> tuple[Column, ...]:
        return tuple(Column(f"script_{k}", "float32", f"share of {k} among the text's characters") for k in SCRIPTS)

    @staticmethod
    def script_signals(ratios: dict[str, float]) -> dict[str, float]:
        """The script-share columns' values from :func:`corpus.stats.script_ratios`."""
        return {f"script_{k}": v for k, v in ratios.items()}
