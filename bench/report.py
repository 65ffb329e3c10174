"""The results: the table with ratios to the floor, issue 8's goals as PASS/FAIL lines, the
route, flood, micro-cache, TTL and soak sections; ``bench/results/<UTC time>.json`` with
every number and ``<UTC time>.png`` + ``latest.png``, a bar chart of the ratios."""
from __future__ import annotations

import json
import math
from pathlib import Path

from . import cache_ttl, chart
from .environment import describe
from .rows import Row, ratio_beside_floor
from .seed import power_of_ten

RESULTS = Path(__file__).resolve().parent / "results"
WIDTH = 58


def _ms(value: float) -> str:
    """Milliseconds, or "none" when no request was answered."""
    return "none" if math.isnan(value) else f"{value:.2f}"


def _p99(result) -> str:
    return "none answered" if math.isnan(result.p99_ms) else f"p99 {result.p99_ms:.2f} ms"


def _times(value: float, base: float | None) -> str:
    return _format_times(_ratio(value, base))


def _format_times(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}×"


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def _best_rps(rows: list[Row], key: str) -> float | None:
    row = next((row for row in rows if row.key == key), None)
    return row.best.rps if row and row.best else None


def against(floor: float | None):
    """Each row's ratio: its best req/s over ``floor``."""
    return lambda row: _ratio(row.best.rps, floor) if row.best else None


def beside_floor(rows: list[Row]):
    """Each row's ratio: the median over its rounds of each run over the floor measured
    beside it (rows.ratio_beside_floor); falls back to best over the floor's best when
    the floor was not measured beside the rows."""
    floor = next((row for row in rows if row.key == "floor"), None)
    if floor is None or not floor.ticks:
        return against(_best_rps(rows, "floor"))
    ratios = {row.key: ratio_beside_floor(row, floor) for row in rows}
    return lambda row: ratios.get(row.key)


def table(rows: list[Row], ratio, extra_header: str = "", extra=lambda row: "") -> str:
    """One line a row: best req/s, its p50 and p99, ``ratio(row)`` to the floor, then
    ``extra(row)`` and the count of unexpected answers when there were any."""
    width = max([WIDTH] + [len(row.label) + 2 for row in rows])
    lines = [f"{'':<{width}}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× floor':>9}"
             f"{extra_header:>10}".rstrip()]
    for row in rows:
        best = row.best
        if best is None:
            lines.append(f"{row.label:<{width}}  skipped: {row.error or 'not measured'}")
            continue
        times = ratio(row)
        wrong = row.unexpected(best)
        note = f"  {wrong} unexpected answers" if wrong else ""
        lines.append(f"{row.label:<{width}}{best.rps:>9,.0f}{_ms(best.p50_ms):>9}"
                     f"{_ms(best.p99_ms):>9}"
                     f"{'-' if times is None else f'{times:.2f}':>9}{extra(row):>10}{note}"
                     .rstrip())
    return "\n".join(lines)


def goals(rows: list[Row], ratio) -> list[dict]:
    """Issue 8's goals, each with the values it was judged on; ``ratio(row)`` to the floor."""
    by_auth_basic = against(_best_rps(rows, "auth_basic"))
    measured = {(row.backend, row.size, row.scenario): row.best.rps
                for row in rows if row.group == "tokenauth" and row.best}

    def name(backend, size):
        return f"{'SQLite' if backend == 'sqlite' else 'PostgreSQL'} {power_of_ten(size)}"

    def goal(text, values, passes):
        verdict = None if not values else all(passes(value) for value in values.values())
        return {"goal": text, "values": values, "passed": verdict}

    def ratios(scenario, to, backend=None):
        """``to(row)`` of each tokenauth row of ``scenario`` (and ``backend``), rounded."""
        values = {name(row.backend, row.size): to(row) for row in rows
                  if row.group == "tokenauth" and row.best and row.scenario == scenario
                  and (backend is None or row.backend == backend)}
        return {key: round(value, 2) for key, value in values.items() if value is not None}

    result = [
        goal("cached ≥ 0.9× floor", ratios("cached", ratio), lambda v: v >= 0.9),
        goal("uncached ≥ 0.7× floor on SQLite", ratios("uncached", ratio, "sqlite"),
             lambda v: v >= 0.7),
        goal("uncached ≥ 0.5× floor on PostgreSQL", ratios("uncached", ratio, "postgresql"),
             lambda v: v >= 0.5),
        goal("cached ≥ 5× nginx auth_basic (bcrypt)", ratios("cached", by_auth_basic),
             lambda v: v >= 5),
        goal("uncached ≥ 2× nginx auth_basic (bcrypt)", ratios("uncached", by_auth_basic),
             lambda v: v >= 2),
    ]
    flat = {}
    for backend in ("sqlite", "postgresql"):
        for scenario in ("cached", "uncached"):
            sizes = sorted(s for b, s, c in measured if b == backend and c == scenario)
            if len(sizes) >= 2:
                small, large = (measured[(backend, size, scenario)]
                                for size in (sizes[0], sizes[-1]))
                label = (f"{name(backend, sizes[0]).split()[0]} {scenario} "
                         f"{power_of_ten(sizes[0])}/{power_of_ten(sizes[-1])}")
                flat[label] = round(max(small, large) / min(small, large), 2)
    result.append(goal("smallest vs largest database within 1.2×", flat, lambda v: v <= 1.2))
    return result


