"""deploy/demo.py's process and nginx helpers, loaded once for the whole benchmark.

``make demo``, the end-to-end tests and the benchmark start processes and render nginx
the same way; deploy/ is not a package, so the file is loaded by path (as tests/servers.py
does).
"""
from __future__ import annotations

import importlib.util
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
spawn, stop, free_port = demo.spawn, demo.stop, demo.free_port
wait_for_http, render_nginx_config, nginx_binary = (
    demo.wait_for_http, demo.render_nginx_config, demo.nginx_binary)
