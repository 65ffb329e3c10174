"""nginx's access log never carries a part of a Basic credential (issue 7, secrets).

nginx's default ``combined`` format logs ``$remote_user``: the part of a Basic credential
before the first colon, which is a username someone may have typed a password into, or the
whole secret when a client sends one without a colon. The shipped configuration logs with
its own ``tokenauth`` format, which has no ``$remote_user`` and nothing else read from
``Authorization``.
"""
from __future__ import annotations

import base64
import time

import pytest

from ..servers import ROOT
from .nginx_conf import parse
from .test_nginx_config import rendered_template
from .stack import call

pytestmark = pytest.mark.e2e

FILES = {"tokenauth.conf": lambda: (ROOT / "deploy" / "nginx" / "tokenauth.conf").read_text(),
         "tokenauth-microcache.conf":
             lambda: (ROOT / "deploy" / "nginx" / "tokenauth-microcache.conf").read_text(),
         "nginx.conf.template": rendered_template}
FORBIDDEN_VARIABLES = ("$remote_user", "$http_authorization")


def _basic_raw(text: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


def test_nginx_logs_no_part_of_a_basic_credential(make_stack, database_url, make_user,
                                                   make_token, tmp_path):
    issued = make_token(make_user("Logged-User-Name-7"))
    stack = make_stack(database_url)
    colonless = "colonlessNginxSecret4321"
    answers = [
        call(stack.front, "GET", "/api/x", headers=_basic_raw(colonless)),
        call(stack.front, "GET", "/api/x", headers=_basic_raw(f"Logged-User-Name-7:{issued.raw}")),
        call(stack.front, "GET", "/api/x", headers=_basic_raw("Typed-Password-66:wrong")),
    ]
    assert [answer.status for answer in answers] == [401, 200, 401]
    log_file = next(tmp_path.glob("stack*/nginx/access.log"))
    # nginx writes a request's line after it has sent the answer: wait for the three lines.
    deadline = time.monotonic() + 10
    while log_file.read_text().count("GET /api/x") < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    access_log = log_file.read_text()
    assert access_log.count("GET /api/x") == 3, access_log  # the requests were logged...
    for secret in (colonless, "Logged-User-Name-7", issued.raw, "Typed-Password-66",
                   base64.b64encode(colonless.encode()).decode()):
        assert secret not in access_log  # ...without any part of their credentials


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_shipped_config_logs_with_a_format_without_credentials(name):
    """Every access_log of the API server names the ``tokenauth`` format (a bare
    access_log would use ``combined``), and that format reads nothing from Authorization."""
    root = parse(FILES[name]())
    http = root.one("http") if root.find("http") else root
    formats = {d.args[0]: " ".join(d.args[1:]) for d in http.find("log_format")}
    assert "tokenauth" in formats
    assert not any(variable in formats["tokenauth"] for variable in FORBIDDEN_VARIABLES)
    server = http.one("server")
    logs = server.find("access_log")
    assert logs, "the server block must choose its access log and format"
    for directive in logs:
        assert directive.args == ["off"] or directive.args[1:2] == ["tokenauth"], directive
