"""`python -m tests.faults.worker [celery worker options]`: `celery -A voipxs worker` as deployed, with
the ingest batch made small (VOIPXS_FAULTS_BATCH_SIZE rows) so that a test can kill the worker between
two committed batches of a file of a few thousand rows."""
from __future__ import annotations

import os
import sys

import django


def main() -> None:
    django.setup()
    from traffic.ingest import run
    from voipxs.celery import app

    if os.environ.get("VOIPXS_FAULTS_BATCH_SIZE"):
        run.BATCH_SIZE = int(os.environ["VOIPXS_FAULTS_BATCH_SIZE"])
    app.worker_main(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    main()
