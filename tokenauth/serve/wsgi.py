"""The WSGI entry point: ``tokenauth.serve.wsgi:application``, what the servers run.

``app`` is the Flask app (the CLI, tests, ``flask``); ``application`` is its WSGI stack with
/verify answered at the front. A server may run either: ``Flask.__call__`` only forwards to
the stack, and that one call cost each /verify about 1% of its throughput through nginx.
"""
from .. import create_app

app = create_app()
application = app.wsgi_app
