"""The data-subject pages under /privacy-requests/ (voipxs/urls.py): the customer's and the DPO's."""
from django.urls import path

from ..ciot import views as ciot_views
from . import breach_views, objection_views, policy_views, recipient_views, representative_views, restriction_views, views

app_name = "accounts_dsr"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("exports/<int:pk>/download/", views.download, name="download"),
    path("dpo/", views.dpo_requests, name="dpo-requests"),
    path("dpo/<int:pk>/", views.dpo_request, name="dpo-request"),
    path("dpo/<int:pk>/objection/", objection_views.dpo_objection_decide, name="dpo-objection"),
    path("dpo/<int:pk>/proof-of-authority/", representative_views.dpo_representative_proof,
         name="dpo-representative-proof"),
    path("dpo/<int:pk>/recipients/<int:notification_pk>/notified/", recipient_views.dpo_recipient_notified,
         name="dpo-recipient-notified"),
    path("dpo/restrictions/", views.dpo_restrictions, name="dpo-restrictions"),
    path("dpo/restrictions/<int:pk>/end/", restriction_views.dpo_restriction_end, name="dpo-restriction-end"),
    path("dpo/breaches/", breach_views.dpo_breaches, name="dpo-breaches"),
    path("dpo/breaches/<int:pk>/", breach_views.dpo_breach, name="dpo-breach"),
    path("dpo/register/", views.dpo_register, name="dpo-register"),
    path("dpo/policy/", policy_views.dpo_policy, name="dpo-policy"),
    path("dpo/ciot/", ciot_views.dpo_ciot, name="dpo-ciot"),
]
