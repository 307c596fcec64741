"""A package build whose officer's account row is gone (the build runs as the officer who started it) failed at
its first line, before it could be marked failed: the request stayed "producing", the reaper sent it again every
five minutes for ever, and the request page said nothing. Now the build is marked failed with a reason the
officers read on the request's page (start the production again, as yourself), the reaper stops sending it, and
the failure is audited."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.db.models import Max
from django.urls import reverse
from django.utils.timezone import now

from accounts.models import User
from disclosures.models import DisclosureRequest, Status
from disclosures.services.packages import disclosure_productions_requeue
from tests.factories import verified_client
from voipxs.models import AuditEntry

from .conftest import receive, to_state
from .test_production_requeue import unsent_production

pytestmark = pytest.mark.django_db
LATER = timedelta(minutes=10)


def _started_by_nobody(req: DisclosureRequest, restore_to: User):
    """Point the production's starter at an account row that no longer exists; undone after the test (the test
    database checks its foreign keys at the end)."""
    gone = (User.objects.aggregate(m=Max("pk"))["m"] or 0) + 1000
    DisclosureRequest.objects.filter(pk=req.pk).update(production_started_by_id=gone)
    return lambda: DisclosureRequest.objects.filter(pk=req.pk).update(production_started_by_id=restore_to.pk)


def test_a_build_whose_officer_is_gone_is_marked_failed_once_and_said_on_the_page(legal1, legal2, legal3,
                                                                                  authority, client):
    req = unsent_production(legal1, legal2, legal3, authority)
    restore = _started_by_nobody(req, legal1)
    try:
        disclosure_productions_requeue(at=now() + LATER)

        req = DisclosureRequest.objects.get(pk=req.pk)
        assert req.status == Status.APPROVED
        assert disclosure_productions_requeue(at=now() + 2 * LATER) == []
        entry = AuditEntry.objects.get(action="disclosure.production_failed", target_id=str(req.pk))
        assert "no longer" in entry.extra["error"]
        verified_client(client, legal2)
        page = client.get(reverse("disclosures:detail", args=[req.pk])).content.decode()
        assert "Production failed:" in page
        assert "The officer who started the production no longer has an account" in page
    finally:
        restore()


def test_a_build_sent_with_an_officer_id_that_no_longer_exists_stops_there(legal1, legal2, legal3, authority):
    from disclosures.tasks import disclosure_package_build_task

    req = to_state(receive(legal1, authority), "approved", intake=legal1, approvers=[legal2, legal3])
    DisclosureRequest.objects.filter(pk=req.pk).update(status=Status.PRODUCING, production_started_by=legal1)
    gone = (User.objects.aggregate(m=Max("pk"))["m"] or 0) + 1000

    result = disclosure_package_build_task.apply(args=(req.pk, gone)).get()

    assert result == {"request": req.pk, "ok": False}
    assert DisclosureRequest.objects.get(pk=req.pk).status == Status.APPROVED
