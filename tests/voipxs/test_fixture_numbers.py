"""CI check: our fixtures, seed data and code hold no real Dutch phone numbers (GDPR art. 25, LEGAL.md section 5
row 28). Every Dutch number in the scanned files must lie in a synthetic range of tests/synthetic_numbers.py.

Scanned, whole (code, comments and docstrings alike), because these are the numbers we wrote ourselves:
- tests/: *.py, *.json, *.csv, *.xml, *.txt (fixtures, factories, expected values), and every text file in
  any fixtures/ directory, in tests/ (CDR samples in .ndjson, .html) or in an app;
- the demo seeders: accounts/sections.py (seed_accounts) and every <app>/demo.py;
- bench/ (load and benchmark worlds) and deploy/ (sample configurations);
- what users are shown as data or examples: the page templates (templates/: placeholders, sample values, and
  their {# #} and {% comment %} comments), the export schema (schemas/), and the browser extension's pages and
  texts (extension/*.html, *.json, _locales/);
- the code itself: every Python module of the project package and the apps (migrations included) and the
  top-level scripts, where `#` comments and docstrings give examples ("'020 ...' -> '+3120...'"), and our
  JavaScript (extension/*.js, static/), `//` and `/* */` comments included. An example a reader copies into a
  test or a page is data too.
Not scanned: README and docs (prose), the translation catalogues (locale/: generated from the code, which is
scanned), vendored third-party code (tests/e2e/vendor, any vendor/ folder), and the public sample CDR files in
/work/shared/cdr-samples, which are not ours to change and stay outside the repository.

A Dutch number is "+31", "0031", "%2B31" or a bare "31" followed by its national significant number (NSN),
or a national "0…" form ("0699990001", "06 9999 0001", "06-99990001", "020 555 0101"). It is an offender
when libphonenumber calls it valid (an assigned range, so possibly someone's number) and no synthetic range
allows it; a number in no assigned range (e.g. +31 99…, used to test our own validation) cannot be real.
Numbers built at run time (f"+316{i:08d}") are not seen by this check. Other countries are out of scope;
`uk_offenders` lists UK numbers outside Ofcom's drama ranges for a human to review, without failing.
Each file's text is searched as a whole (a line number is worked out for a hit only), so the ~800 files take
about a second.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import phonenumbers

from tests.synthetic_numbers import PENDING_VALID_MOBILE, UK_DRAMA_NSN, is_allowed_nsn

ROOT = Path(__file__).resolve().parents[2]
TEST_SUFFIXES = {".py", ".json", ".csv", ".xml", ".txt"}
SKIPPED_DIRS = {"vendor", "__pycache__", "node_modules", ".venv"}
CODE_PACKAGES = ("voipxs", "accounts", "traffic", "retention", "disclosures")

_SEP = r"[ .-]?"
# Not inside a word or a longer number, but may follow an escape such as \n in source text.
_START = r"(?:(?<![\w+])|(?<=\\[nrt]))"
# +31 / 0031 / %2B31, an optional "(0)", then 7 to 11 digits with single separators.
_INTERNATIONAL = re.compile(_START + r"(?:\+|00|%2B)31" + _SEP + r"(?:\(0\)" + _SEP + r")?"
                            r"([1-9](?:[ .-]?\d){6,10})(?!\d)")
# A bare 31 and nine digits, as SIP user parts and some CDR formats write it.
_BARE = re.compile(_START + r"31([1-9]\d{8})(?!\d)")
# National: 0, then nine digits with single spaces or hyphens ("06-9999 0001", "020 555 0101").
_NATIONAL = re.compile(_START + r"(?<![.%])0([1-9](?:[ -]?\d){8})(?![\d])")
_UK = re.compile(r"(?<![\w+])(?:\+|00)44" + _SEP + r"(?:\(0\)" + _SEP + r")?([1-9](?:[ -]?\d){8,9})(?!\d)")


def scanned_files(root: Path = ROOT) -> Iterator[Path]:
    """The files named in the module docstring, each once, in a stable order."""
    found: set[Path] = set()
    for path in (root / "tests").rglob("*"):
        if path.suffix in TEST_SUFFIXES or "fixtures" in path.relative_to(root).parts:
            found.add(path)
    for folder in ("bench", "deploy", "templates", "schemas"):
        found.update((root / folder).rglob("*"))
    found.update(p for p in (root / "extension").rglob("*") if p.suffix in (".html", ".json"))
    for package in CODE_PACKAGES:
        found.update((root / package).rglob("*.py"))
    found.update(root.glob("*.py"))  # manage.py, gunicorn.conf.py
    found.update((root / "extension").glob("*.js"))
    found.update((root / "static").rglob("*.js"))
    found.update(root.glob("*/demo.py"))
    found.update(root.glob("*/fixtures/**/*"))  # an app's own fixtures/ (none yet)
    found.add(root / "accounts" / "sections.py")
    for path in sorted(found):
        if path.is_file() and not SKIPPED_DIRS.intersection(path.relative_to(root).parts):
            yield path


def dutch_numbers(line: str) -> Iterator[tuple[str, str]]:
    """(text as written, NSN digits) for each Dutch-looking number on a line."""
    for pattern in (_INTERNATIONAL, _BARE, _NATIONAL):
        for match in pattern.finditer(line):
            yield match.group(0), re.sub(r"\D", "", match.group(1))


def _assigned(country: str, nsn: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(f"+{country}{nsn}", None))
    except phonenumbers.NumberParseException:
        return False


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ""


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    yield from enumerate(_text(path).splitlines(), start=1)


def _numbers_in(text: str) -> Iterator[tuple[int, str, str]]:
    """(line, text as written, NSN) for each Dutch-looking number in a file's text. The patterns run over the
    whole text at once (no separator they allow is a line break), ten times faster than line by line."""
    for pattern in (_INTERNATIONAL, _BARE, _NATIONAL):
        for match in pattern.finditer(text):
            yield text.count("\n", 0, match.start()) + 1, match.group(0), re.sub(r"\D", "", match.group(1))


def real_numbers(root: Path = ROOT) -> Iterator[tuple[str, int, str, str]]:
    """(path, line, text as written, NSN) for each Dutch number in an assigned range that no synthetic
    range allows."""
    for path in scanned_files(root):
        for number, written, nsn in sorted(_numbers_in(_text(path))):
            if _assigned("31", nsn) and not is_allowed_nsn(nsn):
                yield str(path.relative_to(root)), number, written.strip(), nsn


def offenders(root: Path = ROOT) -> list[str]:
    """'path:line: number' for each real-range number, less the open decisions of PENDING_VALID_MOBILE."""
    return [f"{path}:{line}: {written}" for path, line, written, nsn in real_numbers(root)
            if nsn not in PENDING_VALID_MOBILE.get(path, ())]


def uk_offenders(root: Path = ROOT) -> list[str]:
    """UK numbers in assigned ranges outside Ofcom's drama ranges: for review only."""
    found = []
    for path in scanned_files(root):
        for number, text in _lines(path):
            for match in _UK.finditer(text):
                nsn = re.sub(r"\D", "", match.group(1))
                if _assigned("44", nsn) and not UK_DRAMA_NSN.fullmatch(nsn):
                    found.append(f"{path.relative_to(root)}:{number}: {match.group(0).strip()}")
    return found


