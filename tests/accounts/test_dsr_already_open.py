"""A request of a kind the person already has open is refused (unless it is a stuck export, sent again: see
test_representative_on_open.py), at the form's `kind` field. The person is told in their words (ALREADY_OPEN);
support, opening it for them, is told that the customer has one open and its number (ALREADY_OPEN_FOR_CUSTOMER). An
open request that cannot answer again is refused so before the representative is looked at: another representative
asking for a restriction already open gets that refusal, not a representative field's message."""
from __future__ import annotations

import re

import pytest

from accounts.dsr.models import DataSubjectRequest
from accounts.dsr.services import ALREADY_OPEN, ALREADY_OPEN_FOR_CUSTOMER, dsr_request_create
from accounts.support.services import support_request_open
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

pytestmark = pytest.mark.django_db

Agent = DataSubjectRequest.RepresentativeKind


def _refusal(**kwargs) -> ApplicationError:
    with pytest.raises(ApplicationError) as refused:
        support_request_open(**kwargs)
    return refused.value


def _kind_error(page: str) -> str:
    found = re.search(r'<ul class="errorlist" id="id_kind_error">(.*?)</ul>', page, re.S)
    assert found, "no error at the kind field"
    return found.group(1)


class AlreadyOpenTests:
    def test_the_customer_is_told_in_their_words(self, alice):
        dsr_request_create(user=alice, kind="rectification", details="My label is wrong")
        with pytest.raises(ApplicationError) as refused:
            dsr_request_create(user=alice, kind="rectification", details="Still wrong")
        assert (refused.value.message, refused.value.extra) == (ALREADY_OPEN, {"field": "kind"})

    def test_support_is_told_the_customer_has_one_open_and_its_number(self, support, alice):
        own = dsr_request_create(user=alice, kind="rectification", details="My label is wrong")

        refused = _refusal(actor=support, user=alice, kind="rectification", details="Still wrong")

        assert refused.message == f"This customer already has an open request of this kind: #{own.pk}."
        assert refused.extra["field"] == "kind"
        assert DataSubjectRequest.objects.filter(user=alice).count() == 1

    def test_supports_page_shows_it_at_the_kind_field(self, client, support, alice):
        own = dsr_request_create(user=alice, kind="access")  # its export is pending, not late: not stuck

        response = verified_client(client, support).post(f"/support/customers/{alice.pk}/requests/",
                                                         {"kind": "access"})

        assert response.status_code == 400
        shown = _kind_error(response.content.decode())
        assert f"This customer already has an open request of this kind: #{own.pk}." in shown
        assert "You already have" not in shown

    @pytest.mark.parametrize("agent, name", [(Agent.LEGAL_GUARDIAN, "Mrs. C. Jansen-Voogd"),
                                             (Agent.LAWYER, "Mrs. C. Jansen-Advocaat")])
    def test_a_restriction_open_through_one_representative_is_refused_so_through_another(self, support, alice,
                                                                                          agent, name):
        first = support_request_open(actor=support, user=alice, kind="restriction", representative_kind=Agent.LAWYER,
                                     representative_name="Mr. A.B. de Vries-Representant", authority_checked=True)

        refused = _refusal(actor=support, user=alice, kind="restriction", representative_kind=agent,
                           representative_name=name, authority_checked=True)

        assert refused.message == ALREADY_OPEN_FOR_CUSTOMER % {"number": first.pk}
        assert refused.extra["field"] == "kind"
        req = DataSubjectRequest.objects.get(pk=first.pk)
        assert (req.representative_kind, req.representative_name) == (Agent.LAWYER, "Mr. A.B. de Vries-Representant")
