"""Secrets stay out of logs and out of reach: gunicorn's access log never carries a part of
a Basic credential, settings do not print their keys, templates get no settings object."""
import base64
import urllib.error
import urllib.request

import pytest
from flask import template_rendered

from tokenauth.settings import load_settings

from ..helpers import basic, one_database
from ..servers import gunicorn, tokenauth_env

backend = one_database()  # what logs contain, not storage


def get(url, headers):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.e2e
def test_access_log_has_no_part_of_a_basic_credential(database_url, tmp_path):
    colonless = base64.b64encode(b"colonlessSecret1234").decode()
    env = tokenauth_env(database_url, tmp_path / "instance")
    with gunicorn(env, tmp_path / "logs", workers=1) as (url, _):
        assert get(url + "/api/v1/me", {"Authorization": f"Basic {colonless}"}) == 401
        assert get(url + "/api/v1/me", basic("Typed-Username-42", "pass-word-99")) == 401
        assert get(url + "/verify", basic("Typed-Username-43", "pass-word-98")) == 401
    access_log = (tmp_path / "logs" / "tokenauth.access.log").read_text()
    assert access_log.count("/api/v1/me") == 2  # the requests were logged...
    everything = "".join(path.read_text() for path in (tmp_path / "logs").glob("*.log"))
    for secret in ("colonlessSecret1234", "Typed-Username-4", "pass-word-9", colonless):
        assert secret not in everything  # ...without any part of their credentials


def test_settings_repr_hides_the_secret_key_and_the_pepper(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path),
                              "secret_key": "k" * 20 + "SECRETKEY-MARK" + "k" * 10,
                              "token_pepper": "p" * 20 + "PEPPER-MARK" + "p" * 10}, environ={})
    for text in (repr(settings), str(settings)):
        assert "SECRETKEY-MARK" not in text and "PEPPER-MARK" not in text
        assert "token_prefix='tka'" in text  # the rest is still shown


def test_templates_get_only_the_settings_they_use(app, client):
    contexts = []

    def record(sender, template, context, **extra):
        contexts.append(context)

    with template_rendered.connected_to(record, app):
        assert client.get("/login").status_code == 200
    assert contexts
    for context in contexts:
        assert "settings" not in context
        assert not any(type(value).__name__ == "Settings" for value in context.values())
        assert context["external_signin"] is False
