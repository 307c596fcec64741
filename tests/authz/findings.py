"""Cells of tests/authz/matrix.csv where the code answers a role differently from the design: written in
the table as the design value with the finding's id ("deny:F1"), described here. The matrix test accepts
the code's current answer for these cells and fails as soon as one is fixed, so the cell is then written
as the plain design value and the finding removed from this table."""
from __future__ import annotations

FINDINGS: dict[str, str] = {
    "F1": (
        "The admin role mints API tokens for anyone: django-rest-knox registers its own AuthTokenAdmin, whose add "
        "form takes any user and shows the new token once ('TOKEN ...'). A knox token counts as issued after the "
        "owner's second factor (accounts.api_auth), so with a token for a legal officer the admin reads secret "
        "disclosure requests and downloads their packages through /api/v1/staff/disclosures/, and with a "
        "customer's token it reads their calls: the second-admin rule for legal_officer (issue 16, leak 2), the "
        "owner's TOTP and SELF_SERVICE are all bypassed. Design: no one acts as another person. Fix: in "
        "accounts/admin.py replace knox's registration with a read-only one (admin.site.unregister(AuthToken); "
        "register it with ReadOnlyAdminMixin, list_display user/created/expiry), as done for the OTP devices."
    ),
    "F2": (
        "The admin role edits auth groups, and a role is a group's name (voipxs.privacy.purposes.Role): an admin "
        "gives itself the support role (no second admin needed), renames the legal_officer group away and the "
        "support group to legal_officer, and is a legal officer, opening secret disclosure requests, with no "
        "RoleGrant and no audit entry (the real legal officers lose the role). Creating, renaming or deleting a "
        "group breaks the role table either way. Design: roles of SECOND_ADMIN_ROLES need a second admin; roles "
        "are created by a migration. Fix: in accounts/admin.py unregister django.contrib.auth's GroupAdmin "
        "(admin.site.unregister(Group)), or register Group read-only (ReadOnlyAdminMixin)."
    ),
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
