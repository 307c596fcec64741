"""Every role's pages in Dutch hold no English sentence from our catalogue: the main page of each role and
every page its navigation links to, plus the public pages, rendered with Accept-Language: nl."""
import html
import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import make_cdr, verified_client
from tests.voipxs import po_catalogue as po

# Links that are not pages to read (downloads, sign-out, the API, Django's own admin, language switch).
_SKIP = re.compile(r"^/(api/|admin/|i18n/|static/|accounts/logout)|\.(csv|pdf|zip|json)$|/download")
_HREF = re.compile(r'href="(/[^"#?]*)"')
_TAGS = re.compile(r"<[^>]+>")
# Content the page itself declares English (the legal text of the policy, the register's own wording).
_DECLARED_ENGLISH = re.compile(r'<(\w+)[^>]*\slang="en"[^>]*>.*?</\1>', re.S)
_DECLARED_ENGLISH_INPUT = re.compile(r'<input[^>]*\slang="en"[^>]*>')  # a stored English value in a form field


def _english_sentences():
    """msgids whose Dutch differs, long enough that finding one on a Dutch page means it was not translated.
    Placeholders split a msgid into the literal pieces a page would show."""
    pieces = set()
    for entry in po.messages(po.parse(Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES" / "django.po")):
        if entry.msgid_plural is not None or entry.msgstr.get(0) == entry.msgid:
            continue
        for piece in re.split(r"%\([a-z_]+\)[sd]|%[sd]|\n", entry.msgid):
            piece = piece.strip()
            if len(piece) > 12 and piece not in entry.msgstr.get(0, ""):
                pieces.add(piece)
    return pieces


ENGLISH = _english_sentences()


def _untranslated(page: str) -> list[str]:
    page = _DECLARED_ENGLISH_INPUT.sub(" ", _DECLARED_ENGLISH.sub(" ", page))
    text = html.unescape(page)
    visible = html.unescape(_TAGS.sub(" ", page))
    return sorted(s for s in ENGLISH if s in text or s in visible)


def _crawl(client, start: str, visited: list | None = None) -> dict[str, list[str]]:
    """The start page and every page it links to, in Dutch: {path: English sentences found}."""
    found, visited = {}, visited if visited is not None else []
    first = client.get(start, HTTP_ACCEPT_LANGUAGE="nl")
    assert first.status_code == 200, start
    pages = [start] + sorted({h for h in _HREF.findall(first.content.decode()) if not _SKIP.search(h)} - {start})
    for path in pages:
        response = first if path == start else client.get(path, HTTP_ACCEPT_LANGUAGE="nl")
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = response.content.decode()
        assert '<html lang="nl"' in page, path
        visited.append(path)
        if hits := _untranslated(page):
            found[path] = hits
    return found


def test_the_catalogue_gives_the_check_something_to_find():
    assert len(ENGLISH) > 300 and "Your invoices, newest first" in ENGLISH


def test_the_check_finds_an_english_sentence_in_a_page():
    assert _untranslated("<p>Your invoices, newest first</p><p>Your users&#x27; calls, newest first</p>") == [
        "Your invoices, newest first", "Your users' calls, newest first"]
    assert _untranslated('<p lang="en">Your invoices, newest first</p><p>Uw facturen</p>') == []


@pytest.mark.django_db
def test_public_pages_in_dutch_hold_no_english(client):
    found = {}
    for start in ("/accounts/login/", "/privacy/", "/accounts/password/reset/", "/accounts/password/reset/sent/"):
        found |= _crawl(client, start)
    assert not found, found


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "acme_admin", "legal1", "dpo", "billing_staff", "support", "admin_user"])
def test_every_role_sees_its_pages_in_dutch(client, who, request):
    user = request.getfixturevalue(who)
    if who in ("alice", "acme_admin"):
        make_cdr(account=user)
    verified_client(client, user)
    visited = []
    found = _crawl(client, "/", visited)
    assert len(visited) >= 4, visited  # home, privacy, security and the role's own pages
    assert not found, f"English on Dutch pages for {who}: {found}"
