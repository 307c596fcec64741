"""A private PostgreSQL and Redis for the fault tests, and the app's processes running against them.

The machine's shared PostgreSQL (5432) and Redis (6379) serve other test runs and CI: the fault
tests never touch them. They start their own servers on free ports in a temporary directory
(`initdb` + `pg_ctl`, run as the `postgres` user when the tests run as root; `redis-server` without
persistence), and stop, restart or kill only those.

The app under test runs as it is deployed, in subprocesses: gunicorn (`voipxs.wsgi`), a Celery worker
(`tests/faults/worker.py`), management commands, and `tests/faults/world.py` for test data and for
beat's reapers. They read DATABASE_URL / REDIS_URL of the private servers and the settings module
`tests.faults.settings`. The tests drive them over HTTP and check the database with psycopg2.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path
from typing import Any, Callable, Iterator

import psycopg2
import requests

REPO = Path(__file__).resolve().parents[2]
SETTINGS = "tests.faults.settings"


class ServerMissing(RuntimeError):
    """initdb / pg_ctl / redis-server (or runuser, when running as root) is not installed."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - a server still starting; reported if it never answers
            result, last_error = None, exc
        if result:
            return result
        time.sleep(interval)
    detail = f" ({last_error!r})" if last_error else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def _pg_bindir() -> Path:
    candidates = [os.environ.get("VOIPXS_PG_BINDIR", "")]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(os.path.realpath(initdb)).parent))
    candidates += sorted(glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in filter(None, candidates):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise ServerMissing("PostgreSQL server binaries (initdb, pg_ctl) not found; install postgresql or set "
                        "VOIPXS_PG_BINDIR")


def servers_missing() -> str | None:
    """Why the fault tests cannot run here, or None."""
    try:
        _pg_bindir()
    except ServerMissing as exc:
        return str(exc)
    if os.geteuid() == 0 and not shutil.which("runuser"):
        return "running as root needs runuser to start PostgreSQL as the postgres user"
    if not shutil.which("redis-server"):
        return "redis-server not found; install redis-server"
    return None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port, its socket and files in `root`."""

    def __init__(self, root: Path) -> None:
        self.bindir = _pg_bindir()
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.log = root / "postgres.log"

    def _pg(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # initdb refuses root; the cluster belongs to the postgres user
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stdout}{done.stderr}")
        return done

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, user="postgres", group="postgres")
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
                 "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_connections=60")
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast`: what a restart by an operator or an orchestrator does (sessions are terminated,
        open transactions rolled back); `immediate`: a crash (recovery runs at the next start)."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def is_up(self) -> bool:
        try:
            self.connect("postgres").close()
        except psycopg2.OperationalError:
            return False
        return True

    def url(self, db: str, app: str = "") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}" + (f"?application_name={app}" if app else "")

    def connect(self, db: str, *, autocommit: bool = True):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=db, connect_timeout=5,
                                application_name="faults-test")
        conn.autocommit = autocommit
        return conn

    def execute(self, db: str, sql: str, params: Any = None) -> None:
        with contextlib.closing(self.connect(db)) as conn, conn.cursor() as cursor:
            cursor.execute(sql, params)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")


class PrivateRedis:
    """A redis-server without persistence on a free port: stopped, its queues are gone, as after a
    restart of a cache-only Redis."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - the server's own log, kept open by it
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(self.root)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_until(self.ping, timeout=20, what="the private Redis")

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)


