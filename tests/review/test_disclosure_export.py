"""The data-subject export lists a disclosure about the person only when they are told of it (a notice sent, or
its draft while the decision is to notify: the disclosure is made, the officer has yet to send the notice). A
criminal claim without notice (Sv 126n: notice_user is off) must not surface in the export, nor must a
disclosure about a number before the person held it (numbers are recycled)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.models import PhoneNumber
from disclosures.models import AuthorityKind
from disclosures.selectors import disclosures_about_user
from disclosures.services.authorities import authority_create, authority_verify
from tests.disclosures.conftest import ALICE_NUMBER, OTHER, receive, to_state
from tests.factories import make_cdr


@pytest.fixture
def police(legal1, legal2):
    a = authority_create(actor=legal1, name="Politie Review", kind=AuthorityKind.POLICE,
                         contact_phone="020 555 9999", contact_email="desk@politie.example")
    return authority_verify(actor=legal2, authority=a, note="checked")


@pytest.fixture
def court(legal1, legal2):
    a = authority_create(actor=legal1, name="Rechtbank Review", kind=AuthorityKind.DISPUTE_COMMISSION,
                         contact_phone="+31205555310")
    return authority_verify(actor=legal2, authority=a, note="checked")


@pytest.mark.django_db
class DisclosureExportTests:
    def test_it_keeps_a_criminal_claim_without_notice_out_of_the_export(self, legal1, legal2, legal3, police, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        req = receive(legal1, police, numbers=[ALICE_NUMBER])  # Sv 126n: no notice to the user
        req = to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])
        assert req.status == "delivered" and not req.notice_user
        assert disclosures_about_user(alice) == []

    def test_it_leaves_out_a_disclosure_from_before_the_user_held_the_number(self, legal1, legal2, legal3, court, alice):
        PhoneNumber.objects.filter(user=alice, number_index__isnull=False).update(valid_from=now() - timedelta(days=5))
        req = receive(legal1, court, basis="court_order", numbers=[ALICE_NUMBER],
                      window=(now() - timedelta(days=60), now() - timedelta(days=30)))
        req = to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])
        assert req.status == "delivered" and req.notice_user
        assert disclosures_about_user(alice) == []

    def test_it_lists_a_disclosure_the_user_was_told_of(self, legal1, legal2, legal3, court, alice):
        make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
        req = receive(legal1, court, basis="court_order", numbers=[ALICE_NUMBER])
        to_state(req, "delivered", intake=legal1, approvers=[legal2, legal3])
        assert [d["request"] for d in disclosures_about_user(alice)] == [req.pk]
