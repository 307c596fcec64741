"""LEGAL.md section 5, row 5 (Tw 11.5(4); GDPR art. 13): the privacy notice lists every retention period from
the policies in force, and is versioned: changing a period bumps the notice's version. A longer period (or another
action, trigger or basis) is a change users are told of, on their pages and by e-mail; a shorter one is only
recorded in the version history."""
from __future__ import annotations

import pytest
from django.core import mail
from django.utils.html import escape

from accounts.dsr.models import PolicyVersion
from accounts.dsr.policy import policy_current
from retention.models import RetentionPolicy
from retention.services import retention_policy_update
from tests.factories import verified_client

pytestmark = pytest.mark.django_db


def months_now(category: str) -> int:
    return RetentionPolicy.objects.filter(category=category).order_by("-version").first().period_months


def test_a_longer_period_publishes_a_new_version_users_are_told_of(client, alice, dpo,
                                                                  django_capture_on_commit_callbacks):
    before = policy_current()
    old = months_now("cdr_unbilled")
    with django_capture_on_commit_callbacks(execute=True):
        retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=old + 3,
                                change_reason="fraud review needs longer")
    new = policy_current()
    assert new != before and new.substantive and new.published_at is not None
    assert new.text == (before.text if before else "")  # the typed policy is as it was; its generated part changed
    assert new.summaries["en"].startswith(f"Retention of CDRs of unbilled calls (failed, free): {old} months, now ")
    assert new.summaries["nl"].startswith("Bewaartermijn van ") and f"{old} maanden, nu " in new.summaries["nl"]
    page = verified_client(client, alice).get("/calls/").content.decode()
    assert f"Our privacy policy changed (version {new.version})" in page and escape(new.summaries["en"]) in page
    dutch = client.get("/calls/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()
    assert escape(new.summaries["nl"]) in dutch and escape(new.summaries["en"]) not in dutch
    mailed = [m for m in mail.outbox if m.to == ["alice@example.org"]]
    assert len(mailed) == 1 and new.summaries["en"] in mailed[0].body and new.summaries["nl"] in mailed[0].body
    history = client.get("/privacy/").content.decode()
    assert new.version in history and f"{old + 3} months" in history


def test_a_shorter_period_bumps_the_version_without_a_notice(client, alice, dpo, django_capture_on_commit_callbacks):
    old = months_now("cdr_unbilled")
    with django_capture_on_commit_callbacks(execute=True):
        retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=old - 1)
    new = policy_current()
    assert not new.substantive and f"{old} months, now {old - 1} month" in new.summaries["en"]
    assert "Our privacy policy changed" not in verified_client(client, alice).get("/calls/").content.decode()
    assert not [m for m in mail.outbox if m.to == ["alice@example.org"]]
    assert new.version in client.get("/privacy/").content.decode()  # in the history all the same


def test_each_change_gets_its_own_version_number(dpo):
    count = PolicyVersion.objects.count()
    old = months_now("cdr_unbilled")
    first = retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=old + 1)
    second = retention_policy_update(category="cdr_unbilled", actor=dpo, period_months=old + 2)
    versions = list(PolicyVersion.objects.order_by("-pk").values_list("version", flat=True)[:2])
    assert (first.version + 1, PolicyVersion.objects.count()) == (second.version, count + 2)
    assert len(set(versions)) == 2 and all(v.endswith((".1", ".2")) for v in versions)


def test_a_refused_change_publishes_nothing(dpo):
    from voipxs.exceptions import ApplicationError

    count = PolicyVersion.objects.count()
    with pytest.raises(ApplicationError):
        retention_policy_update(category="invoice", actor=dpo, period_months=12)  # below the 7-year floor
    assert PolicyVersion.objects.count() == count
