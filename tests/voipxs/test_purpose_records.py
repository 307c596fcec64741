"""LEGAL.md section 5 rows 29 (GDPR art. 30) and 32 (GDPR art. 35): a purpose added to the code without its entry in
the processing register, or without a DPIA risk that names it, fails CI; and the DPIA is versioned, so a changed
assessment (a purpose, a risk, a measure) cannot ship under the version the DPO advised on.

CI runs the tests, and these tests run the same checks the register and the DPIA are generated through
(`processing_register`, `dpia_markdown`) over the purposes of the code (`Purpose`). Here a purpose is added the way
a developer would add it, as a new member of the enum, to show those checks refuse it until it is recorded."""
from __future__ import annotations

from dataclasses import replace

import pytest
from django.db import models

from voipxs.privacy.dpia import (
    DPIA_ASSESSED, DPIA_VERSION, RISKS, IncompleteDpia, Risk, dpia_fingerprint, dpia_markdown,
)
from voipxs.privacy.purposes import PURPOSES, Purpose, PurposeInfo
from voipxs.privacy.register import IncompleteRegister, processing_register

pytestmark = pytest.mark.django_db  # the register reads the retention policies in force

# The code's purposes plus one more, say Tw art. 11.5(3)'s marketing (which would need consent VoIPXS does not
# collect); named so that it cannot clash with a purpose the code may really add.
WithMarketing = models.TextChoices("Purpose", [(p.name, (p.value, p.label)) for p in Purpose]
                                   + [("MARKETING_UNDER_TEST", ("marketing_under_test", "Marketing of own services"))])
MARKETING_ENTRY = PurposeInfo(description="Offering own services to customers.", legal_basis="Tw art. 11.5(3) consent",
                              data_categories=("traffic data",), recipients=("sales staff",),
                              retention="until consent is withdrawn", policy_reference="none yet")
MARKETING_RISK = Risk("marketing-without-consent", "Traffic data used for offers the subscriber did not agree to.",
                      (WithMarketing.MARKETING_UNDER_TEST,), "medium", "high", ("purpose", "audit"), "low")


class NewPurposeTests:
    def test_the_purposes_of_the_code_pass_both_checks(self):
        assert [a["purpose"] for a in processing_register()["activities"]] == Purpose.values
        assert all(f"| {p.label} |" in dpia_markdown() for p in Purpose)

    def test_a_new_purpose_without_a_register_entry_fails(self):
        with pytest.raises(IncompleteRegister, match="marketing_under_test"):
            processing_register(members=WithMarketing)
        with pytest.raises(IncompleteRegister, match="marketing_under_test"):  # the DPIA is generated from the register
            dpia_markdown(members=WithMarketing, risks=RISKS + (MARKETING_RISK,))

    def test_a_new_purpose_with_its_register_entry_but_no_dpia_risk_fails(self):
        table = {**PURPOSES, WithMarketing.MARKETING_UNDER_TEST: MARKETING_ENTRY}
        activities = processing_register(members=WithMarketing, purposes=table)["activities"]
        assert activities[-1]["purpose"] == "marketing_under_test"
        with pytest.raises(IncompleteDpia, match="marketing_under_test"):
            dpia_markdown(members=WithMarketing, purposes=table)

    def test_a_new_purpose_recorded_in_both_passes_and_is_a_new_assessment(self):
        table = {**PURPOSES, WithMarketing.MARKETING_UNDER_TEST: MARKETING_ENTRY}
        risks = RISKS + (MARKETING_RISK,)
        dpia = dpia_markdown(members=WithMarketing, purposes=table, risks=risks)
        assert "| Marketing of own services |" in dpia and "marketing-without-consent" in dpia
        assert dpia_fingerprint(members=WithMarketing, purposes=table, risks=risks) not in DPIA_ASSESSED.values()


class DpiaVersionTests:
    def test_the_current_version_is_the_one_that_assessed_this_content(self):
        assert DPIA_VERSION == max(DPIA_ASSESSED, key=int)
        assert DPIA_ASSESSED[DPIA_VERSION] == dpia_fingerprint(), (
            "The purposes, DPIA risks or measures changed: that is a new assessment. Add a version to "
            "voipxs/privacy/dpia.py DPIA_ASSESSED with dpia_fingerprint() and raise DPIA_VERSION.")
        assert len(set(DPIA_ASSESSED.values())) == len(DPIA_ASSESSED)
        assert f"version {DPIA_VERSION}" in dpia_markdown().splitlines()[0]

    def test_a_changed_purpose_risk_or_measure_changes_the_fingerprint(self):
        reworded = {**PURPOSES, Purpose.SECURITY: replace(PURPOSES[Purpose.SECURITY], retention="identifiers 60 days")}
        lower = (replace(RISKS[0], residual="medium"),) + RISKS[1:]
        assert len({dpia_fingerprint(), dpia_fingerprint(purposes=reworded), dpia_fingerprint(risks=lower),
                    dpia_fingerprint(members=WithMarketing)}) == 4
