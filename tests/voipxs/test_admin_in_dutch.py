"""The staff admin in Dutch names our models, apps, columns, filters, field labels and help texts in Dutch.

The walk: every admin page the seeded staff roles reach (the index, each app's page, each list, each add form and
the change form of a list's first row), once in English and once in Dutch (cookie django_language). A name of ours
that reads the same in both languages was not translated, unless it is a word Dutch writes alike (ALIKE). Django's
own texts are translated by Django; the third-party apps' models (axes, knox, django-otp) are not ours and are left
out. The second test holds the code to it without the catalogue: every such name of ours is marked for translation."""
from __future__ import annotations

import html
import io
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.utils import translation
from django.utils.functional import Promise
from django.utils.timezone import now

from accounts.models import User
from accounts.services.roles import user_roles_set
from retention.models import PurgeReceipt, PurgeRun
from tests.factories import verified_client
from voipxs.privacy.purposes import Role

OUR_APPS = ("voipxs", "accounts", "traffic", "retention", "disclosures")
THEIRS = re.compile(r"^/admin/(axes|knox|otp_static|otp_totp)/")
STAFF = ("admin", "dpo", "legal1", "billing", "support", "noc", "fraud")
# Words Dutch writes as English does (compared lower-case, without the colon of a label).
ALIKE = {"id", "status", "label", "postcode", "account", "accounts", "mac", "cdr", "import", "carrier", "zone", "prefix"}
# Django's own texts (visually hidden column headers of the index) and the third-party apps' names on the index.
DJANGO_AND_THEIRS = {"add link", "change or view list link", "model name", "access attempts", "access failures",
                     "access logs", "auth tokens", "static devices", "totp devices", "axes", "knox", "otp_static",
                     "otp_totp"}

_TAG = re.compile(r"<[^>]+>")
_PIECES = {
    "model": re.compile(r'<th scope="row"[^>]*>(.*?)</th>', re.S),
    "app": re.compile(r"<caption>(.*?)</caption>", re.S),
    "column": re.compile(r'<th scope="col"[^>]*>.*?<div class="text">(.*?)</div>', re.S),
    "filter": re.compile(r'data-filter-title="([^"]*)"'),
    "label": re.compile(r"<label[^>]*>(.*?)</label>", re.S),
    "help": re.compile(r'<div class="help"[^>]*>(.*?)</div>', re.S),
}
_HREF = re.compile(r'href="(/admin/[^"#?]*)"')
_FOLLOW = re.compile(r"/admin/(\w+/((\w+/)(add/)?)?)?")


def _texts(page: str) -> dict[str, set[str]]:
    return {kind: {" ".join(html.unescape(_TAG.sub(" ", m)).split()) for m in pattern.findall(page)} - {""}
            for kind, pattern in _PIECES.items()}


def untranslated(english: str, dutch: str) -> list[str]:
    """The names of ours on a page that read the same in its English and its Dutch rendering."""
    en, nl = _texts(english), _texts(dutch)
    same = []
    for kind in en:
        for text in sorted(en[kind] & nl[kind]):
            word = text.rstrip(":").strip().lower()
            if word not in ALIKE and word not in DJANGO_AND_THEIRS and not word.isdigit():
                same.append(f"{kind}: {text}")
    return same


def _both(client, path: str):
    client.cookies["django_language"] = "en"
    english = client.get(path)
    client.cookies["django_language"] = "nl"
    dutch = client.get(path)
    return english, dutch


def _walk(client) -> dict[str, list[str]]:
    found, seen, todo = {}, set(), ["/admin/"]
    while todo:
        path = todo.pop(0)
        if path in seen or THEIRS.match(path):
            continue
        seen.add(path)
        english, dutch = _both(client, path)
        if english.status_code != 200 or "text/html" not in english.get("Content-Type", ""):
            continue
        page = english.content.decode()
        links = _HREF.findall(page)
        todo += [link for link in links if _FOLLOW.fullmatch(link)]
        if re.fullmatch(r"/admin/\w+/\w+/", path):  # a list: its first row's change form
            todo += [link for link in links if re.fullmatch(re.escape(path) + r"[^/]+/change/", link)][:1]
        if same := untranslated(page, dutch.content.decode()):
            found[path] = same
    return found


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())
    admin_user = User.objects.get(username="admin")
    user_roles_set(user=User.objects.get(username="support"), roles=[Role.SUPPORT, Role.DPO], actor=admin_user)
    run = PurgeRun.objects.create(as_of=now(), dry_run=True, status=PurgeRun.Status.DONE)
    PurgeReceipt.objects.create(run=run, category="cdr_unbilled", deleted=3, dry_run=True)


