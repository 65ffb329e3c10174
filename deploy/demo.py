#!/usr/bin/env python3
"""``make demo``: the docker-compose topology natively, on loopback ports, without Docker.

    nginx (deploy/nginx/nginx.conf.template) -> tokenauth under gunicorn (SQLite in .demo/)
                                             -> deploy/echo_upstream.py as the product API

Starts from an empty ``.demo/`` folder every time: migrates, creates the user ``demo``
(an admin) and one API token, starts the three servers, prints the URLs and curl lines to
try, and stops every child it started on Ctrl-C or SIGTERM.

The end-to-end tests (tests/e2e) import ``render_nginx_config`` and ``start_nginx`` from
here, so the demo and the tests run the same nginx configuration.
"""
from __future__ import annotations

import argparse
import ctypes
import dataclasses
import getpass
import os
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "nginx" / "nginx.conf.template"
ECHO = DEPLOY / "echo_upstream.py"
BIN = Path(sys.executable).parent
DEMO_DIR = ROOT / ".demo"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"


class NginxTemplate(string.Template):
    """Only braced UPPERCASE names (``${LISTEN}``) are placeholders, so nginx's own
    ``$variables`` pass through; a placeholder without a value raises KeyError."""

    flags = 0  # case-sensitive
    pattern = r"""
        \$(?:
            (?P<escaped>(?!)) |
            (?P<named>(?!)) |
            \{(?P<braced>[A-Z][A-Z0-9_]*)\} |
            (?P<invalid>(?!))
        )
    """


def render_nginx_config(prefix: Path, listen: str, tokenauth_servers: str | list,
                        product_server: str) -> Path:
    """Write ``prefix/nginx.conf`` from the template; pid, logs and temp files go under
    ``prefix``. ``tokenauth_servers``: one ``host:port``, or a list of them (replicas),
    each a ``server`` line of the tokenauth upstream. Returns the path. Raises ValueError
    for a prefix nginx cannot parse."""
    prefix = Path(prefix).resolve()
    if re.search(r"[\s;{}'\"$#]", str(prefix)):
        raise ValueError(f"nginx prefix {prefix} must not contain spaces or ; {{ }} ' \" $ #")
    prefix.mkdir(parents=True, exist_ok=True)
    text = NginxTemplate(TEMPLATE.read_text()).substitute(
        PREFIX=str(prefix), NGINX_USER=getpass.getuser(), LISTEN=listen,
        TOKENAUTH_SERVERS=upstream_servers(tokenauth_servers), PRODUCT_SERVER=product_server)
    path = prefix / "nginx.conf"
    path.write_text(text)
    return path


def upstream_servers(addresses: str | list, indent: str = " " * 8) -> str:
    """The ``server`` lines of an upstream block for one address or a list of them."""
    addresses = [addresses] if isinstance(addresses, str) else list(addresses)
    return f"\n{indent}".join(f"server {address};" for address in addresses)


def nginx_binary() -> str | None:
    """``$NGINX``, else nginx on PATH, else Debian's /usr/sbin/nginx; None when missing."""
    found = os.environ.get("NGINX") or shutil.which("nginx")
    if not found and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the parent dies without stopping us (Linux only)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def spawn(command: list, log_path: Path, **kwargs) -> subprocess.Popen:
    """Start a child in its own session (a terminal's Ctrl-C reaches only us, and we stop
    the children in order), output to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen([str(part) for part in command], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=_die_with_parent, **kwargs)


def start_nginx(prefix: Path, listen: str, tokenauth_servers: str | list,
                product_server: str) -> subprocess.Popen:
    """Render the template into ``prefix`` and run nginx in the foreground from there."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx not found: apt-get install nginx-light (or set NGINX)")
    config = render_nginx_config(prefix, listen, tokenauth_servers, product_server)
    prefix = config.parent
    return spawn([binary, "-e", prefix / "error.log", "-p", f"{prefix}/", "-c", config],
                 prefix / "nginx.stdout.log")


def start_echo(port: int, log_path: Path, host: str = "127.0.0.1") -> subprocess.Popen:
    return spawn([sys.executable, ECHO, "--host", host, "--port", port], log_path)


