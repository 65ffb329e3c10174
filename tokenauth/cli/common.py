"""What every command shares: the top group's way of finding the app and reporting
start-up problems, the database check, and how rules and inputs are read and shown."""
from __future__ import annotations

import functools
import re
import sys
from datetime import timedelta

import click
from flask.cli import ScriptInfo, with_appcontext
from sqlalchemy.exc import OperationalError

from .. import rules
from ..errors import TokenAuthError
from ..extensions import db
from ..models import utcnow
from ..runtime import current_runtime
from ..settings import SettingsError
from ..startup import EXIT_STATUS, StartupError, database_error, report, schema_problems


def _create_app():
    from .. import create_app
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
    """What broke and the rules it carries: ``invalid username: Not a valid username. A
    username is 1-150 ASCII characters: ...``."""
    rules = list(_messages(error.errors or {}))
    if not rules:
        return str(error)
    return f"{str(error).split(': ', 1)[0]}: {' '.join(rules)}"


def _messages(errors):
    """The messages in a field's problems, however deeply nested (lists per item)."""
    if isinstance(errors, str):
        yield errors
    else:
        for value in errors.values() if isinstance(errors, dict) else errors:
            yield from _messages(value)


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
        raise click.BadParameter(f"{value!r}: {rule} Or a number of days from now (30d).",
                                 param_hint="'--expires-at'") from None


def parse_duration(value: str, option: str) -> timedelta:
    """``7d`` (days) or ``12h`` (hours) as a timedelta. Raises click.BadParameter."""
    match = re.fullmatch(r"(\d{1,5})([dh])", value.strip())
    if not match or int(match.group(1)) == 0:
        raise click.BadParameter(f"{value!r}: a number of days (7d) or hours (12h), above 0.",
                                 param_hint=f"'{option}'")
    unit = "days" if match.group(2) == "d" else "hours"
    return timedelta(**{unit: int(match.group(1))})


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)
