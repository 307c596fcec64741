"""The PDF of an invoice, with what a Dutch invoice must carry (Wet OB 1968 art. 35a, Belastingdienst
"factuureisen"): invoice number and date, the supplier's name, address, VAT number and KvK number
(INVOICE_COMPANY_* settings, fixed on the invoice when it is made: `Invoice.supplier`), the customer's name and address, the period, the lines (calls per zone),
the VAT rate and amount, and the totals.

A pure function of an invoice already read through the selector (`traffic.selectors.invoices.invoice_pdf`
audits the read); it reads nothing itself. Written with fpdf2 and its built-in Helvetica, so no font
file ships with the app; that font is written in Windows-1252 here (Latin-1 and the euro sign), and other
characters print as "?". Amounts are money as on the pages (voipxs/money.py): € 1.234,56 in Dutch, €1,234.56
in English.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.http import HttpResponse
from django.utils import formats
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from fpdf import FPDF

from voipxs.money import money, vat_percent

from .models import Invoice, InvoiceLine


@dataclass(frozen=True)
class Supplier:
    name: str
    address: str
    vat_number: str
    kvk_number: str
    iban: str

    @classmethod
    def from_settings(cls) -> "Supplier":
        return cls(name=settings.INVOICE_COMPANY_NAME, address=settings.INVOICE_COMPANY_ADDRESS,
                   vat_number=settings.INVOICE_COMPANY_VAT_NUMBER, kvk_number=settings.INVOICE_COMPANY_KVK_NUMBER,
                   iban=getattr(settings, "INVOICE_COMPANY_IBAN", ""))

    @classmethod
    def of(cls, invoice: Invoice) -> "Supplier":
        """The supplier as the invoice names it: fixed on it when it was made (`Invoice.supplier`), so the PDF
        of an old invoice, and a corrected one, keep the details of the supply (art. 35a Wet OB)."""
        return cls(**invoice.supplier) if invoice.supplier else cls.from_settings()


ENCODING = "windows-1252"  # the core font's: Latin-1 and the euro sign


def _text(value: object) -> str:
    """What the core font can print (ENCODING); anything outside it as '?'."""
    return str(value).encode(ENCODING, "replace").decode(ENCODING)


def _money(amount: Decimal, invoice: Invoice) -> str:
    return money(amount, 2, invoice.currency)


def _date(value) -> str:
    """A date, or a moment as its day in the site's time zone (the day the pages show: `|date` converts too)."""
    if isinstance(value, datetime):
        value = localtime(value)
    return formats.date_format(value, "SHORT_DATE_FORMAT")


class _Pdf(FPDF):
    def row(self, cells: list[tuple[str, float, str]], *, bold: bool = False) -> None:
        self.set_font("helvetica", "B" if bold else "", 9)
        for text, width, align in cells:
            self.cell(width, 6, _text(text), border="B", align=align)
        self.ln()


def _header(pdf: _Pdf, invoice: Invoice, supplier: Supplier) -> None:
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _text(supplier.name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    vat_label, kvk_label = _("VAT number"), _("Chamber of Commerce (KvK)")  # outside f-strings: xgettext sees them
    for line in (supplier.address, f"{vat_label}: {supplier.vat_number}", f"{kvk_label}: {supplier.kvk_number}",
                 *([f"IBAN: {supplier.iban}"] if supplier.iban else [])):
        pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 9)
    pdf.cell(0, 5, _text(_("Invoice to")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    address = invoice.customer_address or _("(no address on file)")
    for line in (invoice.customer_name or str(invoice.account), *address.splitlines()):
        pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 14)
    pdf.cell(0, 8, _text(_("Invoice %(number)s") % {"number": invoice.number}), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "", 9)
    period = formats.date_format(invoice.period, "YEAR_MONTH_FORMAT")
    for label, value in ((_("Invoice number"), invoice.number), (_("Invoice date"), _date(invoice.issued_at)),
                         (_("Period"), period), (_("Due date"), _date(invoice.due_date))):
        pdf.cell(40, 5, _text(label))
        pdf.cell(0, 5, _text(value), new_x="LMARGIN", new_y="NEXT")
    if invoice.replaces_id is not None:
        pdf.cell(0, 5, _text(_("Corrects invoice %(number)s") % {"number": invoice.replaces.number}),
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _lines(pdf: _Pdf, invoice: Invoice, lines: list[InvoiceLine]) -> None:
    widths = (80, 25, 30, 45)
    pdf.row([(_("Zone"), widths[0], "L"), (_("Calls"), widths[1], "R"), (_("Seconds"), widths[2], "R"),
             (_("Amount excl. VAT"), widths[3], "R")], bold=True)
    for line in lines:
        zone = getattr(line, "zone_shown", line.zone)  # traffic.zone_names: in the reader's language
        if line.month != invoice.period:
            zone = f"{zone} ({formats.date_format(line.month, 'YEAR_MONTH_FORMAT')})"
        pdf.row([(zone, widths[0], "L"), (str(line.calls), widths[1], "R"), (str(line.seconds), widths[2], "R"),
                 (_money(line.amount, invoice), widths[3], "R")])
    pdf.ln(2)
    for label, amount, bold in ((_("Subtotal excl. VAT"), invoice.subtotal, False),
                                (_("VAT %(rate)s%%") % {"rate": vat_percent(invoice.vat_rate)}, invoice.vat_amount, False),
                                (_("Total incl. VAT"), invoice.total, True)):
        pdf.row([(label, sum(widths[:3]), "R"), (_money(amount, invoice), widths[3], "R")], bold=bold)


def invoice_pdf_bytes(invoice: Invoice, lines: list[InvoiceLine], *, supplier: Supplier | None = None) -> bytes:
    supplier = supplier or Supplier.of(invoice)
    pdf = _Pdf(format="A4")
    pdf.core_fonts_encoding = ENCODING
    pdf.set_title(_text(_("Invoice %(number)s") % {"number": invoice.number}))
    pdf.set_author(_text(supplier.name))
    pdf.set_creation_date(invoice.issued_at)
    pdf.add_page()
    _header(pdf, invoice, supplier)
    _lines(pdf, invoice, lines)
    pdf.ln(6)
    pdf.set_font("helvetica", "", 8)
    pdf.multi_cell(0, 4, _text(_closing(invoice)))
    return bytes(pdf.output())


def _closing(invoice: Invoice) -> str:
    """The last sentence, by where the invoice stands when it is downloaded: only an open invoice asks for payment
    (a paid one asked again, a void one for money no longer owed, a disputed one for the amount in dispute)."""
    if invoice.status == Invoice.Status.PAID:
        return _("This invoice is paid; nothing more is owed on it.")
    if invoice.status == Invoice.Status.DISPUTED:
        return _("This invoice is disputed; we tell you what is owed once the dispute is decided.")
    if invoice.status == Invoice.Status.VOID:
        return _("This invoice is void; nothing is owed on it.")
    return _("Please pay %(total)s by %(due)s, quoting invoice number %(number)s.") % {
        "total": _money(invoice.total, invoice), "due": _date(invoice.due_date), "number": invoice.number}


def pdf_response(invoice: Invoice, pdf: bytes) -> HttpResponse:
    """The download: an attachment named after the invoice number, never cached."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
