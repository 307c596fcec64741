from __future__ import annotations

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Contractor, PhoneNumber, User
from tests.accounts.helpers import _fresh_cache, totp_code  # noqa: F401
from tests.factories import PASSWORD, make_user, verified_client
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Role


@pytest.fixture
def admin_client(client, admin_user):
    return verified_client(client, admin_user)


@pytest.mark.django_db
class AdminAccessTests:
    def test_it_refuses_staff_who_have_not_passed_the_second_factor(self, client, admin_user):
        client.force_login(admin_user)
        response = client.get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")

    def test_it_asks_for_the_code_on_the_admin_login(self, client, admin_user):
        page = client.get("/admin/login/")
        assert b'name="otp_token"' in page.content
        response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": PASSWORD})
        assert response.status_code == 200  # no code: not signed in
        assert client.get("/admin/").status_code == 302
        device = TOTPDevice.objects.get(user=admin_user)
        response = client.post("/admin/login/?next=/admin/", {
            "username": "admin", "password": PASSWORD, "otp_device": device.persistent_id, "otp_token": totp_code(device)})
        assert response.status_code == 302
        assert client.get("/admin/").status_code == 200

    def test_it_keeps_staff_without_a_device_out(self, client, db):
        make_user("root2", roles=(Role.ADMIN,))
        response = client.post("/admin/login/?next=/admin/", {"username": "root2", "password": PASSWORD, "otp_token": "123456"})
        assert response.status_code == 200
        assert client.get("/admin/").status_code == 302

    def test_it_keeps_customers_out(self, client, alice):
        client.force_login(alice)
        assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
class UserAdminTests:
    def test_it_lists_users_with_e_mail_decrypted_and_searches_by_login_name(self, admin_client, alice, bob):
        page = admin_client.get("/admin/accounts/user/")
        assert page.status_code == 200 and b"alice@example.org" in page.content
        found = admin_client.get("/admin/accounts/user/?q=ali")
        assert b"alice@example.org" in found.content and b"bob@example.org" not in found.content
        by_mail = admin_client.get("/admin/accounts/user/?q=bob@example.org")
        assert b">bob<" not in by_mail.content  # e-mail is not searchable (that would decrypt the table)

    def test_the_search_field_is_labelled_in_words_of_the_page_language(self, admin_client, alice):
        # Django's own template labels it with the icon's alt text only, "Search" in every language.
        english = admin_client.get("/admin/accounts/user/").content.decode()
        admin_client.cookies["django_language"] = "nl"
        dutch = admin_client.get("/admin/accounts/user/").content.decode()
        assert '<span class="visually-hidden">Search</span></label>' in english
        assert '<span class="visually-hidden">Zoeken</span></label>' in dutch and 'alt="Search"' not in dutch

    def test_it_filters_users_by_role_each_named_in_the_page_language(self, admin_client, alice, legal1):
        english = admin_client.get("/admin/accounts/user/").content.decode()
        assert ">Legal officer</a>" in english and ">legal_officer</a>" not in english  # not the group's code
        only = admin_client.get("/admin/accounts/user/?role=legal_officer").content.decode()
        assert ">legal1</a>" in only and ">alice</a>" not in only
        admin_client.cookies["django_language"] = "nl"
        assert ">Juridisch medewerker</a>" in admin_client.get("/admin/accounts/user/").content.decode()

    def test_the_forms_label_their_fields_in_the_page_language(self, admin_client, alice):
        admin_client.cookies["django_language"] = "nl"
        user = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
        assert "Opgeheven op:" in user and "Geanonimiseerd op:" in user and "Opdrachtgever:" in user
        assert "Closed at" not in user and "Anonymised at" not in user
        tariff = admin_client.get("/admin/traffic/tariff/add/").content.decode()
        assert "Omschrijving (zone):" in tariff and "Starttarief:" in tariff and "Geldig vanaf:" in tariff
        assert "Eerste tariefeenheid (s):" in tariff and "Setup fee" not in tariff and "Valid from" not in tariff

    def test_the_e_mail_address_and_contractor_are_labelled_in_the_page_language(self, admin_client, alice):
        # The encrypted e-mail field once labelled itself by its name ("Email:"), and the add form's contractor too.
        english = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
        assert "E-mail address:</label>" in english and "Email:" not in english
        admin_client.cookies["django_language"] = "nl"
        change = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/").content.decode()
        add = admin_client.get("/admin/accounts/user/add/").content.decode()
        assert "E-mailadres:</label>" in change and "Email:" not in change
        assert "Opdrachtgever:</label>" in add and "Contractor:" not in add

    def test_it_adds_a_user_through_the_service(self, admin_client, acme):
        assert admin_client.get("/admin/accounts/user/add/").status_code == 200
        response = admin_client.post("/admin/accounts/user/add/", {
            "username": "dave", "email": "dave@example.org", "contractor": acme.pk, "roles": ["customer"],
            "usable_password": "true", "password1": "dave-long-passphrase-1", "password2": "dave-long-passphrase-1"})
        assert response.status_code == 302, response.content.decode()[:2000]
        dave = User.objects.get(username="dave")
        assert dave.email == "dave@example.org" and dave.contractor == acme and dave.check_password("dave-long-passphrase-1")
        assert AuditEntry.objects.filter(action="user.create").exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM accounts_user WHERE username = 'dave'")
            assert "dave@example.org" not in repr(cursor.fetchall())

    def test_it_changes_roles_through_the_service_and_makes_the_account_staff(self, admin_client, alice):
        page = admin_client.get(f"/admin/accounts/user/{alice.pk}/change/")
        assert page.status_code == 200
        response = admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", {
            "username": "alice", "email": "alice@example.org", "contractor": "", "is_active": "on",
            "roles": ["customer", "support"]})
        assert response.status_code == 302, response.content.decode()[:2000]
        alice.refresh_from_db()
        assert set(alice.groups.values_list("name", flat=True)) == {"customer", "support"} and alice.is_staff
        assert AuditEntry.objects.filter(action="user.roles_set").count() >= 2


