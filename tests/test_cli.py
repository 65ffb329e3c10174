"""The ``tokenauth`` console script (SPEC 6)."""
import re

import pytest
from click.testing import CliRunner

from tokenauth.cli import main
from tokenauth.cli.common import rule_message
from tokenauth.errors import InvalidInput
from tokenauth.extensions import db
from tokenauth.models import ApiToken, User
from tokenauth.security.passwords import verify_password

from .helpers import PASSWORD, bearer, one_database

backend = one_database()  # the CLI's wording and exit codes; the services run on both elsewhere


@pytest.fixture
def run(app):
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
    (["users", "create", "bad name", "--password-stdin"], "a-long-password\n",
     "Error: invalid username: Not a valid username. A username is 1-150 ASCII characters: "
     "letters, digits and . _ @ + -, starting with a letter or digit."),
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
    (["tokens", "create", "alice", "--name", "t", "--expires-at", "yesterday"],
     "Or a number of days from now (30d)."),
    (["tokens", "create", "alice", "--name", "t", "--expires-at", "2001-01-01"],
     "Must be in the future."),
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


# -- users: a header row, and every change the API can make -------------------------------
def test_users_list_has_a_header_row(run, make_user):
    alice = make_user("alice", admin=True)
    bob = make_user("bob", active=False)
    lines = run("users", "list").output.splitlines()
    assert lines[0].split() == ["ID", "USERNAME", "SOURCE", "ROLE", "STATUS"]
    assert [line.split() for line in lines[1:]] == [
        [alice.id, "alice", "internal", "admin", "active"],
        [bob.id, "bob", "internal", "user", "disabled"],
    ]


def stored_user(username):
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.username == username))


@pytest.mark.parametrize("command, output, attribute, before, after", [
    ("disable", "disabled alice", "active", True, False),
    ("enable", "enabled alice", "active", False, True),
    ("promote", "promoted to admin: alice", "is_admin", False, True),
    ("demote", "demoted to user: alice", "is_admin", True, False),
])
def test_user_changes(run, make_user, command, output, attribute, before, after):
    make_user("root", admin=True)  # the last active admin cannot be demoted
    make_user("alice", active=before if attribute == "active" else True,
              admin=before if attribute == "is_admin" else False)
    result = run("users", command, "alice")
    assert (result.exit_code, result.output) == (0, output + "\n")
    assert getattr(stored_user("alice"), attribute) is after


def test_disabling_a_user_stops_their_tokens_at_once(run, make_user, make_token, client):
    issued = make_token(make_user("alice"))
    assert run("users", "disable", "alice").exit_code == 0
    answer = client.get("/verify", headers=bearer(issued.raw))
    assert (answer.status_code, answer.headers["X-Auth-Error"]) == (401, "user_disabled")


@pytest.mark.parametrize("args, input", [
    (["--password-stdin"], "a-new-password-1\n"),
    ([], "a-new-password-1\na-new-password-1\n"),  # asks twice
])
def test_set_password(run, make_user, args, input):
    make_user("alice")
    result = run("users", "set-password", "alice", *args, input=input)
    assert result.exit_code == 0, result.output
    assert result.output.endswith("changed the password of alice\n")
    assert "a-new-password-1" not in result.output
    stored = stored_user("alice").password_hash
    assert verify_password("a-new-password-1", stored)
    assert not verify_password(PASSWORD, stored)


@pytest.mark.parametrize("args, input, message", [
    (["users", "disable", "ghost"], None, "Error: user 'ghost' not found\n"),
    (["users", "set-password", "alice", "--password-stdin"], "short\n",
     "Error: invalid password: Too short: at least 8 characters. A password is 8-1024 "
     "characters and must not look like an API token.\n"),
    (["users", "set-password", "ext", "--password-stdin"], "a-long-password\n",
     "Error: external users have no password here: External users sign in elsewhere.\n"),
])
def test_user_change_errors_say_the_rule(run, make_user, args, input, message):
    make_user("alice")
    make_user("ext", source="external")
    result = run(*args, input=input)
    assert result.exit_code == 1
    assert result.output.endswith(message)


# -- tokens: scopes, origins, rotation ----------------------------------------------------
def test_tokens_create_with_scopes_and_origins(run, make_user, client):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", "ci", "--scope", "read",
                 "--scope", "deploy:prod", "--origin", "127.0.0.1", "--origin", "10.0.0.0/8")
    assert result.exit_code == 0, result.output
    token = db.session.scalar(db.select(ApiToken))
    assert token.scopes == ["deploy:prod", "read"]
    assert token.allowed_origins == ["127.0.0.1/32", "10.0.0.0/8"]
    answer = client.get("/verify", headers=bearer(result.output.strip()))
    assert answer.headers["X-Auth-Scopes"] == "deploy:prod read"


def test_tokens_create_refuses_what_the_api_refuses(run, make_user):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", "ci", "--scope", "ok",
                 "--scope", "not ok", "--origin", "10.0.0.0/33")
    assert result.exit_code == 1
    assert result.output.startswith("Error: --scope 'not ok': Not a valid scope. A scope is "
                                    "1-64 of A-Z a-z 0-9 : . _ / -")
    assert "--origin '10.0.0.0/33': '10.0.0.0/33' is not an IP address or CIDR." in result.output
    assert db.session.scalar(db.select(ApiToken)) is None


