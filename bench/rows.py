"""Rows of the table and how one is measured: a probe, a warm-up, a bounded wrk run.

Rounds are interleaved (every row once per round, the order reversed every other round,
so slow drift of the machine does not favour one end of the table); each row keeps its
best round by req/s, with that round's p50 and p99.

The floor can be measured beside the rows (``run_rounds(..., floor=row)``): again after
every ``FLOOR_EVERY`` rows of a round, so that each run of a row is divided by the floor
measured next to it (:func:`floor_beside`), and the row's ratio is the median of those
(:func:`ratio_beside_floor`). On these 2 shared cores the same floor, run
six times in a row, gave 6,809 to 8,752 req/s: the machine's speed drifts within a
minute, and one lucky floor run lowered every ratio of a run measured against it.
"""
from __future__ import annotations

import dataclasses
import re
import statistics
import time
import urllib.error
import urllib.request

from . import wrk
from .deploy import stop
from .knobs import Knobs
from .servers import Server, scrape

PATH = "/api/bench/items/42?page=1"
SETTLE = 0.5  # seconds for requests still in flight when wrk stops to finish
FLOOR_EVERY = 4  # rows measured between two runs of the floor, within a round
COUNTED = ("microcache", "ttl")  # rows whose tokenauth counters are read around each run
FLOOD_LEAD = 2  # seconds of flood before /verify is measured


@dataclasses.dataclass
class Row:
    key: str
    label: str
    group: str                    # limit, floor, tokenauth, auth_basic, routes, flood, microcache
    load: wrk.Load
    expect: int = 200             # the status a client gets through nginx
    reason: str | None = None     # X-Auth-Error expected with a deny
    server: Server | None = None  # tokenauth behind it (for /metrics)
    backend: str | None = None
    size: int | None = None
    scenario: str | None = None
    probe_headers: dict | None = None
    results: list = dataclasses.field(default_factory=list)
    ticks: list = dataclasses.field(default_factory=list)  # (round, position) of each result
    error: str | None = None
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def best(self) -> wrk.Result | None:
        return max(self.results, key=lambda result: result.rps) if self.results else None

    def unexpected(self, result: wrk.Result) -> int:
        """Answers that were not what this row expects, plus socket errors."""
        wrong = result.non_2xx if self.expect < 300 else result.requests - result.non_2xx
        return wrong + result.socket_errors


