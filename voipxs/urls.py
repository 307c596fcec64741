from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("privacy/", views.privacy_policy, name="privacy-policy"),
    path("i18n/", include("accounts.i18n_urls")),  # Django's set_language, which also keeps a person's choice
    path("accounts/", include("accounts.urls")),
    path("calls/", include("traffic.urls")),
    path("retention/", include("retention.urls")),
    path("disclosures/", include("disclosures.urls")),
    path("privacy-requests/", include("accounts.dsr.urls")),
    path("support/", include("accounts.support.urls")),
    path("api/v1/", include("voipxs.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its set-up script as a file, so the docs run under a CSP without inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "voipxs.bad_request.bad_request"  # the site's 400 page; JSON under /api/
handler500 = "voipxs.views.server_error"  # 503 + Retry-After while the database is unreachable
