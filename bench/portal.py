"""`python -m bench.portal [--rows N] [--accounts N] [--requests N]`: the call-history page at scale.

1. Creates (anew) the database `<DATABASE_URL's name>_bench_portal` and migrates it.
2. Makes N accounts (customers) and fills 12 months of CDRs (default 10,000,000 over 10,000 accounts)
   with server-side `INSERT ... SELECT generate_series`, one month at a time into a plain table that is
   then ATTACHed as that month's partition (indexes are built once, in bulk, instead of row by row).
   Number fields are real AES-GCM tokens under each month's data key, drawn from a small set of
   pre-encrypted tokens per month: the page pays the real decryption cost, generating them does not.
   The national masking list holds `--masked` numbers (20,000), one in 16 of the numbers on the pages
   among them, so the page pays the list's real cost and masks some numbers.
3. Times, for random accounts, the call-history page `/calls/` through Django's WSGI handler as gunicorn
   calls it, the garbage collector settled as in a gunicorn worker (gunicorn.conf.py), against the real view and middleware stack (request signals, connection health check,
   session, 2FA check, audit, purpose check, query, decryption, template rendering): server time per
   request. Half the requests are a first page, half follow the
   "older →" cursor of a first page.
4. Times the bare indexed SQL query of the same pages (same columns, same LIMIT) in the same run.
5. Prints both p50/p95, where a page's time goes (bench/portal_stages.py: each SQL statement, the
   selector, the template, the rest of the request; the instruments add a few µs a page) and ends with `BENCH portal p95_ms=X sql_p95_ms=X`.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timezone

from bench._common import ROOT, bench_database, database_migrate, database_recreate, database_use, environment_load

MONTHS = 12
FIRST_MONTH = date(2025, 4, 1)
TOKENS_PER_MONTH = 256
NAMES_PER_MONTH = 32
MASKED_EVERY = 16  # one in 16 of the numbers on the pages is on the national masking list


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed_accounts(accounts: int) -> list[int]:
    """Customers (role group 'customer'), made in bulk: the page needs a user, not a full signup."""
    from django.contrib.auth.models import Group
    from django.db import connection

    from accounts.models import User

    group = Group.objects.get(name="customer")
    User.objects.bulk_create([User(username=f"bench{i:06d}", password="!") for i in range(accounts)], batch_size=5000)
    ids = list(User.objects.filter(username__startswith="bench").order_by("id").values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {User.groups.through._meta.db_table} (user_id, group_id) "
            "SELECT id, %s FROM accounts_user WHERE username LIKE 'bench%%'", [group.pk])
    return ids


def month_numbers(rnd: random.Random) -> tuple[list[str], list[str]]:
    """A month's numbers: its callers (Amsterdam) and whom they call (mobiles), as fill_month draws them."""
    src = [f"+3120{5_000_000 + rnd.randrange(4_000_000)}" for _ in range(TOKENS_PER_MONTH)]
    dst = [f"+316{10_000_000 + rnd.randrange(80_000_000)}" for _ in range(TOKENS_PER_MONTH)]
    return src, dst


def seed_masking_list(entries: int) -> int:
    """The national masking list at `entries` numbers: one in MASKED_EVERY of the numbers the pages show
    (so the page masks some), the rest numbers no page shows, listed since long before the calls. Numbers
    already listed stay; returns how many the list holds."""
    from traffic.models import MaskedNumber

    have = MaskedNumber.objects.count()
    if have >= entries:
        return have
    numbers: list[str] = []
    for i in range(MONTHS):
        src, dst = month_numbers(random.Random(i))
        numbers += src[::MASKED_EVERY] + dst[::MASKED_EVERY]
    numbers = list(dict.fromkeys(numbers))[:entries]
    numbers += [f"+31800{1_000_000 + i:07d}" for i in range(entries - len(numbers))]  # freephone lines
    listed = set(MaskedNumber.objects.values_list("number_index", flat=True))
    field = MaskedNumber._meta.get_field("number_index")
    since = datetime(2020, 1, 1, tzinfo=timezone.utc)
    MaskedNumber.objects.bulk_create([MaskedNumber(number=n, valid_from=since) for n in numbers
                                      if field.index_of(n) not in listed], batch_size=5000)
    return MaskedNumber.objects.count()


