"""The access export (GDPR art. 15) holds the records of which privacy-policy versions the person was shown (GDPR
art. 13: the notice of a substantive change, marked seen when they opened the policy): personal data about them
that the system keeps, so theirs to see, and in the schema's shape."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils.timezone import now

from accounts.dsr.models import PolicyNoticeSeen, PolicyVersion
from accounts.dsr.policy import policy_notice_seen
from tests.accounts.dsr_helpers import access_export, export_json_valid, export_zip, section


@pytest.fixture(autouse=True)
def _private_dir(settings, tmp_path):
    settings.PRIVATE_FILES_DIR = tmp_path


@pytest.mark.django_db
def test_the_export_lists_the_policy_versions_the_person_was_shown(alice, bob, django_capture_on_commit_callbacks):
    PolicyVersion.objects.filter(published_at__isnull=False).update(substantive=False)  # only the test's count
    version = PolicyVersion.objects.create(version="2026-12-01.9", published_at=now() - timedelta(days=2),
                                           substantive=True, summary="Shorter retention.", text="The policy.")
    assert policy_notice_seen(user=alice) == 1
    assert policy_notice_seen(user=bob) == 1
    seen = PolicyNoticeSeen.objects.get(user=alice, version=version)
    export = access_export(alice, django_capture_on_commit_callbacks)
    data = export_json_valid(export)
    rows = section(data, "policy_notices")["rows"]
    assert rows == [{"version": "2026-12-01.9", "published_at": version.published_at.isoformat(),
                     "seen_at": seen.seen_at.isoformat()}]
    assert "policy_notices.csv" in export_zip(export).namelist()
    assert "policy_notices" in export_zip(export).read("categories.csv").decode()
