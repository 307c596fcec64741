"""A task's hard time limit against what assumes it has ended: the broker's redelivery of an unacknowledged task
(Redis visibility timeout) and the CIOT run's lease. Either shorter than the limit treats a live task as dead."""
from __future__ import annotations

from datetime import timedelta

from accounts.ciot import services as ciot_services
from voipxs.celery import app


def hard_limit(task) -> int:
    """The seconds a worker lets `task` run before it kills it: the task's own limit, else the app's."""
    return task.time_limit or app.conf.task_time_limit


def all_tasks() -> dict:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


class TimeLimitTests:
    def test_no_task_outlives_the_brokers_visibility_timeout(self):
        # acks_late: a task still unacknowledged after the visibility timeout is handed to a second worker.
        visibility = app.conf.broker_transport_options.get("visibility_timeout", 3600)  # 3600: kombu's default
        too_long = {name: hard_limit(t) for name, t in all_tasks().items() if hard_limit(t) >= visibility}
        assert too_long == {}

    def test_a_retried_invoice_run_is_not_delivered_twice(self):
        # A retry's countdown is held, unacknowledged, by the worker that took it: the wait and the run together
        # must end before Redis hands the same message to another worker.
        visibility = app.conf.broker_transport_options.get("visibility_timeout", 3600)
        task = all_tasks()["traffic.tasks.invoice_run"]
        longest_wait = 600 * 2 ** (task.max_retries - 1)  # traffic/tasks.py: 10, 20, 40 minutes
        assert longest_wait + hard_limit(task) < visibility

    def test_a_running_ciot_sync_is_not_reaped_while_its_worker_may_still_run_it(self):
        task = all_tasks()["accounts.tasks.ciot_sync_task"]
        assert ciot_services.RUN_LEASE > timedelta(seconds=hard_limit(task))

    def test_the_stale_alert_still_allows_one_missed_hour_and_a_lease(self):
        assert ciot_services.CIOT_STALE_AFTER >= timedelta(hours=1) + ciot_services.RUN_LEASE
