"""A policy version's Dutch text: given by the DPO with a new version (optional, never blank), carried forward by
a generated version, and added to the seeded version by migration 0029 only while its English is the seed text."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
from django.apps import apps

from accounts.dsr.models import PolicyNoticeSeen, PolicyVersion
from accounts.dsr.policy import (
    TEXT_NL_BLANK, policy_current, policy_version_create, policy_version_generated, policy_version_publish,
)
from tests.factories import verified_client
from voipxs.exceptions import ApplicationError

ROOT = Path(__file__).resolve().parents[2]
SEED_EN = (ROOT / "voipxs" / "privacy-policy.txt").read_text(encoding="utf-8")
SEED_NL = (ROOT / "voipxs" / "privacy-policy.nl.txt").read_text(encoding="utf-8")
PAGE = "/privacy-requests/dpo/policy/"
migration = importlib.import_module("accounts.migrations.0029_policy_v1_dutch_text")


@pytest.mark.django_db
class PolicyVersionDutchTextTests:
    def test_it_stores_the_dutch_text_given_with_a_version(self, dpo):
        pv = policy_version_create(version="2", summary="s", text="Article 1: A", substantive=False, actor=dpo,
                                   text_nl="Artikel 1: A", summary_nl="z")
        assert PolicyVersion.objects.get(pk=pv.pk).text_nl == "Artikel 1: A"

    def test_a_version_may_come_without_dutch_text(self, dpo):
        pv = policy_version_create(version="2", summary="s", text="Article 1: A", substantive=False, actor=dpo)
        assert PolicyVersion.objects.get(pk=pv.pk).text_nl == ""

    @pytest.mark.parametrize("blank", ["", "   ", "\n\n"])
    def test_it_refuses_a_blank_dutch_text_naming_the_field(self, dpo, blank):
        with pytest.raises(ApplicationError) as refused:
            policy_version_create(version="2", summary="s", text="Article 1: A", substantive=False, actor=dpo,
                                  text_nl=blank)
        assert refused.value.message == TEXT_NL_BLANK and refused.value.extra == {"field": "text_nl"}
        assert not PolicyVersion.objects.filter(version="2").exists()

    def test_a_generated_version_keeps_the_dutch_text_of_the_one_it_follows(self, dpo):
        before = policy_current()
        assert before.text_nl == SEED_NL  # the seeded version, given its Dutch by 0029
        new = policy_version_generated(summaries={"en": "Failed calls are kept longer."}, substantive=False,
                                       actor=dpo)
        assert (new.text, new.text_nl) == (before.text, SEED_NL) and policy_current() == new


@pytest.mark.django_db
class PolicyPageDutchTextTests:
    def test_the_dpo_creates_a_version_with_its_dutch_text_on_the_page(self, client, dpo):
        verified_client(client, dpo)
        form = client.get(PAGE).content.decode()
        assert 'name="text_nl"' in form and "Text in Dutch" in form
        response = client.post(PAGE, {"action": "create", "version": "5", "summary": "s", "text": "Article 1: A",
                                      "text_nl": "Artikel 1: A", "summary_nl": "z"})
        assert response.status_code == 302
        assert PolicyVersion.objects.get(version="5").text_nl == "Artikel 1: A"
        response = client.post(PAGE, {"action": "create", "version": "6", "summary": "s", "text": "Article 1: A",
                                      "text_nl": ""})
        assert response.status_code == 302 and PolicyVersion.objects.get(version="6").text_nl == ""

    def test_the_page_refuses_a_dutch_text_of_only_spaces_at_its_field(self, client, dpo):
        verified_client(client, dpo)
        response = client.post(PAGE, {"action": "create", "version": "5", "summary": "s", "text": "Article 1: A",
                                      "text_nl": "   \n  "})
        page = response.content.decode()
        assert response.status_code == 400 and not PolicyVersion.objects.filter(version="5").exists()
        error = page.index('id="id_text_nl_error"')
        assert "Paste the full text of the policy in Dutch, or leave the field empty." in page[error:error + 400]

    def test_a_dutch_text_that_misses_an_article_is_refused_at_its_field_in_the_dpos_language(self, client, dpo):
        verified_client(client, dpo)
        client.cookies["django_language"] = "nl"
        response = client.post(PAGE, {"action": "create", "version": "7", "summary": "s",
                                      "text": "Article 1: A\nArticle 2: B\nArticle 3: C",
                                      "text_nl": "Artikel 1: A\nArtikel 3: C", "summary_nl": "z"})
        page = response.content.decode()
        assert response.status_code == 400 and not PolicyVersion.objects.filter(version="7").exists()
        error = page.index('id="id_text_nl_error"')
        assert "1, 2, 3 in het Engels, 1, 3 in het Nederlands" in page[error:error + 400]

    def test_the_versions_list_says_which_have_a_dutch_text(self, client, dpo):
        policy_version_create(version="8", summary="s", text="Article 1: A", substantive=False, actor=dpo)
        page = verified_client(client, dpo).get(PAGE).content.decode()
        table = page[page.index('id="policy-versions"'):page.index("</table>")]
        rows = (re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S) for tr in table.split("<tr"))
        cells = {row[0]: row for row in rows if row}
        assert cells["1"][3] == "yes"  # the seeded version, given its Dutch by 0029
        assert cells["8"][3] == "no"

    def test_publishing_a_version_without_dutch_text_says_so_before_it_is_done(self, client, dpo):
        bare = policy_version_create(version="9", summary="s", text="Article 1: A", substantive=False, actor=dpo)
        both = policy_version_create(version="10", summary="s", text="Article 1: A", substantive=False, actor=dpo,
                                     text_nl="Artikel 1: A", summary_nl="z")
        verified_client(client, dpo)
        note = "It has no Dutch text: readers who chose Dutch see the English text, marked as such."
        assert note in client.post(PAGE, {"action": "publish", "pk": bare.pk}).content.decode()
        assert note not in client.post(PAGE, {"action": "publish", "pk": both.pk}).content.decode()
        assert not PolicyVersion.objects.filter(published_at__isnull=False, version__in=["9", "10"]).exists()


@pytest.mark.django_db
class SeedDutchTextMigrationTests:
    def _seeded(self) -> PolicyVersion:
        return PolicyVersion.objects.get(version="1")

    def test_it_gives_the_unedited_seeded_version_its_dutch_text_as_the_same_version(self, alice):
        v1 = self._seeded()
        PolicyNoticeSeen.objects.create(user=alice, version=v1)
        PolicyVersion.objects.filter(pk=v1.pk).update(text_nl="", summaries={})
        assert migration.seed_dutch_text(apps, None) == 1
        after = self._seeded()
        assert after.text_nl == SEED_NL and after.text == SEED_EN
        assert (after.version, after.published_at, after.substantive) == (v1.version, v1.published_at, v1.substantive)
        assert after.summaries == {"en": "First published version.", "nl": "Eerste gepubliceerde versie."}
        assert PolicyVersion.objects.count() == 1 and PolicyNoticeSeen.objects.filter(version=v1).count() == 1

    def test_it_leaves_a_text_the_dpo_edited_alone(self):
        edited = SEED_EN.replace("top priority", "first concern")
        PolicyVersion.objects.filter(version="1").update(text=edited, text_nl="")
        assert migration.seed_dutch_text(apps, None) == 0
        assert (self._seeded().text, self._seeded().text_nl) == (edited, "")

    def test_it_never_overwrites_a_dutch_text_already_given(self):
        PolicyVersion.objects.filter(version="1").update(text_nl="Eigen vertaling.")
        assert migration.seed_dutch_text(apps, None) == 0
        assert self._seeded().text_nl == "Eigen vertaling."

    def test_a_generated_version_that_carried_the_seed_text_forward_gets_it_too(self, dpo):
        new = policy_version_generated(summaries={"en": "x"}, substantive=False, actor=dpo)
        PolicyVersion.objects.update(text_nl="")
        assert migration.seed_dutch_text(apps, None) == 2
        assert PolicyVersion.objects.get(pk=new.pk).text_nl == SEED_NL

    def test_the_dutch_seed_has_the_english_seeds_articles_and_lists(self):
        from voipxs.views import policy_blocks

        english, dutch = policy_blocks(SEED_EN), policy_blocks(SEED_NL)
        assert [(b["kind"], b.get("anchor"), len(b.get("items", ()))) for b in english] == [
            (b["kind"], b.get("anchor"), len(b.get("items", ()))) for b in dutch]
        assert [b["text"].split(":")[0] for b in dutch if b["kind"] == "heading"] == [
            "Artikel 1", "Artikel 2", "Artikel 3", "Artikel 4"]
