"""Each role's main pages in Chromium at 1280x800 and 390x844 (issue 13 items 1 and 7): nothing wider
than the window, the money column on the screen where a page has money, and no serious or critical
axe-core violation. The staff list pages (STAFF_LISTS) and the customer's (CUSTOMER_LISTS) show every table
as it is on a wide screen and, on a phone, as cards that fit the screen, each value beside its column's heading
and no heading beside nothing ({% stacked_table %}), in English and in Dutch; at both sizes no table on them is
wider than its box (scrolled sideways inside it).
One browser for the module, one context per role (both sizes), the demo world seeded once: the whole walk
is one test that lists every problem it finds."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.sections import DEMO_PASSWORD
from tests.e2e.axe import serious_violations
from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS, TIMEOUT_MS, login
from traffic.partitions import cdr_partitions_list_names

# PostgreSQL only, like the other live-server tests (SQLite's flush meets the audit log's trigger).
pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SIZES = ((1280, 800), (390, 844))
INVOICE = "<alice's newest invoice>"
ADMIN_USER = "<alice's page in the admin>"
STAFF_ADDRESS = "<the invoice address of alice's newest invoice, for billing staff>"
SUPPORT_CUSTOMER = "<alice's page for support staff>"
DPO_RECTIFICATION = "<alice's request to correct her data, for the DPO: the call picker>"
# The officers' search: the demo's requests by a part of their reference, ended ones too, as cards on a phone.
SEARCH = "/disclosures/?q=DEMO-2026"
# role -> (demo login, its pages; the first is the page it lands on from home); MONEY: pages with amounts.
ROLE_PAGES = {
    "customer": ("alice", ("/calls/", "/calls/invoices/", INVOICE, "/calls/usage/", "/privacy-requests/", "/",
                           "/accounts/billing-address/", "/calls/click-to-call/", "/accounts/security/", "/privacy/")),
    "contractor_admin": ("acme-admin", ("/calls/contractor/",)),
    "billing": ("billing", ("/calls/staff/invoices/", "/calls/staff/tariffs/", "/calls/staff/interconnection/",
                            STAFF_ADDRESS, "/calls/staff/masking-list/", "/calls/staff/imports/")),
    "support": ("support", ("/support/", "/support/?q=%2B31205550101", SUPPORT_CUSTOMER)),
    "noc": ("noc", ("/calls/staff/imports/", "/calls/staff/sources/")),
    "fraud": ("fraud", ("/calls/staff/blocked-prefixes/",)),
    "legal_officer": ("legal1", ("/disclosures/", SEARCH, "/disclosures/report/", "/disclosures/authorities/")),
    "dpo": ("dpo", ("/", "/retention/", "/privacy-requests/dpo/", "/privacy-requests/dpo/register/",
                    "/privacy-requests/dpo/restrictions/", "/privacy-requests/dpo/breaches/", DPO_RECTIFICATION)),
    # The Django admin too: its index, changelists with search and filters (and the read-only calls, paged
    # without a count), an add form and a change form. No overflow exemption is needed on a phone: a changelist
    # wider than 390 px scrolls inside its own box (Django's `.results`, overflow-x: auto), not the page.
    "admin": ("admin", ("/", "/admin/", "/admin/traffic/tariff/", "/admin/traffic/tariff/add/", "/admin/accounts/user/",
                        ADMIN_USER, "/admin/traffic/cdr/", "/admin/knox/authtoken/", "/admin/accounts/contractor/")),
}
MONEY = {"/calls/", "/calls/invoices/", INVOICE, "/calls/usage/", "/calls/contractor/", "/calls/staff/invoices/",
         "/calls/staff/tariffs/", "/calls/staff/interconnection/"}

# Staff list pages: every table on them is a {% stacked_table %}, and fits its box at both sizes (the register of
# authorities and the Dutch transparency report once scrolled sideways in theirs at 1280 px).
STAFF_LISTS = {"/calls/staff/imports/", SUPPORT_CUSTOMER, "/disclosures/", SEARCH, "/disclosures/authorities/",
               "/disclosures/report/", "/retention/", "/privacy-requests/dpo/", "/privacy-requests/dpo/register/",
               "/privacy-requests/dpo/restrictions/", "/privacy-requests/dpo/breaches/", "/calls/staff/invoices/",
               "/calls/staff/tariffs/", DPO_RECTIFICATION}
# The customer's own lists and the privacy policy's tables, cards on a phone too (the privacy requests once hid
# their status and download link off a 390 px screen, the click-to-call tokens their status, the policy its legal
# bases): swiped sideways, a customer misses them.
CUSTOMER_LISTS = {"/privacy-requests/", "/calls/click-to-call/", "/accounts/security/", "/privacy/"}

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"
# The tables of a page: wider than their box (so swiped sideways on a phone)? stacked? And on a phone, the body
# cells of a stacked table (shown, with a heading) that do not show that heading beside their value.
TABLES = """() => [...document.querySelectorAll('main table.table')].filter(t => t.getBoundingClientRect().width > 0)
  .map(t => {
    const box = t.closest('.table-wrap') || t.parentElement;
    const cells = [...t.querySelectorAll(':scope > tbody > tr > [data-label]')];
    // a cell without its heading beside it; not a message across the whole table ("None yet."), nor a cell of a
    // column without a heading (its buttons)
    const heads = [...t.querySelectorAll(':scope > thead > tr:last-child > th')].map(h => h.textContent.trim());
    const unlabelled = [...t.querySelectorAll(':scope > tbody > tr > :not([data-label]):not([colspan])')]
      .filter(c => heads[c.cellIndex]).length;
    const shown = cells.filter(c => c.getBoundingClientRect().width > 0);
    const bare = shown.filter(c => !getComputedStyle(c, '::before').content.includes(c.dataset.label) ||
      c.getBoundingClientRect().right > box.getBoundingClientRect().right + 1);
    // a heading beside nothing (a number without a label): a card shows only the values a row has
    const blank = shown.filter(c => !c.textContent.trim() && !c.querySelector('input,button,select,a,img,svg'));
    return {name: t.id || t.querySelector('th')?.innerText.trim() || '?', stacked: t.classList.contains('stacked'),
            overflow: Math.max(t.scrollWidth, box.scrollWidth) - box.clientWidth, cells: cells.length, unlabelled,
            bare: bare.slice(0, 3).map(c => c.dataset.label), blank: blank.slice(0, 3).map(c => c.dataset.label)};
  })"""
# On a phone, a form's fields each under their label: the ids of those beside it (a field squeezed next to the
# label's last word). Filter bars (.filters) keep their labels beside the fields on purpose and are not `.form`.
FIELD_BESIDE_LABEL = """() => [...document.querySelectorAll('main form.form label[for]')].map(label => {
  const field = document.getElementById(label.htmlFor);
  if (!field || field.matches('[type=checkbox],[type=radio],[type=hidden]') || !field.getBoundingClientRect().width)
    return null;
  return field.getBoundingClientRect().top >= label.getBoundingClientRect().bottom - 1 ? null : label.htmlFor;
}).filter(Boolean)"""
DUPLICATE_IDS = """() => { const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))]; }"""
# The first amount on the page: a call's price cell (the phone layout hides the header row) or a money
# column's header. Visible means: not collapsed, inside the window and not scrolled away in its box.
MONEY_CELL = """() => {
  const shown = e => e.getBoundingClientRect().width > 1;
  // a stacked table ({% stacked_table %}) hides its header row on a phone: its first amount, in the money column
  const priced = [...document.querySelectorAll('main table.stacked th.price')].map(th =>
      th.closest('table').querySelector(`:scope > tbody > tr > :nth-child(${th.cellIndex + 1})`));
  const cell = [...document.querySelectorAll('main td.c-price:not(:empty)')].find(shown)
            || priced.find(c => c && shown(c)) || [...document.querySelectorAll('main th.price')].find(shown);
  if (!cell) return null;
  const r = cell.getBoundingClientRect(), box = cell.closest('.table-wrap');
  const right = Math.min(window.innerWidth, box ? box.getBoundingClientRect().right : window.innerWidth);
  return {text: cell.innerText.trim(), left: Math.round(r.left), right: Math.round(r.right), limit: Math.round(right)};
}"""


@pytest.fixture(scope="module")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


def _problems_on(page, url: str, *, money: bool, language: str, staff_list: bool = False) -> list[str]:
    problems = []
    page.goto(url)
    shown = page.evaluate("() => document.documentElement.lang")
    if not shown.startswith(language):
        problems.append(f"the page is in {shown!r}, not in {language!r}")
    overflow = page.evaluate(OVERFLOW)
    if overflow > 0:
        problems.append(f"{overflow}px wider than the window")
    if twice := page.evaluate(DUPLICATE_IDS):
        problems.append(f"ids used twice (a label or a link then names another element): {twice}")
    if page.evaluate("window.innerWidth") < 640 and (beside := page.evaluate(FIELD_BESIDE_LABEL)):
        problems.append(f"fields beside their label, not under it: {beside}")
    if money:
        cell = page.evaluate(MONEY_CELL)
        if cell is None:
            problems.append("no price or amount column shown")
        elif cell["left"] < 0 or cell["right"] > cell["limit"] + 1:
            problems.append(f"the amount column ({cell['text']!r}) ends at {cell['right']}px, past {cell['limit']}px")
    if staff_list:
        phone = page.evaluate("window.innerWidth") < 640
        for table in page.evaluate(TABLES):
            if not table["stacked"] or table["unlabelled"]:
                problems.append(f"the table {table['name']!r} is not a stacked table with labelled cells")
            if table["overflow"] > 0:
                problems.append(f"the table {table['name']!r} is {table['overflow']}px wider than its box")
            if phone and table["bare"]:
                problems.append(f"cards of the table {table['name']!r} show cells without their heading: {table['bare']}")
            if phone and table["blank"]:
                problems.append(f"cards of the table {table['name']!r} show headings without a value: {table['blank']}")
    for violation in serious_violations(page):
        problems.append(f"axe {violation['impact']} {violation['id']} ({violation['help']}) at {violation['nodes']}")
    return problems


def _walk(browser, live_server, role: str, username: str, paths: tuple[str, ...], invoice_id: int,
          language: str = "en") -> list[str]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.dsr.models import DataSubjectRequest
    from accounts.models import User

    alice = User.objects.get(username="alice").pk
    rectification = DataSubjectRequest.objects.filter(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION).first()
    places = {INVOICE: f"/calls/invoices/{invoice_id}/", STAFF_ADDRESS: f"/calls/staff/invoices/{invoice_id}/address/",
              ADMIN_USER: f"/admin/accounts/user/{alice}/change/", SUPPORT_CUSTOMER: f"/support/customers/{alice}/",
              DPO_RECTIFICATION: f"/privacy-requests/dpo/{rectification.pk}/"}
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam", bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, live_server, username, DEMO_PASSWORD, totp_device=TOTPDevice.objects.filter(user__username=username).first())
        context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
        problems = []
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            for path in paths:
                url = live_server.url + places.get(path, path)
                found = _problems_on(page, url, money=path in MONEY, language=language,
                                     staff_list=path in STAFF_LISTS | CUSTOMER_LISTS)
                problems += [f"{role} ({language}) {width}px {path}: {p}" for p in found]
        return problems
    finally:
        context.close()


def _staff_rows() -> None:
    """Rows for the staff tables the demo leaves empty: a restriction ending soon, a breach on its clock, and
    beside the demo's open disclosure request one overdue and one delivered but not closed."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils.timezone import localdate, now

    from accounts.dsr.breaches import breach_incident_create
    from accounts.dsr.models import DataSubjectRequest, Restriction
    from accounts.dsr.restriction import restriction_record
    from accounts.dsr.services import dsr_request_create
    from accounts.models import User
    from disclosures.models import Authority, DisclosureRequest, LegalBasis
    from disclosures.services.intake import disclosure_request_receive

    dpo, legal1, alice = (User.objects.get(username=name) for name in ("dpo", "legal1", "alice"))
    with transaction.atomic():  # as dsr_request_complete records it, in its transaction
        restriction_record(request=dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RESTRICTION),
                           ground=Restriction.Ground.ACCURACY_CONTESTED, ends_on=localdate() + timedelta(days=3),
                           actor=dpo)
    breach_incident_create(title="Support notes e-mailed to the wrong customer", detected_at=now() - timedelta(hours=30),
                           scope="Notes of one customer", telecom_service=True, affected_count=1, actor=dpo)
    police, moment = Authority.objects.get(name="Politie Eenheid Amsterdam"), now()
    overdue, delivered = (disclosure_request_receive(
        actor=legal1, authority=police, reference=reference, legal_basis=LegalBasis.SV_126N, categories=["traffic_data"],
        window_start=moment - timedelta(days=90), window_end=moment, deadline=moment + timedelta(days=2),
        numbers=["+31205550101"]) for reference in ("DEMO-2026-002", "DEMO-2026-003"))
    # Only the dashboard reads these two states (walking a request through production takes a certificate and
    # a package): set directly.
    DisclosureRequest.objects.filter(pk=overdue.pk).update(deadline=moment - timedelta(hours=5))
    DisclosureRequest.objects.filter(pk=delivered.pk).update(status="delivered", delivered_at=moment - timedelta(days=1))
    _authority_rows(police)
    _recipient_rows(dpo, legal1)


