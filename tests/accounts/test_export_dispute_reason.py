"""What a customer wrote when disputing an invoice is theirs: the data export's invoices carry it (schema-valid)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import DataSubjectRequest, ExportFile
from accounts.dsr.services import dsr_request_create
from tests.accounts.dsr_helpers import export_json_valid, section
from tests.retention.helpers import make_invoice
from traffic.services.invoice_disputes import invoice_customer_dispute

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


class ExportDisputeReasonTests:
    def test_the_export_shows_the_reason_given_for_a_disputed_invoice(self, alice, django_capture_on_commit_callbacks):
        period = (now().date() - timedelta(days=100)).replace(day=1)
        invoice = make_invoice(account=alice, period=period, status="open", window_ends=now().date() + timedelta(days=9))
        invoice_customer_dispute(invoice=invoice, actor=alice, reason="The call of 4 May is not mine.")
        with django_capture_on_commit_callbacks(execute=True):
            req = dsr_request_create(user=alice, kind=DataSubjectRequest.Kind.ACCESS)
        [row] = section(export_json_valid(ExportFile.objects.get(request=req)), "invoices")["rows"]
        assert row["status"] == "disputed" and row["dispute_reason"] == "The call of 4 May is not mine."
