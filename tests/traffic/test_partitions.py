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
        from traffic.services import cdr_partitions_ahead

        created = cdr_partitions_ahead(today=date(2032, 11, 20))
        again = cdr_partitions_ahead(today=date(2032, 11, 21))

        names = set(cdr_partitions_list_names())
        for month in ("y2032m11", "y2032m12", "y2033m01", "y2033m02"):
            assert {f"traffic_cdr_{month}", f"traffic_cdrtechnical_{month}"} <= names
        assert "traffic_cdr_y2033m03" not in names
        assert len(created) == 8 and again == []

    def test_the_task_runs_on_sqlite_too_as_a_no_op(self, db, is_postgres):
        from traffic.tasks import cdr_partitions_ahead

        assert (cdr_partitions_ahead() >= 0) if is_postgres else cdr_partitions_ahead() == 0
