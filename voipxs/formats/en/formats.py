"""English output formats for a Dutch provider: day before month and a 24-hour clock, so that no date
reads as another one ("12/04/2026 3:39 p.m." did). Input formats are Django's."""
DATE_FORMAT = "j F Y"  # 4 December 2026
TIME_FORMAT = "H:i"  # 15:39
DATETIME_FORMAT = "j F Y H:i"  # 4 December 2026 15:39
YEAR_MONTH_FORMAT = "F Y"  # December 2026
MONTH_DAY_FORMAT = "j F"  # 4 December
SHORT_DATE_FORMAT = "j M Y"  # 4 Dec 2026
SHORT_DATETIME_FORMAT = "j M Y H:i"  # 4 Dec 2026 15:39
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
