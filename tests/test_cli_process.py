"""The ``tokenauth`` console script run as a user runs it: a real process, its exact output
and exit status, never a traceback."""
from __future__ import annotations

import pytest

from tokenauth import __version__

from .servers import ROOT, SECRET_ADVICE, TOKENAUTH, clean_env, free_port, run_tokenauth
from .helpers import one_database

backend = one_database()  # the CLI's start-up, not storage

SECRETS = {"TOKENAUTH_SECRET_KEY": "k" * 40, "TOKENAUTH_TOKEN_PEPPER": "p" * 40}


def assert_failed(result, stderr_lines: list[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr
    assert (result.returncode, result.stdout, result.stderr.splitlines()) == (2, "", stderr_lines)


def test_version(tmp_path):
    result = run_tokenauth("--version", env=clean_env(), cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"tokenauth {__version__}\n"


def help_sections(text: str) -> dict:
    """``{"Options": ["--version", ...], "Commands": [...]}`` from click's help."""
    sections, current = {}, None
    for line in text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = sections.setdefault(line[:-1], [])
        elif current is not None and line.startswith("  ") and line.strip():
            current.append(line.split()[0])
    return sections


def test_help_shows_only_what_an_operator_needs(tmp_path):
    result = run_tokenauth("--help", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0
    assert help_sections(result.stdout) == {"Options": ["--version", "--help"],
                                            "Commands": ["db", "events", "serve", "tokens", "users"]}
    assert "--env-file" not in result.stdout and "--app" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # help loads no app, creates nothing


def test_a_database_without_tables_gets_one_line(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    env = clean_env(TOKENAUTH_DATABASE_URL=url, TOKENAUTH_INSTANCE_PATH=str(tmp_path / "inst"))
    assert_failed(run_tokenauth("users", "list", env=env, cwd=elsewhere), [
        f"Error: the database '{url}' has no tokenauth tables yet: run `{TOKENAUTH} db upgrade`"])
    assert list(elsewhere.iterdir()) == []


def test_the_instance_folder_does_not_depend_on_the_working_directory(tmp_path):
    env = clean_env(TOKENAUTH_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **SECRETS)
    for folder in (tmp_path, ROOT / "tokenauth"):  # the issue ran it from tokenauth/
        result = run_tokenauth("db", "current", env=env, cwd=folder)
        assert result.stdout.splitlines()[0] == f"instance: {ROOT / 'instance'}", result.stderr
    assert not (ROOT / "tokenauth" / "instance").exists()


@pytest.mark.parametrize("command, variables, expected", [
    (["users", "list"], {"TOKENAUTH_ENV": "production", "TOKENAUTH_DEFAULT_TOKEN_DAYS": "0"}, [
        "Error: TOKENAUTH_DEFAULT_TOKEN_DAYS=0 is not valid: must be at least 1",
        f"Error: TOKENAUTH_SECRET_KEY is not set: TOKENAUTH_ENV=production {SECRET_ADVICE}",
        f"Error: TOKENAUTH_TOKEN_PEPPER is not set: TOKENAUTH_ENV=production {SECRET_ADVICE}",
    ]),
    (["db", "upgrade"], {"TOKENAUTH_DATABASE_URL": "postgres://app:hunter2@db/tokenauth"}, [
        "Error: TOKENAUTH_DATABASE_URL='postgres://app:***@db/tokenauth' is not valid: use "
        "postgresql+psycopg://USER:PASSWORD@HOST:5432/DATABASE or sqlite:////path/to/tokenauth.db",
    ]),
])
def test_configuration_mistakes_get_one_line_each(tmp_path, command, variables, expected):
    env = clean_env(TOKENAUTH_INSTANCE_PATH=str(tmp_path / "inst"), **variables)
    assert_failed(run_tokenauth(*command, env=env, cwd=tmp_path), expected)


def test_an_unreachable_postgresql_gets_one_line(tmp_path):
    port = free_port()  # nothing listens there
    env = clean_env(TOKENAUTH_DATABASE_URL=f"postgresql+psycopg://app:hunter2@127.0.0.1:{port}/t",
                    **SECRETS)
    assert_failed(run_tokenauth("db", "upgrade", env=env, cwd=tmp_path), [
        f"Error: TOKENAUTH_DATABASE_URL='postgresql+psycopg://app:***@127.0.0.1:{port}/t': the "
        f'database cannot be used (connection failed: connection to server at "127.0.0.1", '
        f"port {port} failed: Connection refused); check that PostgreSQL runs there and that "
        "the URL is right"])


def test_audit_commands_as_an_operator_runs_them(tmp_path):
    env = clean_env(TOKENAUTH_DATABASE_URL=f"sqlite:///{tmp_path / 'audit.db'}",
                    TOKENAUTH_INSTANCE_PATH=str(tmp_path / "inst"), **SECRETS)

    def run(*args, input=None):
        result = run_tokenauth(*args, env=env, cwd=tmp_path, input=input)
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        return result.stdout.splitlines()
    run("db", "upgrade")  # (migration progress on stderr)
    run("users", "create", "alice", "--password-stdin", input="a long enough password\n")
    raw, = run("tokens", "create", "alice", "--name", "bait", "--canary", "--expires-at", "3d")
    assert raw.startswith("tka_")
    expiring = run("tokens", "expiring", "--within", "7d")
    assert expiring[0].split() == ["ID", "USER", "NAME", "HINT", "EXPIRES"]
    assert [line.split()[1:3] for line in expiring[1:]] == [["alice", "bait"]]
    events = run("events", "list")
    assert events[0].split() == ["AT", "TYPE", "TOKEN", "USER", "ACTOR", "ORIGIN"]
    assert [line.split()[1] for line in events[1:]] == ["created", "user_created"]
    assert all(line.split()[4] == "-" for line in events[1:])  # the command line: no actor
