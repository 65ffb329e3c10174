"""The ``tokenauth`` console script: what an operator needs, without Flask's development
commands (``flask --app tokenauth db migrate`` is there for developers).

Every command that uses the database first checks that it answers and has the current
schema. Start-up problems (settings, database) print one ``Error:`` line each and exit with
status 2 (:mod:`tokenauth.startup`); a broken rule prints the rule and exits with status 1.
"""
from __future__ import annotations

import functools
import re
import sys
from datetime import timedelta

import click
import flask_migrate
from flask.cli import ScriptInfo, with_appcontext
from marshmallow import ValidationError
from sqlalchemy.exc import OperationalError

from . import __version__
from .api.schemas import TokenCreateSchema, UTCDateTime
from .database import expected_revisions, schema_revisions
from .errors import TokenAuthError
from .extensions import db
from .models import iso_utc, utcnow
from .runtime import current_runtime
from .services import users
from .services.tokens import DEFAULT
from .settings import SettingsError, without_password
from .startup import EXIT_STATUS, StartupError, cli_command, database_error, report, schema_problems

# The API's field names as the options that set them, for messages.
OPTION_OF_FIELD = {"name": "--name", "scopes": "--scope", "allowed_origins": "--origin",
                   "expires_at": "--expires-at"}


def _create_app():
    from . import create_app
    return create_app()


class OperatorGroup(click.Group):
    """The top group: commands find the app through ``ScriptInfo`` (as Flask's
    ``with_appcontext`` expects), and start-up problems end a command one line each."""

    def make_context(self, info_name, args, parent=None, **extra):
        extra.setdefault("obj", ScriptInfo(create_app=_create_app, set_debug_flag=False))
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (SettingsError, StartupError) as error:
            report(error.problems)
            ctx.exit(EXIT_STATUS)


@click.group(cls=OperatorGroup)
@click.version_option(__version__, "--version", prog_name="tokenauth",
                      message="%(prog)s %(version)s")
def main():
    """tokenauth: personal API tokens behind nginx auth_request.

    Settings come from TOKENAUTH_* environment variables (see the README).
    """


def database_command(check_schema: bool = True):
    """Run the command in the app context, once the database answers (and, with
    ``check_schema``, has the current schema). Raises StartupError when it does not; a
    broken rule ends the command with ClickException (status 1)."""
    def decorate(command):
        @functools.wraps(command)
        @with_appcontext
        def run(*args, **kwargs):
            url = current_runtime().settings.database_url
            try:
                if check_schema:
                    with db.engine.connect() as connection:
                        problems = schema_problems(connection, url)
                    if problems:
                        raise StartupError(problems)
                return command(*args, **kwargs)
            except OperationalError as error:
                raise StartupError([database_error(url, error)]) from None
            except TokenAuthError as error:
                db.session.rollback()
                raise click.ClickException(rule_message(error)) from None
        return run
    return decorate


def rule_message(error: TokenAuthError) -> str:
    """The error and the rules it carries: ``invalid username: 1-150 characters: ...``."""
    rules = [message for messages in (error.errors or {}).values() for message in messages]
    return ": ".join([str(error), " ".join(rules)]) if rules else str(error)


def parse_when(value: str):
    """``30d`` (days from now), a date, or an ISO 8601 time. Raises click.BadParameter."""
    match = re.fullmatch(r"(\d{1,5})d", value.strip())
    if match:
        return utcnow().replace(microsecond=0) + timedelta(days=int(match.group(1)))
    try:
        return UTCDateTime().deserialize(value)
    except ValidationError:
        raise click.BadParameter(
            f"{value!r} is not a date (2027-01-31), an ISO 8601 time (2027-01-31T12:00:00Z) or "
            "a number of days from now (30d).", param_hint="'--expires-at'") from None


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


# -- db ------------------------------------------------------------------------------------
@main.group("db")
def db_group():
    """The database schema."""


@db_group.command("upgrade")
@database_command(check_schema=False)
def db_upgrade():
    """Create or update tokenauth's tables (safe to repeat; run it after every upgrade)."""
    flask_migrate.upgrade()
    url = current_runtime().settings.database_url
    click.echo(f"database {without_password(url)} is at schema revision "
               f"{', '.join(sorted(expected_revisions()))} (current)")


@db_group.command("current")
@database_command(check_schema=False)
def db_current():
    """Show the instance folder, the database (without its password) and whether its schema
    is current."""
    with db.engine.connect() as connection:
        current, expected = schema_revisions(connection)
    settings = current_runtime().settings
    click.echo(f"instance: {settings.instance_path}")
    click.echo(f"database: {without_password(settings.database_url)}")
    if current == expected:
        click.echo(f"schema:   {', '.join(sorted(current))} (current)")
    else:
        click.echo(f"schema:   {', '.join(sorted(current)) or 'no tables yet'}; this tokenauth "
                   f"needs {', '.join(sorted(expected))}: run `{cli_command()} db upgrade`")


# -- serve ---------------------------------------------------------------------------------
@main.command("serve")
@click.option("--bind", metavar="HOST:PORT",
              help="Where to listen (unix:PATH for a socket). [TOKENAUTH_BIND; 127.0.0.1:8080]")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes. [TOKENAUTH_WORKERS; 2]")
@click.option("--threads", type=click.IntRange(min=1),
              help="Threads per worker. [TOKENAUTH_THREADS; 4]")
def serve(bind, workers, threads):
    """Run the production server: gunicorn with tokenauth's settings."""
    from .serve import run
    run(bind=bind, workers=workers, threads=threads)


