"""WSGI entry point: ``gunicorn wsgi:app``. The packaged one is ``tokenauth.serve.wsgi:app``."""
from tokenauth.serve.wsgi import app  # noqa: F401
