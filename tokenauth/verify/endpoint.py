"""``GET /verify`` (and HEAD), answered below Flask: the answer nginx's auth_request acts on.

nginx asks this for every API request, so it is a plain WSGI callable in front of the Flask
app: no request context, session, routing or response object. Everything else passes
through to Flask. The contract (SPEC 3), the trusted-proxy rule, the metrics and the log
redaction are the same as for every other endpoint.
"""
from __future__ import annotations

import logging
import time

from ..errors import DatabaseUnavailable, VerifyDenied
from .credentials import read_credentials
from .expiry import ExpiryWarning
from .throttle import COUNTED_REASONS
from .verifier import MICROCACHE_SECONDS

log = logging.getLogger("tokenauth.verify")
STATUS_LINES = {200: "200 OK", 401: "401 UNAUTHORIZED", 403: "403 FORBIDDEN",
                405: "405 METHOD NOT ALLOWED", 503: "503 SERVICE UNAVAILABLE"}
CHALLENGES = (("WWW-Authenticate", 'Basic realm="tokenauth"'),
              ("WWW-Authenticate", 'Bearer realm="tokenauth"'))
NO_BODY = (("Content-Length", "0"),)
# Lets nginx's opt-in micro-cache (deploy/nginx/tokenauth-microcache.conf) reuse an allow.
# Sent only when that config asks with X-Tokenauth-Microcache: a header costs every /verify
# (gunicorn checks each one), and without the cache nobody reads this one.
MICROCACHE_MARK = ("X-Accel-Expires", str(MICROCACHE_SECONDS))


class VerifyEndpoint:
    def __init__(self, app, verifier, throttle, proxies, metrics, allow_password: bool,
                 expiry=None, flask_app=None):
        self.app = app  # the Flask app's WSGI stack, for every other path
        self.flask_app = flask_app  # whose stack this fronts (the server hooks find it here)
        self.verifier = verifier
        self.throttle = throttle
        self.proxies = proxies
        self.metrics = metrics
        self.allow_password = allow_password
        self.expiry = expiry or ExpiryWarning(7)  # the X-Auth-Expiry-Warning of a 200

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/verify":
            return self.app(environ, start_response)
        started = time.perf_counter()
        status, headers, outcome = self.answer(environ)
        self.metrics.verify_answered(outcome, time.perf_counter() - started)
        start_response(STATUS_LINES[status], headers)
        return [b""]

    def answer(self, environ) -> tuple[int, list, str]:
        """``(status, headers, outcome)``: outcome is ``ok`` or the X-Auth-Error reason."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return 405, [("Allow", "GET, HEAD"), *NO_BODY], "method_not_allowed"
        client_ip = self.proxies.client_address(environ)
        try:
            if self.throttle.anyone_locked():  # before the header is even read
                self.throttle.refuse_if_locked(client_ip)
            credentials = read_credentials(environ.get("HTTP_AUTHORIZATION"), self.allow_password)
            identity = self.verifier.verify(credentials, client_ip, (
                environ.get("HTTP_X_ORIGINAL_METHOD"), environ.get("HTTP_X_ORIGINAL_URI")))
        except VerifyDenied as denial:
            if denial.reason in COUNTED_REASONS:
                self.throttle.failed(client_ip)
            log.info("verify denied: %s client=%s", denial.reason, client_ip)
            return denial.status, denial_headers(denial), denial.reason
        except DatabaseUnavailable as error:
            log.error("verify: database unavailable: %s", error)
            return 503, [("X-Auth-Error", "unavailable"), *NO_BODY], "unavailable"
        headers = [*identity.headers, *self.expiry.headers(identity.expires_at), *NO_BODY]
        if identity.cacheable and environ.get("HTTP_X_TOKENAUTH_MICROCACHE"):
            headers.append(MICROCACHE_MARK)  # asked for by nginx's micro-cache config only
        return 200, headers, "ok"


def denial_headers(denial: VerifyDenied) -> list:
    headers = [("X-Auth-Error", denial.reason), *NO_BODY]
    if denial.status == 401:
        headers += CHALLENGES
    if denial.retry_after is not None:
        headers.append(("Retry-After", str(denial.retry_after)))
    return headers
