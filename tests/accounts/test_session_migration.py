"""accounts 0014 moves the live sessions of Django's own table to `UserSession` with their user's id:
nobody is signed out by the upgrade, and nothing is left in the old table."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils.timezone import now

BEFORE, AFTER = [("accounts", "0013_contractor_closed")], [("accounts", "0014_user_session")]


@pytest.mark.postgres  # migrating back and forth; SQLite's append-only audit trigger refuses the flush after it
@pytest.mark.django_db(transaction=True)
def test_live_sessions_move_with_their_user_and_expired_ones_go(alice):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state([*BEFORE, ("sessions", "0001_initial")]).apps.get_model("sessions", "Session")
    store = DjangoSessionStore()
    signed_in = old.objects.create(session_key="a" * 32, expire_date=now() + timedelta(days=1),
                                   session_data=store.encode({"_auth_user_id": str(alice.pk), "x": 1}))
    old.objects.create(session_key="b" * 32, expire_date=now() + timedelta(days=1),
                       session_data=store.encode({"probe": 1}))
    old.objects.create(session_key="c" * 32, expire_date=now() - timedelta(seconds=1),
                       session_data=store.encode({"_auth_user_id": str(alice.pk)}))
    old.objects.create(session_key="d" * 32, expire_date=now() + timedelta(days=1),
                       session_data=store.encode({"_auth_user_id": "987654321"}))  # a user who is gone

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    apps = executor.loader.project_state([*AFTER, ("sessions", "0001_initial")]).apps
    moved = {s.session_key: s for s in apps.get_model("accounts", "UserSession").objects.all()}
    assert sorted(moved) == ["a" * 32, "b" * 32, "d" * 32]
    assert moved["a" * 32].user_id == alice.pk and moved["a" * 32].session_data == signed_in.session_data
    assert moved["b" * 32].user_id is None and moved["d" * 32].user_id is None
    assert not apps.get_model("sessions", "Session").objects.exists()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the test database as the other tests expect it
