"""A small client for OpenAI-compatible chat-completions endpoints (standard library only).

``POST <endpoint>/chat/completions`` with ``{"model", "messages": [{"role": "user", …}],
"temperature", "max_tokens"}`` and, in JSON mode, ``"response_format": {"type": "json_object"}``;
the key (if any) goes in ``Authorization: Bearer …`` and nowhere else.

* One persistent HTTP/1.1 connection per worker thread (keep-alive); a request that fails on a
  connection the server closed while idle is sent again at once on a fresh one.
* Every request has a deadline (``timeout``): the socket's timeout bounds each read, and a
  watchdog thread shuts the socket down when the whole request (headers and body) has taken
  longer, so a server that trickles bytes cannot hold a worker.
* The body is read up to ``max_response_bytes``; a larger one costs its item
  (``bad_response``) and the connection.
* 408, 429 and 5xx answers, timeouts and connection failures are retried ``retries`` times with
  exponential backoff (``backoff`` · 2^(n-1) s, at most 60 s, times a random factor in
  [0.5, 1]) unless the server sends ``Retry-After`` (seconds or an HTTP date): then exactly that
  long (plus up to 10 %), and after a 429 every worker pauses until then.  A wait longer than
  ``max_wait`` fails the item instead.
* JSON mode ``auto``: a 400 answer to a request with ``response_format`` is sent again without
  it; when that one is accepted, the rest of the run asks without ``response_format``.
* 401, 403 and 404 stop the run (every other request would fail the same way), and so does an
  HTTPS certificate that cannot be verified (the system's CA store, or ``SSL_CERT_FILE``); other
  4xx answers cost their item.
* Any text taken from the server (an error message, the answer) passes through :meth:`scrub`,
  which removes the key should the server echo it.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

__all__ = ["Endpoint", "EndpointError", "ChatClient", "Answer", "retry_after_seconds", "RETRY_STATUSES",
           "FATAL_STATUSES", "MAX_BACKOFF"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
FATAL_STATUSES = {401: "the server refused the credentials", 403: "the server refused the request (forbidden)",
                  404: "no such endpoint or model"}
MAX_BACKOFF = 60.0
_MAX_RETRY_AFTER = 10 ** 7  # seconds: anything larger is not a sensible answer
_USER_AGENT = "jawebcorpus-annotate/1"


class EndpointError(ValueError):
    """An endpoint URL that cannot be used."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    path: str  # …/chat/completions, with the query string if any

    @classmethod
    def parse(cls, url: str) -> "Endpoint":
        if any(ord(c) < 33 or ord(c) == 127 for c in url):
            raise EndpointError("--endpoint must not contain spaces or control characters")
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise EndpointError(f"--endpoint must be an http:// or https:// URL (e.g. http://127.0.0.1:8000/v1), "
                                f"not scheme {parts.scheme or 'none'!r}")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise EndpointError("--endpoint must not hold credentials (user:password@): the key comes from an "
                                "environment variable (--api-key-env)")
        if not parts.hostname:
            raise EndpointError("--endpoint has no host")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise EndpointError("--endpoint has a port that is not a number in 1–65535") from None
        if parts.fragment:
            raise EndpointError("--endpoint must not have a #fragment")
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path += "/chat/completions"
        if parts.query:
            path += "?" + parts.query
        return cls(parts.scheme, parts.hostname, port, path)

    def display(self) -> str:
        """The URL without its query string (which may hold a token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return f"{self.scheme}://{host}{'' if self.port == default else f':{self.port}'}{self.path.split('?')[0]}"


@dataclass
class Answer:
    """What one item's request ended in."""
    outcome: str                  # "answer" | "bad_response" | "failed" | "fatal" | "cancelled"
    content: str | None = None
    error: str | None = None
    http_status: int | None = None
    usage: dict | None = None
    attempts: int = 0
    seconds: float = 0.0
    json_mode: bool = False
    finish_reason: str | None = None
    retryable: bool = False       # a failure of the kind a server that is down gives


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value[:12]), _MAX_RETRY_AFTER))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    delta = when.timestamp() - (time.time() if now is None else now)
    return float(min(max(delta, 0.0), _MAX_RETRY_AFTER))


