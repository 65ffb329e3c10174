"""Small helpers shared by tests: auth headers, free ports, waiting for servers."""
from __future__ import annotations

import base64
import socket
import time
import urllib.error
import urllib.request

PASSWORD = "correct horse battery staple"


def basic(username: str, secret: str) -> dict:
    """An ``Authorization: Basic`` header."""
    value = base64.b64encode(f"{username}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {value}"}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process=None, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers at all (any status); fail early if ``process`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before {url} answered")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def corrupt(token: str) -> str:
    """``token`` with its last character changed, so its check digits no longer match."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")
