"""Tw art. 11.5a, ePrivacy art. 9 (LEGAL.md section 5, row 8): location data other than traffic data is kept
only anonymised or with consent. VoIPXS has no consent model, so no model and no table may have a place to keep it
(and a 112 call's location, sent in its signalling, is kept nowhere: tests/traffic/test_emergency_call_location.py)."""
from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.db import connection

# What a location field would be called: a position, a cell (mobile location), a handset or SIM identity that
# locates its carrier, an address looked up from an IP.
LOCATION = re.compile(r"(^|_)(lat|latitude|lon|lng|longitude|geo|geolocation|gps|location|cell|cell_id|imsi|imei|"
                      r"position|coordinates?)(_|$)")


def test_no_model_has_a_field_for_location_data():
    fields = [f"{model._meta.label}.{field.name}" for model in apps.get_models() for field in model._meta.get_fields()
              if getattr(field, "concrete", False) and LOCATION.search(field.name.lower())]
    assert fields == []


def test_the_check_would_see_such_a_field():
    assert LOCATION.search("caller_location") and LOCATION.search("cell_id") and LOCATION.search("geo_lat")
    assert not LOCATION.search("allocation") and not LOCATION.search("cancelled_at")


@pytest.mark.django_db
def test_no_table_has_a_column_for_location_data():
    """The database as the migrations and the raw SQL (partitions, detached months, hold tables) made it,
    not only the models: a table no model describes could otherwise keep a location."""
    with connection.cursor() as cursor:
        columns = [f"{table}.{column.name}" for table in connection.introspection.table_names(cursor)
                   for column in connection.introspection.get_table_description(cursor, table)
                   if LOCATION.search(column.name.lower())]
    assert columns == []
