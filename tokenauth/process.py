"""This process and its threads.

``os.getpid()`` is a system call on every use (glibc stopped caching it), and /verify asks on
every request whether its background threads run in this process or in a parent it was
forked from: :func:`pid` reads the id once at import and again in every forked child.
:func:`thread_ended` tells whether a thread that left state behind is gone, and
:func:`in_forked_children` lets an object renew what a fork must not share.
"""
from __future__ import annotations

import os
import weakref

TASKS = "/proc/self/task"  # one folder per live thread of this process (Linux)
_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def pid() -> int:
    """``os.getpid()``, remembered."""
    return _pid


def can_tell_ended_threads() -> bool:
    return os.path.isdir(TASKS)


def thread_ended(native_id: int) -> bool:
    """Whether this process's thread ``native_id`` (``threading.get_native_id()``) has
    ended; False where the system does not tell (no /proc)."""
    return can_tell_ended_threads() and not os.path.isdir(f"{TASKS}/{native_id}")


def in_forked_children(method) -> None:
    """Call the bound ``method`` in every child forked from now on, while its object lives
    (held by a weak reference: registering keeps nothing alive)."""
    ref = weakref.WeakMethod(method)
    os.register_at_fork(after_in_child=lambda: (bound := ref()) is not None and bound())
