"""Settings come from TOKENAUTH_* variables and are validated at start-up."""
import dataclasses
from pathlib import Path

import pytest
from flask import Flask

from tokenauth import create_app
from tokenauth.settings import Settings, SettingsError, load_settings
from .helpers import one_database

backend = one_database()  # settings, not storage

ROOT = Path(__file__).resolve().parent.parent


def test_defaults(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)}, environ={})
    assert settings.token_prefix == "tka"
    assert settings.allow_password_auth is False
    assert settings.trusted_proxies == ("127.0.0.0/8", "::1/128")
    assert settings.default_token_days == 90 and settings.max_token_days is None
    assert settings.last_access_resolution == 60 and settings.verify_cache_ttl == 300
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


def test_text_overrides_are_read_like_their_variables(tmp_path):
    """create_app({"trusted_proxies": "10.0.0.0/8,::1"}) means what the variable would
    (it used to be read one character at a time, each a problem of its own)."""
    settings = load_settings({"instance_path": str(tmp_path), "trusted_proxies": "10.0.0.0/8,::1",
                              "verify_cache_ttl": "30", "allow_password_auth": "true"},
                             environ={})
    assert settings.trusted_proxies == ("10.0.0.0/8", "::1")
    assert settings.verify_cache_ttl == 30 and settings.allow_password_auth is True
    with pytest.raises(SettingsError) as error:
        load_settings({"instance_path": str(tmp_path), "verify_cache_ttl": "soon"}, environ={})
    assert [line.split(" is not")[0] for line in error.value.problems] == [
        "TOKENAUTH_VERIFY_CACHE_TTL='soon'"]


def test_production_cookies_are_secure(tmp_path):
    app = create_app({"env": "production", "instance_path": str(tmp_path),
                      "secret_key": "k" * 40, "token_pepper": "p" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


# -- every problem at once, one line each --------------------------------------------------
def test_every_problem_is_reported_at_once_one_line_each(tmp_path):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={
            "TOKENAUTH_ENV": "production", "TOKENAUTH_INSTANCE_PATH": str(tmp_path),
            "TOKENAUTH_DEFAULT_TOKEN_DAYS": "ninety", "TOKENAUTH_ALLOW_PASSWORD_AUTH": "maybe",
            "TOKENAUTH_DATABASE_URL": "postgres://u:hunter2@db/x",
        })
    assert caught.value.problems == [
        "TOKENAUTH_ALLOW_PASSWORD_AUTH='maybe' is not valid: expected true or false "
        "(also 1/0, yes/no, on/off)",
        "TOKENAUTH_DEFAULT_TOKEN_DAYS='ninety' is not valid: expected a whole number",
        "TOKENAUTH_DATABASE_URL='postgres://u:***@db/x' is not valid: use "
        "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE or sqlite:////path/to/tokenauth.db",
        "TOKENAUTH_SECRET_KEY is not set: TOKENAUTH_ENV=production needs at least 32 random "
        "characters (e.g. openssl rand -hex 32)",
        "TOKENAUTH_TOKEN_PEPPER is not set: TOKENAUTH_ENV=production needs at least 32 random "
        "characters (e.g. openssl rand -hex 32)",
    ]
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("variable, value, expected", [
    ("TOKENAUTH_DEFAULT_TOKEN_DAYS", "0",
     "TOKENAUTH_DEFAULT_TOKEN_DAYS=0 is not valid: must be at least 1"),
    ("TOKENAUTH_VERIFY_CACHE_TTL", "soon",
     "TOKENAUTH_VERIFY_CACHE_TTL='soon' is not valid: expected a number"),
    ("TOKENAUTH_ENV", "staging",
     "TOKENAUTH_ENV='staging' is not valid: must be one of development, production, testing"),
    ("TOKENAUTH_LOG_LEVEL", "verbose", "TOKENAUTH_LOG_LEVEL='verbose' is not valid: must be "
                                       "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("TOKENAUTH_TOKEN_PEPPER", "short", "TOKENAUTH_TOKEN_PEPPER is too short (5 characters): "
                                        "use at least 32 random characters (e.g. openssl rand "
                                        "-hex 32)"),
    ("TOKENAUTH_DATABASE_URL", "postgresql://db/x",
     "TOKENAUTH_DATABASE_URL='postgresql://db/x' is not valid: use postgresql+psycopg://USER:"
     "PASSWORD@HOST:5432/DATABASE or sqlite:////path/to/tokenauth.db"),
])
def test_a_problem_names_the_variable_and_what_is_valid(tmp_path, variable, value, expected):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"TOKENAUTH_INSTANCE_PATH": str(tmp_path), variable: value})
    assert caught.value.problems == [expected]


