"""The client-side deadline breaks a database call that outlives it, and nothing else."""
from __future__ import annotations

import sqlite3
import threading
import time

import psycopg
import pytest

from tokenauth.database.deadline import deadline

from .conftest import BOUND, answered_within

COUNTING = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n{limit}) "
ENDLESS = COUNTING.format(limit="") + "SELECT count(*) FROM n"
THOUSAND_ROWS = COUNTING.format(limit=" LIMIT 1000") + "SELECT x FROM n"


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def query_within(connection, seconds: float, sql: str):
    with deadline(connection, seconds):
        return connection.execute(sql).fetchall()


def test_a_running_sqlite_query_is_interrupted(tmp_path):
    connection = sqlite3.connect(tmp_path / "t.db", check_same_thread=False)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        answered_within(BOUND, query_within, connection, 0.2, ENDLESS)
    assert connection.execute("SELECT 2").fetchone() == (2,)  # the connection still works


def test_a_psycopg_call_on_a_frozen_server_is_broken(postgres_proxy, postgres_server_url):
    connection = psycopg.connect(libpq(postgres_proxy.route(postgres_server_url)))
    assert connection.execute("SELECT 1").fetchone() == (1,)
    postgres_proxy.freeze()
    with pytest.raises(psycopg.OperationalError):
        answered_within(BOUND, query_within, connection, 0.3, "SELECT 2")
    assert connection.broken  # so a pool discards it


def test_a_psycopg_call_that_ends_in_time_is_left_alone(postgres_server_url):
    with psycopg.connect(libpq(postgres_server_url)) as connection:
        assert query_within(connection, 0.3, "SELECT 1") == [(1,)]
        time.sleep(0.5)  # past the deadline: nothing may fire now
        assert connection.execute("SELECT 2").fetchone() == (2,)
        assert not connection.broken


def test_a_sqlite_statement_that_ended_in_time_is_left_alone(tmp_path):
    connection = sqlite3.connect(tmp_path / "t.db")
    with deadline(connection, 0.3):
        cursor = connection.execute(THOUSAND_ROWS)  # its statement stays open until fetched
    time.sleep(0.5)  # past the deadline: an interrupt now would fail the fetch
    assert len(cursor.fetchall()) == 1000


def test_each_threads_deadline_breaks_only_its_own_call(postgres_proxy, postgres_server_url):
    frozen = [psycopg.connect(libpq(postgres_proxy.route(postgres_server_url))) for _ in range(3)]
    live = [psycopg.connect(libpq(postgres_server_url)) for _ in range(3)]
    postgres_proxy.freeze()
    outcomes = {}

    def stuck(connection):
        try:
            query_within(connection, 0.5, "SELECT 1")
            outcomes[connection] = "answered"
        except psycopg.OperationalError:
            outcomes[connection] = "broken"

    stuck_threads = [threading.Thread(target=stuck, args=(c,), daemon=True) for c in frozen]

    def busy(connection):
        # Short calls under deadlines of their own, before, while and after the watchdog
        # breaks the frozen ones, and for longer than a deadline (bounded in count).
        until = time.monotonic() + 1.0
        for n in range(20_000):
            assert query_within(connection, 0.5, f"SELECT {n}") == [(n,)]
            if time.monotonic() > until and not any(t.is_alive() for t in stuck_threads):
                break
        outcomes[connection] = "ok"

    threads = stuck_threads + [threading.Thread(target=busy, args=(c,), daemon=True)
                               for c in live]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert [outcomes.get(c) for c in frozen] == ["broken"] * 3
    assert [outcomes.get(c) for c in live] == ["ok"] * 3
    assert not any(c.broken for c in live)
    for connection in live:
        connection.close()


def test_only_database_connections_can_be_bounded():
    with pytest.raises(TypeError):
        with deadline(object(), 1):
            pass


def test_a_sqlite_deadline_ends_with_its_block(tmp_path):
    connection = sqlite3.connect(tmp_path / "t.db")
    assert query_within(connection, 0.05, "SELECT 1") == [(1,)]
    time.sleep(0.1)  # past that deadline: a statement outside the block must run to its end
    counted = connection.execute(COUNTING.format(limit=" LIMIT 3000000") +
                                 "SELECT count(*) FROM n").fetchone()
    assert counted == (3_000_000,)
