"""The /verify store's per-thread connections do not outlive their threads for long.
granian's request threads come and go (an idle one exits after 30 s); each used to leave its
connection open, so a server that idled now and then piled up database connections until
PostgreSQL refused more (20 after two idle periods of a 2×4 server, measured). Now a
thread's first lookup closes the connections of threads that have ended."""
import os
import sqlite3
import threading

import psycopg
import pytest
from sqlalchemy import event

from tokenauth.security.tokens import token_hash

from ..helpers import eventually


def is_open(connection) -> bool:
    if isinstance(connection, sqlite3.Connection):
        try:
            connection.execute("SELECT 1")
        except sqlite3.ProgrammingError:  # "Cannot operate on a closed database"
            return False
        return True
    return not connection.closed


def backends_of(url: str):
    """PostgreSQL's own count of the connections to the database at ``url``."""
    name = url.rsplit("/", 1)[1]
    counter = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")
                              .rsplit("/", 1)[0] + "/postgres", autocommit=True)
    return lambda: counter.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]


@pytest.fixture
def store(make_app, make_user, make_token):
    """The store, a digest it finds, and every DBAPI connection it opens from now on."""
    app = make_app(verify_cache_ttl=0)
    token = make_token(make_user("alice")).raw
    runtime = app.extensions["tokenauth"]
    opened = []
    event.listen(runtime.store.engine, "connect", lambda connection, _: opened.append(connection))
    yield runtime.store, token_hash(runtime.settings.token_pepper, token), opened
    runtime.store.close()


def lookup_in_a_thread(store, digest, stay: threading.Event | None = None):
    def lookup():
        assert store.snapshot(digest) is not None
        if stay is not None:
            stay.wait(timeout=10)

    thread = threading.Thread(target=lookup)
    thread.start()
    return thread


def test_a_new_threads_first_lookup_closes_the_connections_of_ended_threads(store, backend):
    store, digest, opened = store
    count = backends_of(str(store.engine.url.render_as_string(False))) \
        if backend == "postgresql" else None
    before = count() if count else 0
    for _ in range(10):  # one short-lived request thread after another
        lookup_in_a_thread(store, digest).join(timeout=10)
    assert len(opened) == 10

    def all_but_the_newest_closed():
        lookup_in_a_thread(store, digest).join(timeout=10)  # another new thread
        return not any(is_open(connection) for connection in opened[:-1])

    assert eventually(all_but_the_newest_closed)
    assert is_open(opened[-1])  # its thread ended, but no thread came after it
    if count:  # and the server agrees: one connection left
        assert eventually(lambda: count() == before + 1), f"{count() - before} on the server"


def test_close_still_closes_the_connections_of_live_threads(store):
    store, digest, opened = store
    stay = threading.Event()
    threads = [lookup_in_a_thread(store, digest, stay) for _ in range(3)]
    assert eventually(lambda: len(opened) == 3)
    assert all(is_open(connection) for connection in opened)
    store.close()
    assert not any(is_open(connection) for connection in opened)
    stay.set()
    for thread in threads:
        thread.join(timeout=10)


def test_a_connection_left_under_a_reused_thread_id_is_closed(store):
    """The system may give an ended thread's id to a new thread before any sweep: the new
    thread's first lookup closes the connection left under that id."""
    store, digest, opened = store
    ended = lookup_in_a_thread(store, digest)
    ended.join(timeout=10)
    [left] = opened
    store._open.clear()  # as if that thread had had this (main) thread's id:
    store._open[(os.getpid(), threading.get_native_id())] = left
    assert store.snapshot(digest) is not None  # this thread's first lookup
    assert not is_open(left) and is_open(opened[-1])
