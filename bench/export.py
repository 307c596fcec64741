"""`python -m bench.export [--rows N]`: a data-subject export of one user with N calls (default 100,000).

1. Creates (anew) the database `<DATABASE_URL's name>_bench_export` and migrates it.
2. Makes one customer with a number and fills N of their CDRs over 12 months server-side
   (`INSERT ... SELECT generate_series`, bench.portal's month filler: real AES-GCM tokens under each
   month's data key, so the export pays the real decryption cost).
3. Builds the export exactly as the Celery task does (`accounts.dsr.export.dsr_export_build`): every
   registered section streamed into export.json and one CSV per section, zipped, encrypted at rest.
4. Checks the file (calls counted, decrypts to a ZIP) and ends with
   `BENCH export seconds=X peak_mb=N rows=N` (peak RSS of the process, from `resource`).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from bench._common import (bench_database, database_migrate, database_recreate, database_use, environment_load,
                           peak_rss_mb)

MONTHS = 12


def _rss_mb() -> int:
    return int(peak_rss_mb())  # whole MB, as this bench has always printed them


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)

    environment_load()
    from bench.portal import fill_month

    url, bench_url, bench_name = bench_database(bench="export", suffix="_bench_export")
    database_recreate(url=url, bench_name=bench_name)
    database_use(bench_url=bench_url)
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ["SECURE_SSL_REDIRECT"] = "False"
    private = tempfile.mkdtemp(prefix="bench-export-")
    os.environ["PRIVATE_FILES_DIR"] = private

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils.timezone import now

    from accounts.dsr.export import dsr_export_build, export_decrypt_stream
    from accounts.models import User
    from accounts.dsr.models import DataSubjectRequest, ExportFile
    from accounts.services.numbers import phone_number_assign
    from bench.portal import FIRST_MONTH
    from traffic.models import Source
    from traffic.partitions import add_months

    database_migrate()
    user = User.objects.create(username="bench-export", email="bench-export@example.org")
    user.groups.add(Group.objects.get(name="customer"))
    phone_number_assign(user=user, number="+31205550101", valid_from=now().replace(year=now().year - 2))
    source = Source.objects.create(name="bench-pbx", format="asterisk-csv")
    per_month = args.rows // MONTHS
    started = time.perf_counter()
    for i in range(MONTHS):
        rows = per_month if i < MONTHS - 1 else args.rows - per_month * (MONTHS - 1)
        fill_month(month=add_months(FIRST_MONTH, i), rows=rows, account_ids=[user.pk], source_id=source.pk, seed=i)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) traffic_cdr")
    print(f"filled {args.rows:,} CDRs for one user in {time.perf_counter() - started:.1f} s", flush=True)

    received = now()
    req = DataSubjectRequest.objects.create(user=user, kind="portability", status="in_progress", received_at=received,
                                            deadline=DataSubjectRequest.first_deadline(received))
    export = ExportFile.objects.create(request=req, user=user)
    connection.close()  # the export opens its own connection, as a worker would
    before = _rss_mb()
    cpu_before, main_before = time.process_time(), time.thread_time()
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):  # where the time goes, on stderr
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(dsr_export_build, export_id=export.pk)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(15)
    else:
        dsr_export_build(export_id=export.pk)
    seconds = time.perf_counter() - started
    cpu, main_cpu = time.process_time() - cpu_before, time.thread_time() - main_before
    peak = _rss_mb()
    export.refresh_from_db()
    calls = export.rows.get("calls", 0)
    if export.status != ExportFile.Status.READY or calls != args.rows:
        sys.exit(f"export incomplete: status={export.status} calls={calls}")
    size = sum(len(chunk) for chunk in export_decrypt_stream(export))
    stored = (Path(private) / "exports" / export.file_name).stat().st_size
    print(f"rss before the export {before} MB, peak {peak} MB; zip {size / 1e6:.1f} MB, stored encrypted {stored / 1e6:.1f} MB")
    # On a shared machine the wall time follows the load; the CPU time of this process does not.
    # The process's CPU counts its threads too (the fetch-ahead and the ZIP writer); the main thread's is
    # the part that cannot overlap.
    print(f"cpu seconds of this process {cpu:.2f} (main thread {main_cpu:.2f}); load average {os.getloadavg()[0]:.1f}")
    print(f"BENCH export seconds={seconds:.2f} peak_mb={peak} rows={calls}")


if __name__ == "__main__":
    main()
