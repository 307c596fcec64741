"""Fixtures of the fault tests: a private PostgreSQL cluster and Redis for the whole run, a migrated
template database, and `make_app`, the app's processes on a fresh copy of it.

The fault tests run only when asked for (`pytest -m faults`, or VOIPXS_FAULTS=1): they start servers
and processes and take a couple of minutes. Where initdb, pg_ctl or redis-server is missing they skip
with the reason; with VOIPXS_REQUIRE_FAULTS=1 (CI) that is a failure instead.
"""
from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from .servers import App, PrivatePostgres, PrivateRedis, servers_missing

HERE = Path(__file__).parent
TEMPLATE_DB = "voipxs_faults_template"
NOT_ASKED = ("fault tests start their own PostgreSQL, Redis, gunicorn and Celery workers and take a few "
             "minutes; run them with `pytest -m faults` (or VOIPXS_FAULTS=1)")


def _asked_for(config: pytest.Config) -> bool:
    markexpr = config.getoption("markexpr") or ""
    return os.environ.get("VOIPXS_FAULTS") == "1" or bool(re.search(r"(?<!not )\bfaults\b", markexpr))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    asked = _asked_for(config)
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.faults)
            if not asked:
                item.add_marker(pytest.mark.skip(reason=NOT_ASKED))


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("VOIPXS_REQUIRE_FAULTS") == "1":
        pytest.fail(f"{reason} (VOIPXS_REQUIRE_FAULTS=1: the fault tests must run here)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def fault_root() -> Iterator[Path]:
    missing = servers_missing()
    if missing:
        _skip_or_fail(missing)
    root = Path(tempfile.mkdtemp(prefix="voipxs-faults-"))
    root.chmod(0o755)  # the postgres user reaches its cluster below it
    yield root
    if os.environ.get("VOIPXS_FAULTS_KEEP") == "1":
        print(f"\nfault test files kept in {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg(fault_root: Path) -> Iterator[PrivatePostgres]:
    """The private cluster (never the machine's PostgreSQL on 5432)."""
    (fault_root / "pg").mkdir()
    server = PrivatePostgres(fault_root / "pg")
    server.init()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server(fault_root: Path) -> Iterator[PrivateRedis]:
    """The private Redis (never the machine's Redis on 6379)."""
    server = PrivateRedis(fault_root)
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def template_db(pg: PrivatePostgres, redis_server: PrivateRedis, fault_root: Path) -> str:
    """A database migrated once; every app gets a copy (CREATE DATABASE ... TEMPLATE, a tenth of a second)."""
    pg.execute("postgres", f"CREATE DATABASE {TEMPLATE_DB}")
    app = App(pg, redis_server, TEMPLATE_DB, fault_root / "template")
    done = app.run(["manage.py", "migrate", "--noinput"], role="migrate", timeout=300)
    assert done.returncode == 0, f"migrate failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return TEMPLATE_DB


_app_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def app_factory(pg: PrivatePostgres, redis_server: PrivateRedis, template_db: str,
                fault_root: Path) -> Iterator[Callable[[str], App]]:
    """`app_factory(name)`: an App on a fresh database and its own Redis database number (queued tasks
    of one test's app never reach another's worker); its processes are stopped at the end of the run."""
    apps: list[App] = []

    def make(name: str) -> App:
        n = next(_app_numbers)
        db = f"voipxs_faults_{n}_{re.sub(r'[^a-z0-9_]', '_', name.lower())}"[:60]
        pg.execute("postgres", f"CREATE DATABASE {db} TEMPLATE {template_db}")
        app = App(pg, redis_server, db, fault_root / db, redis_db=n % 16)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def make_app(app_factory: Callable[[str], App], request: pytest.FixtureRequest) -> Iterator[Callable[[str], App]]:
    """Like app_factory, but the app's processes stop when the test ends."""
    made: list[App] = []
    request.node.fault_apps = made  # their logs go into the report of a failed test

    def make(name: str) -> App:
        made.append(app_factory(name))
        return made[-1]

    yield make
    for app in made:
        app.close()


@pytest.fixture(autouse=True)
def servers_up_again(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test stopped comes back for the next one."""
    yield
    if "pg" in request.fixturenames:
        server: PrivatePostgres = request.getfixturevalue("pg")
        if not server.is_up():
            server.start()
    if "redis_server" in request.fixturenames:
        redis: PrivateRedis = request.getfixturevalue("redis_server")
        if redis.process is None or redis.process.poll() is not None:
            redis.start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed fault test shows the end of each of its app's process logs."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    values = list(getattr(item, "funcargs", {}).values())
    apps = [v for v in values if isinstance(v, App)] + [getattr(v, "app", None) for v in values]
    apps += getattr(item, "fault_apps", [])
    for app in {id(a): a for a in apps if isinstance(a, App)}.values():
        for log in sorted((app.workdir / "logs").glob("*.log")):
            report.sections.append((f"{app.db}: {log.name}", log.read_text(errors="replace")[-3000:]))
