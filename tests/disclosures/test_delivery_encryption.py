"""The package in transit (LEGAL.md section 5, row 19): for an authority with a certificate on file, what is
downloaded and delivered is the signed ZIP encrypted to that certificate, a CMS EnvelopedData (.p7m, DER) that
`openssl cms -decrypt` and cryptography's pkcs7_decrypt_der open back to the ZIP byte for byte; its manifest,
seal and signature are checked after decryption as before. Every download hands out the same envelope, and the
delivery records its SHA-256 and the certificate's. An authority without a certificate gets the ZIP only on a
channel that is itself encrypted, which the officer records at delivery (refused otherwise); an expired
certificate stops the download and the delivery until it is replaced."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils.timezone import now
from rest_framework.test import APIClient

from disclosures.models import Authority, DisclosureRequest, Package, PackageDownload, PackageEnvelope
from disclosures.production import package_zip, verify_zip
from disclosures.services.jobs import disclosure_packages_purge
from disclosures.services.packages import CERTIFICATE_EXPIRED_ON, disclosure_package_download
from disclosures.services.transitions import CHANNEL_REQUIRED, disclosure_request_deliver
from tests.factories import make_cdr, verified_client
from voipxs.exceptions import ApplicationError
from voipxs.models import AuditEntry

from .certificates import police_recipient
from .conftest import ALICE_NUMBER, OTHER, receive, to_state

pytestmark = pytest.mark.django_db

CHANNEL = "handed over in person on an encrypted USB stick"


@pytest.fixture
def checked(legal1, legal2, legal3, authority, alice):
    """A request of the police unit (certificate on file) whose output is checked: ready to hand over."""
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    return to_state(receive(legal1, authority), "checked", intake=legal1, approvers=[legal2, legal3])


@pytest.fixture
def checked_bare(legal1, legal2, legal3, bare, alice):
    make_cdr(account=alice, src=ALICE_NUMBER, dst=OTHER, started_at=now() - timedelta(days=1))
    return to_state(receive(legal1, bare), "checked", intake=legal1, approvers=[legal2, legal3])


def _download(actor, request) -> tuple[str, bytes]:
    """The package downloaded: its name and the bytes the response sends (the service hands out an open file)."""
    name, file = disclosure_package_download(actor=actor, request=request)
    with file:
        return name, file.read()


def _flipped(data: bytes, pos: int) -> bytes:
    tampered = bytearray(data)
    tampered[pos] ^= 0x01
    return bytes(tampered)


class EnvelopeTests:
    def test_openssl_cms_decrypts_the_download_to_the_signed_zip_byte_for_byte(self, legal1, checked, tmp_path):
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("the openssl binary is not installed: the pkcs7_decrypt_der test covers the format")
        name, envelope = _download(legal1, checked)
        assert name == f"disclosure-{checked.pk}.zip.p7m"
        recipient = police_recipient()
        (tmp_path / name).write_bytes(envelope)
        (tmp_path / "cert.pem").write_text(recipient.certificate_pem)
        (tmp_path / "key.pem").write_bytes(recipient.key_pem)
        out = tmp_path / "opened.zip"
        done = subprocess.run([openssl, "cms", "-decrypt", "-inform", "DER", "-in", str(tmp_path / name),
                               "-recip", str(tmp_path / "cert.pem"), "-inkey", str(tmp_path / "key.pem"),
                               "-out", str(out)], capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        opened = out.read_bytes()
        assert opened == package_zip(Package.objects.get(request=checked))
        assert verify_zip(opened) == []
        assert verify_zip(_flipped(opened, len(opened) // 2))

    def test_pkcs7_decrypt_der_gives_back_the_zip_that_verifies_and_a_flipped_byte_fails(self, legal1, checked):
        _name, envelope = _download(legal1, checked)
        assert envelope[:1] == b"\x30" and b"calls.csv" not in envelope  # DER, and nothing of the ZIP readable
        opened = police_recipient().decrypt(envelope)
        assert opened == package_zip(Package.objects.get(request=checked))
        assert verify_zip(opened) == []
        assert sorted(zipfile.ZipFile(io.BytesIO(opened)).namelist()) == [
            "calls.csv", "calls.json", "calls_etsi.xml", "manifest.json"]
        for pos in (0, len(opened) // 3, len(opened) - 1):
            assert verify_zip(_flipped(opened, pos)), f"byte {pos} changed unnoticed"

    def test_every_download_hands_out_the_same_envelope_logged_with_its_sha256_and_the_certificate(
            self, legal1, legal2, checked, authority):
        _n, first = _download(legal1, checked)
        _n, second = _download(legal2, checked)
        assert first == second
        digest = hashlib.sha256(first).hexdigest()
        zip_digest = hashlib.sha256(police_recipient().decrypt(first)).hexdigest()
        rows = set(PackageDownload.objects.values_list("sha256", "zip_sha256", "encrypted_to"))
        assert rows == {(digest, zip_digest, authority.certificate_sha256)}
        entry = AuditEntry.objects.filter(action="disclosure.package_download").first()
        assert entry.extra["file_sha256"] == digest and entry.extra["encrypted_to"] == authority.certificate_sha256
        assert "BEGIN" not in json.dumps(list(AuditEntry.objects.values_list("extra", flat=True)))


class DeliveryTests:
    def test_the_delivery_records_the_p7m_handed_over_and_the_certificate(self, legal1, checked, authority):
        _n, envelope = _download(legal1, checked)
        req = disclosure_request_deliver(actor=legal1, request=checked, receipt="PV-7, received by the desk")
        assert req.status == "delivered"
        assert req.delivery_sha256 == hashlib.sha256(envelope).hexdigest()
        assert req.delivery_encrypted_to == authority.certificate_sha256 and req.delivery_channel == ""
        entry = AuditEntry.objects.get(action="disclosure.deliver", target_id=str(req.pk))
        assert entry.extra["sha256"] == req.delivery_sha256
        assert (entry.extra["encrypted_to"], entry.extra["secure_channel"]) == (authority.certificate_sha256, False)
        # A download after the delivery is the very file the receipt names.
        assert _download(legal1, req)[1] == envelope

    def test_the_delivery_names_the_stored_envelope_without_copying_it_out_and_a_download_still_checks_it(
            self, legal1, checked, monkeypatch):
        from disclosures.services import packages

        copies = []
        real_copy = packages.stored_envelope_copy

        def counted(envelope, target):  # the real copy (and its SHA-256 check), counted
            copies.append(envelope.pk)
            return real_copy(envelope, target)

        monkeypatch.setattr(packages, "stored_envelope_copy", counted)
        # Delivered before any download: the envelope is made here, and only its SHA-256 is recorded.
        req = disclosure_request_deliver(actor=legal1, request=checked, receipt="PV-8, received by the desk")
        assert copies == [] and PackageEnvelope.objects.filter(package__request=req).count() == 1
        _n, envelope = _download(legal1, req)
        assert len(copies) == 1  # the download copies it out, checked against the stored SHA-256
        assert req.delivery_sha256 == hashlib.sha256(envelope).hexdigest()
        assert police_recipient().decrypt(envelope) == package_zip(Package.objects.get(request=req))

    def test_without_a_certificate_the_delivery_is_refused_unless_an_encrypted_channel_is_recorded(
            self, legal1, checked_bare):
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_deliver(actor=legal1, request=checked_bare, receipt="PV-1", secure_channel="  ")
        assert exc.value.message == CHANNEL_REQUIRED and exc.value.extra["field"] == "secure_channel"
        after = DisclosureRequest.objects.get(pk=checked_bare.pk)
        assert (after.status, after.delivered_at, after.delivery_sha256) == ("checked", None, "")
        name, data = _download(legal1, checked_bare)  # the plain ZIP, for the medium
        assert name.endswith(".zip") and verify_zip(data) == []
        req = disclosure_request_deliver(actor=legal1, request=checked_bare, receipt="PV-1", secure_channel=CHANNEL)
        assert (req.status, req.delivery_encrypted_to, req.delivery_channel) == ("delivered", "", CHANNEL)
        assert req.delivery_sha256 == hashlib.sha256(data).hexdigest()
        entry = AuditEntry.objects.get(action="disclosure.deliver", target_id=str(req.pk))
        assert (entry.extra["encrypted_to"], entry.extra["secure_channel"]) == (None, True)
        assert "usb" not in json.dumps(entry.extra).lower()  # the officer's words stay on the request

    def test_an_emergency_without_a_certificate_needs_the_channel_too(self, legal1, legal2, legal3, bare, alice):
        req = to_state(receive(legal1, bare, emergency=True), "checked", intake=legal1, approvers=[legal2, legal3])
        with pytest.raises(ApplicationError) as exc:
            disclosure_request_deliver(actor=legal1, request=req, receipt="PV-1")
        assert exc.value.message == CHANNEL_REQUIRED

    def test_an_expired_certificate_stops_the_download_and_the_delivery(self, legal1, checked, authority):
        Authority.objects.filter(pk=authority.pk).update(certificate_not_after=now() - timedelta(minutes=1))
        for step in (lambda: disclosure_package_download(actor=legal1, request=checked),
                     lambda: disclosure_request_deliver(actor=legal1, request=checked, receipt="PV-1",
                                                        secure_channel=CHANNEL)):
            with pytest.raises(ApplicationError) as exc:
                step()
            assert exc.value.extra["field"] == "certificate" and exc.value.extra["msgid"] == CERTIFICATE_EXPIRED_ON
        assert DisclosureRequest.objects.get(pk=checked.pk).status == "checked"
        assert not PackageDownload.objects.exists()

    def test_the_envelopes_go_with_the_package_files_after_retention(self, legal1, checked):
        req = disclosure_request_deliver(actor=legal1, request=checked, receipt="PV-1")
        package = Package.objects.get(request=req)
        assert package.envelopes.count() == 1
        assert disclosure_packages_purge(now=now() + timedelta(days=91)) == {"deleted": 1}
        assert package.envelopes.count() == 0 and package.files.count() == 0


class DeliveryPageTests:
    def test_the_request_page_shows_the_encryption_and_hands_out_the_p7m(self, client, legal2, checked, authority):
        staff = verified_client(client, legal2)
        for language in ("nl", "en"):
            page = staff.get(reverse("disclosures:detail", args=[checked.pk]), HTTP_ACCEPT_LANGUAGE=language)
            assert page.status_code == 200 and f'<html lang="{language}"'.encode() in page.content
            body = page.content.decode()
            assert authority.certificate_sha256 in body and f"disclosure-{checked.pk}.zip.p7m" in body
            assert 'id="secure_channel"' not in body
        r = staff.get(reverse("disclosures:download", args=[checked.pk]))
        assert r["Content-Type"] == "application/pkcs7-mime; smime-type=enveloped-data"
        assert verify_zip(police_recipient().decrypt(b"".join(r.streaming_content))) == []

    def test_without_a_certificate_the_page_states_the_rule_and_asks_for_the_channel(self, client, legal1,
                                                                                     checked_bare):
        staff = verified_client(client, legal1)
        url = reverse("disclosures:detail", args=[checked_bare.pk])
        for language in ("nl", "en"):
            page = staff.get(url, HTTP_ACCEPT_LANGUAGE=language)
            assert page.status_code == 200 and b'id="secure_channel"' in page.content
        assert b"no certificate on file" in staff.get(url).content
        deliver = reverse("disclosures:transition", args=[checked_bare.pk, "deliver"])
        r = staff.post(deliver, {"receipt": "PV-1", "confirm": "yes"})
        assert r.status_code == 400 and b"Record that channel" in r.content
        assert staff.post(deliver, {"receipt": "PV-1", "confirm": "yes", "secure_channel": CHANNEL}).status_code == 302
        page = staff.get(url).content.decode()
        assert DisclosureRequest.objects.get(pk=checked_bare.pk).delivery_sha256 in page and CHANNEL in page

    def test_the_api_takes_the_channel_and_answers_what_was_handed_over(self, legal1, checked_bare):
        api = APIClient()
        verified_client(api, legal1)
        path = f"/api/v1/staff/disclosures/requests/{checked_bare.pk}/deliver/"
        r = api.post(path, {"receipt": "PV-1"}, format="json")
        assert r.status_code == 400 and "secure_channel" in json.dumps(r.json())
        r = api.post(path, {"receipt": "PV-1", "secure_channel": CHANNEL}, format="json")
        assert r.status_code == 200 and r.json()["delivery_encrypted_to"] == ""
        assert r.json()["delivery_sha256"] == DisclosureRequest.objects.get(pk=checked_bare.pk).delivery_sha256 != ""
        package = api.get(f"/api/v1/staff/disclosures/requests/{checked_bare.pk}/package/")
        assert package["Content-Type"] == "application/zip"
