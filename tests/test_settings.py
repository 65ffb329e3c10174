"""Settings come from TOKENAUTH_* variables and are validated at start-up."""
import pytest

from tokenauth import create_app
from tokenauth.settings import SettingsError, load_settings


def test_defaults(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)}, environ={})
    assert settings.token_prefix == "tka"
    assert settings.allow_password_auth is False
    assert settings.trusted_proxies == ("127.0.0.0/8", "::1/128")
    assert settings.default_token_days == 90 and settings.max_token_days is None
    assert settings.last_access_resolution == 60 and settings.verify_cache_ttl == 2
    assert settings.database_url == f"sqlite:///{tmp_path / 'tokenauth.db'}"


def test_environment_variables_are_read(tmp_path):
    settings = load_settings(environ={
        "TOKENAUTH_INSTANCE_PATH": str(tmp_path), "TOKENAUTH_ALLOW_PASSWORD_AUTH": "true",
        "TOKENAUTH_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1/32", "TOKENAUTH_MAX_TOKEN_DAYS": "",
        "TOKENAUTH_VERIFY_CACHE_TTL": "0", "TOKENAUTH_TOKEN_PREFIX": "acme",
        "TOKENAUTH_EXTERNAL_USER_HEADER": "X-Forwarded-User",
    })
    assert settings.allow_password_auth is True
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.1/32")
    assert settings.max_token_days is None and settings.verify_cache_ttl == 0
    assert settings.token_prefix == "acme" and settings.external_user_header == "X-Forwarded-User"


def test_development_secrets_are_generated_once_and_kept(tmp_path):
    first = load_settings({"instance_path": str(tmp_path)}, environ={})
    second = load_settings({"instance_path": str(tmp_path)}, environ={})
    assert len(first.secret_key) >= 32 and len(first.token_pepper) >= 32
    assert first.secret_key != first.token_pepper
    assert (first.secret_key, first.token_pepper) == (second.secret_key, second.token_pepper)
    assert oct((tmp_path / "token_pepper").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "TOKEN_PEPPER"])
def test_production_refuses_to_start_without_secrets(tmp_path, missing):
    environ = {"TOKENAUTH_ENV": "production", "TOKENAUTH_INSTANCE_PATH": str(tmp_path),
               "TOKENAUTH_SECRET_KEY": "k" * 40, "TOKENAUTH_TOKEN_PEPPER": "p" * 40}
    del environ[f"TOKENAUTH_{missing}"]
    with pytest.raises(SettingsError, match=f"TOKENAUTH_{missing}"):
        load_settings(environ=environ)
    assert not (tmp_path / missing.lower()).exists()


@pytest.mark.parametrize("variable, value", [
    ("TOKENAUTH_ALLOW_PASSWORD_AUTH", "maybe"),
    ("TOKENAUTH_DEFAULT_TOKEN_DAYS", "ninety"),
    ("TOKENAUTH_DEFAULT_TOKEN_DAYS", "0"),
    ("TOKENAUTH_MAX_TOKEN_DAYS", "-1"),
    ("TOKENAUTH_TRUSTED_PROXIES", "10.0.0.0/33"),
    ("TOKENAUTH_TOKEN_PREFIX", "Bad_Prefix"),
    ("TOKENAUTH_VERIFY_CACHE_TTL", "-1"),
    ("TOKENAUTH_ENV", "staging"),
    ("TOKENAUTH_DATABASE_URL", "mysql://x"),
    ("TOKENAUTH_EXTERNAL_USER_HEADER", "X Bad: header"),
    ("TOKENAUTH_TOKEN_PEPPER", "short"),
])
def test_invalid_values_fail_fast_naming_the_variable(tmp_path, variable, value):
    environ = {"TOKENAUTH_INSTANCE_PATH": str(tmp_path), variable: value}
    with pytest.raises(SettingsError, match=variable):
        load_settings(environ=environ)


def test_overrides_win_over_the_environment(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path), "token_prefix": "abc"},
                             environ={"TOKENAUTH_TOKEN_PREFIX": "xyz"})
    assert settings.token_prefix == "abc"


def test_production_cookies_are_secure(tmp_path):
    app = create_app({"env": "production", "instance_path": str(tmp_path),
                      "secret_key": "k" * 40, "token_pepper": "p" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
