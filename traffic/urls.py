from django.urls import path

from . import views, views_ingest

app_name = "traffic"
urlpatterns: list = [
    path("", views.call_history, name="history"),
    path("export.csv", views.call_export, name="export"),
    path("usage/", views.usage, name="usage"),
    path("invoices/", views.invoice_list, name="invoices"),
    path("invoices/<int:invoice_id>/", views.invoice_detail, name="invoice"),
    path("contractor/", views.contractor_calls, name="contractor"),
    path("staff/invoices/", views.staff_invoices, name="staff-invoices"),
    path("staff/invoices/<int:invoice_id>/<slug:action>/", views.staff_invoice_action, name="staff-invoice-action"),
    path("staff/interconnection/", views.staff_interconnection, name="staff-interconnection"),
    path("staff/sources/", views_ingest.staff_sources, name="staff-sources"),
    path("staff/imports/", views_ingest.staff_imports, name="staff-imports"),
    path("staff/imports/<int:import_id>/", views_ingest.staff_import_detail, name="staff-import"),
    path("staff/imports/<int:import_id>/rerun/", views_ingest.staff_import_rerun, name="staff-import-rerun"),
]
