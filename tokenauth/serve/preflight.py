"""What the server's master checks before any worker boots, and what it says once it listens.

Every problem (settings, the listening address, the database) is printed on one line, all
at once, and the master exits with status 2 before it starts a worker: no worker, no
traceback. gunicorn calls :func:`check` and :func:`announce` as hooks; granian's start
(``granian_server``) calls :func:`startup_problems` and :func:`ready_lines` itself.
"""
from __future__ import annotations

import errno
import os
import socket
import stat
import sys

from .. import __version__
from ..settings import SettingsError, load_settings
from ..startup import EXIT_STATUS, cli_command, inspect_database, report
from .options import bind_address, load_server_options


def startup_problems(addresses=None, sockets_inherited: bool = False) -> list[str]:
    """A line for each problem of the settings, the server variables, the listening
    ``addresses`` (default: TOKENAUTH_BIND's) and the database; empty when all is well."""
    try:
        settings, problems = load_settings(), []
    except SettingsError as error:
        settings, problems = None, error.problems
    options, option_problems = load_server_options(os.environ)
    problems += option_problems
    if not option_problems and not sockets_inherited:
        problems += address_problems(addresses or [bind_address(options.bind)])
    if settings is not None:
        problems += inspect_database(settings.database_url, settings.database_timeout)[0]
    return problems


def check(server) -> None:
    """gunicorn's ``on_starting``: return when all is well, else report and exit."""
    problems = startup_problems(server.cfg.address, _sockets_are_inherited(server))
    if problems:
        report(problems)
        if server.pidfile is not None:
            server.pidfile.unlink()
        sys.exit(EXIT_STATUS)


def ready_lines(address) -> list[str]:
    """What the server says once it listens on ``address``: where the page is, and with no
    users yet, the command that creates the first admin."""
    lines = [f"tokenauth {__version__} is ready: the web page is {page_url(address)}"]
    settings = load_settings()
    _, user_count = inspect_database(settings.database_url, settings.database_timeout)
    if user_count == 0:
        lines += ["There are no users yet. Create the first admin (it asks for a password):",
                  f"    {cli_command()} users create admin --admin"]
    return lines


def announce(server) -> None:
    """gunicorn's ``when_ready``: :func:`ready_lines` in its log."""
    for line in ready_lines(server.cfg.address[0]):
        server.log.info("%s", line)


def page_url(address) -> str:
    if not isinstance(address, tuple):
        return f"/login on unix:{address}"
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(address[0], address[0])
    return f"http://{f'[{host}]' if ':' in host else host}:{address[1]}/login"


def _sockets_are_inherited(server) -> bool:
    """systemd socket activation, or a re-executed master (USR2) taking over the sockets."""
    return bool(os.environ.get("LISTEN_FDS")) or bool(server.master_pid) or server.cfg.reuse_port


def address_problems(addresses) -> list[str]:
    """A line for each (host, port) that cannot be listened on now."""
    problems = []
    for address in addresses:
        if isinstance(address, tuple):  # a unix socket: gunicorn replaces a stale one
            try:
                _probe(address[0], address[1])
            except OSError as error:
                problems.append(_address_problem(address[0], address[1], error))
    return problems


def take_unix_socket(path: str) -> list[str]:
    """For a server that refuses an existing path (granian): a stale socket file (nothing
    listens) is removed, as gunicorn does; a line when the path is taken or not a socket."""
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return [f"TOKENAUTH_BIND='unix:{path}': {path} exists and is not a socket"]
    except FileNotFoundError:
        return []
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            os.unlink(path)
            return []
        except OSError as error:
            return [f"TOKENAUTH_BIND='unix:{path}': cannot listen there "
                    f"({error.strerror or error})"]
    return [f"TOKENAUTH_BIND='unix:{path}' is already in use by another program: pick "
            "another path"]


def _probe(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        probe.bind((host, port))


def _address_problem(host: str, port: int, error: OSError) -> str:
    shown_host = f"[{host}]" if ":" in host else host
    where = f"{shown_host}:{port}"
    if error.errno == errno.EADDRINUSE:
        other = _free_port_after(host, port)
        return (f"{where} (TOKENAUTH_BIND) is already in use by another program: pick another "
                f"port, e.g. make run PORT={other}, tokenauth serve --bind {shown_host}:{other} or "
                f"TOKENAUTH_BIND={shown_host}:{other}")
    if error.errno == errno.EACCES:
        return (f"TOKENAUTH_BIND={where!r}: only root may listen on port {port}; use a port "
                "above 1023 (e.g. 8080)")
    if error.errno == errno.EADDRNOTAVAIL:
        return (f"TOKENAUTH_BIND={where!r}: {host} is not an address of this machine; use "
                "127.0.0.1, 0.0.0.0 or one of its addresses")
    return f"TOKENAUTH_BIND={where!r}: cannot listen there ({error.strerror or error})"


def _free_port_after(host: str, port: int) -> int:
    for candidate in range(port + 1, min(port + 50, 65536)):
        try:
            _probe(host, candidate)
            return candidate
        except OSError:
            continue
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
