"""The processing register (GDPR art. 30) is generated from the purposes and the registered sections."""
from __future__ import annotations

import json
import re
from io import StringIO

import pytest
from django.core.management import call_command

from voipxs.privacy import purposes_nl
from voipxs.privacy.purposes import PURPOSES, Purpose, PurposeInfo
from voipxs.privacy.register import IncompleteRegister, processing_register
from tests.factories import verified_client


class ProcessingRegisterTests:
    @pytest.mark.django_db  # the register reads the retention policies in force
    def test_it_lists_every_purpose_and_category_with_basis_and_retention(self):
        reg = processing_register()
        assert [a["purpose"] for a in reg["activities"]] == [p.value for p in Purpose]
        assert all(a["legal_basis"] and a["retention"] and a["recipients"] for a in reg["activities"])
        names = {c["category"] for c in reg["categories"]}
        assert {"profile", "numbers", "calls", "invoices", "requests"} <= names

    @pytest.mark.django_db
    def test_no_processing_rests_on_the_inoperative_retention_duty(self):
        # Tw art. 13.2a (the Wbt's general retention duty) was declared inoperative in 2015 (LEGAL.md 1.5): the
        # register, and the privacy page generated from the same purposes, must not give it as a basis.
        assert "13.2a" not in json.dumps(processing_register())

    def test_it_fails_for_a_purpose_without_its_register_fields(self):
        fake = dict(PURPOSES)
        fake[Purpose.SECURITY] = PurposeInfo(description="Fraud", legal_basis="", data_categories=("x",),
                                             recipients=("y",), retention="z", policy_reference="p")
        with pytest.raises(IncompleteRegister, match="legal_basis"):
            processing_register(purposes=fake)
        missing = {p: i for p, i in PURPOSES.items() if p != Purpose.DISPUTE}
        with pytest.raises(IncompleteRegister, match="dispute"):
            processing_register(purposes=missing)

    @pytest.mark.django_db
    def test_the_command_prints_markdown_and_json(self):
        out = StringIO()
        call_command("processing_register", "--format", "json", stdout=out)
        data = json.loads(out.getvalue())
        assert data["activities"][0]["purpose"] == "billing"
        out = StringIO()
        call_command("processing_register", "--format", "md", stdout=out)
        assert out.getvalue().startswith("# Processing register (GDPR art. 30)") and "| calls |" in out.getvalue()

    @pytest.mark.django_db
    def test_the_dpo_page_shows_it(self, client, dpo, alice):
        page = verified_client(client, dpo).get("/privacy-requests/dpo/register/").content.decode()
        assert "Processing register" in page and "Tw art. 11.5(2)" in page
        assert ">7 years</td>" in page and ">30 days</td>" in page  # the invoice and technical-data periods
        dutch = verified_client(client, dpo).get("/privacy-requests/dpo/register/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert ">7 jaar</td>" in dutch and ">30 dagen</td>" in dutch and ">3 maanden</td>" in dutch
        client.logout()
        assert verified_client(client, alice).get("/privacy-requests/dpo/register/").status_code == 403

    @pytest.mark.django_db
    def test_the_dpo_page_names_the_categories_held_and_their_purposes_not_their_codes(self, client, dpo):
        """"Categories held" once listed the codes the apps register them by ("subscriber_details", "self_service")."""
        c = verified_client(client, dpo)
        for language, invoices, billing, retention in (
                ("en", ">Invoices</td>", ">Invoicing the amounts due</td>", ">delete</td>"),
                ("nl", ">Facturen</td>", ">Factureren van de verschuldigde bedragen</td>", ">verwijderen</td>")):
            page = c.get("/privacy-requests/dpo/register/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
            held = page[page.index('id="categories-held"'):page.index('id="register-retention"')]
            assert invoices in held and billing in held, language
            assert "subscriber_details" not in held and "self_service" not in held, language
            assert retention in page[page.index('id="register-retention"'):], language  # "Then": the action's name

    @pytest.mark.django_db
    def test_the_markdown_download_is_one_language_from_a_dutch_session(self, client, dpo):
        """The document of record is English throughout: not English headings around "7 jaar"."""
        md = verified_client(client, dpo).get("/privacy-requests/dpo/register/?format=md",
                                              HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert md.startswith("# Processing register (GDPR art. 30)")
        assert "7 years" in md and "30 days" in md and "7 jaar" not in md and "dagen" not in md
        from django.utils import translation

        from voipxs.privacy.dpia import dpia_markdown

        with translation.override("nl"):
            dpia = dpia_markdown()
            assert translation.get_language() == "nl"  # the session's language is left as it was
        assert "7 years" in dpia and "7 jaar" not in dpia and "maanden" not in dpia


def _register_cells(page: str, table_id: str) -> list[tuple[str, str]]:
    """(lang attribute or "", text) of every body cell of the DPO page's table `table_id`."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?<tbody[^>]*>(.*?)</tbody>', page, re.S)
    assert table, table_id
    return [(lang or "", text) for lang, text in re.findall(r'<td(?: lang="(\w+)")?[^>]*>(.*?)</td>', table.group(1), re.S)]


class RegisterInDutchTests:
    """The DPO's register page showed a Dutch DPO every text of record in English (marked lang="en"): the purposes'
    descriptions, legal bases, data categories, recipients, retention and policy articles, the categories' bases
    and periods, the security measures. Each is now shown in Dutch; the Markdown download stays the English record."""

    @pytest.mark.django_db
    def test_a_dutch_dpo_reads_the_register_in_dutch(self, client, dpo):
        page = verified_client(client, dpo).get("/privacy-requests/dpo/register/",
                                                HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        activities = _register_cells(page, "register-activities")
        billing = [text for _, text in activities[:7]]
        assert billing[1:4] == [
            "AVG art. 6(1)(b) overeenkomst; Tw art. 11.5(2) verkeersgegevens voor de facturering",
            "gebruikersgegevens, naam en adres op de factuur (die van de Opdrachtgever, of die van de Gebruiker zelf), "
            "verkeersgegevens, facturen",
            "facturatiemedewerkers, de Opdrachtgever (eigen facturen)"]
        assert billing[6] == "Privacyverklaring art. 3, eerste opsommingsteken"
        assert "Gesprekken tariferen en facturen opmaken" in billing[0]
        held = _register_cells(page, "categories-held")
        assert ("", "7 jaar na de factuurdatum") in held
        assert [cell for cell in activities + held if cell[0] == "en"] == []  # nothing left marked English
        assert '<li>Geen doorgifte buiten de EER.</li>' not in page and "<p>Geen doorgifte buiten de EER.</p>" in page
        assert "No transfers outside the EEA." not in page and "AES-256-GCM, exact zoeken" in page
        assert 'lang="en"' not in page[page.index('id="register-activities"'):page.index('</main>')]

    @pytest.mark.django_db
    def test_a_text_without_its_dutch_stays_english_marked_as_such(self, client, dpo, monkeypatch):
        monkeypatch.delitem(purposes_nl.DUTCH, "7 years after the invoice date")
        monkeypatch.delitem(purposes_nl.DUTCH, "No transfers outside the EEA.")
        page = verified_client(client, dpo).get("/privacy-requests/dpo/register/",
                                                HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert ("en", "7 years after the invoice date") in _register_cells(page, "categories-held")
        assert '<p lang="en">No transfers outside the EEA.</p>' in page

    @pytest.mark.django_db
    def test_an_english_dpo_reads_it_as_written(self, client, dpo):
        page = verified_client(client, dpo).get("/privacy-requests/dpo/register/").content.decode()
        activities = _register_cells(page, "register-activities")
        assert activities[1] == ("", PURPOSES[Purpose.BILLING].legal_basis)
        assert 'lang="en"' not in page[page.index('id="register-activities"'):page.index('</main>')]


class RoleMatrixInTheRegisterTests:
    """Art. 30's register names who may use each purpose, read from the table `purposes_of` enforces (LEGAL row 6):
    an auditor reads the role-purpose matrix in the register, and it cannot drift from the code."""

    @pytest.mark.django_db
    def test_each_activity_names_the_roles_holding_its_purpose(self):
        used_by = {a["purpose"]: a["roles"] for a in processing_register()["activities"]}
        assert used_by["legal_obligation"] == ["Legal officer", "Data protection officer"]
        assert used_by["dispute"] == ["Billing staff", "Legal officer"]
        assert used_by["ciot"] == []  # only the CIOT sync job
        assert used_by["call_setup"] == ["Customer", "Contractor admin"]
        # Network operations and the fraud analyst hold an existing purpose, security (LEGAL.md row 6): the register
        # names them there, and no new purpose (no new register entry, no new DPIA version) came with them.
        assert used_by["security"] == ["Support", "Administrator", "Network operations", "Fraud analyst"]
        new_roles = {"Network operations", "Fraud analyst"}
        assert all(not new_roles & set(roles) for purpose, roles in used_by.items()
                   if purpose not in ("self_service", "security"))
        assert all("Customer" not in roles for purpose, roles in used_by.items()
                   if purpose not in ("self_service", "call_setup"))

    @pytest.mark.django_db
    def test_a_role_given_a_purpose_appears_in_the_register(self, monkeypatch):
        from voipxs.privacy import purposes

        grown = dict(purposes.ROLE_PURPOSES, support=purposes.ROLE_PURPOSES["support"] | {Purpose.BILLING})
        monkeypatch.setattr(purposes, "ROLE_PURPOSES", grown)
        from voipxs.privacy import register

        monkeypatch.setattr(register, "ROLE_PURPOSES", grown)
        billing = next(a for a in processing_register()["activities"] if a["purpose"] == "billing")
        assert billing["roles"] == ["Billing staff", "Support"]

    @pytest.mark.django_db
    def test_the_markdown_and_the_dpo_page_show_it(self, client, dpo):
        from voipxs.privacy.register import processing_register_markdown

        md = processing_register_markdown()
        assert "| used by |" in md and "| Legal officer, Data protection officer |" in md
        assert "| scheduled jobs only |" in md
        c = verified_client(client, dpo)
        for language, heading, officers, jobs in (
                ("en", "Used by (roles)", "Legal officer, Data protection officer", "Scheduled jobs only"),
                ("nl", "Gebruikt door (rollen)", "Juridisch medewerker, Functionaris gegevensbescherming",
                 "Alleen geplande taken")):
            page = c.get("/privacy-requests/dpo/register/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
            activities = page[page.index('id="register-activities"'):page.index('id="categories-held"')]
            assert heading in activities and f">{officers}</td>" in activities and jobs in activities, language


class RegisterRetentionTests:
    def test_it_lists_the_retention_policies_a_registered_source_gives(self, monkeypatch):
        from voipxs.privacy import registry

        monkeypatch.setattr(registry, "_retention_sources", [])
        assert processing_register()["retention_policies"] == []
        registry.register_retention_source(lambda: [{"category": "invoice", "label": "Invoices", "period": "7 years",
                                                     "trigger": "invoice date", "action": "delete",
                                                     "legal_basis": "AWR art. 52"}])
        from voipxs.privacy.register import processing_register_markdown

        assert processing_register()["retention_policies"][0]["legal_basis"] == "AWR art. 52"
        assert "| Invoices | 7 years | invoice date | delete | AWR art. 52 |" in processing_register_markdown()


@pytest.mark.django_db
class RegisterFromRetentionTests:
    def test_it_shows_the_retention_policies_in_force(self):
        rows = processing_register()["retention_policies"]
        by_label = {row["category"]: row for row in rows}
        assert "AWR art. 52" in " ".join(row["legal_basis"] for row in rows)
        assert len(by_label) >= 8  # every category of DESIGN.md's defaults table
