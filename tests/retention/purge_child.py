"""A purge in a process of its own, for tests/retention/test_purge_killed.py: the test SIGKILLs it.

    python -m tests.retention.purge_child <as-of, ISO 8601> <chunk size> <batch to stop in> [<hook>]

It runs the real purge (retention.purge.run.purge_expired) against DATABASE_URL, lets the batches
before <batch to stop in> commit, and stops inside that batch (its rows deleted, not committed),
prints "stopped" and sleeps until it is killed: a worker killed mid-batch, at a known place. With
<hook> (e.g. "month:shredded", right after a month's shred committed) it stops the <batch to stop
in>-th time the purge reaches that hook instead.
"""
from __future__ import annotations

import os
import sys
import time
from datetime import datetime

import django


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voipxs.settings_test")
    django.setup()
    from retention.purge.run import purge_expired

    as_of, chunk_size, stop_in = datetime.fromisoformat(argv[0]), int(argv[1]), int(argv[2])
    hook = argv[3] if len(argv) > 3 else "batch:"
    batches = 0

    def stop_inside_a_batch(step: str) -> None:
        nonlocal batches
        if not step.startswith(hook):
            return
        batches += 1
        if batches == stop_in:
            print("stopped", flush=True)
            time.sleep(3600)

    purge_expired(now=as_of, chunk_size=chunk_size, fault=stop_inside_a_batch)


if __name__ == "__main__":
    main(sys.argv[1:])
