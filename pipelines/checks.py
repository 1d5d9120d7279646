"""What the launcher checks before anything is written (docs/untrusted-input.md, "Options,
settings and assets").

* :func:`unknown_options`: every ``--option`` of ``jawebcorpus run`` is either ours or one of
  Beam's (every registered ``PipelineOptions`` class), else it is refused, with the closest
  known names (Beam itself would discard it with a warning).
* :func:`check_beam_options`: Beam's settings we rely on, in range.
* :func:`check_path_args`: every path option is a usable path (not empty, UTF-8, no control
  characters).
* :func:`check_assets`: every file or folder the configuration names exists and is what it
  claims: fastText models walked and test-loaded (:mod:`filters.fasttext_check`), a UT1
  folder holding ``<category>/domains`` files, NG-word lists that parse; the band index of
  ``--against`` is checked by :func:`.dedup_index.check_index_spec`.

Each raises :class:`ConfigError` with one line; the CLI prints it and exits 2.
"""

from __future__ import annotations

import argparse
import difflib
import os

from jawebcorpus import registry
from jawebcorpus.corpus import paths
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.settings import Range

from . import storage

__all__ = ["unknown_options", "check_beam_options", "argv_problem", "check_path_args", "plain_local_paths",
           "check_file_systems", "check_assets", "DIRECT_NUM_WORKERS", "PATH_OPTIONS"]

#: ``--direct_num_workers``: Beam's local runner starts this many workers; 0 means one per CPU.
DIRECT_NUM_WORKERS = Range(0, 256, integer=True)
#: Options of ``jawebcorpus run`` whose values are paths or URLs (attribute, flag).
PATH_OPTIONS = (("input", "--input"), ("output", "--output"), ("cc_base", "--cc-base"), ("against", "--against"),
                ("write_index", "--write-index"), ("input_list", "--input-list"), ("langid_model", "--langid-model"),
                ("quality_model", "--quality-model"), ("ut1_dir", "--ut1-dir"), ("s3_endpoint_url", "--s3-endpoint-url"),
                ("decontaminate", "--decontaminate"))
#: NG-word list files larger than this are refused (the bundled lists are a few kB).
MAX_LIST_BYTES = 64 << 20


# -- options -------------------------------------------------------------------------------------
class _Refused(Exception):
    pass


