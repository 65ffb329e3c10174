"""The soak (issue 8): full load on the cached scenario for BENCH_SOAK_SECONDS; each
worker's resident memory at start and end, and last-access writes per second.

Writes are counted by PostgreSQL (the change of ``n_tup_upd`` of ``api_tokens`` in
``pg_stat_user_tables``; a backend reports its counts when it goes idle, at most ~10 s
late, so the end is read after that) and by tokenauth's
``tokenauth_last_access_writes_total`` when it has that metric.
"""
from __future__ import annotations

import time

from . import seed, wrk
from .harness import Harness
from .rows import Row
from .servers import Server, rss_mib, scrape

WRITES_METRIC = "tokenauth_last_access_writes_total"
RESOLUTION = 60  # TOKENAUTH_LAST_ACCESS_RESOLUTION's default: at most 1 write a token a minute
STATISTICS_LAG = 11  # seconds: PostgreSQL's idle-backend statistics flush (10 s), plus one


def _writes_metric(server: Server) -> float | None:
    values = [value for name, value in scrape(server).items() if name.startswith(WRITES_METRIC)]
    return sum(values) if values else None


def _settled_updates(database: seed.Database) -> int | None:
    """n_tup_upd once it stops moving: backends of servers stopped a moment ago report
    their last counts as they exit."""
    value, deadline = seed.tuples_updated(database), time.monotonic() + STATISTICS_LAG
    while value is not None and time.monotonic() < deadline:
        time.sleep(1)
        previous, value = value, seed.tuples_updated(database)
        if value == previous:
            break
    return value


def run(harness: Harness, server: Server, url: str, database: seed.Database) -> dict:
    knobs = harness.knobs
    row = Row("soak", "soak", "soak", wrk.Load(url, {"Authorization": f"Bearer {database.token}"}))
    pids = server.worker_pids()
    memory_start = {pid: rss_mib(pid) for pid in pids}
    updates_start, metric_start = _settled_updates(database), _writes_metric(server)
    result = wrk.run(row.load, knobs.soak_seconds, knobs.connections, knobs.threads)
    memory_end = {pid: rss_mib(pid) for pid in server.worker_pids()}
    metric_end = _writes_metric(server)
    if updates_start is not None:
        time.sleep(STATISTICS_LAG)
    updates_end = seed.tuples_updated(database)
    soaked = {
        "database": database.label, "seconds": result.seconds, "rps": result.rps,
        "p50_ms": result.p50_ms, "p99_ms": result.p99_ms,
        "unexpected": row.unexpected(result), "tokens_used": 1,
        "resolution_seconds": RESOLUTION,
        "workers": [{"pid": pid, "rss_start_mib": memory_start.get(pid),
                     "rss_end_mib": memory_end.get(pid)}
                    for pid in sorted(set(memory_start) | set(memory_end))],
        "pg_updates": None if updates_start is None else updates_end - updates_start,
        "metric_writes": None if metric_start is None else metric_end - metric_start,
    }
    for key in ("pg_updates", "metric_writes"):
        if soaked[key] is not None:
            soaked[f"{key}_per_second"] = soaked[key] / max(result.seconds, 0.001)
    print(f"  {result.rps:,.0f} req/s, p99 {result.p99_ms:.2f} ms", flush=True)
    return soaked
