"""A test database reused after a transaction=True test emptied it gets the migrations' seeded rows back
(tests/migration_seeds.py, run by the django_db_setup fixture of tests/conftest.py)."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from accounts.models import PolicyVersion
from retention.models import Category, RetentionPolicy
from tests.migration_seeds import migration_seeds_restore
from traffic.models import BlockedPrefix


def _seeded() -> tuple:
    return (sorted(Group.objects.values_list("name", flat=True)), PolicyVersion.objects.count(),
            sorted(BlockedPrefix.objects.values_list("prefix", flat=True)),
            sorted(RetentionPolicy.objects.filter(version=1).values_list("category", flat=True)))


@pytest.mark.django_db
class MigrationSeedsTests:
    def test_an_emptied_database_gets_every_seeded_row_back(self):
        as_migrated = _seeded()
        assert Category.CLOSED_ACCOUNT in as_migrated[3] and len(as_migrated[3]) == len(Category.values)
        for model in (RetentionPolicy, BlockedPrefix, PolicyVersion, Group):
            model.objects.all().delete()  # what a transaction=True test's flush leaves
        migration_seeds_restore()
        assert _seeded() == as_migrated

    def test_on_a_seeded_database_it_writes_nothing(self):
        as_migrated = _seeded()
        migration_seeds_restore()
        assert _seeded() == as_migrated
