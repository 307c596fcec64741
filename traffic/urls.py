from django.urls import path

from .push import views as push_views
from .views import (annotations, call_exports, call_setup, calls, interconnection, invoice_address, invoice_dispute,
                    invoices, masking, sources_imports, tariffs)

app_name = "traffic"
urlpatterns: list = [
    path("", calls.call_history, name="history"),
    path("export.csv", call_exports.call_export, name="export"),
    path("exports/<int:export_id>/", call_exports.call_export_status, name="call-export"),
    path("exports/<int:export_id>/download/", call_exports.call_export_download, name="call-export-download"),
    path("click-to-call/", call_setup.call_setups, name="call-setups"),
    path("staff/blocked-prefixes/", call_setup.staff_blocked_prefixes, name="staff-blocked-prefixes"),
    path("staff/blocked-prefixes/<int:prefix_id>/remove/", call_setup.staff_blocked_prefix_remove,
         name="staff-blocked-prefix-remove"),
    path("usage/", calls.usage, name="usage"),
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="invoice"),
    path("invoices/<int:invoice_id>/pdf/", invoices.invoice_pdf, name="invoice-pdf"),
    path("invoices/<int:invoice_id>/dispute/", invoice_dispute.invoice_dispute, name="invoice-dispute"),
    path("contractor/", calls.contractor_calls, name="contractor"),
    path("staff/invoices/", invoices.staff_invoices, name="staff-invoices"),
    path("staff/invoices/<int:invoice_id>/address/", invoice_address.staff_invoice_address, name="staff-invoice-address"),
    path("staff/invoices/<int:invoice_id>/<slug:action>/", invoices.staff_invoice_action, name="staff-invoice-action"),
    path("staff/masking-list/", masking.staff_masking_list, name="staff-masking-list"),
    path("staff/tariffs/", tariffs.staff_tariffs, name="staff-tariffs"),
    path("staff/tariffs/<int:tariff_id>/end/", tariffs.staff_tariff_end, name="staff-tariff-end"),
    path("staff/tariffs/rate-deck/", tariffs.staff_rate_deck_preview, name="staff-rate-deck-preview"),
    path("staff/tariffs/rate-deck/apply/", tariffs.staff_rate_deck_apply, name="staff-rate-deck-apply"),
    path("staff/interconnection/", interconnection.staff_interconnection, name="staff-interconnection"),
    path("staff/privacy-requests/<int:pk>/call-notes/", annotations.dpo_call_note_add,
         name="staff-call-note-add"),  # the DPO: a note on a call of a rectification request's requester
    path("push/", push_views.cdr_push, name="cdr-push"),
    path("staff/sources/", sources_imports.staff_sources, name="staff-sources"),
    path("staff/imports/", sources_imports.staff_imports, name="staff-imports"),
    path("staff/imports/<int:import_id>/", sources_imports.staff_import_detail, name="staff-import"),
    path("staff/imports/<int:import_id>/rerun/", sources_imports.staff_import_rerun, name="staff-import-rerun"),
]
