"""Cells of tests/authz/matrix.csv where the code answers a role differently from the design: written in
the table as the design value with the finding's id ("deny:F1"), described here. The matrix test accepts
the code's current answer for these cells and fails as soon as one is fixed, so the cell is then written
as the plain design value and the finding removed from this table."""
from __future__ import annotations

FINDINGS: dict[str, str] = {
    "F3": (
        "The retention admin has no role gate, so the admin role (a superuser) does what the retention pages and "
        "API reserve to the DPO ('Only the data protection officer manages retention', retention/views.py, "
        "retention/api.py IsDpo): adds retention policy versions (e.g. shortens a period), places legal holds "
        "and releases them (the changelist action), and it sees every legal hold and held CDR, including a "
        "disclosure request's hold (reason, reference 'disclosure:<id>', account ids, number indexes, window), "
        "which discloses that a possibly secret request exists and whom it targets; the disclosures admin hides "
        "exactly that from the admin role on purpose (disclosures/admin.py _LegalOfficersOnly). Fix: in "
        "retention/admin.py give RetentionPolicyAdmin, LegalHoldAdmin and HeldCdrAdmin the DPO's role as their "
        "module/view/add/change permission (has_role(request.user, Role.DPO)), as disclosures/admin.py does for "
        "legal officers; receipts and runs (counts only) may stay visible to the admin."
    ),
}
