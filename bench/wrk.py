"""Running wrk (always with ``-d``) and reading its ``--latency`` report."""
from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

from .deploy import spawn

LUA = Path(__file__).resolve().parent / "lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclasses.dataclass
class Load:
    """What wrk sends: a URL, fixed headers, or a Lua script with its arguments."""

    url: str
    headers: dict = dataclasses.field(default_factory=dict)
    script: str | None = None          # a file name in bench/lua/
    script_args: tuple = ()


@dataclasses.dataclass
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    timeouts: int

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def command(load: Load, seconds: float, connections: int, threads: int,
            timeout: float = 10) -> list[str]:
    # wrk takes whole seconds only ("0.5s" is refused).
    args = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
            "--latency", "--timeout", f"{timeout:g}s"]
    for name, value in load.headers.items():
        args += ["-H", f"{name}: {value}"]
    if load.script:
        args += ["-s", str(LUA / load.script)]
    args.append(load.url)
    if load.script_args:
        args += ["--", *map(str, load.script_args)]
    return args


def run(load: Load, seconds: float, connections: int, threads: int) -> Result:
    """One bounded wrk run. Raises RuntimeError when wrk fails or prints no result."""
    completed = subprocess.run(command(load, seconds, connections, threads),
                               capture_output=True, text=True, timeout=seconds + 60)
    if completed.returncode != 0:  # its arguments may hold a credential: not printed
        output = (completed.stderr or completed.stdout).strip()
        raise RuntimeError(f"wrk exited with {completed.returncode}: {output[-300:]}")
    return parse(completed.stdout)


def start(load: Load, seconds: float, connections: int, threads: int, log: Path):
    """wrk in the background (the failed-sign-in flood); stop it with deploy.stop."""
    return spawn(command(load, seconds, connections, threads), log)


def _milliseconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * _UNITS[unit]


def parse(output: str) -> Result:
    """Read wrk's report. Raises RuntimeError when it has no request count."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if done is None:
        raise RuntimeError(f"unexpected wrk output: {output[-300:]!r}")
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    counts = [int(number) for number in errors.groups()] if errors else [0, 0, 0, 0]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    seconds = _milliseconds(done.group(2) + done.group(3)) / 1000
    requests = int(done.group(1))
    if requests == 0:  # wrk prints 0.00us percentiles then: there are none
        percentiles = {}
    return Result(
        requests=requests, seconds=seconds,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_milliseconds(percentiles["50"]) if "50" in percentiles else float("nan"),
        p99_ms=_milliseconds(percentiles["99"]) if "99" in percentiles else float("nan"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(counts), timeouts=counts[3])
