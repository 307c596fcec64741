from django.urls import path

from . import api

urlpatterns: list = [
    path("staff/sources/", api.SourceListCreateApi.as_view(), name="api-staff-sources"),
    path("staff/cdr-imports/", api.CdrImportCreateApi.as_view(), name="api-staff-cdr-imports"),
    path("staff/cdr-imports/recent/", api.CdrImportListApi.as_view(), name="api-staff-cdr-imports-recent"),
    path("staff/cdr-imports/<int:import_id>/", api.CdrImportDetailApi.as_view(), name="api-staff-cdr-import"),
]
