"""Admin: CDRs read-only, never counted in full, numbers never shown; sources saved through the service."""
from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_cdr, verified_client
from traffic.models import Source


def superuser(django_user_model):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = django_user_model.objects.create_superuser(username="root", email="root@example.org", password="x" * 20)
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


class CdrAdminTests:
    # The administrator (the admin role): the call pages read under its purpose SECURITY (test_admin_call_reads.py).
    def test_the_cdr_list_never_counts_the_table_and_shows_no_number(self, client, db, admin_user, alice):
        make_cdr(account=alice, src="+31205550101", dst="+31699993678", caller_name="Alice A")
        client = verified_client(client, admin_user)

        with CaptureQueriesContext(connection) as queries:
            response = client.get("/admin/traffic/cdr/")

        assert response.status_code == 200
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper() and "traffic_cdr" in q["sql"]]
        assert counts == []
        body = response.content.decode()
        assert "31699993678" not in body and "Alice A" not in body

    def test_cdrs_cannot_be_added_or_changed(self, client, db, admin_user, alice):
        cdr = make_cdr(account=alice)
        client = verified_client(client, admin_user)
        assert client.get("/admin/traffic/cdr/add/").status_code == 403
        page = client.get(f"/admin/traffic/cdr/{cdr.pk}/change/")
        assert page.status_code == 200 and b"31699993678" not in page.content and 'name="_save"' not in page.content.decode()


class SourceAdminTests:
    def test_a_source_added_in_the_admin_is_validated_by_the_service(self, client, db, django_user_model):
        client = verified_client(client, superuser(django_user_model))
        response = client.post("/admin/traffic/source/add/", {
            "name": "adm-pbx", "format": "asterisk-csv", "timezone": "Europe/Amsterdam", "default_country": "nl",
            "carrier": "",
        })
        assert response.status_code == 302
        assert Source.objects.get(name="adm-pbx").default_country == "NL"

    def test_a_bad_time_zone_is_shown_on_the_form_not_a_500(self, client, db, django_user_model):
        client = verified_client(client, superuser(django_user_model))
        response = client.post("/admin/traffic/source/add/", {
            "name": "adm-bad", "format": "asterisk-csv", "timezone": "Nowhere/Land", "default_country": "NL",
        })
        assert response.status_code == 200
        assert b"Unknown time zone" in response.content
        assert not Source.objects.exists()