def _beam_parser() -> argparse.ArgumentParser:
    """A parser that knows every option of every ``PipelineOptions`` class Beam has registered
    (Beam builds its own the same way, from ``PipelineOptions.__subclasses__()``), and raises
    instead of exiting."""
    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    class Parser(_BeamArgumentParser):
        def error(self, message):
            raise _Refused(message)

    parser = Parser(allow_abbrev=False, add_help=False)
    seen, todo = set(), list(PipelineOptions.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        todo.extend(cls.__subclasses__())
        try:
            cls._add_argparse_args(parser)  # noqa: SLF001 (Beam's own registration hook)
        except argparse.ArgumentError:  # a subclass repeating its parent's options
            pass
    return parser


def _option_names(parser: argparse.ArgumentParser) -> list[str]:
    return [s for a in parser._actions for s in a.option_strings if s.startswith("--")]  # noqa: SLF001


def unknown_options(beam_args: list[str], ours: list[str]) -> str | None:
    """Why the arguments left over by our parser cannot run (an option neither we nor Beam know,
    or a value Beam's parser refuses), or None."""
    if any(a.startswith("--dask") or "DaskRunner" in a for a in beam_args):
        # Beam registers --dask_* (DaskOptions) only when its Dask runner module is imported
        try:
            import apache_beam.runners.dask.dask_runner  # noqa: F401
        except ImportError:  # dask not installed: the runner check says so
            pass
    parser = _beam_parser()
    try:
        _, unknown = parser.parse_known_args(beam_args)
    except _Refused as exc:
        return f"bad Beam option: {exc}"
    for arg in unknown:
        if arg.startswith("-"):
            name = arg.split("=", 1)[0]
            close = difflib.get_close_matches(name, ours + _option_names(parser), n=3, cutoff=0.75)
            hint = f" (did you mean {' or '.join(close)}?)" if close else ""
            return (f"unknown option {paths.shown(name, 80)}{hint}; jawebcorpus run --help lists its options, any "
                    "other must be one of Apache Beam's pipeline options")
    if unknown:
        return f"unexpected argument {paths.shown(unknown[0], 80)}"
    return None


def check_beam_options(options) -> None:
    """Beam's settings we rely on: ``--direct_num_workers`` (0: one per CPU, Beam's meaning)."""
    from apache_beam.options.pipeline_options import DirectOptions

    DIRECT_NUM_WORKERS.check("--direct_num_workers", options.view_as(DirectOptions).direct_num_workers)


def argv_problem(argv: list[str]) -> str | None:
    """Why the command line cannot be used as text: an argument with bytes that are not UTF-8
    (Python hands them over as lone surrogates), or None."""
    for i, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            flag = arg.split("=", 1)[0] if arg.startswith("--") else (argv[i - 1] if i and argv[i - 1].startswith("--") else "")
            where = f"{flag} " if flag else ""
            return f"{where}{paths.shown(arg, 120)!r}: bytes that are not UTF-8 (arguments and paths must be UTF-8)"
    return None


def check_path_args(args) -> None:
    """Every path option given is a usable path (an empty one would silently mean "none")."""
    for attr, flag in PATH_OPTIONS:
        value = getattr(args, attr, None)
        for v in (value if isinstance(value, list) else [value]):
            if v is None:
                continue
            why = paths.path_problem(v)
            if why is not None:
                raise ConfigError(f"{flag} {paths.shown(v)!r}: {why}")


def plain_local_paths(args) -> None:
    """``file://`` URLs of the output, index and model options as plain paths (Beam's file
    systems have no ``file://``; ``corpus.paths`` treats them as local)."""
    for attr in ("output", "against", "write_index", "langid_model", "quality_model", "ut1_dir"):
        value = getattr(args, attr, None)
        if isinstance(value, str):
            setattr(args, attr, paths.local_path(value))


def check_file_systems(cfg, output: str | None = None, against: str | None = None,
                       write_index: str | None = None) -> None:
    """Every remote path the run writes or reads through Beam has a file system installed
    (``gs://`` needs ``apache-beam[gcp]``)."""
    named = [("--output", output), ("--against", against), ("--write-index", write_index),
             *((a.what, a.path) for a in registry.assets(cfg))]
    for what, path in named:
        if path and paths.is_remote(path):
            if not storage.has_file_system(path):
                raise ConfigError(f"{what} {path}: no file system for {paths.scheme(path)}:// is installed (gs:// "
                                  "needs pip install 'jawebcorpus[dataflow]', s3:// 'jawebcorpus[aws]')")


# -- assets --------------------------------------------------------------------------------------
def _remote_size(path: str) -> int | None:
    from apache_beam.io.filesystems import FileSystems

    try:
        return FileSystems.get_filesystem(path).metadata(path).size_in_bytes
    except Exception:  # absent, or the store cannot say: reading it will tell
        return None


def _model(what: str, path: str, label: str | None):
    from jawebcorpus.filters.fasttext_check import MAX_MODEL_BYTES, ModelFileError, check_model

    local = path
    if not storage.is_local(path):
        size = _remote_size(path)
        if size is not None and size > MAX_MODEL_BYTES:
            raise ConfigError(f"{what} {path} is {size:,} bytes: larger than {MAX_MODEL_BYTES:,}")
        try:  # into the cache the workers of this machine use (so it is copied once)
            if what.startswith("quality model"):  # its stage copies the model with its training record
                name = os.path.basename(path)
                local = os.path.join(storage.local_dir_copy(os.path.dirname(path), [name, name + ".json"]), name)
            else:
                local = storage.local_copy(path)
        except Exception as exc:  # the store's error, whatever its type
            raise ConfigError(f"{what} {path} cannot be read: {type(exc).__name__}: {exc}") from None
    elif not os.path.isfile(paths.local_path(path)):
        raise ConfigError(f"{what} {path} is not a regular file")
    try:
        return check_model(paths.local_path(local), what, label)
    except ModelFileError as exc:
        raise ConfigError(str(exc).replace(local, path)) from None


def _ut1(cfg) -> None:
    d, cats = cfg.hosts.ut1_dir, cfg.hosts.ut1_categories
    found = 0
    for c in cats:
        if storage.is_local(d):
            p = os.path.join(paths.local_path(d), c, "domains")
            if not os.path.lexists(p):
                continue
            if not os.path.isfile(p):
                raise ConfigError(f"UT1 blocklist directory {d}: {c}/domains is not a regular file")
            try:
                with open(p, "rb") as fh:
                    fh.read(1)
            except OSError as exc:
                raise ConfigError(f"UT1 blocklist directory {d}: {c}/domains cannot be read ({exc.strerror})") from None
            found += 1
        else:
            found += storage.exists(storage.join(d, c, "domains"))
    if not found:
        shown = ", ".join(cats[:6]) + (" …" if len(cats) > 6 else "")
        raise ConfigError(f"UT1 blocklist directory {d} is not a UT1 list: it holds no <category>/domains file "
                          f"for the selected categories ({shown}); set hosts.ut1_categories to the ones it has")


def _ngword_lists(cfg) -> None:
    import dataclasses

    from jawebcorpus.filters.ngwords import NgListError, load_lists

    ng = cfg.ngwords
    local = storage.local_dir_copy(ng.lists_dir, [f"{c}.txt" for c in ng.categories])
    for c in ng.categories:
        p = os.path.join(local, f"{c}.txt")
        if os.path.isfile(p) and os.path.getsize(p) > MAX_LIST_BYTES:
            raise ConfigError(f"NG-word list {c}.txt in {ng.lists_dir} is larger than {MAX_LIST_BYTES:,} bytes")
    try:
        load_lists(dataclasses.replace(ng, lists_dir=local))
    except (NgListError, ValueError, OSError) as exc:
        raise ConfigError(f"NG-word lists {ng.lists_dir}: {exc}".replace(local, ng.lists_dir)) from None


def _decontam_files(cfg) -> None:
    """Every --decontaminate file reads as items (UTF-8, JSON Lines or one text a line), holds at
    least one, and all of them fit decontaminate.max_index_ngrams: the index is built once here."""
    from jawebcorpus.filters.hygiene import load_index

    dc = cfg.decontaminate
    local = []
    for path in dc.files:
        if storage.is_local(path):
            p = paths.local_path(path)
            if not os.path.isfile(p):
                raise ConfigError(f"--decontaminate {path}: not a regular file")
            local.append(p)
        else:
            try:
                local.append(storage.local_copy(path))
            except Exception as exc:  # the store's error, whatever its type
                raise ConfigError(f"--decontaminate {path} cannot be read: {type(exc).__name__}: {exc}") from None
    try:
        index = load_index(dc, local)
    except OSError as exc:
        raise ConfigError(f"--decontaminate: {type(exc).__name__}: {exc.strerror or exc}") from None
    if not len(index):
        raise ConfigError(f"--decontaminate: every item is shorter than decontaminate.n = {dc.n} normalised "
                          f"characters ({index.stats.short:,} items): nothing could be matched")


def check_assets(cfg) -> None:
    """Every file or folder the configuration names exists and is usable (local or on object
    storage: call after the file systems have their options)."""
    from jawebcorpus.filters.langid import default_model_path

    for asset in registry.assets(cfg):  # every file and folder a stage's settings name exists
        what, path, is_dir = asset.what, asset.path, asset.is_dir
        if storage.is_local(path):
            local = paths.local_path(path)
            ok = os.path.isdir(local) if is_dir else os.path.exists(local)
        else:
            # a folder on object storage is a prefix with a file at any depth (UT1: <dir>/<category>/domains)
            ok = bool(storage.match(storage.join(path, "**"), limit=1)) if is_dir else storage.exists(path)
        if not ok:
            raise ConfigError(f"{what} not found: {path}")
    try:
        langid = cfg.langid.model_path or default_model_path()
    except FileNotFoundError as exc:
        raise ConfigError(str(exc)) from None
    _model("language-ID model", langid, "__label__ja")
    if cfg.quality_model.path:
        _model("quality model", cfg.quality_model.path, cfg.quality_model.full_label)
    for m in cfg.quality_model.models:  # named models: their labels fit how they are read
        m.check_labels(_model(f"quality model {m.name}", m.path, None).labels)
    if cfg.hosts.ut1_dir:
        _ut1(cfg)
    if cfg.ngwords.lists_dir:
        _ngword_lists(cfg)
    if cfg.decontaminate.files:
        _decontam_files(cfg)
