"""The privacy policy page wholly in the reader's language: the version's Dutch text with its contents, and the
purposes table's cells in Dutch; English where a version has no Dutch, marked lang="en" with a note saying so."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.html import escape

from accounts.dsr.policy import policy_version_create, policy_version_publish
from voipxs.privacy import purposes_nl
from voipxs.privacy.purposes import PURPOSES, Purpose
from voipxs.privacy.purposes_nl import register_cell
from voipxs.privacy.register import processing_register
from voipxs.views import policy_blocks

ROOT = Path(__file__).resolve().parents[2]
POLICY_NL = ROOT / "voipxs" / "privacy-policy.nl.txt"
NOTE_CLASS = 'class="muted policy-language-note"'


def _page(client, language: str) -> str:
    return client.get("/privacy/", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def _policy_text(page: str) -> str:
    match = re.search(r'<div class="policy-text"[^>]*>.*?</div>', page, re.S)
    assert match, "no policy text"
    return match.group(0)


def _purpose_cells(page: str, purpose: Purpose) -> list[tuple[str, str]]:
    """(lang attribute or "", text) of each cell of the purpose's row."""
    row = re.search(rf'<tr data-purpose="{purpose.value}"[^>]*>(.*?)</tr>', page, re.S)
    assert row, purpose
    return [(lang or "", text) for lang, text in
            re.findall(r'<td(?: lang="(\w+)")?[^>]*>(.*?)</td>', row.group(1), re.S)]


def _publish_english_only(dpo) -> None:
    pv = policy_version_create(version="2", summary="Clearer wording.", text="Article 1: Scope\n\nOnly English here.",
                               substantive=False, actor=dpo)
    policy_version_publish(policy=pv, actor=dpo)


@pytest.mark.django_db
class PolicyTextInDutchTests:
    def test_a_dutch_reader_sees_the_whole_seeded_policy_in_dutch(self, client):
        page = _page(client, "nl")
        lines = [line.strip().lstrip("• ").strip() for line in POLICY_NL.read_text().splitlines() if line.strip()]
        text = _policy_text(page)
        assert [line[:60] for line in lines if escape(line) not in text] == []
        assert text.startswith('<div class="policy-text">')  # in the page's language: no lang="en"
        assert "Algemene verordening gegevensbescherming (AVG)" in text and "Telecommunicatiewet" in text
        assert "General Data Protection Regulation" not in page and NOTE_CLASS not in page

    def test_the_dutch_contents_link_to_the_dutch_headings(self, client):
        page = _page(client, "nl")
        nav = re.search(r'<nav aria-labelledby="policy-contents">.*?</nav>', page, re.S).group(0)
        links = re.findall(r'<a href="#([\w-]+)">(Artikel \d+:[^<]*)</a>', nav)
        assert [anchor for anchor, _ in links] == ["article-1", "article-2", "article-3", "article-4"]
        for anchor, heading in links:
            assert f'<h2 id="{anchor}">{heading}</h2>' in page  # each link lands on its heading
        assert "Artikel 3: Doel" in dict(links).values()
        assert 'lang="en"' not in nav

    def test_an_english_reader_still_sees_the_english_policy(self, client):
        page = _page(client, "en")
        assert '<h2 id="article-1">Article 1: Introduction</h2>' in page
        assert '<a href="#article-1">Article 1: Introduction</a>' in page
        assert "Artikel 1" not in page and "Gegevens" not in page and NOTE_CLASS not in page

    def test_a_version_without_dutch_text_shows_dutch_readers_the_english_marked_and_noted(self, client, dpo):
        _publish_english_only(dpo)
        page = _page(client, "nl")
        text = _policy_text(page)
        assert text.startswith('<div class="policy-text" lang="en">') and "Only English here." in text
        assert '<ol lang="en"><li><a href="#article-1">Article 1: Scope</a></li></ol>' in page
        assert NOTE_CLASS in page and '<html lang="nl"' in page
        assert NOTE_CLASS not in _page(client, "en")  # to an English reader it is simply the policy

    def test_the_english_only_note_is_in_dutch(self, client, dpo):
        _publish_english_only(dpo)
        assert "Deze tekst is alleen in het Engels beschikbaar." in _page(client, "nl")

    def test_a_published_dutch_text_is_what_dutch_readers_see(self, client, dpo):
        pv = policy_version_create(version="2", summary="s", text="Article 1: Scope\n\nEnglish.", substantive=False,
                                   actor=dpo, text_nl="Artikel 1: Reikwijdte\n\nNederlands.",
                                   summary_nl="z")
        policy_version_publish(policy=pv, actor=dpo)
        dutch, english = _page(client, "nl"), _page(client, "en")
        assert '<h2 id="article-1">Artikel 1: Reikwijdte</h2>' in dutch and "Nederlands." in dutch
        assert "English." not in _policy_text(dutch)
        assert '<h2 id="article-1">Article 1: Scope</h2>' in english and "Nederlands." not in english

    def test_without_a_published_version_the_page_shows_the_seed_files_in_the_readers_language(self, client):
        from accounts.dsr.models import PolicyVersion

        PolicyVersion.objects.update(published_at=None)
        assert '<h2 id="article-3">Artikel 3: Doel</h2>' in _page(client, "nl")
        assert '<h2 id="article-3">Article 3: Purpose</h2>' in _page(client, "en")


