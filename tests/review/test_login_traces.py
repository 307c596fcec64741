"""A successful sign-in leaves no login name, IP address or user agent behind outside the retention
policy: django-axes' AccessLog (one row per login, never purged, not in the data-subject export)
is switched off (AXES_DISABLE_ACCESS_LOG)."""
from __future__ import annotations

import pytest
from axes.models import AccessLog

from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD


@pytest.mark.django_db
class LoginTracesTests:
    def test_it_keeps_no_access_log_row_for_a_successful_sign_in(self, client, alice):
        response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD},
                               HTTP_USER_AGENT="Mozilla/5.0 review")
        assert response.status_code == 302 and "_auth_user_id" in client.session
        assert not AccessLog.objects.filter(username="alice").exists()
        assert AccessLog.objects.count() == 0
