"""Serving an app over real HTTP from a thread, optionally behind a simulated nginx prefix."""
from __future__ import annotations

import contextlib
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from ..servers import free_port


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep test output readable
        pass


class BehindPrefix:
    """What nginx does for ``location /auth/ { proxy_pass http://tokenauth/;
    proxy_set_header X-Forwarded-Prefix /auth; }``: strip the prefix from the path and say
    so in ``X-Forwarded-Prefix``. The peer is 127.0.0.1, a trusted proxy, so ProxyFix
    applies it. Paths outside the prefix are 404, as nginx would not route them here."""

    def __init__(self, app, prefix: str):
        self.app = app
        self.prefix = prefix.rstrip("/")

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path != self.prefix and not path.startswith(self.prefix + "/"):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"outside the prefix\n"]
        environ["PATH_INFO"] = path[len(self.prefix):] or "/"
        environ["HTTP_X_FORWARDED_PREFIX"] = self.prefix
        return self.app(environ, start_response)


@contextlib.contextmanager
def live_server(app, prefix: str = ""):
    """Serve ``app`` on a free loopback port; yields the base URL (with the prefix)."""
    port = free_port()
    wsgi = BehindPrefix(app, prefix) if prefix else app
    server = make_server("127.0.0.1", port, wsgi, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name=f"live-server-{port}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
