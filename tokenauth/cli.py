"""The ``tokenauth`` console script: a Flask CLI group (``tokenauth db upgrade`` comes from
Flask-Migrate)."""
from __future__ import annotations

import re
import sys
from datetime import timedelta

import click
from flask.cli import FlaskGroup, with_appcontext

from . import rules
from .errors import TokenAuthError
from .extensions import db
from .models import iso_utc, utcnow
from .runtime import current_runtime
from .services import users
from .services.tokens import DEFAULT


def _create_app():
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main():
    """tokenauth: personal API tokens behind nginx auth_request."""


def _fail(error: TokenAuthError):
    """Roll back and exit with the error and, for invalid input, the rule it breaks."""
    db.session.rollback()
    details = [f"  {field}: {message}" for field, problems in (error.errors or {}).items()
               for message in _messages(problems)]
    raise click.ClickException("\n".join([str(error), *details]))


def _messages(problems) -> list[str]:
    """One field's messages: a list, or lists per item of a list field."""
    if isinstance(problems, dict):
        return [f"item {index}: {message}" for index, messages in problems.items()
                for message in messages]
    return list(problems)


def parse_when(value: str):
    """``30d`` (days from now), or a date or time as the API takes it (``rules.EXPIRES_AT``).
    Raises click.BadParameter saying the accepted forms."""
    match = re.fullmatch(r"(\d{1,5})d", value.strip())
    if match:
        return utcnow().replace(microsecond=0) + timedelta(days=int(match.group(1)))
    try:
        return rules.EXPIRES_AT.check(value.strip())
    except TokenAuthError as error:
        rule = error.errors["expires_at"][0]
        raise click.BadParameter(f"{rule} Or Nd: N days from now.") from None


@main.group("users")
def users_group():
    """Manage users."""


@users_group.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_create(username, admin, password_stdin):
    """Create an internal user."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = users.create_user(db.session, username, password, is_admin=admin)
        db.session.commit()
    except TokenAuthError as error:
        _fail(error)
    click.echo(f"created user {user.username} ({user.id}){' [admin]' if admin else ''}")


@users_group.command("list")
@with_appcontext
def users_list():
    """List users."""
    for user in users.list_users(db.session):
        flags = ",".join(f for f, on in (("admin", user.is_admin), ("disabled", not user.active)) if on)
        click.echo(f"{user.id}  {user.username:<24} {user.source:<8} {flags}")


@main.group("tokens")
def tokens_group():
    """Manage API tokens."""


@tokens_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="Display name of the token.")
@click.option("--expires-at", "expires_at", metavar="WHEN",
              help="Date, ISO 8601 time, or Nd (N days from now). Default: the default lifetime.")
@click.option("--no-expiry", is_flag=True, help="Never expires (not recommended).")
@with_appcontext
def tokens_create(username, name, expires_at, no_expiry):
    """Create a token and print only the raw token."""
    if expires_at and no_expiry:
        raise click.UsageError("--expires-at and --no-expiry exclude each other")
    when = None if no_expiry else (parse_when(expires_at) if expires_at else DEFAULT)
    try:
        user = users.require_user(db.session, username)
        issued = current_runtime().tokens().create(user, name, when)
        db.session.commit()
    except TokenAuthError as error:
        _fail(error)
    click.echo(issued.raw)


def _when(value) -> str:
    return iso_utc(value) or "never"


@tokens_group.command("list")
@click.argument("username", required=False)
@with_appcontext
def tokens_list(username):
    """List tokens (all, or USERNAME's), newest first."""
    try:
        owner = users.require_user(db.session, username) if username else None
    except TokenAuthError as error:
        _fail(error)
    rows = current_runtime().tokens().list(owner)
    click.echo(f"{'ID':<32}  {'USER':<16} {'NAME':<24} {'HINT':<12} {'STATUS':<8} "
               f"{'EXPIRES':<20} {'LAST USED':<20} ORIGIN")
    for token in rows:
        click.echo(f"{token.id:<32}  {token.user.username:<16} {token.name[:24]:<24} "
                   f"{token.hint:<12} {token.status:<8} {_when(token.expires_at):<20} "
                   f"{_when(token.last_accessed_at):<20} {token.last_accessed_origin or '-'}")


@tokens_group.command("revoke")
@click.argument("token_id")
@with_appcontext
def tokens_revoke(token_id):
    """Revoke a token by id."""
    service = current_runtime().tokens()
    try:
        token = service.revoke(service.get(token_id))
        db.session.commit()
    except TokenAuthError as error:
        _fail(error)
    click.echo(f"revoked {token.id} ({token.name})")
