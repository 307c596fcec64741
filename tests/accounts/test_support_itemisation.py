"""Support changes a customer's itemised bills at their request (by phone, letter or e-mail), for a customer
who cannot use My numbers: through user_itemisation_set with the staff member as actor, the channel and an
optional ticket in the same audit entry (CUSTOMER_SUPPORT), after a confirmation step, and the customer is
e-mailed. A Contractor's User is refused (the contractor decides); only the support role may do it."""
from __future__ import annotations

import smtplib
from unittest.mock import patch

import pytest
from django.core import mail
from django.utils.timezone import now

from accounts.models import Itemisation, User
from accounts.selectors import next_billing_period
from accounts.services.users import ITEMISATION_BY_CONTRACTOR, user_create
from accounts.support.services import (
    CHANNEL_REQUIRED, NOT_A_CUSTOMER, SupportNoticeMailError, support_itemisation_set,
)
from accounts.tasks import support_itemisation_notice_task
from tests.accounts.helpers import _fresh_cache  # noqa: F401
from tests.factories import PASSWORD, make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import actor_ref, target_ref
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

CHANGE = "/support/customers/{pk}/itemisation/"
CONFIRMED = {"itemisation": "masked", "channel": "letter", "ticket": "TCK-2026-0077", "confirm": "yes"}


def _changes(user: User) -> list[AuditEntry]:
    """Changes made by support (the fixtures' own opt-in is the customer's, under no purpose)."""
    return list(AuditEntry.objects.filter(action="user.itemisation", target_id=target_ref("user", user.pk),
                                          purpose="customer_support"))


def _itemisation(user: User) -> str:
    return User.objects.values_list("itemisation", flat=True).get(pk=user.pk)


