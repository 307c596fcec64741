"""Issue 16, leak 2: an admin could tick `legal_officer` on their own account in Django admin, then open
secret disclosure requests and download their packages; the TOTP device admin showed every staff
member's TOTP secret (and the static-device admin every recovery code).

Now the roles that open secrets or registers (admin, legal officer, DPO) are only requested by one
admin and given when a second admin approves; device secrets are never shown after enrolment."""
from __future__ import annotations

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.services.roles import role_grant_approve, role_grant_refuse, user_roles_set
from accounts.models import RoleGrant, User
from tests.factories import make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Role


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)  # roles are cached on an instance


def _roles(user: User) -> set[str]:
    return set(_fresh(user).groups.values_list("name", flat=True))


def _change_roles(client, user: User, roles: list[str]):
    return client.post(f"/admin/accounts/user/{user.pk}/change/", {
        "username": user.username, "email": f"{user.username}@example.org", "contractor": "", "is_active": "on",
        "roles": roles})


@pytest.fixture
def admin2(db) -> User:
    return make_user("admin2", roles=(Role.ADMIN,), totp=True)


@pytest.mark.django_db
class SelfPromotionTests:
    def test_an_admin_who_ticks_legal_officer_on_themself_gets_no_secret_disclosures(self, client, admin_user):
        admin = verified_client(client, admin_user)
        response = _change_roles(admin, admin_user, ["admin", "legal_officer"])
        assert response.status_code == 302
        assert _roles(admin_user) == {"admin"}
        assert admin.get("/disclosures/").status_code == 404  # the legal pages do not exist for them
        assert admin.get("/api/v1/staff/disclosures/requests/").status_code == 403
        grant = RoleGrant.objects.get(user=admin_user)
        assert (grant.role, grant.status, grant.requested_by) == ("legal_officer", "pending", admin_user)
        assert AuditEntry.objects.filter(action="role_grant.request").exists()

    def test_the_change_page_says_the_role_waits_for_a_second_admin(self, client, admin_user, alice):
        admin = verified_client(client, admin_user)
        page = _change_roles(admin, alice, ["customer", "dpo"])
        follow = admin.get(page["Location"])
        assert "Waiting for a second admin to approve: Data protection officer." in follow.content.decode()

    def test_an_admin_cannot_make_a_puppet_admin_to_approve_for_them(self, client, admin_user, alice):
        admin = verified_client(client, admin_user)
        _change_roles(admin, alice, ["customer", "admin"])
        alice = _fresh(alice)
        assert _roles(alice) == {"customer"} and not alice.is_superuser and not alice.is_staff
        with pytest.raises(ApplicationError):
            role_grant_approve(grant=RoleGrant.objects.get(user=alice), actor=alice)

    def test_a_new_user_created_with_a_legal_role_gets_it_only_after_approval(self, client, admin_user, admin2):
        admin = verified_client(client, admin_user)
        response = admin.post("/admin/accounts/user/add/", {
            "username": "newlegal", "email": "newlegal@example.org", "roles": ["legal_officer"],
            "usable_password": "true", "password1": "newlegal-passphrase-1", "password2": "newlegal-passphrase-1"})
        assert response.status_code == 302
        newlegal = User.objects.get(username="newlegal")
        assert _roles(newlegal) == set() and not newlegal.is_staff
        role_grant_approve(grant=RoleGrant.objects.get(user=newlegal), actor=admin2)
        newlegal = _fresh(newlegal)
        assert _roles(newlegal) == {"legal_officer"} and newlegal.is_staff

    def test_ordinary_roles_and_removals_take_effect_at_once(self, client, admin_user, legal1):
        admin = verified_client(client, admin_user)
        _change_roles(admin, legal1, ["billing"])
        assert _roles(legal1) == {"billing"}
        assert not RoleGrant.objects.exists()


