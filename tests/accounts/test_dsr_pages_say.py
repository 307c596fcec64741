"""What the privacy-request pages say back: a wrong password on the erasure confirmation page shows that page
again with the error at the password field (not the first form), nothing done and the refusal audited; and each
of the DPO's steps on a request says what it did, not a bare "Done."."""
from __future__ import annotations

import re

import pytest
from django.utils.formats import date_format
from django.utils.timezone import localtime

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from accounts.models import User
from accounts.services.sign_in import WRONG_PASSWORD
from tests.factories import verified_client
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
Kind, Status = DataSubjectRequest.Kind, DataSubjectRequest.Status


class ErasureWrongPasswordTests:
    def test_the_confirmation_page_comes_back_with_the_error_at_the_password(self, client, alice):
        verified_client(client, alice)
        response = client.post("/privacy-requests/new/", {"kind": Kind.ERASURE, "details": "", "password": "wrong",
                                                          "confirm": "yes"})
        body = response.content.decode()
        assert response.status_code == 400
        assert "Erase your data and close your account?" in body  # the confirmation page, not "Your privacy"
        assert "Yes, erase my data and close my account" in body
        error = re.search(r'<ul class="errorlist" id="confirm-password-error"><li>([^<]*)</li></ul>', body)
        assert error and error.group(1) == WRONG_PASSWORD
        assert re.search(r'<input id="confirm-password" type="password" name="password"[^>]*aria-invalid="true"'
                         r'[^>]*aria-describedby="confirm-password-error"', body)
        assert "wrong" not in re.findall(r'value="([^"]*)"', body)  # the password given is not echoed back
        assert 'name="kind" value="erasure"' in body and 'name="confirm" value="yes"' in body
        # nothing else changes: no request, the account open, the refusal audited
        assert User.objects.get(pk=alice.pk).is_active and not DataSubjectRequest.objects.exists()
        assert AuditEntry.objects.filter(action="dsr.reauth_failed").count() == 1

    def test_the_right_password_on_it_then_erases(self, client, alice):
        from tests.factories import PASSWORD

        verified_client(client, alice)
        client.post("/privacy-requests/new/", {"kind": Kind.ERASURE, "password": "wrong", "confirm": "yes"})
        response = client.post("/privacy-requests/new/", {"kind": Kind.ERASURE, "password": PASSWORD, "confirm": "yes"})
        assert response.status_code == 200 and not User.objects.get(pk=alice.pk).is_active


class DpoStepMessageTests:
    def _after(self, client, req, action, text=""):
        data = {"action": action, "answer": text, **({"confirm": "yes"} if action in ("complete", "reject") else {})}
        response = client.post(f"/privacy-requests/dpo/{req.pk}/", data, follow=True)
        assert response.status_code == 200
        return [str(m) for m in response.context["messages"]]

    @pytest.mark.parametrize("action, said", [
        ("start", "Request #{pk} is in progress."),
        ("complete", "Request #{pk} is completed; the customer reads your answer under “Your privacy”."),
        ("reject", "Request #{pk} is rejected; the customer reads your answer under “Your privacy”."),
    ])
    def test_each_step_says_what_it_did(self, client, alice, dpo, action, said):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        shown = self._after(client, req, action, "Our answer.")
        assert shown == [said.format(pk=req.pk)] and "Done." not in shown

    def test_an_extension_names_the_new_deadline(self, client, alice, dpo):
        req = dsr_request_create(user=alice, kind=Kind.RECTIFICATION, details="My label is wrong")
        verified_client(client, dpo)
        shown = self._after(client, req, "extend", "Many records to check.")
        deadline = date_format(localtime(DataSubjectRequest.objects.get(pk=req.pk).deadline), "DATE_FORMAT")
        assert shown == [f"Request #{req.pk} is extended to {deadline}; the customer is e-mailed the reason."]
