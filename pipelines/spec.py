"""The run spec: everything a run needs, validated once, frozen.

The command line (``pipelines/cli.py``) turns its arguments into one :class:`RunSpec`;
:func:`~.run.run_pipeline` takes it and nothing else about the run.  Derived values (the
run's fingerprint, its stages) are properties, computed in one place.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.inputs import InputFile, SnapshotListing
from jawebcorpus.corpus.redact import SECRET_OPTION_RE, redact_args  # noqa: F401 (redaction lives in corpus/)
from jawebcorpus.corpus.remote import RemoteConfig
from jawebcorpus.corpus.settings import declared_ranges, setting
from jawebcorpus.registry import file_stages, run_stages, until_choices

from .config import PipelineConfig

__all__ = ["RunSpec", "redact_args", "SECRET_OPTION_RE", "CHECKPOINT_LAYOUT"]

#: Version of the checkpoint layout (pipelines/output.py): outputs written with another layout
#: count as another configuration (refused without --overwrite), never as half-done work.
CHECKPOINT_LAYOUT = "sharded-256"


@dataclass(frozen=True)
class RunSpec:
    """One run of the corpus pipeline."""

    config: PipelineConfig
    output: str
    #: the last stage that runs (``dedup``: the whole pipeline); ``write`` always follows
    until: str = "dedup"
    #: the input files, resolved (``--input``, ``--sample``)
    inputs: tuple[InputFile, ...] = ()
    #: snapshots listed inside the pipeline (``--snapshot``); then ``inputs`` is empty
    listings: tuple[SnapshotListing, ...] = ()
    #: a file listing the input files, read inside the pipeline (``--input-list``); then
    #: ``inputs`` and ``listings`` are empty
    input_list: str | None = None
    remote: RemoteConfig = field(default_factory=RemoteConfig)
    #: ``--samples-per-reason``: examples kept per drop reason (per file, then merged)
    samples_per_reason: int = setting(0, 0, 1_000_000)
    overwrite: bool = False
    strict: bool = False
    quiet: bool = True
    against_index: str | None = None
    write_index: str | None = None
    #: the command line as recorded in run.json (secrets redacted)
    command: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "command", tuple(redact_args(self.command)))
        self.validate()

    def validate(self) -> None:
        if self.until not in until_choices():
            raise ConfigError(f"--until must be one of {', '.join(until_choices())}, not {self.until!r}")
        try:
            run_stages(self.until, self.config)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.until == "boilerplate":
            raise ConfigError("--until boilerplate: the boilerplate stage runs with dedup (--until dedup), "
                              "or stop at a per-file stage")
        if self.until == "dedup" and not self.config.dedup.enabled:
            raise ConfigError("dedup is disabled (dedup.enabled=false): use --until clean")
        if (self.against_index or self.write_index) and self.until != "dedup":
            raise ConfigError("--against and --write-index need the dedup stage (do not stop before it)")
        declared_ranges(self)["samples_per_reason"].check("--samples-per-reason", self.samples_per_reason)
        if sum((bool(self.inputs), bool(self.listings), bool(self.input_list))) > 1:
            raise ConfigError("a run reads input files, snapshot listings or an input list, only one of them")
        self.config.validate()

    def replace(self, **changes) -> "RunSpec":
        return dataclasses.replace(self, **changes)

    @cached_property
    def fingerprint(self) -> str:
        """Everything that changes what a file's checkpoint holds: configuration, last stage,
        samples, and the layout of the checkpoints."""
        blob = f"{self.config.fingerprint()}|{self.until}|{self.samples_per_reason}|{CHECKPOINT_LAYOUT}".encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    @property
    def dedup(self) -> bool:
        return self.until == "dedup"

    @cached_property
    def stages(self) -> tuple[str, ...]:
        """Every stage of the run, in order (``write`` last; optional stages only when on)."""
        return run_stages(self.until, self.config)

    @cached_property
    def file_stages(self) -> tuple[str, ...]:
        """The stages each file goes through before its commit (``read`` first)."""
        return file_stages(self.until, self.config)

    @property
    def commit_stages(self) -> tuple[str, ...]:
        """The stages a file's checkpoint accounts for: up to ``write`` without dedup, the
        per-file stages with it (dedup and the final write come after every file)."""
        return self.file_stages if self.dedup else self.stages
