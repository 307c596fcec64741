"""The CIOT subscriber file (Tw art. 13.4(3), Bvgt): current through porting and closure, with a sync
log and an alert when a run fails."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.utils.timezone import now

from accounts.ciot.adapters import FILE_NAME, render_csv
from accounts.ciot.models import CiotSyncRun
from accounts.ciot.selectors import CiotRecord, ciot_records
from accounts.ciot.services import CIOT_ACTOR, RUN_LEASE, ciot_sync, subscriber_details_set
from accounts.models import AccountCloseReason
from accounts.services.closing import account_anonymise, account_close
from accounts.services.numbers import phone_number_port_in, phone_number_port_out
from accounts.tasks import ciot_sync_task
from tests.factories import verified_client
from voipxs.beat import SCHEDULE
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

ALICE = "+31205550101"
BOB = "+31205550201"
PORTED_IN = "+31205550777"


def _address(user, name, street="Damrak", number="1", postcode="1012 LG", town="Amsterdam", at=None):
    return subscriber_details_set(user=user, actor=None, at=at, name=name, street=street, house_number=number,
                                  postcode=postcode, town=town)


def _file(tmp_path) -> list[dict]:
    lines = (tmp_path / FILE_NAME).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#format=voipxs-ciot-1;")
    return list(csv.DictReader(io.StringIO("\n".join(lines[1:])), delimiter=";"))


def _rows_for(rows: list[dict], number: str) -> list[dict]:
    return [r for r in rows if r["number"] == number]


class FailingAdapter:
    name = "failing"

    def deliver(self, **kwargs) -> str:
        raise ConnectionRefusedError("CIOT gateway for Alice Example, Damrak 1 unreachable")


@pytest.mark.django_db
class CiotExportTests:
    def test_the_file_follows_porting_and_closure(self, ciot_dir, alice, bob, carol, billing_staff):
        alice_phone = alice.phone_numbers.get()
        _address(alice, "Alice Example", at=alice_phone.valid_from)
        moved = now() - timedelta(days=100)
        _address(alice, "Alice Example", street="Singel", number="5 hs", postcode="1015ab", at=moved)
        _address(bob, "Bob Builder", at=bob.phone_numbers.get().valid_from)
        _address(carol, "Carol Caller", at=carol.phone_numbers.get().valid_from)
        ported_out = now() - timedelta(days=50)
        phone_number_port_out(phone=alice_phone, at=ported_out)
        # The number alice gave up goes to carol (an internal move), and bob ports one in from elsewhere.
        phone_number_port_in(user=carol, number=ALICE, at=ported_out + timedelta(days=10))
        phone_number_port_in(user=bob, number=PORTED_IN, at=now() - timedelta(days=20))
        account_close(user=bob, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        bob.refresh_from_db()

        run = ciot_sync()

        assert run.status == CiotSyncRun.Status.DONE and run.incomplete == 0
        rows = _file(ciot_dir)
        alice_rows = _rows_for(rows, ALICE)
        assert [(r["name"], r["street"], r["postcode"]) for r in alice_rows] == [
            ("Alice Example", "Damrak", "1012 LG"), ("Alice Example", "Singel", "1015AB"), ("Carol Caller", "Damrak", "1012 LG")]
        assert alice_rows[1]["valid_from"] == moved.isoformat(timespec="seconds")
        assert alice_rows[1]["valid_to"] == ported_out.isoformat(timespec="seconds")  # ported out: ended
        assert alice_rows[2]["valid_to"] == ""  # carol holds it now
        closed = bob.closed_at.isoformat(timespec="seconds")
        assert [r["valid_to"] for r in _rows_for(rows, BOB)] == [closed]
        assert [(r["name"], r["valid_to"]) for r in _rows_for(rows, PORTED_IN)] == [("Bob Builder", closed)]
        assert {r["service_type"] for r in rows} == {"VoIP telephony"}
        # Current today: carol's own number and the one she took over; nothing of bob's.
        assert run.current == 2 and run.records == len(rows)

    def test_an_anonymised_account_leaves_the_file(self, ciot_dir, bob, billing_staff):
        _address(bob, "Bob Builder", at=bob.phone_numbers.get().valid_from)
        account_close(user=bob, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        ciot_sync()
        assert _rows_for(_file(ciot_dir), BOB)
        account_anonymise(user=bob, actor=None, kept=[])
        run = ciot_sync()
        assert run.changed and not _rows_for(_file(ciot_dir), BOB)
        assert not bob.subscriber_details.exists()

    def test_a_number_without_name_and_address_is_counted_incomplete(self, ciot_dir, alice, bob):
        _address(bob, "Bob Builder", at=bob.phone_numbers.get().valid_from + timedelta(days=3))
        run = ciot_sync()
        assert run.incomplete == 2  # alice: none at all; bob: his first three days
        assert [r["name"] for r in _rows_for(_file(ciot_dir), ALICE)] == [""]

    def test_an_unchanged_file_is_marked_unchanged(self, ciot_dir, alice):
        _address(alice, "Alice Example", at=alice.phone_numbers.get().valid_from)
        first, second = ciot_sync(), ciot_sync()
        assert first.changed and not second.changed and first.sha256 == second.sha256
        _address(alice, "Alice Example", street="Singel")
        assert ciot_sync().changed

    def test_formulas_in_names_are_neutralised(self):
        record = CiotRecord("+31205550101", "VoIP telephony", "=HYPERLINK(\"x\")", "-street", "1", "1012LG", "@town",
                            now(), None)
        body = render_csv([record], generated_at=now()).decode()
        assert "\"'=HYPERLINK" in body and ";'-street;" in body and ";'@town;" in body
        assert "\r\n+31205550101;" in body  # a number is not a formula


@pytest.mark.django_db
class CiotPurposeTests:
    def test_only_the_sync_job_reads_the_file_and_every_read_is_audited(self, alice, legal1, dpo):
        for person in (legal1, dpo, alice):
            with pytest.raises(PermissionDenied):
                ciot_records(actor=person)
        ciot_records(actor=CIOT_ACTOR)
        entries = AuditEntry.objects.filter(action="ciot.records")
        assert entries.filter(outcome="refused").count() == 3
        assert entries.filter(outcome="ok", purpose="ciot").count() == 1

    def test_a_subscriber_change_needs_every_field(self, alice):
        with pytest.raises(ApplicationError) as exc:
            subscriber_details_set(user=alice, actor=None, name="Alice", street="Damrak", house_number="1",
                                   postcode=" ", town="Amsterdam")
        assert exc.value.extra == {"field": "postcode"}


@pytest.mark.django_db
class CiotFailureTests:
    def test_a_failed_run_is_logged_and_alerts_the_dpo_and_admins(self, ciot_dir, alice, dpo, admin_user):
        _address(alice, "Alice Example")
        run = ciot_sync(adapter=FailingAdapter())
        assert run.status == CiotSyncRun.Status.FAILED and run.alerted_at is not None
        assert run.error.startswith("ConnectionRefusedError") and "Alice" not in run.error
        assert len(mail.outbox) == 2
        assert {tuple(m.to) for m in mail.outbox} == {("dpo@example.org",), ("admin@example.org",)}
        assert all("CIOT" in m.subject and "Alice" not in m.body and "Damrak" not in m.body for m in mail.outbox)

    def test_the_failure_is_visible_to_the_dpo_and_admins_only(self, client, ciot_dir, dpo, admin_user, alice):
        ciot_sync()
        ciot_sync(adapter=FailingAdapter())
        page = verified_client(client, dpo).get("/privacy-requests/dpo/ciot/").content.decode()
        assert "The last CIOT sync failed." in page and 'data-status="done"' in page
        client.logout()
        assert verified_client(client, admin_user).get("/privacy-requests/dpo/ciot/").status_code == 200
        client.logout()
        assert verified_client(client, alice).get("/privacy-requests/dpo/ciot/").status_code == 403
        client.logout()
        ciot_sync()
        page = verified_client(client, dpo).get("/privacy-requests/dpo/ciot/").content.decode()
        assert "The last CIOT sync succeeded" in page

    def test_the_command_fails_loudly(self, ciot_dir, settings, alice):
        out = io.StringIO()
        call_command("ciot_sync", stdout=out)
        assert "records" in out.getvalue()
        settings.CIOT_EXPORT_DIR = ciot_dir / FILE_NAME / "not-a-dir"  # a file is in the way
        with pytest.raises(CommandError, match="failed"):
            call_command("ciot_sync")

    def test_a_run_whose_worker_died_is_failed_and_alerted_at_the_next_run(self, ciot_dir, dpo):
        dead = CiotSyncRun.objects.create(adapter="csv-file", started_at=now() - RUN_LEASE - timedelta(minutes=1))
        run = ciot_sync()
        dead.refresh_from_db()
        assert dead.status == CiotSyncRun.Status.FAILED and dead.error.startswith("LeaseExpired")
        assert run.status == CiotSyncRun.Status.DONE and len(mail.outbox) == 1

    def test_a_second_run_while_one_is_running_is_refused(self, ciot_dir):
        CiotSyncRun.objects.create(adapter="csv-file")
        with pytest.raises(ApplicationError):
            ciot_sync()
        assert ciot_sync_task() == {"skipped": "running"}

    def test_beat_runs_the_task_hourly(self, ciot_dir):
        assert SCHEDULE["ciot-sync"]["task"] == "accounts.tasks.ciot_sync_task"
        assert ciot_sync_task()["status"] == "done"


@pytest.mark.django_db
def test_the_status_page_is_in_dutch(client, ciot_dir, dpo):
    ciot_sync(adapter=FailingAdapter())
    page = verified_client(client, dpo).get("/privacy-requests/dpo/ciot/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert "De laatste CIOT-synchronisatie is mislukt." in page


@pytest.mark.django_db
def test_the_dpo_and_admin_homes_link_to_the_status_page(client, dpo, admin_user):
    for user in (dpo, admin_user):
        assert "/privacy-requests/dpo/ciot/" in verified_client(client, user).get("/").content.decode()
        client.logout()


@pytest.mark.django_db
def test_the_persons_own_export_shows_their_name_and_address_versions(alice):
    from tests.accounts.dsr_helpers import schema_def_validate
    from voipxs.privacy.registry import sections

    _address(alice, "Alice Example", at=now() - timedelta(days=10))
    _address(alice, "Alice Example", street="Singel")
    section = next(s for s in sections() if s.name == "subscriber_details")
    rows = list(section.exporter(alice))
    assert [r["street"] for r in rows] == ["Damrak", "Singel"] and rows[1]["valid_to"] is None
    for row in rows:
        schema_def_validate(row, "subscriber_details")
    assert section.purpose == "ciot"


@pytest.mark.django_db
class SubscriberDetailsAdminTests:
    def test_an_admin_adds_a_version_that_closes_the_current_one(self, client, admin_user, alice):
        _address(alice, "Alice Example", at=now() - timedelta(days=5))
        admin = verified_client(client, admin_user)
        response = admin.post("/admin/accounts/subscriberdetails/add/", {
            "user": alice.pk, "name": "Alice Example", "street": "Singel", "house_number": "5",
            "postcode": "1015ab", "town": "Amsterdam", "valid_from": ""})
        assert response.status_code == 302, response.content.decode()[:2000]
        versions = list(alice.subscriber_details.order_by("valid_from"))
        assert [v.street for v in versions] == ["Damrak", "Singel"] and versions[0].valid_to == versions[1].valid_from
        assert versions[1].postcode == "1015AB"
        page = admin.get("/admin/accounts/subscriberdetails/").content.decode()
        assert "Singel" not in page and AuditEntry.objects.filter(action="admin.subscriber_details.read").exists()
        assert "Singel" in admin.get(f"/admin/accounts/subscriberdetails/{versions[1].pk}/change/").content.decode()

    def test_an_empty_field_is_refused_naming_it(self, client, admin_user, alice):
        response = verified_client(client, admin_user).post("/admin/accounts/subscriberdetails/add/", {
            "user": alice.pk, "name": "Alice", "street": "Singel", "house_number": "", "postcode": "1015AB",
            "town": "Amsterdam"})
        assert response.status_code == 200 and not alice.subscriber_details.exists()
        assert "house_number" in response.content.decode()

    @pytest.mark.parametrize("language, labels", [
        ("en", ["User", "Name", "Street", "House number and addition", "Postcode", "Town", "Valid from"]),
        ("nl", ["Gebruiker", "Naam", "Straat", "Huisnummer en toevoeging", "Postcode", "Woonplaats", "Geldig vanaf"])])
    def test_the_add_form_labels_its_fields_capitalised_as_the_rest_of_the_admin(self, client, admin_user, language,
                                                                                  labels):
        admin = verified_client(client, admin_user)
        admin.cookies["django_language"] = language
        page = admin.get("/admin/accounts/subscriberdetails/add/").content.decode()
        assert re.findall(r'<label[^>]*for="id_[a-z_]+"[^>]*>([^<]*):</label>', page) == labels

    def test_a_customer_cannot_open_it(self, client, alice):
        client.force_login(alice)
        assert client.get("/admin/accounts/subscriberdetails/").status_code in (302, 403)


@pytest.mark.django_db
def test_a_new_address_cannot_start_before_the_current_one(alice):
    from accounts.ciot.services import ADDRESS_NOT_AFTER_CURRENT

    _address(alice, "Alice Example")
    with pytest.raises(ApplicationError, match=ADDRESS_NOT_AFTER_CURRENT):
        _address(alice, "Alice Example", street="Singel", at=now() - timedelta(days=1))
    assert alice.subscriber_details.get().valid_to is None
