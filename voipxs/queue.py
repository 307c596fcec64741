"""Handing work to Celery so that a broker outage never fails the request that asked for it.

A service stores its work as a row in a waiting state (an export `pending`, a disclosure `producing`)
and sends the task once its transaction commits. If the broker cannot be reached then, the row is
already committed: raising would answer 500 for a request that was stored, and nothing would ever send
the task again. So the send is tried once and quickly (retry=False; the socket timeouts of
CELERY_BROKER_TRANSPORT_OPTIONS bound a broker that hangs to a few seconds), a failure is logged with
the task's name and ids, and the request answers as usual. A reaper (beat, every five minutes) finds
rows still waiting after TASK_RESEND_AFTER_SECONDS and sends their task again with `tasks_resend`,
which stops at the first send the broker refuses (it is still down; the next run tries again). The
CDR imports work the same way (traffic.services.imports: `cdr_imports_requeue`).

Sending twice is harmless: each such task locks its row and leaves work that is done, or being done
by another worker, alone. Task arguments are ids only: they go to the broker and into this log.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Iterable

from celery import Task
from django.conf import settings
from django.db import transaction
from django.utils.timezone import now
from kombu.exceptions import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# What a publish raises while the broker is out of reach: kombu wraps the transport's connection errors
# in OperationalError; the others are what could still come through unwrapped.
BROKER_UNREACHABLE = (OperationalError, RedisConnectionError, RedisTimeoutError, OSError)


def _ids_only(ids: tuple) -> None:
    if not all(type(value) is int for value in ids):
        raise TypeError("tasks take ids (int) only: they are logged and stored by the broker")


def task_send(task: Task, *ids: int) -> bool:
    """Send `task(*ids)` now; False, with a warning naming the task and the ids, if the broker cannot be
    reached. Without a broker (task_always_eager) the task runs right here and its errors propagate."""
    _ids_only(ids)
    if task.app.conf.task_always_eager:
        task.apply_async(args=ids)
        return True
    try:
        task.apply_async(args=ids, retry=False)
    except BROKER_UNREACHABLE as exc:
        logger.warning("task %s%s not sent: the broker is unreachable (%s); its reaper sends it again",
                       task.name, list(ids), type(exc).__name__)
        return False
    return True


def enqueue_after_commit(task: Task, *ids: int) -> None:
    """Send `task(*ids)` once the current transaction commits (`task_send`): a broker outage leaves the
    row waiting for its reaper and never fails the request."""
    _ids_only(ids)
    transaction.on_commit(lambda: task_send(task, *ids))


def resend_cutoff(at: datetime | None = None) -> datetime:
    """The moment before which waiting work has waited longer than TASK_RESEND_AFTER_SECONDS (at `at`, or now):
    what a reaper sends again."""
    return (at or now()) - timedelta(seconds=settings.TASK_RESEND_AFTER_SECONDS)


def tasks_resend(task: Task, calls: Iterable[tuple[int, ...]]) -> list[int]:
    """A reaper's send: `task(*ids)` for each tuple of ids, stopping at the first the broker refuses.
    Returns the first id of each call sent (the row's)."""
    sent = []
    for ids in calls:
        if not task_send(task, *ids):
            break
        sent.append(ids[0])
    return sent
