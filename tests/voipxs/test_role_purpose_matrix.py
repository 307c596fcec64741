"""LEGAL.md section 5, row 6: "Matrix-driven permission tests for each role × purpose × object".

MATRIX below is the role→purpose matrix of ../shared/DESIGN.md. DESIGN.md has no such table: it names who does
what ("Who uses it"), the purposes (the privacy kernel) and that "a role may use only the purposes granted to it".
Each cell says where it comes from:
  D  DESIGN.md grants it: the role's task there is processing for this purpose (the row's SOURCE says which);
  g  voipxs/privacy/purposes.py grants it and DESIGN.md says nothing either way (the support and admin roles, the
     purposes CUSTOMER_SUPPORT, CIOT and CALL_SETUP, and a staff member seeing their own profile are not in it);
  L  LEGAL.md section 5 row 6 names the role ("NOC/traffic", "fraud") and DESIGN.md's SECURITY is "(fraud, abuse)":
     network operations keep the switches' sources and imports, the fraud analyst the blocked click-to-call prefixes;
  -  not granted.
The first test pins ROLE_PURPOSES to it cell by cell; the others ask, as a user holding exactly one role, for every
purpose, the purpose gate (require_purpose) and the CDR read selector (cdr_list, whose object is calls: only the
purposes of traffic.selectors.scope.CALL_PURPOSES read them), and check allowed exactly where the matrix allows,
refused elsewhere, each with an audit entry under that purpose saying which it was."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Itemisation
from tests.factories import ContractorFactory, make_cdr, make_user
from traffic.selectors.calls import cdr_list, cdr_usage_by_month
from traffic.selectors.scope import CALL_PURPOSES, STAFF_WIDE
from voipxs.models import AuditEntry
from voipxs.privacy.audit import actor_ref
from voipxs.privacy.purposes import ROLE_PURPOSES, Purpose, Role, require_purpose

COLUMNS = ("billing", "interconnection", "legal_obligation", "dispute", "contractor_information", "self_service",
           "security", "customer_support", "ciot", "call_setup")
MATRIX_TEXT = """
role              billing interconn legal_obl dispute contractor self_serv security support ciot call_setup
customer             -        -        -        -        -         D        -       -      -      D
contractor_admin     -        -        -        -        D         g        -       -      -      g
billing              D        D        -        g        -         g        -       -      -      -
legal_officer        -        -        D        D        -         g        -       -      -      -
dpo                  -        -        D        -        -         g        -       -      -      -
support              -        -        -        -        -         g        g       g      -      -
admin                -        -        -        -        -         g        g       -      -      -
noc                  -        -        -        -        -         g        L       -      -      -
fraud                -        -        -        -        -         g        L       -      -      -
"""
SOURCE = {
    "customer": "Who uses it: 'sees own numbers, calls, usage, invoices; downloads own data'; Click-to-call: "
                "'ring the customer's own phone first, then the number'",
    "contractor_admin": "Who uses it: 'sees the traffic of its own Users (masked)'; Portal: 'A contractor sees "
                        "its Users' traffic under the purpose CONTRACTOR_INFORMATION, masked'",
    "billing": "Who uses it: 'rates traffic, issues invoices and interconnection reports'",
    "legal_officer": "Who uses it: 'takes in law-enforcement, judicial, dispute and mediator requests'",
    "dpo": "Who uses it: 'retention policies, legal holds, data-subject requests, processing register, breach "
           "register' (duties the law sets: GDPR art. 12-22, 30, 33-34)",
    "support": "not in DESIGN.md",
    "admin": "not in DESIGN.md",
    "noc": "LEGAL.md section 5 row 6: 'RBAC roles (billing, NOC/traffic, ...)'; not in DESIGN.md",
    "fraud": "LEGAL.md section 5 row 6: 'RBAC roles (..., fraud, ...)'; DESIGN.md: 'SECURITY (fraud, abuse)'",
}


def _matrix() -> dict[str, dict[str, str]]:
    lines = [line.split() for line in MATRIX_TEXT.strip().splitlines()[1:]]
    assert all(len(cells) == len(COLUMNS) + 1 for cells in lines), "one cell per purpose in every row"
    return {cells[0]: dict(zip(COLUMNS, cells[1:])) for cells in lines}


MATRIX = _matrix()
CELLS = [(role, purpose) for role in Role.values for purpose in Purpose.values]


def granted(role: str, purpose: str) -> bool:
    return MATRIX[role][purpose] in ("D", "g", "L")


def reads_calls(role: str, purpose: str) -> bool:
    """The object CDR: the role holds the purpose and the purpose is one that reads calls."""
    return granted(role, purpose) and purpose in CALL_PURPOSES


class MatrixTests:
    def test_the_matrix_has_a_row_per_role_and_a_column_per_purpose(self):
        assert set(MATRIX) == set(Role.values) == set(SOURCE)
        assert set(COLUMNS) == set(Purpose.values)
        assert all(cell in ("D", "g", "L", "-") for row in MATRIX.values() for cell in row.values())

    @pytest.mark.parametrize("role,purpose", CELLS)
    def test_role_purposes_holds_exactly_the_matrix(self, role, purpose):
        assert (Purpose(purpose) in ROLE_PURPOSES[role]) == granted(role, purpose), (
            f"{role} × {purpose}: the matrix says {MATRIX[role][purpose]!r} ({SOURCE[role]})")

    def test_no_role_holds_the_ciot_purpose(self):
        # The CIOT sync runs as a system actor (accounts.ciot); no person processes for it.
        assert not any(granted(role, Purpose.CIOT) for role in Role.values)


def _one_role_users() -> dict[str, object]:
    """A user per role holding exactly that role; the contractor admin administers Acme (itemised bills: a contractor
    without them sees no calls of its Users)."""
    acme = ContractorFactory(name="Acme BV", itemisation=Itemisation.FULL)
    return {role: make_user(f"only-{role}", roles=(role,), contractor=acme if role == Role.CONTRACTOR_ADMIN else None)
            for role in Role.values}


def _attempt(read) -> tuple[bool, object]:
    """(allowed, what the read returned): refused is PermissionDenied."""
    try:
        return True, read()
    except PermissionDenied:
        return False, None


def _misjudged(user, role: str, purpose: str, action: str, *, allowed: bool, expected: bool) -> str | None:
    """What is wrong with one answer: allowed where refused is expected or the reverse, or audited other than once
    under the purpose with the answer given (ok, refused)."""
    outcomes = set(AuditEntry.objects.filter(actor=actor_ref(user), purpose=purpose, action=action)
                   .values_list("outcome", flat=True))
    if allowed != expected or outcomes != {"ok" if allowed else "refused"}:
        return f"{purpose}: allowed={allowed}, audited {sorted(outcomes)}, matrix {MATRIX[role][purpose]}"
    return None


@pytest.mark.django_db
class PurposeGateTests:
    @pytest.mark.parametrize("role", Role.values)
    def test_the_gate_allows_exactly_the_matrix_and_audits_each_answer(self, role):
        user = _one_role_users()[role]
        wrong = []
        for purpose in Purpose.values:
            allowed, _ = _attempt(lambda: require_purpose(actor=user, purpose=purpose, action=f"matrix.{purpose}"))
            wrong.append(_misjudged(user, role, purpose, f"matrix.{purpose}", allowed=allowed,
                                    expected=granted(role, purpose)))
        wrong = [w for w in wrong if w]
        assert not wrong, f"{role}: " + "; ".join(wrong)


@pytest.mark.django_db
class CdrReadMatrixTests:
    """The object is a CDR. Everyone has a call of their own; Acme's contractor admin has a User with a call; an
    outsider of another contractor has one. Each allowed read returns exactly the calls its purpose scopes."""

    @pytest.mark.parametrize("role", Role.values)
    def test_cdr_list_allows_exactly_the_matrix_and_audits_each_read(self, role):
        users = _one_role_users()
        user = users[role]
        acme = users[Role.CONTRACTOR_ADMIN].contractor
        own = {u.pk: make_cdr(account=u).pk for u in users.values()}
        colleague = make_cdr(account=make_user("acme-user", contractor=acme)).pk
        outsider = make_cdr(account=make_user("outsider", contractor=ContractorFactory(name="Other BV"))).pk
        scoped = {
            Purpose.SELF_SERVICE: {own[user.pk]},
            Purpose.CONTRACTOR_INFORMATION: {own[users[Role.CONTRACTOR_ADMIN].pk], colleague},
            **{p: {*own.values(), colleague, outsider} for p in STAFF_WIDE},
        }
        wrong = []
        for purpose in Purpose.values:
            allowed, page = _attempt(lambda: cdr_list(actor=user, purpose=purpose))
            ids = {row.id for row in page.rows} if allowed else set()
            wrong.append(_misjudged(user, role, purpose, "cdr.list", allowed=allowed,
                                    expected=reads_calls(role, purpose))
                         or (allowed and ids != scoped[purpose]
                             and f"{purpose}: read {len(ids)} calls, not the {len(scoped[purpose])} of its scope"))
        wrong = [w for w in wrong if w]
        assert not wrong, f"{role}: " + "; ".join(wrong)

    @pytest.mark.parametrize("role", Role.values)
    def test_usage_per_month_allows_the_same_and_audits_each_answer(self, role):
        user = _one_role_users()[role]
        wrong = []
        for purpose in Purpose.values:
            allowed, _ = _attempt(lambda: cdr_usage_by_month(actor=user, purpose=purpose, months=1))
            wrong.append(_misjudged(user, role, purpose, "cdr.usage", allowed=allowed,
                                    expected=reads_calls(role, purpose)))
        wrong = [w for w in wrong if w]
        assert not wrong, f"{role}: " + "; ".join(wrong)


@pytest.mark.django_db
class OutOfScopeReadTests:
    """A purpose the role holds, asked for calls outside its scope, is refused and recorded as refused only: a
    "granted" entry before the refusal would show a read that never happened."""

    def _entries(self, user) -> list[str]:
        return list(AuditEntry.objects.filter(actor=actor_ref(user), action="cdr.list").values_list("outcome", flat=True))

    def test_another_account_under_self_service(self):
        customer, other = make_user("self"), make_user("someone-else")
        make_cdr(account=other)
        with pytest.raises(PermissionDenied):
            cdr_list(actor=customer, purpose=Purpose.SELF_SERVICE, account=other)
        assert self._entries(customer) == ["refused"]

    def test_another_contractors_calls(self):
        admin = _one_role_users()[Role.CONTRACTOR_ADMIN]
        other = ContractorFactory(name="Other BV")
        make_cdr(account=make_user("other-user", contractor=other))
        with pytest.raises(PermissionDenied):
            cdr_list(actor=admin, purpose=Purpose.CONTRACTOR_INFORMATION, contractor=other)
        assert self._entries(admin) == ["refused"]

    def test_a_contractor_admin_without_a_contractor(self):
        admin = make_user("no-contractor", roles=(Role.CONTRACTOR_ADMIN,))
        with pytest.raises(PermissionDenied):
            cdr_list(actor=admin, purpose=Purpose.CONTRACTOR_INFORMATION)
        assert self._entries(admin) == ["refused"]

    def test_the_own_calls_are_still_granted_once(self):
        customer = make_user("self")
        make_cdr(account=customer)
        assert len(cdr_list(actor=customer, purpose=Purpose.SELF_SERVICE, account=customer).rows) == 1
        assert self._entries(customer) == ["ok"]
