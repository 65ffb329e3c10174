"""Failure counters shared by every gunicorn worker of one server, without a database.

The gunicorn master calls :func:`create_counter_folder` before it forks: a fresh folder
holding one file, ``counters.bin``, with a random hash key in its header. Each worker maps
the file (``MAP_SHARED``), so a failure counted by one worker is seen by all of them. With
no such folder (the tests' in-process app, the CLI) the table lives in this process only.

The file: a header (magic, bucket count, 32-byte hash key, the end of ``raise_flag``'s flag
in ms), then ``buckets`` buckets of ``SLOTS`` slots. A bucket is ``SLOTS`` key words followed
by ``SLOTS`` value words, all native 64-bit integers at aligned offsets:

- key word: the keyed BLAKE2b-64 of the counter's name (0 = empty). The key is random per
  server start, so nobody can craft names that collide or crowd one bucket;
- value word: ``expires_at_ms << HIT_BITS | hits`` (0 = empty). ``expires_at_ms`` is on
  ``CLOCK_MONOTONIC`` (``time.monotonic``), which every process of the machine shares and
  which no wall-clock step (NTP, an administrator) can move: a lock can neither be
  stretched nor cut short by a clock change. The table never outlives the machine's boot:
  each server start makes a new file.

A name lives in the bucket its hash picks, in any of its slots. A new name takes a free or
expired slot there, else the slot whose count ends soonest (a flood of new names can only
push out the counts closest to ending anyway).

Writes (``add``, ``merge``, ``clear``) hold a thread lock and an exclusive ``flock`` on the
file (each process opens its own descriptor, also after a fork), so they never interleave.
Reads (``peek``, and ``get``, which is the same read) take no lock: they read the bucket's
key words, the value word, then the key word again. Each word is one aligned 8-byte load
(memoryview format ``Q``), so a value is never half-written; a writer that gives a slot to
another name writes value 0, the key, then the value, and the second key read catches a
swap. So a read returns the count as it was before a racing write or as it is after it,
never a mix: a lock would give the same answers (the reader first or the writer first),
and it would make every thread of every worker queue on one file before each database
lookup.
"""
from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import math
import mmap
import os
import shutil
import struct
import tempfile
import threading
import time
from pathlib import Path

from .. import process
from .counters import NO_COUNT, Count

FOLDER_ENV = "TOKENAUTH_COUNTERS_DIR"  # set by gunicorn's master for its workers
FILE_NAME = "counters.bin"
MAGIC = 0x31544E434B544154  # "TATKCNT1"
HEADER_WORDS = 8  # magic, buckets, 4 words of hash key, the flag, 1 spare: 64 bytes
FLAG_WORD = 6  # the flag's end, in ms on CLOCK_MONOTONIC (0: never raised)
SLOTS = 8
BUCKETS = 8192  # 65,536 counters, 1 MiB
HIT_BITS = 20
MAX_HITS = (1 << HIT_BITS) - 1


def create_counter_folder() -> str:
    """Make a fresh per-server folder with an empty counter file, publish it to the workers
    through ``TOKENAUTH_COUNTERS_DIR``, and remove it when this process exits.

    Call it in gunicorn's master before it forks (``on_starting``). Returns the folder."""
    folder = tempfile.mkdtemp(prefix="tokenauth-counters-")
    create_counter_file(Path(folder) / FILE_NAME)
    os.environ[FOLDER_ENV] = folder
    atexit.register(_remove_folder, folder, os.getpid())
    return folder


def _remove_folder(folder: str, owner: int) -> None:
    if os.getpid() == owner:  # workers run the master's atexit handlers too
        shutil.rmtree(folder, ignore_errors=True)


def create_counter_file(path: Path, buckets: int = BUCKETS) -> None:
    """Write an empty table with a new random hash key, atomically."""
    partial = path.with_suffix(".partial")
    with open(partial, "wb") as handle:
        handle.write(struct.pack("=QQ32s16x", MAGIC, buckets, os.urandom(32)))
        handle.truncate(_size(buckets))
    os.replace(partial, path)


def open_server_counters(clock=time.monotonic) -> SharedMemoryCounterStore:
    """The server's shared table when gunicorn's master made one, else a table of this
    process's own."""
    folder = os.environ.get(FOLDER_ENV)
    path = Path(folder) / FILE_NAME if folder else None
    if path is not None and path.is_file():
        return SharedMemoryCounterStore(path, clock)
    return SharedMemoryCounterStore(None, clock)


def _size(buckets: int) -> int:
    return (HEADER_WORDS + buckets * SLOTS * 2) * 8


