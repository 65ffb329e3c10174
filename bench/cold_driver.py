"""Run by ``bench/cold.py`` under valgrind: ``python bench/cold_driver.py VARIANT COUNT``.

Serves COUNT nginx-like ``GET /verify`` requests one at a time through gunicorn's own
request handling (its parser, ``wsgi.create``, the app, its ``Response`` and the shipped
access logger), writing 2 MiB between two requests so that each starts with the caches
that nginx, wrk and the other worker leave behind on a loaded machine; the COUNT
requests run inside one ``operator.call``, where alone callgrind counts (bench/cold.py).
VARIANT: ``floor`` (bench/floors.py's raw app), ``tokenauth`` (the shipped WSGI entry
point, configured by the TOKENAUTH_* environment) or ``evict`` (no request, only the
writes). The bench token is COLD_TOKEN. No socket: a request is read from and answered
into memory, so no system call lets another thread take the GIL while the requests are
counted.
"""
import operator
import os
import sys
import time
from datetime import datetime

sys.path.insert(0, os.environ.get("COLD_ROOT", os.getcwd()))

EVICTED = bytearray(2 * 1024 * 1024)  # more than one core's L2 here
FILLER = bytes(range(256)) * (len(EVICTED) // 256)
WARM_REQUESTS = 200


class MemorySocket:
    def __init__(self):
        self.incoming = b""
        self.sent = []

    def recv(self, size):
        data, self.incoming = self.incoming[:size], self.incoming[size:]
        return data

    def sendall(self, data):
        self.sent.append(data)

    def setblocking(self, flag):
        pass


def nginx_request(token: str) -> bytes:
    """What deploy/nginx's auth subrequest sends for wrk's request."""
    return ("GET /verify HTTP/1.1\r\nHost: tokenauth\r\n"
            "X-Original-URI: /api/bench/items/42?page=1\r\nX-Original-Method: GET\r\n"
            "X-Real-IP: 127.0.0.1\r\nX-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\n"
            f"Authorization: Bearer {token}\r\n\r\n").encode()


def load(variant: str):
    if variant == "floor":
        from bench.floors import raw_app
        return raw_app
    if variant == "tokenauth":
        from tokenauth.serve import workers
        from tokenauth.serve.wsgi import application
        workers.worker_started(application)  # what gunicorn's post_worker_init does
        return application
    return None


def main(variant: str, count: int) -> None:
    from gunicorn.config import Config
    from gunicorn.http import wsgi
    from gunicorn.http.parser import RequestParser

    from tokenauth.serve.gunicorn_config import settings

    config = Config()
    for name, value in settings(os.environ).items():  # the shipped settings, hooks aside
        if name in config.settings and not callable(value):
            config.set(name, value)
    access_log = config.logger_class(config)
    app = load(variant)
    sock = MemorySocket()
    parser = RequestParser(config, sock, ("127.0.0.1", 40000))
    request = nginx_request(os.environ["COLD_TOKEN"])
    answers = []

    def serve_one():
        sock.incoming = request
        started = datetime.now()
        parsed = next(parser)
        response, environ = wsgi.create(parsed, sock, ("127.0.0.1", 40000),
                                        ("127.0.0.1", 8000), config)
        environ["wsgi.multithread"] = True
        for chunk in app(environ, response.start_response):
            response.write(chunk)
        response.close()
        access_log.access(response, parsed, environ, datetime.now() - started)
        answers.append(b"".join(sock.sent).split(b"\r\n", 1)[0])
        sock.sent.clear()

    if app is not None:
        for _ in range(WARM_REQUESTS):  # the listener starts and listens, the token is cached
            serve_one()
            time.sleep(0.005)  # the background threads may work here, not below
    sys.setswitchinterval(1000.0)  # from here on no other thread takes the GIL, except
    time.sleep(1.0)                # those waiting for it already, which run now
    verifier = getattr(app, "verifier", None)
    if verifier is not None:
        # The listener is held still, and under valgrind a second of wall time is a few
        # dozen requests: its proofs of life are taken as given, or the cache would stop
        # being vouched for and the cached variant would go to the database once a second.
        verifier.changes._alive = lambda: None
        verifier.cache.vouch(float("inf"))
    answers.clear()

    def counted_requests():
        for _ in range(count):
            if app is not None:
                serve_one()
            EVICTED[:] = FILLER

    # Inside operator.call (C) alone callgrind collects (bench/cold.py): start-up, the
    # warm-up and the exit are not counted.
    operator.call(counted_requests)
    statuses = sorted(set(answers))
    print("answers:", b" | ".join(statuses).decode() if statuses else "none")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
