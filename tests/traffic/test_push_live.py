"""Live push through a real HTTP server (live_server): the committer thread's group commit, concurrent
pushers, the same CDR pushed concurrently by several of them, each answered only once committed."""
from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from django.core.management import call_command

from tests.traffic.test_push import fs_doc
from traffic.models import Cdr
from traffic.push.store import push_committer_stop


def _post(url: str, creds: dict, body: bytes) -> int:
    token = base64.b64encode(f"{creds['username']}:{creds['password']}".encode()).decode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Authorization": f"Basic {token}", "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # nosec B310 - the test's own server
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_concurrent_pushes_and_retries_are_each_stored_once(live_server, audit_log_flushable):
    out = io.StringIO()
    call_command("cdr_source", "add", "fs-live", "--format", "freeswitch-json", "--timezone", "UTC", "--push", stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    url = live_server.url + "/calls/push/"
    bodies = [("cdr=" + quote(json.dumps(fs_doc(f"live-{i % 40}", billsec=10 + i % 40)), safe="")).encode()
              for i in range(120)]  # each CDR pushed three times, by different pushers at about the same time
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda body: _post(url, creds, body), bodies))
    finally:
        push_committer_stop()
    assert statuses == [201] * 120
    stored = dict(Cdr.objects.filter(unique_id__startswith="live-").values_list("unique_id", "billsec"))
    assert stored == {f"live-{n}": 10 + n for n in range(40)}
    assert Cdr.objects.count() == 40


@pytest.mark.postgres
def test_a_source_locked_by_an_import_gets_503_and_the_retry_after_it_is_stored(live_server, audit_log_flushable):
    """A file import of the same source holds its lock for the whole import: the push waits a bounded
    time, is answered 503 (not stored), and its retry once the import is done is stored once."""
    import psycopg2
    from django.db import connection

    from traffic.ingest.run import ADVISORY_LOCK_CLASS
    from traffic.models import Source

    out = io.StringIO()
    call_command("cdr_source", "add", "fs-locked", "--format", "freeswitch-json", "--timezone", "UTC", "--push", stdout=out)
    creds = json.loads(out.getvalue().strip().splitlines()[-1])
    source_id = Source.objects.get(name="fs-locked").pk
    settings_dict = connection.settings_dict
    importer = psycopg2.connect(dbname=settings_dict["NAME"], user=settings_dict["USER"], host=settings_dict["HOST"],
                                port=settings_dict["PORT"] or 5432, password=settings_dict["PASSWORD"] or None)
    body = ("cdr=" + quote(json.dumps(fs_doc("locked-1")), safe="")).encode()
    url = live_server.url + "/calls/push/"
    try:
        with importer.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [ADVISORY_LOCK_CLASS, source_id])
        assert _post(url, creds, body) == 503
        assert not Cdr.objects.filter(unique_id="locked-1").exists()
        with importer.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [ADVISORY_LOCK_CLASS, source_id])
        assert _post(url, creds, body) == 201
        assert Cdr.objects.filter(unique_id="locked-1").count() == 1
    finally:
        importer.close()
        push_committer_stop()