class FixtureNumberTests:
    def test_fixtures_and_seed_data_hold_no_real_dutch_numbers(self):
        found = offenders()
        assert not found, (f"{len(found)} real-range Dutch numbers; use a range of tests/synthetic_numbers.py:\n"
                           + "\n".join(found))

    def test_each_pending_exception_is_still_needed(self):
        used = {(path, nsn) for path, _, _, nsn in real_numbers()}
        assert [(p, n) for p, nsns in PENDING_VALID_MOBILE.items() for n in sorted(nsns) if (p, n) not in used] == []

    def test_it_recognises_each_notation_and_allows_only_the_synthetic_ranges(self):
        mobile, fixed = "6" + "12345678", "20" + "7654321"  # built, so that this file stays clean
        for text in (f"+31{mobile}", f"0031 {mobile}", f"0{mobile}", f"06 {mobile[1:5]} {mobile[5:]}",
                     f"06-{mobile[1:]}", f"sip:31{mobile}@pbx", f"020 {fixed[2:5]} {fixed[5:]}", f"%2B31{fixed}"):
            assert [_assigned("31", nsn) and not is_allowed_nsn(nsn) for _, nsn in dutch_numbers(text)] == [True]
        for text in ("+31 6 9999 0001", "020 555 0101", "+31205559999", "+318000113", "1777881600.5612345678",
                     "+31991234567", "112", "116111"):
            assert not [nsn for _, nsn in dutch_numbers(text) if _assigned("31", nsn) and not is_allowed_nsn(nsn)]

    def test_the_pages_schemas_and_extension_texts_are_scanned(self):
        scanned = {str(p.relative_to(ROOT)) for p in scanned_files()}
        assert {"templates/base.html", "schemas/export.schema.json", "extension/options.html",
                "extension/manifest.json", "extension/_locales/nl/messages.json"} <= scanned

    def test_the_public_sample_cdrs_are_not_scanned(self):
        assert not [p for p in scanned_files() if "cdr-samples" in str(p) or "/work/shared" in str(p)]

    def test_comments_and_docstrings_in_code_pages_and_scripts_are_read(self, tmp_path):
        mobile, fixed = "6" + "12345678", "20" + "7654321"  # built, so that this file stays clean
        files = {
            "traffic/example.py": f'"""Normalises \'0{fixed}\' to E.164."""\nSTEP = 1  # e.g. +31{mobile}\n',
            "templates/traffic/page.html": f"{{# sample: 0{mobile} #}}\n{{% comment %}}\n+31 {fixed}\n"
                                           "{% endcomment %}\n<p>+31 20 555 0101</p>\n",
            "extension/content.js": f"// 0{mobile}\nconst A = 1; /* a number:\n  0031{fixed} */\n",
            "static/js/call-button.js": f"let b = 2; // 06-{mobile[1:]}\n",
            "voipxs/ok.py": "# the synthetic ranges pass: +31 6 9999 0001, 020 555 0101\n",
        }
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
        assert sorted(line.rsplit(": ", 1)[0] for line in offenders(tmp_path)) == [
            "extension/content.js:1", "extension/content.js:3", "static/js/call-button.js:1",
            "templates/traffic/page.html:1", "templates/traffic/page.html:3", "traffic/example.py:1",
            "traffic/example.py:2"]

    def test_the_apps_code_and_scripts_are_scanned(self):
        scanned = {str(p.relative_to(ROOT)) for p in scanned_files()}
        assert {"voipxs/privacy/phone.py", "traffic/importers/kamailio_acc.py", "manage.py",
                "extension/content.js", "static/js/call-button.js"} <= scanned
