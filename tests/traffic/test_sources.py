"""Sources: declared (format, time zone, country), validated, from service, command, API and staff page."""
from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.factories import verified_client
from traffic.models import Source
from traffic.services.sources import source_create
from voipxs.privacy.audit import AuditEntry
from voipxs.exceptions import ApplicationError


class SourceCreateTests:
    def test_it_creates_a_declared_source_and_audits_it(self, db):
        source = source_create(name="pbx-1", format="freeswitch-csv", timezone="America/New_York", default_country="us")

        assert (source.format, source.timezone, source.default_country) == ("freeswitch-csv", "America/New_York", "US")
        assert AuditEntry.objects.filter(action="cdr_source.create", target_id=str(source.pk)).exists()

    @pytest.mark.parametrize("field, kwargs", [
        ("timezone", {"timezone": "Mars/Olympus"}),
        ("timezone", {"timezone": "CEST"}),
        ("default_country", {"default_country": "XX"}),
        ("default_country", {"default_country": "NLD"}),
        ("format", {"format": "cisco"}),
        ("name", {"name": "has space"}),
    ])
    def test_it_refuses_what_it_cannot_use_naming_the_field(self, db, field, kwargs):
        args = {"name": "pbx", "format": "asterisk-csv", "timezone": "Europe/Amsterdam", "default_country": "NL", **kwargs}
        with pytest.raises(ApplicationError) as caught:
            source_create(**args)
        assert caught.value.extra["field"] == field
        assert not Source.objects.exists()

    def test_it_refuses_a_second_source_of_the_same_name(self, db):
        source_create(name="pbx", format="asterisk-csv")
        with pytest.raises(ApplicationError):
            source_create(name="pbx", format="asterisk-custom")


class CdrSourceCommandTests:
    def test_it_adds_and_lists_sources(self, db, capsys):
        call_command("cdr_source", "add", "ams-1", "--format", "asterisk-custom", "--timezone", "Europe/Amsterdam",
                     "--country", "NL", "--carrier", "KPN")
        call_command("cdr_source", "list")

        out = capsys.readouterr().out
        assert "ams-1\tasterisk-custom\tEurope/Amsterdam\tNL\tKPN" in out
        assert Source.objects.get(name="ams-1").carrier == "KPN"

    def test_it_needs_format_and_timezone_and_names_a_bad_one(self, db):
        with pytest.raises(CommandError):
            call_command("cdr_source", "add", "x", "--format", "asterisk-csv")
        with pytest.raises(CommandError, match="timezone"):
            call_command("cdr_source", "add", "x", "--format", "asterisk-csv", "--timezone", "Nowhere/Town")


class SourceApiTests:
    url = "/api/v1/staff/sources/"

    def test_billing_staff_create_and_list_sources(self, client, billing_staff):
        client = verified_client(client, billing_staff)
        created = client.post(self.url, {"name": "pbx-api", "format": "asterisk-csv", "timezone": "Europe/Amsterdam"},
                              content_type="application/json")
        listed = client.get(self.url)

        assert created.status_code == 201 and created.json()["default_country"] == "NL"
        assert [s["name"] for s in listed.json()] == ["pbx-api"]

    def test_it_answers_400_naming_the_field(self, client, admin_user):
        client = verified_client(client, admin_user)
        response = client.post(self.url, {"name": "pbx", "format": "asterisk-csv", "timezone": "Moon/Base"},
                               content_type="application/json")
        assert response.status_code == 400
        assert response.json()["field"] == "timezone"
        response = client.post(self.url, {"name": "pbx", "format": "nope", "timezone": "UTC"}, content_type="application/json")
        assert response.status_code == 400 and "format" in response.json()

    @pytest.mark.parametrize("persona", ["alice", "support", "legal1", "fraud_analyst"])
    def test_other_roles_are_refused(self, client, persona, request):
        user = request.getfixturevalue(persona)
        client = verified_client(client, user)
        assert client.get(self.url).status_code == 403
        assert client.post(self.url, {"name": "x", "format": "asterisk-csv", "timezone": "UTC"},
                           content_type="application/json").status_code == 403


