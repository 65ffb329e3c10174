"""deploy/demo.py's process and nginx helpers, loaded once for the whole benchmark, and
a port picker that survives many servers starting at once.

``make demo``, the end-to-end tests and the benchmark start processes and render nginx
the same way; deploy/ is not a package, so the file is loaded by path (as tests/servers.py
does).
"""
from __future__ import annotations

import importlib.util
import random
import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _load_demo():
    spec = importlib.util.spec_from_file_location("tokenauth_deploy_demo",
                                                  ROOT / "deploy" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


demo = _load_demo()
spawn, stop = demo.spawn, demo.stop
wait_for_http, render_nginx_config, nginx_binary = (
    demo.wait_for_http, demo.render_nginx_config, demo.nginx_binary)

_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A free port below the kernel's ephemeral range, never the same one twice in a run.

    deploy's free_port() asks the kernel for any free port and lets it go; with ~60
    servers starting at once on a busy machine, another process (or an outgoing
    connection) took such a port before our server bound it. Ports below the ephemeral
    range are never handed out by the kernel that way.
    """
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(1000):
        port = random.randrange(min(20000, low - 1000), low)
        if port in _handed_out:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    return demo.free_port(host)
