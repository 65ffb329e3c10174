"""The deployment topology as real processes: nginx (from deploy/nginx/nginx.conf.template,
rendered by deploy/demo.py), the echo upstream, and a small HTTP client that talks to
them from a chosen loopback address.

tokenauth itself runs under gunicorn via ``tests/servers.py``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import signal
import urllib.parse
from pathlib import Path

from ..servers import demo, free_port, stop, wait_for_http

CLIENT_ADDRESS = "127.0.0.2"  # not nginx's own 127.0.0.1, so the real client shows




@dataclasses.dataclass
class Answer:
    status: int
    headers: list  # (name, value) pairs as received, repeated names kept
    body: bytes

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        """The value of a header that must appear at most once."""
        values = self.all(name)
        assert len(values) <= 1, f"{name} appears {len(values)} times: {values}"
        return values[0] if values else None

    def json(self):
        return json.loads(self.body)


def call(base_url: str, method: str, path: str, headers: dict | None = None,
         body: bytes | None = None, source: str = CLIENT_ADDRESS) -> Answer:
    """One HTTP request on a fresh connection from ``source`` (a loopback address)."""
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15,
                                            source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


@dataclasses.dataclass
class Echo:
    url: str
    process: object

    def count(self) -> int:
        return call(self.url, "GET", "/__count", source="127.0.0.1").json()["count"]

    def requests(self) -> list[dict]:
        return call(self.url, "GET", "/__requests", source="127.0.0.1").json()


@contextlib.contextmanager
def echo_upstream(log_path: Path):
    """deploy/echo_upstream.py on a free loopback port; yields an :class:`Echo`."""
    port = free_port()
    process = demo.start_echo(port, log_path)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/__count", process)
        yield Echo(url, process)
    finally:
        stop(process)


@contextlib.contextmanager
def nginx(prefix: Path, tokenauth_url: str | list, product_url: str):
    """nginx from the template, rendered into ``prefix``; yields its base URL.
    ``tokenauth_url``: one tokenauth, or a list of them (replicas in one upstream).

    Stopped with SIGQUIT (graceful), by PID. The error log stays in ``prefix``.
    """
    port = free_port()
    tokenauth = ([_address(url) for url in tokenauth_url] if isinstance(tokenauth_url, list)
                 else _address(tokenauth_url))
    process = demo.start_nginx(prefix, f"127.0.0.1:{port}", tokenauth, _address(product_url))
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_for_http(url + "/", process, timeout=10)
        except (RuntimeError, TimeoutError) as error:
            log = prefix / "error.log"
            raise RuntimeError(f"nginx did not start: {error}\n"
                               f"{log.read_text() if log.exists() else ''}") from None
        yield url
    finally:
        stop(process, signal.SIGQUIT)


def _address(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc


TCP_STATES = {"01": "ESTABLISHED", "06": "TIME_WAIT"}


def tcp_states(port: int) -> dict:
    """How many IPv4 sockets to or from ``port`` are ESTABLISHED / in TIME_WAIT (Linux)."""
    counts = {"ESTABLISHED": 0, "TIME_WAIT": 0}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        ports = {int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)}
        state = TCP_STATES.get(fields[3])
        if port in ports and state:
            counts[state] += 1
    return counts