def start_gunicorn(env: dict, bind: str, log_dir: Path, workers: int = 2) -> subprocess.Popen:
    env = dict(env, TOKENAUTH_BIND=bind, TOKENAUTH_WORKERS=str(workers),
               TOKENAUTH_ACCESS_LOG=str(log_dir / "tokenauth.access.log"),
               # gunicorn.conf.py empties it at start; workers add up their metrics there.
               PROMETHEUS_MULTIPROC_DIR=str(log_dir.parent / "metrics"))
    return spawn([BIN / "gunicorn", "-c", ROOT / "gunicorn.conf.py"],
                 log_dir / "tokenauth.log", cwd=ROOT, env=env)


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15) -> int:
    """Stop a child we started, by its PID; kill it if it does not stop in time."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    return process.returncode


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers at all; raise RuntimeError if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


# -- the demo ------------------------------------------------------------------------------
class Stop(Exception):
    """Ctrl-C or SIGTERM: stop everything."""


def _stop_signal(signum, frame):
    raise Stop(signal.Signals(signum).name)


def say(message: str) -> None:
    """Print, unless the terminal or pipe is gone (a Ctrl-C also ends ``| tee``)."""
    try:
        print(message, flush=True)
    except OSError:
        pass


def demo_env(folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TOKENAUTH_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "TOKENAUTH_ENV": "development",  # secrets generated once in the instance folder
        "TOKENAUTH_INSTANCE_PATH": str(folder / "instance"),
        "TOKENAUTH_DATABASE_URL": f"sqlite:///{folder / 'tokenauth.db'}",
    })
    return env


def tokenauth_cli(env: dict, *args, stdin: str | None = None) -> str:
    """Run the ``tokenauth`` console script; returns its standard output."""
    result = subprocess.run([str(BIN / "tokenauth"), *args], env=env, cwd=ROOT, input=stdin,
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"tokenauth {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def banner(front: str, tokenauth: str, echo: str, token: str) -> str:
    rows = [
        (f"{front}/api/...", "the protected API: nginx asks tokenauth, echo answers"),
        (f"{front}/auth/tokens",
         f"the token web page (user {DEMO_USER}, password {DEMO_PASSWORD})"),
        (f"{front}/auth/api/v1/tokens", "the management API (Basic username:password)"),
        (f"{tokenauth}/healthz", "tokenauth itself, also /readyz and /metrics (not via nginx)"),
        (f"{echo}/__count", "the echo upstream: how many requests reached it"),
        (f"{DEMO_DIR.relative_to(ROOT)}/logs/", "logs of all three"),
    ]
    width = max(len(url) for url, _ in rows) + 2
    table = "\n".join(f"  {url.ljust(width)}{what}" for url, what in rows)
    return f"""
tokenauth demo is running; Ctrl-C stops everything.

{table}

API token of user {DEMO_USER} (tokenauth shows a token once; the demo keeps it here):
  {token}

Try:
  curl -s -H 'Authorization: Bearer {token}' {front}/api/hello
  curl -s -u {DEMO_USER}:{token} {front}/api/hello
  curl -si {front}/api/hello
  curl -s -u {DEMO_USER}:{DEMO_PASSWORD} {front}/auth/api/v1/tokens
"""


@dataclasses.dataclass
class Child:
    name: str
    process: subprocess.Popen
    stop_signal: int = signal.SIGTERM


def prepare_database(env: dict) -> str:
    """Migrate, create the demo user and one token; returns the raw token."""
    tokenauth_cli(env, "db", "upgrade")
    tokenauth_cli(env, "users", "create", DEMO_USER, "--admin", "--password-stdin",
                  stdin=DEMO_PASSWORD + "\n")
    return tokenauth_cli(env, "tokens", "create", DEMO_USER, "--name", "demo token",
                         "--expires-at", "7d").strip()


def start_servers(children: list, env: dict, logs: Path, nginx_port: int) -> tuple:
    """Start echo, gunicorn, then nginx (appending each to ``children`` at once, so a
    Ctrl-C meanwhile stops what runs); returns the three base URLs once all answer."""
    tokenauth, echo = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    children.append(Child("echo upstream", start_echo(int(echo.rsplit(":", 1)[1]),
                                                      logs / "echo.log")))
    children.append(Child("gunicorn", start_gunicorn(env, tokenauth, logs)))
    wait_for_http(f"http://{echo}/__count", children[0].process)
    wait_for_http(f"http://{tokenauth}/healthz", children[1].process)
    # nginx last and stopped first with a graceful SIGQUIT: no request reaches a stopping
    # tokenauth. gunicorn's SIGTERM is graceful too: pending last-access times are written.
    front = f"127.0.0.1:{nginx_port}"
    children.append(Child("nginx", start_nginx(DEMO_DIR / "nginx", front, tokenauth, echo),
                          signal.SIGQUIT))
    wait_for_http(f"http://{front}/", children[2].process)
    return f"http://{front}", f"http://{tokenauth}", f"http://{echo}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Run nginx + tokenauth + echo upstream.")
    parser.add_argument("--port", type=int, default=0,
                        help="nginx port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if nginx_binary() is None:
        say("demo: nginx not found: apt-get install nginx-light (or set NGINX)")
        return 2

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_signal)
    children: list[Child] = []
    try:
        shutil.rmtree(DEMO_DIR, ignore_errors=True)
        logs = DEMO_DIR / "logs"
        logs.mkdir(parents=True)
        env = demo_env(DEMO_DIR)
        say("demo: migrating a fresh SQLite database in .demo/")
        token = prepare_database(env)
        say("demo: starting the echo upstream, tokenauth (gunicorn) and nginx")
        urls = start_servers(children, env, logs, args.port or free_port())
        say(banner(*urls, token))
        while True:
            time.sleep(0.5)
            for child in children:
                if child.process.poll() is not None:
                    say(f"demo: {child.name} exited with {child.process.returncode}; "
                        f"see {logs}")
                    return 1
    except Stop as stopped:
        say(f"\ndemo: {stopped}: stopping")
        return 0
    except (RuntimeError, TimeoutError, FileNotFoundError, ValueError) as error:
        say(f"demo: {error}")
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: say("demo: stopping, please wait"))
        for child in reversed(children):
            stop(child.process, child.stop_signal)
        if children:
            say("demo: stopped " + ", ".join(
                f"{child.name} (pid {child.process.pid}, exit {child.process.returncode})"
                for child in reversed(children)))


if __name__ == "__main__":
    sys.exit(main())
