"""The ``tokenauth`` console script: what an operator needs, without Flask's development
commands (``flask --app tokenauth db migrate`` is there for developers).

Every command that uses the database first checks that it answers and has the current
schema. Start-up problems (settings, database) print one ``Error:`` line each and exit with
status 2 (:mod:`tokenauth.startup`); a broken rule prints the rule and exits with status 1.
"""
from __future__ import annotations

import click
import flask_migrate

from .. import __version__
from ..database import expected_revisions, schema_revisions
from ..extensions import db
from ..runtime import current_runtime
from ..settings import without_password
from ..startup import cli_command
from .common import OperatorGroup, database_command
from .events import events_group
from .tokens import tokens_group
from .users import users_group


@click.group(cls=OperatorGroup)
@click.version_option(__version__, "--version", prog_name="tokenauth",
                      message="%(prog)s %(version)s")
def main():
    """tokenauth: personal API tokens behind nginx auth_request.

    Settings come from TOKENAUTH_* environment variables (see the README).
    """


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
@click.option("--server", type=click.Choice(["gunicorn", "granian"]),
              help="The HTTP server. [TOKENAUTH_SERVER; gunicorn]")
def serve(bind, workers, threads, server):
    """Run the production server: gunicorn (or granian) with tokenauth's settings."""
    from ..serve import run
    run(bind=bind, workers=workers, threads=threads, server=server)


main.add_command(users_group)
main.add_command(tokens_group)
main.add_command(events_group)
