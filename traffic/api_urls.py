from django.urls import path

from .api import call_exports, calls, interconnection, invoices, sources_imports, tariffs

urlpatterns: list = [
    path("staff/sources/", sources_imports.SourceListCreateApi.as_view(), name="api-staff-sources"),
    path("staff/cdr-imports/", sources_imports.CdrImportCreateApi.as_view(), name="api-staff-cdr-imports"),
    path("staff/cdr-imports/recent/", sources_imports.CdrImportListApi.as_view(), name="api-staff-cdr-imports-recent"),
    path("staff/cdr-imports/<int:import_id>/", sources_imports.CdrImportDetailApi.as_view(), name="api-staff-cdr-import"),
    path("staff/cdr-imports/<int:import_id>/rerun/", sources_imports.CdrImportRerunApi.as_view(),
         name="api-staff-cdr-import-rerun"),
    path("me/calls/", calls.MeCallListApi.as_view(), name="api-me-calls"),
    path("me/calls.csv", calls.MeCallCsvApi.as_view(), name="api-me-calls-csv"),
    path("me/call-exports/", call_exports.MeCallExportCreateApi.as_view(), name="api-me-call-exports"),
    path("me/call-exports/<int:export_id>/", call_exports.MeCallExportDetailApi.as_view(), name="api-me-call-export"),
    path("me/call-exports/<int:export_id>/download/", call_exports.MeCallExportDownloadApi.as_view(),
         name="api-me-call-export-download"),
    path("me/usage/", calls.MeUsageApi.as_view(), name="api-me-usage"),
    path("me/invoices/", invoices.MeInvoiceListApi.as_view(), name="api-me-invoices"),
    path("me/invoices/<int:invoice_id>/", invoices.MeInvoiceDetailApi.as_view(), name="api-me-invoice"),
    path("me/invoices/<int:invoice_id>/pdf/", invoices.MeInvoicePdfApi.as_view(), name="api-me-invoice-pdf"),
    path("contractor/calls/", calls.ContractorCallListApi.as_view(), name="api-contractor-calls"),
    path("staff/invoices/", invoices.StaffInvoiceListApi.as_view(), name="api-staff-invoices"),
    path("staff/invoices/<int:invoice_id>/paid/", invoices.StaffInvoicePaidApi.as_view(), name="api-staff-invoice-paid"),
    path("staff/invoices/<int:invoice_id>/dispute/", invoices.StaffInvoiceDisputeApi.as_view(),
         name="api-staff-invoice-dispute"),
    path("staff/invoices/<int:invoice_id>/reissue/", invoices.StaffInvoiceReissueApi.as_view(),
         name="api-staff-invoice-reissue"),
    path("staff/tariffs/", tariffs.TariffListApi.as_view(), name="api-staff-tariffs"),
    path("staff/tariffs/<int:tariff_id>/end/", tariffs.TariffEndApi.as_view(), name="api-staff-tariff-end"),
    path("staff/tariffs/rate-deck/preview/", tariffs.RateDeckPreviewApi.as_view(), name="api-staff-rate-deck-preview"),
    path("staff/tariffs/rate-deck/apply/", tariffs.RateDeckApplyApi.as_view(), name="api-staff-rate-deck-apply"),
    path("staff/interconnection/", interconnection.StaffInterconnectionApi.as_view(), name="api-staff-interconnection"),
]
