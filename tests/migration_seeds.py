"""The rows the data migrations seed (role groups, privacy-policy version 1, the blocked prefixes, the default
retention policies), put back in a reused test database.

A `transaction=True` test (Django's TransactionTestCase, the live server's tests) empties every table when it ends.
Within one run that is harmless: pytest-django runs those tests last. But `--reuse-db` keeps the database as the
last of them left it, and its migrations are not run again, so the next run started without, for instance, the
closed_account retention policy, and the tests that count on it failed. Each seed below is idempotent: on a fresh
database it finds its rows and writes nothing.
"""
from __future__ import annotations

import importlib

from django.apps import apps

SEEDS = [
    ("accounts.migrations.0002_roles_and_number_periods", "create_roles"),
    ("accounts.migrations.0030_noc_and_fraud_roles", "create_roles"),
    ("accounts.migrations.0004_seed_policy_v1", "seed_v1"),
    ("traffic.migrations.0012_call_setup", "blocked_defaults"),
    ("retention.migrations.0002_seed_default_policies", "forward"),
]


def migration_seeds_restore() -> None:
    for module, function in SEEDS:
        getattr(importlib.import_module(module), function)(apps, None)
