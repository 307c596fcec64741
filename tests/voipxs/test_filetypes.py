"""The file-type rules (voipxs.privacy.filetypes): a file is what its own bytes say, each kind by the rule of its
format, and nothing else passes for one of them: an executable, an archive or Office file, a page, plain text, an
e-mail, or DER that is no CMS file (a certificate, a private key)."""
from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests import file_samples as samples
from tests.disclosures.certificates import police_recipient
from voipxs.privacy import filetypes
from voipxs.privacy.filetypes import CMS, CMS_PEM, JPEG, PDF, PNG, TIFF, XML, file_type_detect

ALL = (PDF, PNG, JPEG, TIFF, CMS, CMS_PEM, XML)


def _kind(content: bytes):
    return file_type_detect(content, accepted=ALL)


class FileTypeDetectTests:
    @pytest.mark.parametrize(("content", "kind"), [
        (samples.PDF, PDF), (samples.PNG, PNG), (samples.JPEG, JPEG), (samples.TIFF_LE, TIFF),
        (samples.TIFF_BE, TIFF), (samples.XML_BOM, XML), (samples.XML_PLAIN, XML)])
    def test_it_tells_each_kind_by_its_leading_bytes(self, content, kind):
        assert _kind(content) == kind

    def test_it_tells_signed_and_encrypted_cms_files_in_der_ber_and_pem(self):
        assert _kind(samples.cms_signed()) == CMS  # .p7m: the order inside
        assert _kind(samples.cms_signed(detached=True)) == CMS  # .p7s
        assert _kind(samples.cms_signed_ber()) == CMS
        assert _kind(samples.cms_enveloped(police_recipient().certificate)) == CMS
        pem = samples.cms_signed(encoding=Encoding.PEM)
        assert pem.startswith(b"-----BEGIN PKCS7-----") and _kind(pem) == CMS_PEM
        assert _kind(pem.replace(b"PKCS7-----", b"CMS-----")) == CMS_PEM  # `openssl cms -outform PEM`

    @pytest.mark.parametrize("name", sorted(samples.REFUSED))
    def test_it_finds_no_kind_in_what_is_not_a_document(self, name):
        assert _kind(samples.REFUSED[name]) is None

    def test_der_that_is_no_cms_file_is_no_kind(self):
        signed = samples.cms_signed()
        for content in (samples.signer_certificate_der(), samples.signer_key_der(),
                        signed[:len(signed) // 2],  # truncated: the length it declares is not there
                        signed[:14] + b"\x01" + signed[15:],  # pkcs7-data: unsigned, unencrypted bytes
                        b"\x30\x05\x06\x03\x2a\x03\x04",  # a short SEQUENCE
                        b"\x30", b""):
            assert _kind(content) is None, content[:16]

    def test_pem_that_is_no_cms_file_is_no_kind(self):
        pem = samples.cms_signed(encoding=Encoding.PEM)
        certificate = police_recipient().certificate_pem.encode()
        for content in (pem.replace(b"-----END PKCS7-----", b""), certificate,
                        certificate.replace(b"CERTIFICATE", b"PKCS7"),  # a certificate under a CMS label
                        b"-----BEGIN PKCS7-----\n%%%%\n-----END PKCS7-----\n"):
            assert _kind(content) is None

    def test_it_reads_an_xml_prolog_through_comments_instructions_and_a_document_type(self):
        head = b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet href="a.xsl"?>\n<!-- a > b -->\n'
        assert _kind(head + b'<!DOCTYPE r [<!ENTITY x "y">]>\n<r>&x;</r>') == XML
        assert _kind(head + b'<!DOCTYPE html [<!ENTITY x "y">]>\n<r/>') is None  # a page by its document type
        assert _kind(head + b"<!-- never closed <r/>") is None

    def test_a_long_prolog_is_read_in_one_pass_and_one_too_long_is_refused(self):
        """A regex over the prolog took minutes on a file of many comments (backtracking): an upload of it held a
        worker. Read step by step, such files take milliseconds; one second is the bound here."""
        head = b'<?xml version="1.0"?>'
        started = time.perf_counter()
        assert _kind(head + b"<!--a-->" * 7000 + b"<r/>") == XML
        assert _kind(head + b"<!-- -->" * 7000 + b"<!--") is None
        assert _kind(head + b"<?p ?>" * 9000) is None
        assert time.perf_counter() - started < 1
        assert _kind(head + b" " * filetypes._XML_PROLOG_MAX + b"<r/>") is None

    def test_it_takes_only_the_kinds_it_is_given(self):
        assert file_type_detect(samples.TIFF_LE, accepted=(PDF, PNG, JPEG)) is None
        assert file_type_detect(samples.PDF, accepted=(PDF,)) == PDF

    def test_every_kind_has_a_rule(self):
        assert set(filetypes._RULES) == set(ALL)
