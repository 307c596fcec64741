"""What every signed-in request pays, made cheaper for the load (issue 16, bench/load.py) without changing
what it decides: the second-factor check reads roles and devices in one statement and answers as
before; each page's access records are still written, and a record that cannot be written still fails
the request."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.middleware import needs_second_factor
from accounts.models import User, UserSession
from tests.factories import make_user
from voipxs import urls as project_urls
from voipxs.models import AuditEntry
from voipxs.privacy import audit
from voipxs.privacy.purposes import STAFF_ROLES, Purpose, Role, require_purpose, roles_of


def _as_before(user) -> bool:
    """The check as it was written before (three queries): staff always, customers once enrolled."""
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or roles_of(user) & STAFF_ROLES) or user_has_device(user)


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


@pytest.mark.django_db
class SecondFactorCheckTests:
    def test_it_answers_as_before_for_every_kind_of_account(self):
        plain = make_user("plain")
        unconfirmed = make_user("unconfirmed")
        TOTPDevice.objects.create(user=unconfirmed, name="half", confirmed=False)
        enrolled = make_user("enrolled", totp=True)
        codes_only = make_user("codes-only")
        StaticDevice.objects.create(user=codes_only, name="backup", confirmed=True)
        staff_role = make_user("staff-role", roles=(Role.LEGAL_OFFICER,))
        flagged = make_user("flagged", roles=())
        User.objects.filter(pk=flagged.pk).update(is_staff=True)
        no_roles = make_user("no-roles", roles=())
        answers = {}
        for user in (plain, unconfirmed, enrolled, codes_only, staff_role, flagged, no_roles):
            answers[user.username] = needs_second_factor(_fresh(user))
            assert answers[user.username] == _as_before(_fresh(user)), user.username
        assert answers == {"plain": False, "unconfirmed": False, "enrolled": True, "codes-only": True,
                           "staff-role": True, "flagged": True, "no-roles": False}
        assert needs_second_factor(AnonymousUser()) is False

    def test_it_asks_one_query_and_remembers_the_roles_for_the_request(self):
        user = _fresh(make_user("customer-one", roles=(Role.CUSTOMER, Role.CONTRACTOR_ADMIN)))
        with CaptureQueriesContext(connection) as queries:
            assert needs_second_factor(user) is False
            assert roles_of(user) == {Role.CUSTOMER, Role.CONTRACTOR_ADMIN}
        assert len(_runs(queries)) == 1

    def test_a_device_added_later_in_the_request_counts_at_once(self):
        user = _fresh(make_user("enrols-now"))
        assert needs_second_factor(user) is False
        TOTPDevice.objects.create(user=user, name="new", confirmed=True)
        assert needs_second_factor(user) is True


@pytest.mark.django_db
class AccessRecordWriteTests:
    def test_a_page_writes_its_access_record_with_every_field(self, client, alice):
        client.force_login(alice)
        before = AuditEntry.objects.count()
        assert client.get("/calls/").status_code == 200
        entry = AuditEntry.objects.order_by("-id").first()
        assert AuditEntry.objects.count() == before + 1
        assert (entry.action, entry.purpose, entry.outcome, entry.target_type) == ("cdr.list", "self_service", "ok", "user")
        assert entry.actor == audit.actor_ref(alice) and entry.target_id == audit.target_ref("user", alice.pk)
        assert entry.extra == {"masked": False, "number_filter": False} and entry.seq is None
        assert entry.created_at is not None and entry.prev_hash == "" and entry.entry_hash == ""

    def test_several_records_of_one_request_are_all_written(self, client, alice):
        class ThreeReads(APIView):
            def get(self, request):
                for i in range(3):
                    require_purpose(actor=request.user, purpose=Purpose.SELF_SERVICE, action=f"probe.read{i}")
                return Response({})

        client.force_login(alice)
        urls = type("U", (), {"urlpatterns": [path("probe/", ThreeReads.as_view()), *project_urls.urlpatterns]})
        with override_settings(ROOT_URLCONF=urls):
            assert client.get("/probe/").status_code == 200
        assert sorted(AuditEntry.objects.filter(action__startswith="probe.").values_list("action", flat=True)) == [
            "probe.read0", "probe.read1", "probe.read2"]

    @pytest.mark.audit_guard_exempt("the access record is made to fail: the read must fail with it")
    def test_a_record_that_cannot_be_written_fails_the_request(self, client, alice, monkeypatch):
        client.force_login(alice)
        client.raise_request_exception = False

        def refuse() -> str:
            raise DatabaseError("the audit table refuses the write")

        monkeypatch.setattr(audit, "_insert_one_sql", refuse)
        assert client.get("/calls/").status_code == 500


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class AccessRecordOneRoundTripTests:
    """Outside a test's transaction (as in production) the records go in one round trip, as one
    transaction of their own."""

    def test_a_page_writes_its_record_in_the_same_statement_as_its_read(self, client, alice):
        """The call history's read carries its access record: one query string, one transaction, one
        round trip fewer than writing the record after the view (bench/portal.py)."""
        client.force_login(alice)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/calls/").status_code == 200
        writes = [q["sql"] for q in queries if "voipxs_auditentry" in q["sql"]]
        assert len(writes) == 1 and writes[0].startswith("SET LOCAL synchronous_commit TO OFF; INSERT INTO")
        assert "; EXECUTE voipxs_own_calls_" in writes[0]  # the read itself, after the record
        assert AuditEntry.objects.filter(action="cdr.list", actor=audit.actor_ref(alice)).count() == 1

    def test_a_filtered_page_sends_its_record_with_its_read_too(self, client, alice):
        client.force_login(alice)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/calls/?direction=out").status_code == 200
        writes = [q["sql"] for q in queries if "voipxs_auditentry" in q["sql"]]
        assert len(writes) == 1 and "traffic_cdr" in writes[0] and "retention_heldcdr" in writes[0]
        assert AuditEntry.objects.filter(action="cdr.list", actor=audit.actor_ref(alice)).count() == 1

    def test_a_read_the_database_refuses_leaves_its_record_to_the_middleware(self, client, alice, monkeypatch):
        """A failed read has shown nothing; its access was still asked for, and is recorded after it as before."""
        from traffic.selectors import calls as call_selectors

        client.force_login(alice)
        client.raise_request_exception = False
        real = call_selectors.statement

        def broken(key, *args):
            sql, params = real(key, *args)
            return sql.replace("LIMIT %s", "LIMIT %s / 0"), params  # PostgreSQL refuses it when it runs

        monkeypatch.setattr(call_selectors, "statement", broken)
        with override_settings(DATABASE_PREPARED_STATEMENTS=False):  # sent as written, not an earlier PREPARE
            assert client.get("/calls/").status_code == 500
        assert AuditEntry.objects.filter(action="cdr.list", actor=audit.actor_ref(alice)).count() == 1
        assert connection.get_autocommit() and not connection.in_atomic_block

    def test_the_call_history_reads_without_a_transaction_of_its_own(self, client, alice):
        """Two reads need no BEGIN and COMMIT around them (two round trips, 0.3-0.5 ms of the page in
        bench/portal.py); the access record goes with the calls' read."""
        client.force_login(alice)
        in_transaction = []

        def watch(execute, sql, params, many, context):
            if not sql.startswith("PREPARE"):  # a first PREPARE runs in a savepoint of its own
                in_transaction.append(connection.in_atomic_block)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(watch):
            assert client.get("/calls/").status_code == 200
        assert len(in_transaction) >= 2 and not any(in_transaction)  # session with its user, calls with their record
        assert AuditEntry.objects.filter(action="cdr.list", actor=audit.actor_ref(alice)).count() == 1

    @pytest.mark.audit_guard_exempt("the access record is made to fail: the read must fail with it")
    def test_a_write_the_database_refuses_fails_the_request_and_leaves_nothing(self, client, alice, monkeypatch):
        client.force_login(alice)
        client.raise_request_exception = False
        real = audit._insert_one_sql()
        monkeypatch.setattr(audit, "_insert_one_sql", lambda: real + " RETURNING 1 / 0")  # the database errs
        before = AuditEntry.objects.count()
        assert client.get("/calls/").status_code == 500
        assert AuditEntry.objects.count() == before
        assert connection.get_autocommit() and not connection.in_atomic_block  # the connection goes on


