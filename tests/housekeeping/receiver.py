"""A real webhook receiver for tests: an HTTP server on a free loopback port, in a thread,
that answers 500 to its first ``fail_first`` requests and 204 afterwards, and keeps every
request it got (headers, raw body, the status it answered)."""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclasses.dataclass
class Received:
    headers: dict
    body: bytes
    status: int

    @property
    def event_id(self) -> str:
        return self.headers.get("X-Tokenauth-Event-Id")

    def signed_by(self, secret: str) -> bool:
        expected = "sha256=" + hmac.new(secret.encode(), self.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(self.headers.get("X-Tokenauth-Signature", ""), expected)

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.received: list[Received] = []
        self.changed = threading.Condition()
        self.url = ""

    def take(self, headers: dict, body: bytes) -> int:
        with self.changed:
            status = 500 if len(self.received) < self.fail_first else 204
            self.received.append(Received(headers, body, status))
            self.changed.notify_all()
            return status

    def wait_for(self, condition, timeout: float) -> bool:
        """Wait until ``condition(received)`` holds, at most ``timeout`` seconds."""
        with self.changed:
            return self.changed.wait_for(lambda: condition(list(self.received)), timeout)

    def delivered(self) -> dict:
        """event id -> its requests answered 2xx."""
        found: dict = {}
        for request in self.received:
            if request.status < 300:
                found.setdefault(request.event_id, []).append(request)
        return found

    def log(self) -> str:
        return "\n".join(f"attempt {n}: {r.headers.get('X-Tokenauth-Event-Id')} -> {r.status}"
                         for n, r in enumerate(self.received, 1))


@contextlib.contextmanager
def receiver(fail_first: int = 0):
    """Yields a running Receiver on ``127.0.0.1:<free port>``; stopped on exit."""
    target = Receiver(fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = target.take(dict(self.headers.items()), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    target.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tokenauth"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
