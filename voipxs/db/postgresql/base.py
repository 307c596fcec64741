"""Django's PostgreSQL backend with a health check that costs no round trip (`DATABASES` ENGINE on PostgreSQL).

`CONN_HEALTH_CHECKS` makes Django ask a reused connection `SELECT 1` at the start of every request, so that
after a database restart the request reconnects instead of failing. That is a round trip on every page. A
connection the server has dropped (a restart, an idle timeout, a terminated backend, a crash) has something
to read on its socket: the server's last message, or the end of the stream. An idle connection of ours has
nothing to read (every query reads its answer to the end). So: nothing to read and no transaction left
open, the connection is usable; anything else and Django's own `SELECT 1` decides, as before.
"""
from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgresDatabaseWrapper

try:
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE
except ImportError:  # psycopg 3: Django's own check only
    TRANSACTION_STATUS_IDLE = None


def _silent(connection) -> bool:
    """Whether nothing waits to be read on the connection's socket, without waiting."""
    poller = select.poll()
    poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
    return not poller.poll(0)


class DatabaseWrapper(PostgresDatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or TRANSACTION_STATUS_IDLE is None:
            return super().is_usable()
        try:
            if (not connection.closed and connection.get_transaction_status() == TRANSACTION_STATUS_IDLE
                    and _silent(connection)):
                return True
        except (OSError, ValueError, self.Database.Error):
            pass
        return super().is_usable()