class SourcePageTests:
    def test_billing_staff_add_a_source_on_the_page(self, client, billing_staff):
        client = verified_client(client, billing_staff)
        response = client.post("/calls/staff/sources/", {"name": "pbx-page", "format": "freeswitch-json",
                                                         "timezone": "UTC", "default_country": "BE"}, follow=True)

        assert response.status_code == 200
        assert b"pbx-page" in response.content
        assert Source.objects.get(name="pbx-page").default_country == "BE"

    def test_a_bad_time_zone_is_shown_next_to_the_field(self, client, billing_staff):
        client = verified_client(client, billing_staff)
        response = client.post("/calls/staff/sources/", {"name": "pbx", "format": "asterisk-csv",
                                                         "timezone": "Atlantis/Capital", "default_country": "NL"})
        assert response.status_code == 400
        assert b"Unknown time zone" in response.content
        assert not Source.objects.exists()

    def test_a_customer_cannot_open_it(self, client, alice):
        assert verified_client(client, alice).get("/calls/staff/sources/").status_code == 403


class DemoSourcesTests:
    def test_the_seeder_adds_two_sources_once(self, db):
        from io import StringIO

        from voipxs.privacy.registry import demo_seeders

        seeder = next(fn for order, name, fn in demo_seeders() if name == "traffic-sources")
        seeder(StringIO())
        out = StringIO()
        seeder(out)

        assert sorted(Source.objects.values_list("name", flat=True)) == ["ams-asterisk", "rtm-freeswitch"]
        assert "import_cdrs --source ams-asterisk" in out.getvalue()
        assert [order for order, name, _ in demo_seeders() if name == "traffic-sources"] == [20]


# Each reason the layout parser gives (traffic.importers.layouts), with a layout that gets it. The English is
# what the staff page, the API, the command and the docs have always said.
BAD_LAYOUTS = [
    ("asterisk-custom", "Master.csv =>", "the mapping line is empty"),
    ("asterisk-custom", "${CSV_QUOTE(${CDR(src)})},${CDR(dst)}", "the mapping writes no start (${CDR(start)})"),
    ("freeswitch-csv", '"${uuid}","${start_stamp', "a ${...} in the template is never closed"),
    ("freeswitch-csv", "vanilla", "not a template (no ${variable}) nor a stock template name "
                                  "(sql, example, snom, linksys, asterisk, opencdrrate)"),
    ("freeswitch-csv", '"${caller_id_number}"', "the template writes no uuid, start_stamp"),
    ("kamailio-acc", "cdr_start_on_confirmed=1", 'line 1 is no modparam("acc", "name", value) line of kamailio.cfg'),
    ("kamailio-acc", 'modparam("acc", "cdr_start_on_confirmed", 2)', "cdr_start_on_confirmed is 0 or 1"),
    ("kamailio-acc", '# acc\nmodparam("acc", "cdr_end_id", "end time")', "cdr_end_id is no attribute name"),
    ("asterisk-csv", "${CDR(start)}", "the asterisk-csv format takes no column layout"),
]


class SourceLayoutRefusalTests:
    @pytest.mark.parametrize("fmt, columns, reason", BAD_LAYOUTS)
    def test_it_refuses_a_layout_that_is_none_saying_why_in_english(self, db, fmt, columns, reason):
        from django.utils import translation

        from traffic.importers import layouts

        with translation.override("nl"), pytest.raises(ApplicationError) as caught:
            source_create(name="pbx", format=fmt, timezone="UTC", columns=columns)

        assert caught.value.message == f"This is no layout of the format: {reason}."  # logs and the command
        assert caught.value.extra["field"] == "columns" and not Source.objects.exists()
        with pytest.raises(layouts.LayoutError) as parsed:
            layouts.layout_check(fmt, columns)
        # The reason is one of the parser's msgids with its params, so a page can show it in its language.
        assert parsed.value.msgid in {getattr(layouts, n) for n in dir(layouts) if n.startswith("LAYOUT_")}
        assert parsed.value.msgid % parsed.value.params == str(parsed.value) == reason
