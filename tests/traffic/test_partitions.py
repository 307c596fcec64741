"""Monthly partitions are made ahead by beat and on demand by ingest (PostgreSQL)."""
from __future__ import annotations

from datetime import date

import pytest
from django.conf import settings


class PartitionsAheadTests:
    def test_beat_runs_it_every_night(self):
        entry = settings.CELERY_BEAT_SCHEDULE["cdr-partitions-ahead"]
        assert entry["task"] == "traffic.tasks.cdr_partitions_ahead"
        assert entry["schedule"].hour == {3} and entry["schedule"].minute == {15}

    @pytest.mark.postgres
    def test_it_creates_this_and_the_coming_three_months_once(self, db):
        from traffic.partitions import cdr_partitions_list_names
        from traffic.services.partitions import cdr_partitions_ahead

        created = cdr_partitions_ahead(today=date(2032, 11, 20))
        again = cdr_partitions_ahead(today=date(2032, 11, 21))

        names = set(cdr_partitions_list_names())
        for month in ("y2032m11", "y2032m12", "y2033m01", "y2033m02"):
            assert {f"traffic_cdr_{month}", f"traffic_cdrtechnical_{month}"} <= names
        assert "traffic_cdr_y2033m03" not in names
        assert len(created) == 8 and again == []

    def test_the_nightly_task_makes_the_missing_partitions_of_this_and_the_coming_three_months(self, db, is_postgres):
        from django.db import connection
        from django.utils.timezone import now

        from traffic.partitions import (PARTITIONED_TABLES, add_months, cdr_partitions_list_names, month_start,
                                        partition_name)
        from traffic.tasks import cdr_partitions_ahead

        if not is_postgres:  # SQLite has no partitions: the task runs and makes none
            assert cdr_partitions_ahead() == 0 and cdr_partitions_list_names() == []
            return
        first = month_start(now())
        wanted = {partition_name(table, add_months(first, n)) for n in range(4) for table in PARTITIONED_TABLES}
        with connection.cursor() as cursor:  # a night was missed: the farthest month has no partitions yet
            for table in PARTITIONED_TABLES:
                cursor.execute(f'DROP TABLE IF EXISTS "{partition_name(table, add_months(first, 3))}"')
        missing = wanted - set(cdr_partitions_list_names())
        assert len(missing) >= 2

        assert cdr_partitions_ahead() == len(missing)  # the count it reports is what it made
        assert wanted <= set(cdr_partitions_list_names())
        assert cdr_partitions_ahead() == 0  # and the next night makes nothing twice
