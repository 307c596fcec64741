"""The DPO's /retention/ page names things as people read them, in the page's language: a hold's data categories
(not "cdr_billed, cdr_unbilled"), the disclosure request that placed a hold (not "disclosure:3"; a link for those
who may open it), the default policies' events and legal bases (seeded in English, translated where marked), and
the default version as in force from the start (not "1 January 2000")."""
from __future__ import annotations

import html
import importlib

import pytest
from django.urls import reverse
from django.utils import translation

from retention.models import SEEDED_TEXTS, Category, RetentionPolicy
from retention.services import legal_hold_place
from tests.factories import make_user, verified_client
from voipxs.privacy.purposes import Role

URL = "/retention/"


def _holds(body: str) -> str:
    body = html.unescape(body)
    return body[body.index('id="holds"'):body.index("</table>", body.index('id="holds"'))]


def _policies(body: str) -> str:
    body = html.unescape(body)
    return body[body.index('id="policies"'):body.index("</table>", body.index('id="policies"'))]


@pytest.mark.django_db
class DashboardLabelsTests:
    def test_a_holds_categories_and_disclosure_request_are_named_in_english_and_dutch(self, client, dpo, alice):
        legal_hold_place(reason="disclosure_request", reference="disclosure:12", owner="disclosure",
                         account_ids=[alice.pk], categories=[Category.CDR_BILLED, Category.CDR_UNBILLED], actor=dpo)
        c = verified_client(client, dpo)
        holds = _holds(c.get(URL).content.decode())
        assert "CDRs of billed calls; CDRs of unbilled calls (failed, free)" in holds
        assert "Disclosure request #12" in holds
        assert "cdr_billed" not in holds and "disclosure:12" not in holds
        assert "/disclosures/requests/12/" not in holds  # a DPO may not open it: its number, no link
        dutch = _holds(c.get(URL, HTTP_ACCEPT_LANGUAGE="nl").content.decode())
        assert "CDR's van gefactureerde gesprekken; CDR's van niet-gefactureerde gesprekken (mislukt, gratis)" in dutch

    def test_a_dpo_who_is_also_a_legal_officer_opens_the_disclosure_request_from_its_hold(self, client, alice):
        both = make_user("dpo-legal", roles=(Role.DPO, Role.LEGAL_OFFICER), totp=True)
        legal_hold_place(reason="disclosure_request", reference="disclosure:12", owner="disclosure",
                         account_ids=[alice.pk], categories=[Category.CDR_BILLED], actor=both)
        legal_hold_place(reason="dispute", reference="dispute:3", account_ids=[alice.pk],
                         categories=[Category.CDR_BILLED], actor=both)
        holds = _holds(verified_client(client, both).get(URL).content.decode())
        assert f'<a href="{reverse("disclosures:detail", args=[12])}">Disclosure request #12</a>' in holds
        assert "dispute:3" in holds  # any other reference as written

    def test_the_default_policies_are_in_force_from_the_start_and_a_dpos_text_shows_as_written(self, client, dpo):
        c = verified_client(client, dpo)
        policies = _policies(c.get(URL).content.decode())
        assert "v1, from the start" in policies and "2000" not in policies
        assert "invoice paid and undisputed" in policies and "accountability (GDPR art. 5(2))" in policies
        fields = {"trigger": "laatste gesprek", "period_months": 2, "period_days": 0, "action": "delete",
                  "legal_basis": "Tw art. 11.5(1)", "change_reason": "shorter after review", "confirm": "yes"}
        assert c.post(reverse("retention:policy-update", args=["cdr_unbilled"]), fields).status_code == 302
        policies = _policies(c.get(URL).content.decode())
        assert "laatste gesprek" in policies and "v2, from the start" not in policies
        assert policies.count("from the start") == len(Category.values) - 1
        dutch = _policies(c.get(URL, HTTP_ACCEPT_LANGUAGE="nl").content.decode())
        assert "exportbestand klaar" in dutch and "verantwoordingsplicht (AVG art. 5(2))" in dutch
        assert "laatste gesprek" in dutch  # a DPO's own text as written

    def test_every_seeded_text_that_dutch_writes_otherwise_is_shown_translated(self):
        """The texts migration 0002 wrote are marked (SEEDED_TEXTS), but for the citations Dutch writes alike."""
        seeded = importlib.import_module("retention.migrations.0002_seed_default_policies").DEFAULTS
        alike = {"Tw art. 11.5(2)", "Tw art. 11.5(1)", "AWR art. 52"}
        for _category, trigger, _months, _days, _action, basis in seeded:
            assert trigger in SEEDED_TEXTS and (basis in SEEDED_TEXTS or basis in alike), (trigger, basis)
        policy = RetentionPolicy.objects.get(category=Category.DSR_EXPORT, version=1)
        with translation.override("nl"):  # through the catalogue: what it has for them, once translated
            assert policy.trigger_label == translation.gettext("export file ready")
            assert policy.legal_basis_label == translation.gettext("minimisation (GDPR art. 5(1)(c))")
        assert RetentionPolicy(trigger="eigen tekst", legal_basis="GDPR art. 6").trigger_label == "eigen tekst"

    def test_the_history_shows_the_default_versions_as_installed_without_changing_them(self, client, dpo):
        """The seeded version 1's stored reason ("DESIGN.md defaults") and 1 January 2000 stay in the table (history
        is never rewritten); the page says what they mean, in its language."""
        stored = list(RetentionPolicy.objects.filter(version=1).values_list("change_reason", "valid_from"))
        c = verified_client(client, dpo)
        history = _history(c.get(URL).content.decode())
        assert history.count("Defaults at installation") == len(Category.values)
        assert history.count("since installation") == len(Category.values)
        assert "DESIGN.md" not in history and "2000" not in history
        dutch = _history(c.get(URL, HTTP_ACCEPT_LANGUAGE="nl").content.decode())
        assert "DESIGN.md" not in dutch and "2000" not in dutch
        with translation.override("nl"):  # through the catalogue, once translated
            assert dutch.count(translation.gettext("Defaults at installation")) == len(Category.values)
            assert dutch.count(translation.gettext("since installation")) == len(Category.values)
        assert list(RetentionPolicy.objects.filter(version=1).values_list("change_reason", "valid_from")) == stored

    def test_a_later_versions_reason_and_date_are_shown_as_stored(self, client, dpo):
        fields = {"trigger": "call start (failed, free or never invoiced calls)", "period_months": 2,
                  "period_days": 0, "action": "delete", "legal_basis": "Tw art. 11.5(1)",
                  "change_reason": "shorter after review", "confirm": "yes"}
        c = verified_client(client, dpo)
        assert c.post(reverse("retention:policy-update", args=["cdr_unbilled"]), fields).status_code == 302
        history = _history(c.get(URL).content.decode())
        assert "shorter after review" in history
        assert history.count("Defaults at installation") == history.count("since installation") == len(
            Category.values)  # v2 has its own date and reason; v1 is still there


def _history(body: str) -> str:
    body = html.unescape(body)
    start = body.rindex("<details>", 0, body.index('id="holds"'))  # the history's, the last before the holds
    return body[start:body.index("</table>", start)]


def _receipts(body: str) -> str:
    body = html.unescape(body)
    start = body.index('id="receipts"')
    return body[start:body.index("</table>", start)]


@pytest.mark.django_db
class ReceiptKeptColumnTests:
    """A receipt's "Kept" is a count of rows the purge left in place (held or still needed), not a retention period;
    the Dutch page called it "Bewaartermijn", the word the processing register uses for the period."""

    def test_the_dutch_receipts_do_not_call_the_kept_rows_a_retention_period(self, client, dpo):
        head = _receipts(verified_client(client, dpo).get(URL, HTTP_ACCEPT_LANGUAGE="nl").content.decode())
        assert "Verwijderd" in head and "Bewaartermijn" not in head

    def test_the_dutch_receipts_name_the_kept_rows_in_dutch(self, client, dpo):
        head = _receipts(verified_client(client, dpo).get(URL, HTTP_ACCEPT_LANGUAGE="nl").content.decode())
        assert "Behouden" in head and "Kept" not in head and "Bewaartermijn" not in head
