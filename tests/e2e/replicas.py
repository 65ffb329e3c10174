"""Two tokenauth servers as replicas: each with 2 workers (under gunicorn, or as
TOKENAUTH_TEST_SERVER says), on one PostgreSQL database and one Redis of the test's own,
behind one nginx whose upstream lists both.

    client -> nginx (upstream tokenauth { server A; server B; }) -> A or B -> PostgreSQL
                                                                          -> Redis (counts)
    client -> A or B directly (their own ports)

Use the ``replicas`` fixture (tests/e2e/conftest.py); users and tokens come from the usual
``make_user`` / ``make_token`` factories, on the PostgreSQL database the servers share.
"""
from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

from ..redis_server import RedisServer
from ..servers import tokenauth_env, tokenauth_server
from .stack import Answer, Echo, call, echo_upstream, nginx


@dataclasses.dataclass
class Replicas:
    front: str            # nginx: its tokenauth upstream lists both servers
    servers: list[str]    # each tokenauth server's own base URL
    processes: list       # their servers' masters (Popen), in the same order
    logs: list[Path]      # their log folders, in the same order
    redis: RedisServer
    echo: Echo

    def verify_everywhere(self, headers: dict, source: str) -> list[Answer]:
        """``GET /verify`` on each server directly, in order."""
        return [call(server, "GET", "/verify", headers, source=source)
                for server in self.servers]

    def log_text(self, index: int) -> str:
        return "".join(path.read_text() for path in sorted(self.logs[index].glob("*.log")))


@contextlib.contextmanager
def running_replicas(folder: Path, database_url: str, redis: RedisServer, **settings):
    """Start echo, both servers, then nginx; stop them in reverse order, by PID."""
    settings.setdefault("redis_url", redis.url)
    env = tokenauth_env(database_url, folder / "instance", **settings)
    with contextlib.ExitStack() as stack:
        echo = stack.enter_context(echo_upstream(folder / "echo.log"))
        servers, processes, logs = [], [], []
        for name in ("server1", "server2"):
            # Each server its own folder: its logs, and its metrics (emptied at start).
            log_dir = folder / name / "logs"
            url, process = stack.enter_context(tokenauth_server(env, log_dir, workers=2))
            servers.append(url)
            processes.append(process)
            logs.append(log_dir)
        front = stack.enter_context(nginx(folder / "nginx", servers, echo.url))
        yield Replicas(front, servers, processes, logs, redis, echo)
