"""Server errors mailed to ADMINS through the task queue, never from inside the request."""

import contextlib

from django.conf import settings
from django.utils.log import AdminEmailHandler


class QueuedAdminEmailHandler(AdminEmailHandler):
    """Django's AdminEmailHandler (the same subject and report), with the mail handed to the
    worker as a task: the response never waits for a mail server."""

    def emit(self, record):
        # Django's handler skips the report without ADMINS only when send_mail is its own.
        if settings.ADMINS:
            super().emit(record)

    def send_mail(self, subject, message, *args, **kwargs):
        from ops.tasks import mail_admins

        # The error being reported may be the database's own (down, not migrated): then there
        # is no queue to put the mail in. The error itself is on stdout already, through the
        # other handler; one more line per failed request would only be noise.
        with contextlib.suppress(Exception):
            mail_admins.enqueue(subject=subject, message=message, **kwargs)
