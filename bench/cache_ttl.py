"""The cache-TTL study (issue 9): many distinct valid tokens at several
TOKENAUTH_VERIFY_CACHE_TTL values; req/s and the per-worker cache's hit rate, read from
tokenauth's ``tokenauth_verify_cache_total{result=hit|miss}`` around each measured run.

Requests pick a token per request in wrk's Lua (bench/lua/many_tokens.lua): Zipf-like by
default (the token of rank k with weight 1/k: a few busy clients and a long tail, as API
traffic tends to be), or uniform with BENCH_TTL_MIX=uniform. Each run follows a warm-up
of the same load, so the hit rate is that of a cache already in use (for TTLs longer than
the warm-up it is a lower bound of the steady state).
"""
from __future__ import annotations

from pathlib import Path

from .harness import Harness
from .rows import PATH, Row, run_rounds
from .seed import Database
from .wrk import Load

HIT = 'tokenauth_verify_cache_total{result="hit"}'
MISS = 'tokenauth_verify_cache_total{result="miss"}'


def run(harness: Harness, database: Database, tokens_file: Path) -> list[Row]:
    """Start one tokenauth (shipped config) per TTL, measure them interleaved, stop them."""
    knobs = harness.knobs
    started = []
    rows = []
    try:
        for ttl in knobs.ttls:
            server = harness.gunicorn(f"tokenauth-ttl-{ttl}",
                                      harness.env(database, verify_cache_ttl=ttl))
            front = harness.front(server)
            started += [server, front]
            load = Load(front.url + PATH, script="many_tokens.lua",
                        script_args=(tokens_file, knobs.ttl_mix, 1))
            first = tokens_file.read_text().split("\n", 1)[0]
            rows.append(Row(f"ttl-{ttl}", f"TTL {ttl:>3} s, {knobs.ttl_tokens:,} tokens "
                            f"({knobs.ttl_mix}), {database.label}", "ttl", load,
                            server=server, backend=database.backend, size=database.size,
                            scenario=f"ttl={ttl}",
                            probe_headers={"Authorization": f"Bearer {first}"}))
        harness.wait_until_up()
        run_rounds(rows, knobs, harness, "ttl")
    finally:
        harness.stop(started)
    return rows


def hit_rate(row: Row) -> float | None:
    """The cache hit rate during the row's best run."""
    if not row.results or not row.extra.get("counters"):
        return None
    counters = row.extra["counters"][row.results.index(row.best)]
    hits, misses = counters.get(HIT, 0), counters.get(MISS, 0)
    return hits / (hits + misses) if hits + misses else None
