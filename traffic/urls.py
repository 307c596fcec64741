from django.urls import path

from .push import views as push_views
from .views import call_exports, calls, interconnection, invoices, sources_imports

app_name = "traffic"
urlpatterns: list = [
    path("", calls.call_history, name="history"),
    path("export.csv", call_exports.call_export, name="export"),
    path("exports/<int:export_id>/", call_exports.call_export_status, name="call-export"),
    path("exports/<int:export_id>/download/", call_exports.call_export_download, name="call-export-download"),
    path("usage/", calls.usage, name="usage"),
    path("invoices/", invoices.invoice_list, name="invoices"),
    path("invoices/<int:invoice_id>/", invoices.invoice_detail, name="invoice"),
    path("contractor/", calls.contractor_calls, name="contractor"),
    path("staff/invoices/", invoices.staff_invoices, name="staff-invoices"),
    path("staff/invoices/<int:invoice_id>/<slug:action>/", invoices.staff_invoice_action, name="staff-invoice-action"),
    path("staff/interconnection/", interconnection.staff_interconnection, name="staff-interconnection"),
    path("push/", push_views.cdr_push, name="cdr-push"),
    path("staff/sources/", sources_imports.staff_sources, name="staff-sources"),
    path("staff/imports/", sources_imports.staff_imports, name="staff-imports"),
    path("staff/imports/<int:import_id>/", sources_imports.staff_import_detail, name="staff-import"),
    path("staff/imports/<int:import_id>/rerun/", sources_imports.staff_import_rerun, name="staff-import-rerun"),
]
