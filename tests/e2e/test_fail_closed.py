"""When tokenauth cannot answer, nginx answers 5xx itself: the product is never asked."""
from __future__ import annotations

import psycopg
import pytest
from flask_migrate import upgrade

from tokenauth import create_app
from tokenauth.extensions import db
from tokenauth.services.tokens import TokenService
from tokenauth.services.users import create_user

from ..helpers import PASSWORD, bearer
from ..servers import stop, tokenauth_env
from .stack import call

pytestmark = pytest.mark.e2e


def assert_failed_closed(stack, raw_token, before):
    answer = call(stack.front, "GET", "/api/x", headers=bearer(raw_token))
    assert 500 <= answer.status < 600, (answer.status, answer.body)
    assert b"X-Auth" not in answer.body  # not the echo's JSON
    assert stack.echo.count() == before
    return answer


def test_tokenauth_stopped_means_5xx_and_never_the_product(make_stack, database_url,
                                                           make_user, make_token):
    issued = make_token(make_user("quinn"))
    stack = make_stack(database_url)
    assert call(stack.front, "GET", "/api/x", headers=bearer(issued.raw)).status == 200

    assert stop(stack.server) == 0
    assert_failed_closed(stack, issued.raw, stack.echo.count())


def provision(database_url, instance_path) -> str:
    """Migrate an empty database, add a user and a token; returns the raw token."""
    env = tokenauth_env(database_url, instance_path)
    app = create_app({"env": "testing", "instance_path": str(instance_path),
                      "database_url": database_url,
                      "secret_key": env["TOKENAUTH_SECRET_KEY"],
                      "token_pepper": env["TOKENAUTH_TOKEN_PEPPER"]})
    with app.app_context():
        upgrade()
        user = create_user(db.session, "rita", PASSWORD)
        issued = TokenService(db.session, app.extensions["tokenauth"].settings).create(user, "t")
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return issued.raw


def test_database_gone_means_5xx_and_never_the_product(make_stack, make_postgres_database,
                                                       postgres_server_url, tmp_path):
    url = make_postgres_database()  # ours to drop
    raw = provision(url, tmp_path / "instance")
    stack = make_stack(url, verify_cache_ttl=0)  # every verify asks the database
    assert call(stack.front, "GET", "/api/x", headers=bearer(raw)).status == 200

    admin = postgres_server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)')

    answer = assert_failed_closed(stack, raw, stack.echo.count())
    assert answer.status == 500  # tokenauth said 503; auth_request makes any non-2xx/401/403 a 500
    assert answer.header("X-Auth-Error") == "unavailable"
    assert call(stack.tokenauth, "GET", "/readyz", source="127.0.0.1").status == 503
