"""What operators need: health, readiness and metrics."""
from __future__ import annotations

from . import health


def init_app(app, runtime):
    """Register /healthz, /readyz and /metrics; returns the blueprint."""
    bp = health.blueprint(runtime.metrics)
    app.register_blueprint(bp)
    return bp
