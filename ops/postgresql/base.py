"""Django's PostgreSQL backend, with a health check that asks the server only when it spoke.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before a request's first query
by sending it `SELECT 1`: a round trip on every request that uses the database, measured at
about a tenth of what the session, the user and the middleware cost a signed-in page on a
2-CPU machine. Between two requests the server has nothing to say on a connection it keeps;
one it closed (a restart, pg_terminate_backend, an idle timeout) has its last message and the
end of the stream waiting on the socket. So: nothing to read, and the connection is as good as
after its last answer; something to read, or a transaction left failed (where `SELECT 1` would
fail too), and Django's own check decides.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus

# Where the server's silence says what `SELECT 1` would: no query running, none failed.
QUIET = (TransactionStatus.IDLE, TransactionStatus.INTRANS)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        try:
            socket = self.connection.fileno()
        except base.Database.Error:  # closed already
            return False
        if self.connection.info.transaction_status in QUIET:
            waiting = select.poll()
            waiting.register(socket, select.POLLIN)
            if not waiting.poll(0):
                return True
        return super().is_usable()