@pytest.mark.django_db
class PhoneNumberAdminTests:
    def test_it_shows_numbers_masked_in_the_list(self, admin_client, alice):
        page = admin_client.get("/admin/accounts/phonenumber/")
        assert page.status_code == 200
        assert b"+31205550101" not in page.content and "+31205550•••" in page.content.decode()

    def test_it_finds_a_number_through_the_blind_index(self, admin_client, alice, bob):
        page = admin_client.get("/admin/accounts/phonenumber/?q=020+555+0201")
        assert "+31205550•••" in page.content.decode() and ">bob<" in page.content.decode()
        assert ">alice<" not in page.content.decode()

    def test_it_assigns_a_number_through_the_service_and_names_the_field_on_a_clash(self, admin_client, alice, bob):
        assert admin_client.get("/admin/accounts/phonenumber/add/").status_code == 200
        response = admin_client.post("/admin/accounts/phonenumber/add/", {
            "user": alice.pk, "number": "020 555 0303", "label": "office",
            "valid_from_0": "2026-01-01", "valid_from_1": "00:00:00"})
        assert response.status_code == 302, response.content.decode()[:3000]
        assert PhoneNumber.objects.filter(user=alice, label="office").get().number == "+31205550303"
        clash = admin_client.post("/admin/accounts/phonenumber/add/", {
            "user": alice.pk, "number": "+31205550201", "valid_from_0": "2026-01-01", "valid_from_1": "00:00:00"})
        assert clash.status_code == 200 and b"Someone else holds this number" in clash.content
        bad = admin_client.post("/admin/accounts/phonenumber/add/", {
            "user": alice.pk, "number": "not a number", "valid_from_0": "2026-01-01", "valid_from_1": "00:00:00"})
        assert bad.status_code == 200 and b"not a valid phone number" in bad.content


@pytest.mark.django_db
class ContractorAndAuditAdminTests:
    def test_it_adds_a_contractor_through_the_service(self, admin_client):
        response = admin_client.post("/admin/accounts/contractor/add/", {"name": "Beta BV"})
        assert response.status_code == 302
        assert Contractor.objects.filter(name="Beta BV").exists()
        assert AuditEntry.objects.filter(action="contractor.create").exists()

    def test_it_shows_the_audit_log_read_only(self, admin_client, alice):
        page = admin_client.get("/admin/voipxs/auditentry/")
        assert page.status_code == 200
        entry = AuditEntry.objects.first()
        assert admin_client.get("/admin/voipxs/auditentry/add/").status_code == 403
        assert admin_client.post(f"/admin/voipxs/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
        detail = admin_client.get(f"/admin/voipxs/auditentry/{entry.pk}/change/")
        assert detail.status_code == 200 and b'name="_save"' not in detail.content

    def test_it_lists_the_trim_anchors_read_only(self, admin_client):
        from datetime import datetime, timezone

        from voipxs.models import AuditAnchor
        from voipxs.privacy.audit import anchor_mac

        anchor = AuditAnchor(up_to_seq=0, entry_hash="0" * 64, removed=0, cutoff=datetime(2021, 1, 1, tzinfo=timezone.utc))
        anchor.mac = anchor_mac(anchor)
        anchor.save()
        page = admin_client.get("/admin/voipxs/auditanchor/")
        assert page.status_code == 200 and f"/admin/voipxs/auditanchor/{anchor.pk}/change/" in page.content.decode()
        assert admin_client.get("/admin/voipxs/auditanchor/add/").status_code == 403


@pytest.mark.django_db
class StaffTokenTests:
    def test_it_revokes_api_tokens_when_a_customer_becomes_staff(self, admin_client, alice):
        from knox.models import AuthToken

        from accounts.services.sign_in import api_token_issue

        api_token_issue(user=alice)
        admin_client.post(f"/admin/accounts/user/{alice.pk}/change/", {
            "username": "alice", "email": "alice@example.org", "contractor": "", "is_active": "on",
            "roles": ["customer", "billing"]})
        assert not AuthToken.objects.filter(user=alice).exists()


@pytest.mark.django_db
class UserAdminPurposeTests:
    def test_reading_the_user_list_is_audited_under_security(self, client, admin_user, alice):
        from tests.factories import verified_client
        from voipxs.models import AuditEntry

        response = verified_client(client, admin_user).get("/admin/accounts/user/")
        assert response.status_code == 200 and b"alice@example.org" in response.content
        assert AuditEntry.objects.filter(action="admin.user.read", purpose="security", outcome="ok").exists()
