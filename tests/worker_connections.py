"""Keep-alive connections pinned to each gunicorn worker, so a test decides which worker
answers each request instead of hoping the kernel spreads them.

Linux only: the server side of each connection is found in /proc/net/tcp and then among the
workers' open sockets.
"""
from __future__ import annotations

import http.client
import os
import time
import urllib.parse
from pathlib import Path


def worker_pids(master_pid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
                pids.add(int(entry.name))
    return pids


def _server_inode(server_port: int, client_port: int) -> str | None:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(part.split(":")[1], 16) for part in fields[1:3])
        if (local, remote) == (server_port, client_port) and fields[3] == "01":
            return fields[9]
    return None


def _owner(inode: str, pids: set[int]) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        folder = f"/proc/{pid}/fd"
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            try:
                if os.readlink(f"{folder}/{name}") == target:
                    return pid
            except OSError:
                continue
    return None


def connections_to_each_worker(base_url: str, master_pid: int, workers: int = 2,
                               attempts: int = 60) -> list:
    """One open keep-alive ``HTTPConnection`` per worker of the gunicorn at ``base_url``,
    once all ``workers`` run. Raises AssertionError when some worker took none of
    ``attempts`` new connections."""
    url = urllib.parse.urlsplit(base_url)
    deadline = time.monotonic() + 20
    while len(pids := worker_pids(master_pid)) < workers:
        assert time.monotonic() < deadline, f"{len(pids)} of {workers} workers started"
        time.sleep(0.05)
    pinned: dict[int, http.client.HTTPConnection] = {}
    for _ in range(attempts):
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
        connection.request("GET", "/healthz")  # accepted and answered: a worker holds it
        response = connection.getresponse()
        response.read()
        assert not response.will_close, "the server closed a keep-alive connection"
        inode = _server_inode(url.port, connection.sock.getsockname()[1])
        owner = _owner(inode, pids) if inode else None
        if owner is not None and owner not in pinned:
            pinned[owner] = connection
        else:
            connection.close()
        if len(pinned) == len(pids):
            return list(pinned.values())
    for connection in pinned.values():
        connection.close()
    raise AssertionError(f"only {len(pinned)} of {len(pids)} workers took a connection")


def send(connection: http.client.HTTPConnection, path: str, headers: dict):
    """One request on ``connection``: ``(status, headers)``."""
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status, response.headers
