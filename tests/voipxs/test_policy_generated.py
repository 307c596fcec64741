"""The public privacy page, the processing register and the DPIA are generated from the code: every
purpose is named on all three, and the retention table follows the policies in force."""
from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.html import escape

from retention.models import Category
from retention.services import retention_policy_update
from voipxs.privacy.dpia import RISKS, IncompleteDpia, Risk, dpia_markdown
from voipxs.privacy.purposes import PURPOSES, Purpose
from voipxs.privacy.register import processing_register, processing_register_markdown


def _retention_row(page: str, category: str) -> str:
    # the cells carry their heading and role too, for the phone's cards ({% stacked_table %})
    match = re.search(rf'<tr data-category="{category}"[^>]*>(.*?)</tr>', page, re.S)
    assert match, f"no retention row for {category}"
    return match.group(1)


@pytest.mark.django_db
class PublicPolicyPageTests:
    def test_every_purpose_the_code_uses_is_named_on_the_public_page_and_in_the_register(self, client):
        page = client.get("/privacy/").content.decode()
        register = processing_register_markdown()
        for purpose in Purpose:
            assert f'data-purpose="{purpose.value}"' in page, purpose
            assert escape(str(purpose.label)) in page, purpose
            assert str(purpose.label) in register, purpose
            assert escape(PURPOSES[purpose].legal_basis) in page
        assert escape(str(Purpose.SECURITY.label)) in page and escape(str(Purpose.CIOT.label)) in page

    def test_it_shows_the_retention_period_of_every_category_in_force(self, client):
        page = client.get("/privacy/").content.decode()
        for category in Category:
            row = _retention_row(page, category.value)
            assert escape(str(category.label)) in row
            assert re.search(r"<td[^>]*>\d+ (years?|months?|days?)( \d+ (months?|days?))*</td>", row)

    def test_changing_a_policy_changes_the_page(self, client, dpo):
        before = _retention_row(client.get("/privacy/").content.decode(), Category.CDR_UNBILLED)
        assert "5 months" not in before
        retention_policy_update(category=Category.CDR_UNBILLED, actor=dpo, period_months=5, period_days=0,
                                change_reason="shorter")
        after = _retention_row(client.get("/privacy/").content.decode(), Category.CDR_UNBILLED)
        assert "5 months" in after and after != before

    def test_the_dutch_page_has_its_headings_translated(self, client):
        page = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "Hoe lang we uw gegevens bewaren" in page

    def test_the_dutch_page_gives_the_periods_in_dutch_words(self, client, dpo):
        retention_policy_update(category=Category.CDR_UNBILLED, actor=dpo, period_months=5, period_days=0,
                                change_reason="shorter")
        page = client.get("/privacy/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        periods = {c: re.findall(r"<td[^>]*>(.*?)</td>", _retention_row(page, c))[1] for c in Category.values}
        assert periods[Category.CDR_UNBILLED] == "5 maanden" and periods[Category.INVOICE] == "7 jaar"
        assert periods[Category.CDR_TECHNICAL] == "30 dagen" and periods[Category.DSR_EXPORT] == "7 dagen"
        assert all(re.fullmatch(r"\d+ (jaar|maanden?|dagen|dag)( \d+ (maanden?|dagen|dag))*", p) for p in periods.values()), periods


@pytest.mark.django_db
class DpiaTests:
    def test_the_command_prints_a_dpia_naming_every_purpose_and_the_policies_in_force(self):
        out = StringIO()
        call_command("processing_register", "--dpia", stdout=out)
        text = out.getvalue()
        assert text.startswith("# Data protection impact assessment (GDPR art. 35)")
        for purpose in Purpose:
            assert str(purpose.label) in text and PURPOSES[purpose].legal_basis.replace("|", "\\|") in text
        for risk in RISKS:
            assert risk.key in text
        assert "## 3. Risks" in text and "## 4. Measures" in text

    def test_a_policy_change_changes_the_dpia(self, dpo):
        retention_policy_update(category=Category.DSR_EXPORT, actor=dpo, period_days=9, period_months=0,
                                change_reason="x")
        assert "| Data-subject export files | 9 days |" in dpia_markdown()

    def test_a_purpose_no_risk_names_fails_generation(self):
        without_ciot = tuple(r for r in RISKS if Purpose.CIOT not in r.purposes)
        with pytest.raises(IncompleteDpia, match="ciot"):
            dpia_markdown(risks=without_ciot)

    def test_a_risk_with_an_unknown_measure_fails_generation(self):
        bad = RISKS + (Risk("x", "y", (Purpose.BILLING,), "low", "low", ("no-such-measure",), "low"),)
        with pytest.raises(IncompleteDpia, match="no-such-measure"):
            dpia_markdown(risks=bad)

    def test_the_register_lists_the_ciot_purpose_with_its_legal_basis(self):
        activity = next(a for a in processing_register()["activities"] if a["purpose"] == "ciot")
        assert "13.4" in activity["legal_basis"] and "6(1)(c)" in activity["legal_basis"]


def test_the_export_schema_knows_every_purpose():
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "export.schema.json").read_text())
    text = json.dumps(schema)
    for purpose in Purpose:
        assert f'"{purpose.value}"' in text, purpose
