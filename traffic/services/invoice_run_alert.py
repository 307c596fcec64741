"""When the monthly invoice run does not finish: billing hears of it, and the audit log records it.

The run (beat, 02:00 on the 1st) is tried again by its task (it is idempotent: a re-run makes only the invoices
still missing). Once the tries are used up, the next beat run is a month away and targets the next month, so a
line in the worker's log would leave a month's invoices unmade without anyone knowing. The mail and the entry
name the month, how many accounts and the error classes, never a customer or an exception's message.
"""
from __future__ import annotations

import logging
from datetime import date

from django.utils.translation import gettext, ngettext

from accounts.services.roles import staff_role_mail
from voipxs.privacy.audit import audit_record
from voipxs.privacy.purposes import Purpose, Role, SystemActor

logger = logging.getLogger(__name__)
INVOICE_RUN_ACTOR = SystemActor("invoice_run")


class InvoiceRunIncomplete(RuntimeError):
    """Some accounts of a run could not be invoiced (the others were). Names the month, how many and the error
    classes only: Celery logs and stores what a task raises."""

    def __init__(self, *, month: date, causes: list[str], failed: int) -> None:
        super().__init__(f"invoice run {month:%Y-%m}: {failed} accounts not invoiced ({', '.join(causes)})")
        self.causes, self.failed = causes, failed


def invoice_run_failed(*, month: date, error: BaseException, tries: int) -> int:
    """Tell billing that the invoice run of `month` gave up after `tries` tries, and record it. Returns how many
    were mailed; a mail outage is logged, and the audit entry still written."""
    values = {"month": f"{month:%Y-%m}", "error": type(error).__name__, "tries": tries,
              "failed": getattr(error, "failed", 0), "causes": ", ".join(getattr(error, "causes", []))}

    def compose() -> tuple[str, str]:
        subject = gettext("[VoIPXS] The invoice run of %(month)s did not finish") % values
        body = ngettext("The invoice run of %(month)s stopped with %(error)s after %(tries)d try.",
                        "The invoice run of %(month)s stopped with %(error)s after %(tries)d tries.", tries) % values
        if values["failed"]:
            body += " " + ngettext("%(failed)d account was not invoiced (%(causes)s); the others were.",
                                   "%(failed)d accounts were not invoiced (%(causes)s); the others were.",
                                   values["failed"]) % values
        body += "\n\n" + gettext("Once the cause is fixed, run it again (Celery task traffic.tasks.invoice_run with "
                                 "the month %(month)s): it makes only the invoices still missing.") % values + "\n"
        return subject, body

    try:
        sent = staff_role_mail(role=Role.BILLING, compose=compose)
    except Exception as exc:  # noqa: BLE001  the failure stays in the audit log and this line
        logger.error("invoice run %s failed and billing could not be e-mailed (%s)", values["month"],
                     type(exc).__name__)
        sent = 0
    if not sent:
        logger.error("invoice run %s failed (%s); no one in billing was e-mailed", values["month"], values["error"])
    audit_record(actor=INVOICE_RUN_ACTOR, action="invoice.run_failed", purpose=Purpose.BILLING,
                 target_type="invoice_run", target_id=values["month"],
                 extra={"month": values["month"], "error": values["error"], "failed": values["failed"],
                        "causes": list(getattr(error, "causes", []))})
    return sent
