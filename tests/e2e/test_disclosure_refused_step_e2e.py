"""The request page's steps in a browser (PostgreSQL only, as the other live-server tests).

A refused step (a scope narrowed to target ids that are not numbers, a box left unticked) came back as the page's top,
the focus on nothing: the refusal was beside a form far down the page, out of sight, and the officer saw only the
banner, if that. The page that comes back now opens at the refused form's error, focused (`autofocus`: the CSP runs
no inline script), at 1280 px and 390 px.

The forms that open (narrow the scope, convert, the notice decision) were Django's as_p paragraphs, each hint run on
beside its input and wrapped under the label; each field is now a .field block, as the page's other steps are: its
label, hint, error and input in one column, the input named by its hint and error (aria-describedby)."""
from __future__ import annotations

import pytest

from disclosures.models import AuthorityKind, LegalBasis
from disclosures.services.authorities import authority_create, authority_verify
from tests.disclosures.conftest import receive, to_state, with_certificate
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.flows import officer_sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SIZES = ((1280, 800), (390, 844))

# The focused element: which step's form holds it, what it is, and whether it and the error it is named by are in the
# window (not scrolled away).
FOCUSED = """() => { const el = document.activeElement; if (!el || el === document.body) return null;
  const form = el.closest('form'), inView = e => { const r = e.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0; };
  const errorId = (el.getAttribute('aria-describedby') || '').split(' ').find(id => id.endsWith('error'));
  const error = el.matches('.error-summary') ? el : document.getElementById(errorId || '');
  return {action: form ? form.getAttribute('action') : null, summary: el.matches('.error-summary'),
          name: el.getAttribute('name'), inView: inView(el), error: error ? error.innerText.trim() : null,
          errorInView: !!error && inView(error), scrolled: window.scrollY}; }"""
HAS_FOCUS = "() => !!document.activeElement && document.activeElement !== document.body"

# Each field of the forms that open: its label, hint, error and input in one column (the same left edge, the hint
# one block, not run on beside the input), and the input named by its hint and error.
FIELDS = """(selector) => [...document.querySelectorAll(`${selector} .field`)].map(f => {
  const input = f.querySelector('input:not([type=hidden]), select, textarea');
  const named = (input.closest('fieldset') || input).getAttribute('aria-describedby') || '';
  const left = e => e ? Math.round(e.getBoundingClientRect().left) : null;
  const label = f.querySelector(':scope > label, :scope > fieldset > legend'), hint = f.querySelector('.helptext');
  const error = f.querySelector('.errorlist');
  return {name: input.name, label: left(label), input: left(input.closest('fieldset') || input), hint: left(hint),
          hintBoxes: hint ? hint.getClientRects().length : 1, error: left(error),
          hintNamed: !hint || named.split(' ').includes(hint.id),
          errorNamed: !error || named.split(' ').includes(error.id)};
})"""


def _world(legal1, legal2, legal3):
    body = authority_create(actor=legal1, name="Politie Eenheid Amsterdam", kind=AuthorityKind.POLICE,
                            contact_phone="+31205559999")
    body = with_certificate(authority_verify(actor=legal2, authority=body, note="register"), actor=legal1)
    received = receive(legal1, body, reference="PV-2026-0001")
    preserved = to_state(receive(legal1, body, basis=LegalBasis.SV_126NI, deadline=None, reference="PRES-7"),
                         "approved", intake=legal1, approvers=[legal2, legal3])
    return received, preserved


def _focused(page) -> dict | None:
    # `autofocus` is applied at the page's next rendering step, after the answer has loaded: wait for it.
    try:
        page.wait_for_function(HAS_FOCUS, timeout=TIMEOUT_MS)
    except Exception:  # noqa: BLE001  playwright's TimeoutError; reported by the assertion, with what has focus
        pass
    return page.evaluate(FOCUSED)


def _refused_at_both_sizes(page, live_server, officer, req, fill, form: str):
    """At each size: the request's page, the step's form filled by `fill` and sent, refused; (width, what has the
    focus on the page that came back)."""
    officer_sign_in(page, live_server, officer)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/disclosures/requests/{req.pk}/")
        fill(page)
        with page.expect_navigation():
            page.locator(f"{form} button[type=submit]").click()
        yield width, _focused(page)


class RefusedStepFocusTests:
    def test_a_refused_narrowing_opens_at_its_error_summary(self, page, live_server, legal1, legal2, legal3):
        _, preserved = _world(legal1, legal2, legal3)

        def fill(page) -> None:
            page.locator("#narrow-scope summary").click()
            page.fill("#id_narrow_remove_target_ids", "first, second")
            page.locator("#narrow-scope input[name=confirm]").check()

        for width, focused in _refused_at_both_sizes(page, live_server, legal1, preserved, fill, "#narrow-scope"):
            assert focused and focused["summary"] and focused["action"].endswith("/narrow/"), (width, focused)
            assert focused["inView"] and focused["scrolled"] > 0, (width, focused)
            assert "Target ids are whole numbers." in focused["error"]
            assert page.locator("#id_narrow_remove_target_ids").input_value() == "first, second"

    def test_a_step_sent_without_its_box_ticked_opens_at_the_box(self, page, live_server, legal1, legal2, legal3):
        received, _ = _world(legal1, legal2, legal3)
        reject = "form[action$='/reject/']"

        def fill(page) -> None:
            page.fill("#reject-note", "No legal basis given")
            # As a browser that does not check `required` sends it (an old one, a script): the box unticked.
            page.locator(f"{reject} input[name=confirm]").evaluate("box => box.required = false")

        for width, focused in _refused_at_both_sizes(page, live_server, legal1, received, fill, reject):
            assert focused and focused["name"] == "confirm" and focused["action"].endswith("/reject/"), (width, focused)
            assert focused["inView"] and focused["errorInView"], (width, focused)
            assert focused["error"] == "Tick the box to confirm “Reject”: nothing was done yet."


class StepFormLayoutTests:
    def test_the_forms_that_open_have_each_field_in_one_column(self, page, live_server, legal1, legal2, legal3):
        _, preserved = _world(legal1, legal2, legal3)
        officer_sign_in(page, live_server, legal1)
        problems = []
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{live_server.url}/disclosures/requests/{preserved.pk}/")
            for step in ("#narrow-scope", "#convert-order", "#notice-review"):
                page.locator(f"{step} summary").click()
                fields = page.evaluate(FIELDS, step)
                if not fields:
                    problems.append(f"{width}px {step}: no .field blocks")
                for f in fields:
                    lefts = {f[k] for k in ("label", "input", "hint") if f[k] is not None}
                    if max(lefts) - min(lefts) > 1 or f["hintBoxes"] != 1 or not f["hintNamed"]:
                        problems.append(f"{width}px {step} {f['name']}: label, hint and input not in one column, "
                                        f"or the hint not named by the input: {f}")
            # Refused, each error in the column too, named by its input.
            page.fill("#id_narrow_remove_target_ids", "x")
            page.locator("#narrow-scope input[name=confirm]").check()
            with page.expect_navigation():
                page.locator("#narrow-scope button[type=submit]").click()
            for f in page.evaluate(FIELDS, "#narrow-scope"):
                if f["error"] is not None and (abs(f["error"] - f["input"]) > 1 or not f["errorNamed"]):
                    problems.append(f"{width}px refused narrowing {f['name']}: its error not under its label, or "
                                    f"not named by its input: {f}")
        assert problems == [], "\n".join(problems)
