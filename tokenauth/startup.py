"""What a process checks before it serves or runs a command, and how it says what is wrong:
one line per problem on standard error, exit status 2, no traceback."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from .database import connect_args, schema_revisions
from .models import User
from .settings import without_password

EXIT_STATUS = 2


class StartupError(Exception):
    """tokenauth cannot start or run the command; ``problems`` has one line for each."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def report(problems, stream=None) -> None:
    """Print each problem as one ``Error:`` line on standard error."""
    for problem in problems:
        print(f"Error: {problem}", file=stream or sys.stderr, flush=True)


def cli_command() -> str:
    """How to call this installation's ``tokenauth`` from the current folder: ``tokenauth``
    when that is the one on PATH, else its path (``.venv/bin/tokenauth``)."""
    script = Path(sys.executable).parent / "tokenauth"
    on_path = shutil.which("tokenauth")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "tokenauth"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def database_error(url: str, error: Exception) -> str:
    """One line for a database that cannot be used (the driver's first line says why)."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    reason = without_password(lines[0]) if lines else type(error).__name__
    advice = ("check that its folder exists and is writable" if url.startswith("sqlite")
              else "check that PostgreSQL runs there and that the URL is right")
    return (f"TOKENAUTH_DATABASE_URL={without_password(url)!r}: the database cannot be used "
            f"({reason}); {advice}")


def schema_problems(connection, url: str) -> list[str]:
    """A line when the database's schema is not the one this code expects, else none."""
    current, expected = schema_revisions(connection)
    if current == expected:
        return []
    upgrade = f"run `{cli_command()} db upgrade`"
    if not current:
        return [f"the database {without_password(url)!r} has no tokenauth tables yet: {upgrade}"]
    return [f"the database {without_password(url)!r} has schema revision "
            f"{', '.join(sorted(current))}, this tokenauth expects {', '.join(sorted(expected))}: "
            f"{upgrade} (or install the tokenauth that made it)"]


def inspect_database(url: str, timeout: float) -> tuple[list[str], int | None]:
    """Connect once to ``url``: (problems, how many users it has, or None when unknown).

    Uses a connection of its own that is closed at once, so a server's master process can
    ask before it forks its workers.
    """
    engine = create_engine(url, poolclass=NullPool,
                           connect_args=connect_args(url, timeout))
    try:
        with engine.connect() as connection:
            problems = schema_problems(connection, url)
            if problems:
                return problems, None
            return [], connection.scalar(select(func.count()).select_from(User.__table__))
    except SQLAlchemyError as error:
        return [database_error(url, error)], None
    finally:
        engine.dispose()
