"""The /verify hot path: where the nginx allow/deny answer is decided."""
