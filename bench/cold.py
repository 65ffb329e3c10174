"""``make bench STUDY=cold``: what one /verify costs a worker whose caches are cold,
counted by valgrind rather than timed, so the machine's noise does not enter.

Through nginx a cached /verify costs a gunicorn worker tens of µs more CPU than the raw
floor, while in process it takes about 5 µs: on a loaded machine nginx, wrk, the kernel
and the other worker evict the caches between two requests, and a Python call or a C
module met cold costs microseconds while the work inside it hardly counts. This study
counts that cost deterministically (docs/benchmark.md, "The cold model"):

- ``bench/cold_driver.py`` serves nginx-like /verify requests one at a time through
  gunicorn's own request handling, writing 2 MiB between two requests, under
  ``valgrind --tool=cachegrind`` with a simulated 1 MiB last-level cache (one core's L2);
- a variant's cost per request is the difference between a run of ``LONG`` and a run of
  ``SHORT`` requests (start-up cancels), less the same difference of a run that only
  writes the 2 MiB;
- cycles = instructions / 3 + 12 per L1 miss + 45 per last-level miss (assumed weights),
  shown in µs at 3 GHz, beside each variant's ratio to the raw floor.

Two runs of one variant agree within about 1 µs. About 5 minutes on 2 cores; needs
Debian's valgrind.
"""
from __future__ import annotations

import concurrent.futures
import json
import subprocess
import sys
from pathlib import Path

from .deploy import ROOT
from .harness import Harness

SHORT, LONG = 300, 3300
LL_CACHE = "1048576,16,64"  # bytes, ways, line: one core's L2 on our machines
EVENTS = ("Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw")
VARIANTS = (("raw WSGI callable (the floor)", "floor", {}),
            ("tokenauth SQLite: cached valid token", "tokenauth", {}),
            ("tokenauth SQLite: uncached (TTL=0)", "tokenauth",
             {"TOKENAUTH_VERIFY_CACHE_TTL": "0"}))


def cycles(events: dict) -> float:
    """The model: instructions at 3 a cycle, 12 cycles an L1 miss, 45 a last-level miss."""
    l1 = events["I1mr"] + events["D1mr"] + events["D1mw"]
    last_level = events["ILmr"] + events["DLmr"] + events["DLmw"]
    return events["Ir"] / 3 + 12 * l1 + 45 * last_level


def per_request(short: dict, long: dict) -> dict:
    return {name: (long[name] - short[name]) / (LONG - SHORT) for name in EVENTS}


def counted(name: str, variant: str, count: int, env: dict, work: Path) -> dict:
    """One run under cachegrind: its event totals. Raises RuntimeError when the run
    fails or a request was not answered 200."""
    out = work / f"cachegrind.{name}.{count}"
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=yes", f"--LL={LL_CACHE}",
               f"--cachegrind-out-file={out}", sys.executable,
               str(ROOT / "bench" / "cold_driver.py"), variant, str(count)]
    # setarch -R and a fixed hash seed: the same layout in memory every run.
    done = subprocess.run(["setarch", "-R", *command], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=1800)
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"cold {variant} {count}: {done.stderr.strip()[-400:]}")
    answers = [line for line in done.stdout.splitlines() if line.startswith("answers:")]
    if variant != "evict" and answers != ["answers: HTTP/1.1 200 OK"]:
        raise RuntimeError(f"cold {variant}: not every answer was 200: {answers}")
    summary = next(line for line in out.read_text().splitlines() if line.startswith("summary:"))
    out.unlink()
    return dict(zip(EVENTS, map(int, summary.split()[1:])))


def run(harness: Harness) -> dict:
    print(f"tokenauth make bench STUDY=cold: cachegrind, {SHORT} and {LONG} requests a "
          f"variant, LL {LL_CACHE} (about 5 minutes)\n", flush=True)
    database = harness.databases((1_000,), backends=("sqlite",))[0]
    harness.prepare([database])
    base = dict(harness.env(database), COLD_TOKEN=database.token, PYTHONHASHSEED="0",
                PROMETHEUS_MULTIPROC_DIR=str(harness.work / "metrics-cold"))
    Path(base["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
    plans = [("eviction only", "evict", {})] + list(VARIANTS)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {(label, count): pool.submit(counted, str(index), variant, count,
                                               dict(base, **extra), harness.work)
                   for index, (label, variant, extra) in enumerate(plans)
                   for count in (SHORT, LONG)}
        totals = {key: future.result() for key, future in futures.items()}
    eviction = per_request(totals["eviction only", SHORT], totals["eviction only", LONG])
    rows = []
    for label, _, _ in VARIANTS:
        events = per_request(totals[label, SHORT], totals[label, LONG])
        events = {name: events[name] - eviction[name] for name in EVENTS}
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
    record = {"study": "cold", "started_at": harness.started_at, "requests": [SHORT, LONG],
              "ll_cache": LL_CACHE, "rows": rows}
    path = ROOT / "bench" / "results" / f"cold-{harness.started_at.replace(':', '-')}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"\nWrote {path.relative_to(ROOT)}")
    return record
