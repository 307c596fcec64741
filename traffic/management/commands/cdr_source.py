"""`cdr_source add NAME --format F --timezone TZ [--country NL] [--carrier X] [--columns LAYOUT] [--push]`,
`cdr_source list`, `cdr_source push NAME` (a new push credential for a source, replacing its old one).

--columns takes the switch's own layout exactly as configured there: the mapping line of cdr_custom.conf
(`Master.csv => ${CSV_QUOTE(${CDR(clid)})},...`), or a mod_cdr_csv template string of cdr_csv.conf.xml or a
stock template's name (`example`, `sql`, `asterisk`, ...).

With --push (and `push`) the output ends with one JSON line {"url", "username", "password"}: what the
switch pushes its CDRs with (traffic/push). The password is shown only here; only its hash is stored."""
from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from traffic.models import Source
from traffic.push.credentials import push_credential_create
from traffic.services.sources import source_create
from voipxs.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Declare a switch that sends CDR files (its format and time zone are never guessed), or list them."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add a source")
        add.add_argument("name")
        add.add_argument("--format", required=True, choices=Source.Format.values)
        add.add_argument("--timezone", required=True, help="IANA zone of the switch's local times, e.g. Europe/Amsterdam")
        add.add_argument("--country", default="NL", help="default country for national numbers (ISO code)")
        add.add_argument("--carrier", default="", help="carrier or trunk, for the interconnection report")
        add.add_argument("--columns", default="", help="the switch's layout as configured there: a cdr_custom.conf "
                         "mapping line, a mod_cdr_csv template, a stock template's name, or kamailio.cfg's "
                         "modparam(\"acc\", ...) lines")
        add.add_argument("--push", action="store_true", help="also make a credential to push CDRs over HTTP")
        sub.add_parser("list", help="list sources")
        push = sub.add_parser("push", help="a new push credential for a source (the old one stops working)")
        push.add_argument("name")

    def handle(self, *args, **options) -> None:
        if options["action"] == "list":
            for source in Source.objects.order_by("name"):
                self.stdout.write(f"{source.name}\t{source.format}\t{source.timezone}\t{source.default_country}\t{source.carrier}")
            return
        if options["action"] == "push":
            source = Source.objects.filter(name=options["name"]).first()
            if source is None:
                raise CommandError(f"name: no source {options['name']!r}")
            self._push_credential(source)
            return
        try:
            source = source_create(name=options["name"], format=options["format"], timezone=options["timezone"],
                                   default_country=options["country"], carrier=options["carrier"],
                                   columns=options["columns"])
        except ApplicationError as exc:
            field = exc.extra.get("field")
            raise CommandError(f"{field}: {exc.message}" if field else exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"Source {source.name} ({source.format}, {source.timezone}) added."))
        if options["push"]:
            self._push_credential(source)

    def _push_credential(self, source: Source) -> None:
        username, password = push_credential_create(source=source)
        url = settings.SITE_URL.rstrip("/") + reverse("traffic:cdr-push")
        self.stdout.write(json.dumps({"url": url, "username": username, "password": password}))