def _recipient_rows(dpo, legal1) -> None:
    """GDPR art. 19: a rectification of carol's carried out after a disclosure of her data, its recipient not yet
    told, so the DPO's home page and queue show their count and the queue its list of requests to record them on."""
    from accounts.dsr.models import DataSubjectRequest
    from accounts.dsr.services import dsr_request_complete, dsr_request_create
    from accounts.models import User
    from tests.accounts.dsr_helpers import delivered_disclosure

    carol = User.objects.get(username="carol")
    delivered_disclosure(user=carol, officer=legal1, reference="DEMO-TOLD-1", secrecy_days=None)
    req = dsr_request_create(user=carol, kind=DataSubjectRequest.Kind.RECTIFICATION, details="My address is wrong.")
    dsr_request_complete(request=req, answer="We corrected your address.", actor=dpo)


def _customer_rows() -> None:
    """alice's lists that the demo leaves empty: an access request answered with a file to download (the widest
    answer), a request to correct her data (whose page shows the DPO her calls to attach a note to), a click-to-call
    token with a long name, and a call set up with it."""
    from accounts.dsr.models import DataSubjectRequest
    from accounts.dsr.services import dsr_request_create
    from accounts.models import User
    from accounts.services.call_setup_tokens import call_setup_token_create
    from traffic.models import CallSetup

    alice = User.objects.get(username="alice")
    dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
    dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.RECTIFICATION,
                       details="The call of 3 November to a Dutch mobile number was not made by me.")
    token, _text = call_setup_token_create(user=alice, name="Firefox on the kitchen laptop (work profile)")
    # Only the list reads it (setting up a call asks a switch): made directly.
    CallSetup.objects.create(user=alice, token=token, own_number=alice.phone_numbers.first(), number="+31699993678",
                             via=CallSetup.Via.EXTENSION, backend="asterisk")


