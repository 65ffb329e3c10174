"""Logging that never carries a raw token, a password or an Authorization header."""
from __future__ import annotations

import logging
import re

REDACTIONS = (
    (re.compile(r"\b[a-z0-9]+_[0-9A-Za-z]{46,}"), "[token redacted]"),
    (re.compile(r"(?i)(authorization\W+)(basic|bearer)?\s*[^\s'\",}]+"), r"\1[redacted]"),
    (re.compile(r"(?i)(password\W+)[^\s'\",}]+"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Tracebacks quote exception messages, which may quote a secret.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def init_app(app, settings) -> None:
    app.logger.setLevel(settings.log_level)
    verify_log = logging.getLogger("tokenauth.verify")  # answered below Flask
    verify_log.setLevel(settings.log_level)
    secret_filter = RedactingFilter()
    for logger in (app.logger, verify_log, logging.getLogger("werkzeug"),
                   logging.getLogger("gunicorn.error"), logging.getLogger("gunicorn.access"),
                   logging.getLogger("_granian"), logging.getLogger("granian.access")):
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(secret_filter)
