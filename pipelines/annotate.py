"""``jawebcorpus annotate``: LLM labels for a sample of a run's documents (docs/annotate.md).

::

    jawebcorpus annotate --run OUT [--where EXPR] --sample N --endpoint URL/v1 --model NAME \\
        [--prompt edu-ja|FILE] --output LABELS.jsonl

Samples ``N`` documents of the run (:mod:`.annotate_sample`: reproducible with ``--seed``,
proportional per snapshot, capped per host), asks an OpenAI-compatible chat-completions server
to grade each (:mod:`.annotate_client`, prompts and answer parsing in :mod:`.annotate_prompt`)
with ``--concurrency`` threads, and appends one line per document to the label file
(:mod:`.annotate_labels`: resumable, the API key never written).  Every option is checked before
the first request (one line, exit 2).  Exit status: 0 when every sampled document was asked (or
already had a usable answer); 1 when the run stopped early (the server refused the key or the
model, failed too many requests in a row, or the run could not be read): rerun the same command
to continue; 2 for bad options; 130 when interrupted.

Light on purpose: no Apache Beam, only pyarrow and the standard library.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import sys
import threading
import time
from dataclasses import dataclass

from jawebcorpus.corpus import paths
from jawebcorpus.corpus.errors import ConfigError
from jawebcorpus.corpus.settings import Range

__all__ = ["add_parser", "run", "main", "RANGES"]

#: Every numeric option's range (checked before anything is read or asked).
RANGES = {
    "sample": Range(1, 1_000_000, integer=True),
    "seed": Range(0, 2 ** 32 - 1, integer=True),
    "per_host": Range(1, 1_000_000, integer=True, optional=True),
    "max_chars": Range(100, 200_000, integer=True),
    "concurrency": Range(1, 256, integer=True),
    "timeout": Range(0, 3600, lo_open=True),
    "retries": Range(0, 20, integer=True),
    "backoff": Range(0, 60),
    "max_wait": Range(0, 86_400),
    "max_response_bytes": Range(1024, 64 << 20, integer=True),
    "max_tokens": Range(1, 1_000_000, integer=True),
    "temperature": Range(0, 2),
    "stop_after_failures": Range(1, 1_000_000, integer=True),
}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_KEY_CHARS = re.compile(r"[\x21-\x7e]{1,4096}")
_EPILOG = """\
examples:
  jawebcorpus annotate --run out/ --sample 2000 --endpoint http://127.0.0.1:8000/v1 \\
      --model Qwen/Qwen2.5-72B-Instruct --concurrency 32 --output labels.jsonl          # vLLM, SGLang
  jawebcorpus annotate --run out/ --sample 200 --endpoint http://127.0.0.1:8080/v1 --model local \\
      --concurrency 4 --output labels.jsonl                                             # llama.cpp server
  OPENAI_API_KEY=… jawebcorpus annotate --run out/ --where "lang_score > 0.9" --sample 5000 \\
      --endpoint https://api.openai.com/v1 --model gpt-4o-mini --output labels.jsonl     # a hosted API

