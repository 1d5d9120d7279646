"""Prompts of ``jawebcorpus annotate`` and how a model's answer becomes a score.

Prompts are UTF-8 text files holding the whole user message, with the placeholder ``{{TEXT}}``
exactly once where the document's text goes.  The package's own prompts live in
``pipelines/prompts/<name>-v<version>.txt`` (``--prompt edu-ja`` takes the highest version,
``--prompt edu-ja-v1`` that one); any other ``--prompt`` value is a file.  A prompt is recorded
with every label by name and SHA-256 of its bytes.

An answer counts only when it states an integer score 0–3 (:func:`parse_reply`):

* the answer (or the JSON object in a ```json fence) is a JSON object with ``score``: an
  integer, or a number or string that is exactly one (``2``, ``2.0``, ``"2"``);
* otherwise JSON objects with a ``score`` inside the answer: used when they all say the same;
* otherwise the answer's last line reads ``評価: N``, ``スコア: N``, ``score: N`` (also with
  ``：``, ``=``, full-width digits, ``点`` or ``/3`` after it).

Anything else (no score, 7, ``"3.5"``, ``true``, two different scores) is *unusable*, never
guessed.  A leading ``<think>…</think>`` block (reasoning models) is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import resources

__all__ = ["PLACEHOLDER", "Prompt", "PromptError", "load_prompt", "package_prompts", "parse_reply", "Verdict",
           "MAX_PROMPT_BYTES"]

PLACEHOLDER = "{{TEXT}}"
MAX_PROMPT_BYTES = 64 << 10
MAX_REASON_CHARS = 1000
_NAME = re.compile(r"^(?P<base>[a-z0-9]+(?:-[a-z0-9]+)*?)-v(?P<version>[0-9]{1,4})\.txt$")
_PACKAGE_ARG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_WIDE = str.maketrans("０１２３４５６７８９．", "0123456789.")
_FINAL = re.compile(
    r"^[\s*#_`>-]{0,8}(?:評価|スコア|点数|教育的価値|score|rating)[\s*_`]{0,4}[:：=＝][\s*_`]{0,4}"
    r"(?P<num>[0-9]{1,3}(?:\.[0-9]{1,3})?)[\s*_`]{0,4}(?:点|/\s?3|／\s?3)?[\s*_`。.]{0,4}$", re.I)
_MAX_OBJECTS = 50


class PromptError(ValueError):
    """A prompt that cannot be used (one line for the user)."""


@dataclass(frozen=True)
class Prompt:
    name: str       # edu-ja-v1, or file:<basename> for a user's file
    sha256: str     # of the file's bytes
    template: str

    def render(self, text: str) -> str:
        before, after = self.template.split(PLACEHOLDER)
        return before + text + after


def _prompt_dir():
    return resources.files("jawebcorpus.pipelines").joinpath("prompts")


def package_prompts() -> dict:
    """``{"edu-ja": {1: "edu-ja-v1.txt", …}, …}``: the prompts shipped with the package."""
    out: dict = {}
    for entry in _prompt_dir().iterdir():
        m = _NAME.fullmatch(entry.name)
        if m:
            out.setdefault(m["base"], {})[int(m["version"])] = entry.name
    return out


def _from_bytes(name: str, data: bytes, where: str) -> Prompt:
    if len(data) > MAX_PROMPT_BYTES:
        raise PromptError(f"{where} is larger than {MAX_PROMPT_BYTES:,} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PromptError(f"{where} is not UTF-8 text") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    n = text.count(PLACEHOLDER)
    if n != 1:
        raise PromptError(f"{where} must hold the placeholder {PLACEHOLDER} exactly once (where the document's text "
                          f"goes), not {n} times")
    return Prompt(name, hashlib.sha256(data).hexdigest(), text)


def load_prompt(arg: str) -> Prompt:
    """``--prompt``: a package prompt by name (``edu-ja``, ``edu-ja-v1``) or a file."""
    shipped = package_prompts()
    if _PACKAGE_ARG.fullmatch(arg):
        base, _, version = arg.rpartition("-v")
        if arg in shipped:
            version_no = max(shipped[arg])
            file = shipped[arg][version_no]
        elif base in shipped and version.isdigit() and int(version) in shipped[base]:
            file = shipped[base][int(version)]
        else:
            file = None
        if file is not None:
            return _from_bytes(file[: -len(".txt")], _prompt_dir().joinpath(file).read_bytes(), f"prompt {file}")
        if not os.path.exists(arg):
            names = ", ".join(f"{b} (v{max(v)})" for b, v in sorted(shipped.items()))
            raise PromptError(f"--prompt {arg!r}: no such prompt in the package ({names}) and no such file")
    if not os.path.isfile(arg):
        raise PromptError(f"--prompt {arg!r}: not a file")
    try:
        with open(arg, "rb") as fh:
            data = fh.read(MAX_PROMPT_BYTES + 1)
    except OSError as exc:
        raise PromptError(f"--prompt {arg!r}: cannot be read ({exc.strerror})") from None
    return _from_bytes(f"file:{os.path.basename(arg)}", data, f"--prompt {arg!r}")


@dataclass(frozen=True)
class Verdict:
    score: int | None
    reason: str | None
    parsed_from: str | None  # "json" | "final_line" | None
    problem: str | None      # why the answer is unusable (None: usable)

    @property
    def usable(self) -> bool:
        return self.score is not None


def _score(value) -> tuple[int | None, str | None]:
    if isinstance(value, bool) or value is None:
        return None, f"the score is {json.dumps(value)}, not an integer 0–3"
    if isinstance(value, int):
        return (value, None) if 0 <= value <= 3 else (None, f"the score {value} is outside 0–3")
    if isinstance(value, float):
        if value.is_integer() and 0 <= value <= 3:
            return int(value), None
        return None, f"the score {value!r} is not an integer 0–3"
    if isinstance(value, str):
        s = value.strip().translate(_WIDE)
        if re.fullmatch(r"[0-3](?:\.0+)?", s):
            return int(s[0]), None
        return None, f"the score {value[:20]!r} is not an integer 0–3"
    return None, f"the score is a JSON {type(value).__name__}, not an integer 0–3"


def _reason(obj: dict) -> str | None:
    r = obj.get("reason")
    return r[:MAX_REASON_CHARS] if isinstance(r, str) else None


def _from_object(obj: dict) -> Verdict:
    if "score" not in obj:
        return Verdict(None, _reason(obj), None, "the JSON answer has no score")
    score, problem = _score(obj["score"])
    return Verdict(score, _reason(obj), "json" if score is not None else None, problem)


def _embedded_objects(text: str) -> list:
    decoder = json.JSONDecoder()
    found, start = [], 0
    for _ in range(_MAX_OBJECTS):
        at = text.find("{", start)
        if at < 0:
            break
        try:
            obj, end = decoder.raw_decode(text, at)
        except ValueError:
            start = at + 1
            continue
        if isinstance(obj, dict) and "score" in obj:
            found.append(obj)
        start = end
    return found


def parse_reply(content: str) -> Verdict:
    """The score an answer states, or why it states none (see the module's docstring)."""
    text = content.strip()
    if text.startswith("<think>"):
        end = text.find("</think>")
        text = text[end + len("</think>"):].strip() if end >= 0 else ""
    if text.startswith("```") and text.endswith("```") and len(text) >= 6:
        text = text[3:-3]
        first_line, _, rest = text.partition("\n")
        text = (rest if first_line.strip().lower() in ("json", "") else text).strip()
    if not text:
        return Verdict(None, None, None, "the answer is empty")
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        return _from_object(obj)
    objects = _embedded_objects(text)
    if objects:
        verdicts = [_from_object(o) for o in objects]
        scores = {v.score for v in verdicts}
        if len(scores) == 1 and None not in scores:
            return verdicts[0]
        if len(verdicts) == 1:
            return verdicts[0]
        return Verdict(None, None, None, f"{len(verdicts)} JSON objects with different or invalid scores")
    last = text.rsplit("\n", 1)[-1].strip()[:200].translate(_WIDE)
    m = _FINAL.fullmatch(last)
    if m:
        score, problem = _score(float(m["num"]) if "." in m["num"] else int(m["num"]))
        return Verdict(score, None, "final_line" if score is not None else None, problem)
    return Verdict(None, None, None, "no score in the answer (neither JSON nor a final line such as 評価: N)")