@pytest.mark.django_db
class SignedInUserOneQueryTests:
    """A signed-in page reads its user, their roles, their devices and the policy notice in ONE query
    (accounts.backends), and a role taken away or a device added counts on the next request."""

    def _queries(self, client, url="/calls/") -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200
        return _runs(queries)

    def test_the_user_roles_devices_and_notice_come_in_one_query(self, client, alice):
        from accounts.backends import session_statement

        client.force_login(alice)
        sql = self._queries(client)
        # PostgreSQL runs it prepared, and with the session's own read (accounts.sessions).
        reading = [q for q in sql if "auth_group" in q or "accounts_policyversion" in q or "otp_totp" in q
                   or q.startswith(("EXECUTE voipxs_user_facts_", "EXECUTE voipxs_session_read_"))]
        assert len(reading) == 1
        text = reading[0] if connection.vendor != "postgresql" else session_statement('"accounts_usersession"')[0]
        assert '"accounts_user"."password"' in text and "accounts_policyversion" in text

    def test_a_role_taken_away_counts_on_the_next_request(self, client, acme_admin):
        from django.contrib.auth.models import Group

        client.force_login(acme_admin)
        assert client.get("/calls/contractor/").status_code == 200
        acme_admin.groups.remove(Group.objects.get(name=Role.CONTRACTOR_ADMIN))
        assert client.get("/calls/contractor/").status_code == 403

    def test_an_inactive_account_is_signed_out(self, client, alice):
        client.force_login(alice)
        User.objects.filter(pk=alice.pk).update(is_active=False)
        assert client.get("/calls/").status_code == 302


