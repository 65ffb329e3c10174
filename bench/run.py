"""``make bench``: tokenauth's /verify through real nginx auth_request, measured with wrk.

    python -m bench.run                  the table of issue 8 (about 10-15 minutes)
    python -m bench.run --study servers  gunicorn worker classes and counts, granian
    python -m bench.run --study cold     one /verify's cost with cold caches, counted by valgrind
    BENCH_QUICK=1 python -m bench.run    a ~2 minute smoke of every row kind

Everything runs on loopback; every wrk run is bounded by ``-d``; every process, folder
and database the run starts is stopped or removed at the end, also on Ctrl-C. bench/ is a
namespace package (no __init__.py) so that setup.cfg's ``find:`` does not install it with
tokenauth. docs/benchmark.md explains the method, the rows and the knobs.
"""
from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import stat
import sys
import time
import urllib.request

from tokenauth.security.tokens import generate

from . import cache_ttl, cold, report, seed, soak, study
from .harness import Harness
from .knobs import Knobs, missing_tools
from .rows import PATH, Row, run_rounds
from .servers import FLASK_FLOOR, RAW_FLOOR
from .wrk import Load

BASIC_USER = "basic"
ROUTES = ["POST /api/admin/**", "DELETE /api/**", "PUT /api/items/*", "PATCH /api/**",
          "GET /api/reports/*/summary", "GET /api/users/*", "GET /api/health", "GET /api/**"]


class Interrupted(Exception):
    """Ctrl-C or SIGTERM."""


def _interrupted(signum, frame):
    raise Interrupted(signal.Signals(signum).name)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def basic(username: str, secret: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()}


def estimate_seconds(knobs: Knobs, postgres: bool) -> float:
    databases = len(knobs.sizes) * (2 if postgres else 1)
    rows = 5 + (3 if knobs.quick else 4) * databases + 2 + int(knobs.microcache)
    seeding = 40 + 90 * max(knobs.sizes) / 1_000_000
    main = knobs.rounds * rows * (knobs.run_seconds + 0.5) + knobs.rounds * 3
    ttl = knobs.rounds * len(knobs.ttls) * (knobs.ttl_warmup + knobs.seconds + 0.5)
    return seeding + 20 + main + ttl + knobs.soak_seconds + 12


def main_run(harness: Harness) -> dict:
    knobs = harness.knobs
    print(f"tokenauth make bench: {len(os.sched_getaffinity(0))} cores, wrk -t{knobs.threads} "
          f"-c{knobs.connections}, {knobs.seconds:g} s per row after {knobs.warmup:g} s warm-up, "
          f"best of {knobs.rounds} interleaved rounds, nginx worker_processes "
          f"{knobs.nginx_workers}{', QUICK' if knobs.quick else ''}")
    if not harness.postgres:
        print(f"  PostgreSQL at {knobs.postgres_url.split('@')[-1]} not reachable: PostgreSQL "
              f"rows skipped (BENCH_POSTGRES_URL)")
    print(f"  estimated duration: ~{estimate_seconds(knobs, harness.postgres) / 60:.0f} min\n",
          flush=True)
    started = time.monotonic()
    print("Preparing databases", flush=True)
    databases = harness.databases(knobs.sizes)
    harness.prepare(databases)
    ttl_db = databases[-1]  # the largest, on PostgreSQL when there is one
    began = time.monotonic()
    tokens = seed.insert_valid_tokens(ttl_db, harness.pepper, knobs.ttl_tokens)
    tokens_file = harness.work / "many-tokens.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    tokens_file.chmod(stat.S_IRUSR | stat.S_IWUSR)
    print(f"  {ttl_db.label}: {len(tokens):,} more valid tokens for the cache-TTL study in "
          f"{time.monotonic() - began:.1f} s\n", flush=True)

    print("Starting servers and nginx", flush=True)
    rows, soak_target = build_rows(harness, databases)
    print("\nMeasuring", flush=True)
    run_rounds(rows, knobs, harness, "main", floor=next(row for row in rows if row.key == "floor"))
    harness.stop_all_but(soak_target[0])
    print(f"\nSoak: {knobs.soak_seconds:g} s at full load, {soak_target[2].label}, cached token",
          flush=True)
    soaked = soak.run(harness, *soak_target)
    # The TTL study runs alone: its five servers hold up to ~20 PostgreSQL connections
    # each, and with the soak's server beside them they passed PostgreSQL's limit of 100
    # (run 2026-11-29T10-15-27Z: "too many clients", answered 503 unavailable).
    harness.stop(harness.fronts + harness.servers)
    print("\nCache TTL study", flush=True)
    ttl_rows = cache_ttl.run(harness, ttl_db, tokens_file)
    return report.main_report(harness, rows, ttl_rows, soaked, databases,
                              time.monotonic() - started)