@dataclass
class App:
    """The app's processes on one database of the private cluster. `workdir` holds their logs, the
    shared PRIVATE_FILES_DIR (`private/`) and the worker's TMPDIR (`tmp/`)."""

    pg: PrivatePostgres
    redis: PrivateRedis
    db: str
    workdir: Path
    redis_db: int = 0
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    base_url: str = ""

    def __post_init__(self) -> None:
        for name in ("private", "tmp", "logs"):
            (self.workdir / name).mkdir(parents=True, exist_ok=True)

    @property
    def private_dir(self) -> Path:
        return self.workdir / "private"

    @property
    def tmp_dir(self) -> Path:
        return self.workdir / "tmp"

    def env(self, role: str, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE=SETTINGS, DATABASE_URL=self.pg.url(self.db, app=role),
            REDIS_URL=self.redis.url(self.redis_db), VOIPXS_FAULTS_PRIVATE_DIR=str(self.private_dir),
            PYTHONPATH=str(REPO),
            TMPDIR=str(self.tmp_dir), LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def log(self, role: str) -> Path:
        return self.workdir / "logs" / f"{role}.log"

    # --- one-off processes -------------------------------------------------------------------------

    def run(self, args: list[str], *, role: str, later: float = 0, timeout: float = 120,
            **extra: str) -> subprocess.CompletedProcess:
        """A Python process of the app (`args` after the interpreter); `later` seconds: the process's
        clock (django.utils.timezone.now) runs that far ahead, as beat's next runs would."""
        env = self.env(role, VOIPXS_FAULTS_LATER=str(later), **extra)
        done = subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=timeout)
        with open(self.log(role), "a") as fh:
            fh.write(f"$ {' '.join(args)} (later={later}) -> {done.returncode}\n{done.stdout}\n{done.stderr}\n")
        return done

    def world(self, action: str, *, later: float = 0, **kwargs: Any) -> Any:
        """Run tests/faults/world.py's `action` in a fresh process and return its JSON result."""
        done = self.run(["-m", "tests.faults.world", action, json.dumps(kwargs)], role=f"world-{action}", later=later)
        lines = [line for line in done.stdout.splitlines() if line.startswith("WORLD ")]
        if done.returncode or not lines:
            raise AssertionError(f"world {action} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
        return json.loads(lines[-1][len("WORLD "):])

    def manage(self, *args: str, later: float = 0, timeout: float = 120) -> subprocess.CompletedProcess:
        """`manage.py ARGS` (through world.py, so that `later` can move its clock)."""
        return self.run(["-m", "tests.faults.world", "--manage", *args], role=f"manage-{args[0]}", later=later,
                        timeout=timeout)

    def manage_start(self, *args: str, role: str) -> subprocess.Popen:
        """`manage.py ARGS` in the background (a command a test interrupts)."""
        return self.start(role, [sys.executable, "-m", "tests.faults.world", "--manage", *args])

    # --- long-running processes --------------------------------------------------------------------

    def start(self, role: str, cmd: list[str], **extra: str) -> subprocess.Popen:
        log = open(self.log(role), "ab")  # noqa: SIM115 - handed to the child
        process = subprocess.Popen(cmd, cwd=REPO, env=self.env(role, **extra), stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # its own process group: killed as one
        log.close()
        self.processes[role] = process
        return process

    def start_web(self) -> str:
        """gunicorn with one sync worker (as docker-compose runs it, smaller): one process whose
        database connection outlives a request (CONN_MAX_AGE), as in production."""
        port = free_port()
        self.start("web", [sys.executable, "-m", "gunicorn", "voipxs.wsgi:application", "--bind", f"127.0.0.1:{port}",
                           "--workers", "1", "--timeout", "120", "--graceful-timeout", "5"])
        self.base_url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._web_answers(), timeout=60, what="gunicorn to answer /healthz")
        return self.base_url

    def _web_answers(self) -> bool:
        if self.processes["web"].poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log('web').read_text()[-3000:]}")
        return requests.get(f"{self.base_url}/healthz", timeout=5).status_code in (200, 503)

    def start_worker(self, *, name: str = "worker", batch_size: int | None = None) -> subprocess.Popen:
        """The app's only Celery worker (any other is stopped first, so that the test knows which one
        takes a task), as `make worker` runs it: prefork pool, one child, acks late; ready to consume."""
        for role in [r for r in self.processes if r.startswith("worker")]:
            self.stop(role)
        extra = {"VOIPXS_FAULTS_BATCH_SIZE": str(batch_size)} if batch_size else {}
        process = self.start(name, [sys.executable, "-m", "tests.faults.worker", "--loglevel=INFO", "--concurrency=1",
                                    "--without-gossip", "--without-mingle", "--without-heartbeat",
                                    f"--hostname={name}@faults"], **extra)
        log = self.log(name)

        def ready() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the worker exited:\n{log.read_text()[-3000:]}")
            return " ready." in log.read_text()

        wait_until(ready, timeout=60, what=f"Celery worker {name} to be ready")
        return process

    def kill(self, role: str) -> None:
        """SIGKILL the process and everything it started (the worker's pool children too): what the
        OOM killer or a node that goes away does. No handler of ours runs."""
        process = self.processes.pop(role)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def stop(self, role: str) -> None:
        process = self.processes.pop(role, None)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)

    def close(self) -> None:
        for role in list(self.processes):
            self.stop(role)

    # --- HTTP, as a browser or an API client -------------------------------------------------------

    def http(self, method: str, path: str, *, token: str = "", session: str = "", timeout: float = 30,
             **kwargs: Any) -> requests.Response:
        """One request to the web process: with an API `token` or a signed-in `session` cookie."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Token {token}"
        cookies = {"sessionid": session} if session else {}
        return requests.request(method, f"{self.base_url}{path}", headers=headers, cookies=cookies, timeout=timeout,
                                allow_redirects=False, **kwargs)

    # --- the database, seen from the test ----------------------------------------------------------

    def sql(self, query: str, params: Any = None) -> list[tuple]:
        with contextlib.closing(self.pg.connect(self.db)) as conn, conn.cursor() as cursor:
            cursor.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def value(self, query: str, params: Any = None) -> Any:
        rows = self.sql(query, params)
        return rows[0][0] if rows else None

    @contextlib.contextmanager
    def locked(self, statement: str) -> Iterator[Any]:
        """Hold a lock (`LOCK TABLE ...` or `SELECT ... FOR UPDATE`) in an open transaction of the
        test's own, so that the app blocks at a known point; released (rolled back) on leaving."""
        conn = self.pg.connect(self.db, autocommit=False)
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.rollback()
            with contextlib.suppress(Exception):
                conn.close()

    def waiting_on_lock(self, role: str) -> list[int]:
        """Backend pids of the app process `role` (its application_name) that wait for a lock."""
        return [pid for (pid,) in self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s "
            "AND wait_event_type = 'Lock'",
            [self.db, role])]

    def backends(self, role: str) -> list[int]:
        return [pid for (pid,) in self.sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s", [self.db, role])]
