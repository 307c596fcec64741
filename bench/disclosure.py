"""`python -m bench.disclosure [--rows N]`: produce a disclosure package for one number over 12 months
out of N CDRs (default 10,000,000) in PostgreSQL (issue 6: at most 2 seconds).

1. Creates (anew) the database `<DATABASE_URL's name>_bench_disclosure` and migrates it.
2. Fills 12 months (2025-01 .. 2025-12), N/12 CDRs each, server-side with `INSERT ... SELECT
   generate_series` into a plain table per month that is ATTACHed as the month's partition (indexes
   built in bulk). Numbers are real AES-GCM tokens under the month key (256 per side and month,
   reused). One number, held by a user of ours all year, is the caller of every 5,000th call and the
   callee of every 7,919th: about N/2,900 calls.
3. Takes a request in for that number over the 12 months (legal hold placed), has two other officers
   approve it, and times `disclosure_package_build` (the scope query, decryption, the per-row scope
   check, CSV/JSON/ETSI XML, manifest, encryption at rest) as the Celery task runs it.
Ends with `BENCH disclosure seconds=X rows=N` (N: records in the package).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone

from bench._common import bench_database, database_migrate, database_recreate, database_use, environment_load

MONTHS = 12
FIRST_MONTH = date(2025, 1, 1)
TOKENS = 256
TARGET = "+31205557777"
SRC_EVERY = 5000
DST_EVERY = 7919
LIMIT_S = 2.0


def _fill(total: int) -> int:
    from django.db import connection

    from accounts.models import User
    from traffic.keys import month_cipher
    from traffic.models import Source
    from traffic.partitions import add_months, cdr_partitions_ensure, partition_name
    from voipxs.privacy.crypto import blind_index

    per_month = total // MONTHS
    accounts = [u.pk for u in User.objects.bulk_create([User(username=f"dbench{i:03d}", password="!") for i in range(100)])]
    source = Source.objects.create(name="bench-disclosure", format="asterisk-csv")
    rnd = random.Random(6)
    target_index = blind_index(TARGET, domain="phone")
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
    for i in range(MONTHS):
        month = add_months(FIRST_MONTH, i)
        t = time.perf_counter()
        cipher = month_cipher(month, create=True)
        src = [f"+3120{5_000_000 + rnd.randrange(2_000_000)}" for _ in range(TOKENS)]
        dst = [f"+316{10_000_000 + rnd.randrange(80_000_000)}" for _ in range(TOKENS)]
        lower = datetime.combine(month, datetime.min.time(), tzinfo=timezone.utc)
        upper = datetime.combine(add_months(month, 1), datetime.min.time(), tzinfo=timezone.utc)
        table = partition_name("traffic_cdr", month)
        staging = f"{table}_staging"
        target_token = cipher.encrypt(TARGET)
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {staging} (LIKE traffic_cdr INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cursor.execute(
                f"""
                INSERT INTO {staging} (started_at, source_id, unique_id, fingerprint, account_id, direction,
                    disposition, answered_at, duration, billsec, src_enc, dst_enc, src_index, dst_index,
                    account_code, flags, rating, zone, price)
                SELECT t.ts, %(source)s, 'd{month:%Y%m}-' || g, md5(g::text)::varchar(32),
                    (%(accounts)s::bigint[])[1 + g %% 100], 'out', 'answered', t.ts, 65, 60,
                    CASE WHEN g %% {SRC_EVERY} = 0 THEN %(t_enc)s ELSE (%(src)s::bytea[])[1 + g %% {TOKENS}] END,
                    CASE WHEN g %% {DST_EVERY} = 1 THEN %(t_enc)s ELSE (%(dst)s::bytea[])[1 + (g / 7) %% {TOKENS}] END,
                    CASE WHEN g %% {SRC_EVERY} = 0 THEN %(t_idx)s ELSE (%(src_idx)s::varchar[])[1 + g %% {TOKENS}] END,
                    CASE WHEN g %% {DST_EVERY} = 1 THEN %(t_idx)s ELSE (%(dst_idx)s::varchar[])[1 + (g / 7) %% {TOKENS}] END,
                    '', '', 'rated', 'NL mobile', 0.09
                FROM generate_series(1, %(rows)s) AS g,
                     LATERAL (SELECT %(lower)s::timestamptz + ((hashint4(g + %(seed)s)::bigint & 2147483647) %% %(secs)s)
                                     * interval '1 second' AS ts) AS t
                """,
                {"source": source.pk, "accounts": accounts, "rows": per_month, "t_enc": target_token, "t_idx": target_index,
                 "src": [cipher.encrypt(n) for n in src], "dst": [cipher.encrypt(n) for n in dst],
                 "src_idx": [blind_index(n, domain="phone") for n in src],
                 "dst_idx": [blind_index(n, domain="phone") for n in dst],
                 "lower": lower, "secs": int((upper - lower).total_seconds()) - 1, "seed": i})
            cursor.execute(f"ALTER TABLE {staging} RENAME TO {table}")
            cursor.execute(f"ALTER TABLE traffic_cdr ATTACH PARTITION {table} "
                           f"FOR VALUES FROM ('{lower.isoformat()}') TO ('{upper.isoformat()}')")
            cursor.execute(f"ANALYZE {table}")
        cdr_partitions_ensure(months=[month])
        print(f"  {month:%Y-%m}: {per_month:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
    return per_month * MONTHS


def _request():
    from accounts.services.numbers import phone_number_assign
    from accounts.services.users import user_create
    from disclosures.models import AuthorityKind, LegalBasis
    from disclosures.services.authorities import authority_create, authority_verify
    from disclosures.services.intake import disclosure_document_add, disclosure_request_receive
    from disclosures.services.transitions import (
        disclosure_request_approve,
        disclosure_request_start_review,
        disclosure_request_verify_authority,
    )

    holder = user_create(username="dbench-holder", password="x-bench-holder-pw-1", email="holder@bench.invalid",
                         roles=["customer"], contractor=None)
    phone_number_assign(user=holder, number=TARGET, valid_from=datetime(2024, 12, 1, tzinfo=timezone.utc))
    officers = [user_create(username=f"dbench-legal{i}", password=f"x-bench-legal-pw-{i}", email=f"l{i}@bench.invalid",
                            roles=["legal_officer"], contractor=None) for i in range(3)]
    intake, a2, a3 = officers
    authority = authority_create(actor=intake, name="Bench police", kind=AuthorityKind.POLICE,
                                 contact_phone="+31205559999")
    authority = authority_verify(actor=a2, authority=authority, note="bench")
    start = datetime.combine(FIRST_MONTH, datetime.min.time(), tzinfo=timezone.utc)
    req = disclosure_request_receive(
        actor=intake, authority=authority, reference="BENCH-1", legal_basis=LegalBasis.SV_126N,
        categories=["traffic_data"], window_start=start, window_end=start.replace(year=start.year + 1),
        deadline=datetime.now(timezone.utc) + timedelta(days=3), numbers=[TARGET])
    # Its written order, filed at intake: nothing is approved or produced without it.
    disclosure_document_add(actor=intake, request=req, title="BENCH-1 order.pdf", content=b"%PDF bench order",
                            content_type="application/pdf", is_written_order=True)
    req = disclosure_request_verify_authority(actor=intake, request=req, channel="phone")
    req = disclosure_request_start_review(actor=intake, request=req)
    disclosure_request_approve(actor=a2, request=req)
    disclosure_request_approve(actor=a3, request=req)
    from disclosures.models import DisclosureRequest, Status
    DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.PRODUCING, production_started_by=intake)
    return req.pk, intake


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    environment_load()
    url, bench_url, bench_name = bench_database(bench="disclosure", suffix="_bench_disclosure")
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    os.environ["REDIS_URL"] = ""  # the build runs in-process (eager), as the worker would run it
    database_recreate(url=url, bench_name=bench_name)
    database_use(bench_url=bench_url)
    import django

    django.setup()
    database_migrate()
    print(f"filling {args.rows:,} CDRs over {MONTHS} months in {bench_name}", flush=True)
    t = time.perf_counter()
    filled = _fill(args.rows)
    print(f"filled {filled:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
    request_id, actor = _request()

    from disclosures.services.packages import disclosure_package_build

    t = time.perf_counter()
    package = disclosure_package_build(request_id=request_id, actor=actor)
    seconds = time.perf_counter() - t
    expected_min = MONTHS * ((filled // MONTHS) // SRC_EVERY)
    if package.record_count < expected_min:
        sys.exit(f"expected at least {expected_min} records, got {package.record_count}")
    print(f"package {package.pk}: {package.record_count:,} records, files "
          f"{', '.join(f['sha256'][:8] for f in package.manifest['files'].values())}; limit {LIMIT_S} s", flush=True)
    print(f"BENCH disclosure seconds={seconds:.3f} rows={package.record_count}")
    if seconds > LIMIT_S:
        sys.exit(1)


if __name__ == "__main__":
    main()
