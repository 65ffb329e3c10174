"""The deployment topology as real processes: nginx (from deploy/nginx/nginx.conf.template,
rendered by deploy/demo.py), the echo upstream, and a small HTTP client that talks to
them from a chosen loopback address.

tokenauth itself runs under gunicorn or granian via ``tests/servers.py``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import re
import shutil
import signal
import socket
import urllib.parse
from pathlib import Path

from ..servers import demo, free_port, stop, wait_for_http

CLIENT_ADDRESS = "127.0.0.2"  # not nginx's own 127.0.0.1, so the real client shows
NGINX_DIR = demo.DEPLOY / "nginx"
JS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")  # libnginx-mod-http-js




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


def raw_call(base_url: str, method: str, target: bytes, headers: dict | None = None,
             source: str = CLIENT_ADDRESS) -> Answer:
    """One request whose request target is sent exactly as given (any bytes, unlike
    http.client, which refuses some), on a fresh connection from ``source``."""
    url = urllib.parse.urlsplit(base_url)
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {url.netloc}".encode(),
             b"Connection: close"]
    lines += [f"{name}: {value}".encode() for name, value in (headers or {}).items()]
    with socket.create_connection((url.hostname, url.port), timeout=15,
                                  source_address=(source, 0)) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return Answer(response.status, response.getheaders(), response.read())


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
def nginx(prefix: Path, tokenauth_url: str | list, product_url: str, microcache: bool = False,
          edit=None):
    """nginx from the template, rendered into ``prefix``; yields its base URL.
    ``tokenauth_url``: one tokenauth, or a list of them (replicas in one upstream).
    ``microcache``: deploy/nginx/tokenauth-microcache.conf in place of tokenauth.conf.
    ``edit(text) -> text``: a change of the test's own to the rendered configuration.

    Stopped with SIGQUIT (graceful), by PID. The error log stays in ``prefix``.
    """
    port = free_port()
    tokenauth = ([_address(url) for url in tokenauth_url] if isinstance(tokenauth_url, list)
                 else _address(tokenauth_url))
    listen = f"127.0.0.1:{port}"
    if microcache or edit:
        config = demo.render_nginx_config(prefix, listen, tokenauth, _address(product_url))
        text = config.read_text()
        if microcache:
            text = _with_microcache(text, listen, tokenauth, _address(product_url))
            shutil.copy(NGINX_DIR / "tokenauth_cache_key.js", config.parent)
        config.write_text(edit(text) if edit else text)
        process = demo.spawn([demo.nginx_binary(), "-e", config.parent / "error.log",
                              "-p", f"{config.parent}/", "-c", config],
                             config.parent / "nginx.stdout.log")
    else:
        process = demo.start_nginx(prefix, listen, tokenauth, _address(product_url))
    url = f"http://{listen}"
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


def _with_microcache(text: str, listen: str, tokenauth: str, product: str) -> str:
    """The rendered template with the shipped micro-cache file (its docker-compose
    addresses replaced) in place of its copy of tokenauth.conf, and the njs module loaded."""
    microcache = (NGINX_DIR / "tokenauth-microcache.conf").read_text()
    for shipped, here in (("server tokenauth2:8000;\n", ""),  # one tokenauth here
                          ("server tokenauth:8000;", f"server {tokenauth};"),
                          ("server echo:8000;", f"server {product};"),
                          ("listen 80;", f"listen {listen};")):
        assert microcache.count(shipped) == 1, shipped
        microcache = microcache.replace(shipped, here)
    section = re.compile(r"# BEGIN tokenauth\.conf\n.*# END tokenauth\.conf\n", re.S)
    text, found = section.subn(lambda _: microcache, text, count=1)
    assert found == 1, "the template lost its BEGIN/END tokenauth.conf markers"
    return f"load_module {JS_MODULE};\n" + text


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
