"""The last-access recorder on its own (SPEC 3): coalesced writes never more than the
resolution behind, a change of origin stored at once, pending uses flushed on shutdown and
kept when the database is away. Real store, both databases."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from tokenauth.errors import DatabaseUnavailable
from tokenauth.extensions import db
from tokenauth.models import ApiToken, utcnow
from tokenauth.verify.last_access import LastAccessRecorder

RESOLUTION = 60


class Metrics:
    def __init__(self):
        self.written = 0

    def last_access_written(self, written):
        self.written += bool(written)


class FlakyStore:
    """The real store, which can be told the database is gone."""

    def __init__(self, store):
        self.store, self.down, self.writes = store, False, 0

    def __getattr__(self, name):
        return getattr(self.store, name)

    def record_access(self, *args):
        if self.down:
            raise DatabaseUnavailable("gone")
        self.writes += 1
        return self.store.record_access(*args)


@pytest.fixture
def parts(app, alice, make_token):
    runtime = app.extensions["tokenauth"]
    issued = make_token(alice)
    store = FlakyStore(runtime.store)
    recorder = LastAccessRecorder(RESOLUTION, store, Metrics())
    return recorder, store, issued


def snapshot_of(store, issued):
    return store.snapshot(issued.token.token_hash)


def stored(issued):
    db.session.expire_all()
    token = db.session.get(ApiToken, issued.token.id)
    return token.last_accessed_at, token.last_accessed_origin


def test_uses_within_the_resolution_cost_one_write_and_the_flush_stores_the_latest(parts):
    recorder, store, issued = parts
    start = utcnow()
    uses = [start + timedelta(seconds=n) for n in range(0, 50)]
    for at in uses:
        recorder.record(snapshot_of(store, issued), at, "192.0.2.1")
    assert store.writes == 1 and stored(issued) == (uses[0], "192.0.2.1")
    assert recorder.flush() == 1
    assert stored(issued) == (uses[-1], "192.0.2.1")


def test_a_use_after_the_resolution_is_written_at_once(parts):
    recorder, store, issued = parts
    start = utcnow()
    recorder.record(snapshot_of(store, issued), start, "192.0.2.1")
    later = start + timedelta(seconds=RESOLUTION)
    recorder.record(snapshot_of(store, issued), later, "192.0.2.1")
    assert store.writes == 2 and stored(issued) == (later, "192.0.2.1")


def test_a_change_of_origin_is_written_at_once(parts):
    recorder, store, issued = parts
    start = utcnow()
    recorder.record(snapshot_of(store, issued), start, "192.0.2.1")
    recorder.record(snapshot_of(store, issued), start + timedelta(seconds=1), "2001:db8::7")
    assert stored(issued) == (start + timedelta(seconds=1), "2001:db8::7")


def test_a_use_seen_while_the_database_is_away_is_kept_and_flushed_later(parts):
    recorder, store, issued = parts
    at = utcnow()
    store.down = True
    recorder.record(snapshot_of(store, issued), at, "192.0.2.1")  # never raises: answer given
    with pytest.raises(DatabaseUnavailable):
        recorder.flush()
    assert stored(issued) == (None, None)
    store.down = False
    assert recorder.flush() == 1
    assert stored(issued) == (at, "192.0.2.1")


class FlushedWhileStoring(dict):
    """The pending uses of a recorder whose flush takes them at the worst moment: after a
    request thread picked this dict and before its store into it lands."""

    def __init__(self, recorder):
        super().__init__()
        self.recorder = recorder

    def __setitem__(self, key, value):
        # The flush, from another thread as it would be; it swaps in a new dict and writes
        # this (still empty) one. It must not wait for the storing thread.
        flush = threading.Thread(target=self.recorder.flush, daemon=True)
        flush.start()
        flush.join(timeout=5)
        assert not flush.is_alive(), "the flush waited for a request thread's store"
        super().__setitem__(key, value)


def test_a_use_stored_while_a_flush_takes_the_pending_uses_is_not_lost(parts):
    """Pending uses are kept without a lock (a lock there formed convoys of request threads
    under load); a flush racing the store must not drop the use."""
    recorder, store, issued = parts
    start = utcnow()
    recorder.record(snapshot_of(store, issued), start, "192.0.2.1")  # written: now coalescing
    recorder._pending = FlushedWhileStoring(recorder)
    later = start + timedelta(seconds=5)
    recorder.record(snapshot_of(store, issued), later, "192.0.2.1")
    assert recorder.flush() == 1
    assert stored(issued) == (later, "192.0.2.1")
