"""The production settings (voipxs.settings, DJANGO_DEBUG=False) for `bench.load`, with one change: the
collected static files (whitenoise's hashed, compressed manifest, which production pages need) live in
the bench's own directory rather than the repository's `staticfiles/`."""
from __future__ import annotations

import os
from pathlib import Path

from voipxs.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])