def _authority_rows(police) -> None:
    """The register's widest rows, which the demo does not have: the police unit with its certificate in force and
    a new one and new e-mail domains waiting for a second officer (proposed by legal2, so legal1 may confirm), and a
    body with a long mailbox and domains that legal2 registered and nobody verified yet (legal1 sees the form)."""
    from accounts.models import User
    from disclosures.models import AuthorityKind
    from disclosures.services.authorities import authority_certificate_set, authority_create, authority_domains_set
    from tests.disclosures.certificates import make_recipient, police_recipient

    legal2 = User.objects.get(username="legal2")
    authority_certificate_set(actor=None, authority=police, certificate=police_recipient().certificate_pem)
    authority_certificate_set(actor=legal2, authority=police, certificate=make_recipient().certificate_pem)
    authority_domains_set(actor=legal2, authority=police, email_domains=["politie.nl", "rechtshulp.politie.nl"])
    authority_create(actor=legal2, name="Fiscale Inlichtingen- en Opsporingsdienst (FIOD)",
                     kind=AuthorityKind.PROSECUTOR, contact_phone="+31 20 555 0990",
                     contact_email="rechtshulpverzoeken.telecom@fiod-belastingdienst.example",
                     email_domains=["fiod-belastingdienst.example", "belastingdienst.example"])


