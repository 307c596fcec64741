"""Which handed-over disclosures a person is told of, and which only wait for their notice (disclosures/
selectors_notice.py): one line shared by the person's export and the recipients the DPO tells of a rectification,
erasure or restriction (GDPR art. 19), so that neither names a disclosure the other keeps back."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import localdate

from disclosures.recipients import disclosure_recipients_awaiting_notice, disclosure_recipients_of_user
from disclosures.selectors import disclosures_about_user, disclosures_withheld_from_user
from disclosures.selectors_notice import disclosures_awaiting_notice, disclosures_told_of
from tests.accounts.dsr_helpers import delivered_disclosure

pytestmark = pytest.mark.django_db


def _made(user, officer) -> dict[str, int]:
    """One delivered disclosure about `user` in each state the line is drawn between, by reference."""
    made = {}

    def make(ref, *, state, notify=True, secrecy=None, delivered=True):
        req = delivered_disclosure(user=user, officer=officer, reference=ref, secrecy_days=None)
        req.notice_user, req.secrecy_until = notify, secrecy
        if not delivered:
            req.status, req.delivered_at = "approved", None
        req.save(update_fields=["notice_user", "secrecy_until", "status", "delivered_at"])
        req.notices.update(state=state)
        made[ref] = req.pk

    today = localdate()
    make("SENT", state="sent")
    make("DRAFT-NOTIFY", state="draft")
    make("DRAFT-DECIDED", state="draft", notify=False)
    make("RUNNING", state="withheld", secrecy=today + timedelta(days=1))
    make("ENDED", state="withheld", secrecy=today - timedelta(days=1))
    make("ENDED-DECIDED", state="withheld", notify=False, secrecy=today - timedelta(days=1))
    make("NOT-HANDED-OVER", state="sent", delivered=False)
    return made


class NoticeLineTests:
    def test_the_person_is_told_of_sent_notices_and_drafts_to_send_only(self, alice, legal1):
        made = _made(alice, legal1)
        assert set(disclosures_told_of(alice).values_list("pk", flat=True)) == {made["SENT"], made["DRAFT-NOTIFY"]}

    def test_only_an_ended_secrecy_order_with_notice_to_send_waits_for_it(self, alice, legal1):
        made = _made(alice, legal1)
        assert list(disclosures_awaiting_notice(alice).values_list("pk", flat=True)) == [made["ENDED"]]

    def test_the_export_and_the_recipients_name_the_same_disclosures(self, alice, legal1):
        made = _made(alice, legal1)
        exported = {row["request"] for row in disclosures_about_user(alice)}
        recipients = {int(r["key"].split(":")[1]) for r in disclosure_recipients_of_user(alice)}
        assert exported == recipients == {made["SENT"], made["DRAFT-NOTIFY"]}
        # The export's audit counts what it leaves out, the pending one among them: the person is not told yet.
        assert disclosures_withheld_from_user(alice) == 4
        assert [r["key"] for r in disclosure_recipients_awaiting_notice(alice)] == [f"disclosure:{made['ENDED']}"]
