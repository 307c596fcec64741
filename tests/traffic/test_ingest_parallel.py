"""The import prepared by a pool of processes (traffic.ingest.parallel) stores exactly what the
serial import stores: the same rows (decrypted), rejects with the same lines and reasons, the same
duplicates, conflicts and counts, on the real sample files, cut into chunks as small as one line. A
preparing process that dies fails the import cleanly: a re-run completes the file.

PostgreSQL only: the pool feeds the COPY writer (on SQLite every file is prepared in one process)."""
from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.traffic.test_import_recovery import master_csv
from traffic import keys
from traffic.ingest import parallel
from traffic.ingest import run as ingest_run
from traffic.ingest.prepare import RowPreparer
from traffic.models import Cdr, CdrImport
from traffic.services import imports as services
from traffic.services import sources

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "cdr-samples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# (format, file): every CSV sample of a format that can be cut; files that exist only upstream skip.
SAMPLES = [
    ("asterisk-csv", SHARED / "asterisk_cdr_csv_good.csv"),
    ("asterisk-csv", SHARED / "asterisk_cdr_csv_console_Master.csv"),
    ("asterisk-csv", SHARED / "asterisk_cdr_csv_buggy_truncated.csv"),
    ("asterisk-csv", FIXTURES / "asterisk_cdr_csv_mixed.csv"),
    ("asterisk-custom", FIXTURES / "asterisk_cdr_custom_mixed.csv"),
    ("freeswitch-csv", FIXTURES / "freeswitch_cdr_csv_mixed.csv"),
]

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("partitions_restored")]


@pytest.fixture
def world(db):
    from tests.factories import make_user

    make_user("alice-p", numbers=["+31205550101", "+31205554567"])


def _import(tmp_path, fmt: str, data: bytes, *, procs: int, name: str, settings, chunk_bytes: int = 1,
            columns: str = "") -> CdrImport:
    settings.CDR_IMPORT_PROCS = procs
    settings.CDR_IMPORT_PARALLEL_MIN_BYTES = 0
    settings.CDR_IMPORT_CHUNK_BYTES = chunk_bytes  # 1: a cut after every line that allows one
    source = sources.source_create(name=name, format=fmt, timezone="Europe/Amsterdam", columns=columns)
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    return services.cdr_bulk_import(source=source, path=path, file_name=path.name, batch_size=3)


def _stored(cdr_import: CdrImport) -> list[tuple]:
    """What a reader of the stored calls sees: the figures and the decrypted numbers and name."""
    rows = []
    for cdr in Cdr.objects.filter(import_batch=cdr_import).order_by("id"):
        cipher = keys.month_cipher(cdr.started_at.date().replace(day=1))
        read = cipher.reader(null=None)
        rows.append((cdr.unique_id, cdr.leg, cdr.call_id, cdr.fingerprint, cdr.started_at, cdr.answered_at,
                     cdr.account_id, cdr.direction, cdr.disposition, cdr.duration, cdr.billsec, cdr.flags,
                     cdr.rating, cdr.zone, cdr.price, read(cdr.src_enc), read(cdr.dst_enc),
                     read(cdr.caller_name_enc), cdr.src_index, cdr.dst_index))
    return rows


def _summary(cdr_import: CdrImport) -> tuple:
    return (cdr_import.status, cdr_import.error, cdr_import.imported, cdr_import.duplicates, cdr_import.conflicts,
            cdr_import.flagged, cdr_import.report)


def _both(tmp_path, settings, fmt: str, data: bytes, tag: str, **kwargs) -> tuple[CdrImport, CdrImport]:
    serial = _import(tmp_path, fmt, data, procs=0, name=f"serial-{tag}", settings=settings, **kwargs)
    pooled = _import(tmp_path, fmt, data, procs=2, name=f"pooled-{tag}", settings=settings, **kwargs)
    return serial, pooled


@pytest.mark.parametrize(("fmt", "path"), SAMPLES, ids=[p.name for _, p in SAMPLES])
def test_the_pool_stores_what_the_serial_import_stores_on_each_real_sample(tmp_path, settings, world, fmt, path):
    if not path.is_file():
        pytest.skip(f"{path} is not here (the shared samples sit next to the repository in CI)")
    data = path.read_bytes()
    serial, pooled = _both(tmp_path, settings, fmt, data, path.stem)

    assert parallel.LAST_PARALLEL_STATS.procs == 2 and parallel.LAST_PARALLEL_STATS.chunks >= 1
    assert _summary(pooled) == _summary(serial)
    assert _stored(pooled) == _stored(serial)


