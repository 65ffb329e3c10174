"""``make bench STUDY=cold``: what one /verify costs a worker whose caches are cold,
counted by valgrind rather than timed, so the machine's noise does not enter.

Through nginx a cached /verify costs a gunicorn worker tens of µs more CPU than the raw
floor, while in process it takes about 5 µs: on a loaded machine nginx, wrk, the kernel
and the other worker evict the caches between two requests, and a Python call or a C
module met cold costs microseconds while the work inside it hardly counts. This study
counts that cost deterministically (docs/benchmark.md, "The cold model"):

- ``bench/cold_driver.py`` serves nginx-like /verify requests one at a time through
  gunicorn's own request handling, writing 2 MiB between two requests, under
  ``valgrind --tool=callgrind --cache-sim=yes`` with a simulated 1 MiB last-level cache
  (one core's L2);
- only the ``COUNT`` requests are counted: the driver runs them inside one call of
  ``operator.call`` (a C function nothing else here calls), and callgrind collects
  events inside it alone (``--collect-atstart=no --toggle-collect``). A variant's cost
  per request is its count less that of a run that only writes the 2 MiB, over ``COUNT``;
- cycles = instructions / 3 + 12 per L1 miss + 45 per last-level miss (assumed weights),
  shown in µs at 3 GHz, beside each variant's ratio to the raw floor.

Counted inside the loop, not as the difference of a short and a long run (start-up varies
too much for that, docs/benchmark.md): runs of the same code agree within about 1-3 µs.
About 4 minutes on 2 cores; needs Debian's valgrind.
"""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
from pathlib import Path

from .deploy import ROOT
from .harness import Harness

COUNT = 1000  # requests counted a variant
COUNTED_CALL = "_operator_call"  # operator.call in C: the driver's counted loop runs in it
LL_CACHE = "1048576,16,64"  # bytes, ways, line: one core's L2 on our machines
EVENTS = ("Ir", "Dr", "Dw", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw")
VARIANTS = (("raw WSGI callable (the floor)", "floor", {}),
            ("tokenauth SQLite: cached valid token", "tokenauth", {}),
            ("tokenauth SQLite: uncached (TTL=0)", "tokenauth",
             {"TOKENAUTH_VERIFY_CACHE_TTL": "0"}))


def cycles(events: dict) -> float:
    """The model: instructions at 3 a cycle, 12 cycles an L1 miss, 45 a last-level miss."""
    l1 = events["I1mr"] + events["D1mr"] + events["D1mw"]
    last_level = events["ILmr"] + events["DLmr"] + events["DLmw"]
    return events["Ir"] / 3 + 12 * l1 + 45 * last_level


def per_request(counted_run: dict, eviction_only: dict, count: int = COUNT) -> dict:
    """A variant's events per request: its counted requests, less the writes between
    them (a run that only writes), over ``count``."""
    return {name: (counted_run[name] - eviction_only[name]) / count for name in EVENTS}


def counted(name: str, variant: str, env: dict, work: Path) -> dict:
    """One run under callgrind: the event totals of its ``COUNT`` requests. Raises
    RuntimeError when the run fails or a request was not answered 200."""
    out = work / f"callgrind.{name}"
    command = ["valgrind", "--tool=callgrind", "--cache-sim=yes", f"--LL={LL_CACHE}",
               "--collect-atstart=no", f"--toggle-collect={COUNTED_CALL}",
               f"--callgrind-out-file={out}", sys.executable,
               str(ROOT / "bench" / "cold_driver.py"), variant, str(COUNT)]
    # setarch -R and a fixed hash seed: the same layout in memory every run.
    done = subprocess.run(["setarch", "-R", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"cold {variant}: {done.stderr.strip()[-400:]}")
    answers = [line for line in done.stdout.splitlines() if line.startswith("answers:")]
    if variant != "evict" and answers != ["answers: HTTP/1.1 200 OK"]:
        raise RuntimeError(f"cold {variant}: not every answer was 200: {answers}")
    totals = read_totals(out.read_text())
    out.unlink()
    return totals


def read_totals(callgrind_out: str) -> dict:
    """The ``summary:`` of a callgrind output file, by event name. Raises RuntimeError
    when nothing was collected: the counted call never ran."""
    lines = callgrind_out.splitlines()
    names = next(line for line in lines if line.startswith("events:")).split()[1:]
    values = next(line for line in lines if line.startswith("summary:")).split()[1:]
    totals = dict(zip(names, map(int, values)))
    if not totals.get("Ir"):
        raise RuntimeError(f"cold: callgrind counted nothing inside {COUNTED_CALL}")
    return {name: totals.get(name, 0) for name in EVENTS}


def run(harness: Harness) -> dict:
    print(f"tokenauth make bench STUDY=cold: callgrind, {COUNT} requests a variant, "
          f"LL {LL_CACHE} (about 4 minutes)\n", flush=True)
    database = harness.databases((1_000,), backends=("sqlite",))[0]
    harness.prepare([database])
    base = dict(harness.env(database), COLD_TOKEN=database.token, PYTHONHASHSEED="0",
                PROMETHEUS_MULTIPROC_DIR=str(harness.work / "metrics-cold"))
    Path(base["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    plans = [("eviction only", "evict", {})] + list(VARIANTS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {label: pool.submit(counted, str(index), variant, dict(base, **extra),
                                      harness.work)
                   for index, (label, variant, extra) in enumerate(plans)}
        totals = {label: future.result() for label, future in futures.items()}
    rows = []
    for label, _, _ in VARIANTS:
        events = per_request(totals[label], totals["eviction only"])
        rows.append({"label": label, "events": events, "model_us": cycles(events) / 3000})
    floor = rows[0]["model_us"]
    print(f"{'':44s}{'instr.':>9s}{'L1 miss':>9s}{'LL miss':>9s}{'model µs':>10s}"
          f"{'over floor':>12s}{'× floor':>9s}")
    for row in rows:
        events = row["events"]
        row["ratio_to_floor"] = floor / row["model_us"]
        print(f"{row['label']:44s}{events['Ir'] / 1000:8.1f}k"
              f"{(events['I1mr'] + events['D1mr'] + events['D1mw']) / 1000:8.1f}k"
              f"{(events['ILmr'] + events['DLmr'] + events['DLmw']) / 1000:8.2f}k"
              f"{row['model_us']:10.1f}{row['model_us'] - floor:+12.1f}"
              f"{row['ratio_to_floor']:9.3f}")
    record = {"study": "cold", "started_at": harness.started_at, "method": "callgrind",
              "requests": COUNT, "ll_cache": LL_CACHE, "rows": rows}
    path = ROOT / "bench" / "results" / f"cold-{harness.started_at.replace(':', '-')}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nWrote {path.relative_to(ROOT)}")
    return record
