"""The ``tokenauth`` console script (SPEC 6)."""
import re

import pytest

from tokenauth.cli import main
from tokenauth.extensions import db
from tokenauth.models import ApiToken, User

from .helpers import bearer


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def run(*args, input=None):
        return runner.invoke(main, list(args), input=input, obj=None)
    return run


@pytest.fixture
def run(app, cli):
    """Invoke the group with the test app as the FlaskGroup's app."""
    from flask.cli import ScriptInfo
    runner = app.test_cli_runner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, obj=ScriptInfo(create_app=lambda: app))
    return invoke


def test_users_create_with_password_stdin(run):
    result = run("users", "create", "alice", "--admin", "--password-stdin",
                 input="a-long-password\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.username == "alice"))
    assert user.is_admin and user.password_hash.startswith("$argon2id$")
    assert "a-long-password" not in result.output


def test_users_create_prompts_twice_without_stdin_flag(run):
    result = run("users", "create", "bob", input="pw-123456789\npw-123456789\n")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("args, input, message", [
    (["users", "create", "bad name", "--password-stdin"], "a-long-password\n", "invalid username"),
    (["users", "create", "carl", "--password-stdin"], "short\n", "password"),
])
def test_users_create_errors(run, args, input, message):
    result = run(*args, input=input)
    assert result.exit_code != 0 and message in result.output


def test_tokens_create_prints_only_the_raw_token(run, client, make_user):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", "cli token")
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert re.fullmatch(r"tka_[0-9A-Za-z]{46}", raw)
    assert client.get("/verify", headers=bearer(raw)).headers["X-Auth-User"] == "alice"


@pytest.mark.parametrize("args, expected", [
    (["--no-expiry"], None),
    (["--expires-at", "2099-01-31"], "2099-01-31 00:00:00"),
    (["--expires-at", "2099-01-31T10:00:00+02:00"], "2099-01-31 08:00:00"),
])
def test_tokens_create_expiry_options(run, make_user, args, expected):
    make_user("alice")
    assert run("tokens", "create", "alice", "--name", "t", *args).exit_code == 0
    token = db.session.scalar(db.select(ApiToken))
    stored = token.expires_at.strftime("%Y-%m-%d %H:%M:%S") if token.expires_at else None
    assert stored == expected


def test_tokens_create_relative_days(run, make_user):
    make_user("alice")
    assert run("tokens", "create", "alice", "--name", "t", "--expires-at", "7d").exit_code == 0
    token = db.session.scalar(db.select(ApiToken))
    assert (token.expires_at - token.created_at).days in (6, 7)


@pytest.mark.parametrize("args, message", [
    (["tokens", "create", "ghost", "--name", "t"], "not found"),
    (["tokens", "create", "alice", "--name", "t", "--expires-at", "yesterday"], "Not a valid"),
    (["tokens", "create", "alice", "--name", "t", "--expires-at", "2001-01-01"], "past"),
    (["tokens", "create", "alice", "--name", "t", "--no-expiry", "--expires-at", "7d"], "exclude"),
    (["tokens", "revoke", "nope"], "not found"),
])
def test_tokens_errors(run, make_user, args, message):
    make_user("alice")
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output


def test_tokens_list_and_revoke(run, make_user, make_token, client):
    alice, bob = make_user("alice"), make_user("bob")
    a, b = make_token(alice, name="alice-token"), make_token(bob, name="bob-token")
    a_id, b_id = a.token.id, b.token.id
    listing = run("tokens", "list").output
    assert "alice-token" in listing and "bob-token" in listing
    assert a.raw not in listing and a.token.token_hash not in listing
    only_bob = run("tokens", "list", "bob").output
    assert "bob-token" in only_bob and "alice-token" not in only_bob
    result = run("tokens", "revoke", b_id)
    assert result.exit_code == 0 and b_id in result.output
    assert client.get("/verify", headers=bearer(b.raw)).headers["X-Auth-Error"] == "revoked"
    assert "revoked" in run("tokens", "list", "bob").output
    assert client.get("/verify", headers=bearer(a.raw)).status_code == 200
    assert a_id


@pytest.mark.parametrize("name, problem", [
    ("bell\x07", "control character"),
    ("line\nbreak", "control character"),
    ("esc\x1b[31m", "control character"),
    ("   ", "blank"),
    ("x" * 101, "at most 100"),
])
def test_tokens_create_refuses_names_the_api_refuses_and_says_the_rule(run, make_user, name,
                                                                       problem):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", name)
    assert result.exit_code != 0
    assert problem in result.output
    assert "1-100 characters" in result.output  # the rule itself, not only the symptom
    assert db.session.scalar(db.select(ApiToken)) is None


def test_users_create_refuses_a_name_taken_in_another_case(run, make_user):
    make_user("alice")
    result = run("users", "create", "ALICE", "--password-stdin", input="a-long-password\n")
    assert result.exit_code != 0
    assert "regardless of case" in result.output


def test_users_create_explains_the_username_rule(run):
    result = run("users", "create", "bad name", "--password-stdin", input="a-long-password\n")
    assert result.exit_code != 0
    assert "letters, digits" in result.output


def test_tokens_commands_find_users_in_any_case(run, make_user):
    make_user("Alice")
    assert run("tokens", "create", "alice", "--name", "t").exit_code == 0
    assert "Alice" in run("tokens", "list", "ALICE").output
