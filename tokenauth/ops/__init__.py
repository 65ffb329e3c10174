"""What operators need: health, readiness and metrics."""
