"""``tokenauth events list``: the audit trail, newest first."""
from __future__ import annotations

import click

from .. import rules
from ..extensions import db
from ..models import iso_utc
from ..services import events, users
from .common import database_command


@click.group("events")
def events_group():
    """The audit trail."""


@events_group.command("list")
@click.option("--user", "username", metavar="USERNAME", help="Only this user's events.")
@click.option("--token", "token_id", metavar="ID", help="Only this token's events.")
@click.option("--type", "type_", type=click.Choice(events.TYPES), help="Only this type.")
@click.option("--limit", type=click.IntRange(min=1, max=10_000), default=100, show_default=True,
              help="At most this many.")
@database_command()
def events_list(username, token_id, type_, limit):
    """List events, newest first."""
    user_id = users.require_user(db.session, username).id if username else None
    if token_id is not None and not rules.is_id(token_id):
        raise click.BadParameter(f"{token_id!r} is no token id (32 hex characters).",
                                 param_hint="'--token'")
    rows = events.list_events(db.session, user_id=user_id, token_id=token_id, type_=type_,
                              limit=limit)
    click.echo(f"{'AT':<20}  {'TYPE':<16} {'TOKEN':<32}  {'USER':<32}  {'ACTOR':<16} ORIGIN")
    for event in rows:
        click.echo(f"{iso_utc(event.at):<20}  {event.type:<16} {event.token_id or '-':<32}  "
                   f"{event.user_id or '-':<32}  {event.actor or '-':<16} {event.origin or '-'}")
