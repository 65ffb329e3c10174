"""/healthz, /readyz and /metrics."""
from flask_migrate import downgrade, upgrade

from tokenauth.extensions import db

from ..helpers import bearer, corrupt, listening


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_readyz_when_migrated(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json


def test_readyz_is_503_when_the_schema_is_behind(make_app, make_postgres_database, backend, tmp_path):
    url = make_postgres_database() if backend == "postgresql" else f"sqlite:///{tmp_path}/new.db"
    app = make_app(database_url=url)
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "database schema is not current"
    with app.app_context():
        upgrade()
        assert client.get("/readyz").status_code == 200
        downgrade(revision="base")
        assert client.get("/readyz").status_code == 503
        db.engine.dispose()


def metric(text, name, **labels):
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


def test_metrics_count_outcomes_latency_and_cache(app, client, make_user, make_token):
    listening(app)
    issued = make_token(make_user("alice"))
    client.get("/verify", headers=bearer(issued.raw))
    client.get("/verify", headers=bearer(issued.raw))
    client.get("/verify")
    client.get("/verify", headers=bearer(corrupt(issued.raw)))
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, "tokenauth_verify_total", outcome="ok") == 2
    assert metric(text, "tokenauth_verify_total", outcome="missing") == 1
    assert metric(text, "tokenauth_verify_total", outcome="malformed") == 1
    assert metric(text, "tokenauth_verify_duration_seconds_count") == 4
    assert metric(text, "tokenauth_verify_cache_total", result="hit") == 1
    assert metric(text, "tokenauth_verify_cache_total", result="miss") == 1


def test_metrics_folder_is_created_when_missing(tmp_path, monkeypatch, database_url):
    from tokenauth import create_app
    folder = tmp_path / "not-yet" / "metrics"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    app = create_app({"env": "testing", "instance_path": str(tmp_path), "database_url": database_url})
    assert folder.is_dir()
    assert app.test_client().get("/metrics").status_code == 200
