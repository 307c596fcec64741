"""Support's "Reset the second factor" asks first (voipxs/confirm.py), and its reason is an explicit choice: the
list starts empty, so a reason is never sent because it happened to be preselected. The first POST names what
happens and changes nothing; the confirmed one resets."""
from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db


def _enrolled(user) -> None:
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    StaticDevice.objects.create(user=user, name="backup", confirmed=True)


def _url(user) -> str:
    return f"/support/customers/{user.pk}/two-factor-reset/"


class SupportResetConfirmationTests:
    def test_the_reason_list_starts_empty_and_nothing_is_preselected(self, client, support, alice):
        _enrolled(alice)
        page = verified_client(client, support).get(f"/support/customers/{alice.pk}/").content.decode()
        select = page.split('name="reason"', 1)[1].split("</select>", 1)[0]
        assert select.index('<option value="" selected>') < select.index('value="lost_device"')
        assert re.search(r'<select name="reason"[^>]*\brequired\b', page)
        assert select.count("selected") == 1

    def test_the_first_click_asks_naming_the_reason_and_resets_nothing(self, client, support, alice):
        _enrolled(alice)
        response = verified_client(client, support).post(_url(alice), {"reason": "lost_device", "ticket": "TCK-7"})
        body = response.content.decode()
        assert response.status_code == 200 and "Reset this customer&#x27;s second factor?" in body
        assert "Phone or authenticator lost or broken" in body and "password alone signs them in" in body
        assert 'name="confirm" value="yes"' in body and 'name="ticket" value="TCK-7"' in body
        assert TOTPDevice.objects.filter(user=alice).exists() and StaticDevice.objects.filter(user=alice).exists()
        assert not AuditEntry.objects.filter(action="support.two_factor_reset", outcome="ok").exists()

    def test_the_confirmation_page_is_in_dutch(self, client, support, alice):
        _enrolled(alice)
        c = verified_client(client, support)
        c.cookies["django_language"] = "nl"
        body = c.post(_url(alice), {"reason": "lost_device"}).content.decode()
        assert '<html lang="nl">' in body and "Bevestig alstublieft" in body
        assert TOTPDevice.objects.filter(user=alice).exists()

    def test_without_a_reason_it_is_refused_at_the_field_before_any_confirmation(self, client, support, alice):
        _enrolled(alice)
        response = verified_client(client, support).post(_url(alice), {"reason": "", "confirm": "yes"})
        body = response.content.decode()
        assert response.status_code == 400 and 'id="id_reason_error"' in body and "Please confirm" not in body
        assert TOTPDevice.objects.filter(user=alice).exists()

    def test_a_customer_without_a_second_factor_is_refused_before_any_confirmation(self, client, support, alice):
        response = verified_client(client, support).post(_url(alice), {"reason": "lost_device"})
        assert response.status_code == 400 and "Please confirm" not in response.content.decode()

    def test_the_confirmed_click_resets(self, client, support, alice):
        _enrolled(alice)
        response = verified_client(client, support).post(_url(alice), {"reason": "new_device", "confirm": "yes"})
        assert response.status_code == 302 and not TOTPDevice.objects.filter(user=alice).exists()
        assert not StaticDevice.objects.filter(user=alice).exists()