Rerunning the same command continues: only documents without a usable answer are asked again.
Lines with "status": "ok" carry "score" (0-3) and "text": what graded training reads.
"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "annotate",
        help="grade a sample of a run's documents with an LLM (any OpenAI-compatible server) into a label file",
        description="Sample documents of a run (reproducible, per snapshot, capped per host), ask an "
                    "OpenAI-compatible chat-completions server for an educational-value score 0-3 for each, "
                    "and append one JSON line per document to --output (resumable). See docs/annotate.md.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_argument_group("documents")
    src.add_argument("--run", required=True, metavar="OUT", help="the --output folder of a jawebcorpus run")
    src.add_argument("--where", metavar="EXPR",
                     help='only documents whose columns match, e.g. "lang_score > 0.9 and num_chars >= 400" '
                          "(the language of train-quality's --positive-where)")
    src.add_argument("--sample", required=True, type=int, metavar="N", help="documents to sample (1 to 1,000,000)")
    src.add_argument("--seed", type=int, default=0, help="sampling seed (default 0): the same seed, the same documents")
    src.add_argument("--per-host", type=int, metavar="N",
                     help="at most N documents of one host per snapshot (default: 1 %% of the snapshot's share, at least 1)")
    src.add_argument("--max-chars", type=int, default=4000, metavar="N",
                     help="characters of each text sent and stored, cut after a sentence end (default 4000)")
    srv = p.add_argument_group("server")
    srv.add_argument("--endpoint", required=True, metavar="URL",
                     help="an OpenAI-compatible API base, e.g. http://127.0.0.1:8000/v1 (…/chat/completions is added)")
    srv.add_argument("--model", required=True, metavar="NAME", help="the model name the server knows")
    srv.add_argument("--api-key-env", metavar="VAR",
                     help="environment variable holding the API key, sent as Authorization: Bearer (default "
                          "OPENAI_API_KEY when set; no key otherwise)")
    srv.add_argument("--prompt", default="edu-ja", metavar="NAME|FILE",
                     help="a prompt of the package (edu-ja: the latest version; edu-ja-v1) or a UTF-8 file with "
                          "{{TEXT}} once where the text goes (default edu-ja)")
    srv.add_argument("--concurrency", type=int, default=8, metavar="N", help="requests in flight (default 8)")
    srv.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                     help="time limit of one request, headers and body (default 120)")
    srv.add_argument("--retries", type=int, default=5, metavar="N",
                     help="retries of a request after 408/429/5xx, a timeout or a connection failure (default 5)")
    srv.add_argument("--backoff", type=float, default=1.0, metavar="SECONDS",
                     help="first retry delay, doubled each time, at most 60 s, with jitter (default 1); a "
                          "Retry-After header wins")
    srv.add_argument("--max-wait", type=float, default=600.0, metavar="SECONDS",
                     help="a Retry-After longer than this fails the item instead of waiting (default 600)")
    srv.add_argument("--max-response-bytes", type=int, default=1 << 20, metavar="N",
                     help="larger responses cost their item (default 1048576)")
    srv.add_argument("--max-tokens", type=int, default=512, metavar="N", help="max_tokens of each request (default 512)")
    srv.add_argument("--temperature", type=float, default=0.0, help="temperature of each request (default 0)")
    srv.add_argument("--json-mode", choices=("auto", "on", "off"), default="auto",
                     help='send response_format {"type": "json_object"}: auto (default: dropped for the rest of '
                          "the run when the server refuses it with 400), on, off")
    srv.add_argument("--stop-after-failures", type=int, default=20, metavar="N",
                     help="stop (exit 1) after N documents in a row got no answer after their retries (default 20)")
    p.add_argument("--output", required=True, metavar="LABELS.jsonl", help="the label file (appended to; resumable)")
    p.add_argument("--dry-run", action="store_true", help="sample and report what would be asked; send nothing")
    p.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    p.set_defaults(func=run)
    return p


@dataclass
class _Item:
    chosen: object
    row: dict
    text: str
    truncated: bool


