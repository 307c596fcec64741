"""The disclosures admin only shows: every change goes through the legal officers' pages."""
from __future__ import annotations

import pytest

from tests.factories import verified_client


@pytest.mark.django_db
class DisclosureAdminTests:
    @pytest.mark.parametrize("model", ["authority", "disclosurerequest", "package", "notice"])
    def test_it_lists_but_offers_no_add(self, client, legal1, model):
        staff = verified_client(client, legal1)
        page = staff.get(f"/admin/disclosures/{model}/")
        assert page.status_code == 200
        assert f"/admin/disclosures/{model}/add/".encode() not in page.content
        assert staff.get(f"/admin/disclosures/{model}/add/").status_code == 403

    @pytest.mark.parametrize("model", ["authority", "disclosurerequest", "package", "notice"])
    def test_the_superuser_admin_role_sees_none_of_it(self, client, admin_user, model):
        staff = verified_client(client, admin_user)
        assert staff.get(f"/admin/disclosures/{model}/").status_code == 403
        assert b"/admin/disclosures/" not in staff.get("/admin/").content
