"""``tokenauth tokens ...``: create (by the API's rules), list, revoke, rotate."""
from __future__ import annotations

import click
from marshmallow import ValidationError

from ..api.schemas import TokenCreateSchema
from ..extensions import db
from ..models import iso_utc
from ..runtime import current_runtime
from ..services import users
from ..services.tokens import DEFAULT
from .common import database_command, parse_duration, parse_when

# The API's field names as the options that set them, for messages.
OPTION_OF_FIELD = {"name": "--name", "scopes": "--scope", "allowed_origins": "--origin",
                   "routes": "--route", "expires_at": "--expires-at"}


@click.group("tokens")
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
@click.option("--route", "routes", multiple=True, metavar='"METHOD /PATTERN"',
              help='Accept the token only for these requests, e.g. "GET /api/**" (* one path '
                   "segment, ** any number; repeatable). Default: anywhere.")
@click.option("--canary", is_flag=True,
              help="A canary: never valid; any use is refused like an unknown token, recorded "
                   "(canary_used, with the client IP) and alerted. Plant it where a leak would "
                   "be found.")
@database_command()
def tokens_create(username, name, expires_at, no_expiry, scopes, origins, routes, canary):
    """Create a token and print only the raw token."""
    if expires_at and no_expiry:
        raise click.UsageError("--expires-at and --no-expiry exclude each other")
    when = None if no_expiry else (parse_when(expires_at) if expires_at else DEFAULT)
    fields = _checked_token_fields(name=name, scopes=list(scopes), allowed_origins=list(origins),
                                   routes=list(routes))
    user = users.require_user(db.session, username)
    issued = current_runtime().tokens().create(user, fields["name"], when, fields["scopes"],
                                               fields["allowed_origins"], fields["routes"],
                                               canary=canary)
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
               f"{'EXPIRES':<20} {'LAST USED':<20} {'ORIGIN':<15} ROUTES")
    for token in rows:
        click.echo(f"{token.id:<32}  {token.user.username:<16} {token.name[:24]:<24} "
                   f"{token.hint:<12} {token.status:<8} {_when(token.expires_at):<20} "
                   f"{_when(token.last_accessed_at):<20} "
                   f"{token.last_accessed_origin or '-':<15} {_routes(token.routes)}")


def _routes(routes, shown: int = 3) -> str:
    """A token's route rules on one line: ``any`` when unrestricted, the first ``shown``
    and how many more."""
    if not routes:
        return "any"
    more = f" (+{len(routes) - shown} more)" if len(routes) > shown else ""
    return ", ".join(routes[:shown]) + more


@tokens_group.command("expiring")
@click.option("--within", required=True, metavar="Nd|Nh",
              help="The window from now: days (7d) or hours (12h).")
@database_command()
def tokens_expiring(within):
    """List active tokens that expire within the given time from now, soonest first."""
    rows = current_runtime().tokens().expiring(parse_duration(within, "--within"))
    click.echo(f"{'ID':<32}  {'USER':<16} {'NAME':<24} {'HINT':<12} EXPIRES")
    for token in rows:
        click.echo(f"{token.id:<32}  {token.user.username:<16} {token.name[:24]:<24} "
                   f"{token.hint:<12} {_when(token.expires_at)}")


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