# -- users ---------------------------------------------------------------------------------
@main.group("users")
def users_group():
    """Manage users."""


@users_group.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@database_command()
def users_create(username, admin, password_stdin):
    """Create an internal user (asks for the password)."""
    user = users.create_user(db.session, username, read_password(password_stdin), is_admin=admin)
    db.session.commit()
    click.echo(f"created user {user.username} ({user.id}){' [admin]' if admin else ''}")


@users_group.command("list")
@database_command()
def users_list():
    """List users."""
    click.echo(f"{'ID':<32}  {'USERNAME':<24} {'SOURCE':<8} {'ROLE':<5} STATUS")
    for user in users.list_users(db.session):
        role = "admin" if user.is_admin else "user"
        click.echo(f"{user.id:<32}  {user.username:<24} {user.source:<8} {role:<5} "
                   f"{'active' if user.active else 'disabled'}")


def _change_user(username: str, done: str, **changes) -> None:
    """Apply ``changes`` through the users service (its rules apply) and say what was done."""
    user = users.update_user(db.session, users.require_user(db.session, username), **changes)
    current_runtime().commit()
    click.echo(f"{done} {user.username}")


def _user_change_command(name: str, done: str, help_text: str, **changes):
    @users_group.command(name, help=help_text)
    @click.argument("username")
    @database_command()
    def command(username):
        _change_user(username, done, **changes)
    return command


_user_change_command("disable", "disabled", "Disable a user: their tokens and sessions stop "
                     "working at once.", active=False)
_user_change_command("enable", "enabled", "Enable a disabled user again.", active=True)
_user_change_command("promote", "promoted to admin:", "Make a user an administrator.",
                     is_admin=True)
_user_change_command("demote", "demoted to user:", "Take administrator rights away.",
                     is_admin=False)


@users_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@database_command()
def users_set_password(username, password_stdin):
    """Set an internal user's password (asks for it)."""
    _change_user(username, "changed the password of", password=read_password(password_stdin))


# -- tokens --------------------------------------------------------------------------------
@main.group("tokens")
def tokens_group():
    """Manage API tokens."""


@tokens_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="Display name of the token (1-100 characters).")
@click.option("--expires-at", "expires_at", metavar="WHEN",
              help="A date, an ISO 8601 time, or Nd (N days from now). Default: the default "
                   "lifetime (TOKENAUTH_DEFAULT_TOKEN_DAYS).")
@click.option("--no-expiry", is_flag=True, help="Never expires (not recommended).")
@click.option("--scope", "scopes", multiple=True, metavar="SCOPE",
              help="A label passed on to your API in X-Auth-Scopes (repeatable).")
@click.option("--origin", "origins", multiple=True, metavar="IP|CIDR",
              help="Accept the token only from this client address or network (repeatable).")
@database_command()
def tokens_create(username, name, expires_at, no_expiry, scopes, origins):
    """Create a token and print only the raw token."""
    if expires_at and no_expiry:
        raise click.UsageError("--expires-at and --no-expiry exclude each other")
    when = None if no_expiry else (parse_when(expires_at) if expires_at else DEFAULT)
    fields = _checked_token_fields(name=name, scopes=list(scopes), allowed_origins=list(origins))
    user = users.require_user(db.session, username)
    issued = current_runtime().tokens().create(user, fields["name"], when, fields["scopes"],
                                               fields["allowed_origins"])
    db.session.commit()
    click.echo(issued.raw)


def _checked_token_fields(**fields) -> dict:
    """``fields`` checked by the API's rules (TokenCreateSchema). Raises ClickException."""
    try:
        return TokenCreateSchema().load(fields)
    except ValidationError as error:
        problems = []
        for field, messages in error.messages.items():
            option = OPTION_OF_FIELD.get(field, field)
            if isinstance(messages, dict):  # per item of a repeated option
                problems += [f"{option} {fields[field][index]!r}: {' '.join(item)}"
                             for index, item in messages.items()]
            else:
                problems.append(f"{option}: {' '.join(messages)}")
        raise click.ClickException("; ".join(problems)) from None


def _when(value) -> str:
    return iso_utc(value) or "never"


@tokens_group.command("list")
@click.argument("username", required=False)
@database_command()
def tokens_list(username):
    """List tokens (all, or USERNAME's), newest first."""
    owner = users.require_user(db.session, username) if username else None
    rows = current_runtime().tokens().list(owner)
    click.echo(f"{'ID':<32}  {'USER':<16} {'NAME':<24} {'HINT':<12} {'STATUS':<8} "
               f"{'EXPIRES':<20} {'LAST USED':<20} ORIGIN")
    for token in rows:
        click.echo(f"{token.id:<32}  {token.user.username:<16} {token.name[:24]:<24} "
                   f"{token.hint:<12} {token.status:<8} {_when(token.expires_at):<20} "
                   f"{_when(token.last_accessed_at):<20} {token.last_accessed_origin or '-'}")


@tokens_group.command("revoke")
@click.argument("token_id")
@database_command()
def tokens_revoke(token_id):
    """Revoke a token by id."""
    service = current_runtime().tokens()
    token = service.revoke(service.get(token_id))
    current_runtime().commit()
    click.echo(f"revoked {token.id} ({token.name})")


@tokens_group.command("rotate")
@click.argument("token_id")
@database_command()
def tokens_rotate(token_id):
    """Replace a token's secret (same name, expiry, scopes, origins); print only the new
    raw token. The old one stops working at once."""
    service = current_runtime().tokens()
    issued = service.rotate(service.get(token_id))
    current_runtime().commit()
    click.echo(issued.raw)
