"""Itemised bills by default off (GDPR art. 25, LEGAL.md rows 9 and 28; ePrivacy art. 7, Tw 11.4): new
contractors and new individual accounts are not itemised; an individual opts in on their numbers page
(accounts.services.users.user_itemisation_set, audited with from/to); a Contractor's User has the
contractor's setting. Migration 0017 keeps existing individuals on the itemised bill they had."""
from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps

from accounts.models import Contractor, Itemisation, User
from accounts.selectors import next_billing_period, user_itemisation_get
from accounts.services.users import (
    ITEMISATION_BY_CONTRACTOR, ITEMISATION_INVALID, contractor_create, contractor_itemisation_set, user_create,
    user_itemisation_set,
)
from tests.factories import PASSWORD, make_user, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.privacy.audit import target_ref
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db

PAGE, CHOOSE = "/accounts/numbers/", "/accounts/numbers/itemisation/"


def _checked(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="itemisation" value="(\w+)"[^>]*\bchecked>', page)


def _itemisation_audits(user: User) -> list[dict]:
    return list(AuditEntry.objects.filter(action="user.itemisation", target_id=target_ref("user", user.pk))
                .order_by("id").values_list("extra", flat=True))


class NewTenantDefaultsTests:
    def test_a_new_contractor_is_not_itemised(self):
        contractor = contractor_create(name="New BV")
        contractor.refresh_from_db()
        assert contractor.itemisation == Itemisation.NONE

    def test_a_new_individual_account_is_not_itemised(self):
        user = user_create(username="newbie", password=PASSWORD)
        user.refresh_from_db()
        assert user.itemisation == Itemisation.NONE
        assert user_itemisation_get(user=user) == Itemisation.NONE

    def test_a_new_contractors_user_has_the_contractors_setting(self):
        contractor = contractor_create(name="New BV")
        user = user_create(username="worker", password=PASSWORD, contractor=contractor)
        assert user_itemisation_get(user=user) == Itemisation.NONE
        contractor_itemisation_set(contractor=contractor, itemisation=Itemisation.MASKED)
        # read now, not from a cached contractor; a change applies from the next billing period (LEGAL.md row 9)
        assert user_itemisation_get(user=user, period=next_billing_period()) == Itemisation.MASKED
        assert user_itemisation_get(user=user) == Itemisation.NONE


class MigrationTests:
    """0017 changes the default only; its data step puts existing individuals on the bill they had."""

    def test_existing_individuals_keep_the_full_bill_and_nothing_else_changes(self):
        migration = importlib.import_module("accounts.migrations.0017_itemisation_not_by_default")
        contractor = contractor_create(name="Old BV")
        contractor_itemisation_set(contractor=contractor, itemisation=Itemisation.MASKED)
        individual = make_user("old-individual")
        employee = make_user("old-employee", contractor=contractor)
        migration.existing_individuals_keep_itemised_bills(apps, None)
        individual.refresh_from_db(), employee.refresh_from_db(), contractor.refresh_from_db()
        assert individual.itemisation == Itemisation.FULL
        assert employee.itemisation == Itemisation.NONE  # the contractor's setting applies to them
        assert contractor.itemisation == Itemisation.MASKED

    def test_the_schema_steps_set_the_default_to_none(self):
        migration = importlib.import_module("accounts.migrations.0017_itemisation_not_by_default").Migration
        fields = {(op.model_name, op.name): op.field for op in migration.operations if hasattr(op, "field")}
        assert fields[("contractor", "itemisation")].default == fields[("user", "itemisation")].default == "none"


class UserItemisationSetTests:
    def test_it_sets_the_choice_and_audits_from_and_to(self):
        user = make_user("dora")
        user_itemisation_set(user=user, itemisation=Itemisation.FULL)
        user_itemisation_set(user=user, itemisation=Itemisation.MASKED)
        user_itemisation_set(user=user, itemisation=Itemisation.MASKED)  # no change: nothing to record
        assert User.objects.get(pk=user.pk).itemisation == Itemisation.MASKED
        applies_from = next_billing_period().isoformat()
        assert _itemisation_audits(user) == [
            {"from": "none", "to": "full", "omit_free_numbers": True, "applies_from": applies_from},
            {"from": "full", "to": "masked", "omit_free_numbers": True, "applies_from": applies_from}]

    def test_it_refuses_an_unknown_value(self):
        user = make_user("dora")
        with pytest.raises(ApplicationError) as error:
            user_itemisation_set(user=user, itemisation="partly")
        assert (error.value.message, error.value.extra["field"]) == (ITEMISATION_INVALID, "itemisation")
        assert User.objects.get(pk=user.pk).itemisation == Itemisation.NONE and _itemisation_audits(user) == []

    def test_a_contractors_user_cannot_choose(self, bob):
        with pytest.raises(ApplicationError) as error:
            user_itemisation_set(user=bob, itemisation=Itemisation.MASKED)
        assert error.value.message == ITEMISATION_BY_CONTRACTOR
        assert User.objects.get(pk=bob.pk).itemisation == Itemisation.NONE and _itemisation_audits(bob) == []


class ItemisationPageTests:
    def test_a_new_individual_sees_the_three_choices_with_totals_only_chosen(self, client):
        page = verified_client(client, make_user("dora")).get(PAGE).content.decode()
        assert f'action="{CHOOSE}"' in page
        assert page.count('type="radio" name="itemisation"') == 3
        assert _checked(page) == ["none"]

    def test_choosing_saves_through_the_service_and_is_audited(self, client):
        dora = make_user("dora")
        response = verified_client(client, dora).post(CHOOSE, {"itemisation": "full"})
        assert response.status_code == 302 and response["Location"] == f"{PAGE}#itemisation"
        assert User.objects.get(pk=dora.pk).itemisation == Itemisation.FULL
        assert _itemisation_audits(dora) == [{"from": "none", "to": "full", "omit_free_numbers": True,
                                              "applies_from": next_billing_period().isoformat()}]
        page = client.get(PAGE).content.decode()
        assert "Your choice of itemised bills is saved." in page
        assert _checked(page) == ["full"]

    def test_an_unknown_choice_is_a_400_and_changes_nothing(self, client):
        dora = make_user("dora")
        response = verified_client(client, dora).post(CHOOSE, {"itemisation": "partly"})
        assert response.status_code == 400 and 'aria-invalid="true"' in response.content.decode()
        assert User.objects.get(pk=dora.pk).itemisation == Itemisation.NONE and _itemisation_audits(dora) == []

    def test_a_contractors_user_sees_the_contractors_setting_and_cannot_choose(self, client, acme, bob):
        contractor_itemisation_set(contractor=acme, itemisation=Itemisation.MASKED)
        page = verified_client(client, bob).get(PAGE).content.decode()
        assert "Your contractor decides how your bills are itemised." in page and "itemised, numbers masked" in page
        assert CHOOSE not in page
        response = client.post(CHOOSE, {"itemisation": "full"})
        assert response.status_code == 403
        assert User.objects.get(pk=bob.pk).itemisation == Itemisation.NONE and _itemisation_audits(bob) == []

    def test_it_needs_a_post(self, client):
        # a GET changes nothing and leads to the form (tests/accounts/test_form_addresses_opened.py)
        dora = make_user("dora")
        response = verified_client(client, dora).get(CHOOSE)
        assert response.status_code == 302 and response["Location"] == "/accounts/numbers/#itemisation"
        assert User.objects.get(pk=dora.pk).itemisation == Itemisation.NONE
        assert client.put(CHOOSE).status_code == 405


class ContractorAdminTests:
    def test_the_add_form_says_new_contractors_are_not_itemised_and_adds_one_so(self, client, admin_user):
        admin_client = verified_client(client, admin_user)
        form = admin_client.get("/admin/accounts/contractor/add/").content.decode()
        assert "(new: not itemised)" in form
        assert admin_client.post("/admin/accounts/contractor/add/", {"name": "Beta BV"}).status_code == 302
        assert Contractor.objects.get(name="Beta BV").itemisation == Itemisation.NONE
