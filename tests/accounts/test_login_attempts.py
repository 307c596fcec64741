"""Failed sign-in records (django-axes AccessAttempt: login name, IP address) go with the person's data."""
from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import dsr_request_create
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD

WRONG = "not-the-password-42"


@pytest.mark.django_db
class LoginAttemptErasureTests:
    def test_erasure_removes_the_persons_failed_sign_ins_and_no_one_elses(self, client, alice, bob):
        client.post("/accounts/login/", {"username": "alice", "password": WRONG})
        client.post("/accounts/login/", {"username": "bob", "password": WRONG})
        assert set(AccessAttempt.objects.values_list("username", flat=True)) == {"alice", "bob"}

        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ERASURE, password=PASSWORD)

        assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["bob"]
        assert req.outcome["counts"]["account"]["login_attempts"] == 1
