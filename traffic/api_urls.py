from django.urls import path

from . import api

urlpatterns: list = [
    path("staff/sources/", api.SourceListCreateApi.as_view(), name="api-staff-sources"),
    path("staff/cdr-imports/", api.CdrImportCreateApi.as_view(), name="api-staff-cdr-imports"),
    path("staff/cdr-imports/recent/", api.CdrImportListApi.as_view(), name="api-staff-cdr-imports-recent"),
    path("staff/cdr-imports/<int:import_id>/", api.CdrImportDetailApi.as_view(), name="api-staff-cdr-import"),
    path("staff/cdr-imports/<int:import_id>/rerun/", api.CdrImportRerunApi.as_view(), name="api-staff-cdr-import-rerun"),
    # portal side
    path("me/calls/", api.MeCallListApi.as_view(), name="api-me-calls"),
    path("me/calls.csv", api.MeCallCsvApi.as_view(), name="api-me-calls-csv"),
    path("me/usage/", api.MeUsageApi.as_view(), name="api-me-usage"),
    path("me/invoices/", api.MeInvoiceListApi.as_view(), name="api-me-invoices"),
    path("me/invoices/<int:invoice_id>/", api.MeInvoiceDetailApi.as_view(), name="api-me-invoice"),
    path("contractor/calls/", api.ContractorCallListApi.as_view(), name="api-contractor-calls"),
    path("staff/invoices/", api.StaffInvoiceListApi.as_view(), name="api-staff-invoices"),
    path("staff/invoices/<int:invoice_id>/paid/", api.StaffInvoicePaidApi.as_view(), name="api-staff-invoice-paid"),
    path("staff/invoices/<int:invoice_id>/dispute/", api.StaffInvoiceDisputeApi.as_view(), name="api-staff-invoice-dispute"),
    path("staff/invoices/<int:invoice_id>/reissue/", api.StaffInvoiceReissueApi.as_view(),
         name="api-staff-invoice-reissue"),
    path("staff/interconnection/", api.StaffInterconnectionApi.as_view(), name="api-staff-interconnection"),
]
