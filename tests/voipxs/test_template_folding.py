"""Fixed template tags are rendered once per language (voipxs/template_folding.py): a folded template
must give exactly what Django gives, in every language, under every script prefix and static URL,
and anything that depends on the request stays live."""
from __future__ import annotations

import pytest
from django.template import Context, Engine
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import translation

from tests.factories import make_cdr, verified_client
from voipxs.template_folding import FoldedNode

PAGE = (
    "{% load i18n static %}<title>{% translate 'My calls' %}</title>"
    "<link href=\"{% static 'css/site.css' %}\">"
    "<a href=\"{% url 'privacy-policy' %}\">{% translate 'Privacy policy' %}</a>"
    "{% if user %}<b>{{ user }}</b> {% translate 'Sign out' %} <a href=\"{% url 'home' %}\">x</a>{% endif %}"
    "{% for n in numbers %}<i>{{ n }}</i>{% translate 'a & b' %}{% endfor %}"
    "{% translate greeting %}|{% translate 'Sign out' as label %}[{{ label }}]"
    "{% autoescape off %}<a href=\"{% url 'home' %}\">{% translate 'a & b' %}</a>{% endautoescape %}"
)


def _engines() -> tuple[Engine, Engine]:
    templates = {"page.html": PAGE}
    libraries = {"i18n": "django.templatetags.i18n", "static": "django.templatetags.static"}
    plain = Engine(loaders=[("django.template.loaders.locmem.Loader", templates)], libraries=libraries)
    folded = Engine(loaders=[("voipxs.template_folding.Loader", [("django.template.loaders.locmem.Loader",
                                                                   templates)])], libraries=libraries)
    return plain, folded


def _both(engines: tuple[Engine, Engine], context: dict) -> tuple[str, str]:
    return tuple(engine.get_template("page.html").render(Context(context)) for engine in engines)


CONTEXTS = [
    {"user": "alice <&>", "numbers": ["+31205554567", "113"], "greeting": "My calls"},
    {"user": "", "numbers": [], "greeting": "Sign out"},
]


class TemplateFoldingTests:
    def test_a_folded_page_reads_as_django_renders_it_in_each_language_in_turn(self):
        plain, folded = _engines()
        template = folded.get_template("page.html")
        assert any(isinstance(node, FoldedNode) for node in template.nodelist)
        seen = []
        for language in ("en", "nl", "en", "nl"):
            for context in CONTEXTS:
                with translation.override(language):
                    expected = plain.get_template("page.html").render(Context(context))
                    got = template.render(Context(context))
                assert got == expected
                seen.append(got)
        english, dutch = seen[0], seen[2]
        assert "<title>My calls</title>" in english and "Privacy policy" in english
        assert "<title>Mijn gesprekken</title>" in dutch and "Privacybeleid" in dutch and "Uitloggen" in dutch
        # What depends on the context stays live: escaped, looped, translated from a variable, kept `as`.
        assert "<b>alice &lt;&amp;&gt;</b>" in english and "<i>113</i>" in english and "<b>" not in seen[1]
        assert "Mijn gesprekken|[Uitloggen]" in dutch and "Uitloggen|[Uitloggen]" in seen[3]

    def test_links_follow_the_script_prefix_and_the_static_url(self):
        engines = _engines()  # one folded template met under each prefix and static URL in turn
        try:
            set_script_prefix("/")
            before = _both(engines, CONTEXTS[0])
            set_script_prefix("/voipxs/")
            under_prefix = _both(engines, CONTEXTS[0])
        finally:
            set_script_prefix("/")
        with override_settings(STATIC_URL="/assets/"):
            moved = _both(engines, CONTEXTS[0])
        back = _both(engines, CONTEXTS[0])
        assert before[0] == before[1] and under_prefix[0] == under_prefix[1] and moved[0] == moved[1]
        assert 'href="/privacy/"' in before[1] and 'href="/voipxs/privacy/"' in under_prefix[1]
        assert 'href="/assets/css/site.css"' in moved[1] and back == before

    def test_a_loaded_template_is_folded_once_and_then_served_from_the_cache(self):
        _, folded = _engines()
        first = folded.get_template("page.html")
        nodes = list(first.nodelist)
        assert folded.get_template("page.html") is first and list(first.nodelist) == nodes


@pytest.mark.django_db
class FoldedPagesTests:
    def test_the_call_history_page_switches_language_with_the_visitor(self, client, alice):
        make_cdr(account=alice)
        browser = verified_client(client, alice)
        pages = []
        for language in ("en", "nl", "en"):
            browser.cookies["django_language"] = language
            pages.append(browser.get("/calls/").content.decode())
        assert "<h1>My calls</h1>" in pages[0] and "<h1>My calls</h1>" in pages[2]
        assert "<h1>Mijn gesprekken</h1>" in pages[1] and "My calls" not in pages[1]
        assert 'href="/calls/usage/"' in pages[1] and "+3120555" in pages[1]
        # The language switcher's options, rendered once per language: the page's language selected.
        assert '<option value="en" lang="en" selected>English</option>' in pages[0]
        assert '<option value="nl" lang="nl" selected>Nederlands</option>' in pages[1]
        assert '<option value="nl" lang="nl">Nederlands</option>' in pages[2]