class SharedMemoryCounterStore:
    """A :class:`~.counters.CounterStore` in a table shared by the processes that map
    ``path``; ``path=None``: an anonymous table of this process (and its forks)."""

    def __init__(self, path: Path | None = None, clock=time.monotonic, buckets: int = BUCKETS):
        self.path = path
        self.clock = clock
        if path is None:
            self._map = mmap.mmap(-1, _size(buckets))
            self._map[16:48] = os.urandom(32)
            self.buckets = buckets
        else:
            with open(path, "r+b") as handle:
                self._map = mmap.mmap(handle.fileno(), 0)
        self._words = memoryview(self._map).cast("Q")
        if path is not None:
            if self._words[0] != MAGIC:
                self.close()
                raise ValueError(f"{path} is not a counter file")
            self.buckets = self._words[1]
        self._hash_key = bytes(self._map[16:48])
        # Hashing costs ~1.4 µs; the same few client addresses come back again and again.
        self._locate = functools.lru_cache(maxsize=4096)(self._hash_name)
        self._fd = None
        self._reopen()
        process.in_forked_children(self._reopen)

    def _reopen(self) -> None:
        """A lock descriptor of this process's own (an inherited one would share its flock
        with the parent's), and a fresh thread lock (another thread may have held it at the
        fork)."""
        if self._map.closed:
            return
        if self._fd is not None:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR) if self.path is not None else None
        self._thread_lock = threading.Lock()

    # -- the CounterStore protocol -----------------------------------------------------
    def add(self, key: str, window: float) -> Count:
        name, base = self._locate(key)
        with self._locked():
            now = self._now_ms()
            slot, hits, expires = self._find(name, base, now)
            if slot is None:
                slot, hits, expires = self._claim(name, base, now), 0, now + int(window * 1000)
            hits = min(hits + 1, MAX_HITS)
            self._words[base + SLOTS + slot] = expires << HIT_BITS | hits
            return Count(hits, (expires - now) / 1000)

    def peek(self, key: str) -> Count:
        name, base = self._locate(key)
        words = self._words
        keys = words[base:base + SLOTS].tolist()
        if name not in keys:
            return NO_COUNT
        slot = keys.index(name)
        value = words[base + SLOTS + slot]
        if words[base + slot] != name:  # the slot went to another name meanwhile
            return NO_COUNT
        left = (value >> HIT_BITS) - int(self.clock() * 1000)
        return Count(value & MAX_HITS, left / 1000) if left > 0 else NO_COUNT

    # Every sharer maps the same table and a read is consistent with the writes (module
    # docstring), so the consistent read is the same lock-free read.
    get = peek

    def merge(self, key: str, count: Count) -> None:
        name, base = self._locate(key)
        with self._locked():
            now = self._now_ms()
            slot, hits, _ = self._find(name, base, now)
            if count.hits <= hits or count.seconds_left <= 0:
                return
            if slot is None:
                slot = self._claim(name, base, now)
            expires = now + max(1, int(count.seconds_left * 1000))
            self._words[base + SLOTS + slot] = expires << HIT_BITS | min(count.hits, MAX_HITS)

    def raise_flag(self, seconds: float) -> None:
        with self._locked():
            until = self._now_ms() + max(1, math.ceil(seconds * 1000))
            if until > self._words[FLAG_WORD]:
                self._words[FLAG_WORD] = until

    def flag_is_up(self) -> bool:
        return self._words[FLAG_WORD] > self.clock() * 1000  # one aligned word, no lock

    def clear(self, key: str) -> None:
        name, base = self._locate(key)
        with self._locked():
            slot, _, _ = self._find(name, base, self._now_ms())
            if slot is not None:
                self._words[base + SLOTS + slot] = 0
                self._words[base + slot] = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._words.release()
        self._map.close()

    # -- the table ---------------------------------------------------------------------
    def _hash_name(self, key: str) -> tuple[int, int]:
        """``(name, base)``: the key's hash word (never 0) and its bucket's first word."""
        digest = hashlib.blake2b(key.encode(), digest_size=8, key=self._hash_key).digest()
        name = int.from_bytes(digest, "little") or 1
        return name, HEADER_WORDS + (name % self.buckets) * SLOTS * 2

    def _find(self, name: int, base: int, now: int) -> tuple:
        """``(slot, hits, expires_ms)`` of ``name``'s live count, else ``(None, 0, 0)``."""
        words = self._words
        for slot in range(SLOTS):
            if words[base + slot] == name:
                value = words[base + SLOTS + slot]
                if value >> HIT_BITS > now:
                    return slot, value & MAX_HITS, value >> HIT_BITS
                return None, 0, 0
        return None, 0, 0

    def _claim(self, name: int, base: int, now: int) -> int:
        """A slot for ``name``: its own expired one, a free or expired one, else the one
        ending soonest. Writes the key; the caller writes the value."""
        words = self._words
        keys = words[base:base + SLOTS].tolist()
        ends = [words[base + SLOTS + slot] >> HIT_BITS for slot in range(SLOTS)]
        if name in keys:
            slot = keys.index(name)
        else:
            slot = min(range(SLOTS), key=lambda s: (keys[s] != 0 and ends[s] > now, ends[s]))
        words[base + SLOTS + slot] = 0  # readers see an empty count, never another's
        words[base + slot] = name
        return slot

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _locked(self):
        return _Locked(self._thread_lock, self._fd)


class _Locked:
    """The thread lock, then the file lock (flock excludes other processes only)."""

    __slots__ = ("thread_lock", "fd")

    def __init__(self, thread_lock, fd):
        self.thread_lock, self.fd = thread_lock, fd

    def __enter__(self):
        self.thread_lock.acquire()
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX)
            except BaseException:
                self.thread_lock.release()
                raise

    def __exit__(self, *exc):
        try:
            if self.fd is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.thread_lock.release()