def test_all_samples_in_one_file_with_repeats_give_the_same_duplicates_conflicts_and_rejects(tmp_path, settings, world):
    # The Asterisk samples one after the other, twice, with the mixed fixture (bad rows, multi-line
    # caller names) in between: conflicts and duplicates across chunks, rejects in many chunks.
    parts = [p.read_bytes() for fmt, p in SAMPLES if fmt == "asterisk-csv" and p.is_file()]
    data = b"".join(part if part.endswith(b"\n") else part + b"\n" for part in parts * 2)
    serial, pooled = _both(tmp_path, settings, "asterisk-csv", data, "all", chunk_bytes=200)

    assert serial.duplicates > 0 and serial.conflicts > 0 and serial.report["rejected_total"] > 0
    assert parallel.LAST_PARALLEL_STATS.chunks > 3
    assert _summary(pooled) == _summary(serial)
    assert _stored(pooled) == _stored(serial)


def test_a_cut_inside_a_quoted_field_is_noticed_and_the_rest_is_read_in_one_piece(tmp_path, settings, world):
    # A stray quote in an unquoted field turns the quote count odd, so the next cut with an even
    # count falls inside a caller name that holds a line break: the chunk before it ends inside a
    # quoted field, says so, and the rest of the file is prepared in one piece, as the serial run does.
    lines = master_csv(8, prefix="q").decode().splitlines()
    lines[1] = lines[1].replace('"ctx"', 'ct"x')
    lines[4] = lines[4].replace('"""Alice"" <0205550101>"', '"""Alice\nSmith"" <0205550101>"')
    data = ("\n".join(lines) + "\n").encode()
    serial, pooled = _both(tmp_path, settings, "asterisk-csv", data, "stray")

    assert parallel.LAST_PARALLEL_STATS.serial_tail
    assert serial.imported == 8 and _summary(pooled) == _summary(serial)
    assert _stored(pooled) == _stored(serial)


def test_a_stray_quote_alone_does_not_stop_the_cutting(tmp_path, settings, world):
    lines = master_csv(8, prefix="s").decode().splitlines()
    lines[1] = lines[1].replace('"ctx"', 'ct"x')
    serial, pooled = _both(tmp_path, settings, "asterisk-csv", ("\n".join(lines) + "\n").encode(), "stray-only")

    assert not parallel.LAST_PARALLEL_STATS.serial_tail and parallel.LAST_PARALLEL_STATS.chunks == 8
    assert serial.imported == 8 and _summary(pooled) == _summary(serial)
    assert _stored(pooled) == _stored(serial)


def test_a_cel_log_is_still_refused_whole(tmp_path, settings, world):
    cel = SHARED / "asterisk_cel_custom_Master.csv"
    if not cel.is_file():
        pytest.skip("the shared samples are not here")
    serial, pooled = _both(tmp_path, settings, "asterisk-csv", cel.read_bytes(), "cel")
    assert serial.status == pooled.status == "failed" and pooled.error == serial.error
    assert not Cdr.objects.filter(import_batch__in=[serial, pooled]).exists()


@pytest.mark.parametrize("chunk_bytes", [1, 700, 4000, 9000])
@pytest.mark.parametrize(("bad_first", "refused"), [(1000, True), (999, False)])
def test_a_file_whose_first_rows_are_no_cdrs_is_refused_as_the_serial_import_refuses_it(
        tmp_path, settings, world, chunk_bytes, bad_first, refused):
    # The refusal looks at the first 1,000 records, wherever the chunks cut them.
    bad = [f"not,a,cdr,{n}\n".encode() for n in range(bad_first + 200)]
    data = b"".join(bad[:bad_first]) + master_csv(1, prefix="mid") + b"".join(bad[bad_first:]) + master_csv(3)
    serial, pooled = _both(tmp_path, settings, "asterisk-csv", data, f"nocdr-{chunk_bytes}-{bad_first}",
                           chunk_bytes=chunk_bytes)
    assert (serial.status == "failed") is refused
    assert _summary(pooled) == _summary(serial)


