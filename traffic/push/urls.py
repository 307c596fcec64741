"""The URL configuration of the lean push handler (voipxs/wsgi.py, PUSH_URLCONF): the push endpoint only, so a push
is not matched against every page's route first."""
from django.urls import path

from . import views as push_views

urlpatterns = [path("calls/push/", push_views.cdr_push, name="cdr-push")]
