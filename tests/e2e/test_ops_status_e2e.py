"""The DPO's home page with every operations warning at once (CIOT sync stopped, periodic jobs late, mail owed) in
Chromium at 1280x800 and 390x844: the warnings are on the screen and the page is no wider than the window."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.ciot.models import CiotSyncRun
from accounts.models import User
from voipxs.ops import beat_heartbeat_record
from tests.e2e.flows import officer_sign_in
from tests.factories import make_user

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


@pytest.mark.django_db(transaction=True)
def test_the_dpo_sees_every_warning_within_the_window(page, live_server, dpo, settings):
    settings.REDIS_URL = settings.REDIS_URL or "redis://127.0.0.1:6379/3"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    moment = now() - timedelta(hours=3)
    CiotSyncRun.objects.create(adapter="csv-file", status=CiotSyncRun.Status.DONE, started_at=moment,
                               finished_at=moment)
    beat_heartbeat_record(at=now() - timedelta(minutes=25))
    owed = make_user("owed")
    User.objects.filter(pk=owed.pk).update(itemisation_notice_due_at=now() - timedelta(hours=1))
    officer_sign_in(page, live_server, dpo)
    problems = []
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/")
        alert = page.locator(".ops-status")
        for text in ("CIOT subscriber file sync has not succeeded", "Periodic jobs last ran at", "1 mail owed"):
            if not alert.get_by_text(text, exact=False).is_visible():
                problems.append(f"{width}px: {text!r} not visible")
        if (overflow := page.evaluate(OVERFLOW)) > 0:
            problems.append(f"{width}px: {overflow}px wider than the window")
    assert problems == []
