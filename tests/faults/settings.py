"""Settings of the app processes the fault tests start (web, Celery worker, commands): the suite's
test settings (fixed keys, fast hashing) with what a deployment has and the unit tests leave out:
tasks go to the broker whenever REDIS_URL is set, and web and worker share one PRIVATE_FILES_DIR.

DATABASE_URL and REDIS_URL come from the environment and always name the tests' private PostgreSQL
and Redis (tests/faults/servers.py), never the machine's shared ones."""
from __future__ import annotations

import os
from pathlib import Path

from voipxs.settings_test import *  # noqa: F403  (the suite's settings, then ours)
from voipxs.settings_test import REDIS_URL

CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
PRIVATE_FILES_DIR = Path(os.environ["VOIPXS_FAULTS_PRIVATE_DIR"])
