"""Shared fixtures: both databases, an app per test, factories for users and tokens.

Every test that takes ``app`` (or anything built on it) runs twice: on SQLite and on
PostgreSQL. The PostgreSQL half uses a database of its own per test run, created here and
dropped at the end, so parallel runs never collide.
"""
from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete

from tokenauth import create_app
from tokenauth.extensions import db
from tokenauth.models import AlertDelivery, ApiToken, Event, TokenOrigin, User
from tokenauth.services import users as user_service
from tokenauth.services.tokens import DEFAULT, TokenService

from .helpers import PASSWORD, missing

POSTGRES_ADMIN_URL = os.environ.get(
    "TOKENAUTH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Real argon2id at its lowest cost in this process: the tests check who may sign in,
    not how slow guessing is (~1 ms a check instead of ~250 ms). Servers and commands the
    tests start run the shipped cost (checked in tests/security/test_passwords.py)."""
    from tokenauth.security import passwords
    shipped = passwords.password_context
    passwords.password_context = passwords.argon2id(memory_cost=256, rounds=1, parallelism=1)
    yield
    passwords.password_context = shipped


@pytest.fixture(scope="session")
def postgres_server_url():
    """The admin URL of a reachable PostgreSQL; fails loudly in CI when there is none."""
    try:
        with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), connect_timeout=5):
            pass
    except psycopg.Error as error:
        message = f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL}: {error}"
        missing(message)
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def make_postgres_database(postgres_server_url):
    """A factory of fresh, empty PostgreSQL databases, all dropped at the end of the run."""
    created = []

    def make() -> str:
        name = f"tokenauth_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_libpq(postgres_server_url), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return _with_database(postgres_server_url, name)

    yield make
    with psycopg.connect(_libpq(postgres_server_url), autocommit=True) as connection:
        for name in created:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory):
    """One migrated database per backend for the run, created on first use."""
    return {}


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def database_url(request, backend, migrated_urls, tmp_path_factory):
    """The URL of a migrated database of ``backend``, emptied after each test."""
    if backend not in migrated_urls:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tokenauth.db'}"
        else:
            url = request.getfixturevalue("make_postgres_database")()
        app = create_app(base_config(tmp_path_factory.mktemp("instance"), url))
        with app.app_context():
            upgrade()
            db.engine.dispose()
        migrated_urls[backend] = url
    return migrated_urls[backend]


def base_config(instance_path: Path, database_url: str, **overrides) -> dict:
    config = {
        "env": "testing",
        "instance_path": str(instance_path),
        "database_url": database_url,
        "secret_key": "test-secret-key-" + "x" * 32,
        "token_pepper": "test-pepper-" + "y" * 32,
    }
    config.update(overrides)
    return config


@pytest.fixture
def config_overrides():
    """Tests override settings by redefining this fixture or using ``make_app``."""
    return {}


@pytest.fixture
def make_app(database_url, tmp_path):
    """Build an app on this test's database with extra settings; cleans the tables after."""
    apps = []

    def make(**overrides):
        url = overrides.pop("database_url", database_url)
        app = create_app(base_config(tmp_path / "instance", url, **overrides))
        apps.append(app)
        return app

    yield make
    shared = [app for app in apps if app.config["SQLALCHEMY_DATABASE_URI"] == database_url]
    if shared:
        with shared[0].app_context():
            db.session.remove()
            for table in (AlertDelivery, Event, TokenOrigin, ApiToken):
                db.session.execute(delete(table))
            db.session.execute(delete(User))
            db.session.commit()
            db.session.remove()
    for app in apps:
        app.extensions["tokenauth"].close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def app(make_app, config_overrides):
    app = make_app(**config_overrides)
    with app.app_context():
        yield app
        db.session.remove()


class FreshContextClient(FlaskClient):
    """Each request in an app context of its own, as in production: the ``app`` fixture
    keeps one pushed, and Flask would otherwise reuse it and share ``g`` between requests."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


_counter = itertools.count()


@pytest.fixture
def make_user(app):
    """Factory: ``make_user("alice", admin=True, active=False, source="external")``."""

    def make(username=None, password=PASSWORD, admin=False, active=True, source="internal"):
        username = username or f"user{next(_counter)}"
        user = user_service.create_user(db.session, username,
                                        password if source == "internal" else None,
                                        is_admin=admin, source=source)
        user.active = active
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_token(app):
    """Factory: ``make_token(user, name="ci", expires_at=..., revoked=True,
    routes=["GET /api/**"])`` -> IssuedToken."""

    def make(user, name="test token", expires_at=DEFAULT, scopes=(), allowed_origins=(),
             revoked=False, routes=()):
        service = TokenService(db.session, app.extensions["tokenauth"].settings)
        issued = service.create(user, name, expires_at, scopes, allowed_origins, routes)
        if revoked:
            service.revoke(issued.token)
        db.session.commit()
        return issued

    return make


@pytest.fixture
def alice(make_user):
    """A plain internal user with the shared test PASSWORD."""
    return make_user("alice")


@pytest.fixture
def redis_server(tmp_path_factory):
    """A redis-server of this test's own (never the machine's): ``.url``, ``.client()``,
    ``.stop()``. Fails in CI when redis-server is missing; skips elsewhere."""
    from .redis_server import redis_binary, redis_server as start

    if redis_binary() is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        missing(message)
    with start(tmp_path_factory.mktemp("redis")) as server:
        yield server
