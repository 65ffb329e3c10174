"""The server study (issue 8): WSGI servers and gunicorn settings behind the same nginx
(upstream keepalive), each serving the raw-WSGI floor, the bare Flask view and tokenauth
(cached and uncached token, SQLite 10^3); ratios against the raw floor under the shipped
settings.
Plus the cost of tokenauth's access log (the shipped config with ``accesslog = None``)."""
from __future__ import annotations

import time

from .deploy import ROOT
from .environment import describe
from .harness import Harness
from .report import against, row_record, table, write
from .rows import PATH, Row, run_rounds
from .servers import FLASK_FLOOR, RAW_FLOOR
from .wrk import Load

SHIPPED = "gunicorn gthread 2×4 (shipped)"
GRANIAN_SHIPPED = "granian 2×4 (tokenauth serve --server granian)"
CONFIGS = [
    (SHIPPED, {}),
    ("gunicorn sync, 2 workers", {"worker_class": "sync", "workers": 2}),
    ("gunicorn sync, 4 workers", {"worker_class": "sync", "workers": 4}),
    ("gunicorn gthread 2×8", {"workers": 2, "threads": 8}),
    ("gunicorn gthread 4×2", {"workers": 4, "threads": 2}),
    ("gunicorn gthread 3×4", {"workers": 3, "threads": 4}),
    ("gunicorn gthread 3×2", {"workers": 3, "threads": 2}),
    ("gunicorn gevent, 2 workers", {"worker_class": "gevent", "workers": 2}),
    ("granian 2 workers (WSGI)", None),
    # tokenauth as `tokenauth serve --server granian` ships it; the floors with the same
    # workers × blocking threads.
    (GRANIAN_SHIPPED, None),
]
QUIET_CONFIG = ROOT / "bench" / "gunicorn_no_access_log.py"
APPS = (("raw WSGI", RAW_FLOOR), ("bare Flask", FLASK_FLOOR), ("tokenauth cached", None),
        ("tokenauth uncached", None))


def run(harness: Harness) -> dict:
    knobs = harness.knobs
    configs = [(config, options) for config, options in CONFIGS  # quick: no gthread variants
               if not (knobs.quick and options and "threads" in options)]
    count = len(configs) * len(APPS) + 2
    estimate = 60 + count * knobs.rounds * (knobs.run_seconds + 0.5)
    print(f"tokenauth server study: {len(configs)} server settings × {len(APPS)} apps behind "
          f"nginx, {knobs.seconds:g} s per row, best of {knobs.rounds} interleaved rounds\n"
          f"  estimated duration: ~{estimate / 60:.0f} min\n", flush=True)
    started = time.monotonic()
    print("Preparing the database", flush=True)
    database = harness.databases((1_000,), backends=("sqlite",))[0]
    harness.prepare([database])
    envs = {"tokenauth uncached": harness.env(database, verify_cache_ttl=0)}
    rows = []
    for index, (config, options) in enumerate(configs):
        for app_label, app in APPS:
            name = f"study{index}-{app_label.replace(' ', '-').lower()}"
            env = envs.get(app_label) or harness.env(database)
            if config == GRANIAN_SHIPPED:
                server = harness.granian(name, env, app, workers=2, threads=4)
            elif options is None:
                server = harness.granian(name, env, app or "wsgi:app")
            else:
                server = harness.gunicorn(name, env, app, **options)
            rows.append(_row(harness, server, f"{config}: {app_label}", config, app_label,
                             database))
    for app_label, app in (APPS[0], APPS[2]):
        server = harness.gunicorn(f"study-quiet-{app_label.split()[0].lower()}",
                                  harness.env(database), app,
                                  config=QUIET_CONFIG)
        rows.append(_row(harness, server, f"{SHIPPED}, access log off: {app_label}",
                         f"{SHIPPED}, access log off", app_label, database))
    print("Starting servers and nginx", flush=True)
    harness.wait_until_up()
    print("\nMeasuring", flush=True)
    run_rounds(rows, knobs, harness, "study")
    floor = rows[0].best.rps if rows[0].best else None
    print("\n" + table(rows, against(floor)))
    print("\n" + matrix(rows, floor, [config for config, _ in configs]))
    goals = server_goals(rows)
    print("\n" + "\n".join(goals))
    record = {"started_at": harness.started_at, "duration_seconds": time.monotonic() - started,
              "environment": describe(knobs, harness.work), "floor_rps": floor,
              "goals": goals,
              "rows": [dict(row_record(row, floor), config=row.extra["config"],
                            app=row.extra["app"]) for row in rows]}
    path = write(record, rows, against(floor), f"WSGI servers behind nginx, {harness.started_at}",
                 "-servers")
    print(f"\nWrote {path.name} and {path.with_suffix('.png').name} (also latest-servers.png)")
    return record


def _row(harness, server, label, config, app_label, database) -> Row:
    front = harness.front(server)
    tokenauth = app_label.startswith("tokenauth")
    headers = {"Authorization": f"Bearer {database.token}"} if tokenauth else {}
    group = "tokenauth" if tokenauth else "flask" if app_label == "bare Flask" else "floor"
    return Row(server.name, label, group,
               Load(front.url + PATH, headers), server=server,
               extra={"config": config, "app": app_label})


def server_goals(rows: list[Row]) -> list[str]:
    """Issue 8's bar for shipping another server: tokenauth's cached /verify under granian
    as shipped ≥ 1.5× under gunicorn as shipped, and ≥ 2× the bare Flask view on gunicorn."""
    best = {(row.extra["config"], row.extra["app"]): row.best for row in rows}
    granian = best.get((GRANIAN_SHIPPED, "tokenauth cached"))
    lines = ["Server goals (issue 8), tokenauth cached under granian as shipped:"]
    for label, key, bar in (("× tokenauth under gunicorn as shipped", (SHIPPED, "tokenauth cached"), 1.5),
                            ("× bare Flask under gunicorn as shipped", (SHIPPED, "bare Flask"), 2.0)):
        other = best.get(key)
        if granian and other:
            ratio = granian.rps / other.rps
            lines.append(f"  {'PASS' if ratio >= bar else 'FAIL'}  ≥ {bar}{label}: {ratio:.2f}")
        else:
            lines.append(f"  n/a   ≥ {bar}{label}: a row is missing")
    return lines


def matrix(rows: list[Row], floor: float | None, configs: list[str]) -> str:
    """req/s and × the shipped floor, one line per server setting, one column per app."""
    cells = {(row.extra["config"], row.extra["app"]): row.best for row in rows}
    configs = configs + [f"{SHIPPED}, access log off"]
    width = max(len(config) for config in configs) + 2
    lines = [f"{'× raw floor under the shipped settings':<{width}}" +
             "".join(f"{app:>22}" for app, _ in APPS)]
    for config in configs:
        line = f"{config:<{width}}"
        for app, _ in APPS:
            best = cells.get((config, app))
            line += (f"{best.rps:>13,.0f} {best.rps / floor:>7.2f}×" if best and floor
                     else f"{'-':>22}")
        lines.append(line)
    return "\n".join(lines)
