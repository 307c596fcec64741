"""The support desk under /support/ (voipxs/urls.py)."""
from django.urls import path

from . import views

app_name = "support"
urlpatterns = [
    path("", views.search, name="search"),
    path("customers/<int:pk>/", views.customer, name="customer"),
    path("customers/<int:pk>/unlock/", views.unlock, name="unlock"),
    path("customers/<int:pk>/two-factor-reset/", views.two_factor_reset, name="two-factor-reset"),
    path("customers/<int:pk>/requests/", views.open_request, name="open-request"),
    path("customers/<int:pk>/itemisation/", views.itemisation, name="itemisation"),
]
