"""A database that goes away: /verify fails closed with 503, never allows."""
import pytest

from tokenauth import create_app

from ..helpers import bearer

UNREACHABLE = {
    "sqlite": lambda tmp: f"sqlite:///{tmp}/no-such-folder/tokenauth.db",
    "postgresql": lambda tmp: "postgresql+psycopg://postgres@127.0.0.1:1/none",
}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_unreachable_database_gives_503_never_allow(tmp_path, kind):
    from tokenauth.security.tokens import generate
    app = create_app({"env": "testing", "instance_path": str(tmp_path),
                      "database_url": UNREACHABLE[kind](tmp_path)})
    client = app.test_client()
    response = client.get("/verify", headers=bearer(generate("tka")))
    assert response.status_code == 503
    assert response.headers["X-Auth-Error"] == "unavailable"
    assert "X-Auth-User" not in response.headers
    api = client.get("/api/v1/tokens", headers={"Authorization": "Basic YWxpY2U6cGFzc3dvcmQx"})
    assert api.status_code == 503
    assert api.json["message"].startswith("database unavailable")
    assert b"Traceback" not in api.data
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200


def test_database_dropped_while_serving(make_postgres_database, tmp_path):
    """The PostgreSQL server answers but our database is gone mid-flight."""
    import psycopg
    from flask_migrate import upgrade

    from tokenauth.extensions import db
    from tokenauth.services.tokens import TokenService
    from tokenauth.services.users import create_user

    url = make_postgres_database()
    app = create_app({"env": "testing", "instance_path": str(tmp_path), "database_url": url,
                      "verify_cache_ttl": 0})
    with app.app_context():
        upgrade()
        issued = TokenService(db.session, app.extensions["tokenauth"].settings).create(
            create_user(db.session, "alice", "password-123"), "t")
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert client.get("/verify", headers=bearer(issued.raw)).status_code == 200
    admin_url, name = url.rsplit("/", 1)
    with psycopg.connect(admin_url.replace("+psycopg", "") + "/test", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    response = client.get("/verify", headers=bearer(issued.raw))
    assert response.status_code == 503
    assert "X-Auth-User" not in response.headers
