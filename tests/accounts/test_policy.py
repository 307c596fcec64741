"""Policy versions: v1 seeded, a substantive version shows a notice on every page until the policy is opened."""
from __future__ import annotations

import pytest
from django.core import mail

from accounts.dsr.models import PolicyNoticeSeen, PolicyVersion
from accounts.dsr.policy import ALREADY_PUBLISHED, policy_version_create, policy_version_publish
from tests.factories import make_user, verified_client
from voipxs.exceptions import ApplicationError


@pytest.mark.django_db
class PolicyTests:
    def test_it_seeds_version_one_from_the_policy_text(self):
        v1 = PolicyVersion.objects.get(version="1")
        assert v1.published_at is not None and "VoIPXS" in v1.text

    def test_it_shows_a_substantive_change_until_the_user_opens_the_policy(self, client, alice, dpo,
                                                                            django_capture_on_commit_callbacks):
        pv = policy_version_create(version="2", summary="We now keep unbilled calls 2 months.", text="Article 1\n\nNew text.",
                                   substantive=True, actor=dpo)
        verified_client(client, alice)
        assert 'id="policy-notice"' not in client.get("/calls/").content.decode()  # a draft shows nothing
        with django_capture_on_commit_callbacks(execute=True):
            policy_version_publish(policy=pv, actor=dpo, email_users=True)
        for url in ("/", "/calls/", "/accounts/numbers/", "/privacy-requests/"):
            page = client.get(url).content.decode()
            assert 'id="policy-notice"' in page and "We now keep unbilled calls 2 months." in page, url
        policy_page = client.get("/privacy/").content.decode()
        assert "Version history" in policy_page and "New text." in policy_page
        assert PolicyNoticeSeen.objects.filter(user=alice, version=pv).exists()
        assert 'id="policy-notice"' not in client.get("/calls/").content.decode()
        assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "dpo@example.org"]
        assert "We now keep unbilled calls 2 months." in mail.outbox[0].body

    def test_it_shows_no_notice_for_a_minor_change_or_to_users_who_joined_after(self, client, dpo):
        minor = policy_version_create(version="2.1", summary="Typo.", text="x", substantive=False, actor=dpo)
        policy_version_publish(policy=minor, actor=dpo)
        newcomer = make_user("newcomer")
        verified_client(client, newcomer)
        assert 'id="policy-notice"' not in client.get("/").content.decode()
        with pytest.raises(ApplicationError, match=ALREADY_PUBLISHED):
            policy_version_publish(policy=minor, actor=dpo)

    def test_it_emails_users_in_batches(self, dpo, django_capture_on_commit_callbacks, monkeypatch):
        import accounts.dsr.policy as policy

        monkeypatch.setattr(policy, "EMAIL_BATCH", 2)
        for i in range(5):
            make_user(f"user{i}")
        pv = policy_version_create(version="3", summary="Big change.", text="t", substantive=True, actor=dpo)
        with django_capture_on_commit_callbacks(execute=True):
            policy_version_publish(policy=pv, actor=dpo, email_users=True)
        # five customers and the DPO, in three batches of at most two, each address once
        assert sorted(m.to[0] for m in mail.outbox) == sorted(["dpo@example.org"] + [f"user{i}@example.org" for i in range(5)])
        pv.refresh_from_db()
        assert pv.emailed_at is not None

    def test_dpo_publishes_from_the_page_and_customers_cannot(self, client, dpo, alice):
        verified_client(client, alice)
        assert client.get("/privacy-requests/dpo/policy/").status_code == 403
        client.logout()
        verified_client(client, dpo)
        response = client.post("/privacy-requests/dpo/policy/", {"action": "create", "version": "4", "summary": "s",
                                                                  "text": "t", "substantive": "on"})
        assert response.status_code == 302
        response = client.post("/privacy-requests/dpo/policy/", {"action": "create", "version": "4", "summary": "s", "text": "t"})
        assert response.status_code == 400 and "already used" in response.content.decode()
        pv = PolicyVersion.objects.get(version="4")
        asked = client.post("/privacy-requests/dpo/policy/", {"action": "publish", "pk": pv.pk, "email": "1"})
        assert asked.status_code == 200 and "Publish version 4?" in asked.content.decode()
        assert "e-mailed" in asked.content.decode()
        pv.refresh_from_db()
        assert pv.published_at is None  # the first POST only asks
        assert client.post("/privacy-requests/dpo/policy/", {"action": "publish", "pk": pv.pk,
                                                             "confirm": "yes"}).status_code == 302
        pv.refresh_from_db()
        assert pv.published_at is not None and pv.substantive
