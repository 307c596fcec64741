"""LEGAL.md section 5 row 21 ("including the purpose"): the workflow events services record name the purpose they
serve, as reads do. A DPO filtering the log by purpose finds a rights request, a breach and a policy notice under the
legal obligation, an account closed or a number given under the contract (billing), a clean-up under retention.
Statically, every call that writes an entry in the apps passes a purpose, so a path no test walks is held to it too;
the suite-wide guard (tests/audit_guard.py) catches one left empty at run time."""
from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils.timezone import now

from voipxs.models import AuditEntry
from voipxs.privacy.purposes import Purpose

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("accounts", "disclosures", "retention", "traffic", "voipxs")
LEGAL, BILLING, DISPUTE = Purpose.LEGAL_OBLIGATION.value, Purpose.BILLING.value, Purpose.DISPUTE.value


def _purposes_since(start: int) -> dict[str, set[str]]:
    """Each action written since `start`, with the purposes its entries carry."""
    found: dict[str, set[str]] = {}
    for action, purpose in AuditEntry.objects.filter(pk__gt=start).values_list("action", "purpose"):
        found.setdefault(action, set()).add(purpose)
    return found


def _last() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _calls_without_a_purpose(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    missing = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
        if name not in ("audit_record", "audit_access"):
            continue
        given = {k.arg: k.value for k in node.keywords}
        purpose = given.get("purpose")
        spread = None in given  # **kwargs: the caller's purpose goes through (audit.py's own wrappers)
        if (purpose is None and not spread) or (isinstance(purpose, ast.Constant) and not purpose.value):
            missing.append(f"{path.relative_to(root)}:{node.lineno}")
    return missing


def test_every_call_that_writes_an_audit_entry_in_the_apps_names_a_purpose():
    missing = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                missing += _calls_without_a_purpose(path)
    assert missing == []


def test_the_static_check_finds_a_call_without_a_purpose_or_with_an_empty_one(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('audit_record(actor=None, action="x")\naudit_record(actor=None, action="y", purpose="")\n'
                      'audit_access(actor=None, action="z", purpose=PURPOSE)\naudit.audit_access(action="w")\n')
    assert _calls_without_a_purpose(sample, tmp_path) == ["sample.py:1", "sample.py:2", "sample.py:4"]


@pytest.mark.django_db
class WorkflowPurposeTests:
    def test_a_rights_request_is_recorded_under_the_legal_obligation_from_intake_to_answer(self, alice, dpo):
        from accounts.dsr.models import DataSubjectRequest
        from accounts.dsr.services import dsr_request_complete, dsr_request_create, dsr_request_start

        start = _last()
        req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION, details="wrong street")
        dsr_request_start(request=req, actor=dpo)
        dsr_request_complete(request=req, answer="Corrected.", actor=dpo)
        found = _purposes_since(start)
        assert {a: found.get(a) for a in ("dsr.create", "dsr.start", "dsr.complete")} == {
            "dsr.create": {LEGAL}, "dsr.start": {LEGAL}, "dsr.complete": {LEGAL}}

    def test_the_breach_register_is_recorded_under_the_legal_obligation(self, dpo):
        from accounts.dsr.breaches import breach_incident_close, breach_incident_create, breach_notification_record

        start = _last()
        inc = breach_incident_create(title="t", detected_at=now() - timedelta(hours=1), scope="s",
                                     telecom_service=False, actor=dpo)
        breach_notification_record(incident=inc, recipient="authority", stage="final", reference="AP-1",
                                   sent_at=now(), actor=dpo)
        breach_incident_close(incident=inc, users_not_notified_reason="No risk (art. 34(3)(a)).", actor=dpo)
        found = _purposes_since(start)
        assert {a: found.get(a) for a in ("breach.create", "breach.notify", "breach.close")} == {
            "breach.create": {LEGAL}, "breach.notify": {LEGAL}, "breach.close": {LEGAL}}

    def test_a_policy_published_and_seen_is_recorded_under_the_legal_obligation(self, alice, dpo):
        from accounts.dsr.policy import policy_notice_seen, policy_version_create, policy_version_publish

        start = _last()
        pv = policy_version_create(version="9.9", summary="New purpose", text="...", substantive=True, actor=dpo)
        policy_version_publish(policy=pv, actor=dpo)
        assert policy_notice_seen(user=alice) >= 1
        found = _purposes_since(start)
        assert {a: found.get(a) for a in ("policy.create", "policy.publish", "policy.seen")} == {
            "policy.create": {LEGAL}, "policy.publish": {LEGAL}, "policy.seen": {LEGAL}}

    def test_numbers_given_and_ended_and_an_account_closed_are_recorded_under_the_contract(self, mallory,
                                                                                           billing_staff):
        from accounts.models import AccountCloseReason
        from accounts.services.closing import account_close
        from accounts.services.numbers import phone_number_assign, phone_number_release

        start = _last()
        phone = phone_number_assign(user=mallory, number="+31205550977", valid_from=now() - timedelta(days=2),
                                    actor=billing_staff)
        phone_number_release(phone=phone, at=now() - timedelta(days=1), actor=billing_staff)
        account_close(user=mallory, actor=billing_staff, reason=AccountCloseReason.CONTRACT_ENDED)
        found = _purposes_since(start)
        assert {a: found.get(a) for a in ("phone_number.assign", "phone_number.release", "account.close")} == {
            "phone_number.assign": {BILLING}, "phone_number.release": {BILLING}, "account.close": {BILLING}}

    def test_the_session_and_token_clean_ups_are_recorded_under_retention(self, client, alice):
        from knox.models import AuthToken

        from accounts.models import UserSession
        from accounts.services.sign_in import api_tokens_expired_delete, sessions_expired_delete

        client.force_login(alice)
        UserSession.objects.filter(user=alice).update(expire_date=now() - timedelta(seconds=1))
        stale = AuthToken.objects.create(user=alice)[0]
        AuthToken.objects.filter(pk=stale.pk).update(expiry=now() - timedelta(days=1))
        start = _last()
        assert sessions_expired_delete() == 1 and api_tokens_expired_delete() == 1
        found = _purposes_since(start)
        assert found == {"session.expired_delete": {LEGAL}, "api_token.expired_delete": {LEGAL}}

    def test_an_authoritys_record_and_a_hold_carry_the_purpose_they_serve(self, legal1):
        from disclosures.models import AuthorityKind
        from disclosures.services.authorities import authority_create
        from retention.models import Category, LegalHold
        from retention.services import legal_hold_place

        start = _last()
        police = authority_create(actor=legal1, name="Politie Eenheid A", kind=AuthorityKind.POLICE,
                                  contact_phone="+31205550100")
        authority_create(actor=legal1, name="Geschillencommissie", kind=AuthorityKind.DISPUTE_COMMISSION,
                         contact_phone="+31205550111")
        legal_hold_place(reason=LegalHold.Reason.DISPUTE, reference="case 7", categories=[Category.CDR_BILLED],
                         account_ids=[legal1.pk], actor=legal1)
        entries = AuditEntry.objects.filter(pk__gt=start)
        by_authority = dict(entries.filter(action="disclosure.authority_create").values_list("target_id", "purpose"))
        assert by_authority.pop(str(police.pk)) == LEGAL and set(by_authority.values()) == {DISPUTE}
        assert entries.get(action="retention.hold_place").purpose == DISPUTE
