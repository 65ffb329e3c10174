"""gunicorn settings for tokenauth: ``gunicorn -c gunicorn.conf.py`` runs the same server as
``tokenauth serve``, whose settings live in the package (tokenauth/serve/gunicorn_config.py).
TOKENAUTH_BIND / _WORKERS / _THREADS / _ACCESS_LOG choose where and how many."""
import os

from tokenauth.serve.gunicorn_config import settings

globals().update(settings(os.environ))  # gunicorn reads a config file's global names
