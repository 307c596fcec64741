"""Traffic tasks: ids in (JSON), one service each (imports, rating, partitions, invoices, call exports)."""
from __future__ import annotations

from celery import shared_task

from voipxs.exceptions import ApplicationError

from .models import CdrImport, Source
from .selectors.interconnection import parse_month
from .services import call_exports, imports, invoice_run_alert, invoices, partitions, rating


@shared_task(name="traffic.tasks.cdr_import_run", ignore_result=True, acks_late=True)
def cdr_import_run(import_id: int) -> None:
    """Run an uploaded import. Only the CdrImport id travels; the file stays in PRIVATE_FILES_DIR."""
    cdr_import = CdrImport.objects.filter(pk=import_id).first()
    if cdr_import is not None:
        imports.cdr_import_run(cdr_import=cdr_import)


@shared_task(name="traffic.tasks.cdr_imports_reap", ignore_result=True)
def cdr_imports_reap() -> int:
    """Beat, every 5 minutes: mark imports whose worker stopped mid-run as failed (re-runnable), and
    send again the task of imports still queued (the broker was down at upload)."""
    return len(imports.cdr_imports_reap()) + len(imports.cdr_imports_requeue())


@shared_task(name="traffic.tasks.cdr_partitions_ahead", ignore_result=True)
def cdr_partitions_ahead() -> int:
    return len(partitions.cdr_partitions_ahead())


@shared_task(name="traffic.tasks.cdr_rate_pending", ignore_result=True)
def cdr_rate_pending(source_id: int | None = None) -> int:
    """Beat, hourly: rate calls left pending or unrated (batches, one transaction each; idempotent)."""
    source = Source.objects.filter(pk=source_id).first() if source_id else None
    return rating.cdr_rate_pending(source=source)


@shared_task(name="traffic.tasks.invoice_run", ignore_result=True, acks_late=True, bind=True, max_retries=3)
def invoice_run(self, month: str | None = None) -> int:
    """Invoice a month ("YYYY-MM"; default the month that just ended). Idempotent, so a redelivered
    task, a retry or a second beat run makes nothing twice. A run that fails is tried again (10, 20, 40
    minutes on); once the tries are used up billing is told and the log records it (invoice_run_alert)."""
    target = parse_month(month) if month else invoices.previous_month()
    try:
        return len(invoices.invoice_run(month=target))
    except ApplicationError:
        raise  # the month is not over: trying again changes nothing
    except Exception as exc:
        if self.request.retries < self.max_retries:
            raise self.retry(args=(f"{target:%Y-%m}",), countdown=600 * 2 ** self.request.retries) from None
        invoice_run_alert.invoice_run_failed(month=target, error=exc, tries=self.request.retries + 1)
        raise


@shared_task(name="traffic.tasks.invoice_reissues_remind", ignore_result=True)
def invoice_reissues_remind() -> int:
    """Remind billing of upheld disputes' void invoices whose calls go soon (once each)."""
    return invoices.invoice_reissues_remind(actor=invoices.INVOICE_RUN)


@shared_task(name="traffic.tasks.call_export_build", ignore_result=True, acks_late=True)
def call_export_build(export_id: int) -> None:
    """Write a customer's call export into its encrypted file. Only the CallExport id travels."""
    call_exports.call_export_build(export_id=export_id)


@shared_task(name="traffic.tasks.call_exports_reap", ignore_result=True)
def call_exports_reap() -> int:
    """Beat, every 5 minutes: fail exports whose worker died mid-run, and send again the task of
    exports still queued (the broker was down when they were asked for)."""
    return len(call_exports.call_exports_reap()) + len(call_exports.call_exports_requeue())
