"""gunicorn.conf.py exactly, with the access log off (``accesslog = None``): the server
study's "access log off" rows. TOKENAUTH_ACCESS_LOG=/dev/null would still format every
line; this measures what not logging at all saves."""
from pathlib import Path

_SHIPPED = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
exec(compile(_SHIPPED.read_text(), str(_SHIPPED), "exec"))  # noqa: S102 - the project's own file

accesslog = None
