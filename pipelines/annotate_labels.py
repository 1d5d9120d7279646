"""The label file of ``jawebcorpus annotate``: one JSON object per line, appended, resumable.

Every line is one document's outcome (fields in ``docs/annotate.md``).  A document has a
*usable answer* when it has a line with ``"status": "ok"``; a rerun with the same ``--output``
asks only for the sampled documents without one (their earlier ``unusable`` / ``bad_response``
/ ``failed`` lines stay, and the new outcome is appended).

* A line torn by a kill (no newline at the end of the file) is cut off before appending.
* Every line of a file must be a label line of this command, written with the same prompt (same
  SHA-256) and model as this run: a file with other labels is refused (exit 2), so a training
  file never mixes two annotators; write to another ``--output``.
* The file is locked (``flock``) while a run writes it: a second run on it is refused.
* Nothing written here can hold the API key: every line passes through the client's scrub.
"""

from __future__ import annotations

import datetime as _dt
import json
import os

__all__ = ["LabelsError", "LabelFile", "record", "STATUSES", "FORMAT"]

#: ``status`` values: ok (a usable score 0–3), unusable (an answer without a usable score),
#: bad_response (an HTTP 200 that is not a chat completion), failed (no answer).
STATUSES = ("ok", "unusable", "bad_response", "failed")
#: The version of the line format (``format`` field).
FORMAT = 1
#: A line longer than this is not one of ours (ours: the text, a reply of 2,000 and a reason of
#: 1,000 characters, a few hundred bytes of fields).
MAX_LINE_BYTES = 16 << 20
_MAX_REPLY_CHARS = 2000


class LabelsError(ValueError):
    """A label file this run cannot append to (one line for the user)."""


class LabelFile:
    def __init__(self, path: str, prompt_sha256: str, model: str, scrub=None, read_only: bool = False):
        self.path = path
        self.scrub = scrub or (lambda s: s)
        self.done: set = set()         # doc_ids with a usable answer
        self.lines = 0
        self.torn_bytes = 0
        self._fh = None
        if read_only:  # --dry-run: read what is there, create, lock and cut nothing
            if os.path.exists(path):
                with open(path, "rb") as fh:
                    self._read(fh, prompt_sha256, model, cut=False)
        else:
            self._open(prompt_sha256, model)

    def _open(self, prompt_sha256: str, model: str) -> None:
        try:
            fh = open(self.path, "a+b")
        except OSError as exc:
            raise LabelsError(f"--output {self.path}: cannot be opened for writing ({exc.strerror})") from None
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # not POSIX: no lock
            pass
        except OSError:
            fh.close()
            raise LabelsError(f"--output {self.path} is being written by another jawebcorpus annotate") from None
        try:
            self._read(fh, prompt_sha256, model)
        except BaseException:
            fh.close()
            raise
        self._fh = fh

    def _read(self, fh, prompt_sha256: str, model: str, cut: bool = True) -> None:
        fh.seek(0)
        good_end, n = 0, 0
        while True:
            line = fh.readline(MAX_LINE_BYTES + 1)
            n += 1
            if len(line) > MAX_LINE_BYTES:
                raise LabelsError(f"--output {self.path}: line {n} is longer than {MAX_LINE_BYTES:,} bytes "
                                  "(not a label file of jawebcorpus annotate; use another --output)")
            if not line.endswith(b"\n"):
                break  # the end of the file, or its last line torn
            good_end += len(line)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if not isinstance(obj, dict) or not isinstance(obj.get("doc_id"), str) or obj.get("status") not in STATUSES:
                raise LabelsError(f"--output {self.path}: line {n} is not a label line of jawebcorpus annotate "
                                  "(use another --output)")
            if obj.get("prompt_sha256") != prompt_sha256 or obj.get("model") != model:
                raise LabelsError(
                    f"--output {self.path} holds labels from prompt {_short(obj.get('prompt'))} "
                    f"(sha256 {str(obj.get('prompt_sha256'))[:12]}) and model {_short(obj.get('model'))}; this run "
                    "uses another prompt or model: labels of two annotators are never mixed in one file, use another --output")
            self.lines += 1
            if obj["status"] == "ok":
                self.done.add(obj["doc_id"])
        size = fh.seek(0, os.SEEK_END)
        if size > good_end:
            self.torn_bytes = size - good_end
            if cut:
                fh.truncate(good_end)
        fh.seek(0, os.SEEK_END)

    def append(self, rec: dict) -> None:
        line = json.dumps(_scrubbed(rec, self.scrub), ensure_ascii=False, separators=(",", ":")) + "\n"
        self._fh.write(line.encode("utf-8"))
        self._fh.flush()
        self.lines += 1
        if rec["status"] == "ok":
            self.done.add(rec["doc_id"])

    def sync(self) -> None:
        if self._fh is not None:
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            try:
                os.fsync(self._fh.fileno())
            finally:
                self._fh.close()
                self._fh = None


def _short(value) -> str:
    return repr(value)[:80] if value is not None else "(none)"


def _scrubbed(value, scrub):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, scrub) for v in value]
    return value


def record(*, chosen, row: dict, text: str, truncated: bool, answer, verdict, prompt, model: str, seed: int) -> dict:
    """The label line of one document (``answer``: :class:`.annotate_client.Answer`;
    ``verdict``: :class:`.annotate_prompt.Verdict` or None when there was no answer)."""
    if answer.outcome == "answer":
        status = "ok" if verdict.usable else "unusable"
        error = verdict.problem
        if error and answer.finish_reason == "length":
            error += " (the answer was cut at --max-tokens)"
    else:
        status, error = answer.outcome, answer.error
    return {
        "format": FORMAT,
        "doc_id": chosen.doc_id,
        "snapshot": chosen.snapshot,
        "warc_file": chosen.rank[1],
        "warc_offset": chosen.rank[2],
        "warc_record_id": chosen.rank[3],
        "url": row.get("url"),
        "host": chosen.host,
        "text": text,
        "text_chars": len(text),
        "doc_chars": len(row.get("text") or ""),
        "truncated": truncated,
        "status": status,
        "score": verdict.score if verdict is not None and status == "ok" else None,
        "reason": verdict.reason if verdict is not None else None,
        "parsed_from": verdict.parsed_from if verdict is not None and status == "ok" else None,
        "error": error,
        "reply": answer.content[:_MAX_REPLY_CHARS] if answer.content is not None else None,
        "finish_reason": answer.finish_reason,
        "prompt": prompt.name,
        "prompt_sha256": prompt.sha256,
        "model": model,
        "json_mode": answer.json_mode,
        "http_status": answer.http_status,
        "attempts": answer.attempts,
        "seconds": round(answer.seconds, 3),
        "usage": answer.usage,
        "sample_seed": seed,
        "annotated_at": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
