"""One date format per language, and pages that name it instead of spelling a pattern out."""
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format, number_format

MOMENT = datetime(2026, 12, 4, 15, 39)
# The only spelled-out pattern left: the time zone after "Signed in at". Month abbreviations come from
# traffic_tags (month_abbr, day_month_time): Django's "M" capitalises them, and Dutch writes "5 dec 2026".
ALLOWED = {'date:"T"'}


@pytest.mark.parametrize("language, long, short, month, amount", [
    ("nl", "4 december 2026 15:39", "4-12-2026", "december 2026", "1.234,56"),
    ("en", "4 December 2026 15:39", "4 Dec 2026", "December 2026", "1,234.56"),
])
def test_each_language_has_one_unambiguous_format(language, long, short, month, amount):
    with translation.override(language):
        assert date_format(MOMENT, "DATETIME_FORMAT") == long
        assert date_format(date(2026, 12, 4), "SHORT_DATE_FORMAT") == short
        assert date_format(date(2026, 12, 4), "DATE_FORMAT") == long.rsplit(" ", 1)[0]
        assert date_format(date(2026, 12, 4), "YEAR_MONTH_FORMAT") == month
        assert number_format(Decimal("1234.56"), decimal_pos=2, force_grouping=True) == amount


def test_templates_name_a_format_instead_of_spelling_one_out():
    spelled = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for match in re.finditer(r'date:"([^"]*)"', template.read_text(encoding="utf-8")):
            if not re.fullmatch(r"[A-Z_]+_FORMAT", match.group(1)) and match.group(0) not in ALLOWED:
                spelled.append(f"{template.name}: {match.group(0)}")
    assert not spelled, spelled
