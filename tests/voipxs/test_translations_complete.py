"""The Dutch catalogue is complete: no empty or fuzzy entry, the compiled .mo says what the .po says,
and `makemessages` would find no string in the code or templates that the catalogue lacks."""
import gettext
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from tests.voipxs import po_catalogue as po

NL_PO = Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES" / "django.po"
NL_MO = NL_PO.with_suffix(".mo")
_NOT_SOURCES = (".*", "__pycache__", "*.pyc", "*.mo", "var", "staticfiles", "media", "node_modules", "out")


def _label(entry):
    return f"{entry.msgctxt + ' | ' if entry.msgctxt else ''}{entry.msgid[:70]!r}"


def test_every_dutch_entry_is_translated_and_none_is_fuzzy():
    entries = po.messages(po.parse(NL_PO))
    assert len(entries) > 500  # the parser read the real catalogue
    untranslated = [_label(e) for e in entries if not all(e.msgstr.values()) or not e.msgstr]
    fuzzy = [_label(e) for e in entries if e.fuzzy]
    assert not untranslated, f"{len(untranslated)} untranslated nl entries:\n" + "\n".join(untranslated)
    assert not fuzzy, f"{len(fuzzy)} fuzzy nl entries (check the translation, drop the flag):\n" + "\n".join(fuzzy)


def test_compiled_catalogue_matches_the_po_file():
    with NL_MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po.messages(po.parse(NL_PO)):
        if entry.msgid_plural is not None:
            continue
        msgid = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid
        if compiled.gettext(msgid) != entry.msgstr[0]:
            stale.append(_label(entry))
    assert not stale, "django.mo is older than django.po; run compilemessages -l nl:\n" + "\n".join(stale)


def test_parser_reads_flags_plurals_and_escapes(tmp_path):
    sample = tmp_path / "x.po"
    sample.write_text('msgid ""\nmsgstr ""\n"Language: nl\\n"\n\n#, fuzzy, python-format\n#| msgid "old"\n'
                      'msgid "a \\"b\\"\\n"\n"c"\nmsgstr ""\n\n'
                      'msgctxt "k"\nmsgid "%(n)s x"\nmsgid_plural "%(n)s xs"\nmsgstr[0] "één"\nmsgstr[1] ""\n',
                      encoding="utf-8")
    first, second = po.messages(po.parse(sample))
    assert (first.msgid, first.fuzzy, first.translated) == ('a "b"\nc', True, False)
    assert (second.key, second.msgid_plural, second.msgstr, second.translated) == (("k", "%(n)s x"), "%(n)s xs",
                                                                                   {0: "één", 1: ""}, False)


def test_makemessages_finds_no_string_missing_from_the_catalogue(tmp_path, monkeypatch):
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        if os.environ.get("CI"):
            pytest.fail("GNU gettext (xgettext, msgmerge) is needed in CI for the catalogue check")
        pytest.skip("GNU gettext is not installed")
    # A copy of the sources, so that makemessages writes its catalogue there and never into ours.
    tree = tmp_path / "src"
    shutil.copytree(settings.BASE_DIR, tree, ignore=shutil.ignore_patterns(*_NOT_SOURCES))
    copy = tree / "locale" / "nl" / "LC_MESSAGES" / "django.po"
    monkeypatch.chdir(tree)
    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        call_command("makemessages", locale=["nl"], no_obsolete=True, verbosity=0)
    committed = {e.key for e in po.messages(po.parse(NL_PO))}
    regenerated = po.messages(po.parse(copy))
    new = [_label(e) for e in regenerated if e.key not in committed]
    assert len(regenerated) > 500
    assert not new, ("strings in the code that the nl catalogue lacks; run makemessages -l nl "
                                     "--no-obsolete and translate them:\n" + "\n".join(new))
    # An entry makemessages cannot find is either dead or looked up at run time under a name xgettext does
    # not know (a plain constant, an f-string, an alias): the next makemessages would drop its translation.
    found = {e.key for e in regenerated}
    dropped = [repr(key[1][:70]) for key in sorted(committed - found, key=str)]
    assert not dropped, ("nl entries makemessages would drop; mark the string with gettext_noop/gettext_lazy "
                         "where it is defined, or remove the entry:\n" + "\n".join(dropped))
