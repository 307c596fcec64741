"""One way to show an amount of money on every page, the invoice PDF and the staff pages, in the page's language:
the euro sign first, the language's decimal sign and thousands grouping (voipxs/formats):

    English  €6.04     €1,249.32   -€6.04     €0.0130
    Dutch    € 6,04    € 1.249,32  € -6,04    € 0,0130

(Dutch puts a space after the sign, English none; it is a no-break space, so the sign never ends a line alone.)
A currency other than EUR is shown by its code and a space ("USD 6.04"); every amount in the project is in EUR.
On a page the sign and that space are HTML entities (`html=True`, what the filter writes): the page stays Latin-1.

How many decimals, by what the amount is:
- `places=2`, the default: what a customer owes or is owed, rounded to the cent as the invoice rounds it:
  invoice lines, subtotal, VAT and total, a month's usage, interconnection totals.
- `places=4`: one call's price, often a fraction of a cent (a 7-second call at €0.013 a minute costs
  €0.0015); the call list, the call cards and an itemised bill show four, as they always did.
- `places=RATE`: a tariff's price per minute and set-up fee: four decimals, five where the rate has a fifth
  (tariffs are stored with five), so that no rate a staff member typed is shown rounded.

Machine formats keep their own: CSV and JSON exports and the API write amounts as plain decimals ("6.04").
`money` is the template filter (voipxs/templatetags/voipxs_money.py); `money_format` hands the call table's hot
loop a formatter for one language and precision, looked up once (traffic/templatetags/traffic_tags.py).
"""
from __future__ import annotations

import functools
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from django.utils.formats import get_format
from django.utils.html import escape
from django.utils.translation import get_language

RATE = "rate"
CENT = Decimal("0.01")
NBSP = "\u00a0"
# currency -> (its sign as text, as HTML); HTML writes it as an entity, so that a page stays Latin-1 and Python
# builds and sends it one byte a character (tests/traffic/test_portal.py: the call list's speed)
SYMBOLS = {"EUR": ("€", "&euro;")}
# language -> (pattern of a positive amount, of a negative one); any other language writes as English does
_PATTERNS = {"nl": ("{sign}{space}{number}", "{sign}{space}-{number}")}
_ENGLISH = ("{sign}{number}", "-{sign}{number}")
_CODE = ("{sign} {number}", "{sign} -{number}")  # a currency code: "USD 6.04", "USD -6.04"


@functools.lru_cache(maxsize=64)
def money_format(language: str | None, places: int, currency: str = "EUR",
                 html: bool = False) -> Callable[[Decimal], str]:
    """A function that formats an amount as `money` does, for one language (the active one's formats are read:
    call this with `get_language()`, which is also the cache key) and a fixed number of decimals; `html`: as HTML,
    the sign and the no-break space as entities."""
    decimal_sign, thousands = get_format("DECIMAL_SEPARATOR"), get_format("THOUSAND_SEPARATOR")
    positive, negative = _PATTERNS.get((language or "en").split("-")[0], _ENGLISH)
    sign = SYMBOLS[currency][html] if currency in SYMBOLS else (escape(currency) if html else currency)
    if currency not in SYMBOLS:
        positive, negative = _CODE
    space = "&nbsp;" if html else NBSP
    # Every pattern ends with the number: what stands before it is fixed for this language and currency.
    before_positive, before_negative = (p.format(sign=sign, space=space, number="") for p in (positive, negative))
    table = None if (decimal_sign, thousands) == (".", ",") else str.maketrans({",": thousands, ".": decimal_sign})
    quantum, spec = Decimal(1).scaleb(-places), f",.{places}f"

    def formatted(amount: Decimal) -> str:
        # Rounded half up, as the invoice rounds (traffic/services/invoices.py), not half to even as format() would;
        # an amount that rounds to zero has no minus ("-€0.00" would read as a debt)
        rounded = amount.quantize(quantum, rounding=ROUND_HALF_UP)
        number = format(abs(rounded), spec)
        return (before_negative if rounded < 0 else before_positive) + (number.translate(table) if table else number)

    return formatted


def to_cent(amount: Decimal | None) -> Decimal:
    """`amount` rounded to the cent half up, as the invoice rounds its lines and VAT (traffic/services/invoices.py):
    every total kept in whole cents (an invoice line, the interconnection report, a month's usage) rounds here,
    so that €0.125 is €0.13 in all of them, not €0.12 in one. None is 0.00."""
    return (amount or Decimal("0")).quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount, places: int | str = 2, currency: str = "EUR", *, html: bool = False) -> str:
    """`amount` (a Decimal, int, or its text) as money in the active language; "" for None or "". `html`: as HTML
    (the template filter marks it safe: digits, signs and entities only)."""
    if amount is None or amount == "":
        return ""
    amount = amount if isinstance(amount, Decimal) else Decimal(str(amount))
    if places == RATE:
        places = 4 if amount == amount.quantize(Decimal("0.0001")) else 5
    return money_format(get_language(), int(places), currency, html)(amount)


def vat_percent(rate) -> str:
    """A VAT rate (percent, stored with two decimals) as the invoice's page and PDF write it in the active language,
    without decimals it does not need: "21" for 21.00, "20.5" (Dutch "20,5") for 20.50. The label around it is one
    msgid for both ("VAT %(rate)s%%"); the API and the exports keep the stored decimal ("21.00")."""
    rate = rate if isinstance(rate, Decimal) else Decimal(str(rate))
    places = max(0, -rate.normalize().as_tuple().exponent) if rate != rate.to_integral_value() else 0
    number = format(rate, f".{places}f")
    return number.replace(".", get_format("DECIMAL_SEPARATOR")) if places else number
