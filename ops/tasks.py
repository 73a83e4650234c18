"""The project's own background tasks (Django's Tasks framework): mail, and a probe that
shows the queue at work. The worker runs them (`python manage.py worker`); with
DJANGO_TASKS_BACKEND=immediate they run at once where they are enqueued.

A task's arguments travel through the database as JSON: mails are rendered in the request
and enqueued as text, never as model instances."""

import socket
import time

from django.core import mail
from django.tasks import task


@task
def send_email(
    *, subject: str, body: str, to: list[str], from_email: str | None = None, html: str = ""
) -> int:
    """One mail through the default mailer (settings.MAILERS); returns how many went out.
    A mail server that refuses or times out fails the task, which the worker logs and keeps
    as failed with its traceback (the admin's Task Results)."""
    message = mail.EmailMultiAlternatives(subject, body, from_email, to)
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()


@task
def mail_admins(*, subject: str, message: str, html_message: str | None = None) -> None:
    """A server error report to settings.ADMINS (ops/logging.py enqueues it)."""
    mail.mail_admins(subject, message, html_message=html_message)


@task
def probe(*, seconds: float = 0) -> dict:
    """Does nothing but wait `seconds`: `manage.py probe_worker` enqueues it to show that a
    worker takes tasks and how soon, and a long one shows how a worker stops."""
    time.sleep(seconds)
    return {"worker": socket.gethostname(), "seconds": seconds}
