"""The two floors tokenauth is measured against, served by the same server settings.

``raw_app`` is the least any WSGI server can be asked to do for ``/verify``: a plain
callable answering 200 with the headers tokenauth answers for the benchmark's token, which
has the default expiry and so an ``X-Auth-Expires-At`` (SPEC 3): the same headers, the same
lengths, so the server and nginx handle the same answer. ``flask_app`` is the same answer
from a bare Flask view: the cost of Flask's request handling on top of the server.
"""
from flask import Flask, Response

IDENTITY = [
    ("X-Auth-User", "bench"),
    ("X-Auth-User-Id", "0" * 32),
    ("X-Auth-Token-Id", "1" * 32),
    ("X-Auth-Scopes", ""),
    ("X-Auth-Source", "internal"),
    ("X-Auth-Expires-At", "2027-02-27T08:45:35Z"),
]


def raw_app(environ, start_response):
    if environ.get("PATH_INFO") == "/verify":
        start_response("200 OK", IDENTITY + [("Content-Length", "0")])
    else:
        start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


flask_app = Flask(__name__)


@flask_app.get("/verify")
def verify():
    return Response(status=200, headers=IDENTITY)
