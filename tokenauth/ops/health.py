"""``/healthz`` (the process serves), ``/readyz`` (database answers, schema current), ``/metrics``."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import SQLAlchemyError

from ..database import schema_revisions
from ..extensions import db


def blueprint(metrics) -> Blueprint:
    """The operations endpoints; ``metrics`` is the runtime's :class:`Metrics`."""
    bp = Blueprint("ops", __name__)

    @bp.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @bp.get("/readyz")
    def readyz():
        try:
            with db.engine.connect() as connection:
                current, head = schema_revisions(connection)
        except SQLAlchemyError:
            current_app.logger.warning("readyz: database unreachable")
            return jsonify(status="unavailable", reason="database unreachable"), 503
        if current != head:
            return jsonify(status="unavailable", reason="database schema is not current",
                           current=sorted(current), expected=sorted(head)), 503
        return jsonify(status="ok")

    @bp.get("/metrics")
    def metrics_text():
        return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)

    return bp
