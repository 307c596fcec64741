"""E-mail to one person, for the notices a task sends (support's change of itemised bills, the lift of a
restriction): a refused send raises the caller's error naming the user id and the error's class only.
smtplib's own exceptions quote the recipient's address, and Celery logs (and stores) what a task raises.

A notice is written in the person's language (`person_language`), not in whatever language happens to be
active: a task runs with none, and a notice queued from a staff member's request must not take theirs. The
mails to the members of a staff role follow the same rule, one message per language
(accounts.services.roles.staff_role_mail). Dates in a mail go through `mail_date` / `mail_datetime`, so that
they read in the language it is written in.

Whether a person has an address to write to is one rule: `mail_address`, an empty one ("" or only spaces) is none.
"""
from __future__ import annotations

import smtplib
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import get_default_timezone, localtime


def mail_address(address: str | None) -> str:
    """The address to send a person's mail to, trimmed, or "" when they have none: an address that is empty or only
    spaces is no address. The same rule as accounts.dsr.restriction.user_has_email, which asks it of the blind
    index (over the trimmed, lower-cased address) for callers that must not decrypt the address."""
    return (address or "").strip()


def mail_language(code: str | None) -> str:
    """The language an e-mail to a person with `code` (User.language) is written in: theirs where the site
    still offers it, else the site's default (settings.LANGUAGE_CODE)."""
    offered = {language for language, _name in settings.LANGUAGES}
    return code if code in offered else settings.LANGUAGE_CODE


def person_language(code: str | None) -> translation.override:
    """`with person_language(user.language):` around the subject and body of an e-mail to that person: their
    language where the site still offers it, else the site's default (settings.LANGUAGE_CODE)."""
    return translation.override(mail_language(code))


def mail_date(day: date) -> str:
    """A day in an e-mail, in the active language: "4 December 2026", "4 december 2026"."""
    return date_format(day, "DATE_FORMAT")


def mail_datetime(moment: datetime) -> str:
    """A moment in an e-mail, in the active language and the site's time zone (Amsterdam, whatever zone the sending
    code has active), named: "4 december 2026 15:39 CET"; the zone tells the doubled hour in October apart."""
    local = localtime(moment, get_default_timezone())
    return f"{date_format(local, 'DATETIME_FORMAT')} {local:%Z}"


def person_mail_send(*, user_id: int, to: str, subject: str, body: str, what: str, error: type[Exception]) -> None:
    """Send `subject` and `body` to `to`; on failure raise `error("<what> to user <id> failed (<class>)")`.
    The caller renders both inside `person_language`."""
    try:
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[to])
    except (smtplib.SMTPException, OSError) as exc:
        # `from None`: the original (with the address) must not ride along as the cause in a traceback.
        raise error(f"{what} to user {user_id} failed ({type(exc).__name__})") from None
