"""The project's tasks: mail sent by the worker, server errors mailed to ADMINS through the
queue, the probe. Here tasks run at once (DJANGO_TASKS_BACKEND=immediate, pyproject.toml);
ops/tests/test_worker.py runs them through real workers on PostgreSQL."""

import json
from http import HTTPStatus
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.tasks.signals import task_enqueued

from ops.tasks import probe, send_email


@pytest.fixture
def enqueued():
    """The paths of the tasks enqueued during the test."""
    paths = []

    def record(sender, task_result, **kwargs):
        paths.append(task_result.task.module_path)

    task_enqueued.connect(record)
    yield paths
    task_enqueued.disconnect(record)


def test_send_email_sends_text_and_html_through_the_default_mailer(settings):
    result = send_email.enqueue(
        subject="Hello", body="plain words", to=["ada@example.com"], html="<p>rich words</p>"
    )
    assert result.return_value == 1
    [sent] = mail.outbox
    assert (sent.subject, sent.body, sent.to) == ("Hello", "plain words", ["ada@example.com"])
    assert sent.from_email == settings.DEFAULT_FROM_EMAIL
    assert sent.alternatives[0].content == "<p>rich words</p>"


@pytest.mark.urls("ops.tests.failing_urls")
def test_a_server_error_mails_the_admins_through_a_task(client, settings, enqueued):
    settings.ADMINS = ["ops@example.com"]
    client.raise_request_exception = False
    response = client.get("/fails/")
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert enqueued == ["ops.tasks.mail_admins"]
    [report] = mail.outbox
    assert report.to == ["ops@example.com"]
    assert report.from_email == settings.SERVER_EMAIL
    assert "Internal Server Error: /fails/" in report.subject
    assert "RuntimeError at /fails/\na bug in a view" in report.body


@pytest.mark.urls("ops.tests.failing_urls")
def test_without_admins_a_server_error_queues_no_mail(client, settings, enqueued):
    settings.ADMINS = []
    client.raise_request_exception = False
    assert client.get("/fails/").status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert enqueued == []
    assert mail.outbox == []


def test_probe_worker_reports_the_worker_that_ran_the_probe():
    out = StringIO()
    call_command("probe_worker", stdout=out)
    report = json.loads(out.getvalue())
    assert report["status"] == "SUCCESSFUL"
    assert report["worker"]
    assert report["wait_seconds"] >= 0


def test_the_probe_waits_as_long_as_asked():
    assert probe.call(seconds=0.01)["seconds"] == 0.01
