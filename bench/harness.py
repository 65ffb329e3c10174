"""Everything one benchmark run starts, in one place, so that ``close`` stops all of it.

A run has its own folder (databases, nginx prefixes, logs; removed at the end), its own
secrets, its own PostgreSQL databases (``tokenauth_bench_<pid>_<size>``, dropped at the
end) and the servers, nginx fronts and background wrk it started, stopped by PID.
"""
from __future__ import annotations

import concurrent.futures
import datetime
import os
import secrets
import shutil
import signal
import tempfile
import time
from pathlib import Path

from . import nginx, seed, servers
from .deploy import stop
from .knobs import Knobs


class Harness:
    def __init__(self, knobs: Knobs):
        self.knobs = knobs
        self.started_at = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        self.work = Path(tempfile.mkdtemp(prefix="tokenauth-bench-"))
        self.secret_key = secrets.token_urlsafe(48)
        self.pepper = secrets.token_urlsafe(48)
        self.password = "bench-" + secrets.token_urlsafe(12)
        self.servers: list[servers.Server] = []
        self.fronts: list[nginx.Front] = []
        self.background: list = []  # Popen of wrk floods
        self.pg_names: list[str] = []
        self.postgres = seed.postgres_reachable(knobs.postgres_url)

    # -- databases -------------------------------------------------------------------
    def databases(self, sizes, backends=("sqlite", "postgresql")) -> list[seed.Database]:
        """Create (not yet fill) one database per backend and size."""
        result = []
        for backend in backends:
            for size in sizes:
                if backend == "sqlite":
                    result.append(seed.Database(backend, size,
                                                f"sqlite:///{self.work}/tokens-{size}.db"))
                elif self.postgres:
                    name = f"tokenauth_bench_{os.getpid()}_{size}"
                    seed.create_postgres(self.knobs.postgres_url, name)
                    self.pg_names.append(name)
                    result.append(seed.Database(backend, size,
                                                seed.postgres_url(self.knobs.postgres_url, name),
                                                name))
        return result

    def prepare(self, databases: list[seed.Database]) -> None:
        """Migrate and fill them, in parallel; prints how long each fill took."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(databases)) as pool:
            futures = [pool.submit(seed.prepare, database, self.env(database), self.password,
                                   self.pepper) for database in databases]
            for future in futures:
                future.result()
        for database in databases:
            print(f"  {database.label}: {database.size:,} tokens stored in "
                  f"{database.seeding_seconds:.1f} s (one INSERT ... SELECT)", flush=True)

    def env(self, database: seed.Database, **settings) -> dict:
        return servers.tokenauth_env(database.url, self.work / "instance", self.secret_key,
                                     self.pepper, **settings)

    # -- processes -------------------------------------------------------------------
    def gunicorn(self, name: str, env: dict, app: str | None = None, **options):
        server = servers.start_gunicorn(name, env, self.work, app, **options)
        self.servers.append(server)
        return server

    def granian(self, name: str, env: dict, app: str | None = "wsgi:app", **options):
        server = servers.start_granian(name, env, self.work, app, **options)
        self.servers.append(server)
        return server

    def front(self, server: servers.Server, microcache: bool = False) -> nginx.Front:
        name = f"nginx-{server.name}" + ("-microcache" if microcache else "")
        front = nginx.start_front(name, self.work / name, server.address,
                                  self.knobs.nginx_workers, microcache)
        self.fronts.append(front)
        return front

    def limit_front(self, username: str, password: str) -> nginx.Front:
        prefix = self.work / "nginx-limit"
        prefix.mkdir(parents=True, exist_ok=True)
        nginx.write_htpasswd(prefix / "htpasswd", username, password)
        front = nginx.start_limit_front(prefix, self.knobs.nginx_workers, prefix / "htpasswd")
        self.fronts.append(front)
        return front

    def wait_until_up(self) -> None:
        servers.wait_until_up(self.servers)
        nginx.wait_until_up(self.fronts)

    def stop(self, items: list) -> None:
        """Stop these fronts and servers (fronts first, so no request is cut short)."""
        fronts = [item for item in items if isinstance(item, nginx.Front)]
        others = [item for item in items if not isinstance(item, nginx.Front)]
        for group in (fronts, others):
            servers.stop_all(group)
        self.fronts = [front for front in self.fronts if front not in fronts]
        self.servers = [server for server in self.servers if server not in others]

    def stop_all_but(self, keep: servers.Server) -> None:
        """Stop every server and front except ``keep`` and its fronts (each idle tokenauth
        still holds up to one PostgreSQL connection per thread)."""
        prefix = f"nginx-{keep.name}"
        self.stop([front for front in self.fronts if not front.name.startswith(prefix)] +
                  [server for server in self.servers if server is not keep])

    def close(self, keep_folder: bool = False) -> None:
        """Stop everything this run started, drop its databases, remove its folder."""
        for process in self.background:
            stop(process, signal.SIGINT, timeout=5)
        self.stop(self.fronts + self.servers)
        for name in self.pg_names:
            for attempt in range(3):
                try:
                    seed.drop_postgres(self.knobs.postgres_url, name)
                    break
                except Exception as error:  # noqa: BLE001 - say so, never hide a leftover
                    if attempt == 2:
                        print(f"bench: could not drop database {name}: {error}")
                    time.sleep(1)
        if keep_folder:  # for the logs; the databases and raw tokens go
            for path in [*self.work.glob("*.db*"), self.work / "many-tokens.txt"]:
                path.unlink(missing_ok=True)
            print(f"bench: logs kept in {self.work}")
        else:
            shutil.rmtree(self.work, ignore_errors=True)
