"""gunicorn's threaded worker (gthread), with the client connections shared evenly between workers.

A gthread worker keeps every keep-alive connection it accepted until the client goes. Clients that
connect in the same instant (a proxy's upstream pool, a burst after a restart) go to whichever worker
reaches the listening socket first, and stay there: measured with `make bench-load`, 23 of 32
connections on one worker and 9 on the other, so the first worker's clients waited more than twice as
long (p95 twice the p50). Here each worker publishes how many connections it holds, and accepts a new
one only while it holds no more than any other live worker. The worker with the fewest always
accepts, so some worker always does; a worker that stopped publishing for 3 s (hung, or gone) no
longer counts. With the share kept even: p95 1.3 x the p50 instead of 2 to 2.8 x (BENCHMARKS.md, "Load").
"""
from __future__ import annotations

import gc
import multiprocessing
import time

from gunicorn.workers.gthread import ThreadWorker

SLOTS = 256
STALE_SECONDS = 3.0
# Created when gunicorn reads its configuration (gunicorn.conf.py imports this module) in the arbiter,
# before it forks the workers, so every worker writes into the same memory. -1: no worker.
_held = multiprocessing.RawArray("i", [-1] * SLOTS)
_seen = multiprocessing.RawArray("d", [0.0] * SLOTS)


def may_accept(mine: int, slot: int, held, seen, now: float) -> bool:
    """Whether the worker in `slot`, holding `mine` connections, may accept another one."""
    others = [held[i] for i in range(len(held))
              if i != slot and held[i] >= 0 and now - seen[i] < STALE_SECONDS]
    return not others or mine <= min(others)


def slot_free(age: int) -> None:
    """In the arbiter, when a worker has exited: its slot no longer counts."""
    _held[age % SLOTS] = -1


class BalancedThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        self._slot = self.age % SLOTS
        self._publish()
        super().init_process()

    def _publish(self) -> None:
        _held[self._slot], _seen[self._slot] = self.nr_conns, time.monotonic()

    def _fair(self) -> bool:
        return may_accept(self.nr_conns, self._slot, _held, _seen, time.monotonic())

    def set_accept_enabled(self, enabled: bool) -> None:
        # The loop asks again on every turn (at least once a second) while this answers no.
        super().set_accept_enabled(enabled and (not self.alive or self._fair()))

    def accept(self, listener) -> None:
        super().accept(listener)
        self._publish()
        if not self._fair():
            super().set_accept_enabled(False)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        self._publish()
        super().wait_for_and_dispatch_events(timeout)


def collector_settle() -> None:
    """What a web worker does once it has loaded Django (gunicorn.conf.py post_worker_init; bench/portal.py
    does the same before it times pages): everything loaded so far (modules, URL patterns, about 100,000
    objects) leaves the garbage collector's view (`gc.freeze`), and the youngest generation is collected
    every 10,000 allocations instead of every 700. A page allocates a few thousand objects and frees nearly
    all of them by reference counting; the collector's passes over the long-lived objects found nothing to
    free. Measured in-process on bench.load's round: 3-5 % less CPU per request; on the call-history page
    (bench.portal, callgrind over 100 pages): 8 % fewer instructions (BENCHMARKS.md, "Portal"). Cycles are
    still collected."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
