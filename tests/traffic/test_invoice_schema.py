"""LEGAL.md section 5 row 3 (AWR art. 52, BW 2:10; Tw art. 11.5): invoices and their lines are the fiscal record,
kept 7 years, while the calls go after the dispute window. So an invoice line is an aggregate (a zone's calls,
seconds and amount in a month) with no place for a called number, in the model and in the database; and no
column of an invoice or its lines is named for a number of a call. A new column must be added here on purpose.
(That the totals still add up from the lines after the purge: test_invoicing.InvoiceAfterPurgeTests.)"""
from __future__ import annotations

import re

import pytest
from django.db import connection

from traffic.models import Invoice, InvoiceLine

LINE_COLUMNS = {"id", "invoice_id", "zone", "zone_nl", "month", "calls", "seconds", "amount"}
# A column named for a party or number of a call: a, b or called number, source or destination, its index.
CALL_NUMBER = re.compile(r"(^|_)(src|dst|a_?number|b_?number|called|calling|callee|caller|destination|msisdn|e164|"
                         r"phone|numbers?|index|cdrs?)(_|$)")
INVOICE_NUMBER = "number"  # the invoice's own number (INV-...), not a caller's


def _db_columns(model) -> set[str]:
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}


class InvoiceSchemaTests:
    def test_an_invoice_line_holds_only_its_aggregate(self):
        assert {f.column for f in InvoiceLine._meta.concrete_fields} == LINE_COLUMNS

    @pytest.mark.django_db
    def test_the_invoice_line_table_holds_only_its_aggregate(self):
        assert _db_columns(InvoiceLine) == LINE_COLUMNS

    @pytest.mark.django_db
    def test_no_invoice_or_line_column_is_named_for_a_calls_number(self):
        columns = [f"{model.__name__}.{column}" for model in (Invoice, InvoiceLine)
                   for column in {f.column for f in model._meta.concrete_fields} | _db_columns(model)
                   if CALL_NUMBER.search(column) and (model, column) != (Invoice, INVOICE_NUMBER)]
        assert columns == []

    def test_the_check_sees_such_a_column(self):
        assert all(CALL_NUMBER.search(c) for c in ("called_number", "dst_enc", "b_number", "destination", "src_index"))
        assert not any(CALL_NUMBER.search(c) for c in ("zone", "month", "amount", "calls", "seconds", "vat_amount"))
