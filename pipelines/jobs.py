"""Jobs on remote runners: the worker image's Beam version, detached launches, and the commands
that look after a job's output lock (``jawebcorpus status OUT``, ``jawebcorpus unlock OUT``).

See docs/runners.md ("Detached jobs and the output lock")."""

from __future__ import annotations

import argparse
import re
import sys

from jawebcorpus.corpus.errors import ConfigError

__all__ = ["worker_image", "image_versions", "check_worker_beam", "detach_problem", "job_lock_info",
           "job_id_of", "portable_job_state", "detached_line", "add_parsers", "cmd_status", "cmd_unlock"]

_SDK_IMAGE = re.compile(r"(?:^|/)beam_python(\d+\.\d+)_sdk$")
_VERSION = re.compile(r"^v?(\d+\.\d+\.\d+)(?:[-.]?(?:rc|dev)\d*)?$")
_BEAM_IN_TAG = re.compile(r"(?:^|[-_.])beam-?(\d+\.\d+\.\d+)(?=$|[-_])")


def worker_image(options) -> str | None:
    """The container image the workers run, where the options name one."""
    from apache_beam.options.pipeline_options import PortableOptions, WorkerOptions

    image = options.view_as(WorkerOptions).sdk_container_image
    if image:
        return image
    portable = options.view_as(PortableOptions)
    if (portable.environment_type or "").upper() == "DOCKER":
        for opt in portable.environment_options or []:
            if opt.startswith("docker_container_image="):
                return opt.split("=", 1)[1]
        return portable.environment_config or None
    return None


def image_versions(image: str) -> tuple[str | None, str | None]:
    """``(beam_version, python_minor)`` an image reference names: Beam's SDK images
    ``[registry/]apache/beam_python3.11_sdk:2.78.0``, or any image whose tag holds
    ``beam<version>`` (``jawebcorpus:0.1.0-beam2.78.0``, as docs/runners.md tags ours).
    ``None`` where the reference does not say."""
    ref = image.split("@", 1)[0]
    name, tag = ref, ""
    if ":" in ref.rsplit("/", 1)[-1]:
        name, tag = ref.rsplit(":", 1)
    m = _SDK_IMAGE.search(name)
    python = m.group(1) if m else None
    beam = None
    if m and _VERSION.match(tag):
        beam = _VERSION.match(tag).group(1)
    elif _BEAM_IN_TAG.search(tag):
        beam = _BEAM_IN_TAG.search(tag).group(1)
    return beam, python


def check_worker_beam(options, allow_mismatch: bool = False) -> str | None:
    """Refuse (:class:`ConfigError`) a remote launch whose Beam version or Python minor version
    differs from the worker image's, where the image names them; returns a note when the image
    does not say (its Beam version is then not checked), else None."""
    import apache_beam

    image = worker_image(options)
    if not image:
        return None
    beam, python = image_versions(image)
    local_python = f"{sys.version_info.major}.{sys.version_info.minor}"
    problems = []
    if beam and beam != apache_beam.__version__:
        problems.append(f"Apache Beam {apache_beam.__version__} here but {beam} in the worker image {image}")
    if python and python != local_python:
        problems.append(f"Python {local_python} here but {python} in the worker image {image}")
    if problems and not allow_mismatch:
        raise ConfigError(
            f"{'; '.join(problems)}: the launcher stages code and pickled objects the workers must load with the "
            f"same versions; install the image's versions here (pip install 'jawebcorpus[dataflow]' pins the Beam of "
            f"this package's image), or use an image built for them, or pass --allow-beam-mismatch to launch anyway")
    if beam is None:
        return (f"the Beam version of the worker image {image} cannot be read from its tag (tag images "
                f"…-beam<version>, docs/runners.md); not checked")
    return None


_LOCAL_JOB_ENVIRONMENTS = ("LOOPBACK",)


def detach_problem(options) -> str | None:
    """Why ``--detach`` cannot work with these options (None: it can): the job must run apart
    from this process."""
    from apache_beam.options.pipeline_options import PortableOptions, StandardOptions

    from .run import LOCAL_RUNNER_NAMES

    runner = options.view_as(StandardOptions).runner
    portable = options.view_as(PortableOptions)
    if runner in LOCAL_RUNNER_NAMES:
        return "--detach needs a runner that runs the job apart from this process (the local runner runs it here)"
    if "dask" in str(runner).lower():
        return "--detach cannot be used with the DaskRunner (its client in this process drives the job)"
    if portable.job_endpoint == "embed":
        return "--detach cannot be used with --job_endpoint=embed (the job service would run in this process)"
    if (portable.environment_type or "").upper() in _LOCAL_JOB_ENVIRONMENTS:
        return "--detach cannot be used with --environment_type=LOOPBACK (the workers would run in this process)"
    return None


def job_lock_info(options) -> dict:
    """What the output lock records about the runner of a remote job (before submission)."""
    from apache_beam.options.pipeline_options import GoogleCloudOptions, PortableOptions, StandardOptions

    runner = options.view_as(StandardOptions).runner
    info = {"runner": str(runner)}
    endpoint = options.view_as(PortableOptions).job_endpoint
    if endpoint and endpoint != "embed":
        info["job_endpoint"] = endpoint
    gcp = options.view_as(GoogleCloudOptions)
    if gcp.project:
        info["project"], info["region"] = gcp.project, gcp.region
    return info


def job_id_of(beam_result) -> str | None:
    """The id the runner gave a submitted job (Dataflow, portable job services), or None."""
    for getter in ("job_id", "_job_id"):
        value = getattr(beam_result, getter, None)
        try:
            value = value() if callable(value) else value
        except Exception:
            value = None
        if value:
            return str(value)
    return None


