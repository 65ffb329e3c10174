"""What a run measures and for how long: BENCH_* variables, with the defaults of a full run
(≤ 15 minutes on 2 cores) and of BENCH_QUICK=1 (a smoke of every row kind, ~2 minutes:
1 s runs, one round, 10^3 and 10^4 tokens, only cached and uncached on the larger)."""
from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

JS_MODULE = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")


@dataclasses.dataclass(frozen=True)
class Knobs:
    quick: bool = False
    seconds: int = 5              # BENCH_SECONDS: each measured wrk run (whole seconds)
    warmup: int = 1               # before each measured run, same load
    rounds: int = 3               # BENCH_ROUNDS: interleaved; each row keeps its best
    connections: int = 32         # BENCH_CONNECTIONS: wrk connections to nginx
    threads: int = 2              # BENCH_WRK_THREADS
    nginx_workers: int = 1        # BENCH_NGINX_WORKERS
    sizes: tuple = (1_000, 1_000_000)
    ttls: tuple = (0, 1, 5, 30, 300)
    ttl_tokens: int = 10_000
    ttl_mix: str = "zipf"         # BENCH_TTL_MIX: zipf (s=1) or uniform
    ttl_warmup: int = 5
    soak_seconds: int = 60        # BENCH_SOAK_SECONDS
    flood_connections: int = 64
    flood_per_second: float = 10.0
    microcache: bool = False      # BENCH_MICROCACHE=1 or --microcache
    postgres_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

    @classmethod
    def from_env(cls, environ=None, quick: bool = False, microcache: bool = False) -> "Knobs":
        """Defaults, then BENCH_QUICK's smaller plan, then the BENCH_* variables set.
        Raises ValueError naming a variable that is not a number."""
        environ = os.environ if environ is None else environ
        quick = quick or environ.get("BENCH_QUICK", "") not in ("", "0")
        values = {"quick": quick}
        if quick:
            values.update(seconds=1, warmup=1, rounds=1, sizes=(1_000, 10_000), ttls=(0, 5, 300),
                          ttl_tokens=1_000, ttl_warmup=1, soak_seconds=5)
        numbers = {"BENCH_SECONDS": ("seconds", int), "BENCH_ROUNDS": ("rounds", int),
                   "BENCH_CONNECTIONS": ("connections", int),
                   "BENCH_WRK_THREADS": ("threads", int),
                   "BENCH_NGINX_WORKERS": ("nginx_workers", int),
                   "BENCH_SOAK_SECONDS": ("soak_seconds", int)}
        for variable, (field, kind) in numbers.items():
            if environ.get(variable):
                try:
                    values[field] = kind(environ[variable])
                except ValueError:
                    raise ValueError(
                        f"{variable}={environ[variable]!r} is not a whole number") from None
        if environ.get("BENCH_TTL_MIX") in ("zipf", "uniform"):
            values["ttl_mix"] = environ["BENCH_TTL_MIX"]
        values["microcache"] = microcache or environ.get("BENCH_MICROCACHE", "") not in ("", "0")
        if environ.get("BENCH_POSTGRES_URL"):
            values["postgres_url"] = environ["BENCH_POSTGRES_URL"]
        knobs = cls(**values)
        if knobs.rounds < 1 or knobs.seconds <= 0:
            raise ValueError("BENCH_ROUNDS must be >= 1 and BENCH_SECONDS > 0")
        return knobs

    @property
    def run_seconds(self) -> float:
        """One measured row: warm-up plus measurement."""
        return self.warmup + self.seconds


def missing_tools(microcache: bool) -> list[str]:
    """Debian packages the benchmark needs and this machine lacks."""
    missing = []
    if not shutil.which("wrk"):
        missing.append("wrk")
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        missing.append("nginx")
    if not shutil.which("htpasswd"):
        missing.append("apache2-utils")
    if microcache and not JS_MODULE.exists():
        missing.append("libnginx-mod-http-js")
    return missing
