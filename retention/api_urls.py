from django.urls import path

from . import api

urlpatterns = [
    path("staff/retention/policies/", api.PolicyListApi.as_view(), name="retention-policy-list"),
    path("staff/retention/policies/<str:category>/", api.PolicyUpdateApi.as_view(), name="retention-policy-update"),
    path("staff/retention/holds/", api.HoldListApi.as_view(), name="retention-hold-list"),
    path("staff/retention/holds/place/", api.HoldPlaceApi.as_view(), name="retention-hold-place"),
    path("staff/retention/holds/<int:pk>/release/", api.HoldReleaseApi.as_view(), name="retention-hold-release"),
    path("staff/retention/receipts/", api.ReceiptListApi.as_view(), name="retention-receipt-list"),
    path("staff/retention/dry-run/", api.DryRunApi.as_view(), name="retention-dry-run"),
]
