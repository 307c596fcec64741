"""`{% call_filters %}` writes the call pages' filter form in Python (traffic.templatetags.traffic_tags):
the same form a template gave, in both languages, with each field's errors beside it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import translation

from tests.factories import verified_client
from traffic.views.calls import CallFilterForm, ContractorCallFilterForm

# The template the tag replaced (templates/traffic/_filters.html at dd4c374), to compare markup with.
_TEMPLATE = (Path(__file__).parent / "fixtures" / "call_filters_before_the_tag.html").read_text()

FORMS = [
    (CallFilterForm, None, None),
    (CallFilterForm, {"since": "2026-03-01", "until": "2026-03-31", "direction": "out", "number": "+31 6 12"}, None),
    (CallFilterForm, {"since": "2026-13-45", "until": "", "direction": "sideways", "number": '"><script>'}, None),
    (CallFilterForm, {"since": "2026-04-01", "until": "2026-03-01", "direction": ""}, None),
    (CallFilterForm, {"direction": "in"}, "The cursor <is> not valid."),
    (ContractorCallFilterForm, None, None),
    (ContractorCallFilterForm, {"direction": "in", "number": "0699993678"}, None),
]


def _markup(text: str) -> str:
    """The markup with its layout whitespace taken out (the template's indentation is not the form)."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", text)).strip()


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("form_class,data,error", FORMS)
def test_the_tag_writes_what_the_template_wrote(form_class, data, error, language):
    form = form_class(data)
    form.is_valid()
    with translation.override(language):
        old = Template(_TEMPLATE).render(Context({"form": form, "error": error}))
        new = Template("{% load traffic_tags %}{% call_filters form error %}").render(
            Context({"form": form, "error": error}))
    assert _markup(new) == _markup(old)


@pytest.mark.django_db
class FilterFormOnThePageTests:
    def test_a_bad_date_is_named_beside_its_field_and_the_values_are_kept(self, client, alice):
        verified_client(client, alice)
        body = client.get("/calls/?since=2026-13-45&direction=in&number=%22%3E%3Cb%3E").content.decode()
        assert 'id="id_since" value="2026-13-45" aria-invalid="true" aria-describedby="id_since-error"' in body
        assert '<p class="error" id="id_since-error" role="alert">' in body
        assert '<option value="in" selected>' in body
        assert 'value="&quot;&gt;&lt;b&gt;"' in body and '"><b>' not in body

    def test_the_dutch_page_labels_the_filters_in_dutch(self, client, alice):
        verified_client(client, alice)
        body = client.get("/calls/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert '<label for="id_since">Vanaf</label>' in body and ">Filteren</button>" in body

    def test_a_contractor_cannot_filter_by_number(self, client, acme_admin):
        verified_client(client, acme_admin)
        body = client.get("/calls/contractor/").content.decode()
        assert 'id="id_direction"' in body and 'id="id_number"' not in body
