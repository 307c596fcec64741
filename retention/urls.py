from django.urls import path

from . import views

app_name = "retention"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("policies/<str:category>/", views.policy_update, name="policy-update"),
    path("holds/", views.hold_place, name="hold-place"),
    path("holds/<int:pk>/release/", views.hold_release, name="hold-release"),
    path("preview/", views.preview_refresh, name="preview-refresh"),
]