def test_log_level_is_case_insensitive(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)},
                             environ={"TOKENAUTH_LOG_LEVEL": "debug"})
    assert settings.log_level == "DEBUG"


# -- parsed by the type hints -------------------------------------------------------------
def test_every_field_reads_back_its_default_from_the_environment(tmp_path):
    """Each field is parsed by its real type: its default, written as text, reads back."""
    def text(value):
        return ",".join(value) if isinstance(value, tuple) else str(value)

    defaults = {field.name: field.default for field in dataclasses.fields(Settings)
                if field.default not in (None, "")}
    environ = {f"TOKENAUTH_{name.upper()}": text(value) for name, value in defaults.items()}
    settings = load_settings({"instance_path": str(tmp_path)}, environ=environ)
    for name, value in defaults.items():
        assert getattr(settings, name) == value and type(getattr(settings, name)) is type(value)


@pytest.mark.parametrize("variable, value, field, expected", [
    ("TOKENAUTH_MAX_TOKEN_DAYS", "", "max_token_days", None),
    ("TOKENAUTH_MAX_TOKEN_DAYS", " 120 ", "max_token_days", 120),
    ("TOKENAUTH_VERIFY_CACHE_TTL", "0.5", "verify_cache_ttl", 0.5),
    ("TOKENAUTH_ALLOW_PASSWORD_AUTH", "ON", "allow_password_auth", True),
    ("TOKENAUTH_EXTERNAL_USER_HEADER", "  ", "external_user_header", None),
    ("TOKENAUTH_TRUSTED_PROXIES", "", "trusted_proxies", ()),
])
def test_values_are_parsed_by_type(tmp_path, variable, value, field, expected):
    settings = load_settings({"instance_path": str(tmp_path)}, environ={variable: value})
    assert getattr(settings, field) == expected


def test_secrets_are_hidden_from_repr(tmp_path):
    settings = load_settings({"instance_path": str(tmp_path)}, environ={
        "TOKENAUTH_SECRET_KEY": "s" * 40, "TOKENAUTH_TOKEN_PEPPER": "p" * 40,
        "TOKENAUTH_DATABASE_URL": "postgresql+psycopg://app:hunter2@db:5432/tokens"})
    text = repr(settings)
    assert "s" * 40 not in text and "p" * 40 not in text and "hunter2" not in text
    assert "secret_key='<hidden>'" in text
    assert "database_url='postgresql+psycopg://app:***@db:5432/tokens'" in text
    assert "token_prefix='tka'" in text


# -- the instance folder ------------------------------------------------------------------
def test_the_default_instance_folder_follows_flasks_rule_not_the_working_directory(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings({"secret_key": "k" * 40, "token_pepper": "p" * 40,
                              "database_url": f"sqlite:///{tmp_path / 'x.db'}"}, environ={})
    assert settings.instance_path == Flask("tokenauth").instance_path
    assert settings.instance_path == str(ROOT / "instance")  # a source checkout
    assert not (tmp_path / "instance").exists()


def test_instance_path_variable_wins(tmp_path):
    settings = load_settings(environ={"TOKENAUTH_INSTANCE_PATH": str(tmp_path / "here")})
    assert settings.instance_path == str(tmp_path / "here")
    assert (tmp_path / "here" / "secret_key").exists()


def test_nothing_is_created_when_nothing_is_generated(tmp_path):
    create_app({"instance_path": str(tmp_path / "unused"), "secret_key": "k" * 40,
                "token_pepper": "p" * 40, "database_url": f"sqlite:///{tmp_path / 'x.db'}"})
    assert not (tmp_path / "unused").exists()


def test_an_instance_folder_that_cannot_be_made_is_a_problem(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"TOKENAUTH_INSTANCE_PATH": str(tmp_path / "file" / "inst")})
    [problem] = caught.value.problems
    assert problem.startswith(f"TOKENAUTH_INSTANCE_PATH='{tmp_path / 'file' / 'inst'}' is not "
                              "usable (Not a directory: ")


def test_a_settings_error_holds_its_problems():
    assert SettingsError("TOKENAUTH_X is wrong").problems == ["TOKENAUTH_X is wrong"]
    error = SettingsError(["TOKENAUTH_A is wrong", "TOKENAUTH_B is wrong"])
    assert str(error) == "TOKENAUTH_A is wrong\nTOKENAUTH_B is wrong"
