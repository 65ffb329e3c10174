"""Work the running service does in the background, off the /verify path: delivering the
queued webhook alerts (``delivery``), and the periodic sweeps (``sweeps``: expiry warnings,
the inactive-token policy, event retention). ``worker.Housekeeper`` runs both in one daemon
thread per gunicorn worker; every step is safe when several workers and replicas run it."""
