"""The masking list through the API (billing staff's scripts that follow the published list): its size,
adding the list's CSV, taking numbers off; a bad line is a 400 naming it, nothing else is answered with a
number, and only billing staff get in."""
from __future__ import annotations

from datetime import date

import pytest

from tests.factories import verified_client
from traffic.models import MaskedNumber
from voipxs.privacy.models import AuditEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/staff/masking-list/"


class MaskingListApiTests:
    def test_staff_add_and_take_off_numbers_and_read_the_size(self, client, billing_staff):
        api = verified_client(client, billing_staff)
        added = api.post(URL, {"csv": "number\n0800 0113\n113\n+31 800 0113\n"}, content_type="application/json")
        assert added.status_code == 200 and added.json()["added"] == 2
        assert date.fromisoformat(added.json()["valid_from"]).day == 1  # the next billing period
        assert api.get(URL).json() == {"entries": 2, "pending": 2, "leaving": 0}
        off = api.post(URL + "take-off/", {"numbers": ["113"]}, content_type="application/json")
        assert off.status_code == 200 and off.json()["taken_off"] == 1
        assert date.fromisoformat(off.json()["valid_until"]).day == 1  # the next billing period, in Amsterdam
        assert api.get(URL).json()["entries"] == 1
        assert MaskedNumber.objects.filter(valid_until__isnull=False).count() == 1
        extras = str(list(AuditEntry.objects.filter(action__startswith="masking_list.").values_list("extra", flat=True)))
        assert "8000113" not in extras and "'113'" not in extras

    def test_a_bad_line_or_a_number_not_listed_is_a_400_naming_it_and_nothing_changes(self, client, billing_staff):
        api = verified_client(client, billing_staff)
        bad = api.post(URL, {"csv": "number\n+318000113\nnot a number\n"}, content_type="application/json")
        assert bad.status_code == 400 and bad.json()["line"] == 3 and "Line 3" in bad.json()["detail"]
        assert not MaskedNumber.objects.exists()
        api.post(URL, {"csv": "number\n+318000113\n"}, content_type="application/json")
        unknown = api.post(URL + "take-off/", {"numbers": ["+318000113", "+31699993678"]}, content_type="application/json")
        assert unknown.status_code == 400 and unknown.json()["field"] == "numbers" and unknown.json()["line"] == 2
        assert not MaskedNumber.objects.filter(valid_until__isnull=False).exists()
        empty = api.post(URL + "take-off/", {"numbers": []}, content_type="application/json")
        assert empty.status_code == 400 and "numbers" in empty.json()
        assert api.post(URL, {}, content_type="application/json").json().keys() == {"csv"}

    def test_only_billing_staff_get_in(self, client, alice, support):
        assert verified_client(client, alice).get(URL).status_code == 403
        client.logout()
        assert verified_client(client, support).post(URL + "take-off/", {"numbers": ["113"]},
                                                     content_type="application/json").status_code == 403

    def test_a_quote_left_open_in_a_long_list_is_a_400_naming_its_line_not_a_server_error(self, client, billing_staff):
        # the quote opened on line 3 is never closed: the CSV reader takes the rest of the file as one field,
        # longer than it reads (131,072 characters)
        api = verified_client(client, billing_staff)
        rest = "".join(f"+3169999{n % 10000:04d}\n" for n in range(12_000))
        bad = api.post(URL, {"csv": f'number\n+318000113\n"+318000114\n{rest}'}, content_type="application/json")
        assert bad.status_code == 400 and bad.json()["line"] == 3 and "Line 3" in bad.json()["detail"]
        assert not MaskedNumber.objects.exists()
        header = api.post(URL, {"csv": f'"number\n{rest}'}, content_type="application/json")
        assert header.status_code == 400 and header.json()["field"] == "file"