@pytest.mark.django_db
class SecondAdminApprovalTests:
    @pytest.fixture
    def grant(self, client, admin_user, alice) -> RoleGrant:
        _change_roles(verified_client(client, admin_user), alice, ["customer", "legal_officer"])
        return RoleGrant.objects.get(user=alice)

    def test_a_second_admin_approves_in_the_admin_and_the_role_is_given(self, client, grant, admin2, alice):
        client.logout()
        second = verified_client(client, admin2)
        assert "legal_officer" in second.get("/admin/accounts/rolegrant/").content.decode()
        asked = second.post("/admin/accounts/rolegrant/", {"action": "approve", "_selected_action": [grant.pk]})
        assert "Approve 1 role request(s)?" in asked.content.decode() and "alice: Legal officer" in asked.content.decode()
        grant.refresh_from_db()
        assert grant.status == "pending"  # asked first
        response = second.post("/admin/accounts/rolegrant/", {"action": "approve", "_selected_action": [grant.pk],
                                                               "post": "yes"})
        assert response.status_code == 302
        grant.refresh_from_db()
        assert grant.status == "approved" and grant.decided_by == admin2
        assert _roles(alice) == {"customer", "legal_officer"} and _fresh(alice).is_staff
        client.logout()
        TOTPDevice.objects.create(user=alice, name="default", confirmed=True)
        assert verified_client(client, _fresh(alice)).get("/disclosures/").status_code == 200
        entry = AuditEntry.objects.get(action="role_grant.approve")
        assert entry.extra["role"] == "legal_officer" and "admin" not in str(entry.extra["requested_by"])

    def test_the_requesting_admin_cannot_approve_their_own_request(self, client, grant, admin_user, alice):
        admin = verified_client(client, admin_user)
        admin.post("/admin/accounts/rolegrant/", {"action": "approve", "_selected_action": [grant.pk], "post": "yes"})
        grant.refresh_from_db()
        assert grant.status == "pending" and _roles(alice) == {"customer"}

    def test_the_person_concerned_cannot_approve_even_as_an_admin(self, admin_user, admin2):
        user_roles_set(user=admin2, roles=["admin", "dpo"], actor=admin_user)
        with pytest.raises(ApplicationError, match="second admin"):
            role_grant_approve(grant=RoleGrant.objects.get(user=admin2), actor=admin2)

    def test_non_admins_cannot_decide(self, grant, legal1):
        with pytest.raises(ApplicationError, match="Only an admin"):
            role_grant_approve(grant=grant, actor=legal1)

    def test_a_decided_request_cannot_be_decided_again(self, grant, admin2, admin_user):
        role_grant_refuse(grant=grant, actor=admin_user)
        with pytest.raises(ApplicationError, match="already decided"):
            role_grant_approve(grant=grant, actor=admin2)


@pytest.mark.django_db
class DeviceSecretTests:
    def test_the_totp_admin_shows_no_secret_key_and_no_qr_code(self, client, admin_user, legal1):
        admin = verified_client(client, admin_user)
        device = TOTPDevice.objects.get(user=legal1)
        listing = admin.get("/admin/otp_totp/totpdevice/").content.decode()
        detail = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
        assert "legal1" in listing
        assert detail.status_code == 200
        for page in (listing, detail.content.decode()):
            assert device.key not in page and device.key.upper() not in page and "otpauth://" not in page
        assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/config/").status_code in (302, 404)
        assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/").status_code in (302, 404)

    def test_the_static_device_admin_shows_no_recovery_code(self, client, admin_user, legal1):
        device = StaticDevice.objects.create(user=legal1, name="backup", confirmed=True)
        StaticToken.objects.create(device=device, token="rc7q2zpk")
        admin = verified_client(client, admin_user)
        detail = admin.get(f"/admin/otp_static/staticdevice/{device.pk}/change/")
        assert detail.status_code == 200 and "rc7q2zpk" not in detail.content.decode()

    def test_an_admin_cannot_set_a_legal_officers_password(self, client, admin_user, legal1):
        admin = verified_client(client, admin_user)
        response = admin.post(f"/admin/accounts/user/{legal1.pk}/password/", {
            "usable_password": "true", "password1": "taken-over-passphrase-1", "password2": "taken-over-passphrase-1"})
        assert response.status_code == 200 and "reset their own password" in response.content.decode()
        assert not _fresh(legal1).check_password("taken-over-passphrase-1")