@pytest.mark.django_db
class SessionReadTests:
    """accounts.sessions reads a session (on PostgreSQL with its user, in one statement): the same answers
    as Django's backend."""

    def test_a_live_session_signs_in_and_an_expired_or_unknown_one_does_not(self, client, alice):
        from datetime import timedelta

        from django.utils.timezone import now

        client.force_login(alice)
        assert client.get("/calls/").status_code == 200
        key = client.cookies["sessionid"].value
        UserSession.objects.filter(session_key=key).update(expire_date=now() - timedelta(seconds=1))
        assert client.get("/calls/").status_code == 302
        client.cookies["sessionid"] = "x" * 32
        assert client.get("/calls/").status_code == 302

    def test_each_session_row_names_its_user_and_an_anonymous_one_none(self, client, alice):
        from accounts.sessions import SessionStore

        before_sign_in = SessionStore()
        before_sign_in["probe"] = 1
        before_sign_in.save()
        assert UserSession.objects.get(session_key=before_sign_in.session_key).user_id is None
        client.force_login(alice)
        assert UserSession.objects.get(session_key=client.cookies["sessionid"].value).user_id == alice.pk

    @pytest.mark.postgres
    def test_a_signed_in_page_reads_its_session_and_its_user_in_one_statement(self, client, alice):
        client.force_login(alice)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/calls/").status_code == 200
        sql = _runs(queries)
        reading = [q for q in sql if q.startswith(("EXECUTE voipxs_session_read_", "EXECUTE voipxs_user_facts_"))]
        assert [q.split("(")[0].rsplit("_", 1)[0] for q in reading] == ["EXECUTE voipxs_session_read"]

    def test_a_password_changed_elsewhere_signs_the_session_out(self, client, alice):
        """The user the session's read brings along is checked as Django checks its own: by the password."""
        client.force_login(alice)
        assert client.get("/calls/").status_code == 200
        alice.set_password("another long passphrase")
        alice.save()
        assert client.get("/calls/").status_code == 302

    def test_a_session_whose_user_is_deleted_is_gone_with_them(self, client, alice):
        client.force_login(alice)
        User.objects.filter(pk=alice.pk).delete()
        assert not UserSession.objects.exists()


def _runs(queries) -> list[str]:
    """The statements a request ran, without the one-time preparation of a prepared statement on a new
    database connection (voipxs/statements.py: a savepoint around its PREPARE)."""
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "PREPARE "))]
