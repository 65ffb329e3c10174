#!/usr/bin/env python3
"""A stand-in for the product API behind nginx: answers every request with JSON describing
exactly what it received (method, path, every header, body size).

    python deploy/echo_upstream.py --host 127.0.0.1 --port 9000

Two paths are for whoever runs it, not echoed nor counted: ``GET /__count`` answers
``{"count": N}``, the number of requests echoed so far, and ``GET /__requests`` the last
100 of them as a JSON list. nginx only forwards ``/api/`` here, so clients never reach
them; tests and the demo ask directly. Standard library only, so the same file runs in a
bare python image.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNT_PATH = "/__count"
REQUESTS_PATH = "/__requests"
KEEP = 100


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, quiet: bool = False):
        super().__init__(address, EchoHandler)
        self.quiet = quiet
        self.count = 0
        self.recent: list[dict] = []
        self.lock = threading.Lock()

    def record(self, request: dict) -> None:
        with self.lock:
            self.count += 1
            self.recent = self.recent[-(KEEP - 1):] + [request]


class EchoHandler(BaseHTTPRequestHandler):
    server_version = "echo-upstream"
    sys_version = ""
    protocol_version = "HTTP/1.1"  # keepalive, like a real upstream behind nginx

    def handle_any(self) -> None:
        body = self.read_body()
        if self.command == "GET" and self.path == COUNT_PATH:
            return self.answer({"count": self.server.count})
        if self.command == "GET" and self.path == REQUESTS_PATH:
            return self.answer(self.server.recent)
        request = {
            "method": self.command,
            "path": self.path,
            # Repeated names are joined with ", ", so a duplicate shows instead of hiding.
            "headers": joined_headers(self.headers.items()),
            "body": body.decode("utf-8", "replace"),
            "peer": "%s:%s" % self.client_address[:2],  # one per connection: shows keepalive
        }
        self.server.record(request)
        self.answer(request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = handle_any

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0] or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def answer(self, document) -> None:
        payload = (json.dumps(document, indent=2) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format, *args) -> None:
        if not self.server.quiet:
            sys.stderr.write("echo: %s %s\n" % (self.address_string(), format % args))


def joined_headers(items) -> dict:
    headers: dict = {}
    for name, value in items:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default=os.environ.get("ECHO_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ECHO_PORT", "9000")))
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    server = EchoServer((args.host, args.port), quiet=args.quiet)
    # SIGTERM (docker stop, the demo, tests) ends the loop like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(f"echo upstream on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
