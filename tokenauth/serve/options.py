"""The server's own variables, parsed and checked like every other setting."""
from __future__ import annotations

import dataclasses

from ..settings import field_problems, parse_environment, setting

BIND_ADVICE = "use HOST:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8000) or unix:/path/to/socket"
SERVERS = ("gunicorn", "granian")


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    server: str = setting("gunicorn", choices=SERVERS)
    bind: str = "127.0.0.1:8080"
    # 2 on 2 cores: 3 served SQLite /verify 5-9% faster but holds 50% more database
    # connections, and ran PostgreSQL out of them in the benchmark (docs/benchmark.md).
    workers: int = setting(2, minimum=1)
    threads: int = setting(4, minimum=1)
    access_log: str | None = "-"  # a file, - for standard output, empty for none
    access_log_verify: bool = False  # also a line per allowed /verify (nginx logs those)


def load_server_options(environ) -> tuple[ServerOptions, list[str]]:
    """TOKENAUTH_SERVER / _BIND / _WORKERS / _THREADS / _ACCESS_LOG / _ACCESS_LOG_VERIFY from
    ``environ``, and a line for each problem; with problems, the options are the defaults."""
    values, problems = parse_environment(ServerOptions, environ)
    options = ServerOptions(**values)
    problems += field_problems(options)
    if not valid_bind(options.bind):
        problems.append(f"TOKENAUTH_BIND={options.bind!r} is not valid: {BIND_ADVICE}")
    return (ServerOptions(), problems) if problems else (options, [])


def valid_bind(bind: str) -> bool:
    if bind.startswith("unix:"):
        return len(bind) > len("unix:")
    host, _, port = bind.rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def bind_address(bind: str) -> tuple[str, int] | str:
    """A valid ``bind`` as gunicorn's ``cfg.address`` holds it: ``(host, port)`` with an
    IPv6 host unbracketed, or a unix socket's path."""
    if bind.startswith("unix:"):
        return bind[len("unix:"):]
    host, _, port = bind.rpartition(":")
    return host.strip("[]"), int(port)
