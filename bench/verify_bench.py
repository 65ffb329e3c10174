"""Benchmark of the /verify hot path under the real gunicorn config (``make bench``).

Starts gunicorn (2 workers x 4 threads) on a throw-away SQLite database, then for each
scenario sends keep-alive requests from a few client threads for a bounded time and count,
and prints throughput, latency percentiles and the ratio to a bare endpoint (/healthz) on
the same server. Ratios, not absolute numbers, are what carry from machine to machine.
Only loopback traffic; every loop stops after SECONDS or MAX_REQUESTS.
"""
from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import bearer, corrupt  # noqa: E402
from tests.servers import gunicorn, tokenauth_env  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "30000"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))


def load(port: int, path: str, headers: dict) -> dict:
    """Hammer ``path`` from CLIENTS threads; returns throughput and latencies."""
    latencies, statuses, lock = [], {}, threading.Lock()
    deadline = time.monotonic() + SECONDS
    budget = iter(range(MAX_REQUESTS))

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < deadline and next(budget, None) is not None:
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            with lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "statuses": statuses}


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="tokenauth-bench-"))
    # BENCH_DATABASE_URL: an EMPTY database to run on instead (e.g. a PostgreSQL one).
    database_url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{work}/bench.db")
    env = tokenauth_env(database_url, work / "instance")
    tokenauth = [str(Path(sys.executable).parent / "tokenauth")]
    subprocess.run(tokenauth + ["db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(tokenauth + ["users", "create", "bench", "--password-stdin"], env=env,
                   input=b"bench-password-1\n", check=True, capture_output=True)
    raw = subprocess.run(tokenauth + ["tokens", "create", "bench", "--name", "bench"], env=env,
                         check=True, capture_output=True, text=True).stdout.strip()

    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    print(f"tokenauth /verify benchmark: gunicorn 2 workers x 4 threads, {backend}, {CLIENTS} "
          f"keep-alive clients, {SECONDS:g} s or {MAX_REQUESTS} requests per scenario\n")
    print(f"{'scenario':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'vs /healthz':>13}  statuses")
    results = {}
    for cache_ttl in ("2", "0"):
        server_env = dict(env, TOKENAUTH_VERIFY_CACHE_TTL=cache_ttl, TOKENAUTH_THREADS="4",
                          TOKENAUTH_ACCESS_LOG="/dev/null")
        with gunicorn(server_env, work / f"logs-ttl{cache_ttl}", workers=2) as (url, _):
            port = int(url.rsplit(":", 1)[1])
            scenarios = [("/healthz (bare endpoint)", "/healthz", {})] if cache_ttl == "2" else []
            label = "cache" if cache_ttl == "2" else "no cache"
            scenarios += [
                (f"/verify valid token ({label})", "/verify", bearer(raw)),
                (f"/verify bad check ({label})", "/verify", bearer(corrupt(raw))),
                (f"/verify no credentials ({label})", "/verify", {}),
            ]
            for name, path, headers in scenarios:
                load(port, path, headers)  # warm-up: connections, caches
                results[name] = result = load(port, path, headers)
                base = results["/healthz (bare endpoint)"]["rps"]
                print(f"{name:<34}{result['rps']:>9.0f}{result['p50']:>9.2f}"
                      f"{result['p99']:>9.2f}{result['rps'] / base:>12.2f}x  {result['statuses']}")
    hit = results["/verify valid token (cache)"]["rps"]
    miss = results["/verify valid token (no cache)"]["rps"]
    print(f"\nverify with cache / without cache: {hit / miss:.2f}x")
    print(f"verify (cache) / bare endpoint:    {hit / results['/healthz (bare endpoint)']['rps']:.2f}x")


if __name__ == "__main__":
    main()