def probe(row: Row) -> None:
    """One request through nginx; RuntimeError unless the answer is what the row expects."""
    headers = row.probe_headers if row.probe_headers is not None else row.load.headers
    request = urllib.request.Request(row.load.url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            status, reason = answer.status, answer.headers.get("X-Auth-Error")
    except urllib.error.HTTPError as error:
        status, reason = error.code, error.headers.get("X-Auth-Error")
    if status != row.expect or (row.reason and reason != row.reason):
        raise RuntimeError(f"probe answered {status} {reason or ''}, expected "
                           f"{row.expect} {row.reason or ''}".rstrip())


def measure(row: Row, knobs: Knobs, harness) -> wrk.Result:
    """Warm up, then one measured run of ``row`` (the flood row under its flood). Rows
    that count answers (micro-cache, TTL study) keep tokenauth's counter deltas per run."""
    warmup = knobs.ttl_warmup if row.group == "ttl" else knobs.warmup
    wrk.run(row.load, warmup, knobs.connections, knobs.threads)
    if row.group == "flood":
        return _under_flood(row, knobs, harness)
    if row.group not in COUNTED:
        return wrk.run(row.load, knobs.seconds, knobs.connections, knobs.threads)
    time.sleep(SETTLE)  # the warm-up's last requests are counted before, not during
    before = scrape(row.server)
    result = wrk.run(row.load, knobs.seconds, knobs.connections, knobs.threads)
    time.sleep(SETTLE)
    after = scrape(row.server)
    row.extra.setdefault("counters", []).append(
        {name: after[name] - before.get(name, 0) for name in after
         if name.startswith(("tokenauth_verify_total", "tokenauth_verify_cache_total"))})
    return result


def _under_flood(row: Row, knobs: Knobs, harness) -> wrk.Result:
    """The row's load while ``flood_connections`` send ``flood_per_second`` failed
    sign-ins per second in total (API Basic with random usernames, through nginx)."""
    delay_ms = knobs.flood_connections * 1000 / knobs.flood_per_second
    flood_load = wrk.Load(row.extra["flood_url"], script="flood.lua",
                          script_args=(delay_ms, knobs.flood_connections))
    log = harness.work / "logs" / f"flood-{len(row.results)}.log"
    seconds = FLOOD_LEAD + knobs.seconds + 1
    flood = wrk.start(flood_load, seconds, knobs.flood_connections, 1, log)
    harness.background.append(flood)
    try:
        time.sleep(FLOOD_LEAD)  # the flood is under way, sign-ins queueing if they do
        result = wrk.run(row.load, knobs.seconds, knobs.connections, knobs.threads)
        flood.wait(timeout=seconds + 30)
    finally:
        stop(flood)
        harness.background.remove(flood)
    output = log.read_text()
    sent = wrk.parse(output)
    statuses = {int(code): int(count) for code, count in
                re.findall(r"^flood-status (\d+) (\d+)$", output, re.M)}
    sign_ins = sum(int(n) for n in re.findall(r"^flood-sent (\d+)$", output, re.M))
    row.extra.setdefault("flood", []).append({
        "connections": knobs.flood_connections, "sign_ins": sign_ins,
        "per_second": sign_ins / max(sent.seconds, 0.001), "answers": statuses,
        "timeouts": sent.timeouts})
    return result


def floor_beside(floor: Row, tick: tuple) -> float | None:
    """The floor's req/s next to ``tick`` (round, position): the mean of its runs just
    before and just after in that round (one of them at the ends of a round)."""
    number, position = tick
    runs = [(at, result.rps) for (round_, at), result in zip(floor.ticks, floor.results)
            if round_ == number]
    near = [rps for at, rps in runs if at < position][-1:] + \
        [rps for at, rps in runs if at > position][:1]
    return sum(near) / len(near) if near else None


def ratio_beside_floor(row: Row, floor: Row) -> float | None:
    """The median over ``row``'s rounds of its run divided by the floor measured beside it.

    Both sides of each quotient are one ordinary run, so neither is favoured: a row's best
    run over the floor beside it would set a maximum of three against a typical value
    (run 2026-11-29T01-37-39Z: 0.03-0.05 higher than this median on cached rows)."""
    if row is floor:
        return 1.0
    ratios = []
    for result, tick in zip(row.results, row.ticks):
        base = floor_beside(floor, tick)
        if base:
            ratios.append(result.rps / base)
    return statistics.median(ratios) if ratios else None


def _with_floor_runs(order: list[Row], floor: Row | None) -> list[Row]:
    """``order`` with the floor first, then again after every ``FLOOR_EVERY`` other rows
    and at the end."""
    if floor is None:
        return order
    others = [row for row in order if row is not floor]
    plan = [floor]
    for index, row in enumerate(others, start=1):
        plan.append(row)
        if index % FLOOR_EVERY == 0 or index == len(others):
            plan.append(floor)
    return plan


def run_rounds(rows: list[Row], knobs: Knobs, harness, title: str,
               floor: Row | None = None) -> None:
    """Probe each row once, then measure all rows ``knobs.rounds`` times, interleaved;
    with ``floor`` (one of ``rows``), that row is measured beside the others too."""
    for row in rows:
        try:
            probe(row)
        except (RuntimeError, OSError) as error:
            row.error = f"probe failed: {error}"
            print(f"  skipped {row.label}: {row.error}", flush=True)
    position = 0
    for number in range(knobs.rounds):
        order = _with_floor_runs(rows if number % 2 == 0 else rows[::-1], floor)
        for row in order:
            if row.error:
                continue
            position += 1
            try:
                result = measure(row, knobs, harness)
            except (RuntimeError, OSError) as error:
                row.error = str(error)
                print(f"  {title} round {number + 1}: {row.label}: FAILED {error}", flush=True)
                continue
            row.results.append(result)
            row.ticks.append((number, position))
            wrong = row.unexpected(result)
            flag = f"  ({wrong} unexpected answers)" if wrong else ""
            print(f"  {title} round {number + 1}/{knobs.rounds}: {row.label:<58}"
                  f"{result.rps:>9,.0f} req/s  p99 {result.p99_ms:7.2f} ms{flag}"
                  .replace("    nan ms", "   none"), flush=True)
