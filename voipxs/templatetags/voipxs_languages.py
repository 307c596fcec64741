"""`{% language_options %}`: the <option>s of the footer's language switcher, the active language selected.

The same on every page in one language, so the template folding renders it once per language
(voipxs/template_folding.py); written with Django's tags it cost about 0.2 ms of every page."""
from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html_join
from django.utils.translation import get_language, get_language_info

from voipxs.template_folding import per_language

register = template.Library()


@register.simple_tag
@per_language
def language_options() -> str:
    current = get_language()
    return format_html_join("", '<option value="{}" lang="{}"{}>{}</option>', (
        (code, code, " selected" if code == current else "", get_language_info(code)["name_local"])
        for code, _name in settings.LANGUAGES))
