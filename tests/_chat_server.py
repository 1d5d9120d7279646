"""An OpenAI-compatible chat-completions server on loopback for the annotate tests and bench.

``ChatServer(behave)`` serves ``POST /v1/chat/completions`` from a thread (HTTP/1.1 keep-alive,
one thread per connection).  ``behave(server, request, headers)`` returns a :class:`Reply`;
the default grades every document with :func:`expected_score` of its text, so a test can check
that each label belongs to its own document.  Every request is recorded (time, headers, JSON).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["ChatServer", "Reply", "expected_score", "document_of", "completion", "graded"]


def document_of(prompt: str) -> str:
    """The document's text inside a prompt built from edu-ja (between ``<<<`` and ``>>>``)."""
    start = prompt.find("<<<\n")
    end = prompt.rfind("\n>>>")
    return prompt[start + 4:end] if start >= 0 and end > start else prompt


def expected_score(text: str) -> int:
    return hashlib.sha256(text.encode("utf-8")).digest()[0] % 4


def completion(content, usage=None, finish_reason="stop") -> bytes:
    body = {"id": "chatcmpl-test", "object": "chat.completion", "model": "test",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": finish_reason}]}
    if usage is not False:
        body["usage"] = usage or {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0        # seconds between the body's bytes
    no_length: bool = False     # stream the body without Content-Length, then close
    drop: bool = False          # close the connection without answering


def graded(server, request, headers) -> Reply:
    """The default: {"score": expected_score(text), "reason": …} as JSON."""
    text = document_of(request["messages"][0]["content"])
    content = json.dumps({"score": expected_score(text), "reason": f"テスト: {text[:10]}"}, ensure_ascii=False)
    return Reply(body=completion(content))


class ChatServer:
    def __init__(self, behave=graded, latency: float = 0.0):
        self.behave = behave
        self.latency = latency
        self.requests: list = []
        self.lock = threading.Lock()
        self.dead = False
        self.state: dict = {}
        self.in_flight = 0
        self.max_in_flight = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def setup(self):
                super().setup()  # headers and body go out in two writes: no Nagle delay between them
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if server.dead:
                    self.close_connection = True
                    return
                try:
                    req = json.loads(raw)
                except ValueError:
                    req = None
                with server.lock:
                    server.requests.append({"time": time.monotonic(), "path": self.path,
                                            "headers": dict(self.headers.items()), "json": req})
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(req)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def _answer(self, req):
                reply = server.behave(server, req, self.headers)
                if server.latency:
                    time.sleep(server.latency)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop or server.dead:
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    if reply.no_length:
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    else:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if reply.trickle:
                        for i in range(len(reply.body)):
                            self.wfile.write(reply.body[i:i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle)
                    else:
                        self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def start(self) -> "ChatServer":
        self.thread.start()
        return self

    def kill(self) -> None:
        """Stop answering at once: open connections are dropped, new ones refused."""
        self.dead = True
        threading.Thread(target=self._close, daemon=True).start()

    def _close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def stop(self) -> None:
        if not self.dead:
            self.dead = True
            self._close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def documents(self) -> list:
        with self.lock:
            return [document_of(r["json"]["messages"][0]["content"]) for r in self.requests if r["json"]]


if __name__ == "__main__":  # a server in its own process (bench/bench_annotate.py): prints its URL, serves until stdin closes
    import sys

    srv = ChatServer(latency=float(sys.argv[1]) if len(sys.argv) > 1 else 0.0).start()
    print(srv.url, flush=True)
    sys.stdin.read()
    srv.stop()