def _goal_line(goal: dict) -> str:
    verdict = {True: "PASS", False: "FAIL", None: "n/a "}[goal["passed"]]
    values = ", ".join(f"{key} {value:.2f}" for key, value in goal["values"].items())
    return f"  {verdict}  {goal['goal']}: {values or 'not measured'}"


def sections(rows: list[Row], ratio) -> list[str]:
    out = []
    by_key = {row.key: row for row in rows}
    routes, cached = by_key.get("routes"), next((r for r in rows if r.scenario == "cached"), None)
    if routes and routes.best and cached and cached.best:
        out.append(f"Route rules: {routes.label.split(': ', 1)[1]} (the last one matches) at "
                   f"{routes.best.rps / cached.best.rps:.2f}× the same server's token without "
                   f"rules; p99 {routes.best.p99_ms:.2f} vs {cached.best.p99_ms:.2f} ms")
    elif not routes:
        out.append("Route rules: skipped: routes not supported yet")
    flood = by_key.get("flood")
    if flood and flood.best and cached and cached.best:
        sent = flood.extra["flood"][flood.results.index(flood.best)]
        answers = ", ".join(f"{code} ×{count}" for code, count in sorted(sent["answers"].items()))
        lost = f", {sent['timeouts']} timed out" if sent["timeouts"] else ""
        out.append(f"Failed-sign-in flood: /verify {flood.best.rps:,.0f} req/s, "
                   f"{_p99(flood.best)} during "
                   f"{sent['per_second']:.1f} failed sign-ins/s sent from "
                   f"{sent['connections']} connections (without the flood: "
                   f"{cached.best.rps:,.0f} req/s, {_p99(cached.best)}; "
                   f"{flood.best.timeouts} "
                   f"verify timeouts); answers to the {sent['sign_ins']} sign-ins before wrk "
                   f"stopped: "
                   f"{answers or 'none'}{lost}")
    micro, limit = by_key.get("microcache"), _best_rps(rows, "limit")
    if micro and micro.best:
        counters = micro.extra["counters"][micro.results.index(micro.best)]
        answered = (counters.get('tokenauth_verify_total{outcome="ok"}', 0)
                    / max(micro.best.requests, 1))
        note = ("" if micro.extra.get("x_accel_expires") else
                "; tokenauth sent no X-Accel-Expires when asked, so nginx caches nothing and "
                "this row shows no gain")
        out.append(f"Micro-cache: {micro.best.rps:,.0f} req/s = "
                   f"{_format_times(ratio(micro))} the floor, {_times(micro.best.rps, limit)} "
                   f"the limit; tokenauth answered "
                   f"about {min(answered, 1):.0%} of the verifies{note}")
    return out


def ttl_table(ttl_rows: list[Row], floor: float | None) -> str:
    def rate(row):
        value = cache_ttl.hit_rate(row)
        return "-" if value is None else f"{value:.1%}"
    return table(ttl_rows, against(floor), "hit rate", rate)