class _Watchdog:
    """Shuts a request's socket down when its deadline passes (one thread for all requests)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._armed: dict = {}
        self._thread = None

    def arm(self, conn, deadline: float) -> int:
        with self._cond:
            token = id(conn)
            self._armed[token] = (deadline, conn)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="annotate-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.pop(token, None)

    def _loop(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for token, (deadline, conn) in list(self._armed.items()):
                    if deadline <= now:
                        del self._armed[token]
                        sock = getattr(conn, "sock", None)
                        if sock is not None:
                            try:
                                sock.shutdown(socket.SHUT_RDWR)
                            except OSError:
                                pass
                soonest = min((d for d, _ in self._armed.values()), default=now + 3600)
                self._cond.wait(max(0.005, soonest - now))


class _TooLarge(Exception):
    pass


@dataclass
class ChatClient:
    endpoint: Endpoint
    model: str
    api_key: str | None = None
    timeout: float = 120.0
    max_response_bytes: int = 1 << 20
    retries: int = 5
    backoff: float = 1.0
    max_wait: float = 600.0
    json_mode: str = "auto"       # auto | on | off
    temperature: float = 0.0
    max_tokens: int = 512
    log: object = None            # callable(str) for one-time notes (stderr)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self._local = threading.local()
        self._lock = threading.Lock()
        self._send_json = self.json_mode in ("auto", "on")
        self._pause_until = 0.0
        self._watchdog = _Watchdog()
        self._rng = random.Random()

    # -- secrets -------------------------------------------------------------------------------
    def scrub(self, text: str | None) -> str | None:
        """``text`` without the key (should a server echo it back)."""
        if text is None or not self.api_key:
            return text
        return text.replace(self.api_key, "[api key]")

    def _headers(self, body: bytes) -> dict:
        h = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": _USER_AGENT,
             "Content-Length": str(len(body))}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    # -- one HTTP exchange --------------------------------------------------------------------
    def _connection(self, fresh: bool = False):
        conn = getattr(self._local, "conn", None)
        if conn is not None and not fresh:
            return conn, True
        if conn is not None:
            conn.close()
        cls = http.client.HTTPSConnection if self.endpoint.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.endpoint.host, self.endpoint.port, timeout=self.timeout)
        self._local.conn = conn
        return conn, False

    @staticmethod
    def _no_delay(conn) -> None:
        """Small requests go out at once (no Nagle wait for the server's delayed ACK)."""
        sock = getattr(conn, "sock", None)
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _exchange(self, body: bytes) -> tuple[int, object, bytes]:
        """One request → (status, headers, body); raises OSError / HTTPException / _TooLarge."""
        for again in (False, True):
            conn, reused = self._connection(fresh=again)
            deadline = time.monotonic() + self.timeout
            token = self._watchdog.arm(conn, deadline)
            try:
                try:
                    if conn.sock is None:
                        conn.connect()
                        self._no_delay(conn)
                    conn.request("POST", self.endpoint.path, body=body, headers=self._headers(body))
                    resp = conn.getresponse()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    if reused and not again and time.monotonic() < deadline:
                        continue  # the server closed the idle connection: once more, fresh
                    raise
                data = self._read_body(resp)
                if resp.will_close:
                    self._drop_connection()
                if time.monotonic() > deadline:
                    raise TimeoutError("deadline")
                return resp.status, resp.headers, data
            except BaseException:
                self._drop_connection()
                if time.monotonic() >= deadline:
                    raise TimeoutError("deadline") from None
                raise
            finally:
                self._watchdog.disarm(token)
        raise ConnectionError("unreachable")  # pragma: no cover (the loop returns or raises)

    def _read_body(self, resp) -> bytes:
        limit = self.max_response_bytes
        length = resp.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length.strip()[:20]) > limit:
            raise _TooLarge()
        chunks, total = [], 0
        while True:
            chunk = resp.read(min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise _TooLarge()
        return b"".join(chunks)

    # -- the request of one item, with its retries -----------------------------------------------
    def _payload(self, prompt: str, json_mode: bool) -> bytes:
        req = {"model": self.model, "messages": [{"role": "user", "content": prompt}],
               "temperature": self.temperature, "max_tokens": self.max_tokens}
        if json_mode:
            req["response_format"] = {"type": "json_object"}
        return json.dumps(req, ensure_ascii=False).encode("utf-8")

    def _wait(self, seconds: float) -> bool:
        """Sleep unless the run is being stopped; False when it is."""
        return not self.stop.wait(seconds) if seconds > 0 else not self.stop.is_set()

    def _wait_for_pause(self) -> bool:
        while True:
            with self._lock:
                left = self._pause_until - time.monotonic()
            if left <= 0:
                return not self.stop.is_set()
            if not self._wait(left):
                return False

    def _excerpt(self, data: bytes) -> str:
        text = data[:4096].decode("utf-8", "replace")
        try:
            obj = json.loads(text)
            err = obj.get("error") if isinstance(obj, dict) else None
            msg = err.get("message") if isinstance(err, dict) else (err if isinstance(err, str) else None)
            if isinstance(msg, str):
                text = msg
        except ValueError:
            pass
        text = "".join(c if c.isprintable() else " " for c in text).strip()
        return self.scrub(text[:200])

    def ask(self, prompt: str) -> Answer:
        started = time.monotonic()
        attempts, last_error, last_status = 0, "", None
        while True:
            if not self._wait_for_pause():
                return Answer("cancelled", attempts=attempts)
            attempts += 1
            json_mode = self._send_json
            retry_after = None
            try:
                status, headers, data = self._exchange(self._payload(prompt, json_mode))
            except _TooLarge:
                return Answer("bad_response", error=f"the response is larger than {self.max_response_bytes:,} bytes",
                              attempts=attempts, seconds=time.monotonic() - started, json_mode=json_mode)
            except ssl.SSLCertVerificationError as exc:
                return Answer("fatal", error=f"the TLS certificate of {self.endpoint.display()} cannot be verified "
                              f"({exc.verify_message}; SSL_CERT_FILE may name another CA bundle)", attempts=attempts)
            except TimeoutError:
                last_error, last_status = f"no complete answer within {self.timeout:g} s", None
            except (OSError, http.client.HTTPException) as exc:
                last_error, last_status = f"connection failed ({type(exc).__name__})", None
            else:
                last_status = status
                if status == 200:
                    return self._answer(data, attempts, started, json_mode)
                if status == 400 and json_mode and self.json_mode == "auto":
                    fallback = self._without_json_mode(prompt, attempts, started)
                    if fallback is not None:
                        return fallback
                    return Answer("failed", error=f"HTTP 400: {self._excerpt(data)}", http_status=400,
                                  attempts=attempts + 1, seconds=time.monotonic() - started, json_mode=json_mode)
                if status in FATAL_STATUSES:
                    return Answer("fatal", error=f"{FATAL_STATUSES[status]} (HTTP {status}: {self._excerpt(data)})",
                                  http_status=status, attempts=attempts, seconds=time.monotonic() - started)
                if status not in RETRY_STATUSES and not 500 <= status <= 599:
                    return Answer("failed", error=f"HTTP {status}: {self._excerpt(data)}", http_status=status,
                                  attempts=attempts, seconds=time.monotonic() - started, json_mode=json_mode)
                last_error = f"HTTP {status}: {self._excerpt(data)}"
                retry_after = retry_after_seconds(headers.get("Retry-After"))
            if attempts > self.retries:
                return Answer("failed", error=f"{last_error} (after {attempts} attempts)", http_status=last_status,
                              attempts=attempts, seconds=time.monotonic() - started, json_mode=json_mode,
                              retryable=True)
            if retry_after is not None:
                if retry_after > self.max_wait:
                    return Answer("failed", error=f"{last_error}; the server asked to wait {retry_after:.0f} s, "
                                  f"more than --max-wait {self.max_wait:g} s", http_status=last_status,
                                  attempts=attempts, seconds=time.monotonic() - started, json_mode=json_mode)
                delay = retry_after * (1 + 0.1 * self._rng.random())
                if last_status == 429:
                    with self._lock:
                        self._pause_until = max(self._pause_until, time.monotonic() + delay)
            else:
                delay = min(MAX_BACKOFF, self.backoff * 2 ** (attempts - 1)) * (0.5 + 0.5 * self._rng.random())
            if not self._wait(delay):
                return Answer("cancelled", attempts=attempts)

    def _without_json_mode(self, prompt: str, attempts: int, started: float) -> Answer | None:
        """The same request without ``response_format``; None when the server refuses it too."""
        try:
            status, _headers, data = self._exchange(self._payload(prompt, False))
        except (OSError, http.client.HTTPException, _TooLarge):
            return None
        if status != 200:
            return None
        with self._lock:
            if self._send_json:
                self._send_json = False
                if self.log:
                    self.log("the server refused response_format json_object (HTTP 400) and accepted the request "
                             "without it: asking without JSON mode from now on")
        return self._answer(data, attempts + 1, started, False)

    def _answer(self, data: bytes, attempts: int, started: float, json_mode: bool) -> Answer:
        seconds = time.monotonic() - started

        def bad(why: str) -> Answer:
            return Answer("bad_response", error=why, http_status=200, attempts=attempts, seconds=seconds,
                          json_mode=json_mode)

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return bad("the response is not UTF-8")
        try:
            obj = json.loads(text)
        except ValueError:
            return bad("the response is not JSON")
        choices = obj.get("choices") if isinstance(obj, dict) else None
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            return bad("the response has no choices")
        message = choices[0].get("message")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            return bad("the response's first choice has no message content")
        finish = choices[0].get("finish_reason")
        return Answer("answer", content=self.scrub(content), http_status=200, usage=_usage(obj.get("usage")),
                      attempts=attempts, seconds=seconds, json_mode=json_mode,
                      finish_reason=finish if isinstance(finish, str) and len(finish) <= 40 else None)


def _usage(value) -> dict | None:
    """The token counts of a response's ``usage`` (non-negative integers only)."""
    if not isinstance(value, dict):
        return None
    out = {k: value[k] for k in ("prompt_tokens", "completion_tokens", "total_tokens")
           if isinstance(value.get(k), int) and not isinstance(value.get(k), bool) and 0 <= value[k] < 1 << 40}
    return out or None
