"""What every benchmark does before and after its measurement, in one place.

Each benchmark runs against a database of its own next to the application's (`<name>_bench_<what>`),
dropped and created anew, so that a run never touches real data and two benchmarks never share
tables. The five benchmarks used to carry their own copy of that set-up (and of the peak-RSS
reading); the copies had started to drift apart (one connected to the application's database to
create the bench one, one read DATABASE_URL before .env), so they live here now.

Nothing here imports Django at module level: `environment_load` must run before `django.setup()`.
"""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
MAINTENANCE_DATABASE = "postgres"  # where CREATE/DROP DATABASE run: the bench database may not exist yet
NEEDS_POSTGRES = "bench.{bench} needs PostgreSQL: set DATABASE_URL=postgres://..."


def environment_load(*, key_file: Path | None = None, keep_keys: bool = False) -> None:
    """Make the project importable and read `.env` as `manage.py` would (without overriding the
    environment). On a fresh clone without `.env` there are no keys: generate throwaway ones, good
    for the bench database only. With `key_file` they are kept there (mode 0600) and, with
    `keep_keys`, reused, so that a later run can still decrypt what an earlier one encrypted."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voipxs.settings")
    import environ

    environ.Env.read_env(ROOT / ".env", overwrite=False)
    if os.environ.get("SECRET_KEY"):
        return
    if key_file is not None and key_file.exists() and keep_keys:
        text = key_file.read_text()
    else:
        text = subprocess.run([sys.executable, "-m", "voipxs.privacy.keys"], capture_output=True, text=True, check=True,
                              cwd=ROOT).stdout
        if key_file is not None:
            key_file.parent.mkdir(exist_ok=True)
            key_file.write_text(text)
            key_file.chmod(0o600)
    for line in text.splitlines():
        name, _, value = line.partition("=")
        if name:
            os.environ.setdefault(name, value)


def bench_database(*, bench: str, suffix: str) -> tuple[str, str, str]:
    """(DATABASE_URL, the bench database's URL, its name `<DATABASE_URL's name><suffix>`).
    Exits with a message naming `bench.<bench>` unless DATABASE_URL points at PostgreSQL: the
    benchmarks measure partitions, COPY and PostgreSQL's planner, which SQLite has not."""
    url = os.environ.get("DATABASE_URL", "")
    parsed = urlparse(url)
    if parsed.scheme not in POSTGRES_SCHEMES:
        sys.exit(NEEDS_POSTGRES.format(bench=bench))
    bench_name = f"{parsed.path.lstrip('/') or 'postgres'}{suffix}"
    return url, urlunparse(parsed._replace(path="/" + bench_name)), bench_name


def database_recreate(*, url: str, bench_name: str, tablespace: str | None = None) -> None:
    """DROP (closing whatever is still connected) and CREATE the bench database, from the maintenance
    database of the server that `url` points at. With `tablespace` (a directory on the database
    server, owned by its OS user), every table of the bench database lives there: the bench can then
    compare disks (say, one mounted with online discard and one without) on the same server."""
    import psycopg2

    parsed = urlparse(url)
    conn = psycopg2.connect(host=parsed.hostname or "localhost", port=parsed.port or 5432,
                            user=parsed.username or None, password=parsed.password or None,
                            dbname=MAINTENANCE_DATABASE)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        space = ""
        if tablespace:
            # One tablespace per directory (PostgreSQL allows no more): reuse whichever is there.
            cursor.execute("SELECT spcname FROM pg_tablespace WHERE pg_tablespace_location(oid) = %s", [tablespace])
            found = cursor.fetchone()
            space_name = found[0] if found else f"{bench_name}_space"
            if not found:
                cursor.execute(f'CREATE TABLESPACE "{space_name}" LOCATION %s', [tablespace])
            space = f' TABLESPACE "{space_name}"'
        cursor.execute(f'CREATE DATABASE "{bench_name}"{space}')
    conn.close()


def database_use(*, bench_url: str) -> None:
    """Point Django (which reads DATABASE_URL in settings) at the bench database; before
    `django.setup()`, or before the connections are reopened."""
    os.environ["DATABASE_URL"] = bench_url


def database_migrate() -> None:
    """The application's own migrations, so that the bench measures the real schema (partitions,
    indexes, default policies and groups)."""
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def peak_rss_mb() -> float:
    """The process's peak resident set so far, in MB (Linux reports ru_maxrss in kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """The process's resident set now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
