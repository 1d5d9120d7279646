"""The registry of the pipeline's stages: their order, reason codes, outcomes and measures.

This is the one declaration every other part reads: the statistics (row order, accounting),
the Beam graph (which stage runs where, ``--until``), the report (funnel order, rule and
histogram names), the command line and the tests (``tests/test_registry.py`` checks that every
reason the code can emit and every row of ``docs/stages.md`` is declared here, and back).

A stage declares:

* ``reasons``: every reason code with its outcome (``kept`` / ``dropped`` / ``error``).  A kept
  row's reason is the stage's sub-category, so a stage's kept documents are the sum of its kept
  rows.  A family of codes (``ut1_<category>``, ``<codec>:<source>``) is one entry with a
  ``pattern``;
* ``details``: the kinds of detail rows it writes to ``details.json``;
* ``chars`` and ``bytes``: what its character and byte measures count;
* ``impl``: the class that runs it (``module:Class``, resolved by ``pipelines/``, so this module
  imports nothing above ``corpus``); ``None`` for stages the Beam graph implements itself;
* ``per_file``: whether it runs in the fused per-file part of the pipeline (before each WARC
  file is committed) or after every file is committed (``dedup``, ``write``).

Adding a stage or a reason means one entry here, its code, and its row in ``docs/stages.md``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from functools import lru_cache

__all__ = [
    "Reason", "DetailKind", "Stage", "STAGES", "STAGE_NAMES", "PER_FILE_STAGES", "OUTCOMES",
    "FILE_ERRORS", "FILE_STATUSES", "HISTOGRAMS", "stage", "reason_outcome", "is_declared", "until_choices",
    "run_stages", "file_stages", "is_enabled",
]

OUTCOMES = ("kept", "dropped", "error")


@dataclass(frozen=True)
class Reason:
    code: str  # the reason code, or a family's template (``ut1_<category>``)
    outcome: str  # kept | dropped | error
    meaning: str
    #: a family of codes: the regular expression every member matches (``code`` is its template)
    pattern: str | None = None

    def matches(self, code: str) -> bool:
        if self.pattern is None:
            return code == self.code
        return re.fullmatch(self.pattern, code) is not None


@dataclass(frozen=True)
class DetailKind:
    kind: str  # the ``kind`` key of a details.json row (``hist:<measure>``, ``rule_fails`` …)
    names: str  # what the ``name`` key holds
    meaning: str


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    chars: str  # what the ``chars`` measure of its rows counts
    bytes: str  # what the ``bytes`` measure counts
    reasons: tuple[Reason, ...]
    details: tuple[DetailKind, ...] = ()
    impl: str | None = None
    #: a setting that turns the stage on (``section.field``, true when set): an optional stage
    #: that is off is not part of the run at all (no rows, no cost)
    enabled_by: str | None = None
    per_file: bool = True
    #: its kept characters are in another unit than what it received (bytes → HTML → text)
    changes_char_unit: bool = False

    def reason(self, code: str) -> Reason | None:
        for r in self.reasons:
            if r.pattern is None and r.code == code:
                return r
        for r in self.reasons:
            if r.pattern is not None and r.matches(code):
                return r
        return None

    def codes(self, outcome: str | None = None) -> tuple[str, ...]:
        """The fixed reason codes (not families), optionally of one outcome, in declared order."""
        return tuple(r.code for r in self.reasons if r.pattern is None and (outcome is None or r.outcome == outcome))


def _r(outcome: str, meaning: str, *codes: str, pattern: str | None = None) -> tuple[Reason, ...]:
    return tuple(Reason(c, outcome, meaning, pattern) for c in codes)


#: Record types other than ``response``: each is dropped at read with its own reason.
_RECORD_TYPES = ("warcinfo", "request", "metadata", "resource", "revisit", "conversion", "continuation")

#: Histograms of the written documents (details kind ``hist:<name>``, at ``write``; the
#: language-ID score also at ``langid`` for every scored document), with their titles.
HISTOGRAMS: dict[str, str] = {
    "num_chars": "document length (characters)",
    "hiragana": "hiragana share",
    "katakana": "katakana share",
    "kanji": "kanji share",
    "ascii": "ASCII share",
    "lang_score": "language-ID score (probability of Japanese)",
    "quality_score": "quality model score (probability of its label)",
}

#: Swallow's 21 quality rules in the reference's order (rule number, what rejects).
_QUALITY_RULES = (
    ("too_short", "1: fewer than 400 characters"),
    ("dup_line_frac", "2: duplicate lines > 30 %"),
    ("dup_sentence_frac", "3: duplicate sentences > 30 %"),
    ("dup_line_chars", "4: characters in duplicate lines > 20 %"),
    ("dup_sentence_chars", "5: characters in duplicate sentences > 20 %"),
    ("top_2gram", "6: most frequent 2-gram share > 20 %"),
    ("top_3gram", "7: most frequent 3-gram share > 18 %"),
    ("top_4gram", "8: most frequent 4-gram share > 16 %"),
    ("dup_5gram", "9: distinct repeated 5-grams > 15 %"),
    ("dup_6gram", "10: distinct repeated 6-grams > 14 %"),
    ("dup_7gram", "11: distinct repeated 7-grams > 13 %"),
    ("dup_8gram", "12: distinct repeated 8-grams > 12 %"),
    ("dup_9gram", "13: distinct repeated 9-grams > 11 %"),
    ("dup_10gram", "14: distinct repeated 10-grams > 10 %"),
    ("low_hiragana", "15: hiragana < 20 % of Japanese letters"),
    ("high_katakana", "16: katakana > 50 % of Japanese letters"),
    ("low_japanese", "17: Japanese letters < 50 % of characters"),
    ("few_japanese_letters", "18: fewer than 400 Japanese letters"),
    ("sentence_length", "19: mean sentence length < 20 or > 90"),
    ("long_sentence", "20: a sentence longer than 200 characters"),
    ("ellipsis_sentences", "21: > 20 % of sentences end with ・ or …"),
)

#: Why reading a whole WARC file failed or stopped (``files.json``: ``error``).  The record-level
#: classes that stop a file (``truncated_gzip`` …) are read-stage error reasons as well.
FILE_ERRORS: dict[str, str] = {
    "io_error": "the file cannot be opened or read",
    "remote_error": "HTTPS/S3 retries exhausted (a rerun of the same command tries the file again)",
    "remote_too_slow": "not read within --remote-deadline, or the server sent less than --remote-min-rate per "
                       "second of waiting for it (a rerun of the same command tries the file again)",
    "not_found": "the remote object does not exist (404/410, NoSuchKey)",
    "forbidden": "access denied (401/403)",
    "not_a_warc": "the file does not start with a WARC record",
    "arc_not_supported": "an ARC file (the format before WARC)",
    "unsupported_compression": "LZ4, zstd or bzip2 compression",
    "truncated_gzip": "the file ends inside a gzip member",
    "gzip_error": "bytes that do not inflate, or non-gzip data between members",
    "truncated_record": "the file ends inside a record",
    "malformed_record": "a record without a WARC/ version line or a valid Content-Length",
    "header_too_long": "a header line over 64 KiB, more than 1,000 header lines or over 1 MiB of them",
    "bad_content_length": "a record's Content-Length runs past its gzip member into the next record",
}

#: A file record's ``status`` (``OUT/stats/files/*.jsonl``): ``ok``; ``resynced`` (a gzip file
#: read to its end after skipping damaged stretches: ``resyncs``, ``skipped_bytes``; ``error``
#: is the first fault's class); ``failed`` (reading stopped at ``stopped_at`` with ``error``).
FILE_STATUSES = ("ok", "resynced", "failed")

STAGES: tuple[Stage, ...] = (
    Stage(
        "read", "every record of every WARC file; HTML responses go on as documents",
        chars="0 (no text yet)", bytes="the record block's length",
        impl="jawebcorpus.corpus.steps:ReadStage", changes_char_unit=True,
        reasons=(
            *_r("kept", "an HTML response", "html"),
            *_r("kept", "an HTML response the crawler cut (WARC-Truncated)", "html_truncated"),
            *(Reason(f"{t}_record", "dropped", "not a response record") for t in _RECORD_TYPES),
            *_r("dropped", "not a response record", "other_record_type"),
            *_r("dropped", "a response record that is not application/http", "not_http"),
            *_r("dropped", "block, or its Content-Encoding inflated, larger than read.max_record_bytes; "
                "never held in memory", "page_too_large"),
            *_r("dropped", "HTTP status outside 2xx (read.only_2xx)", "http_status"),
            *_r("dropped", "no payload", "empty_body"),
            *_r("dropped", "content type not HTML, sniffed when absent", "not_html"),
            *_r("dropped", "declared HTML but the payload is binary (NUL bytes)", "binary_body"),
            *_r("error", "a WARC header line without a name", "malformed_header"),
            *_r("error", "a warcinfo record whose isPartOf is not a usable snapshot name (letters, digits, "
                "'.', '_', '-', at most 100 characters); the file's documents keep the snapshot of their "
                "path, or unknown", "bad_snapshot_name"),
            *_r("error", "the HTTP status line or header block cannot be parsed", "malformed_http"),
            *_r("error", "Content-Encoding the body does not decode with", "bad_content_encoding"),
            *_r("error", "the file broke inside this record; reading the file stops here",
                "truncated_gzip", "gzip_error", "truncated_record", "malformed_record", "header_too_long",
                "bad_content_length"),
            *_r("error", "a gzip file's damaged stretch skipped up to the next gzip member that starts a "
                "record: docs = the broken record (0 when none had started), bytes = compressed bytes "
                "skipped", "resync_skipped"),
        ),
    ),
    Stage(
        "detect", "rapid Japanese detection on the raw bytes",
        chars="0 (no text yet)", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.jadetect:DetectStage", changes_char_unit=True,
        reasons=(
            *_r("kept", "at least detect.min_kana UTF-8 kana", "kana_utf8"),
            *_r("kept", '<html lang="ja…">', "html_lang"),
            *_r("kept", "kana in a legacy encoding, confirmed by decoding a prefix",
                "kana_cp932", "kana_euc_jp", "kana_iso2022_jp", "kana_utf16"),
            *_r("kept", "(detect.mode=swallow) the title is Japanese to fastText", "title_langid"),
            *_r("kept", "(detect.mode=off) every page goes on", "off"),
            *_r("dropped", "none of the above", "no_japanese_signal"),
        ),
    ),
    Stage(
        "decode", "charset cascade to text",
        chars="characters of the decoded HTML", bytes="HTTP payload bytes",
        impl="jawebcorpus.corpus.steps:DecodeStage", changes_char_unit=True,
        reasons=(
            Reason("<codec>:<source>", "kept", "the codec used and where the decision came from",
                   r"[a-z0-9_\-]+:(bom|http|meta|detected|fallback)(\+overruled)?"),
            *_r("dropped", "decodes to whitespace only", "empty_text"),
            *_r("error", "the codec machinery raised", "decode_error"),
        ),
        details=(DetailKind("replacement_chars", "codec", "documents with U+FFFD replacement characters and how many"),),
    ),
    Stage(
        "extract", "trafilatura main text, with a time limit per document",
        chars="extracted text when kept, HTML characters when not", bytes="HTTP payload bytes",
        impl="jawebcorpus.corpus.steps:ExtractStage", changes_char_unit=True,
        reasons=(
            *_r("kept", "main text found", "extracted"),
            *_r("dropped", "trafilatura found no main text", "extract_empty"),
            *_r("error", "over the time limit; the child is killed and restarted", "extract_timeout"),
            *_r("error", "trafilatura raised, or the child died (crash, memory limit)", "extract_error"),
        ),
    ),
    Stage(
        "langid", "fastText language ID (plus the kana check)",
        chars="text characters", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.langid:LangIdStage",
        reasons=(
            *_r("kept", "probability of Japanese at least langid.threshold and kana check passed", "ja"),
            *_r("dropped", "probability of Japanese below the threshold", "below_threshold"),
            *_r("dropped", "kana / (kana + kanji) < langid.min_kana_ratio: Chinese taken for Japanese",
                "too_few_kana"),
        ),
        details=(DetailKind("hist:lang_score", "bin lower edge", "the score of every document scored"),),
    ),
    Stage(
        "quality", "Swallow's 21 document rules",
        chars="text characters", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.quality:QualityStage",
        reasons=(
            *_r("kept", "no enabled rule rejects", "passed"),
            *(Reason(rule, "dropped", meaning) for rule, meaning in _QUALITY_RULES),
        ),
        details=(DetailKind("rule_fails", "rule", "every document each rule rejects on its own"),),
    ),
    Stage(
        "ngwords", "share of NG-word characters among Japanese letters",
        chars="text characters", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.ngwords:NgWordsStage",
        reasons=(
            *_r("kept", "no NG word", "clean"),
            *_r("kept", "NG words below the threshold", "matched"),
            *_r("dropped", "share at least ngwords.max_fraction", "ng_fraction"),
        ),
        details=(
            DetailKind("term_matched", "term", "documents containing the term, matched characters"),
            DetailKind("term_removed", "term", "documents the term occurs in that were dropped"),
        ),
    ),
    Stage(
        "hosts", "built-in suffixes and the UT1 blocklist",
        chars="text characters", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.hosts:HostsStage",
        reasons=(
            *_r("kept", "not listed", "allowed"),
            *_r("dropped", "ends in one of hosts.suffixes", "host_suffix"),
            Reason("ut1_<category>", "dropped", "the host or a parent domain is in UT1's <category>/domains",
                   r"ut1_[A-Za-z0-9_\-]+"),
        ),
    ),
    Stage(
        "clean", "punctuation normalisation and footer trimming",
        chars="characters after cleaning", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.clean:CleanStage",
        reasons=(
            *_r("kept", "what cleaning changed", "unchanged", "punctuation", "footer", "punctuation+footer"),
            *_r("dropped", "nothing left", "empty_after_clean"),
        ),
        details=(
            DetailKind("removed_chars", "footer", "documents trimmed, characters removed"),
            DetailKind("replaced_chars", "punctuation", "documents changed, characters replaced"),
        ),
    ),
    Stage(
        "pii", "personal data in Japanese text: e-mail, telephone numbers, My Number, cards, IP addresses",
        chars="text characters (after masking when kept)", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.pii:PiiStage", enabled_by="pii.enabled",
        reasons=(
            *_r("kept", "no personal data of a kind that is looked for", "unchanged"),
            *_r("kept", "spans of a kind in mask mode replaced by their placeholders", "masked"),
            *_r("dropped", "a kind in drop mode matched", "pii"),
        ),
        details=(
            DetailKind("pii_docs", "kind", "documents with a match of the kind, characters matched"),
            DetailKind("pii_matches", "kind", "matches of the kind (docs = number of matches)"),
        ),
    ),
    Stage(
        "quality_model", "a fastText quality classifier's score (the probability of its label)",
        chars="text characters", bytes="HTTP payload bytes",
        impl="jawebcorpus.filters.quality_model:QualityModelStage", enabled_by="quality_model.path",
        reasons=(
            *_r("kept", "scored (at or above quality_model.threshold when one is set)", "scored"),
            *_r("dropped", "score below quality_model.threshold", "quality_model_below"),
        ),
        details=(DetailKind("hist:quality_score", "bin lower edge", "the score of every document scored"),),
    ),
    Stage(
        "dedup", "MinHash-LSH near-duplicate removal across every snapshot of the run",
        chars="text characters", bytes="HTTP payload bytes", per_file=False,
        reasons=(
            *_r("kept", "no other document shares a band", "unique"),
            *_r("kept", "the kept copy of a cluster of two or more", "survivor"),
            *_r("dropped", "another copy of this run survives", "near_duplicate"),
            *_r("dropped", "a copy was already published (--against INDEX)", "indexed_duplicate"),
        ),
        details=(
            DetailKind("cluster_size", "size bucket", "surviving documents by cluster size"),
            DetailKind("cluster_docs", "size bucket", "documents in clusters of that size"),
            DetailKind("kept_copy_in", "snapshot", "snapshot of the surviving copy of dropped documents"),
            DetailKind("band_groups", "shared or hot", "band keys shared by two or more documents"),
            DetailKind("rounds", "round_NN", "documents whose label changed in a propagation round"),
            DetailKind("exact_finish", "labels_changed",
                       "documents whose label the exact finish after the last round changed"),
        ),
    ),
    Stage(
        "write", "one Parquet part per input WARC file",
        chars="text characters", bytes="HTTP payload bytes", per_file=False,
        reasons=(
            *_r("kept", "the document is in the output", "written"),
            *_r("error", "the final part of its WARC file could not be written (the error class is in "
                "the file records as write_error); a rerun of the same command tries again", "write_failed"),
        ),
        details=tuple(DetailKind(f"hist:{h}", "bin lower edge", title) for h, title in HISTOGRAMS.items()
                      if h != "quality_score"),
    ),
)

#: Every per-file stage can fail on one document without failing its file.
_STAGE_EXCEPTION = Reason("stage_exception", "error",
                          "the stage raised on this document (a bug or an input it cannot handle; "
                          "the exception class is logged with the record's provenance)")
STAGES = tuple(
    dataclasses.replace(s, reasons=(*s.reasons, _STAGE_EXCEPTION)) if s.per_file else s for s in STAGES
)

STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)
#: The stages each WARC file goes through before it is committed.
PER_FILE_STAGES: tuple[str, ...] = tuple(s.name for s in STAGES if s.per_file)
_BY_NAME = {s.name: s for s in STAGES}


def stage(name: str) -> Stage:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; stages: {', '.join(STAGE_NAMES)}") from None


@lru_cache(maxsize=4096)
def reason_outcome(stage_name: str, code: str) -> str | None:
    """The declared outcome of a reason code at a stage (None when it is not declared)."""
    st = _BY_NAME.get(stage_name)
    r = st.reason(code) if st else None
    return r.outcome if r else None


def is_declared(stage_name: str, outcome: str, code: str) -> bool:
    return reason_outcome(stage_name, code) == outcome


def until_choices() -> tuple[str, ...]:
    """What ``--until`` accepts: every stage but ``write`` (which always runs)."""
    return tuple(n for n in STAGE_NAMES if n != "write")


def is_enabled(st: Stage, config=None) -> bool:
    """An optional stage runs when its setting (``enabled_by``) is true in ``config``; without a
    configuration every stage counts as enabled."""
    if st.enabled_by is None or config is None:
        return True
    value = config
    for part in st.enabled_by.split("."):
        value = getattr(value, part, None)
    return bool(value)


def run_stages(until: str, config=None) -> tuple[str, ...]:
    """Every stage of a run that stops after ``until``, in order (``write`` always ends it);
    optional stages that ``config`` turns off are left out."""
    if until not in until_choices():
        raise ValueError(f"--until must be one of {', '.join(until_choices())}, not {until!r}")
    if not is_enabled(stage(until), config):
        raise ValueError(f"--until {until}: the stage is turned off by the configuration ({stage(until).enabled_by})")
    names = tuple(n for n in STAGE_NAMES[: STAGE_NAMES.index(until) + 1] if is_enabled(stage(n), config))
    return names if names[-1] == "write" else (*names, "write")


def file_stages(until: str, config=None) -> tuple[str, ...]:
    """The stages each file goes through before its commit (the per-file part of a run)."""
    return tuple(n for n in run_stages(until, config) if stage(n).per_file)