class PolicyHeadingsTests:
    def test_it_reads_dutch_and_english_article_headings_with_the_same_anchor(self):
        blocks = policy_blocks("Artikel 12: Slot\n\nTekst.\nArticle 12: End\nArtikelen zijn dit niet.")
        assert [(b["kind"], b.get("anchor")) for b in blocks] == [
            ("heading", "article-12"), ("paragraph", None), ("heading", "article-12"), ("paragraph", None)]


@pytest.mark.django_db
class PurposesTableInDutchTests:
    def test_a_dutch_reader_sees_every_purpose_cell_in_dutch(self, client):
        page = _page(client, "nl")
        billing = _purpose_cells(page, Purpose.BILLING)
        assert billing[1:] == [
            ("", "Gesprekken tariferen en facturen opmaken voor de door de Opdrachtgever verschuldigde bedragen."),
            ("", "AVG art. 6(1)(b) overeenkomst; Tw art. 11.5(2) verkeersgegevens voor de facturering"),
            ("", "facturatiemedewerkers, de Opdrachtgever (eigen facturen)")]
        for purpose in Purpose:
            cells = _purpose_cells(page, purpose)
            assert [lang for lang, _ in cells] == ["", "", "", ""], purpose  # none left marked English
            assert escape(PURPOSES[purpose].description) not in page, purpose

    def test_an_english_reader_sees_the_register_as_written(self, client):
        page = _page(client, "en")
        for purpose in Purpose:
            info = PURPOSES[purpose]
            assert _purpose_cells(page, purpose)[1:] == [
                ("", escape(info.description)), ("", escape(info.legal_basis)), ("", escape(", ".join(info.recipients)))]

    def test_a_cell_without_its_dutch_stays_english_marked_as_such(self, client, monkeypatch):
        monkeypatch.delitem(purposes_nl.DUTCH, PURPOSES[Purpose.SECURITY].description)
        monkeypatch.delitem(purposes_nl.DUTCH, "courts")
        page = _page(client, "nl")
        security = _purpose_cells(page, Purpose.SECURITY)
        assert security[1] == ("en", escape(PURPOSES[Purpose.SECURITY].description))
        assert security[2][0] == "" and security[2][1].startswith("AVG")
        legal = _purpose_cells(page, Purpose.LEGAL_OBLIGATION)
        assert legal[3] == ("en", "law-enforcement agencies, public prosecutor, courts")  # the whole cell, not mixed


def _register_texts() -> list[str]:
    """Every English text of record the register's pages show: the purposes table's and the DPO's register's."""
    with translation.override("en"):
        reg = processing_register()
    texts = [t for a in reg["activities"] for key in ("description", "legal_basis", "retention", "policy_reference")
             for t in [a[key]]]
    texts += [t for a in reg["activities"] for t in (*a["data_categories"], *a["recipients"])]
    texts += [t for c in reg["categories"] for t in (c["legal_basis"], c["retention"])]
    return texts + reg["security_measures"] + [reg["transfers"]]


class RegisterTranslationsTests:
    @pytest.mark.django_db  # the register reads the retention policies in force
    def test_every_text_of_the_register_has_its_dutch(self):
        texts = _register_texts()
        assert [t[:60] for t in texts if t not in purposes_nl.DUTCH] == []
        assert [t[:60] for t in purposes_nl.DUTCH if t not in texts] == []  # none left over from an old wording

    def test_a_cell_in_english_or_an_unknown_language_is_the_english_as_written(self):
        assert register_cell(("billing staff", "courts"), "en") == {"text": "billing staff, courts", "lang": ""}
        assert register_cell("billing staff", "de") == {"text": "billing staff", "lang": "en"}
        assert register_cell("billing staff", "nl") == {"text": "facturatiemedewerkers", "lang": ""}
