"""The WSGI entry point: ``tokenauth.serve.wsgi:app``."""
from .. import create_app

app = create_app()
