"""What a stage is: one class that declares the stage and runs it.

A stage class carries everything the rest of the project knows about the stage, next to the
code that emits it::

    class LangIdStage(Stage):
        name = "langid"
        summary = "fastText language ID (plus the kana check)"
        settings = LangIdConfig                   # its section of the configuration: --set langid.…
        reasons = (
            *Reason.kept("probability of Japanese at least langid.threshold …", "ja"),
            *Reason.dropped("probability of Japanese below the threshold", "below_threshold"),
        )
        details = (DetailKind("hist:lang_score", "bin lower edge", "the score of every document scored"),)

        def setup(self, config, resources):       # once per worker: settings, heavy objects
            self.cfg = config.langid
            self.lid = resources.get(("langid_model", path), lambda: LanguageIdentifier(path))

        def apply(self, doc, count):              # once per document: exactly one outcome
            ...
            count.dropped("below_threshold", chars=n)
            return None                           # or the document, to keep it

The declaration (class attributes):

* ``name``, ``summary``; ``chars`` and ``bytes``: what the character and byte measures of its
  rows count;
* ``reasons``: every reason code with its outcome (``kept`` / ``dropped`` / ``error``).  A kept
  row's reason is the stage's sub-category, so a stage's kept documents are the sum of its kept
  rows.  A family of codes (``ut1_<category>``, ``<codec>:<source>``) is one entry with a
  ``pattern``.  Every per-file stage also gets ``stage_exception`` (added here);
* ``details``: the kinds of detail rows it writes to ``details.json`` (a ``hist:<measure>``
  kind with a ``title`` is a histogram the report draws);
* ``settings``: its frozen settings dataclass, the section ``section`` (default: the stage's
  name) of the pipeline configuration; ``enabled_by``: a field of those settings that turns an
  optional stage on (an optional stage that is off is not part of the run at all);
* :meth:`Stage.columns`: the output columns it adds (name, Arrow type, doc string), which it
  sets in ``doc.signals``; derived from its settings, so a stage can have one column per
  configured model; :meth:`Stage.assets`: the files and folders its settings name (models,
  lists), which the launcher checks exist, on an installed file system, before the run;
* ``per_file`` (False: implemented by the Beam graph after every file is committed: ``dedup``,
  ``write``), ``changes_char_unit`` (its kept characters are in another unit than what it
  received: bytes → HTML → text), ``progress_on_kept`` (a progress counter for its kept documents).

The registry (``jawebcorpus/registry.py``) is the ordered list of these classes.  ``count`` is
bound to the stage and the document (its snapshot and bytes): ``count.kept``, ``count.dropped``
and ``count.error`` record the document's one outcome with a reason the stage class declares
(an undeclared reason raises), ``count.detail`` adds a detail row.  How a WARC file runs
through stages: :mod:`.process`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from .paths import is_remote, local_path
from .stats import OUTCOMES, StatsAccumulator

if TYPE_CHECKING:  # the record module imports pyarrow; the extraction child imports this one
    from .record import Doc

__all__ = ["OUTCOMES", "Reason", "DetailKind", "Column", "Asset", "STAGE_EXCEPTION", "Stage", "Count",
           "Resources", "LocalResources"]


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

    # reasons of one outcome that share a meaning: ``*Reason.dropped("no payload", "empty_body")``
    @classmethod
    def kept(cls, meaning: str, *codes: str) -> tuple["Reason", ...]:
        return tuple(cls(c, "kept", meaning) for c in codes)

    @classmethod
    def dropped(cls, meaning: str, *codes: str) -> tuple["Reason", ...]:
        return tuple(cls(c, "dropped", meaning) for c in codes)

    @classmethod
    def error(cls, meaning: str, *codes: str) -> tuple["Reason", ...]:
        return tuple(cls(c, "error", meaning) for c in codes)


@dataclass(frozen=True)
class DetailKind:
    kind: str  # the ``kind`` key of a details.json row (``hist:<measure>``, ``rule_fails`` …)
    names: str  # what the ``name`` key holds
    meaning: str
    #: a histogram's title in the report (``hist:<measure>`` kinds)
    title: str | None = None


@dataclass(frozen=True)
class Column:
    """An output column a stage adds: its value is ``doc.signals[name]`` (null when absent)."""

    name: str
    type: str  # an Arrow type alias: "float32", "float64", "int32", "int64", "string"
    doc: str


@dataclass(frozen=True)
class Asset:
    """A file or folder a stage's settings name (a model, a list): local or on object storage."""

    what: str  # how messages name it ("quality model")
    path: str | None  # None: not set
    is_dir: bool = False


