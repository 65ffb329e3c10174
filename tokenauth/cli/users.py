"""``tokenauth users ...``: the changes the admin API makes, through the same service."""
from __future__ import annotations

import click

from ..extensions import db
from ..runtime import current_runtime
from ..services import users
from .common import database_command, read_password


@click.group("users")
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