def soak_lines(soaked: dict) -> list[str]:
    workers = ", ".join(f"pid {w['pid']}: {_mib(w['rss_start_mib'])} → {_mib(w['rss_end_mib'])}"
                        for w in soaked["workers"])
    # One write per token per resolution window; a run can touch one window more.
    allowed = soaked["tokens_used"] * (int(soaked["seconds"] // soaked["resolution_seconds"]) + 1)
    writes = []
    if soaked.get("pg_updates") is not None:
        writes.append(f"PostgreSQL n_tup_upd +{soaked['pg_updates']} "
                      f"({soaked['pg_updates_per_second']:.3f}/s)")
    writes.append(f"tokenauth_last_access_writes_total +{soaked['metric_writes']:.0f} "
                  f"({soaked['metric_writes_per_second']:.3f}/s)"
                  if soaked.get("metric_writes") is not None else
                  "tokenauth_last_access_writes_total: not exposed")
    return [f"  {soaked['rps']:,.0f} req/s for {soaked['seconds']:.0f} s on {soaked['database']}, "
            f"p50 {soaked['p50_ms']:.2f} ms, p99 {soaked['p99_ms']:.2f} ms",
            f"  worker RSS (MiB) start → end: {workers}",
            f"  last-access writes: {'; '.join(writes)}; one write per token per "
            f"{soaked['resolution_seconds']} s window allows ≤ {allowed} here "
            f"({soaked['tokens_used']} token)"]


def _mib(value) -> str:
    return "gone" if value is None else f"{value:.1f}"


def row_record(row: Row, floor: float | None, ratio=None) -> dict:
    """``ratio_to_floor``: ``ratio(row)`` (default: best over ``floor``); ``ratio_to_best_floor``
    keeps best over best as well."""
    best = row.best
    return {"key": row.key, "label": row.label, "group": row.group, "backend": row.backend,
            "size": row.size, "scenario": row.scenario, "expect": row.expect,
            "error": row.error, "best": best.as_dict() if best else None,
            "ratio_to_floor": (ratio or against(floor))(row),
            "ratio_to_best_floor": _ratio(best.rps, floor) if best else None,
            "rounds": [dict(result.as_dict(), round=tick[0] + 1, position=tick[1])
                       for result, tick in zip(row.results, row.ticks)],
            "extra": {key: value for key, value in row.extra.items() if key != "flood_url"}}


def write(record: dict, rows: list[Row], ratio, title: str, suffix: str = "") -> Path:
    """``bench/results/<UTC time><suffix>.json`` and ``.png``, and ``latest<suffix>.png``."""
    RESULTS.mkdir(exist_ok=True)
    stamp = record["started_at"].replace(":", "-")
    path = RESULTS / f"{stamp}{suffix}.json"
    path.write_text(json.dumps(_finite(record), indent=2, default=str, allow_nan=False) + "\n")
    png = RESULTS / f"{stamp}{suffix}.png"
    chart.bars(rows, ratio, png, title)
    (RESULTS / f"latest{suffix}.png").write_bytes(png.read_bytes())
    return path


def _finite(value):
    """``value`` with NaN (no request answered) as null: strict JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def main_report(harness, rows, ttl_rows, soaked, databases, seconds) -> dict:
    floor, ratio = _best_rps(rows, "floor"), beside_floor(rows)
    print("\n" + table(rows, ratio))
    print(f"req/s: each row's best round. × floor: the median over the rounds of each run "
          f"divided by the floor measured beside it (bench/rows.py); the floor's own best "
          f"run: {floor or 0:,.0f} req/s")
    judged = goals(rows, ratio)
    print("\nGoals (issue 8), ratios from this run:")
    print("\n".join(_goal_line(goal) for goal in judged))
    print("\n" + "\n".join(sections(rows, ratio)))
    print("\nCache TTL study (issue 9):\n" + ttl_table(ttl_rows, floor))
    print("\nSoak:\n" + "\n".join(soak_lines(soaked)))
    record = {
        "started_at": harness.started_at, "duration_seconds": round(seconds, 1),
        "environment": describe(harness.knobs, harness.work), "floor_rps": floor,
        "databases": [{"label": d.label, "size": d.size,
                       "seeding_seconds": round(d.seeding_seconds, 2)} for d in databases],
        "rows": [row_record(row, floor, ratio) for row in rows], "goals": judged,
        "ttl_study": [dict(row_record(row, floor), hit_rate=cache_ttl.hit_rate(row))
                      for row in ttl_rows],
        "soak": soaked,
    }
    title = (f"tokenauth /verify through nginx, {record['environment']['cores']} cores, "
             f"{harness.started_at}")
    path = write(record, rows, ratio, title)
    print(f"\nWrote {path.relative_to(RESULTS.parent.parent)} and "
          f"{path.with_suffix('.png').name} (also latest.png); took {seconds / 60:.1f} min")
    return record