#: Every per-file stage can fail on one document without failing its file.
STAGE_EXCEPTION = Reason("stage_exception", "error",
                         "the stage raised on this document (a bug or an input it cannot handle; "
                         "the exception class is logged with the record's provenance)")


class Stage:
    """A stage: its declaration (class attributes, see the module docstring), then ``setup``
    once per worker and ``apply`` to each document."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    chars: ClassVar[str] = "text characters"
    bytes: ClassVar[str] = "HTTP payload bytes"
    reasons: ClassVar[tuple[Reason, ...]] = ()
    details: ClassVar[tuple[DetailKind, ...]] = ()
    #: its settings dataclass (None: no settings), the section ``section`` (default ``name``)
    settings: ClassVar[type | None] = None
    section: ClassVar[str] = ""
    #: a field of its settings that turns the stage on (true when set); None: always on
    enabled_by: ClassVar[str | None] = None
    #: True for a stage added after runs existed: while it is off, its settings stay out of the
    #: run's fingerprint (they cannot change results), so runs of earlier versions still resume
    fingerprint_when_on: ClassVar[bool] = False
    per_file: ClassVar[bool] = True
    changes_char_unit: ClassVar[bool] = False
    #: a progress counter increased for every document the stage keeps (e.g. "japanese")
    progress_on_kept: ClassVar[str | None] = None
    _outcome_cache: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.per_file and STAGE_EXCEPTION not in cls.reasons:
            cls.reasons = (*cls.reasons, STAGE_EXCEPTION)
        cls._outcome_cache = {}

    # -- the declaration, read ----------------------------------------------------------------
    @classmethod
    def config_section(cls) -> str:
        """Its section of the pipeline configuration (``--set <section>.<field>=…``)."""
        return cls.section or cls.name

    @classmethod
    def settings_in(cls, config: Any) -> Any:
        """Its settings in a pipeline configuration (None when it has none)."""
        return getattr(config, cls.config_section(), None) if cls.settings is not None else None

    @classmethod
    def enabled(cls, config: Any = None) -> bool:
        """An optional stage runs when its ``enabled_by`` setting is true in ``config``; without
        a configuration every stage counts as enabled."""
        if cls.enabled_by is None or config is None:
            return True
        return bool(getattr(cls.settings_in(config), cls.enabled_by, None))

    @classmethod
    def columns(cls, settings: Any) -> tuple[Column, ...]:
        """The output columns it adds, given its settings (``settings_in(config)``)."""
        return ()

    @classmethod
    def assets(cls, settings: Any) -> tuple[Asset, ...]:
        """The files and folders its settings name (checked before the run)."""
        return ()

    @classmethod
    def reason(cls, code: str) -> Reason | None:
        for r in cls.reasons:
            if r.pattern is None and r.code == code:
                return r
        for r in cls.reasons:
            if r.pattern is not None and r.matches(code):
                return r
        return None

    @classmethod
    def outcome_of(cls, code: str) -> str | None:
        """The declared outcome of a reason code (None when it is not declared)."""
        cache = cls._outcome_cache
        if code not in cache:
            if len(cache) > 4096:  # families (ut1_<category>, <codec>:<source>) are open-ended
                cache.clear()
            r = cls.reason(code)
            cache[code] = r.outcome if r else None
        return cache[code]

    @classmethod
    def codes(cls, outcome: str | None = None) -> tuple[str, ...]:
        """The fixed reason codes (not families), optionally of one outcome, in declared order."""
        return tuple(r.code for r in cls.reasons if r.pattern is None and (outcome is None or r.outcome == outcome))

    # -- running ------------------------------------------------------------------------------
    def setup(self, config: Any, resources: "Resources") -> None:
        """Read the stage's settings from the pipeline configuration; load heavy objects."""

    def apply(self, doc: "Doc", count: "Count") -> "Doc | None":
        """Record exactly one outcome for ``doc`` on ``count``; return it to keep it."""
        raise NotImplementedError(f"stage {self.name} is implemented by the Beam graph, not by apply")

    def teardown(self) -> None:
        """Release what ``setup`` acquired (child processes, files)."""


