"""WSGI entry point: ``gunicorn wsgi:application`` (or ``wsgi:app``, the Flask app). The
packaged one is ``tokenauth.serve.wsgi:application``."""
from tokenauth.serve.wsgi import app, application  # noqa: F401
