"""No raw token, password or Authorization header in any log line."""
import logging

import pytest

from tokenauth.logs import redact
from tokenauth.security.tokens import generate
from .helpers import one_database

backend = one_database()  # what logs contain, not storage

TOKEN = generate("tka")


@pytest.mark.parametrize("message", [
    f"verify failed for {TOKEN}",
    f"headers: {{'Authorization': 'Bearer {TOKEN}'}}",
    "Authorization: Basic YWxpY2U6c2VjcmV0",
    "password=hunter2hunter2",
    'login {"password": "hunter2hunter2"}',
], ids=["token", "bearer-header", "basic-header", "password-field", "password-json"])
def test_redact_removes_secrets(message):
    cleaned = redact(message)
    for secret in (TOKEN, "YWxpY2U6c2VjcmV0", "hunter2hunter2"):
        assert secret not in cleaned


def test_app_logger_redacts(app, caplog):
    caplog.set_level(logging.INFO)
    app.logger.info("debugging %s with Authorization: Bearer %s", "x", TOKEN)
    assert TOKEN not in caplog.text
    assert "[redacted]" in caplog.text or "[token redacted]" in caplog.text


def test_server_errors_are_logged_without_the_authorization_header(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError(f"exploded while holding {TOKEN}")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production
    caplog.set_level(logging.INFO)
    response = client.get("/boom", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 500
    assert b"Traceback" not in response.data and TOKEN.encode() not in response.data
    assert TOKEN not in caplog.text
