"""Dutch output formats (as Django's own nl locale, pinned here so they cannot drift). Input formats are Django's."""
DATE_FORMAT = "j F Y"  # 4 december 2026
TIME_FORMAT = "H:i"  # 15:39
DATETIME_FORMAT = "j F Y H:i"  # 4 december 2026 15:39
YEAR_MONTH_FORMAT = "F Y"  # december 2026
MONTH_DAY_FORMAT = "j F"  # 4 december
SHORT_DATE_FORMAT = "j-n-Y"  # 4-12-2026
SHORT_DATETIME_FORMAT = "j-n-Y H:i"  # 4-12-2026 15:39
FIRST_DAY_OF_WEEK = 1  # Monday
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "."
NUMBER_GROUPING = 3
