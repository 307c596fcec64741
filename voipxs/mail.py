"""E-mail to one person, for the notices a task sends (support's change of itemised bills, the lift of a
restriction): a refused send raises the caller's error naming the user id and the error's class only.
smtplib's own exceptions quote the recipient's address, and Celery logs (and stores) what a task raises."""
from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import send_mail


def person_mail_send(*, user_id: int, to: str, subject: str, body: str, what: str, error: type[Exception]) -> None:
    """Send `subject` and `body` to `to`; on failure raise `error("<what> to user <id> failed (<class>)")`."""
    try:
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=[to])
    except (smtplib.SMTPException, OSError) as exc:
        # `from None`: the original (with the address) must not ride along as the cause in a traceback.
        raise error(f"{what} to user {user_id} failed ({type(exc).__name__})") from None