def test_tokens_create_with_routes_and_list_shows_them(run, make_user, client):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", "reports", "--route", "GET /api/**",
                 "--route", "POST /api/reports/*")
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert db.session.scalar(db.select(ApiToken)).routes == ["GET /api/**", "POST /api/reports/*"]
    denied = client.get("/verify", headers={**bearer(raw), "X-Original-Method": "DELETE",
                                            "X-Original-URI": "/api/reports/1"})
    assert denied.headers["X-Auth-Error"] == "forbidden_scope"
    run("tokens", "create", "alice", "--name", "open")
    run("tokens", "create", "alice", "--name", "many",
        *[arg for i in range(5) for arg in ("--route", f"GET /r{i}")])
    rows = {line.split()[2]: line for line in run("tokens", "list").output.splitlines()[1:]}
    assert rows["reports"].endswith(" GET /api/**, POST /api/reports/*")
    assert rows["open"].endswith(" any")
    assert rows["many"].endswith(" GET /r0, GET /r1, GET /r2 (+2 more)")


def test_tokens_create_refuses_a_bad_route_in_one_line(run, make_user):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", "ci", "--route", "GET /api/**",
                 "--route", "get /api")
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("Error: --route 'get /api': 'get /api' must start with an HTTP "
                           "method in capitals")
    assert db.session.scalar(db.select(ApiToken)) is None


def test_tokens_rotate(run, make_user, make_token, client):
    old = make_token(make_user("alice"), name="deploy", scopes=["read"])
    result = run("tokens", "rotate", old.token.id)
    assert result.exit_code == 0, result.output
    new = result.output.strip()
    assert re.fullmatch(r"tka_[0-9A-Za-z]{46}", new)
    assert client.get("/verify", headers=bearer(old.raw)).headers["X-Auth-Error"] == "revoked"
    answer = client.get("/verify", headers=bearer(new))
    assert (answer.status_code, answer.headers["X-Auth-Scopes"]) == (200, "read")
    again = run("tokens", "rotate", old.token.id)
    assert (again.exit_code, again.output) == (1, "Error: cannot rotate a token that is revoked\n")


@pytest.mark.parametrize("group, commands", [
    ("db", ["current", "upgrade"]),
    ("users", ["create", "demote", "disable", "enable", "list", "promote", "set-password"]),
    ("tokens", ["create", "expiring", "list", "revoke", "rotate"]),
    ("events", ["list"]),
])
def test_each_group_offers_what_an_operator_needs(group, commands):
    output = CliRunner().invoke(main, [group, "--help"]).output
    listed = output.split("Commands:\n", 1)[1].splitlines()
    assert [line.split()[0] for line in listed if line.strip()] == commands


@pytest.mark.parametrize("errors, expected", [
    (None, "invalid name"),
    ({"name": ["Length must be between 1 and 100."]},
     "invalid name: Length must be between 1 and 100."),
    ({"scopes": {0: ["Too long."], 2: ["Bad character."]}},
     "invalid name: Too long. Bad character."),
])
def test_a_broken_rule_is_shown_with_its_rules(errors, expected):
    assert rule_message(InvalidInput("invalid name", errors)) == expected


def test_tokens_create_canary(run, make_user, client):
    make_user("alice")
    result = run("tokens", "create", "alice", "--name", "bait", "--canary")
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert db.session.scalar(db.select(ApiToken)).canary is True
    assert client.get("/verify", headers=bearer(raw)).headers["X-Auth-Error"] == "invalid"


def test_events_list_has_a_header_row_and_filters(run, make_user, make_token):
    alice = make_user("alice")
    token = make_token(alice, name="ci").token
    assert run("tokens", "revoke", token.id).exit_code == 0
    make_token(make_user("bob"))
    result = run("events", "list", "--user", "alice")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["AT", "TYPE", "TOKEN", "USER", "ACTOR", "ORIGIN"]
    assert [line.split()[1] for line in lines[1:]] == ["revoked", "created", "user_created"]
    assert all(line.split()[3] == alice.id for line in lines[1:])
    typed = run("events", "list", "--type", "revoked", "--token", token.id).output.splitlines()
    assert [line.split()[1:3] for line in typed[1:]] == [["revoked", token.id]]
    assert len(run("events", "list", "--limit", "2").output.splitlines()) == 3


@pytest.mark.parametrize("args, message", [
    (["--type", "exploded"], "'exploded' is not one of"),
    (["--token", "nope"], "no token id"),
    (["--user", "ghost"], "not found"),
    (["--limit", "0"], "0 is not in the range"),
])
def test_events_list_errors(run, args, message):
    result = run("events", "list", *args)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_tokens_expiring_lists_active_tokens_within_the_window(run, make_user, make_token):
    from datetime import datetime, timedelta, timezone
    alice = make_user("alice")
    now = datetime.now(timezone.utc)
    soon = make_token(alice, name="soon", expires_at=now + timedelta(days=3)).token
    sooner = make_token(alice, name="sooner", expires_at=now + timedelta(hours=5)).token
    make_token(alice, name="later", expires_at=now + timedelta(days=30))
    make_token(alice, name="never", expires_at=None)
    make_token(alice, name="revoked", expires_at=now + timedelta(days=1), revoked=True)
    result = run("tokens", "expiring", "--within", "7d")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["ID", "USER", "NAME", "HINT", "EXPIRES"]
    assert [line.split()[0] for line in lines[1:]] == [sooner.id, soon.id]
    hours = run("tokens", "expiring", "--within", "12h").output.splitlines()
    assert [line.split()[0] for line in hours[1:]] == [sooner.id]


@pytest.mark.parametrize("within", ["7", "0d", "-1d", "1w", "d"])
def test_tokens_expiring_refuses_other_windows(run, within):
    result = run("tokens", "expiring", "--within", within)
    assert result.exit_code == 2 and "number of days (7d) or hours (12h)" in result.output
