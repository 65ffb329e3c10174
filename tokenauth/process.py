"""This process's id, without a system call.

``os.getpid()`` is a system call on every use (glibc stopped caching it), and /verify asks on
every request whether its background threads run in this process or in a parent it was
forked from. The id is read once at import and again in every forked child.
"""
from __future__ import annotations

import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def pid() -> int:
    """``os.getpid()``, remembered."""
    return _pid
