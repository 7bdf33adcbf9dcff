"""Gunicorn's configuration for the back office, behind the nginx front server of deploy/nginx.conf.

How an operator uses it (from the repository root, with the virtual environment's gunicorn):

    GUNICORN_BIND=0.0.0.0:8000 WEB_CONCURRENCY=4 .venv/bin/gunicorn -c gunicorn.conf.py wsgi:app

and points nginx's upstream block at each such host:port. Gunicorn must not face the internet itself: nginx
reads every request whole (slow clients, 250 MB uploads) before handing it over in a fraction of a second,
so that a few worker threads serve everyone. The app itself reads its settings in config/ (BACKOFFICE_ENV,
DATABASE_URL ...); the variables below are the server's only:

    GUNICORN_BIND                 host:port to listen on                         (127.0.0.1:8000)
    WEB_CONCURRENCY               worker processes                               (CPUs, at most 8)
    GUNICORN_THREADS              threads per worker                             (4)
    GUNICORN_TIMEOUT              seconds before a silent worker is killed       (60)
    GUNICORN_GRACEFUL_TIMEOUT     seconds a stopping worker may finish in        (60)
    GUNICORN_KEEPALIVE            seconds an idle connection from nginx is kept  (75)
    GUNICORN_MAX_REQUESTS         requests before a worker is replaced           (2000; 0 never)
    GUNICORN_MAX_REQUESTS_JITTER  random extra requests, so workers differ       (200)
    FORWARDED_ALLOW_IPS           addresses of nginx, believed for X-Forwarded-Proto (127.0.0.1,::1)
    GUNICORN_ACCESS_LOG           access log file, "-" for stdout; none in JSON  (-)
    GUNICORN_ERROR_LOG            error log file, "-" for stderr                 (-)
    GUNICORN_LOG_LEVEL            debug, info, warning ...                       (info)
    GUNICORN_CONTROL_SOCKET       path of gunicornc's control socket             (none: disabled)
    PROMETHEUS_MULTIPROC_DIR      set when the app exports Prometheus metrics from several processes;
                                  emptied when gunicorn starts (one folder per gunicorn)
    LOG_FORMAT, BACKOFFICE_ENV    the app's (config/): with JSON logs, production's default, gunicorn
                                  writes no access log and its error log in the app's JSON lines

Any of them can also be overridden on the command line (`--workers 2`), which wins over this file.
"""

import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _text(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


bind = [
    _text("GUNICORN_BIND", "127.0.0.1:8000")
]  # loopback by default: never reachable past nginx by mistake

# Threads, not processes alone: nginx hands over whole requests, so a thread is busy only while the app works
# (a query, a file write), and threads waiting on the database or the disk let others run. The sync worker would
# also refuse nginx's kept-alive upstream connections (it closes each after one request).
worker_class = "gthread"
# One process a CPU for the Python work between waits; capped because each holds the app, its own database pool
# (SQLAlchemy's 5 + 10 per process, above the threads so none waits for a connection) and PDF libraries: beyond
# 8, add a host behind nginx rather than workers.
workers = _int("WEB_CONCURRENCY", min(os.cpu_count() or 1, 8))
threads = _int("GUNICORN_THREADS", 4)
# Above threads, so the kept-alive connections nginx holds (its `keepalive` per upstream) wait in the poller.
worker_connections = 1000

# The gthread worker's main loop beats for it while its threads work, so this does not bound a request (a long
# upload is not killed at 60 s, unlike the sync worker's 30 s default): it catches a worker wedged whole, for
# example a C extension holding the GIL.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM, a deploy or a recycle, requests in flight get this long to finish: well above the few seconds a
# 250 MB submission takes to be read from nginx, stored, hashed and committed (screening is queued, not waited
# for), so a deploy never cuts one off.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 60)
# Longer than nginx's upstream keepalive_timeout (60 s in deploy/nginx.conf), so nginx always drops an idle
# connection first: were gunicorn to close one just as nginx reuses it, nginx could not replay a POST on
# another server (it never replays a request already sent that is not idempotent) and would answer 502.
keepalive = _int("GUNICORN_KEEPALIVE", 75)

# Replace each worker, gracefully, after this many requests: bounds slow memory growth (PDF parsing, heap
# fragmentation). The jitter spreads the replacements so the workers never all restart at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Only nginx may tell gunicorn a request came over HTTPS (X-Forwarded-Proto); the app's own ProxyFix, set by
# TRUSTED_PROXY_COUNT, reads the client's address and host the same way.
forwarded_allow_ips = _text("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# The heartbeat file is touched every second; on a disk-backed /tmp (containers, overlayfs) that can stall a
# worker past `timeout`. Memory is always fast.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (a fixed, system path)

accesslog = _text("GUNICORN_ACCESS_LOG", "-")
errorlog = _text("GUNICORN_ERROR_LOG", "-")
loglevel = _text("GUNICORN_LOG_LEVEL", "info")
# As the app decides (config/: LOG_FORMAT, json by default in production).
_log_format = _text("LOG_FORMAT", "json" if _text("BACKOFFICE_ENV", "") == "production" else "text")
if _log_format == "json":
    # The app writes one JSON line per request, with the client's address as ProxyFix read it: gunicorn's access
    # line would say it again in another format, with X-Forwarded-For as the client sent it.
    accesslog = None
    # Gunicorn's own records (workers booting, timeouts, errors) in the app's JSON lines: the log store reads one
    # format. The handler writes where GUNICORN_ERROR_LOG says.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "backoffice.observability.logs.JsonFormatter"}},
        "handlers": {
            "error_log": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
            if errorlog == "-"
            else {"class": "logging.FileHandler", "formatter": "json", "filename": errorlog}
        },
        # The root logger is the app's (backoffice/observability/logs.py adds its handler in each worker).
        "root": {"handlers": []},
        "loggers": {
            "gunicorn.error": {"level": loglevel.upper(), "handlers": ["error_log"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
        },
    }
# The path only (%(U)s), never the request line or the referrer: query strings can carry a name, a file number
# or a search for a person. The request id is the response's (%({x-request-id}o)s): the one nginx passed, or the
# one the app made, so a log line here, nginx's and the app's own logs can be joined. The client is the
# address nginx saw (X-Forwarded-For), the peer being nginx itself.
access_log_format = '%({x-forwarded-for}i)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s %(p)s'

# Off unless asked for: its default path ($HOME/.gunicorn/gunicorn.ctl) is one per user, so two gunicorns of a
# host (tests, several instances behind nginx) would take it from each other.
_control_socket = _text("GUNICORN_CONTROL_SOCKET", "")
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True


def _empty_metrics_folder() -> None:
    """Before any worker forks (on_starting): a folder of Prometheus' multiprocess mode left by a gunicorn that
    ran before holds the files of processes long gone, whose counters would be added to this one's forever."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and Path(folder).is_dir():
        for path in Path(folder).glob("*.db"):
            path.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    """A worker ended (recycled, killed): Prometheus' multiprocess mode must stop counting its live gauges, or
    they would be summed forever with those of its successors."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_starting(server) -> None:
    """Before any worker starts: remove the temporary files (a half-received upload, a copy being read) that a
    server of this host left when it died, with the app's own settings as wsgi.py reads them."""
    _empty_metrics_folder()
    from backoffice.integrations.storage import remove_stale_temporary_files
    from config import config_from_environment

    settings = config_from_environment()
    removed = remove_stale_temporary_files(
        {"STORAGE_ROOT": settings.STORAGE_ROOT, "STORAGE_URL": settings.STORAGE_URL}
    )
    if removed:
        server.log.info("Removed %d stale temporary files of the document store", removed)
