"""gunicorn settings for ``make serve`` (production): ``gunicorn -c gunicorn.conf.py wsgi:app``.

Workers, threads, bind address and timeout come from the app's configuration (SERVER_* in
liaison/config.py, instance/config.py or LIAISON_SERVER_* in the environment). The app refuses
to start in production without a SECRET_KEY; that is checked here first so the message is the
last thing printed rather than buried in a worker's traceback.
"""
import sys

from liaison.config import ConfigurationError, server_settings

try:
    _settings = server_settings()
except ConfigurationError as error:
    sys.stderr.write(f"\nliaison will not start: {error}\n\n")
    sys.exit(1)

bind = _settings["SERVER_BIND"]
workers = int(_settings["SERVER_WORKERS"])
threads = int(_settings["SERVER_THREADS"])
worker_class = "gthread"
timeout = int(_settings["SERVER_TIMEOUT"])
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s %(D)sµs "%(a)s"'
# Each worker builds its own app and database pool after the fork.
preload_app = False
forwarded_allow_ips = "127.0.0.1"


def post_worker_init(worker):
    """Move what the worker has built so far (modules, the app, its mappers, catalogs and caches:
    ~260,000 objects) out of the garbage collector's sight. Otherwise every full collection walks
    them all — a pause of 100–200 ms every few hundred requests, which every request then in
    flight in the worker waits out (the p99 of `make bench`). Frozen objects stay alive, as they
    would anyway; objects made later are collected as usual."""
    import gc

    gc.collect()
    gc.freeze()