class SupportItemisationPageTests:
    def test_the_card_shows_the_current_choice_and_the_form(self, client, support, alice):
        page = verified_client(client, support).get(f"/support/customers/{alice.pk}/").content.decode()
        assert "Now: itemised, numbers in full." in page
        assert f'action="{CHANGE.format(pk=alice.pk)}"' in page
        assert page.count('type="radio" name="channel"') == 3

    def test_it_asks_to_confirm_first_and_changes_nothing_until_then(self, client, support, alice):
        c = verified_client(client, support)
        asked = c.post(CHANGE.format(pk=alice.pk), {**CONFIRMED, "confirm": ""})
        page = asked.content.decode()
        assert asked.status_code == 200 and "Change this customer&#x27;s itemised bills?" in page
        assert "itemised, numbers masked" in page and "told by e-mail" in page
        assert 'name="channel" value="letter"' in page and 'name="confirm" value="yes"' in page
        assert _itemisation(alice) == Itemisation.FULL and _changes(alice) == [] and mail.outbox == []

    def test_support_changes_it_and_the_customer_is_e_mailed(self, client, support, alice,
                                                             django_capture_on_commit_callbacks):
        c = verified_client(client, support)
        with django_capture_on_commit_callbacks(execute=True):
            response = c.post(CHANGE.format(pk=alice.pk), CONFIRMED)
        assert response.status_code == 302
        assert response["Location"] == f"/support/customers/{alice.pk}/#itemisation"
        assert _itemisation(alice) == Itemisation.MASKED
        assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
        message = mail.outbox[0]
        assert message.subject == "Your itemised bills were changed at your request"
        assert "Your new choice: itemised, numbers masked." in message.body and "/accounts/numbers/" in message.body
        assert "If you did not ask for this change" in message.body and "5550101" not in message.body
        assert AuditEntry.objects.filter(action="user.itemisation_notice", target_id=target_ref("user", alice.pk),
                                         actor="system:support_notices").count() == 1
        card = c.get(response["Location"]).content.decode()
        assert "Itemised bills changed to: itemised, numbers masked, from the bills of " in card

    def test_it_is_audited_with_the_staff_actor_and_how_the_customer_asked(self, client, support, alice,
                                                                           django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            verified_client(client, support).post(CHANGE.format(pk=alice.pk), CONFIRMED)
        [entry] = _changes(alice)
        assert entry.actor == actor_ref(support) and entry.purpose == "customer_support"
        assert entry.extra == {"from": "full", "to": "masked", "on_behalf": True, "channel": "letter",
                               "ticket": "TCK-2026-0077", "omit_free_numbers": True,
                               "applies_from": next_billing_period().isoformat()}

    def test_the_same_choice_again_changes_sends_and_records_nothing(self, client, support, alice,
                                                                     django_capture_on_commit_callbacks):
        c = verified_client(client, support)
        with django_capture_on_commit_callbacks(execute=True):
            response = c.post(CHANGE.format(pk=alice.pk), {**CONFIRMED, "itemisation": "full"}, follow=True)
        assert "The customer already had this choice; nothing changed." in response.content.decode()
        assert _itemisation(alice) == Itemisation.FULL and _changes(alice) == [] and mail.outbox == []

    def test_a_contractors_user_is_refused_with_the_contractor_message(self, client, support, bob):
        c = verified_client(client, support)
        card = c.get(f"/support/customers/{bob.pk}/").content.decode()
        assert "contractor decides" in card and CHANGE.format(pk=bob.pk) not in card
        for data in ({**CONFIRMED, "confirm": ""}, CONFIRMED):  # refused before it asks to confirm, and after
            response = c.post(CHANGE.format(pk=bob.pk), data)
            assert response.status_code == 400 and ITEMISATION_BY_CONTRACTOR in response.content.decode()
            assert 'id="id_itemisation_error"' in response.content.decode()
        assert _itemisation(bob) == Itemisation.NONE and _changes(bob) == [] and mail.outbox == []

    @pytest.mark.parametrize("persona", ["alice", "billing_staff", "dpo", "acme_admin"])
    def test_anyone_but_support_gets_a_403(self, client, persona, request, alice):
        verified_client(client, request.getfixturevalue(persona))
        response = client.post(CHANGE.format(pk=alice.pk), CONFIRMED)
        assert response.status_code == 403
        assert _itemisation(alice) == Itemisation.FULL and _changes(alice) == []
        # Refused by the page, before the customer is read or the change attempted (each would be audited).
        assert not AuditEntry.objects.filter(action__in=["support.customer_get", "support.itemisation.check"]).exists()

    @pytest.mark.parametrize("field, data", [
        ("itemisation", {**CONFIRMED, "itemisation": "partly"}),
        ("itemisation", {k: v for k, v in CONFIRMED.items() if k != "itemisation"}),
        ("channel", {**CONFIRMED, "channel": "pigeon"}),
        ("channel", {k: v for k, v in CONFIRMED.items() if k != "channel"}),
        ("ticket", {**CONFIRMED, "ticket": "call back on 020 555 0101"}),
    ])
    def test_a_bad_value_is_a_400_naming_the_field(self, client, support, alice, field, data):
        response = verified_client(client, support).post(CHANGE.format(pk=alice.pk), data)
        assert response.status_code == 400 and f'id="id_{field}_error"' in response.content.decode()
        assert _itemisation(alice) == Itemisation.FULL and _changes(alice) == []

    def test_it_needs_a_post(self, client, support, alice):
        assert verified_client(client, support).get(CHANGE.format(pk=alice.pk)).status_code == 405


class SupportItemisationServiceTests:
    def test_it_needs_to_know_how_the_customer_asked(self, support, alice):
        with pytest.raises(ApplicationError) as error:
            support_itemisation_set(actor=support, user=alice, itemisation="none", channel="")
        assert (error.value.message, error.value.extra["field"]) == (CHANNEL_REQUIRED, "channel")
        assert _itemisation(alice) == Itemisation.FULL

    def test_a_contractors_user_is_refused(self, support, bob):
        with pytest.raises(ApplicationError) as error:
            support_itemisation_set(actor=support, user=bob, itemisation="full", channel="phone")
        assert (error.value.message, error.value.extra["field"]) == (ITEMISATION_BY_CONTRACTOR, "itemisation")
        assert _itemisation(bob) == Itemisation.NONE and _changes(bob) == []

    def test_a_customer_who_joined_a_contractor_meanwhile_is_refused_under_the_lock(self, support, acme):
        dora = make_user("dora")
        User.objects.filter(pk=dora.pk).update(contractor=acme)  # `dora` as read before still has none
        with pytest.raises(ApplicationError, match=ITEMISATION_BY_CONTRACTOR):
            support_itemisation_set(actor=support, user=dora, itemisation="full", channel="phone")
        assert _itemisation(dora) == Itemisation.NONE and _changes(dora) == []

    def test_a_staff_account_is_out_of_reach(self, support, billing_staff):
        with pytest.raises(ApplicationError, match=NOT_A_CUSTOMER):
            support_itemisation_set(actor=support, user=billing_staff, itemisation="full", channel="phone")
        assert _changes(billing_staff) == []

    def test_other_roles_are_refused_the_purpose(self, billing_staff, alice):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            support_itemisation_set(actor=billing_staff, user=alice, itemisation="none", channel="phone")
        assert _itemisation(alice) == Itemisation.FULL


class SupportItemisationNoticeTaskTests:
    def test_a_customer_without_an_address_is_not_mailed_and_the_notice_ends(self, support):
        dora = user_create(username="dora", password=PASSWORD, email=None)
        User.objects.filter(pk=dora.pk).update(itemisation_notice_due_at=now())
        assert support_itemisation_notice_task(dora.pk) is False and mail.outbox == []
        assert User.objects.get(pk=dora.pk).itemisation_notice_due_at is None  # nothing left for the reaper

    def test_a_mail_failure_names_the_user_id_only(self, alice):
        User.objects.filter(pk=alice.pk).update(itemisation_notice_due_at=now())
        refused = smtplib.SMTPRecipientsRefused({"alice@example.org": (550, b"no such user")})
        with patch("voipxs.mail.send_mail", side_effect=refused):
            with pytest.raises(SupportNoticeMailError) as error:
                support_itemisation_notice_task(alice.pk)
        assert str(error.value) == f"itemisation notice to user {alice.pk} failed (SMTPRecipientsRefused)"
        assert error.value.__cause__ is None and error.value.__suppress_context__
        assert not AuditEntry.objects.filter(action="user.itemisation_notice").exists()
        assert User.objects.get(pk=alice.pk).itemisation_notice_due_at is not None  # still due: sent again later