#: How long ``portable_job_state`` waits for a job service.
JOB_STATE_TIMEOUT_S = 10.0
#: What ``portable_job_state`` returns when the service answers that it does not know the job.
UNKNOWN_JOB = "NOT_FOUND"


def portable_job_state(endpoint: str, job_id: str, timeout_s: float | None = None) -> str | None:
    """A portable job service's state of a job (``RUNNING``, ``DONE``, ``FAILED`` …),
    :data:`UNKNOWN_JOB` when the service answers that it does not know the job, None when it
    does not answer."""
    try:
        import grpc
        from apache_beam.portability.api import beam_job_api_pb2, beam_job_api_pb2_grpc
    except ImportError:
        return None
    timeout_s = JOB_STATE_TIMEOUT_S if timeout_s is None else timeout_s
    channel = grpc.insecure_channel(endpoint)
    try:
        grpc.channel_ready_future(channel).result(timeout=timeout_s)
        stub = beam_job_api_pb2_grpc.JobServiceStub(channel)
        resp = stub.GetState(beam_job_api_pb2.GetJobStateRequest(job_id=job_id), timeout=timeout_s)
        return beam_job_api_pb2.JobState.Enum.Name(resp.state)
    except grpc.RpcError as exc:
        code = exc.code() if hasattr(exc, "code") else None
        if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN):
            return UNKNOWN_JOB  # it answered, and does not have the job (a job service that restarted forgets)
        return None
    except Exception:
        return None
    finally:
        channel.close()


def detached_line(output: str, job_id: str | None, info: dict) -> str:
    """The one line ``--detach`` prints: the job, how to follow it and how to cancel it."""
    runner = info.get("runner") or "the runner"
    job = job_id or "(the runner gave no id)"
    if "dataflow" in runner.lower():
        region = f" --region={info['region']}" if info.get("region") else ""
        follow = f"gcloud dataflow jobs show {job}{region} (or the Dataflow console), jawebcorpus status {output}"
        cancel = f"gcloud dataflow jobs cancel {job}{region}"
    else:
        at = f" at {info['job_endpoint']}" if info.get("job_endpoint") else ""
        follow = f"jawebcorpus status {output} (asks the job service{at})"
        cancel = "with the cluster's own tools (Flink: flink cancel or its web UI; Spark: its web UI)"
    return (f"[jawebcorpus] detached: job {job} submitted to {runner}; follow: {follow}; cancel: {cancel}; "
            f"the job writes {output}/stats/run.json and releases {output}/_lock.json as its last step")


# -- commands --------------------------------------------------------------------------------------
def add_parsers(sub) -> None:
    """``status``, ``unlock`` and ``failed-files`` (pipelines/input_list.py runs the last one)."""
    st = sub.add_parser("status", help="who holds an output folder (a run, a detached job) and how its last run ended",
                        description="Read OUT/_lock.json (asking a portable job service for its job's state) and "
                                    "OUT/stats/run.json.")
    st.add_argument("output", metavar="OUT", help="the --output of jawebcorpus run")
    un = sub.add_parser("unlock", help="break the lock of an output folder whose run or job you know is dead",
                        description="Remove OUT/_lock.json.  Refused while its holder is provably alive (a process "
                                    "of this machine, a job its job service reports running) unless --force.")
    un.add_argument("output", metavar="OUT", help="the --output of jawebcorpus run")
    un.add_argument("--force", action="store_true", help="remove the lock even though its holder looks alive")
    ff = sub.add_parser(
        "failed-files", help="print the failed input files of a run, one per line (an --input-list)",
        description="Read OUT/stats/files/*.jsonl and print the path of every file whose status is not ok or "
                    "whose part could not be written, one per line: a list for jawebcorpus run --input-list.",
        epilog="example:\n  jawebcorpus failed-files out/ > failed.txt\n"
               "  jawebcorpus run --input-list failed.txt --output out-retry/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ff.add_argument("output", metavar="OUT", help="the --output of jawebcorpus run")
    ff.add_argument("--error", action="append", metavar="CLASS",
                    help="only files failed with this error class (repeatable), e.g. --error remote_error")


def cmd_status(args) -> int:
    from . import storage
    from .lock import assess, describe, read_lock

    status, rec = read_lock(args.output)
    if status == "absent":
        print(f"{args.output}: no run holds it")
    elif status == "bad":
        print(f"{args.output}: the lock file is unreadable (a crashed run's): the next run takes it over")
    else:
        verdict = assess(rec)
        print(f"{args.output}: held by {describe(rec)}; {verdict.why}"
              + ("; stale: the next run takes it over" if verdict.stale else ""))
    try:
        run = storage.read_json(storage.join(args.output, "stats", "run.json"))
    except Exception:
        run = None
    if isinstance(run, dict):
        problems = run.get("accounting_problems") or []
        print(f"last finished run: started {run.get('started')}, {run.get('seconds')} s, runner {run.get('runner')}, "
              + (f"{len(problems)} accounting problems" if problems else "statistics add up"))
    return 0


def cmd_unlock(args) -> int:
    from . import storage
    from .lock import LOCK_NAME, assess, describe, read_lock

    status, rec = read_lock(args.output)
    if status == "absent":
        print(f"{args.output}: no lock to remove", file=sys.stderr)
        return 0
    if status == "ok" and not args.force:
        verdict = assess(rec)
        if verdict.alive:
            print(f"jawebcorpus: error: {args.output} is held by {describe(rec)}, which is alive ({verdict.why}); "
                  "stop it first, or pass --force", file=sys.stderr)
            return 2
    storage.remove_tree(storage.join(args.output, LOCK_NAME))
    who = describe(rec) if status == "ok" else "an unreadable lock"
    print(f"{args.output}: removed the lock of {who}", file=sys.stderr)
    return 0
