"""LEGAL.md section 5 row 21: erasure's audit entry says which purpose it served. GDPR art. 17(1) puts the
erasure on the controller as an obligation, so the entry records `legal_obligation`."""
from __future__ import annotations

import pytest

from accounts.dsr.models import DataSubjectRequest
from tests.factories import PASSWORD, make_cdr, verified_client
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref, target_ref


@pytest.mark.django_db
class ErasureAuditPurposeTests:
    def test_the_erasure_records_the_legal_obligation_it_fulfils(self, client, alice):
        make_cdr(account=alice, dst="+31699993678")
        verified_client(client, alice)
        start = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

        response = client.post("/privacy-requests/new/", {"kind": DataSubjectRequest.Kind.ERASURE,
                                                          "password": PASSWORD, "confirm": "yes"})

        assert response.status_code == 200
        erase = AuditEntry.objects.get(pk__gt=start, action="dsr.erase")
        assert (erase.purpose, erase.actor, erase.target_id) == ("legal_obligation", actor_ref(alice),
                                                                  target_ref("user", alice.pk))
        assert "+3169999" not in str(erase.extra)
        request = DataSubjectRequest.objects.get(user=alice)
        assert request.status == DataSubjectRequest.Status.COMPLETED and erase.extra["request"] == request.pk
