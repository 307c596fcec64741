"""Demo data (order 40): two verified authorities and one request for alice's number, taken in by
legal1 with its written order and waiting for the callback, so the workflow can be tried by legal1..3.
Idempotent."""
from __future__ import annotations

from datetime import timedelta

from django.utils.timezone import now

from accounts.models import User

from .models import Authority, AuthorityKind, DisclosureRequest, LegalBasis
from .services.authorities import authority_create, authority_verify
from .services.intake import disclosure_document_add, disclosure_request_receive

# An XML order (intake takes PDFs, scans, signed files and XML; voipxs.privacy.filetypes), as plain as a demo needs.
DEMO_ORDER = (b'<?xml version="1.0" encoding="UTF-8"?>\n<vordering demo="true"><referentie>DEMO-2026-001</referentie>'
              b'<grondslag>art. 126n Sv</grondslag></vordering>\n')


def seed_disclosures(stdout) -> None:
    intake = User.objects.filter(username="legal1").first()
    if intake is None:
        stdout.write("  disclosures: no legal1 user; skipped\n")
        return
    police = Authority.objects.filter(name="Politie Eenheid Amsterdam").first() or authority_create(
        actor=intake, name="Politie Eenheid Amsterdam", kind=AuthorityKind.POLICE, contact_phone="+31 900 8844",
        email_domains=["politie.nl"])
    # Another officer than the one who registered a body verifies its channels.
    verifier = User.objects.filter(username="legal2").first() or intake
    if police.verified_at is None and verifier != intake:
        authority_verify(actor=verifier, authority=police, note="Switchboard number from politie.nl (demo)")
    commission = Authority.objects.filter(name="Geschillencommissie Telecommunicatie").first() or authority_create(
        actor=intake, name="Geschillencommissie Telecommunicatie", kind=AuthorityKind.DISPUTE_COMMISSION,
        contact_phone="+31 20 555 5310", contact_email="info@degeschillencommissie.example",
        email_domains=["degeschillencommissie.example"])
    if commission.verified_at is None and verifier != intake:
        authority_verify(actor=verifier, authority=commission, note="Register entry checked (demo)")
    if not DisclosureRequest.objects.filter(authority=police, reference="DEMO-2026-001").exists():
        moment = now()
        req = disclosure_request_receive(
            actor=intake, authority=police, reference="DEMO-2026-001", legal_basis=LegalBasis.SV_126N,
            categories=["traffic_data"], window_start=moment - timedelta(days=90), window_end=moment,
            deadline=moment + timedelta(days=5), numbers=["+31205550101"])
        # The order the data are handed over on, as the officer files it at intake (demo text, no real order).
        disclosure_document_add(actor=intake, request=req, title="Vordering DEMO-2026-001 (demo).xml",
                                content=DEMO_ORDER, content_type="application/xml", is_written_order=True)
    stdout.write("  disclosures: 2 authorities; request DEMO-2026-001 awaiting the callback "
                 "(legal1 took it in; legal2 and legal3 approve)\n")