def test_the_chunks_cover_the_file_count_its_lines_and_keep_a_quoted_line_break_whole(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_bytes(b'a,"b\nc"\r\nd\re\nf,"g"\nlast')
    chunks = list(parallel.chunks_plan(path, chunk_bytes=1))
    assert [(c.start, c.end) for c in chunks] == [(0, 9), (9, 13), (13, 19), (19, 23)]
    assert [c.first_line for c in chunks] == [0, 2, 4, 5]  # a lone \r ends a line, as for the parsers
    assert [c.lines for c in chunks] == [2, 2, 1, 1]


def test_a_preparer_that_dies_fails_the_import_and_a_re_run_completes_it(tmp_path, settings, world, monkeypatch):
    settings.PRIVATE_FILES_DIR = tmp_path
    rows = 400
    parent = os.getpid()
    original = RowPreparer.prepare

    def dies_on_line_250(self, record):
        if os.getpid() != parent and record.line == 250:
            os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does: no handler of ours runs
        return original(self, record)

    monkeypatch.setattr(RowPreparer, "prepare", dies_on_line_250)  # inherited by the forked preparers
    monkeypatch.setattr(ingest_run, "BATCH_SIZE", 20)
    settings.CDR_IMPORT_PROCS, settings.CDR_IMPORT_PARALLEL_MIN_BYTES = 2, 0
    settings.CDR_IMPORT_CHUNK_BYTES = 20 * 250  # about 20 rows a chunk
    pbx = sources.source_create(name="pbx-crash", format="asterisk-csv", timezone="Europe/Amsterdam")
    upload = services.imports_dir() / "crash-upload"
    upload.write_bytes(master_csv(rows, prefix="c"))
    cdr_import = CdrImport.objects.create(source=pbx, file_name="Master.csv", file_sha256="0" * 64,
                                          status=CdrImport.Status.QUEUED, report={"upload": upload.name})
    with pytest.raises(parallel.PreparerStopped):
        services.cdr_import_run(cdr_import=cdr_import)

    failed = CdrImport.objects.get(pk=cdr_import.pk)
    landed = Cdr.objects.filter(source=pbx).count()
    assert failed.status == "failed" and failed.error == services.IMPORT_PREPARER_STOPPED and upload.exists()
    # Whole batches of the chunks before the one whose preparer died, and the counts say so.
    assert landed == failed.imported and landed % 20 == 0 and landed < 250

    monkeypatch.setattr(RowPreparer, "prepare", original)
    rerun = services.cdr_import_rerun(cdr_import=failed)
    rerun.refresh_from_db()
    assert (rerun.status, rerun.imported + rerun.duplicates) == ("done", rows)
    assert Cdr.objects.filter(source=pbx).values("unique_id").distinct().count() == rows == \
        Cdr.objects.filter(source=pbx).count()
    assert not upload.exists()


def test_small_files_and_formats_that_cannot_be_cut_stay_in_one_process(tmp_path, settings):
    settings.CDR_IMPORT_PROCS = 2
    path = tmp_path / "small.csv"
    path.write_bytes(master_csv(3))
    assert parallel.parallel_procs(fmt="asterisk-csv", columns="", path=path) == 0  # below the minimum
    settings.CDR_IMPORT_PARALLEL_MIN_BYTES = 0
    assert parallel.parallel_procs(fmt="asterisk-csv", columns="", path=path) == 2
    assert parallel.parallel_procs(fmt="freeswitch-json", columns="", path=path) == 0  # not one record a line
    assert parallel.parallel_procs(fmt="kamailio-acc", columns="", path=path) == 0
    settings.CDR_IMPORT_PROCS = 0
    assert parallel.parallel_procs(fmt="asterisk-csv", columns="", path=path) == 0  # switched off


WORKER = """
import django, sys
from pathlib import Path
django.setup()
from django.conf import settings
from traffic.ingest import run as ingest_run
from traffic.models import CdrImport
from traffic.services import imports as services
ingest_run.BATCH_SIZE = 500
settings.PRIVATE_FILES_DIR = Path(sys.argv[2])
settings.CDR_IMPORT_PROCS, settings.CDR_IMPORT_PARALLEL_MIN_BYTES, settings.CDR_IMPORT_CHUNK_BYTES = 2, 0, 64 << 10
services.cdr_import_run(cdr_import=CdrImport.objects.get(pk=int(sys.argv[1])))
"""


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2] not in "ZX"  # a zombie has died (its parent is gone, nobody reaped it)


def test_killing_the_import_worker_kills_its_preparers_and_a_re_run_completes_the_file(tmp_path, settings, world):
    import subprocess
    import sys
    import time

    from tests.traffic.test_import_recovery import _test_database_url, later_than_lease

    settings.PRIVATE_FILES_DIR = tmp_path
    rows = 30_000
    pbx = sources.source_create(name="pbx-killed-pool", format="asterisk-csv", timezone="Europe/Amsterdam")
    upload = services.imports_dir() / "killed-pool-upload"
    upload.write_bytes(master_csv(rows, prefix="kp"))
    cdr_import = CdrImport.objects.create(source=pbx, file_name="Master.csv", file_sha256="0" * 64,
                                          report={"upload": upload.name})
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DJANGO_SETTINGS_MODULE": "voipxs.settings_test",
           "REDIS_URL": ""}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, str(cdr_import.pk), str(tmp_path)],
                              cwd=Path(__file__).resolve().parents[2], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if CdrImport.objects.get(pk=cdr_import.pk).imported > 0:
                break
            time.sleep(0.01)
        preparers = _children(worker.pid)
        assert worker.poll() is None and len(preparers) >= 2, "the import finished before it could be killed"
        os.kill(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in preparers):
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in preparers), "a preparer outlived its import"

    killed = CdrImport.objects.get(pk=cdr_import.pk)
    landed = Cdr.objects.filter(source=pbx).count()
    assert killed.status == "running" and 0 < killed.imported == landed < rows
    assert services.cdr_imports_reap(at=later_than_lease()) == [cdr_import.pk]
    rerun = services.cdr_import_rerun(cdr_import=killed)
    rerun.refresh_from_db()
    assert (rerun.status, rerun.imported, rerun.duplicates) == ("done", rows - landed, landed)
    assert Cdr.objects.filter(source=pbx).count() == rows
