"""nginx for the benchmark: the project's own auth_request configuration, rendered like
``make demo`` renders it, plus what the benchmark needs around it.

Every front is ``deploy/nginx/nginx.conf.template`` (rendered by deploy/demo.py) with
  - ``worker_processes`` set to BENCH_NGINX_WORKERS (1 by default: on 2 cores nginx shares
    the CPU with wrk and the Python workers, and one worker serves ~50k req/s here),
    ``worker_connections`` raised for the flood's extra connections;
  - a ``server {}`` answering ``return 200`` that stands in for the product, so the
    product is never the bottleneck;
and, for the physical-limit front, a ``server {}`` answering ``return 204`` as the auth
answer plus a ``server {}`` protecting /api/ with ``auth_basic`` (bcrypt) instead.
The micro-cache front puts deploy/nginx/tokenauth-microcache.conf in place of the
template's copy of tokenauth.conf.
"""
from __future__ import annotations

import dataclasses
import re
import shutil
import signal
import subprocess
from pathlib import Path

from .deploy import ROOT, free_port, nginx_binary, render_nginx_config, spawn, wait_for_http
from .knobs import JS_MODULE

NGINX_DIR = ROOT / "deploy" / "nginx"
MICROCACHE = NGINX_DIR / "tokenauth-microcache.conf"
CACHE_KEY_JS = NGINX_DIR / "tokenauth_cache_key.js"
SECTION = re.compile(r"# BEGIN tokenauth\.conf\n.*# END tokenauth\.conf\n", re.S)
# Directives only the micro-cache variant has (checked against tokenauth.conf).
MICROCACHE_ONLY = ("js_import", "js_set", "proxy_cache", "map $tokenauth_cache_key",
                   "map $upstream_status", "proxy_ignore_headers", "proxy_no_cache",
                   "proxy_set_header X-Tokenauth-Microcache")


@dataclasses.dataclass
class Front:
    """A running nginx: ``url`` is where wrk sends /api/... requests."""

    name: str
    process: subprocess.Popen
    url: str
    prefix: Path
    basic_url: str | None = None  # the auth_basic server, on the limit front only
    stop_signal: int = signal.SIGQUIT

    @property
    def log(self) -> Path:
        return self.prefix / "error.log"


def stub_server(port: int, status: int) -> str:
    body = ' "ok\\n"' if status == 200 else ""
    return f"""
    server {{
        listen 127.0.0.1:{port};
        access_log off;
        keepalive_requests 1000000;
        location / {{
            return {status}{body};
        }}
    }}
"""


def auth_basic_server(port: int, htpasswd: Path) -> str:
    return f"""
    server {{
        listen 127.0.0.1:{port};
        server_tokens off;
        location /api/ {{
            auth_basic "bench";
            auth_basic_user_file {htpasswd};
            proxy_pass http://product;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
        }}
    }}
"""


def _sub_once(pattern: str, replacement: str, text: str) -> str:
    """Replace the one match of ``pattern``; RuntimeError when the template changed."""
    new, count = re.subn(pattern, lambda _: replacement, text)
    if count != 1:
        raise RuntimeError(f"bench/nginx.py: expected one {pattern!r} in the nginx config, "
                           f"found {count}; the template changed")
    return new


def _finish(config: Path, workers: int, extra_servers: list[str], head: str = "") -> None:
    text = config.read_text()
    text = _sub_once(r"worker_processes\s+\S+;", f"worker_processes {workers};", text)
    text = _sub_once(r"worker_connections\s+\d+;", "worker_connections 4096;", text)
    end = text.rstrip().rfind("}")  # the end of http {}
    config.write_text(head + text[:end] + "".join(extra_servers) + text[end:])


def _start(name: str, config: Path, listen: str) -> Front:
    binary = nginx_binary()
    prefix = config.parent
    process = spawn([binary, "-e", prefix / "error.log", "-p", f"{prefix}/", "-c", config],
                    prefix / "nginx.stdout.log")
    return Front(name, process, f"http://{listen}", prefix)


def start_front(name: str, prefix: Path, tokenauth: str, workers: int,
                microcache: bool = False) -> Front:
    """The project's config in front of the server at ``tokenauth`` (host:port)."""
    listen, product = f"127.0.0.1:{free_port()}", free_port()
    config = render_nginx_config(prefix, listen, tokenauth, f"127.0.0.1:{product}")
    head = ""
    if microcache:
        config.write_text(SECTION.sub(lambda _: render_microcache(listen, tokenauth, product),
                                      config.read_text(), count=1))
        shutil.copy(CACHE_KEY_JS, config.parent / CACHE_KEY_JS.name)
        head = f"load_module {JS_MODULE};\n"
    _finish(config, workers, [stub_server(product, 200)], head)
    return _start(name, config, listen)


def start_limit_front(prefix: Path, workers: int, htpasswd: Path) -> Front:
    """The project's config with nginx itself answering the auth subrequest (204), and
    an auth_basic server beside it."""
    listen, product, auth, basic = (free_port() for _ in range(4))
    listen = f"127.0.0.1:{listen}"
    config = render_nginx_config(prefix, listen, f"127.0.0.1:{auth}", f"127.0.0.1:{product}")
    _finish(config, workers, [stub_server(product, 200), stub_server(auth, 204),
                              auth_basic_server(basic, htpasswd)])
    front = _start("nginx-limit", config, listen)
    front.basic_url = f"http://127.0.0.1:{basic}"
    return front


def wait_until_up(fronts: list[Front], timeout: float = 20) -> None:
    for front in fronts:
        try:
            wait_for_http(f"{front.url}/", front.process, timeout)
        except (RuntimeError, TimeoutError) as error:
            raise RuntimeError(f"{front.name}: {error}; see {front.log}") from None


def render_microcache(listen: str, tokenauth: str, product: int) -> str:
    """deploy/nginx/tokenauth-microcache.conf with the benchmark's addresses. Raises
    RuntimeError when it no longer has tokenauth.conf's directives plus its own."""
    text = MICROCACHE.read_text()
    expected = _directives((NGINX_DIR / "tokenauth.conf").read_text())
    variant = [line for line in _directives(text) if not line.startswith(MICROCACHE_ONLY)]
    if variant != expected:
        missing = sorted(set(expected) - set(variant)) or sorted(set(variant) - set(expected))
        raise RuntimeError(f"{MICROCACHE.name} drifted from tokenauth.conf: {missing[:3]}")
    text = _sub_once(r"\n    server tokenauth2:8000;", "", text)  # one tokenauth here
    text = _sub_once(r"server tokenauth:8000;", f"server {tokenauth};", text)
    text = _sub_once(r"server echo:8000;", f"server 127.0.0.1:{product};", text)
    # the access log in nginx's prefix folder, beside the template's (a relative path)
    text = _sub_once(r"access_log /var/log/nginx/access.log tokenauth;",
                     "access_log access.log tokenauth;", text)
    return _sub_once(r"listen 80;", f"listen {listen};", text)


def _directives(text: str) -> list[str]:
    """The configuration's lines without comment lines and indentation, in order."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def write_htpasswd(path: Path, username: str, password: str) -> None:
    """A bcrypt (cost 5) htpasswd file, as ``htpasswd -B -C 5`` writes it."""
    subprocess.run(["htpasswd", "-i", "-B", "-C", "5", "-c", str(path), username],
                   input=password + "\n", text=True, check=True, capture_output=True)
