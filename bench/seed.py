"""The benchmark's databases: created, migrated, filled with N tokens, dropped at the end.

Users and the tokens the benchmark presents are created the way an operator would (the
``tokenauth`` CLI, or the JSON API for route rules). The mass of stored tokens is ONE SQL
statement per database: copies of the bench token's row with fresh ids and unique 64-hex
hashes (random-looking, like HMACs), so any column a migration adds is filled like a real
row's. The 10,000 valid tokens of the cache-TTL study are raw tokens made with
tokenauth's own format functions and stored with the bench's pepper, in one
``executemany``.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import time
import urllib.request

from sqlalchemy import create_engine, inspect, text

from tokenauth.security import tokens as token_format

from .deploy import demo

USERNAME = "bench"


@dataclasses.dataclass
class Database:
    """One benchmark database and what the benchmark knows about it."""

    backend: str                 # "sqlite" or "postgresql"
    size: int                    # stored tokens, about
    url: str
    pg_name: str | None = None   # the PostgreSQL database to drop at the end
    token: str = ""              # the bench user's raw token
    seeding_seconds: float = 0.0

    @property
    def label(self) -> str:
        return f"{'SQLite' if self.backend == 'sqlite' else 'PostgreSQL'} {power_of_ten(self.size)}"


def power_of_ten(number: int) -> str:
    exponent = len(str(number)) - 1
    return f"10^{exponent}" if number == 10 ** exponent else f"{number:,}"


def postgres_url(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + name


def postgres_reachable(admin_url: str) -> bool:
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL rows
        return False
    finally:
        engine.dispose()


def create_postgres(admin_url: str, name: str) -> None:
    _outside_transaction(admin_url, f'CREATE DATABASE "{name}"')


def drop_postgres(admin_url: str, name: str) -> None:
    _outside_transaction(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _outside_transaction(admin_url: str, statement: str) -> None:
    """CREATE/DROP DATABASE cannot run inside a transaction: autocommit, then let go."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()


def prepare(database: Database, env: dict, password: str, pepper: str) -> None:
    """Migrate, create the bench user and its token, then store ``size`` tokens in all
    (copies of that token's row with fresh ids and hashes).

    Sets ``database.token`` and ``database.seeding_seconds``. Raises RuntimeError when a
    CLI step fails.
    """
    demo.tokenauth_cli(env, "db", "upgrade")
    demo.tokenauth_cli(env, "users", "create", USERNAME, "--password-stdin",
                       stdin=password + "\n")
    database.token = demo.tokenauth_cli(env, "tokens", "create", USERNAME,
                                        "--name", "bench").strip()
    started = time.monotonic()
    engine = create_engine(database.url)
    try:
        with engine.begin() as connection:
            connection.execute(text(_copy_statement(engine, database.size - 1)),
                               {"template": _template(connection, database, pepper)})
        with engine.begin() as connection:
            connection.execute(text("ANALYZE api_tokens" if database.backend == "postgresql"
                                    else "ANALYZE"))
    finally:
        engine.dispose()
    database.seeding_seconds = time.monotonic() - started


def _template(connection, database: Database, pepper: str) -> str:
    """The id of the bench token's row, which the copies are made of."""
    return connection.execute(text("SELECT id FROM api_tokens WHERE token_hash = :hash"), {
        "hash": token_format.token_hash(pepper, database.token)}).scalar_one()


def _copy_statement(engine, count: int) -> str:
    """ONE statement inserting ``count`` copies of the row ``:template``."""
    if engine.dialect.name == "postgresql":
        return _insert_copies(engine, {
            "id": "md5('seed' || n)",
            "token_hash": "encode(sha256(convert_to('seed' || n, 'UTF8')), 'hex')",
        }, f"api_tokens AS t CROSS JOIN generate_series(1, {count}) AS n")
    return _insert_copies(engine, {
        "id": "lower(hex(randomblob(16)))",
        "token_hash": "lower(hex(randomblob(32)))",
    }, "n, api_tokens AS t", f"WITH RECURSIVE n(i) AS (SELECT 1 WHERE {count} > 0 "
                            f"UNION ALL SELECT i + 1 FROM n WHERE i < {count})")


