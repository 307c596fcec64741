"""`{{ amount|money }}`: an amount of money as every page shows it (voipxs/money.py, which says how many decimals
what kind of amount gets): `{{ invoice.total|money }}` (cents), `{{ call.price|money:4 }}` (a call's price),
`{{ tariff.price_per_minute|money:"rate" }}` (a tariff's rate)."""
from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from voipxs.money import money as money_text
from voipxs.money import vat_percent as vat_percent_text

register = template.Library()


@register.filter
def money(amount, places=2) -> SafeString:
    # Reviewed: digits, the language's decimal and thousands signs, a minus and the entities of voipxs/money.py.
    return mark_safe(money_text(amount, places, html=True))  # nosec B308 B703


@register.filter
def vat_percent(rate) -> str:
    """`{{ invoice.vat_rate|vat_percent }}`: "21", "20,5" (voipxs.money.vat_percent), as the invoice PDF writes it."""
    return vat_percent_text(rate)
