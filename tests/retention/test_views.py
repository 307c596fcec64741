"""The DPO's /retention/ page: policies with history, holds, receipts, dry-run figures."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse
from django.utils.timezone import localdate, now

from retention.models import Category, LegalHold, PurgeReceipt, PurgeRun, RetentionPolicy
from retention.purge.run import purge_expired
from retention.services import legal_hold_place
from tests.factories import make_cdr, verified_client
from voipxs.celery import app
from voipxs.privacy.crypto import blind_index
from voipxs.models import AuditEntry

URL = "/retention/"
CLOSED = "redis://127.0.0.1:1/0"


@pytest.mark.django_db
class RetentionPageTests:
    def test_it_shows_policies_holds_receipts_and_the_dry_run_figures_to_the_dpo(self, client, dpo, alice):
        make_cdr(account=alice, started_at=now() - timedelta(days=200), rating="free")
        legal_hold_place(reason="dispute", reference="dispute:3", account_ids=[alice.pk],
                         categories=[Category.CDR_BILLED], actor=dpo)
        purge_expired(dry_run=True)
        response = verified_client(client, dpo).get(URL)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Tw art. 11.5(2)" in body and "AWR art. 52" in body
        assert "dispute:3" in body
        assert "Would remove" in body and "cdr_unbilled" in body

    def test_it_shows_a_failed_run_with_what_it_removed_before_it_stopped_in_english_and_dutch(self, client, dpo):
        run = PurgeRun.objects.create(as_of=now(), status=PurgeRun.Status.FAILED, finished_at=now(),
                                      error="Worker stopped during cdr_unbilled", state={"step": "cdr_unbilled"})
        PurgeReceipt.objects.create(run=run, category="cdr_unbilled", deleted=150)
        PurgeReceipt.objects.create(run=run, category="cdr_billed", deleted=0)
        c = verified_client(client, dpo)
        body = c.get(URL).content.decode()
        section = body[body.index('id="unfinished-runs"'):body.index('id="receipts"')]
        assert "Purge runs that did not finish" in section and "failed" in section
        assert "CDRs of unbilled calls (failed, free): 150 rows removed" in section and "cdr_billed" not in section
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
        body = c.get(URL).content.decode()
        section = body[body.index('id="unfinished-runs"'):body.index('id="receipts"')]
        assert "Opschoonrondes die niet zijn afgerond" in section and "mislukt" in section
        assert ": 150 rijen verwijderd" in section and "cdr_unbilled: 150" not in section

    def test_it_refuses_everyone_but_the_dpo(self, client, alice, legal1):
        assert verified_client(client, alice).get(URL).status_code == 403
        assert verified_client(client, legal1).get(URL).status_code == 403
        client.logout()
        assert client.get(URL).status_code == 302  # to the login page

    def test_it_saves_a_policy_change_as_a_new_version_and_shows_the_policy_in_force_on_a_past_date(self, client, dpo):
        c = verified_client(client, dpo)
        fields = {"trigger": "call start", "period_months": 2, "period_days": 0, "action": "delete",
                  "legal_basis": "Tw art. 11.5(1)", "change_reason": "shorter after review"}
        asked = c.post(reverse("retention:policy-update", args=["cdr_unbilled"]), fields)
        assert asked.status_code == 200 and "Please confirm" in asked.content.decode()
        assert "kept 2 months after call start, then delete" in asked.content.decode()
        assert RetentionPolicy.objects.filter(category="cdr_unbilled").count() == 1  # asking changes nothing
        response = c.post(reverse("retention:policy-update", args=["cdr_unbilled"]), fields | {"confirm": "yes"})
        assert response.status_code == 302
        assert RetentionPolicy.objects.filter(category="cdr_unbilled").count() == 2
        assert AuditEntry.objects.filter(action="retention.policy_change").exists()
        body = c.get(URL, {"at": "2020-06-01"}).content.decode()
        assert "Policies in force on" in body and "3 months" in body
        dutch = c.get(URL, {"at": "2020-06-01"}, HTTP_ACCEPT_LANGUAGE="nl").content.decode()
        assert "3 maanden" in dutch and "7 jaar" in dutch and "3 months" not in dutch

    def test_it_answers_400_naming_the_field_for_a_bad_policy(self, client, dpo):
        response = verified_client(client, dpo).post(reverse("retention:policy-update", args=["cdr_unbilled"]), {
            "trigger": "x", "period_months": -1, "period_days": 0, "action": "delete", "legal_basis": "b",
            "change_reason": "r"})
        assert response.status_code == 400
        assert "period_months" in response.content.decode()

    def test_it_offers_only_the_actions_the_purge_carries_out_and_refuses_others(self, client, dpo):
        c = verified_client(client, dpo)
        body = c.get(URL).content.decode()
        closed_form = body[body.index(reverse("retention:policy-update", args=["closed_account"])):]
        closed_form = closed_form[:closed_form.index("</form>")]
        assert 'value="anonymise"' in closed_form and 'value="delete"' not in closed_form
        response = c.post(reverse("retention:policy-update", args=["cdr_unbilled"]), {
            "trigger": "x", "period_months": 3, "period_days": 0, "action": "anonymise", "legal_basis": "b",
            "change_reason": "r"})
        assert response.status_code == 400
        assert "can only delete" in response.content.decode()

    def test_it_places_a_hold_storing_only_the_blind_index_and_releases_it(self, client, dpo):
        c = verified_client(client, dpo)
        response = c.post(reverse("retention:hold-place"), {
            "reason": "preservation_order", "reference": "order:99", "numbers": "020 555 0101",
            "categories": ["cdr_billed", "cdr_unbilled"], "window_start": "2026-01-01",
            "expires_at": (localdate() + timedelta(days=365)).isoformat()})  # a year ahead, never a day gone by
        assert response.status_code == 302
        hold = LegalHold.objects.get(reference="order:99")
        assert hold.number_indexes == [blind_index("+31205550101", domain="phone")]
        assert "5550101" not in str(hold.__dict__)
        asked = c.post(reverse("retention:hold-release", args=[hold.pk]))
        assert asked.status_code == 200 and "Release legal hold" in asked.content.decode()
        hold.refresh_from_db()
        assert hold.released_at is None  # the first POST only asks
        assert c.post(reverse("retention:hold-release", args=[hold.pk]), {"confirm": "yes"}).status_code == 302
        hold.refresh_from_db()
        assert hold.released_at is not None and hold.released_by == dpo

    def test_it_answers_400_for_a_hold_without_scope_or_with_a_bad_number(self, client, dpo):
        c = verified_client(client, dpo)
        no_scope = c.post(reverse("retention:hold-place"), {"reason": "dispute", "reference": "d:1", "categories": ["cdr_billed"]})
        assert no_scope.status_code == 400 and "at least one account or number" in no_scope.content.decode()
        bad = c.post(reverse("retention:hold-place"), {"reason": "dispute", "reference": "d:1", "numbers": "not a number",
                                                       "categories": ["cdr_billed"]})
        assert bad.status_code == 400 and "not a valid phone number" in bad.content.decode()
        assert not LegalHold.objects.exists()


@pytest.fixture
def broker_down():
    """Redis unreachable: the broker and the cache point at a closed port; tasks really go to the broker."""
    saved = (app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool)
    app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool = CLOSED, False, None, None
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CLOSED}}
    try:
        with override_settings(REDIS_URL=CLOSED, CELERY_BROKER_URL=CLOSED, CACHES=caches):
            yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool = saved


@pytest.mark.django_db
class RetentionPageBrokerDownTests:
    def test_it_still_works_when_the_broker_is_down(self, client, dpo, broker_down):
        c = verified_client(client, dpo)
        assert c.get(URL).status_code == 200
        response = c.post(reverse("retention:preview-refresh"), follow=True)
        assert response.status_code == 200
        assert "task queue is unavailable" in response.content.decode()