class Count:
    """Outcome and detail counter of one stage, bound to the current document with :meth:`bind`."""

    __slots__ = ("stats", "details", "stage", "declared", "snapshot", "nbytes", "outcome", "reason", "chars",
                 "_checked", "sampler")

    def __init__(self, stage: type[Stage], stats: StatsAccumulator | None = None,
                 details: StatsAccumulator | None = None):
        self.declared = stage  # the stage class whose reasons are checked
        self.stage = stage.name
        self.stats = stats if stats is not None else StatsAccumulator()
        self.details = details if details is not None else StatsAccumulator()
        self.snapshot = ""
        self.nbytes = 0
        self.outcome: str | None = None
        self.reason: str | None = None
        self.chars = 0
        self._checked: set[tuple[str, str]] = set()
        #: set by process_file when samples are kept: (stage, name, make_record) → None
        self.sampler: Callable[[str, str, Callable[[], dict]], None] | None = None

    def bind(self, snapshot: str, nbytes: int) -> "Count":
        """The next outcome belongs to a document of ``snapshot`` with ``nbytes`` bytes."""
        self.snapshot = snapshot
        self.nbytes = nbytes
        self.outcome = self.reason = None
        return self

    def _add(self, outcome: str, reason: str, chars: int) -> None:
        key = (outcome, reason)
        if key not in self._checked:
            declared = self.declared.outcome_of(reason)
            if declared != outcome:
                raise ValueError(f"stage {self.stage}: reason {reason!r} is not declared as {outcome} by "
                                 f"{self.declared.__qualname__}.reasons (declared: {declared})")
            self._checked.add(key)
        self.outcome, self.reason, self.chars = outcome, reason, chars
        self.stats.add(self.snapshot, self.stage, outcome, reason, 1, chars, self.nbytes)

    def retract(self) -> None:
        """Take back the outcome recorded for the current document (its stage then failed)."""
        if self.outcome is not None:
            self.stats.add(self.snapshot, self.stage, self.outcome, self.reason, -1, -self.chars, -self.nbytes)
            self.outcome = self.reason = None

    def kept(self, reason: str, chars: int = 0) -> None:
        self._add("kept", reason, chars)

    def dropped(self, reason: str, chars: int = 0) -> None:
        self._add("dropped", reason, chars)

    def error(self, reason: str, chars: int = 0) -> None:
        self._add("error", reason, chars)

    def detail(self, kind: str, name: str, chars: int = 0, nbytes: int = 0, docs: int = 1) -> None:
        self.details.add(self.snapshot, self.stage, kind, name, docs, chars, nbytes)

    def sample(self, name: str, make_record: Callable[[], dict]) -> None:
        """Offer an audit example (e.g. a masked span with its context) under ``name``; it is
        kept, like drop samples, for the first ``--samples-per-reason`` of each name per file.
        ``make_record`` is called only when the example is kept."""
        if self.sampler is not None:
            self.sampler(self.stage, name, make_record)


class Resources:
    """What a worker process gives its stages: heavy objects shared by every stage (a
    language-ID model is loaded once even when two stages use it), and assets (models, lists)
    that may live on object storage, as local paths.

    ``get`` builds a shared object on first use.  ``local_path`` / ``local_dir`` return a local
    copy of a file / of the named files of a folder; here only local paths are accepted, the
    Beam pipeline's resources also fetch ``gs://``, ``s3://`` and other file systems of Beam.
    """

    def get(self, key: tuple, factory: Callable[[], Any]) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def local_path(self, path: str) -> str:
        if is_remote(path):
            raise ValueError(f"{path}: assets on remote storage are fetched by the pipeline's file systems")
        return local_path(path)

    def local_dir(self, path: str, names: list[str]) -> str:
        """A local folder holding ``names`` (relative paths) of the folder ``path``; names that
        do not exist there are absent."""
        return self.local_path(path)


class LocalResources(Resources):
    """A dictionary of shared objects, safe to use from several threads."""

    def __init__(self) -> None:
        self._objects: dict[tuple, Any] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple, factory: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._objects:
                self._objects[key] = factory()
            return self._objects[key]