def _insert_copies(engine, generated: dict, source: str, with_clause: str = "") -> str:
    """``INSERT ... SELECT`` of the row ``:template`` from ``source`` (aliased ``t``), with
    the ``generated`` columns' expressions in place of the copied values."""
    fresh, copied = _columns(engine)
    expressions = dict(generated)
    expressions.update({name: "NULL" for name in fresh if name not in expressions})
    copied = [name for name in copied if name not in expressions]
    names = ", ".join([*expressions, *copied])
    values = ", ".join([*expressions.values(), *(f"t.{name}" for name in copied)])
    return (f"INSERT INTO api_tokens ({names}) {with_clause} "
            f"SELECT {values} FROM {source} WHERE t.id = :template")


def _columns(engine) -> tuple[list[str], list[str]]:
    """(unique columns to leave NULL, columns to copy), besides ``id`` and ``token_hash``.

    Raises RuntimeError for a unique NOT NULL column the benchmark cannot fill.
    """
    inspector = inspect(engine)
    quote = engine.dialect.identifier_preparer.quote
    columns = {column["name"]: column for column in inspector.get_columns("api_tokens")}
    unique = {name for constraint in inspector.get_unique_constraints("api_tokens")
              for name in constraint["column_names"]}
    unique |= {name for index in inspector.get_indexes("api_tokens") if index["unique"]
               for name in index["column_names"]}
    unique -= {"id", "token_hash"}
    for name in unique:
        if not columns[name]["nullable"]:
            raise RuntimeError(f"bench/seed.py cannot fill the new unique column "
                               f"api_tokens.{name}; teach _copy_statement about it")
    fresh = sorted(quote(name) for name in unique)
    copied = [quote(name) for name in columns if name not in unique | {"id", "token_hash"}]
    return fresh, copied


def insert_valid_tokens(database: Database, pepper: str, count: int) -> list[str]:
    """Store ``count`` new valid tokens of the bench user (copies of its token's row);
    returns their raw values."""
    raws = [token_format.generate("tka") for _ in range(count)]
    engine = create_engine(database.url)
    try:
        statement = text(_insert_copies(
            engine, {"id": ":id", "token_hash": ":hash", "hint": ":hint"}, "api_tokens AS t"))
        with engine.begin() as connection:
            template = _template(connection, database, pepper)
            connection.execute(statement, [
                {"id": f"ttl{index:029d}", "hash": token_format.token_hash(pepper, raw),
                 "hint": token_format.hint(raw), "template": template}
                for index, raw in enumerate(raws)])
    finally:
        engine.dispose()
    return raws


def supports_routes(base_url: str) -> bool:
    """True when the running tokenauth's OpenAPI document has a ``routes`` property."""
    with urllib.request.urlopen(f"{base_url}/api/v1/openapi.json", timeout=10) as answer:
        document = json.load(answer)
    schemas = document.get("components", {}).get("schemas", {})
    return any("routes" in schema.get("properties", {}) for schema in schemas.values())


def create_routed_token(base_url: str, password: str, routes: list[str]) -> str:
    """Create a token with ``routes`` through the JSON API; returns the raw token."""
    body = json.dumps({"name": "bench routes", "routes": routes}).encode()
    basic = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
    request = urllib.request.Request(f"{base_url}/api/v1/tokens", data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Basic {basic}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)["token"]


def tuples_updated(database: Database) -> int | None:
    """PostgreSQL's count of updated ``api_tokens`` rows (statistics lag up to ~10 s)."""
    if database.backend != "postgresql":
        return None
    engine = create_engine(database.url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(
                "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'api_tokens'"
            )).scalar_one()
    finally:
        engine.dispose()
