"""/api/v1/: each app contributes its own api_urls module."""
from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("traffic.api_urls")),
    path("", include("retention.api_urls")),
    path("", include("disclosures.api_urls")),
]
