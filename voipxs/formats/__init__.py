"""Date and number formats per language (settings.FORMAT_MODULE_PATH). Templates name a format
(DATE_FORMAT, DATETIME_FORMAT, SHORT_DATE_FORMAT, SHORT_DATETIME_FORMAT, YEAR_MONTH_FORMAT) and never
spell one out, so each language shows one format: Dutch "4 december 2026 15:39" / "4-12-2026", English
"4 December 2026 15:39" / "4 Dec 2026" (day before month, 24-hour clock, nothing a reader can misread)."""
