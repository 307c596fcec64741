"""What the disclosures app registers with the privacy kernel (imported by apps.py once the models
are loaded): its section of the data-subject export, the purger of delivered packages, the key rotation of
received documents and of delivered packages' files, and the demo seeder."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from voipxs.privacy.registry import (
    Section, register_demo_seeder, register_purger, register_rotator, register_section,
)

from .demo import seed_disclosures
from .recipients import disclosure_recipients_awaiting_notice, disclosure_recipients_of_user
from .rotation import disclosure_document_rotate, disclosure_package_rotate
from .selectors import disclosures_about_user, disclosures_withheld_from_user
from .services.jobs import disclosure_packages_purge

register_demo_seeder(40, "disclosures", seed_disclosures)
register_purger("disclosure_package", disclosure_packages_purge)
register_rotator("disclosures.DisclosureDocument", disclosure_document_rotate)  # sealed under the master keys
register_rotator("disclosures.PackageFile", disclosure_package_rotate)  # so are delivered packages' files
register_section(Section(
    name="disclosures", label=_("Disclosures"), order=80, purpose="legal_obligation",
    legal_basis="GDPR art. 6(1)(c); Sv art. 126n, 126na, 126ni",
    retention="the request record as accountability; packages 90 days after delivery",
    exporter=disclosures_about_user,
    withheld=disclosures_withheld_from_user,
    recipients=disclosure_recipients_of_user,  # GDPR art. 19: told of a rectification, erasure or restriction
    recipients_pending=disclosure_recipients_awaiting_notice,  # the DPO's list only: a notice still to send
    description=("Disclosures of your data to authorities (police, prosecutor, courts, dispute bodies). "
                 "Disclosures under a secrecy order that is still running are not listed."),
))