def build_rows(harness: Harness, databases: list) -> tuple[list[Row], tuple]:
    """Start every server and front of the main table; returns its rows and the soak's
    (server, front url, database)."""
    knobs, small = harness.knobs, databases[0]
    basic_password = "basic-" + generate("tka")[-12:]
    limit = harness.limit_front(BASIC_USER, basic_password)
    floors = [harness.gunicorn("floor-raw", harness.env(small), RAW_FLOOR),
              harness.gunicorn("floor-flask", harness.env(small), FLASK_FLOOR)]
    per_database = []
    for database in databases:
        name = f"tokenauth-{database.backend}-{database.size}"
        group = {
            "cached": harness.gunicorn(f"{name}-cached", harness.env(database)),
            "uncached": harness.gunicorn(f"{name}-uncached",
                                         harness.env(database, verify_cache_ttl=0)),
        }
        if not knobs.quick or database.size == small.size:  # quick: fewer rows
            group["invalid"] = harness.gunicorn(f"{name}-invalid",
                                                harness.env(database, verify_max_failures=0))
        per_database.append((database, group))
    flood_server = harness.gunicorn("tokenauth-flood", harness.env(small))
    fronts = {server.name: harness.front(server)
              for server in floors + [flood_server] +
              [server for _, group in per_database for server in group.values()]}
    cached_small = per_database[0][1]["cached"]
    micro = harness.front(cached_small, microcache=True) if knobs.microcache else None
    harness.wait_until_up()

    def url(server):
        return fronts[server.name].url + PATH

    rows = [
        Row("limit", "nginx return 204 as the auth answer (the limit)", "limit",
            Load(limit.url + PATH)),
        Row("floor", "raw WSGI callable, shipped gunicorn (the floor)", "floor",
            Load(url(floors[0]))),
        Row("flask", "bare Flask view, shipped gunicorn", "flask", Load(url(floors[1]))),
    ]
    invalid = generate("tka")  # well-formed, never stored
    for database, group in per_database:
        common = {"backend": database.backend, "size": database.size}
        rows += [
            Row(f"{database.backend}-{database.size}-cached",
                f"tokenauth {database.label}: cached valid token", "tokenauth",
                Load(url(group["cached"]), bearer(database.token)), server=group["cached"],
                scenario="cached", **common),
            Row(f"{database.backend}-{database.size}-uncached",
                f"tokenauth {database.label}: uncached (TTL=0)", "tokenauth",
                Load(url(group["uncached"]), bearer(database.token)), server=group["uncached"],
                scenario="uncached", **common),
        ]
        if "invalid" in group:
            rows += [
                Row(f"{database.backend}-{database.size}-invalid",
                    f"tokenauth {database.label}: invalid token", "tokenauth",
                    Load(url(group["invalid"]), bearer(invalid)), expect=401, reason="invalid",
                    server=group["invalid"], scenario="invalid", **common),
                Row(f"{database.backend}-{database.size}-basic",
                    f"tokenauth {database.label}: Basic user:token", "tokenauth",
                    Load(url(group["cached"]), basic(seed.USERNAME, database.token)),
                    server=group["cached"], scenario="basic", **common),
            ]
    rows.append(Row("auth_basic", "nginx auth_basic, bcrypt cost 5", "auth_basic",
                    Load(limit.basic_url + PATH, basic(BASIC_USER, basic_password))))
    rows += optional_rows(harness, small, cached_small, url, micro)
    rows.append(Row("flood", f"tokenauth {small.label}: cached, failed-sign-in flood", "flood",
                    Load(url(flood_server), bearer(small.token)), server=flood_server,
                    backend=small.backend, size=small.size, scenario="flood",
                    extra={"flood_url": fronts[flood_server.name].url + "/auth/api/v1/me"}))
    soak_database, soak_group = per_database[-1]
    return rows, (soak_group["cached"], url(soak_group["cached"]), soak_database)


def optional_rows(harness: Harness, small, server, url, micro) -> list[Row]:
    """The route-rule row (when tokenauth supports ``routes``) and the micro-cache row."""
    rows = []
    if seed.supports_routes(server.url):
        token = seed.create_routed_token(server.url, harness.password, ROUTES)
        rows.append(Row("routes", f"tokenauth {small.label}: {len(ROUTES)} route rules, cached",
                        "routes", Load(url(server), bearer(token)), server=server,
                        backend=small.backend, size=small.size, scenario="routes"))
    else:
        print("  route rules: skipped: routes not supported yet", flush=True)
    if micro is not None:
        # Does tokenauth mark its allows cacheable? Asked directly, as the config asks.
        request = urllib.request.Request(f"{server.url}/verify", headers={
            **bearer(small.token), "X-Tokenauth-Microcache": "1"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            accel = answer.headers.get("X-Accel-Expires")
        rows.append(Row("microcache", f"tokenauth {small.label}: cached, nginx micro-cache",
                        "microcache", Load(micro.url + PATH, bearer(small.token)), server=server,
                        backend=small.backend, size=small.size, scenario="microcache",
                        extra={"x_accel_expires": accel}))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", choices=["servers", "cold"],
                        help="run a study instead of the table")
    parser.add_argument("--quick", action="store_true", help="same as BENCH_QUICK=1")
    parser.add_argument("--microcache", action="store_true", help="same as BENCH_MICROCACHE=1")
    args = parser.parse_args(argv)
    try:
        knobs = Knobs.from_env(quick=args.quick, microcache=args.microcache)
    except ValueError as error:
        print(f"bench: {error}")
        return 2
    missing = (missing_tools(knobs.microcache) if args.study != "cold" else
               [] if shutil.which("valgrind") else ["valgrind"])
    if missing:
        print(f"make bench needs Debian packages that are missing here:\n"
              f"  apt-get install -y {' '.join(missing)}")
        return 2
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupted)
    harness, failed = Harness(knobs), False
    try:
        if args.study == "servers":
            study.run(harness)
        elif args.study == "cold":
            cold.run(harness)
        else:
            main_run(harness)
        return 0
    except Interrupted as stopped:
        print(f"\nbench: {stopped}: stopping everything")
        return 130
    except (RuntimeError, TimeoutError) as error:  # a server or tool that did not work
        failed = True
        print(f"bench: {error}")
        return 1
    except BaseException:
        failed = True
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: print("bench: stopping, please wait", flush=True))
        count = len(harness.servers) + len(harness.fronts)
        harness.close(keep_folder=failed)
        print(f"bench: stopped {count} servers and nginx fronts"
              f"{', dropped ' + ', '.join(harness.pg_names) if harness.pg_names else ''}")


if __name__ == "__main__":
    sys.exit(main())