def fill_month(*, month: date, rows: int, account_ids: list[int], source_id: int, seed: int) -> None:
    """One month of CDRs into a plain table, then ATTACHed as the month's partition."""
    from django.db import connection

    from traffic.keys import month_cipher
    from traffic.partitions import add_months, partition_name
    from voipxs.privacy.crypto import blind_index

    rnd = random.Random(seed)
    cipher = month_cipher(month, create=True)
    src, dst = month_numbers(rnd)
    src_enc = [cipher.encrypt(n) for n in src]
    dst_enc = [cipher.encrypt(n) for n in dst]
    src_idx = [blind_index(n, domain="phone") for n in src]
    dst_idx = [blind_index(n, domain="phone") for n in dst]
    names = [cipher.encrypt(f"Caller {i} <&> \"quoted\"") for i in range(NAMES_PER_MONTH)]
    lower = datetime.combine(month, datetime.min.time(), tzinfo=timezone.utc)
    upper = datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=timezone.utc)
    seconds = int((upper - lower).total_seconds()) - 1
    first_id, n_accounts = account_ids[0], len(account_ids)
    table = partition_name("traffic_cdr", month)
    staging = f"{table}_staging"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {staging} (LIKE traffic_cdr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
        cursor.execute(
            f"""
            INSERT INTO {staging} (started_at, source_id, unique_id, fingerprint, account_id, contractor_id,
                direction, disposition, answered_at, duration, billsec, src_enc, dst_enc, src_index, dst_index,
                caller_name_enc, account_code, flags, rating, zone, price, invoice_id, restricted_at, import_batch_id)
            SELECT t.ts, %(source)s, 'b{month:%Y%m}-' || g, md5(g::text)::varchar(32), %(first_id)s + (g %% %(n)s), NULL,
                CASE WHEN g %% 4 = 0 THEN 'in' ELSE 'out' END,
                CASE WHEN g %% 10 < 8 THEN 'answered' ELSE 'no_answer' END,
                CASE WHEN g %% 10 < 8 THEN t.ts ELSE NULL END,
                (g %% 600) + 5, CASE WHEN g %% 10 < 8 THEN g %% 600 ELSE 0 END,
                (%(src)s::bytea[])[1 + g %% {TOKENS_PER_MONTH}], (%(dst)s::bytea[])[1 + (g / 7) %% {TOKENS_PER_MONTH}],
                (%(src_idx)s::varchar[])[1 + g %% {TOKENS_PER_MONTH}], (%(dst_idx)s::varchar[])[1 + (g / 7) %% {TOKENS_PER_MONTH}],
                CASE WHEN g %% 4 = 0 THEN (%(names)s::bytea[])[1 + g %% {NAMES_PER_MONTH}] ELSE NULL END,
                '', '', CASE WHEN g %% 10 < 8 THEN 'rated' ELSE 'free' END,
                CASE WHEN g %% 10 < 8 THEN 'NL mobile' ELSE '' END,
                CASE WHEN g %% 10 < 8 THEN ((g %% 600) * 0.0015)::numeric(12,5) ELSE NULL END,
                NULL, NULL, NULL
            FROM generate_series(1, %(rows)s) AS g,
                 LATERAL (SELECT %(lower)s::timestamptz + ((hashint4(g + %(seed)s)::bigint & 2147483647) %% %(secs)s)
                                 * interval '1 second' AS ts) AS t
            """,
            {"source": source_id, "first_id": first_id, "n": n_accounts, "src": src_enc, "dst": dst_enc,
             "src_idx": src_idx, "dst_idx": dst_idx, "names": names, "rows": rows, "lower": lower,
             "secs": seconds, "seed": seed},
        )
        cursor.execute(f"ALTER TABLE {staging} RENAME TO {table}")
        cursor.execute(
            f"ALTER TABLE traffic_cdr ATTACH PARTITION {table} "
            f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')")
        cursor.execute(f"ANALYZE {table}")


SQL_PAGE = (
    "SELECT id, started_at, answered_at, direction, disposition, duration, billsec, src_enc, dst_enc, "
    "caller_name_enc, zone, price, account_id, invoice_id FROM traffic_cdr "
    "WHERE account_id = %s AND restricted_at IS NULL {after} ORDER BY started_at DESC, id DESC LIMIT 51"
)


def _wsgi_server():
    """`serve(path, cookies)` -> (status, body): one request through Django's WSGI handler as gunicorn
    makes it, from the environ to the closed response: the request signals and the connection's health
    check (CONN_HEALTH_CHECKS), which the test Client leaves out, included."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import RequestFactory

    app, environ = WSGIHandler(), RequestFactory()._base_environ

    def serve(path: str, cookies: str) -> tuple[int, bytes]:
        path_info, _, query = path.partition("?")
        status: list[str] = []
        request = environ(PATH_INFO=path_info, QUERY_STRING=query, REQUEST_METHOD="GET",
                          HTTP_COOKIE=cookies)
        body = app(request, lambda line, headers, exc_info=None: status.append(line))
        try:
            return int(status[0].split()[0]), b"".join(body)
        finally:
            body.close()
    return serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--reuse", action="store_true", help="skip the fill; time an existing bench database")
    parser.add_argument("--masked", type=int, default=20_000,
                        help="numbers on the national masking list, some of them on the pages (0: as many as listed)")
    args = parser.parse_args(argv)

    # Without .env, throwaway keys kept in var/ so that --reuse can still read what an earlier run encrypted.
    environment_load(key_file=ROOT / "var" / "bench-portal.keys", keep_keys=args.reuse)
    url, bench_url, bench_name = bench_database(bench="portal", suffix="_bench_portal")
    if not args.reuse:
        database_recreate(url=url, bench_name=bench_name)
    database_use(bench_url=bench_url)
    os.environ["CONN_MAX_AGE"] = "600"
    # Measure the production configuration: no DEBUG (which would record every query).
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    os.environ["ALLOWED_HOSTS"] = "testserver"

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
    from django.test import Client
    from django.utils.crypto import get_random_string

    from accounts.models import User
    from traffic.models import Source
    from traffic.partitions import add_months

    if not args.reuse:
        database_migrate()
        print(f"seeding {args.accounts:,} accounts ...", flush=True)
        account_ids = seed_accounts(args.accounts)
        source = Source.objects.create(name="bench-pbx", format="asterisk-csv", carrier="bench trunk")
        per_month = args.rows // MONTHS
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
        for i in range(MONTHS):
            month = add_months(FIRST_MONTH, i)
            t = time.perf_counter()
            fill_month(month=month, rows=per_month, account_ids=account_ids, source_id=source.pk, seed=i)
            print(f"  {month:%Y-%m}: {per_month:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
        with connection.cursor() as cursor:
            # The steady state of a live table: autovacuum has set hint bits and the visibility map.
            # Without this the first read of every page writes it back, which no real page view pays.
            cursor.execute("VACUUM (ANALYZE) traffic_cdr")
            cursor.execute("SELECT setval('traffic_cdr_id_seq', (SELECT max(id) FROM traffic_cdr))")
        print(f"filled {per_month * MONTHS:,} CDRs in {time.perf_counter() - started:.0f} s", flush=True)
    else:
        database_migrate()  # the models may have moved on since the fill
        account_ids = list(User.objects.filter(username__startswith="bench").order_by("id").values_list("id", flat=True))

    if args.masked:
        print(f"masking list: {seed_masking_list(args.masked):,} numbers", flush=True)

    # Production serves static files from a hashed manifest: build it in a scratch directory.
    import tempfile

    from django.test.utils import override_settings

    static_root = tempfile.mkdtemp(prefix="bench-portal-static-")
    override_settings(STATIC_ROOT=static_root).enable()
    call_command("collectstatic", interactive=False, verbosity=0)

    rnd = random.Random(42)
    sample = [rnd.choice(account_ids) for _ in range(args.requests)]
    # The bare SQL reads other accounts than the page, so that neither runs on pages the other
    # has just brought into the cache.
    sql_sample = [rnd.choice(account_ids) for _ in range(args.requests)]
    users = {u.pk: u for u in User.objects.filter(pk__in=set(sample))}

    def csrf_secret() -> str:
        return get_random_string(CSRF_SECRET_LENGTH, allowed_chars=CSRF_ALLOWED_CHARS)

    client = Client()
    serve = _wsgi_server()
    # As a gunicorn worker does once it has loaded Django (gunicorn.conf.py post_worker_init).
    from voipxs.gunicorn_worker import collector_settle

    collector_settle()
    page_ms: list[float] = []
    sql_ms: list[float] = []
    rows_seen = masked_seen = 0
    import re

    cursor_re = re.compile(r'after=([A-Za-z0-9_\-]+)')
    from bench.portal_stages import Stages

    stages = Stages()
    print(f"timing {args.requests} call-history pages and their bare SQL ...", flush=True)
    for i, account_id in enumerate(sample):
        client.force_login(users[account_id])
        # A signed-in browser also holds the CSRF cookie (the sign-in form set it): without it, every page would
        # make and set a new CSRF secret, which no page a customer opens does.
        cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf_secret()}"
        path = "/calls/"
        if i % 2 == 1:
            first = serve("/calls/", cookie)[1].decode()
            match = cursor_re.search(first)
            if match:
                path = f"/calls/?after={match.group(1)}"
        with stages.instrumented(), stages.request(keep=i >= 20):
            status, content = serve(path, cookie)
        elapsed = stages.current["page"] * 1000
        if status != 200:
            sys.exit(f"the page answered {status}")
        if i >= 20:  # the first requests warm caches (templates, month keys, plans)
            page_ms.append(elapsed)
        rows_seen += content.count(b"<tr>") - 1
        masked_seen += content.count("•••".encode())
        after_sql, params = "", [sql_sample[i]]
        if i % 2 == 1:  # the second page, as for the page: keyset after the 50th row
            with connection.cursor() as cursor:
                cursor.execute(SQL_PAGE.format(after=""), params)
                rows = cursor.fetchall()
            if len(rows) > 50:
                at, cdr_id = rows[49][1], rows[49][0]
                after_sql = "AND (started_at < %s OR (started_at = %s AND id < %s))"
                params = [sql_sample[i], at, at, cdr_id]
        with connection.cursor() as cursor:
            t = time.perf_counter()
            cursor.execute(SQL_PAGE.format(after=after_sql), params)
            cursor.fetchall()
            elapsed = (time.perf_counter() - t) * 1000
        if i >= 20:
            sql_ms.append(elapsed)

    # The view alone (RequestFactory): purpose check, audit record, query, decryption, rendering,
    # without the session, authentication and 2FA middleware that every page of the site pays.
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.test import RequestFactory

    from traffic.views.calls import call_history

    factory = RequestFactory()
    view_ms: list[float] = []
    view_sample = [rnd.choice(account_ids) for _ in range(args.requests // 2)]
    view_users = {u.pk: u for u in User.objects.filter(pk__in=set(view_sample))}
    for i, account_id in enumerate(view_sample):
        request = factory.get("/calls/")
        request.user, request.session = view_users[account_id], {}
        request._messages = FallbackStorage(request)
        t = time.perf_counter()
        response = call_history(request)
        elapsed = (time.perf_counter() - t) * 1000
        if response.status_code != 200:
            sys.exit(f"the view answered {response.status_code}")
        if i >= 10:
            view_ms.append(elapsed)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM traffic_cdr")
        total = cursor.fetchone()[0]
    print(f"CDRs in the table: {total:,}; accounts: {len(account_ids):,}; rows rendered per page (avg): "
          f"{rows_seen / len(sample):.1f}, of their numbers shown masked: {masked_seen / len(sample):.1f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"page  p50={statistics.median(page_ms):.2f} ms  p95={_p(page_ms, 0.95):.2f} ms  max={max(page_ms):.2f} ms")
    print(f"view  p50={statistics.median(view_ms):.2f} ms  p95={_p(view_ms, 0.95):.2f} ms  (RequestFactory, no middleware)")
    print(f"sql   p50={statistics.median(sql_ms):.2f} ms  p95={_p(sql_ms, 0.95):.2f} ms")
    print("\n".join(stages.report()))
    print(f"BENCH portal p95_ms={_p(page_ms, 0.95):.2f} sql_p95_ms={_p(sql_ms, 0.95):.2f}")


if __name__ == "__main__":
    main()
