"""What the output check (production.package_output_problems, and verify_package through production.verify_zip)
finds wrong with a package, each naming a file and never its data. A problem is made text only when it is shown:
English in the refusal's message (logs, management commands: ApplicationError.formatted), in the page's language on
the officer's page (ApplicationError.shown). Nothing stores a problem: a refused output check changes nothing."""
from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_noop

from voipxs.exceptions import filled_lazy, joined_lazy

# Why a record is outside the approved scope (output_scope.ScopeRule.refusal).
STARTS_OUTSIDE = gettext_noop("it starts outside the period asked for")
NO_START = gettext_noop("it has no start time")
NO_TARGET = gettext_noop("no party number is a target at its time")
NO_TARGET_NOR_ACCOUNT = gettext_noop("no party number is a target at its time, and it is no call of a target account")
# Why a subscriber record is outside it (output_scope.ScopeRule.subscriber_refusal).
NUMBER_NOT_TARGET = gettext_noop("it lists a number that is no target in the period asked for")
NO_TARGET_ACCOUNT_NOR_HOLDER = gettext_noop("it is no target account and holds no target number in the period "
                                            "asked for")
# A file's records (output_scope.RecordTally, stored.content_problem).
RECORD_UNTIMED = gettext_noop("%(file)s: record %(n)s has no start time the package format writes")
RECORD_OUTSIDE = gettext_noop("%(file)s: record %(n)s is outside the approved scope (%(reason)s)")
SUBSCRIBER_OUTSIDE = gettext_noop("%(file)s: subscriber %(n)s is outside the approved scope (%(reason)s)")
OVER_CAP = gettext_noop("%(file)s: %(n)s records, more than the %(cap)s the authority capped the answer at")
RECORDS_DIFFER = gettext_noop("%(file)s: %(n)s records, the manifest says %(manifest)s")
ROWS_DIFFER = gettext_noop("%(file)s: %(n)s rows, the manifest says %(manifest)s")
HEADER_WRONG = gettext_noop("%(file)s: the header row is not the one the package format names")
TYPE_UNKNOWN = gettext_noop("%(file)s: not a file type the package format has")
UNOPENABLE = gettext_noop("%(file)s: cannot be opened (%(error)s)")
# A stored file, and the sealed ZIP rebuilt from them (production.py, signing.py).
UNDECRYPTABLE = gettext_noop("%(file)s: cannot be decrypted")
STORED_HASH_DIFFERS = gettext_noop("%(file)s: content differs from its stored SHA-256")
MISSING_OR_UNREADABLE = gettext_noop("%(file)s: missing or unreadable")
NOT_LISTED = gettext_noop("%(file)s: not listed in the manifest")
LISTED_MISSING = gettext_noop("%(file)s: listed in the manifest but missing")
DAMAGED = gettext_noop("%(file)s: unreadable (damaged)")
HASH_DIFFERS = gettext_noop("%(file)s: SHA-256 differs from the manifest")
JSON_LAYOUT = gettext_noop("%(file)s: not laid out as the package format writes it")
COUNT_DIFFERS = gettext_noop("%(file)s: record count differs from the manifest")
NOT_A_ZIP = gettext_noop("archive: not a readable ZIP file")
NO_SEAL = gettext_noop("archive: no valid seal in the ZIP comment")
SEAL_DIFFERS = gettext_noop("archive: bytes differ from the sealed archive")
UNSIGNED = gettext_noop("archive: not signed")
UNKNOWN_KEY = gettext_noop("archive: signed with a key this check was not given (%(key)s)")
BAD_SIGNATURE = gettext_noop("archive: the signature does not match its seal (changed after signing, or not signed "
                             "by us)")


def problem(msgid: str, **params: Any) -> str:
    """One problem: `msgid` filled with `params` when it is made text, in the language active then (a param may be
    a problem itself, a reason)."""
    return filled_lazy(msgid, params)


def problems_joined(problems: list[str]) -> str:
    """Several problems of one file as one, "; " between them (made text when shown, as each of them is)."""
    return joined_lazy("; ", tuple(problems))
