"""The breach register puts what the DPO owes the authority first: the open incidents by the time their next
notification is due (the overdue one on top, marked), then those with nothing owed, then the closed ones. Before,
it sorted on the status' stored value ("closed" before "open") and then the newest detected first: a closed
incident sat above an open one, and a telecom breach overdue on its 24-hour clock sat below a newer GDPR one with
days left."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.breaches import breach_incident_close, breach_incident_create, breach_notification_record
from tests.factories import verified_client

pytestmark = pytest.mark.django_db


def _incident(dpo, title: str, *, hours_ago: float, telecom: bool = True):
    return breach_incident_create(title=title, detected_at=now() - timedelta(hours=hours_ago), scope="s",
                                  telecom_service=telecom, actor=dpo)


def _rows(html: str) -> list[str]:
    """The register's rows, each as its text."""
    table = html[html.index('id="breaches"'):]
    body = table[table.index("<tbody"):table.index("</tbody>")]
    return [re.sub(r"<[^>]+>", " ", row) for row in body.split("<tr")[1:]]


class BreachRegisterOrderTests:
    def test_open_incidents_come_first_the_soonest_owed_on_top_and_closed_ones_last(self, client, dpo):
        closed = _incident(dpo, "Closed last week", hours_ago=2)
        breach_notification_record(incident=closed, recipient="authority", stage="final", reference="AP-1",
                                   sent_at=now(), actor=dpo)
        breach_incident_close(incident=closed, users_not_notified_reason="No risk (art. 34(3)(a)).", actor=dpo)
        _incident(dpo, "Newer GDPR breach", hours_ago=1, telecom=False)  # due in 71 hours
        _incident(dpo, "Older telecom breach", hours_ago=30)  # 24-hour clock: 6 hours overdue
        _incident(dpo, "Telecom breach due soon", hours_ago=20)  # due in 4 hours
        told = _incident(dpo, "Told in full", hours_ago=3)
        breach_notification_record(incident=told, recipient="authority", stage="final", reference="AP-2",
                                   sent_at=now(), actor=dpo)
        rows = _rows(verified_client(client, dpo).get("/privacy-requests/dpo/breaches/").content.decode())
        titles = [next(t for t in ("Older telecom", "due soon", "Newer GDPR", "Told in full", "Closed last week")
                       if t in row) for row in rows]
        assert titles == ["Older telecom", "due soon", "Newer GDPR", "Told in full", "Closed last week"]
        assert "Overdue" in rows[0] and "Due soon" in rows[1]