def _partitions_drop(names: set[str]) -> None:
    """The month partitions the demo data made: the flush after the test empties tables, it does not
    drop them, and a later purge test would find (and purge) these months too."""
    from django.db import connection

    with connection.cursor() as cursor:
        for name in sorted(names):
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")  # nosec B608


class LayoutAndAccessibilityTests:
    def test_every_roles_pages_fit_show_the_money_and_pass_axe(self, browser, live_server, settings, tmp_path):
        from traffic.models import Invoice

        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        before = set(cdr_partitions_list_names())
        try:
            call_command("seed_demo", stdout=io.StringIO())
            _staff_rows()
            _customer_rows()
            invoice = Invoice.objects.filter(account__username="alice").order_by("-period").first()
            problems = []
            for role, (username, paths) in ROLE_PAGES.items():
                problems += _walk(browser, live_server, role, username, paths, invoice.pk)
            # Dutch labels are longer: the customer's money pages once more in Dutch.
            problems += _walk(browser, live_server, "customer", "alice", ROLE_PAGES["customer"][1][:4],
                              invoice.pk, language="nl")
            # The list pages in Dutch: longer headings, beside each value on a phone.
            for role in ("legal_officer", "dpo", "billing"):
                problems += _walk(browser, live_server, role, ROLE_PAGES[role][0], ROLE_PAGES[role][1],
                                  invoice.pk, language="nl")
            problems += _walk(browser, live_server, "customer", "alice", tuple(sorted(CUSTOMER_LISTS)), invoice.pk,
                              language="nl")
            # And the admin, which Django translates itself: its Dutch labels in our layout.
            problems += _walk(browser, live_server, "admin", "admin", ROLE_PAGES["admin"][1],
                              invoice.pk, language="nl")
            assert problems == [], "\n".join(problems)
        finally:
            _partitions_drop(set(cdr_partitions_list_names()) - before)

    def test_the_check_catches_a_price_column_pushed_off_a_phone(self, browser, live_server):
        """The walk above can fail: a table wider than its box hides the price, and axe names an
        unlabelled field (a page of our own markup, served by the live server's origin)."""
        context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            page.goto(live_server.url + "/privacy/")
            page.evaluate("""() => { document.querySelector('main').innerHTML =
              '<div class="table-wrap"><table class="table"><tr><th>' + 'x'.repeat(120) +
              '</th><th class="price">Price</th></tr></table></div><input type="text">'; }""")
            cell = page.evaluate(MONEY_CELL)
            assert cell["right"] > cell["limit"] + 1
            assert any(v["id"] == "label" for v in serious_violations(page))
        finally:
            context.close()

    def test_the_check_catches_a_table_a_phone_must_swipe(self, browser, live_server):
        """A staff table of long values is swiped sideways on a phone as a plain table, and fits as cards
        with each value beside its heading once it is stacked (the same markup {% stacked_table %} writes)."""
        context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            page.goto(live_server.url + "/privacy/")
            table = ('<div class="table-wrap"><table class="table{}"><thead><tr>' + "".join(
                f'<th scope="col">Heading {n}</th>' for n in range(6)) + "</tr></thead><tbody><tr>" + "".join(
                f'<td data-label="Heading {n}">{n}-' + "value " * 6 + "</td>" for n in range(6)) + "</tr></tbody></table></div>")
            page.evaluate("html => { document.querySelector('main').innerHTML = html; }", table.format(""))
            [plain] = page.evaluate(TABLES)
            assert not plain["stacked"] and plain["overflow"] > 0
            page.evaluate("html => { document.querySelector('main').innerHTML = html; }", table.format(" stacked"))
            [cards] = page.evaluate(TABLES)
            assert cards["stacked"] and cards["overflow"] <= 0 and cards["cells"] == 6 and cards["bare"] == []
        finally:
            context.close()

    def test_the_check_catches_a_field_beside_its_label_on_a_phone(self, browser, live_server):
        """A field laid out as Django's as_p writes it (a paragraph, not the field's div) sits beside its label's
        last word on a phone; in the div site.css lays out, it is under its label."""
        context = browser.new_context(bypass_csp=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        try:
            page.goto(live_server.url + "/privacy/")
            form = '<form class="form"><{0}><label for="f">Name</label> <input id="f" size="10"></{0}></form>'
            page.evaluate("html => { document.querySelector('main').innerHTML = html; }", form.format("p"))
            assert page.evaluate(FIELD_BESIDE_LABEL) == ["f"]
            page.evaluate("html => { document.querySelector('main').innerHTML = html; }", form.format("div"))
            assert page.evaluate(FIELD_BESIDE_LABEL) == []
        finally:
            context.close()


SUMMARY_HAS_FOCUS = "() => !!document.activeElement && document.activeElement.matches('main .error-summary')"
FOCUSED_SUMMARY = """() => { const s = document.querySelector('main .error-summary'); if (!s) return null;
  return {focused: document.activeElement === s, links: [...s.querySelectorAll('a[href^="#"]')].map(a => a.hash),
          targets: [...s.querySelectorAll('a[href^="#"]')].every(a => document.getElementById(a.hash.slice(1)))}; }"""
UNLABELLED_STEP_FIELDS = """() => [...document.querySelectorAll('main .actions input, main .actions select')]
  .filter(f => !f.matches('[type=hidden],[type=submit]') && !f.closest('label')
               && !(f.id && document.querySelector(`label[for="${f.id}"]`)))
  .map(f => f.name)"""


class RequestPageLayoutTests:
    def test_the_request_page_and_the_intake_form_fit_at_both_sizes_in_both_languages(self, browser, live_server,
                                                                                      settings, tmp_path):
        """The request page (its step fields each under a visible label, its History as cards on a phone) in the
        states with the most fields, and the intake form blank and refused (its error summary focused, each link
        landing on its field): nothing wider than the window, no serious axe violation, in English and Dutch."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from disclosures.models import DisclosureRequest

        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        before = set(cdr_partitions_list_names())
        try:
            call_command("seed_demo", stdout=io.StringIO())
            _staff_rows()
            received = DisclosureRequest.objects.get(reference="DEMO-2026-001")
            review = DisclosureRequest.objects.get(reference="DEMO-2026-002")
            DisclosureRequest.objects.filter(pk=review.pk).update(status="under_review")
            pages = (f"/disclosures/requests/{received.pk}/", f"/disclosures/requests/{review.pk}/",
                     "/disclosures/requests/new/")
            problems = []
            for language in ("en", "nl"):
                context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam", bypass_csp=True)
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                try:
                    # The second language signs in again within 30 s: django-otp refuses a time step already
                    # used (replay protection), so the device forgets it, as tests/e2e/flows.py does.
                    TOTPDevice.objects.filter(user__username="legal1").update(last_t=-1)
                    login(page, live_server, "legal1", DEMO_PASSWORD,
                          totp_device=TOTPDevice.objects.filter(user__username="legal1").first())
                    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
                    for width, height in SIZES:
                        page.set_viewport_size({"width": width, "height": height})
                        where = f"({language}) {width}px"
                        for path in pages:
                            found = _problems_on(page, live_server.url + path, money=False, language=language,
                                                 staff_list=path != pages[-1])
                            if bare := page.evaluate(UNLABELLED_STEP_FIELDS):
                                found.append(f"step fields without a visible label: {bare}")
                            problems += [f"{where} {path}: {p}" for p in found]
                        page.click("#request-form button[type=submit]")  # the blank intake form, refused
                        # `autofocus` is applied at the page's next rendering step, after the answer has loaded: wait
                        # for it (asked at once, the focus was still on the body now and then); never given, it fails.
                        try:
                            page.wait_for_function(SUMMARY_HAS_FOCUS, timeout=TIMEOUT_MS)
                        except Exception:  # noqa: BLE001  playwright's TimeoutError
                            pass  # reported below, with what the summary holds
                        summary = page.evaluate(FOCUSED_SUMMARY)
                        if not summary or not summary["focused"] or not summary["links"] or not summary["targets"]:
                            problems.append(f"{where} refused intake: no focused error summary linking its fields "
                                            f"({summary})")
                        if (overflow := page.evaluate(OVERFLOW)) > 0:
                            problems.append(f"{where} refused intake: {overflow}px wider than the window")
                        problems += [f"{where} refused intake: axe {v['impact']} {v['id']} at {v['nodes']}"
                                     for v in serious_violations(page)]
                finally:
                    context.close()
            assert problems == [], "\n".join(problems)
        finally:
            _partitions_drop(set(cdr_partitions_list_names()) - before)


# The request page as an officer reads it (PostgreSQL only, as above): the document upload's hint ran on beside its
# input and wrapped under the label ("Document:"), its second line at the page's left edge; it is one block in the
# field's column, as the intake form's hints are, the input still naming it (aria-describedby). On a phone the
# request's details kept two columns, each value squeezed a few words wide; there each value is under its term, as
# the site's other definition lists (.dl) on a phone, and beside it on a wide screen.

# The upload's hint: its boxes (one per line it takes), the input's and the label's, and whether the input names it.
DOCUMENT_HINT = """() => { const input = document.querySelector('main input[type=file][name=document]');
  if (!input) return null;
  const hint = document.getElementById((input.getAttribute('aria-describedby') || '').split(' ')[0]);
  const label = document.querySelector(`label[for="${input.id}"]`);
  if (!hint || !label) return {named: !!hint, labelled: !!label};
  const box = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top,
                                                                   bottom: r.bottom}; };
  return {named: true, labelled: true, text: hint.innerText.trim(), boxes: hint.getClientRects().length,
          hint: box(hint), input: box(input), label: box(label)}; }"""
# The request's details: for each term, its box and its value's.
FACTS = """() => [...document.querySelectorAll('main dl.facts > dt')].map(dt => {
  const dd = dt.nextElementSibling, t = dt.getBoundingClientRect(), d = dd.getBoundingClientRect();
  return {term: dt.innerText.trim(), termLeft: t.left, termBottom: t.bottom, valueLeft: d.left, valueTop: d.top,
          valueWidth: d.width, termRight: t.right}; })"""


def _hint_problems(hint: dict | None) -> list[str]:
    if hint is None:
        return ["no document upload on the page"]
    if not hint["named"] or not hint["labelled"]:
        return [f"the upload's hint or label is not tied to its input: {hint}"]
    problems = []
    if hint["boxes"] != 1:
        problems.append(f"the upload's hint runs inline, in {hint['boxes']} pieces (wraps under the label)")
    if hint["hint"]["left"] < hint["input"]["left"] - 1:
        problems.append(f"the upload's hint starts at {hint['hint']['left']:.0f}px, left of its input "
                        f"({hint['input']['left']:.0f}px): it reads as part of the label")
    if hint["hint"]["top"] < hint["input"]["bottom"] - 1 and hint["hint"]["left"] > hint["input"]["left"] + 1:
        problems.append("the upload's hint is beside its input, not under it")
    return problems


def _facts_problems(facts: list[dict], *, phone: bool) -> list[str]:
    if not facts:
        return ["no request details on the page"]
    problems = []
    for f in facts:
        if phone and (abs(f["valueLeft"] - f["termLeft"]) > 1 or f["valueTop"] < f["termBottom"] - 1):
            problems.append(f"{f['term']!r}: its value is beside it, {f['valueWidth']:.0f}px wide, not under it")
        if not phone and f["valueLeft"] < f["termRight"]:
            problems.append(f"{f['term']!r}: its value is under it on a wide screen, not beside it")
    return problems


class RequestPageReadingTests:
    def test_the_upload_hint_and_the_request_details_read_at_both_sizes(self, browser, live_server, settings,
                                                                        tmp_path):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from disclosures.models import DisclosureRequest

        settings.PRIVATE_FILES_DIR = tmp_path / "private"
        before = set(cdr_partitions_list_names())
        context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam", bypass_csp=True)
        try:
            call_command("seed_demo", stdout=io.StringIO())
            req = DisclosureRequest.objects.get(reference="DEMO-2026-001")
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            login(page, live_server, "legal1", DEMO_PASSWORD,
                  totp_device=TOTPDevice.objects.filter(user__username="legal1").first())
            problems = []
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
                page.screenshot(path=str(tmp_path / f"request-{width}.png"), full_page=True)  # kept by pytest
                found = _facts_problems(page.evaluate(FACTS), phone=width < 640)
                if width >= 640:  # on a phone: FIELD_BESIDE_LABEL, in the walk above
                    found += _hint_problems(page.evaluate(DOCUMENT_HINT))
                problems += [f"{width}px: {p}" for p in found]
            assert problems == [], "\n".join(problems)
        finally:
            context.close()
            _partitions_drop(set(cdr_partitions_list_names()) - before)
