"""The access log (gunicorn's or granian's) without a line per allowed ``/verify``.

nginx calls /verify before every API request and logs each of those requests itself, so a
second line per allow in tokenauth's log repeats nginx's and, measured by ``make bench
STUDY=servers``, cost about a third of /verify's throughput. Refusals and errors of /verify
are still written here (and by the ``tokenauth.verify`` logger), as is every other request.
``TOKENAUTH_ACCESS_LOG_VERIFY=true`` writes the allows too.
"""
from __future__ import annotations

import logging

from gunicorn.glogging import Logger


class AccessLogger(Logger):
    log_verify_allows = False  # set from TOKENAUTH_ACCESS_LOG_VERIFY by the gunicorn settings

    def access(self, resp, req, environ, request_time):
        if (not self.log_verify_allows and environ.get("PATH_INFO") == "/verify"
                and (resp.status_code or 500) < 400):
            return
        super().access(resp, req, environ, request_time)


class AccessLoggerWithVerify(AccessLogger):
    log_verify_allows = True


class WithoutVerifyAllows(logging.Filter):
    """The same rule for granian, whose access logger (``granian.access``) logs each request
    with a dict of its fields as the record's arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = record.args if isinstance(record.args, dict) else {}
        return not (fields.get("path") == "/verify" and fields.get("status", 500) < 400)
