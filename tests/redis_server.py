"""A redis-server of the test's own, on a free loopback port, stopped by its PID.

Never the machine's Redis at 127.0.0.1:6379: tests stop theirs to see how tokenauth
degrades. Nothing is kept on disk.
"""
from __future__ import annotations

import contextlib
import dataclasses
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis

from .servers import demo, free_port, stop


@dataclasses.dataclass
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def stop(self) -> None:
        stop(self.process)


def redis_binary() -> str | None:
    return shutil.which("redis-server")


@contextlib.contextmanager
def redis_server(folder: Path):
    """Yields a :class:`RedisServer`; stops it at the end (if a test has not already)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    assert port != 6379
    process = demo.spawn([redis_binary(), "--port", port, "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", folder], folder / "redis.log")
    server = RedisServer(f"redis://127.0.0.1:{port}/0", port, process)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                if server.client().ping():
                    break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: "
                                       f"{(folder / 'redis.log').read_text()}") from None
                time.sleep(0.05)
        yield server
    finally:
        stop(process)


@contextlib.contextmanager
def black_hole():
    """A TCP listener that accepts connections and never answers: a Redis that hangs.
    Yields ``(url, accepted)``, ``accepted`` a list of accepted sockets."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    accepted: list = []
    stopping = [False]

    def accept():
        while not stopping[0]:
            try:
                accepted.append(listener.accept()[0])
            except (socket.timeout, OSError):
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0", accepted
    finally:
        stopping[0] = True
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()
