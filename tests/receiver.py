"""A real local HTTP receiver for webhook tests: stdlib `http.server` on port 0, in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What it received (every request, and the ones it answered 2xx), and how it answers:
    `answer(request)` returns a status code (default 200)."""

    url: str
    requests: list[Request] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)
    answer: Callable[[Request], int] = lambda request: 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[str]:
        with self.lock:
            return [request.json["event"] for request in self.accepted]


@contextmanager
def receiver(port: int = 0) -> Iterator[Receiver]:
    """Serve on 127.0.0.1:`port` (0: a free one) until the block ends."""
    state: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            code = state.answer(request)
            with state.lock:
                state.requests.append(request)
                if 200 <= code < 300:
                    state.accepted.append(request)
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_port}/hook")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
