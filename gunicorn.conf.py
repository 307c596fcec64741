"""gunicorn's settings for the web workers. gunicorn reads this file from its working directory (the
repository root; /app in the image). Options on the command line override it.

Measured with `make bench-load` (BENCHMARKS.md, "Load"): 32 signed-in customers on 2 cores.
- Threads (gthread) instead of sync workers. A page spends part of its time waiting for PostgreSQL,
  and a sync worker does nothing meanwhile. A sync worker also takes a new TCP connection per request,
  where threads keep the client's connection open (keep-alive).
  3 sync workers: 42 requests/s and 13.5 ms of worker CPU per request.
  2 workers x 4 threads: 160-210 requests/s and 7.4-8.7 ms on a quiet machine.
- One worker process per core. The Python code holds the GIL, so a second process per core adds
  switching and memory (each process keeps its own database connections), not throughput.
  4 x 2, 3 x 3 and sync 6-12 measured no better per CPU-second than 2 x 4; 4 x 4 and 2 x 8 did worse.
  A worker keeps each client it accepts, so clients that all connect in the same instant loaded one
  worker more than another (23 and 9 of 32): the worker class shares them evenly
  (voipxs/gunicorn_worker.py; child_exit below frees a dead worker's share).
Each thread keeps one database connection (CONN_MAX_AGE): workers x threads connections per host.
WEB_CONCURRENCY and GUNICORN_THREADS override the two numbers.
"""
from __future__ import annotations

import os

wsgi_app = "voipxs.wsgi"
worker_class = "voipxs.gunicorn_worker.BalancedThreadWorker"  # gthread, connections shared evenly
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = 5  # seconds an idle client connection stays open (behind a proxy: its upstream keep-alive)
# The access log (--access-logfile): gunicorn's default line, but the path without its query string and no
# Referer. A query can hold personal data (the support desk's search: an e-mail address or a phone number),
# and the Referer of the page opened next repeats it.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
logger_class = "voipxs.gunicorn_log.AccessLogger"  # the path without a password-reset link's token
# The workers' heartbeat files live in memory, not on the container's overlay file system: a write
# there can stall a worker long enough for it to be killed as unresponsive.
# Reviewed: gunicorn's own advice for containers; the files hold only a timestamp (their mode bits).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # nosec B108


def post_worker_init(worker) -> None:
    """Once the worker has loaded Django: the garbage collector settles (voipxs.gunicorn_worker.collector_settle)."""
    from voipxs.gunicorn_worker import collector_settle

    collector_settle()


def child_exit(server, worker) -> None:
    """In the arbiter: a worker that exited no longer holds a share of the connections."""
    from voipxs.gunicorn_worker import slot_free

    slot_free(worker.age)
