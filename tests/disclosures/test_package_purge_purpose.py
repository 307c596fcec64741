"""LEGAL.md section 5 row 21: a delivered package that goes after its retention leaves an audit entry with the purpose
the retention purge serves (a legal obligation: storage limitation)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from disclosures.models import Package
from disclosures.services.jobs import disclosure_packages_purge
from voipxs.models import AuditEntry

from .conftest import receive

pytestmark = pytest.mark.django_db


class PackagePurgePurposeTests:
    def test_the_package_purge_records_the_legal_obligation(self, legal1, authority):
        req = receive(legal1, authority)
        package = Package.objects.create(request=req, delete_after=now() - timedelta(minutes=1))

        assert disclosure_packages_purge() == {"deleted": 1}

        entry = AuditEntry.objects.get(action="disclosure.package_purge")
        assert (entry.purpose, entry.target_id, entry.extra) == ("legal_obligation", str(req.pk),
                                                                 {"package": package.pk})
