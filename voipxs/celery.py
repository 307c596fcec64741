from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voipxs.settings")

app = Celery("voipxs")
# All CELERY_* settings live in voipxs/settings.py (broker, serializers, beat schedule).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
