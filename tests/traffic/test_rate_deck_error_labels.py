"""A refused rate deck's error table names each field as the pages do, in the page's language, with the CSV column
it is read from beside it (the file is fixed by its columns): it named only the column (`rate`, `prefix`), in English
on the Dutch page too."""
from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import verified_client

pytestmark = pytest.mark.django_db

URL = "/calls/staff/tariffs/rate-deck/"
BROKEN = (b"prefix,description,rate,increments,description_nl\n"
          b"31x,NL fixed,0.01,60/60,\n"          # line 2: prefix
          b"316,,0.05,60/60,\n"                 # line 3: description
          b"3120,Amsterdam,x,60/60,\n"          # line 4: rate
          b"49,Germany,0.03,60/0,\n"            # line 5: increments
          b"32,Belgium,0.03,60/60," + b"B" * 61 + b"\n"  # line 6: description_nl
          b"33,France\n")                       # line 7: the whole line (columns)


def _fields(client, **headers) -> list[str]:
    upload = SimpleUploadedFile("deck.csv", BROKEN)
    page = client.post(URL, {"file": upload, "valid_from": "2026-06-01"}, **headers)
    assert page.status_code == 400
    body = page.content.decode()
    table = body[body.index("<tbody>"):body.index("</tbody>")]
    cells = re.findall(r'<tr><td class="num">\d+</td><td>(.*?)</td>', table)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]


class RateDeckErrorLabelTests:
    def test_each_field_is_named_as_on_the_tariff_form_with_its_column(self, client, billing_staff):
        verified_client(client, billing_staff)
        assert _fields(client) == [
            "Prefix CSV column prefix",
            "Description (zone) CSV column description",
            "Price per minute (EUR) CSV column rate",
            "Increments CSV column increments",
            "Description in Dutch CSV column description_nl",
            "File",
        ]

    def test_the_dutch_page_names_them_in_dutch(self, client, billing_staff):
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        fields = _fields(client)
        assert fields[2].startswith("Prijs per minuut (EUR)") and fields[5] == "Bestand"
        assert fields[2].endswith("rate") and "CSV column" not in fields[2] and "CSV-kolom" in fields[2]

    def test_the_dutch_page_names_the_fields_in_dutch_beside_the_column(self, client, billing_staff):
        """What Dutch the catalogue already has: the labels are the tariff form's own."""
        verified_client(client, billing_staff)
        client.cookies["django_language"] = "nl"
        fields = _fields(client)
        assert fields[0].startswith("Prefix") and fields[1].startswith("Omschrijving (zone)")
        assert fields[2].startswith("Prijs per minuut (EUR)") and fields[3].startswith("Tariefeenheden")
        assert fields[4].startswith("Omschrijving in het Nederlands") and fields[5] == "Bestand"
        assert fields[2].endswith("rate") and fields[3].endswith("increments")
