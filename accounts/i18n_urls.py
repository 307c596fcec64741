"""The language switch, where Django's own (django.conf.urls.i18n) was: the same path and name, without a
namespace, so the footer's form and every link to it stay as they were."""
from django.urls import path

from . import views

urlpatterns = [
    path("setlang/", views.language_set, name="set_language"),
]
