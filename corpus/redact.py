"""What may be recorded or printed of a command line, a path or a configuration (pure Python).

No secret is ever recorded or printed: the pipeline records its command line through
:func:`redact_args` (``run.json``) and every path through :func:`display_path`; the report passes
what it reads from an output's ``run.json`` through them again, because an output written by an
older version may hold what these functions would have removed.

* :func:`display_path`: a URL loses its user information (``user:password@``) and its query
  string (a presigned URL's signature, a token); both become ``<redacted>``.
* :func:`redact_args`: a command line with the values of secret-looking options
  (:data:`SECRET_OPTION_RE`: ``--s3_secret_access_key=…``, ``--token …``) replaced, and every URL
  through :func:`display_path`.
* :func:`redact_text`: every URL inside a text (a message) through :func:`display_path`.
* :func:`redact_value`: a JSON value (a configuration, section → settings) with the same rules:
  settings named like secrets are replaced, URLs in strings lose their secrets, and a command
  line-like list of strings goes through :func:`redact_args`.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "SECRET_OPTION_RE", "SECRET_NAME_RE", "display_path", "redact_args", "redact_text",
           "redact_value"]

REDACTED = "<redacted>"

#: Option names whose values are never recorded or printed (``--s3_secret_access_key``, ``--token`` …).
SECRET_OPTION_RE = re.compile(r"(key|secret|token|password|passwd|credential)", re.I)

#: Setting names (in a configuration read back) whose values are never printed: a word of the
#: name (split at ``_``, ``-``, ``.``) is one of these.  Stricter than :data:`SECRET_OPTION_RE`
#: so that ordinary settings such as ``quality_model.tokenize`` stay readable.
SECRET_NAME_RE = re.compile(
    r"(?:^|[_\-.])(?:api_?)?(?:keys?|secrets?|tokens?|passwords?|passwd|credentials?|auth|signature)(?:$|[_\-.])",
    re.I)

_URL_SECRETS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?:[^/@?#]*@)?(?P<rest>[^?#]*)(?P<query>[?#].*)?$", re.S)


#: a URL inside a text: a scheme of at most 32 characters (bounded work per start position)
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}://\S*")


def display_path(path: str) -> str:
    """A path as it may be recorded or printed: a URL loses its user information and its query
    string (a presigned URL's signature, a token), which become ``<redacted>``."""
    m = _URL_SECRETS.match(path)
    if not m:
        return path
    authority = path[len(m.group("scheme")):].split("/", 1)[0]
    user = "<redacted>@" if "@" in authority else ""
    query = "?<redacted>" if m.group("query") else ""
    return f"{m.group('scheme')}{user}{m.group('rest')}{query}"


def redact_args(args) -> list[str]:
    """A command line with the values of secret-looking options replaced (``--name=value``,
    ``--name value``), and URLs without their user information and query strings."""
    out: list[str] = []
    hide_next = False
    for a in args:
        a = display_path(str(a)) if "://" in str(a) else str(a)
        if "://" in a:  # a URL inside a value, e.g. --quality-model NAME=URL
            a = redact_text(a)
        if a.startswith("--") and "=" in a and "://" in a:
            name, _, value = a.partition("=")
            a = f"{name}={display_path(value)}"
        if hide_next:
            out.append(REDACTED)
            hide_next = False
            continue
        if a.startswith("-"):
            name, eq, _value = a.partition("=")
            if SECRET_OPTION_RE.search(name.lstrip("-")):
                if eq:
                    out.append(f"{name}={REDACTED}")
                else:
                    out.append(a)
                    hide_next = True
                continue
        out.append(a)
    return out


def redact_text(s: str) -> str:
    """Every URL inside a text through :func:`display_path` (a URL ends at white space)."""
    if "://" not in s:
        return s
    return _URL_IN_TEXT.sub(lambda m: display_path(m.group(0)), s)


def redact_value(value, name: str = ""):
    """A JSON value as it may be printed: settings whose ``name`` looks secret
    (:data:`SECRET_NAME_RE`) become ``<redacted>`` (unless empty), URLs in strings lose their user
    information and query strings, and a list of strings with options (``-…``) is redacted as a
    command line.  Dicts and lists are copied, never changed in place."""
    if name and SECRET_NAME_RE.search(name) and value not in (None, "", [], {}) and not isinstance(value, bool):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value) and any(v.startswith("-") for v in value):
            return [redact_text(v) for v in redact_args(value)]
        return [redact_value(v) for v in value]
    return value
