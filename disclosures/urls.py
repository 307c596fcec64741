from __future__ import annotations

from django.urls import path

from . import views

app_name = "disclosures"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("authorities/", views.authorities, name="authorities"),
    path("authorities/<int:pk>/verify/", views.authority_verification, name="authority-verify"),
    path("authorities/<int:pk>/domains/", views.authority_domains, name="authority-domains"),
    path("authorities/<int:pk>/domains/confirm/", views.authority_domains_confirmation,
         name="authority-domains-confirm"),
    path("authorities/<int:pk>/domains/discard/", views.authority_domains_discarding, name="authority-domains-discard"),
    path("authorities/<int:pk>/certificate/", views.authority_certificate, name="authority-certificate"),
    path("authorities/<int:pk>/certificate/confirm/", views.authority_certificate_confirmation,
         name="authority-certificate-confirm"),
    path("authorities/<int:pk>/certificate/discard/", views.authority_certificate_discarding,
         name="authority-certificate-discard"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<int:pk>/", views.detail, name="detail"),
    path("requests/<int:pk>/download/", views.download, name="download"),
    path("requests/<int:pk>/<slug:action>/", views.transition, name="transition"),
    path("report/", views.report, name="report"),
    path("bases/", views.bases, name="bases"),
    path("notices/", views.notices, name="notices"),
]
