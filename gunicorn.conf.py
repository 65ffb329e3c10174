"""gunicorn settings for tokenauth: ``gunicorn -c gunicorn.conf.py``.

gthread workers keep nginx's upstream connections alive (sync workers close after every
request). Every value can be overridden with TOKENAUTH_BIND / _WORKERS / _THREADS.
"""
import os
import shutil
import tempfile

wsgi_app = "wsgi:app"
bind = os.environ.get("TOKENAUTH_BIND", "127.0.0.1:8080")
workers = int(os.environ.get("TOKENAUTH_WORKERS", "2"))
threads = int(os.environ.get("TOKENAUTH_THREADS", "4"))
worker_class = "gthread"
keepalive = 75  # longer than nginx's upstream keepalive_timeout (60 s), so nginx closes first
graceful_timeout = 10
timeout = 30
accesslog = os.environ.get("TOKENAUTH_ACCESS_LOG", "-")
# gunicorn's default format without %(u)s, which writes the part of a Basic credential
# before its first colon: a username, or the whole secret when there is no colon. "-"
# keeps the field, so the lines still parse as the combined log format.
access_log_format = '%(h)s %(l)s - %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
errorlog = "-"

# Metrics are summed across workers from files in this folder (prometheus_client
# multiprocess mode); it must be set before any worker imports the app.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tokenauth-metrics-")


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)  # values of an earlier run do not count
    os.makedirs(folder, exist_ok=True)
    # Failure counts shared by this server's workers: a fresh folder before they fork.
    from tokenauth.security.shared_memory import create_counter_folder
    create_counter_folder()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Graceful stop: write the coalesced last-access times before the worker goes."""
    app = getattr(worker, "wsgi", None)
    if app is None or not hasattr(app, "extensions"):
        return
    try:
        runtime = app.extensions["tokenauth"]
        written = runtime.flush_last_access()
        runtime.close()
        server.log.info("flushed %d pending last-access writes", written)
    except Exception as error:  # the database may be gone; never block the shutdown
        server.log.warning("could not flush last-access writes: %s", error.__class__.__name__)
