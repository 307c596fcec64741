"""LEGAL.md section 5 row 21 in Django's staff admin: each page of call records an administrator opens (the list, a
call's page) leaves an audit entry with its purpose and the ids of the calls it showed, never a number; a role without
the purpose is refused before anything is read, and the refusal is on record; a restricted call is not shown."""
from __future__ import annotations

import html
import json
from decimal import Decimal

import pytest
from django.utils.timezone import now

from tests.factories import make_cdr, verified_client
from traffic.models import Cdr
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref

pytestmark = pytest.mark.django_db

OTHER_NUMBER = "+31699993678"


def entries(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def plain(entry: AuditEntry) -> str:
    return json.dumps([entry.actor, entry.target_id, entry.extra])


class CdrAdminReadsTests:
    def test_the_list_page_records_the_ids_it_showed_with_the_purpose_and_no_number(self, client, admin_user, alice):
        calls = [make_cdr(account=alice, src="+31205550101", dst=OTHER_NUMBER) for _ in range(3)]
        page = verified_client(client, admin_user).get("/admin/traffic/cdr/")
        assert page.status_code == 200
        [entry] = entries("admin.cdr.list")
        assert (entry.actor, entry.purpose, entry.outcome) == (actor_ref(admin_user), "security", "ok")
        assert sorted(entry.extra["ids"]) == sorted(c.pk for c in calls)
        assert "31699993678" not in plain(entry) and "31205550101" not in plain(entry)

    def test_the_list_shows_a_calls_price_as_money(self, client, admin_user, alice):
        make_cdr(account=alice, price=Decimal("0.61"))
        page = html.unescape(verified_client(client, admin_user).get("/admin/traffic/cdr/").content.decode())
        assert '<td class="field-price_shown">€0.6100</td>' in page and "0.61000" not in page

    def test_a_calls_page_records_that_call_by_its_id(self, client, admin_user, alice):
        call = make_cdr(account=alice, src="+31205550101", dst=OTHER_NUMBER)
        admin = verified_client(client, admin_user)
        assert admin.get(f"/admin/traffic/cdr/{call.pk}/change/").status_code == 200
        assert admin.get(f"/admin/traffic/cdr/{call.pk}/history/").status_code == 200
        got = entries("admin.cdr.get")
        assert [(e.purpose, e.target_type, e.target_id, e.extra) for e in got] == [
            ("security", "cdr", str(call.pk), {"found": True})] * 2
        assert all("31699993678" not in plain(e) for e in got)

    def test_a_call_that_is_not_there_is_recorded_as_found_nothing_without_what_was_typed(self, client, admin_user):
        response = verified_client(client, admin_user).get("/admin/traffic/cdr/0699991234/change/")
        assert response.status_code == 302  # the admin's "does not exist" message
        [entry] = entries("admin.cdr.get")
        assert (entry.purpose, entry.target_id, entry.extra) == ("security", "", {"found": False})
        assert "0699991234" not in plain(entry)

    def test_a_role_without_the_purpose_is_refused_before_reading_and_the_refusal_is_recorded(self, client, dpo,
                                                                                                 alice):
        # The DPO's purposes (SELF_SERVICE, LEGAL_OBLIGATION) do not include the admin's SECURITY.
        call = make_cdr(account=alice)
        response = verified_client(client, dpo).get(f"/admin/traffic/cdr/{call.pk}/change/")
        assert response.status_code == 403
        [entry] = AuditEntry.objects.filter(action__startswith="admin.cdr.")
        assert (entry.action, entry.actor, entry.purpose, entry.outcome) == (
            "admin.cdr.read", actor_ref(dpo), "security", "refused")

    def test_a_superuser_without_the_admin_role_holds_no_purpose_and_is_refused(self, client, django_user_model,
                                                                               alice):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        root = django_user_model.objects.create_superuser(username="root", email="root@example.org", password="x" * 20)
        TOTPDevice.objects.create(user=root, name="default", confirmed=True)
        make_cdr(account=alice)
        assert verified_client(client, root).get("/admin/traffic/cdr/").status_code == 403
        assert [e.outcome for e in AuditEntry.objects.filter(action__startswith="admin.cdr.")] == ["refused"]

    def test_a_restricted_call_is_not_shown(self, client, admin_user, alice):
        shown = make_cdr(account=alice)
        restricted = make_cdr(account=alice)
        Cdr.objects.filter(pk=restricted.pk).update(restricted_at=now())  # GDPR art. 18, as erasure marks it
        admin = verified_client(client, admin_user)
        assert admin.get("/admin/traffic/cdr/").status_code == 200
        assert entries("admin.cdr.list")[0].extra["ids"] == [shown.pk]
        assert admin.get(f"/admin/traffic/cdr/{restricted.pk}/change/").status_code == 302  # as if not there


class CdrAdminShowsIdsTests:
    def test_a_calls_page_names_its_account_by_id_not_by_login_name(self, client, admin_user, alice):
        call = make_cdr(account=alice, src="+31205550101", dst=OTHER_NUMBER)
        page = verified_client(client, admin_user).get(f"/admin/traffic/cdr/{call.pk}/change/")
        body = page.content.decode()
        assert page.status_code == 200
        assert f"#{alice.pk}" in body
        assert alice.username not in body.replace(admin_user.username, "")
        assert 'name="account"' not in body  # not an editable choice of every user either