@pytest.mark.django_db
def test_every_admin_page_of_every_staff_role_names_our_things_in_dutch(client, seeded):
    found = {}
    for username in STAFF:
        verified_client(client, User.objects.get(username=username))
        for path, same in _walk(client).items():
            found.setdefault(path, set()).update(same)
        client.logout()
    assert len(found) == 0, "\n".join(f"{path}: {sorted(same)}" for path, same in sorted(found.items()))


def test_the_check_finds_a_name_that_reads_the_same_in_both_languages():
    english = ('<caption><a href="/admin/traffic/">Traffic</a></caption><th scope="row"><a>Tariffs</a></th>'
               '<label for="x">Valid from:</label><label>Status:</label><div class="help" id="h">Any notation.</div>')
    dutch = ('<caption><a href="/admin/traffic/">Verkeer</a></caption><th scope="row"><a>Tariffs</a></th>'
             '<label for="x">Valid from:</label><label>Status:</label><div class="help" id="h">Elke notatie.</div>')
    assert untranslated(english, dutch) == ["model: Tariffs", "label: Valid from:"]


def _shown_fields(model_admin, model) -> set[str]:
    names = set(model_admin.list_display) | set(model_admin.fields or ()) | set(model_admin.readonly_fields or ())
    names |= {f for f in model_admin.list_filter if isinstance(f, str)}
    for fieldset in model_admin.fieldsets or ():
        names |= set(fieldset[1]["fields"])
    if not model_admin.fields and not model_admin.fieldsets:
        names |= {f.name for f in model._meta.fields if f.editable and not f.auto_created}
    return names - set(model_admin.exclude or ())


def test_every_name_of_ours_that_the_admin_shows_is_marked_for_translation():
    """Without the catalogue: the apps, models (singular and plural) and the fields the admin shows of each model
    of ours have lazy-translated names (gettext_lazy), so Dutch comes from the catalogue."""
    plain = []
    for label in OUR_APPS:
        config = apps.get_app_config(label)
        if not isinstance(config.verbose_name, Promise):
            plain.append(f"app {label}: {config.verbose_name}")
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in OUR_APPS:
            continue
        for kind in ("verbose_name", "verbose_name_plural"):
            if not isinstance(opts.original_attrs.get(kind), Promise):
                plain.append(f"{opts.label} {kind}: {getattr(opts, kind)}")
        for name in sorted(_shown_fields(model_admin, model)):
            try:
                field = opts.get_field(name)
            except Exception:  # a display method (checked by its own description) or a form field
                continue
            if not field.auto_created and not isinstance(getattr(field, "verbose_name", ""), Promise):
                plain.append(f"{opts.label}.{name}: {field.verbose_name}")
    assert not plain, "\n".join(plain)


def _admin_display_names() -> dict[str, object]:
    """What the admin shows of each model of ours beside its fields: the headings of its display methods (a list's
    columns), its filters' titles and its actions' names, by where they come from."""
    names = {}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        if opts.app_label not in OUR_APPS:
            continue
        shown = [*model_admin.list_display, *(model_admin.readonly_fields or ()), *(model_admin.actions or ())]
        for name in shown:
            if not isinstance(name, str) or name == "__str__" or _is_field(opts, name):
                continue
            attr = getattr(model_admin, name, None) or getattr(model, name, None)
            attr = attr.fget if isinstance(attr, property) else attr
            names[f"{opts.label}.{name}"] = getattr(attr, "short_description", name)
        for item in model_admin.list_filter:
            if isinstance(item, type):
                names[f"{opts.label} filter {item.__name__}"] = getattr(item, "title", item.__name__)
    return names


def _is_field(opts, name: str) -> bool:
    try:
        opts.get_field(name)
    except Exception:
        return False
    return True


def test_every_column_filter_and_action_of_ours_has_its_dutch():
    """The walk reads a list's columns only where the list has rows: an empty list (no breaches yet, no purge runs on
    a new install) shows no table, so a column heading without its Dutch went unseen there. Each heading of a display
    method, filter title and action name is marked for translation and, in Dutch, reads otherwise than in English."""
    names = _admin_display_names()
    assert len(names) > 15  # this is no empty check
    plain = [f"{where}: {text}" for where, text in names.items() if not isinstance(text, Promise)]
    assert not plain, "\n".join(plain)
    with translation.override("en"):
        english = {where: str(text) for where, text in names.items()}
    with translation.override("nl"):
        same = [f"{where}: {english[where]}" for where, text in names.items()
                if str(text) == english[where] and english[where].lower() not in ALIKE]
    assert not same, "\n".join(same)