def _check(args) -> tuple:
    """Everything that can be checked without the network; raises ConfigError."""
    from .annotate_client import Endpoint, EndpointError
    from .annotate_prompt import PromptError, load_prompt

    for name, value in vars(args).items():  # arguments come as text: bytes that are not UTF-8 are refused
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ConfigError(f"--{name.replace('_', '-')} {paths.shown(value, 80)!r}: bytes that are not UTF-8 "
                                  "(arguments and paths must be UTF-8)") from None
    for name, rng in RANGES.items():
        rng.check("--" + name.replace("_", "-"), getattr(args, name))
    for flag, value in (("--run", args.run), ("--output", args.output), ("--prompt", args.prompt)):
        why = paths.path_problem(value)
        if why is not None:
            raise ConfigError(f"{flag} {paths.shown(value)!r}: {why}")
        if paths.is_remote(value) and flag != "--prompt":
            raise ConfigError(f"{flag} {paths.shown(value)!r}: must be a local path")
    if not args.model.strip() or len(args.model) > 256 or not args.model.isprintable():
        raise ConfigError("--model must be a printable name of at most 256 characters")
    try:
        endpoint = Endpoint.parse(args.endpoint)
    except EndpointError as exc:
        raise ConfigError(str(exc)) from None
    try:
        prompt = load_prompt(args.prompt)
    except PromptError as exc:
        raise ConfigError(str(exc)) from None
    output = os.path.abspath(args.output)
    if os.path.isdir(output):
        raise ConfigError(f"--output {paths.shown(args.output)!r} is a folder, not a file")
    if os.path.exists(output) and not os.path.isfile(output):
        raise ConfigError(f"--output {paths.shown(args.output)!r} is not a regular file")
    parent = os.path.dirname(output)
    if not os.path.isdir(parent):
        raise ConfigError(f"--output {paths.shown(args.output)!r}: the folder {paths.shown(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (os.path.exists(output) and not os.access(output, os.R_OK | os.W_OK)):
        raise ConfigError(f"--output {paths.shown(args.output)!r} is not writable")
    data = os.path.abspath(os.path.join(args.run, "data"))
    if output == data or output.startswith(data + os.sep):
        raise ConfigError("--output must not be inside the run's data/ folder")
    return endpoint, prompt, _api_key(args.api_key_env)


def _api_key(var: str | None) -> str | None:
    name = var or "OPENAI_API_KEY"
    if not _ENV_NAME.fullmatch(name):
        raise ConfigError("--api-key-env must name an environment variable (letters, digits, _)")
    key = os.environ.get(name)
    if not key:
        if var:
            raise ConfigError(f"--api-key-env {name}: the variable is not set (or empty)")
        return None
    if not _KEY_CHARS.fullmatch(key):
        raise ConfigError(f"the key in ${name} has characters that cannot go in an HTTP header "
                          "(spaces, control characters or non-ASCII)")
    return key


def run(args) -> int:
    from .annotate_client import ChatClient
    from .annotate_labels import LabelFile, LabelsError
    from .annotate_sample import SampleError, count_per_snapshot, open_run, select

    def say(message: str) -> None:
        if not args.quiet:
            print(f"[jawebcorpus] annotate: {message}", file=sys.stderr, flush=True)

    try:
        endpoint, prompt, key = _check(args)
        data = open_run(args.run, args.where)
        counts = count_per_snapshot(data)
        if not sum(counts.values()):
            raise SampleError(f"no document of {args.run}" + (" matches --where" if args.where else ""))
    except (ConfigError, SampleError) as exc:
        print(f"jawebcorpus: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:  # a Parquet file of the run that cannot be read
        print(f"jawebcorpus: error: reading {args.run} failed: {str(exc)[:300]}", file=sys.stderr)
        return 1
    client = ChatClient(endpoint, args.model, api_key=key, timeout=args.timeout,
                        max_response_bytes=args.max_response_bytes, retries=args.retries, backoff=args.backoff,
                        max_wait=args.max_wait, json_mode=args.json_mode, temperature=args.temperature,
                        max_tokens=args.max_tokens, log=say)
    try:
        labels = LabelFile(args.output, prompt.sha256, args.model, scrub=client.scrub, read_only=args.dry_run)
    except LabelsError as exc:
        print(f"jawebcorpus: error: {exc}", file=sys.stderr)
        return 2
    try:
        if labels.torn_bytes:
            say(f"{'found' if args.dry_run else 'cut off'} a torn last line ({labels.torn_bytes:,} bytes) "
                f"of {args.output}")
        try:
            selection = select(data, args.sample, args.seed, args.per_host, counts=counts)
        except (OSError, ValueError) as exc:
            print(f"jawebcorpus: error: reading {args.run} failed: {client.scrub(str(exc))[:300]}", file=sys.stderr)
            return 1
        todo = [c for c in selection.chosen if c.doc_id not in labels.done]
        say(_plan(selection, len(selection.chosen) - len(todo), len(todo), args, endpoint, prompt))
        if args.dry_run:
            return _dry_run(selection, labels.done, args.max_chars, say)
        return _annotate(selection, labels, client, prompt, args, len(todo), say)
    finally:
        labels.close()


def _plan(selection, done: int, todo: int, args, endpoint, prompt) -> str:
    total = sum(selection.counts.values())
    taken = selection.taken()
    parts = [f"{s} {taken.get(s, 0):,}" + (f" of {q:,}" if taken.get(s, 0) < q else "")
             for s, q in sorted(selection.quotas.items())]
    shown = ", ".join(parts[:6]) + (f", … ({len(parts)} snapshots)" if len(parts) > 6 else "")
    caps = sorted(set(selection.per_host.values()))
    cap = f"≤ {caps[0]} per host" if len(caps) == 1 else f"≤ {caps[0]}–{caps[-1]} per host"
    return (f"sample of {len(selection.chosen):,} from {total:,} documents ({shown}; {cap}, seed {args.seed}); "
            f"{done:,} already labelled, {todo:,} to ask {endpoint.display()} (model {args.model}, prompt {prompt.name})")


def _items(selection, skip, max_chars: int):
    from .annotate_sample import cut_text, read_texts

    for chosen, row in read_texts(selection, skip):
        text, truncated = cut_text(row.get("text") or "", max_chars)
        yield _Item(chosen, row, text, truncated)


def _dry_run(selection, done, max_chars: int, say) -> int:
    n = chars = cut = 0
    for item in _items(selection, done, max_chars):
        n += 1
        chars += len(item.text)
        cut += item.truncated
    say(f"dry run: {n:,} documents would be asked, {chars:,} characters of text ({cut:,} cut at {max_chars:,})")
    return 0


class _Progress:
    def __init__(self, total: int, quiet: bool, stream=None):
        self.total, self.quiet = total, quiet
        self.stream = stream if stream is not None else sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.last = 0.0
        self.counts = {"ok": 0, "unusable": 0, "bad_response": 0, "failed": 0}
        self.tokens = 0
        self.scores = [0, 0, 0, 0]

    def add(self, rec: dict) -> None:
        self.counts[rec["status"]] += 1
        if rec["status"] == "ok":
            self.scores[rec["score"]] += 1
        usage = rec.get("usage") or {}
        self.tokens += usage.get("total_tokens") or (usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0))

    def line(self) -> str:
        done = sum(self.counts.values())
        elapsed = max(time.monotonic() - self.start, 1e-9)
        rate = done / elapsed
        left = self.total - done
        eta = _duration(left / rate) if rate > 0 and left > 0 else ("–" if left > 0 else "0s")
        c = self.counts
        return (f"[jawebcorpus] annotate {done:,}/{self.total:,} | ok {c['ok']:,}, unusable {c['unusable']:,}, "
                f"bad {c['bad_response']:,}, failed {c['failed']:,} | {rate:,.2f}/s | {self.tokens:,} tokens | "
                f"ETA {eta}")

    def tick(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if self.tty and (force or now - self.last >= 0.5):
            self.stream.write("\r" + self.line() + ("\n" if force else ""))
        elif not self.tty and (force or now - self.last >= 10):
            self.stream.write(self.line() + "\n")
        else:
            return
        self.stream.flush()
        self.last = now


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _annotate(selection, labels, client, prompt, args, todo: int, say) -> int:
    from .annotate_labels import record
    from .annotate_prompt import parse_reply

    work: queue.Queue = queue.Queue(maxsize=2 * args.concurrency)
    results: queue.Queue = queue.Queue()
    stop = client.stop
    problem: list = []

    def feed() -> None:
        try:
            for item in _items(selection, frozenset(labels.done), args.max_chars):
                while not stop.is_set():
                    try:
                        work.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except Exception as exc:  # noqa: BLE001 — a file of the run that cannot be read stops the run
            problem.append(f"reading {args.run} failed: {client.scrub(str(exc))[:300]}")
            stop.set()
        finally:
            for _ in range(args.concurrency):
                work.put(None)

    def ask() -> None:
        from .annotate_client import Answer

        while True:
            item = work.get()
            if item is None:
                results.put(None)
                return
            if stop.is_set():
                continue
            try:
                answer = client.ask(prompt.render(item.text))
            except Exception as exc:  # noqa: BLE001 — one item, never the run
                answer = Answer("failed", error=f"internal error ({type(exc).__name__})")
            results.put((item, answer))

    threads = [threading.Thread(target=feed, name="annotate-feed", daemon=True)]
    threads += [threading.Thread(target=ask, name=f"annotate-{i}", daemon=True) for i in range(args.concurrency)]
    for t in threads:
        t.start()
    progress = _Progress(todo, args.quiet)
    running, in_a_row, last_sync = args.concurrency, 0, time.monotonic()
    try:
        while running:
            try:
                got = results.get(timeout=0.5)
            except queue.Empty:
                progress.tick()
                continue
            if got is None:
                running -= 1
                continue
            item, answer = got
            if answer.outcome == "cancelled":
                continue
            if answer.outcome == "fatal":
                if not problem:
                    problem.append(answer.error)
                stop.set()
                continue
            verdict = parse_reply(answer.content) if answer.outcome == "answer" else None
            rec = record(chosen=item.chosen, row=item.row, text=item.text, truncated=item.truncated, answer=answer,
                         verdict=verdict, prompt=prompt, model=args.model, seed=args.seed)
            labels.append(rec)
            progress.add(rec)
            in_a_row = in_a_row + 1 if (rec["status"] == "failed" and answer.retryable) else 0
            if in_a_row >= args.stop_after_failures and not stop.is_set():
                problem.append(f"{in_a_row} documents in a row got no answer (last: {answer.error})")
                stop.set()
            if time.monotonic() - last_sync > 5:
                labels.sync()
                last_sync = time.monotonic()
            progress.tick()
    except KeyboardInterrupt:
        stop.set()
        progress.tick(force=True)
        print("jawebcorpus: interrupted; rerun the same command to continue", file=sys.stderr)
        return 130
    progress.tick(force=True)
    c, s = progress.counts, progress.scores
    say(f"asked {sum(c.values()):,}: {c['ok']:,} ok (scores 0: {s[0]:,}, 1: {s[1]:,}, 2: {s[2]:,}, 3: {s[3]:,}), "
        f"{c['unusable']:,} unusable, {c['bad_response']:,} bad responses, {c['failed']:,} failed; "
        f"{progress.tokens:,} tokens; {len(labels.done):,} documents with a usable label in {args.output}")
    if problem:
        print(f"jawebcorpus: error: stopped: {client.scrub(problem[0])}; rerun the same command to continue",
              file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jawebcorpus")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["annotate", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
