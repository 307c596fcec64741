from django.urls import path

from . import api
from .dsr import api as dsr_api

urlpatterns = [
    path("auth/login/", api.LoginApi.as_view(), name="api-login"),
    path("auth/logout/", api.LogoutApi.as_view(), name="api-logout"),
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("me/numbers/", api.MeNumbersApi.as_view(), name="api-me-numbers"),
    path("me/billing-address/", api.MeBillingAddressApi.as_view(), name="api-me-billing-address"),
    path("me/privacy-requests/", dsr_api.MyPrivacyRequestsApi.as_view(), name="api-me-privacy-requests"),
    path("me/exports/<int:pk>/", dsr_api.MyPrivacyExportDownloadApi.as_view(), name="api-me-export-download"),
    path("staff/accounts/<int:pk>/close/", api.StaffAccountCloseApi.as_view(), name="api-staff-account-close"),
    path("staff/contractors/<int:pk>/close/", api.StaffContractorCloseApi.as_view(), name="api-staff-contractor-close"),
]
